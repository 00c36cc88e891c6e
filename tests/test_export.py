"""Cited sentences and their links on a real answer, in the CLI, the chat's sources panel and the exported chat."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import pytest

from app.answering.fragment import visible_runs
from app.ui.export import conversation_markdown, export_file
from app.ui.messages import answer_markdown
from app.ui.sources_panel import render_sources
from tests.conftest import PROJECT

pytestmark = pytest.mark.slow
QUESTION = "SimSiam为什么不退化"
SIMSIAM_URL = "https://kexue.fm/archives/7980"
SIMSIAM_TITLE = "从动力学角度看优化算法（六）：为什么SimSiam不退化？"


@pytest.fixture(scope="module")
def answer(corpus_index, embedder):
    from app.answering import Answerer

    return Answerer(corpus_index, embedder=embedder).answer(QUESTION, llm="extractive")


def test_each_citation_names_its_sentence_and_links_to_it(answer):
    assert answer.citations and answer.citations[0].post_id == "7980"
    given = {s.rank: s for s in answer.sources}
    for citation in answer.citations:
        assert citation.sentence and citation.sentence in given[citation.n].text
        assert citation.link.startswith(citation.url + "#:~:text=")
        terms = [unquote(t) for t in citation.link.split("#:~:text=")[1].split(",")]
        shown = " ".join(visible_runs(citation.sentence))
        assert all(term in shown for term in terms)
    # an extractive answer quotes the posts: the first citation's sentence is one of the answer's own sentences
    first = answer.citations[0].sentence
    assert " ".join(visible_runs(first))[:20] in answer.answer.replace("\n", " ")


def test_sources_panel_marks_the_cited_sentence(answer):
    panel = render_sources(answer, lambda text: text)
    first = answer.citations[0]
    assert f'<mark class="kexue-cited">{first.sentence}</mark>' in panel
    assert f"]({first.link})" in panel and f"]({SIMSIAM_URL})" in panel


def test_exported_conversation_keeps_answers_citations_and_links(answer, tmp_path):
    history = [{"role": "user", "content": QUESTION},
               {"role": "assistant", "content": answer_markdown(answer, lambda text: text)},
               {"role": "user", "content": [{"type": "text", "text": "它和BYOL有什么关系？"}]},
               {"role": "assistant", "content": "（第二个回答）"}]
    text = conversation_markdown(history, when="2026-01-01 12:00")
    assert text.startswith("# 科学空间问答 · 2026-01-01 12:00\n\n## 1. SimSiam为什么不退化\n\n")
    assert "## 2. 它和BYOL有什么关系？\n\n（第二个回答）\n" in text
    assert answer.answer.strip() in text and "**来源 Sources**" in text
    for citation in answer.citations:
        assert f"[《{citation.title}》]({citation.url})" in text and f"]({citation.link})" in text
    path = export_file(history, tmp_path)
    saved = Path(path).read_text(encoding="utf-8")
    assert path.endswith(".md") and saved.split("\n", 1)[1] == text.split("\n", 1)[1]
    assert export_file([], tmp_path) is None and conversation_markdown(None) == ""


def test_ask_lists_the_links_to_the_cited_sentences(corpus_index):
    env = {**os.environ, "KEXUE_INDEX": str(corpus_index.index_dir)}
    result = subprocess.run([sys.executable, "-m", "app", "ask", QUESTION, "--llm", "extractive", "--no-stream"],
                            capture_output=True, text=True, env=env, cwd=PROJECT, timeout=300)
    assert result.returncode == 0, result.stderr
    sources = result.stdout.split("来源 Sources:")[1].splitlines()
    assert sources[1].startswith(f"  [1] 《{SIMSIAM_TITLE}》 2020-12-11 {SIMSIAM_URL}")
    assert sources[2].startswith(f"      → {SIMSIAM_URL}#:~:text=")


def test_downloads_older_than_an_hour_are_removed_when_a_new_one_is_written(tmp_path):
    import time

    from app.ui.export import KEEP_S

    old, recent = tmp_path / "kexue-conversation-old.md", tmp_path / "kexue-conversation-recent.md"
    for path in (old, recent):
        path.write_text("# earlier", encoding="utf-8")
    past = time.time() - KEEP_S - 60
    os.utime(old, (past, past))
    path = export_file([{"role": "user", "content": QUESTION}, {"role": "assistant", "content": "回答"}], tmp_path)
    assert Path(path).is_file() and recent.is_file() and not old.exists()


def test_every_chat_process_shares_one_private_download_folder():
    from app.ui.export import export_dir

    first, second = export_dir(), export_dir()
    assert first == second and first.is_dir() and not first.is_symlink()
    assert first.stat().st_uid == os.getuid() and first.stat().st_mode & 0o077 == 0
