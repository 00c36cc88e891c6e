"""Generation backends: the packaged 1.5B model in process, and a real OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import pytest

from app.answering.llm import LLMUnavailable, load_backend, local
from app.answering.llm.local import LocalBackend
from app.answering.llm.openai_api import OpenAIBackend, api_key
from app.models import gguf
from app.settings import Settings
from tests.openai_server import SERVER_KEY, free_port, prepared

GENERATOR = "qwen2.5-coder-1.5b-instruct-q4_k_m"
HAN = re.compile(r"[\u4e00-\u9fff]")
ASK = [{"role": "system", "content": "你是一个乐于助人的助手，请用中文简短回答。"},
       {"role": "user", "content": "用一句话解释什么是梯度下降。"}]


@pytest.fixture(scope="session")
def local_backend(model_settings: Settings) -> LocalBackend:
    prepared(model_settings, GENERATOR)
    backend = load_backend(model_settings.replace(generator=GENERATOR, threads=2), "local")
    assert isinstance(backend, LocalBackend)
    return backend


def test_local_model_streams_a_chinese_answer(local_backend: LocalBackend) -> None:
    pieces = list(local_backend.stream(ASK, max_tokens=48, temperature=0.0))
    text = "".join(pieces)
    assert len(pieces) > 1, pieces
    assert len(HAN.findall(text)) >= 5, text
    assert "<|im_end|>" not in text and "<|im_start|>" not in text


def test_local_model_is_loaded_once(local_backend: LocalBackend, model_settings: Settings) -> None:
    again = load_backend(model_settings.replace(generator=GENERATOR, threads=2), "local")
    assert again.model is local_backend.model


def test_local_answer_depends_on_its_prompt_only(local_backend: LocalBackend) -> None:
    """Sampling is seeded per request: another answer generated in between does not change this one."""
    first = "".join(local_backend.stream(ASK, max_tokens=24, temperature=0.8))
    "".join(local_backend.stream([{"role": "user", "content": "Say hello."}], max_tokens=8, temperature=0.8))
    assert "".join(local_backend.stream(ASK, max_tokens=24, temperature=0.8)) == first


def test_local_caller_stop_strings_end_the_answer(local_backend: LocalBackend) -> None:
    ask = [{"role": "user", "content": "Count from 1 to 10, separated by commas."}]
    text = "".join(local_backend.stream(ask, max_tokens=40, temperature=0.0, stop=["5"]))
    assert "4" in text and "5" not in text and "6" not in text, text


def test_local_timeout_raises_llm_unavailable(local_backend: LocalBackend) -> None:
    hasty = LocalBackend(local_backend.path, local_backend.n_ctx, 2, timeout_s=0.001)
    with pytest.raises(LLMUnavailable, match="did not start answering within"):
        list(hasty.stream(ASK, max_tokens=8, temperature=0.0))


def _hold(lock: threading.Lock, seconds: float) -> threading.Thread:
    """Keep the model busy (its lock taken) for ``seconds``, as another user's question would."""
    taken = threading.Event()

    def hold() -> None:
        with lock:
            taken.set()
            time.sleep(seconds)

    thread = threading.Thread(target=hold)
    thread.start()
    taken.wait()
    return thread


def test_local_time_limit_counts_from_when_the_model_is_free(local_backend: LocalBackend,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A question queued behind another one is not timed out for waiting (the chat serves several users),
    up to QUEUE_LIMITS time limits."""
    patient = LocalBackend(local_backend.path, local_backend.n_ctx, 2, timeout_s=2.0)
    holder = _hold(patient._lock, 3.0)
    assert "".join(patient.stream(ASK, max_tokens=4, temperature=0.0)).strip()
    holder.join()
    monkeypatch.setattr(local, "QUEUE_LIMITS", 1)
    holder = _hold(patient._lock, 3.0)
    with pytest.raises(LLMUnavailable, match="busy with other questions"):
        list(patient.stream(ASK, max_tokens=4, temperature=0.0))
    holder.join()


def test_local_prompt_longer_than_context_is_refused(local_backend: LocalBackend) -> None:
    long = [{"role": "user", "content": "梯度" * 5000}]
    with pytest.raises(LLMUnavailable, match="context is 4096"):
        next(local_backend.stream(long, max_tokens=8, temperature=0.0))


@pytest.mark.parametrize("content, message", [
    (None, "generator file not found"),
    (b"not a model at all\n" * 100, "not a GGUF file"),
    (b"GGUF" + bytes(4000), "damaged or incomplete"),
])
def test_bad_gguf_path_raises_llm_unavailable(tmp_path: Path, content: bytes | None, message: str) -> None:
    path = tmp_path / "model.gguf"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(LLMUnavailable, match=message) as info:
        load_backend(Settings(cache_dir=tmp_path, generator=str(path)), "local")
    assert "\n" not in str(info.value)


def test_packaged_model_missing_or_damaged_raises_llm_unavailable(tmp_path: Path) -> None:
    settings = Settings(cache_dir=tmp_path, generator=GENERATOR)
    with pytest.raises(LLMUnavailable, match="not prepared.*kexue models prepare"):
        load_backend(settings, "local")
    path = gguf.known_path(settings, gguf.KNOWN_GGUF[GENERATOR])
    path.parent.mkdir(parents=True)
    path.write_bytes(b"GGUF" + bytes(1000))
    with pytest.raises(LLMUnavailable, match="expected 1117320768.*damaged"):
        load_backend(settings, "local")


def test_unknown_backend_name_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown generation backend 'gpt'"):
        load_backend(Settings(), "gpt")


def test_api_key_comes_from_the_environment() -> None:
    assert api_key({"OPENAI_API_KEY": "b", "KEXUE_OPENAI_API_KEY": "a"}) == "a"
    assert api_key({"OPENAI_API_KEY": "b", "KEXUE_OPENAI_API_KEY": ""}) == "b"
    assert api_key({}) == ""


@pytest.fixture(scope="module")
def server(openai_server_url: str) -> str:
    return openai_server_url


def test_openai_backend_streams_from_a_real_server(server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEXUE_OPENAI_API_KEY", SERVER_KEY)
    backend = load_backend(Settings(openai_base_url=server, openai_model=""), "openai")
    assert backend.name == "openai"
    pieces = list(backend.stream(ASK, max_tokens=32, temperature=0.0))
    assert backend.model, "the model name is taken from the server's /models"
    assert len(pieces) > 1, pieces
    assert HAN.search("".join(pieces)), pieces
    assert "<|im_end|>" not in "".join(pieces)


def test_openai_backend_without_the_key_names_the_variable(server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KEXUE_OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "wrong")
    backend = load_backend(Settings(openai_base_url=server, openai_model="any"), "openai")
    with pytest.raises(LLMUnavailable, match="HTTP 401.*KEXUE_OPENAI_API_KEY"):
        list(backend.stream(ASK, max_tokens=8, temperature=0.0))


def test_openai_backend_wrong_path_gives_404(server: str) -> None:
    backend = OpenAIBackend(server.replace("/v1", "/nowhere"), "any", SERVER_KEY, timeout_s=10)
    with pytest.raises(LLMUnavailable, match="HTTP 404"):
        list(backend.stream(ASK, max_tokens=8, temperature=0.0))


def test_openai_backend_read_timeout(server: str) -> None:
    backend = OpenAIBackend(server, "any", SERVER_KEY, timeout_s=0.01)
    with pytest.raises(LLMUnavailable, match=r"within 0\.01 s|for 0\.01 s"):
        list(backend.stream(ASK, max_tokens=4, temperature=0.0))


def test_openai_backend_wrong_port_fails_fast() -> None:
    backend = load_backend(Settings(openai_base_url=f"http://127.0.0.1:{free_port()}/v1", openai_model="m"), "openai")
    start = time.monotonic()
    with pytest.raises(LLMUnavailable, match="cannot reach http://127.0.0.1") as info:
        list(backend.stream(ASK, max_tokens=8, temperature=0.0))
    assert time.monotonic() - start < 5
    assert "\n" not in str(info.value)
