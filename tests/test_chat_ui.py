"""``kexue chat``: the Gradio app answers through the shared API, and refuses open addresses without auth."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest

from ingest.pipeline import ingest
from tests.conftest import PROJECT


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture()
def chat_server(settings, embedder, md_subset):
    ingest(settings, [str(md_subset("7980", "10007", "104"))], progress=False, embedder=embedder)
    port = _free_port()
    env = {**os.environ, "KEXUE_INDEX": str(settings.index_dir), "KEXUE_LLM": "extractive"}
    proc = subprocess.Popen([sys.executable, "-m", "app", "chat", "--port", str(port)], env=env, cwd=PROJECT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                break
        assert proc.poll() is None, proc.stderr.read()
        time.sleep(0.5)
    yield f"http://127.0.0.1:{port}/"
    proc.terminate()
    proc.wait(timeout=30)


def test_chat_answers_with_sources(chat_server):
    from gradio_client import Client

    client = Client(chat_server, verbose=False)
    reply = client.predict("SimSiam为什么不退化？", api_name="/chat")
    assert "《从动力学角度看优化算法（六）：为什么SimSiam不退化？》 2020-12-11" in reply
    assert "https://kexue.fm/archives/7980" in reply and "[1]" in reply
    empty = client.predict("   ", api_name="/chat")
    assert "the question is empty" in empty and "Traceback" not in empty


def test_chat_refuses_open_address_without_credentials():
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEXUE_CHAT_")}
    result = subprocess.run([sys.executable, "-m", "app", "chat", "--host", "0.0.0.0"], env=env, cwd=PROJECT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "needs authentication" in result.stderr and "Traceback" not in result.stderr
