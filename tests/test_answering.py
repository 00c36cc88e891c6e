"""The answering API on the test index: refusal, language, follow-ups, fallback and the --json schema."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from app.answering import Answer, Answerer, Evidence
from app.answering.language import detect_language
from app.answering.refusal import is_clearly_covered, is_covered, unknown_names
from eval.answer_eval import answer_language
from tests.conftest import PROJECT

SIMSIAM = "7980"


@pytest.fixture(scope="module")
def answerer(corpus_index, embedder) -> Answerer:
    return Answerer(corpus_index, embedder=embedder)


def _questions(**wanted) -> list[dict]:
    lines = (PROJECT / "eval" / "questions" / "kexue.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    return [r for r in rows if all(r.get(k) == v for k, v in wanted.items())]


def test_uncovered_questions_are_refused_in_their_language(answerer):
    unanswerable = _questions(answerable=False)
    answers = [answerer.answer(q["question"], llm="extractive") for q in unanswerable]
    refused = [a for a in answers if a.refused]
    assert len(refused) >= 0.6 * len(unanswerable)
    for answer in refused:
        expected = "博客没有涉及这个问题。" if answer.lang == "zh" else "The blog does not cover this question."
        assert answer.answer == expected and not answer.citations and answer.sources
    answerable = _questions(answerable=True, lang="zh")[:40]
    false_refusals = sum(answerer.answer(q["question"], llm="extractive").refused for q in answerable)
    assert false_refusals <= 2


def test_a_model_refusal_is_overruled_only_on_strong_retrieval(answerer):
    """The rule that overrules the model's "not covered" never fires for a question the blog does not cover,
    and fires for answerable ones with a strong lexical match."""
    settings = answerer.settings
    unanswerable = _questions(answerable=False)
    assert not any(is_clearly_covered(answerer.retriever.retrieve(q["question"], 5), settings) for q in unanswerable)
    answerable = _questions(answerable=True, lang="zh")[:40]
    strong = sum(is_clearly_covered(answerer.retriever.retrieve(q["question"], 5), settings) for q in answerable)
    assert strong >= 0.5 * len(answerable)


NOT_IN_THE_BLOG = ["GPTQ 量化时是怎样逐列更新权重来补偿误差的？", "AlphaFold2 的 Evoformer 模块是怎么设计的？",
                   "DeepSpeed 的 ZeRO-3 是怎么切分参数的？"]


@pytest.mark.parametrize("llm", ["extractive", "local"])
def test_topics_the_blog_never_covers_are_refused(answerer, llm):
    for question in NOT_IN_THE_BLOG:
        answer = answerer.answer(question, llm=llm)
        assert answer.refused and answer.answer == "博客没有涉及这个问题。" and not answer.citations, question


def test_simsiam_answer_cites_the_post(answerer):
    answer = answerer.answer("SimSiam为什么不退化", llm="local")
    assert answer.llm == "local" and answer.lang == "zh" and not answer.refused
    assert "stop_gradient" in answer.answer or "stop gradient" in answer.answer.lower()
    assert "predictor" in answer.answer.lower()
    assert "动力学" in answer.answer, "the post's own explanation: the fast/slow split of the dynamics"
    cited = {c.post_id: c for c in answer.citations}
    assert SIMSIAM in cited and cited[SIMSIAM].date == "2020-12-11"
    assert cited[SIMSIAM].title == "从动力学角度看优化算法（六）：为什么SimSiam不退化？"
    assert detect_language(answer.answer) == "zh"


def test_english_question_gets_english_answer(answerer):
    answer = answerer.answer("What is the core idea behind RoPE rotary position embedding?", llm="local")
    assert answer.lang == "en" and not answer.refused
    assert "8265" in [c.post_id for c in answer.citations]
    assert answer_language(answer.answer) == "en", "the answer's own prose (quoted lines aside) is English"
    assert answer.citations and all(c.title == s.title for c in answer.citations for s in answer.sources
                                    if s.rank == c.n)


def test_follow_up_is_rewritten_from_history(answerer):
    """The local model rewrites the follow-up (the whole answer path with a follow-up: test_ui_browser)."""
    standalone = answerer.standalone_question("那它和BYOL有什么区别？", ["SimSiam为什么不退化？"], "local")
    assert "SimSiam" in standalone and standalone != "那它和BYOL有什么区别？"
    assert detect_language(standalone) == "zh"
    assert SIMSIAM in [s.post_id for s in answerer.retriever.retrieve(standalone, 5).sources[:3]]


def test_missing_model_falls_back_to_extractive_with_notice(corpus_index, embedder, tmp_path):
    settings = corpus_index.replace(generator=str(tmp_path / "missing.gguf"))
    answer = Answerer(settings, embedder=embedder).answer("SimSiam为什么不退化", llm="local")
    assert answer.llm == "extractive" and "answered extractively" in answer.notice
    assert "missing.gguf" in answer.notice
    assert answer.citations and answer.citations[0].post_id == SIMSIAM


def test_ask_json_follows_the_schema(corpus_index):
    env = {**os.environ, "KEXUE_INDEX": str(corpus_index.index_dir)}
    result = subprocess.run([sys.executable, "-m", "app", "ask", "SimSiam为什么不退化", "--json", "--llm",
                             "extractive"], capture_output=True, text=True, env=env, cwd=PROJECT, timeout=300)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"question", "answer", "lang", "refused", "citations", "sources", "timings", "llm",
                         "sentences", "supported_share"}
    assert data["sentences"] and set(data["sentences"][0]) >= {"text", "cites", "support", "supported"}
    assert 0 < data["supported_share"] <= 1
    assert isinstance(data["answer"], str) and data["lang"] == "zh" and data["refused"] is False
    assert set(data["citations"][0]) == {"n", "post_id", "title", "date", "url", "section", "sentence", "link"}
    assert data["citations"][0]["link"].startswith("https://kexue.fm/archives/7980#:~:text=")
    assert set(data["sources"][0]) == {"rank", "post_id", "title", "date", "url", "section", "score", "text"}
    assert {"retrieve_ms", "generate_ms", "total_ms"} <= set(data["timings"])
    assert data["citations"][0]["url"] == "https://kexue.fm/archives/7980"


def test_evidence_comes_first_labelled_and_whole(answerer):
    stream = answerer.stream("SimSiam为什么不退化", llm="extractive")
    evidence = next(stream)
    assert isinstance(evidence, Evidence) and evidence.excerpts and evidence.gist
    assert evidence.excerpts[0].post_id == SIMSIAM and [e.rank for e in evidence.excerpts] == \
        list(range(1, len(evidence.excerpts) + 1))
    assert sum(len(e.text) for e in evidence.excerpts) >= 600
    assert all(e.text.count("$$") % 2 == 0 for e in evidence.excerpts)
    rest = list(stream)
    assert isinstance(rest[-1], Answer) and "[1]" in rest[-1].answer


def test_terminal_prints_the_sources_before_the_answer(corpus_index):
    env = {**os.environ, "KEXUE_INDEX": str(corpus_index.index_dir)}
    result = subprocess.run([sys.executable, "-m", "app", "ask", "SimSiam为什么不退化", "--llm", "extractive"],
                            capture_output=True, text=True, env=env, cwd=PROJECT, timeout=300)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.index("《从动力学角度看优化算法（六）：为什么SimSiam不退化？》") < out.index("[1]", out.index("\n\n"))
    assert out.startswith("依据 Evidence:")


def test_a_question_whose_names_the_corpus_never_writes_is_not_covered(answerer):
    index = answerer.retriever.index
    assert unknown_names("FedAvg 是怎么聚合客户端参数的？", index) == ["FedAvg"]
    assert unknown_names("How does DP-SGD clip per-example gradients?", index) == ["DP-SGD"]
    beside = "对比学习里的 InfoNCE 在小 batch 时效果差，FlatNCE 认为原因是什么？"
    assert unknown_names(beside, index) == ["InfoNCE"]
    settings = answerer.settings
    assert is_covered(answerer.retriever.retrieve(beside, 5), "zh", settings), "BM25 matches the rest strongly"
    paged = "How does vLLM's PagedAttention split the KV cache into blocks to reduce memory fragmentation?"
    assert unknown_names(paged, index) == ["vLLM", "PagedAttention"]
    assert not is_covered(answerer.retriever.retrieve(paged, 5), "en", settings), \
        "an unknown name beside a known one (KV), and only a middling match"
    assert unknown_names("How did the blog use a GPT-style language model?", index) == []
    assert unknown_names("RoFormer-Sim 和 roformer sim 有什么区别？", index) == [], "a compound as written, or spaced"
    assert unknown_names("RoFormer-Simple 是什么？", index) == ["RoFormer-Simple"], "not inside a longer word"
    assert unknown_names("SimSiam为什么不退化", index) == []
    assert "weight" in index.corpus_text and "\\label{" not in index.corpus_text and "\\eqref{" not in index.corpus_text
    assert unknown_names("期望提升（EI）采集函数是怎么计算的？", index) == ["EI"], \
        "ei occurs only inside words (weight) and equation labels (eq:ei), never as a word"
    assert not answerer.answer("How does DP-SGD clip per-example gradients?", llm="extractive").citations


def test_a_chinese_name_the_corpus_never_writes_is_not_covered(answerer):
    """纳什 and 莫比乌斯 occur in no post; 黎曼 and 费曼 do. A name the corpus lacks is refused unless BM25 matches the
    rest so strongly that it is a side remark, as for English names."""
    index, settings = answerer.retriever.index, answerer.settings
    nash = "博弈论里纳什均衡的存在性是怎么用不动点定理证明的？"
    assert unknown_names(nash, index) == ["纳什"]
    assert not is_covered(answerer.retriever.retrieve(nash, 5), "zh", settings)
    assert unknown_names("莫比乌斯带为什么只有一个面？", index)
    assert unknown_names("费曼路径积分和薛定谔方程有什么关系？", index) == []
    riemann = "黎曼几何里测地线方程怎么用变分法推出来？联络系数（Christoffel符号）的表达式是什么？"
    assert is_covered(answerer.retriever.retrieve(riemann, 5), "zh", settings), "a known name beside, strong BM25"


def test_an_english_question_is_searched_again_in_chinese(answerer):
    """The sources come at once from the English search, then again after the local model's translation."""
    question = "Why does the biased sample variance divide by n-1 rather than n?"
    events = list(answerer.stream(question, llm="extractive"))
    first, second = [e for e in events if isinstance(e, Evidence)]
    assert first.pending_search and first.excerpts and not first.searched_as
    assert not second.pending_search and detect_language(second.searched_as) == "zh"
    answer = events[-1]
    assert answer.extra["searched_as"] == second.searched_as and answer.to_json()["searched_as"]
    assert "translate_ms" in answer.timings
    assert [s.post_id for s in answer.sources[:len(second.excerpts)]] == [e.post_id for e in second.excerpts]
    chinese = [e for e in answerer.stream("SimSiam为什么不退化", llm="extractive") if isinstance(e, Evidence)]
    assert len(chinese) == 1 and not chinese[0].pending_search
