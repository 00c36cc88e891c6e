"""The server's pure parts: the bearer check, reading the conversation, error locations, the sources of a streamed
answer and a post rebuilt from its chunks."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from fastapi.exceptions import RequestValidationError

from app.answering import Answer, Citation, Source
from app.serve.answer_format import answer_content, sources_markdown, streamed_entries
from app.serve.auth import key_matches
from app.serve.errors import ApiError, validation_error
from app.serve.openai_routes import ChatMessage, conversation
from app.serve.posts import PostNotFound, normalise_id, post_markdown


def test_bearer_key_must_match_exactly():
    assert key_matches("Bearer s3cret", "s3cret") and key_matches("bearer  s3cret ", "s3cret")
    for header in (None, "", "s3cret", "Bearer", "Bearer s3cre", "Bearer s3cret2", "Basic s3cret"):
        assert not key_matches(header, "s3cret")


def _messages(*pairs: tuple[str, object]) -> list[ChatMessage]:
    return [ChatMessage(role=role, content=content) for role, content in pairs]


def test_the_question_is_the_last_user_message_and_earlier_user_turns_are_history():
    question, history = conversation(_messages(
        ("system", "be brief"), ("user", "SimSiam为什么不退化？"), ("assistant", "因为…[1]"),
        ("user", [{"type": "text", "text": "它和BYOL"}, {"type": "text", "text": "有什么区别？"}])))
    assert question == "它和BYOL\n有什么区别？" and history == ["SimSiam为什么不退化？"]
    for messages, code in [([], "empty_messages"), (_messages(("system", "x")), "no_user_message"),
                           (_messages(("user", "  ")), "invalid_question"),
                           (_messages(("user", "长" * 10_000)), "invalid_question")]:
        with pytest.raises(ApiError) as info:
            conversation(messages)
        assert info.value.status == 400 and info.value.code == code and info.value.param == "messages"


def test_validation_errors_name_the_field():
    missing = RequestValidationError([{"type": "missing", "loc": ("body", "messages", 2, "role"), "msg": "x"}])
    assert validation_error(missing).body()["error"] == {
        "message": "messages[2].role is required", "type": "invalid_request_error", "param": "messages[2].role",
        "code": "missing_field"}
    bad_json = RequestValidationError([{"type": "json_invalid", "loc": ("body", 7), "msg": "x"}])
    assert validation_error(bad_json).code == "invalid_json" and validation_error(bad_json).status == 400


def _source(rank: int, post_id: str) -> Source:
    return Source(rank, post_id, f"title {post_id}", "2020-12-11", f"https://kexue.fm/archives/{post_id}", "", 1.0,
                  "text")


def test_streamed_sources_resolve_every_mark_shown_even_after_renumbering():
    excerpts = [_source(1, "7980"), _source(2, "7466")]
    answer = Answer("q", "甲。[1] 乙。[1]", "zh", False, [Citation(1, "7980", "title 7980", "2020-12-11",
                                                                "https://kexue.fm/archives/7980", "")], excerpts,
                    {}, "local")
    entries = streamed_entries(answer, "甲。[1] 乙。[2] 丙。[9]", excerpts)
    assert [e["n"] for e in entries] == [1, 2] and entries[1]["post_id"] == "7466"
    assert "[2] [《title 7466》](https://kexue.fm/archives/7466) 2020-12-11" in sources_markdown(entries, "zh")
    assert answer_content(answer).startswith("甲。[1] 乙。[1]\n\n**来源 Sources**  \n[1] [《title 7980》]")
    assert sources_markdown([], "en") == ""


class _FakeIndex:
    """Two posts' chunks as the docstore holds them."""

    def __init__(self):
        sections = ["", "方法", "方法 > 细节", "方法 > 细节", "结论"]
        meta = {"post_id": "1", "title": "T", "date": "2020-01-02", "url": "https://kexue.fm/archives/1",
                "category": "信息时代", "tags": ["a", "b"], "excerpt": False}
        self.nodes = {f"1#{i}": SimpleNamespace(text=f"chunk {i}", metadata={**meta, "section": s})
                      for i, s in enumerate(sections)}
        self.manifest = {"posts": {"1": {"chunks": len(sections)}}}
        self.docstore = SimpleNamespace(get_node=self.nodes.__getitem__)


def test_a_post_is_rebuilt_in_order_with_a_heading_per_section():
    text = post_markdown(_FakeIndex(), "https://kexue.fm/archives/1")
    assert text.startswith("# 《T》\n\n- post id: 1\n- date: 2020-01-02\n- url: https://kexue.fm/archives/1\n"
                           "- category: 信息时代\n- tags: a, b\n")
    body = text.split("\n\n", 2)[2]
    assert body == ("chunk 0\n\n## 方法\n\nchunk 1\n\n### 细节\n\nchunk 2\n\nchunk 3\n\n## 结论\n\nchunk 4\n")
    part = post_markdown(_FakeIndex(), "1", section="细节")
    assert "chunk 2\n\nchunk 3" in part and "chunk 1" not in part and "- showing: the sections matching '细节'" in part
    with pytest.raises(PostNotFound, match="no post 2 in the index"):
        post_markdown(_FakeIndex(), "2")
    with pytest.raises(PostNotFound, match="post 1 has no section matching 'x'; its sections: 方法; 方法 > 细节; 结论"):
        post_markdown(_FakeIndex(), "1", section="x")
    assert normalise_id(" https://kexue.fm/archives/7980/#comments ") == "7980" and normalise_id(7980) == "7980"
