"""The chat UI's handlers on the test index: streamed answers with sources, follow-ups, commands and errors."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time

import pytest

from app.chat_commands import code_to_run, fenced, handle_command, math_arguments, parse_command
from tests.conftest import PROJECT

SIMSIAM = ("《从动力学角度看优化算法（六）：为什么SimSiam不退化？》", "2020-12-11", "https://kexue.fm/archives/7980")


@pytest.fixture(scope="module")
def handlers(corpus_index):
    from app.answering import Answerer
    from app.ui.handlers import ChatHandlers

    return ChatHandlers(Answerer(corpus_index))


def _gradio_message(role: str, text: str) -> dict:
    """A message as Gradio 6 hands the chat history to a handler."""
    return {"role": role, "metadata": None, "content": [{"type": "text", "text": text}], "options": None}


def _final(updates: list) -> tuple[list[dict], object]:
    """The last chat and the last sources panel that was set (not skipped)."""
    panels = [panel for _, panel, _ in updates if isinstance(panel, str)]
    return updates[-1][0], panels[-1] if panels else None


def test_commands_are_recognised_only_at_the_start_of_a_message():
    assert parse_command("/run print(1)") == ("/run", "print(1)")
    assert parse_command("  /MATH x^2 ") == ("/math", "x^2")
    assert parse_command("/running") is None and parse_command("please /run this") is None
    assert parse_command("/help") is None


def test_run_takes_the_code_given_or_the_last_python_block():
    conversation = ["```python\nprint('old')\n```", "answer with\n```js\nalert(1)\n```\nand\n```python\nx = 2\n"
                    "print(x * 21)\n```\nthen\n```text\n42\n```\n"]
    assert code_to_run("```python\nprint(1)\n```", conversation) == "print(1)"
    assert code_to_run("print(2)", conversation) == "print(2)"
    assert code_to_run("", conversation) == "x = 2\nprint(x * 21)"
    assert code_to_run("", ["no code here"]) is None
    assert fenced("a ``` b") == "````text\na ``` b\n````"


def test_run_finds_code_the_math_plugin_wrote_as_html(handlers):
    answer = "先算\n\n```python\nprint(1)\n```\n\n再算\n\n```python\nprint('$5 & <b>')\n```\n"
    shown = handlers.web(answer, "answer")
    assert "<pre><code" in shown
    assert code_to_run("", [shown]) == "print('$5 & <b>')"


def test_answer_streams_then_cites_with_a_sources_panel(handlers):
    updates = list(handlers.respond("SimSiam为什么不退化？", [], 5, "extractive", False))
    chat, panel = _final(updates)
    assert [m["role"] for m in chat] == ["user", "assistant"] and updates[0][2] == ""
    reply = chat[-1]["content"]
    assert f"[{SIMSIAM[0]}]({SIMSIAM[2]}) {SIMSIAM[1]}" in reply
    assert "extractive answer" in reply and reply.index("[1]") < reply.index("来源 Sources")
    assert SIMSIAM[0] in panel and SIMSIAM[1] in panel and f"({SIMSIAM[2]})" in panel
    assert re.search(r'<details class="kexue-passage"><summary>\[\d\] §\u00a0动力学分析</summary>', panel)
    assert "交替优化" in panel and "Retrieved passages" not in panel

    _, full_panel = _final(list(handlers.respond("SimSiam为什么不退化？", [], 3, "extractive", True)))
    retrieved = full_panel.split("检索到的段落 Retrieved passages")[1]
    listed = re.findall(r"\*\*\[《[^》]*》\]\((https://kexue\.fm/archives/\d+)\)\*\*", retrieved)
    assert len(set(listed)) == 3, "each listed passage names its post (a passage's own text may link others)"
    assert retrieved.count("· score ") == retrieved.count('<details class="kexue-passage">') >= 3


def test_an_english_question_s_sources_are_replaced_after_its_chinese_search(handlers):
    question = "Why do we need residual connections to train very deep networks?"
    updates = list(handlers.respond(question, [], 5, "extractive", False))
    panels = [panel for _, panel, _ in updates if isinstance(panel, str)]
    gists = [chat[-1]["content"] for chat, panel, _ in updates if isinstance(panel, str) and len(chat) == 2]
    assert len(panels) == 3, "the English search's evidence, the combined search's, then the answer's sources"
    assert "searching the posts again" in gists[0] and "also searched in Chinese as" in gists[1]
    assert "https://kexue.fm/archives/8994" in panels[1] and "https://kexue.fm/archives/8994" in panels[2]


def test_follow_up_uses_the_earlier_question(handlers):
    alone, _ = _final(list(handlers.respond("它和BYOL有什么区别？", [], 5, "extractive", False)))
    assert "科学空间的文章没有涉及这个问题" in alone[-1]["content"]
    history = [_gradio_message("user", "SimSiam没有负样本，为什么不会坍缩？"), _gradio_message("assistant", "…[1]"),
               _gradio_message("user", "/run print(1)"), _gradio_message("assistant", "1")]
    chat, panel = _final(list(handlers.respond("它和BYOL有什么区别？", history, 5, "extractive", False)))
    assert len(chat) == 6 and SIMSIAM[2] in chat[-1]["content"] and SIMSIAM[2] in panel


def test_errors_are_chat_messages_not_tracebacks(handlers, monkeypatch):
    for question, llm, expected in [("   ", None, "the question is empty"), ("长" * 2001, None, "the limit is 2000"),
                                    ("SimSiam?", "gpt", "unknown llm 'gpt'")]:
        chat, panel = _final(list(handlers.respond(question, [], 5, llm, False)))
        assert expected in chat[-1]["content"] and chat[-1]["content"].startswith("> ⚠️") and panel is None

    def broken(*args, **kwargs):
        raise RuntimeError("faiss index went away")

    monkeypatch.setattr(handlers.answerer.retriever, "retrieve", broken)
    chat, _ = _final(list(handlers.respond("SimSiam为什么不退化？", [], 5, "extractive", False)))
    assert chat[-1]["content"] == "> ⚠️ internal error (RuntimeError): faiss index went away"


def test_run_command_and_run_button_use_the_python_tool(handlers):
    chat, panel = _final(list(handlers.respond("/run print(6 * 7)", [], 5, "extractive", False)))
    assert panel is None and "exit 0" in chat[-1]["content"] and "```text\n42\n```" in chat[-1]["content"]
    history = [_gradio_message("user", "/run\n```python\nimport sys\nprint('err', file=sys.stderr)\n"
                                       "raise SystemExit(3)\n```")]
    chat = handlers.run_code("print(sum(range(10)))", history)
    assert len(chat) == 2 and "```text\n45\n```" in chat[-1]["content"]
    rerun, _ = _final(list(handlers.respond("/run", history, 5, "extractive", False)))
    assert "exit 3" in rerun[-1]["content"] and "stderr:\n```text\nerr\n```" in rerun[-1]["content"]


def test_text_in_a_post_or_an_answer_never_runs_a_tool(handlers):
    history = [_gradio_message("user", "SimSiam为什么不退化？"),
               _gradio_message("assistant", "/run\n```python\nprint('from the answer')\n```")]
    chat, _ = _final(list(handlers.respond("它和BYOL有什么区别？", history, 5, "extractive", False)))
    assert "from the answer" not in chat[-1]["content"] and SIMSIAM[2] in chat[-1]["content"]
    assert handle_command("SimSiam为什么不退化？ /run print(1)", [], handlers.tools()) is None


def test_math_arguments_follow_the_command_words():
    assert math_arguments("integrate x^2 for x") == {"operation": "integrate", "expression": "x^2", "variable": "x"}
    assert math_arguments("x^2 = 4") == {"operation": "solve", "expression": "x^2 = 4"}
    assert math_arguments("sin(x)**2 + cos(x)**2") == {"operation": "simplify", "expression": "sin(x)**2 + cos(x)**2"}
    assert math_arguments("check det(exp(A)) == exp(trace(A)) with A:3, B=2") == {
        "operation": "check_identity", "expression": "det(exp(A))", "rhs": "exp(trace(A))",
        "matrices": {"A": 3, "B": 2}}


def test_math_command_uses_the_math_tool(handlers):
    chat, panel = _final(list(handlers.respond("/math integrate x^2 for x", [], 5, "extractive", False)))
    assert panel is None and chat[-1]["content"] == ("**∑ math** · integrate\n\nintegrate(x^2) = x\\*\\*3/3\n\n"
                                                     "$$\n\\frac{x^{3}}{3}\n$$")
    identity = handle_command("/math check sin(2*x) = 2*sin(x)*cos(x)", [], handlers.tools())
    assert identity.ok and "holds at 5 random points" in identity.markdown
    wrong = handle_command("/math check sin(2*x) = 2*sin(x)", [], handlers.tools())
    assert wrong.ok and "does NOT hold" in wrong.markdown
    for bad in ("/math", "/math import os", "/math solve x*y = 1"):
        reply = handle_command(bad, [], handlers.tools())
        assert not reply.ok and reply.markdown.startswith("⚠️") and "usage: `/math" in reply.markdown


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_open_address_needs_the_credentials_from_the_environment(corpus_index):
    from gradio_client import Client

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "KEXUE_CHAT_USER": "reader", "KEXUE_CHAT_PASSWORD": "s3cret-科学"}
    command = [sys.executable, "-m", "app", "chat", "--host", "0.0.0.0", "--port", str(port), "--llm", "extractive",
               "--index", str(corpus_index.index_dir)]
    proc = subprocess.Popen(command, env=env, cwd=PROJECT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}/"
        deadline = time.time() + 120
        while not _listening(port):
            assert proc.poll() is None and time.time() < deadline, proc.stderr.read() if proc.poll() else "timeout"
            time.sleep(0.5)
        with pytest.raises(Exception, match="credentials were not provided"):
            Client(url, verbose=False, analytics_enabled=False)
        with pytest.raises(ValueError, match="Could not login"):
            Client(url, auth=("reader", "wrong"), verbose=False, analytics_enabled=False)
        client = Client(url, auth=("reader", "s3cret-科学"), verbose=False, analytics_enabled=False)
        chat, _, _ = client.predict("SimSiam为什么不退化？", [], 5, "extractive", False, api_name="/chat")
        assert SIMSIAM[2] in chat[-1]["content"][0]["text"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_chat_refuses_open_address_without_credentials():
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEXUE_CHAT_")}
    result = subprocess.run([sys.executable, "-m", "app", "chat", "--host", "0.0.0.0"], env=env, cwd=PROJECT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "needs authentication" in result.stderr and "Traceback" not in result.stderr
