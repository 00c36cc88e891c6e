"""Aggregate per-question records into ``report.json`` (the schema of /work/shared/EVAL.md, plus ``variants``).

Averages: retrieval metrics over answerable questions; key-point coverage, citation recall and false refusals
over answerable questions; refusal accuracy over unanswerable ones; citation precision over every question whose
answer cites at least one post (a citation on an unanswerable question is never relevant); language match over
all answered questions. Latency percentiles use linear interpolation.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from eval.metrics import agreement, mean, percentile
from eval.questions import KINDS
from eval.runner import EvalRun

RETRIEVAL_KEYS = ("hit@1", "hit@5", "mrr@10", "ndcg@10")


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def retrieval_summary(records: list[dict], variant: str) -> dict[str, float | None]:
    scored = [r["scores"][variant] for r in records if r["scores"].get(variant)]
    return {key: _round(mean(s[key] for s in scored)) for key in RETRIEVAL_KEYS}


def latency(values: list[float], stage: str) -> dict[str, float | None]:
    return {f"{stage}_p50": _round(percentile(values, 50), 1), f"{stage}_p95": _round(percentile(values, 95), 1)}


def answerable(records: list[dict]) -> int:
    return sum(r["answerable"] for r in records)


def answered(records: list[dict]) -> list[dict]:
    return [r for r in records if "answer" in r]


def answer_summary(records: list[dict]) -> dict[str, Any]:
    done = answered(records)
    yes = [r for r in done if r["answerable"]]
    no = [r for r in done if not r["answerable"]]
    return {
        "key_point_coverage": _round(mean(r["key_point_coverage"] for r in yes)),
        "citation_precision": _round(mean(r["citation_precision"] for r in done)),
        "citation_recall": _round(mean(r["citation_recall"] for r in yes)),
        "refusal_accuracy": _round(mean(float(r["refusal_correct"]) for r in no)),
        "false_refusals": sum(r["false_refusal"] for r in yes),
        "language_match": _round(mean(float(r["language_match"]) for r in done)),
    }


def group_summary(records: list[dict], variant: str, with_answers: bool) -> dict[str, Any]:
    """Counts, retrieval (when any question is answerable) and answer metrics for one group of questions."""
    out: dict[str, Any] = {"n": len(records), "answerable": answerable(records)}
    if out["answerable"]:
        out.update(retrieval_summary(records, variant))
    if with_answers and answered(records):
        out.update({k: v for k, v in answer_summary(records).items() if v is not None})
        if not out["answerable"]:
            out.pop("false_refusals", None)
        done = answered(records)
        out["latency_ms"] = {**latency([r["timings"].get("retrieve_ms", 0.0) for r in done], "retrieve"),
                             **latency([r["timings"].get("generate_ms", 0.0) for r in done], "answer")}
    else:
        out["latency_ms"] = latency([r["retrieve_ms"][variant] for r in records], "retrieve")
    return out


def groups(records: list[dict], field: str) -> dict[str, list[dict]]:
    order = {kind: i for i, kind in enumerate(KINDS)}
    found: dict[str, list[dict]] = {}
    for record in records:
        found.setdefault(record[field], []).append(record)
    return dict(sorted(found.items(), key=lambda item: (order.get(item[0], len(order)), item[0])))


def judge_agreement(records: list[dict]) -> dict[str, Any]:
    pairs = [(kp["judge"], kp["matcher"]) for r in answered(records) for kp in r.get("key_points", [])
             if kp["judge"] is not None]
    return {k: _round(v) if isinstance(v, float) else v for k, v in agreement(pairs).items()}


def refusal_rule(records: list[dict], variant: str) -> dict[str, int] | None:
    """What the app's refusal rule decides on this variant's retrievals (None when the variant has no rule)."""
    decided = [(r["answerable"], covered) for r in records
               if (covered := r.get("covered", {}).get(variant)) is not None]
    if not decided:
        return None
    return {"unanswerable_refused": sum(not a and not c for a, c in decided),
            "unanswerable": sum(not a for a, _ in decided),
            "answerable_refused": sum(a and not c for a, c in decided), "answerable": sum(a for a, _ in decided)}


def variant_summary(run: EvalRun, variant: str) -> dict[str, Any]:
    records = run.records
    out: dict[str, Any] = {"description": run.descriptions[variant], **retrieval_summary(records, variant),
                           **run.details.get(variant, {})}
    out["latency_ms"] = latency([r["retrieve_ms"][variant] for r in records], "retrieve")
    rule = refusal_rule(records, variant)
    if rule:
        out["refusal_rule"] = rule
    out["by_kind"] = {k: {"n": answerable(g), **retrieval_summary(g, variant)}
                      for k, g in groups(records, "kind").items() if answerable(g)}
    out["by_lang"] = {k: {"n": answerable(g), **retrieval_summary(g, variant)}
                      for k, g in groups(records, "lang").items() if answerable(g)}
    return out


def summarise(run: EvalRun) -> dict[str, Any]:
    """The report.json object; top-level fields are for the main (first) variant."""
    records, main = run.records, run.main
    with_answers = not run.options.retrieval_only
    report: dict[str, Any] = {"questions": len(records), "answerable": answerable(records),
                              "retrieval": retrieval_summary(records, main)}
    config = dict(run.config)
    done = answered(records)
    if with_answers:
        report["answers"] = {**answer_summary(records), "judge": run.judge}
        if run.options.judge:
            report["answers"]["judge_agreement_with_matcher"] = judge_agreement(records)
            report["answers"]["judge_failures"] = run.judge_failures
        report["answers"]["errors"] = sum("error" in r for r in records)
        if done:
            config["llm"] = Counter(r["llm"] for r in done).most_common(1)[0][0]
        report["latency_ms"] = {**latency([r["timings"].get("retrieve_ms", 0.0) for r in done], "retrieve"),
                                **latency([r["timings"].get("generate_ms", 0.0) for r in done], "answer"),
                                **latency([r["timings"].get("total_ms", 0.0) for r in done], "total")}
    else:
        report["latency_ms"] = latency([r["retrieve_ms"][main] for r in records], "retrieve")
    report["by_kind"] = {k: group_summary(g, main, with_answers) for k, g in groups(records, "kind").items()}
    report["by_lang"] = {k: group_summary(g, main, with_answers) for k, g in groups(records, "lang").items()}
    report["config"] = config
    report["variants"] = {name: variant_summary(run, name) for name in run.options.variants}
    report.update(run.analyses)
    report["run_seconds"] = run.seconds
    return report
