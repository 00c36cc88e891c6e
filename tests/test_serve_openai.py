"""``kexue serve`` through the official ``openai`` client on 127.0.0.1: answers with citations (streamed or not,
extractive and local), follow-ups, the API key, every bad request's error object, search and the mounted chat UI."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import httpx
import openai
import pytest

from tests.conftest import PROJECT
from tests.serve_server import API_KEY, kexue_serve

pytestmark = pytest.mark.slow

SIMSIAM = ("7980", "《从动力学角度看优化算法（六）：为什么SimSiam不退化？》", "2020-12-11",
           "https://kexue.fm/archives/7980")
QUESTION = "SimSiam为什么不退化？"
NOT_COVERED = "科学空间的文章没有涉及这个问题"
CITATION_KEYS = {"n", "post_id", "title", "date", "url", "section", "sentence", "link"}


@pytest.fixture(scope="module")
def server(corpus_index, tmp_path_factory):
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    with kexue_serve(corpus_index.index_dir, log, "--llm", "local") as base:
        yield base


@pytest.fixture(scope="module")
def client(server):
    return openai.OpenAI(base_url=f"{server}/v1", api_key=API_KEY, timeout=600, max_retries=0)


def _ask(client, question: str, model: str = "kexue-extractive", history: tuple[str, ...] = ()):
    messages = [{"role": "system", "content": "You are a helpful assistant."}]
    for turn in history:
        messages += [{"role": "user", "content": turn}, {"role": "assistant", "content": "…[1]"}]
    return client.chat.completions.create(model=model, messages=[*messages, {"role": "user", "content": question}])


def _stream(client, question: str, model: str = "kexue-extractive") -> tuple[str, list]:
    chunks = list(client.chat.completions.create(model=model, stream=True,
                                                 messages=[{"role": "user", "content": question}]))
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices), chunks


def _check_citations(citations: list[dict]) -> None:
    assert citations and all(set(c) == CITATION_KEYS for c in citations)
    first = next(c for c in citations if c["post_id"] == SIMSIAM[0])
    assert (f"《{first['title']}》", first["date"], first["url"]) == SIMSIAM[1:]
    assert first["link"].startswith(SIMSIAM[3])


def test_models_are_kexue_with_the_configured_backend_and_kexue_extractive(client):
    models = {m.id: m for m in client.models.list()}
    assert set(models) == {"kexue", "kexue-extractive"}
    assert models["kexue"].model_extra["backend"] == "local"
    assert models["kexue-extractive"].model_extra["backend"] == "extractive"


def test_answer_carries_its_sources_in_the_text_and_citations_in_the_response(client):
    response = _ask(client, QUESTION)
    content = response.choices[0].message.content
    assert response.object == "chat.completion" and response.choices[0].finish_reason == "stop"
    citations = response.model_extra["citations"]
    _check_citations(citations)
    assert content.index("[1]") < content.index("**来源 Sources**")
    for c in citations:
        assert f"[{c['n']}] [《{c['title']}》]({c['link']}) {c['date']}" in content
    assert response.model_extra["kexue"]["llm"] == "extractive"


def test_streamed_answer_is_the_same_answer_with_the_evidence_first_and_citations_last(client, server):
    text, chunks = _stream(client, QUESTION)
    assert chunks[0].choices[0].delta.role == "assistant"
    evidence = chunks[0].model_extra["evidence"]
    assert evidence and evidence[0]["post_id"] == SIMSIAM[0]
    assert all(c.object == "chat.completion.chunk" for c in chunks) and len({c.id for c in chunks}) == 1
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop" and all(c.choices[0].finish_reason is None for c in chunks[:-1])
    _check_citations(last.model_extra["citations"])
    assert text == _ask(client, QUESTION).choices[0].message.content

    body = {"model": "kexue-extractive", "stream": True, "messages": [{"role": "user", "content": QUESTION}]}
    with httpx.stream("POST", f"{server}/v1/chat/completions", json=body, timeout=120,
                      headers={"Authorization": f"Bearer {API_KEY}"}) as raw:
        assert raw.headers["content-type"].startswith("text/event-stream")
        events = [line for line in raw.iter_lines() if line]
    assert all(e.startswith("data: ") for e in events) and events[-1] == "data: [DONE]"


def test_follow_up_uses_the_earlier_user_turns(client):
    alone = _ask(client, "它和BYOL有什么区别？")
    assert alone.model_extra["kexue"]["refused"] and alone.model_extra["citations"] == []
    assert NOT_COVERED in alone.choices[0].message.content
    follow = _ask(client, "它和BYOL有什么区别？", history=("SimSiam没有负样本，为什么不会坍缩？",))
    assert not follow.model_extra["kexue"]["refused"]
    assert SIMSIAM[0] in {c["post_id"] for c in follow.model_extra["citations"]}


def test_local_model_answers_streamed_and_not_while_the_server_stays_responsive(client, server):
    timings: list[float] = []

    def ping() -> None:
        time.sleep(3)  # the local model is reading by now
        start = time.perf_counter()
        httpx.get(f"{server}/v1/models", headers={"Authorization": f"Bearer {API_KEY}"}, timeout=30)
        timings.append(time.perf_counter() - start)

    pinger = threading.Thread(target=ping)
    pinger.start()
    text, chunks = _stream(client, QUESTION, model="kexue")
    pinger.join()
    assert timings and timings[0] < 2.0
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 3
    summary = chunks[-1].model_extra["kexue"]
    assert summary["llm"] == "local" and not summary["refused"]
    _check_citations(chunks[-1].model_extra["citations"])
    assert "**来源 Sources**" in text and SIMSIAM[3] in text

    response = _ask(client, QUESTION, model="kexue")
    assert response.model_extra["kexue"]["llm"] == "local"
    _check_citations(response.model_extra["citations"])
    content = response.choices[0].message.content
    assert content.index("[1]") < content.index("**来源 Sources**")


def _error(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}
    assert body["error"]["message"] and "Traceback" not in response.text
    return body["error"]


def test_bad_requests_get_a_4xx_with_an_openai_error_object(server):
    http = httpx.Client(base_url=server, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=60)
    url = "/v1/chat/completions"
    user = [{"role": "user", "content": QUESTION}]
    err = _error(http.post(url, content=b'{"model": "kexue", "messages": [', headers={"content-type":
                                                                                        "application/json"}), 400)
    assert err["code"] == "invalid_json"
    err = _error(http.post(url, json={"model": "gpt-4o", "messages": user}), 404)
    assert err["code"] == "model_not_found" and "gpt-4o" in err["message"] and err["param"] == "model"
    assert _error(http.post(url, json={"model": "kexue"}), 400)["param"] == "messages"
    assert _error(http.post(url, json={"messages": user}), 400)["param"] == "model"
    assert _error(http.post(url, json={"model": "kexue", "messages": []}), 400)["code"] == "empty_messages"
    assert _error(http.post(url, json={"model": "kexue", "messages": "hi"}), 400)["param"] == "messages"
    assert _error(http.post(url, json={"model": "kexue", "messages": [{"content": "hi"}]}), 400)["param"] == \
        "messages[0].role"
    system_only = [{"role": "system", "content": "be brief"}]
    assert _error(http.post(url, json={"model": "kexue", "messages": system_only}), 400)["code"] == "no_user_message"
    for question, expected in [("   ", "the question is empty"), ("长" * 10_000, "the limit is 2000")]:
        for stream in (False, True):
            body = {"model": "kexue", "stream": stream, "messages": [{"role": "user", "content": question}]}
            err = _error(http.post(url, json=body), 400)
            assert expected in err["message"] and err["param"] == "messages"
    assert _error(http.get(url), 405)["message"] == "GET is not allowed on /v1/chat/completions"
    assert "no such endpoint" in _error(http.get("/v1/nothing"), 404)["message"]
    for params, param in [({"q": QUESTION, "after": "2020-13-01"}, "after"), ({"q": QUESTION, "k": "many"}, "k"),
                          ({"q": QUESTION, "k": 0}, "k"), ({"q": " "}, "q"), ({}, "q"),
                          ({"q": QUESTION, "category": "no such category"}, "category")]:
        assert _error(http.get("/v1/search", params=params), 400)["param"] == param

    client = openai.OpenAI(base_url=f"{server}/v1", api_key=API_KEY, max_retries=0)
    with pytest.raises(openai.NotFoundError) as info:
        client.chat.completions.create(model="gpt-4o", messages=user)
    assert info.value.code == "model_not_found"
    with pytest.raises(openai.BadRequestError, match="the limit is 2000"):
        client.chat.completions.create(model="kexue", messages=[{"role": "user", "content": "长" * 10_000}])


def test_the_api_key_is_required_when_set(server):
    body = {"model": "kexue-extractive", "messages": [{"role": "user", "content": QUESTION}]}
    for headers in ({}, {"Authorization": "Bearer wrong-key"}, {"Authorization": API_KEY}):
        err = _error(httpx.post(f"{server}/v1/chat/completions", json=body, headers=headers), 401)
        assert err["type"] == "authentication_error" and err["code"] == "invalid_api_key"
        _error(httpx.get(f"{server}/v1/search", params={"q": "SimSiam"}, headers=headers), 401)
        _error(httpx.post(f"{server}/mcp", json={}, headers=headers), 401)
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=f"{server}/v1", api_key="wrong-key", max_retries=0).models.list()


def test_serve_refuses_a_non_loopback_address_without_a_key():
    env = {k: v for k, v in os.environ.items() if k not in ("KEXUE_API_KEY", "KEXUE_CHAT_USER", "KEXUE_CHAT_PASSWORD")}
    command = [sys.executable, "-m", "app", "serve", "--host", "0.0.0.0", "--port", "9"]
    run = subprocess.run(command, cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode != 0 and "set KEXUE_API_KEY" in run.stderr
    run = subprocess.run(command, cwd=PROJECT, env={**env, "KEXUE_API_KEY": "k"}, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode != 0 and "KEXUE_CHAT_USER" in run.stderr and "--no-ui" in run.stderr


def test_search_ranks_posts_with_highlighted_snippets(client, server):
    http = httpx.Client(base_url=server, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=60)
    posts = http.get("/v1/search", params={"q": "SimSiam", "k": 5}).json()["data"]
    assert posts[0]["post_id"] == SIMSIAM[0] and len(posts) <= 5 and posts[0]["date"] == SIMSIAM[2]
    assert "**SimSiam**" in posts[0]["snippet"] and posts[0]["url"] == SIMSIAM[3]
    earlier = http.get("/v1/search", params={"q": "SimSiam", "before": "2020-01-01"}).json()["data"]
    assert earlier and all(p["date"] <= "2020-01-01" for p in earlier)
    assert SIMSIAM[0] not in {p["post_id"] for p in earlier}


def test_chat_ui_is_mounted_on_the_same_server(server):
    page = httpx.get(f"{server}/chat/", timeout=30)
    assert page.status_code == 200 and "gradio" in page.text.lower()
    assert httpx.get(f"{server}/", timeout=30).headers["location"].endswith("/chat/")
    config = httpx.get(f"{server}/chat/config", timeout=30).json()
    assert config["title"] == "科学空间问答"
