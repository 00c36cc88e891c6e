"""The eval runner and its outputs with a stand-in Answerer (no model, no index): numbers, files, CLI errors."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from app.answering.retriever import Retrieval
from app.answering.types import Answer, Citation, Source
from app.cli.main import cli
from app.settings import Settings
from eval.output import write_outputs
from eval.questions import Question
from eval.runner import EvalOptions, run_eval
from eval.variants import VARIANTS, Ranking, register_variant, retrieval_query

POSTS = {"1": "一", "2": "二", "3": "三", "4": "四"}
RANKS = {"hybrid": ["1", "2", "3"], "bm25": ["3", "1", "2"], "dense": ["4", "3", "2"]}


def source(rank: int, post_id: str) -> Source:
    return Source(rank, post_id, POSTS[post_id], "2020-01-01", f"https://kexue.fm/archives/{post_id}", "", 0.5, "text")


class FakeRetriever:
    index_dir = Path("/fake/index")
    embedder = SimpleNamespace(fingerprint="f")
    index = SimpleNamespace(manifest={
        "embedder": {"name": "fake"}, "whitening": None, "stats": {"posts": 4, "chunks": 8},
        "posts": {pid: {"hash": pid, "title": title} for pid, title in POSTS.items()}})

    def retrieve(self, query: str, k: int, mode: str = "hybrid") -> Retrieval:
        return Retrieval([source(i, p) for i, p in enumerate(RANKS[mode][:k], start=1)], 2.0, 0.0, 0.0)


class FakeAnswerer:
    retriever = FakeRetriever()

    def __init__(self):
        self.calls = []

    def search(self, question: str, k: int, mode: str = "hybrid", llm=None) -> Retrieval:
        return self.retriever.retrieve(question, k, mode)

    def answer(self, question: str, k=None, history=None, llm=None, mode="hybrid") -> Answer:
        self.calls.append((question, history, llm, mode))
        if "unknown" in question:
            return Answer(question, "博客没有涉及这个问题。", "zh", True, [], [], {"retrieve_ms": 1.0,
                          "generate_ms": 5.0, "total_ms": 6.0}, "extractive")
        cite = [Citation(1, "1", "一", "2020-01-01", "u", ""), Citation(2, "2", "二", "2020-01-01", "u", "")]
        return Answer(question, "梯度消失的原因是链式法则 [1][2]", "zh", False, cite, [source(1, "1")],
                      {"retrieve_ms": 1.0, "generate_ms": 10.0, "total_ms": 11.0}, "extractive")


QUESTIONS = [
    Question("a", "为什么会梯度消失？", "zh", ["1"], ["梯度消失", "链式法则", "残差连接"], "conceptual", True),
    Question("b", "那它怎么解决？", "zh", ["3"], ["残差"], "followup", True, history=["梯度消失是什么？"]),
    Question("c", "unknown topic?", "en", [], ["say it is not covered"], "unanswerable", False),
]


@pytest.fixture()
def run(tmp_path: Path):
    answerer = FakeAnswerer()
    options = EvalOptions(["hybrid", "bm25", "dense"], k=3, llm="extractive", progress=False)
    result = run_eval(Settings(cache_dir=tmp_path / "cache"), QUESTIONS, options, answerer=answerer)
    return result, answerer


def test_runner_scores_each_variant(run):
    result, answerer = run
    a, b, c = result.records
    assert a["retrieved"] == {"hybrid": ["1", "2", "3"], "bm25": ["3", "1", "2"], "dense": ["4", "3", "2"]}
    assert a["scores"]["bm25"]["mrr@10"] == 0.5 and b["scores"]["hybrid"]["mrr@10"] == pytest.approx(1 / 3)
    assert c["scores"]["hybrid"] is None
    assert answerer.calls[1] == ("那它怎么解决？", ["梯度消失是什么？"], "extractive", "hybrid")
    assert a["key_point_coverage"] == pytest.approx(2 / 3)  # 梯度消失, 链式法则 present; 残差连接 absent
    assert a["citation_precision"] == 0.5 and a["citation_recall"] == 1.0
    assert c["refusal_correct"] is True and c["language_match"] is False


def test_report_json_follows_eval_md(run, tmp_path: Path):
    result, _ = run
    report = write_outputs(result, tmp_path / "out")
    assert report["questions"] == 3 and report["answerable"] == 2
    assert report["retrieval"] == {"hit@1": 0.5, "hit@5": 1.0, "mrr@10": pytest.approx(0.6667, abs=1e-4),
                                   "ndcg@10": pytest.approx((1 + 0.5) / 2, abs=1e-4)}
    answers = report["answers"]
    assert answers["citation_precision"] == 0.25 and answers["citation_recall"] == 0.5  # b cites 1, 2; needs 3
    assert answers["refusal_accuracy"] == 1.0 and answers["false_refusals"] == 0
    assert answers["language_match"] == pytest.approx(2 / 3, abs=1e-4) and answers["judge"].startswith("matcher")
    assert set(report["latency_ms"]) >= {"retrieve_p50", "retrieve_p95", "answer_p50", "answer_p95"}
    assert report["latency_ms"]["answer_p50"] == 10.0
    assert report["by_kind"]["conceptual"]["hit@5"] == 1.0
    assert report["by_kind"]["unanswerable"]["refusal_accuracy"] == 1.0
    assert report["config"]["retrieval"] == "hybrid" and report["config"]["llm"] == "extractive"
    assert list(report["variants"]) == ["hybrid", "bm25", "dense"]
    assert report["variants"]["dense"]["hit@1"] == 0.0 and report["variants"]["dense"]["hit@5"] == 0.5
    assert "retrieve_p95" in report["variants"]["bm25"]["latency_ms"]
    on_disk = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert on_disk["variants"]["bm25"]["mrr@10"] == report["variants"]["bm25"]["mrr@10"]


def test_output_files(run, tmp_path: Path):
    result, _ = run
    out = tmp_path / "out"
    write_outputs(result, out)
    lines = (out / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["a", "b", "c"]
    for name in ("metrics_by_variant.png", "hit5_by_kind.png", "latency.png"):
        assert (out / name).read_bytes().startswith(b"\x89PNG")
    markdown = (out / "report.md").read_text(encoding="utf-8")
    assert "| variant | hit@1 | hit@5 | mrr@10 | ndcg@10 |" in markdown
    assert "### hit@5 by kind" in markdown and "## Worst questions (hybrid)" in markdown
    assert "| b | followup | zh |" in markdown  # rank 3 in hybrid: among the worst


def test_registered_variant_and_followup_query(tmp_path: Path):
    class Fixed:
        name = "fixed"

        def __init__(self, context):
            pass

        def describe(self) -> str:
            return "always post 4"

        def search(self, query: str, k: int) -> Ranking:
            return Ranking(["4"], 0.1)

    register_variant("fixed", Fixed)
    try:
        options = EvalOptions(["fixed", "hybrid"], retrieval_only=True, progress=False)
        result = run_eval(Settings(cache_dir=tmp_path), QUESTIONS[:2], options, answerer=FakeAnswerer())
        assert "answer" not in result.records[0] and result.config["retrieval"] == "hybrid"
        assert [r["scores"]["fixed"]["hit@5"] for r in result.records] == [0.0, 0.0]
    finally:
        VARIANTS.pop("fixed")
    assert retrieval_query(object(), "那它呢？", ["RoPE是什么？"]) == "RoPE是什么？\n那它呢？"
    assert retrieval_query(object(), "RoPE是什么？", []) == "RoPE是什么？"


def test_cli_errors_are_one_line(tmp_path: Path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x"\n', encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(cli, ["eval", "--questions", str(bad), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1 and f"{bad}:1: not valid JSON" in result.output
    result = runner.invoke(cli, ["eval", "--questions", str(bad), "--variant", "nope", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "unknown variant 'nope'" in result.output
