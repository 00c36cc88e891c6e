"""20 simultaneous conversations through ``gradio_client`` against ``kexue chat`` (extractive answers)."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import PROJECT
from tests.openai_server import free_port

# Twenty answerable questions of the question set about twenty different posts (two in English).
QUESTION_IDS = ("q001", "q002", "q003", "q004", "q007", "q008", "q009", "q012", "q015", "q018", "q019", "q020",
                "q021", "q022", "q030", "q031", "q053", "q047", "q052", "q076")
POST_URL = re.compile(r"https://kexue\.fm/archives/(\d+)")


@pytest.fixture(scope="module")
def chat_server(corpus_index):
    port = free_port()
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"}
    command = [sys.executable, "-m", "app", "chat", "--port", str(port), "--llm", "extractive",
               "--index", str(corpus_index.index_dir)]
    proc = subprocess.Popen(command, env=env, cwd=PROJECT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
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


def _text(message: dict) -> str:
    content = message["content"]
    return content if isinstance(content, str) else "".join(part.get("text", "") for part in content)


def _questions() -> list[dict]:
    by_id = {}
    with (PROJECT / "eval" / "questions" / "kexue.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            question = json.loads(line)
            by_id[question["id"]] = question
    return [by_id[qid] for qid in QUESTION_IDS]


def test_twenty_simultaneous_conversations_each_get_their_own_citations(chat_server):
    from gradio_client import Client

    questions = _questions()
    assert len({q["relevant"][0] for q in questions}) == len(questions)
    alone = Client(chat_server, verbose=False, analytics_enabled=False)
    expected = {}  # each question's citations when it is the only one being answered
    for question in questions:
        chat, _, _ = alone.predict(question["question"], [], 5, "extractive", False, api_name="/chat")
        expected[question["id"]] = POST_URL.findall(_text(chat[1]).split("Sources")[-1])
    start = threading.Barrier(len(questions))

    def converse(question: dict) -> tuple[list[dict], str, float]:
        client = Client(chat_server, verbose=False, analytics_enabled=False)
        start.wait(timeout=120)
        began = time.perf_counter()
        job = client.submit(question["question"], [], 5, "extractive", False, api_name="/chat")
        chat, panel, box = job.result(timeout=180)
        assert box == ""
        return chat, panel, time.perf_counter() - began

    wall = time.perf_counter()
    with ThreadPoolExecutor(len(questions)) as pool:
        results = list(pool.map(converse, questions))
    wall = time.perf_counter() - wall

    for question, (chat, panel, _) in zip(questions, results, strict=True):
        assert [m["role"] for m in chat] == ["user", "assistant"]
        assert _text(chat[0]) == question["question"]
        reply = _text(chat[1])
        assert "⚠️ internal error" not in reply and "Traceback" not in reply
        cited = POST_URL.findall(reply.split("Sources")[-1])
        assert cited and cited == expected[question["id"]], (question["id"], cited)
        assert set(POST_URL.findall(panel.split("Retrieved passages")[0])) == set(cited)
    right = sum(expected[q["id"]][0] in q["relevant"] for q in questions)
    assert right >= 17, f"only {right} of 20 answers cite their question's post first"
    print(f"20 conversations: {wall:.1f} s in all, the slowest {max(s for _, _, s in results):.1f} s")


def test_run_command_through_the_api(chat_server):
    from gradio_client import Client

    client = Client(chat_server, verbose=False, analytics_enabled=False)
    chat, _, _ = client.predict("/run print(2 ** 10)", [], 5, "extractive", False, api_name="/chat")
    assert "```text\n1024\n```" in _text(chat[-1])
    chat = client.predict("print('again')", chat, api_name="/run_code")
    assert len(chat) == 3 and "```text\nagain\n```" in _text(chat[-1])
