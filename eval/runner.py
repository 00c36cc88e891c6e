"""Run an evaluation: every question through every retrieval variant, and (unless retrieval-only) the Answerer."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from tqdm import tqdm

from app.settings import Settings
from eval.answer_eval import ask, score_answer
from eval.judge import LLMJudge, MatcherJudge, load_judge
from eval.metrics import retrieval_scores
from eval.questions import Question
from eval.variants import RETRIEVER_MODES, EvalContext, make_variant, retrieval_query

WARM_UP = "warm-up query 预热"


@dataclass
class EvalOptions:
    variants: list[str] = field(default_factory=lambda: ["hybrid"])
    k: int = 10
    retrieval_only: bool = False
    llm: str | None = None
    judge: str | None = None
    progress: bool = True


@dataclass
class EvalRun:
    """Everything the report writers need."""

    questions: list[Question]
    records: list[dict[str, Any]]
    options: EvalOptions
    descriptions: dict[str, str]
    config: dict[str, Any]
    judge: str | None
    judge_failures: int
    seconds: dict[str, float]
    titles: dict[str, str] = field(default_factory=dict)  # post id -> title, for every post of the index
    details: dict[str, dict[str, Any]] = field(default_factory=dict)  # variant -> dimension, bytes of vectors, …
    analyses: dict[str, Any] = field(default_factory=dict)  # results of the variants' whole-run analyses

    @property
    def main(self) -> str:
        return self.options.variants[0]


def base_record(question: Question) -> dict[str, Any]:
    return {"id": question.id, "question": question.question, "lang": question.lang, "kind": question.kind,
            "answerable": question.answerable, "relevant": question.relevant, "history": question.history,
            "source": question.source, "retrieved": {}, "retrieve_ms": {}, "scores": {}, "covered": {}}


def rotated(variants: dict[str, Any], turn: int) -> list[tuple[str, Any]]:
    """The variants in an order that starts one further along each question, so none always pays for running
    first on a new query (cold caches) in the latency figures."""
    items = list(variants.items())
    start = turn % len(items) if items else 0
    return items[start:] + items[:start]


def _config(context: EvalContext, options: EvalOptions, mode: str) -> dict[str, Any]:
    manifest = context.manifest
    return {"embedder": manifest["embedder"]["name"], "whiten": manifest.get("whitening"), "retrieval": mode,
            "llm": None if options.retrieval_only else (options.llm or context.settings.llm), "k": options.k,
            "variants": list(options.variants), "index": str(context.answerer.retriever.index_dir),
            "index_posts": manifest["stats"]["posts"], "index_chunks": manifest["stats"]["chunks"]}


def run_eval(settings: Settings, questions: list[Question], options: EvalOptions, answerer: Any = None) -> EvalRun:
    """Evaluate ``questions``; the first variant is the main one (and the Answerer's mode when it is a mode)."""
    started = time.perf_counter()
    context = EvalContext(settings, options.progress, answerer)
    variants = {name: make_variant(name, context) for name in options.variants}
    for variant in variants.values():
        variant.search(WARM_UP, options.k)  # untimed: first-call costs (tokenizer, caches) are not latency
    mode = options.variants[0] if options.variants[0] in RETRIEVER_MODES else "hybrid"
    judge: MatcherJudge | LLMJudge | None = None
    matcher = MatcherJudge()
    if not options.retrieval_only:
        judge = load_judge(settings, options.judge) if options.judge else matcher
    setup_s = time.perf_counter() - started
    records = []
    for question in tqdm(questions, desc="eval", unit="q", disable=not options.progress):
        record = base_record(question)
        query = None
        if judge is not None:
            try:
                answer = ask(context.answerer, question, options.llm, mode)
            except Exception as exc:  # one failing question must not end the run; it is reported
                record["error"] = f"{type(exc).__name__}: {exc}"
            else:
                record.update(score_answer(question, answer, judge, matcher))
                query = answer.extra.get("standalone_question") if question.history else None
        query = query or retrieval_query(context.answerer, question.question, question.history)
        record["query"] = query
        for name, variant in rotated(variants, len(records)):
            ranking = variant.search(query, options.k)
            record["retrieved"][name] = ranking.post_ids
            record["retrieve_ms"][name] = round(ranking.ms, 2)
            record["covered"][name] = ranking.covered
            record["scores"][name] = retrieval_scores(ranking.post_ids, question.relevant) \
                if question.answerable else None
        records.append(record)
    analyses = {key: analyse(records) for key, analyse in context.analyses.items()}
    return EvalRun(questions, records, options, {name: v.describe() for name, v in variants.items()},
                   _config(context, options, mode), None if judge is None else judge.name,
                   getattr(judge, "failures", 0),
                   {"setup": round(setup_s, 1), "total": round(time.perf_counter() - started, 1)},
                   {pid: meta.get("title", "") for pid, meta in context.manifest["posts"].items()},
                   {name: v.details() for name, v in variants.items() if hasattr(v, "details")}, analyses)
