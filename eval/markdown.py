"""``report.md``: the tables a person reads (variants x metrics, by kind, by language, the worst questions)."""

from __future__ import annotations

from typing import Any

from eval.metrics import first_rank
from eval.report import RETRIEVAL_KEYS
from eval.runner import EvalRun

ANSWER_KEYS = ("key_point_coverage", "citation_precision", "citation_recall", "refusal_accuracy", "false_refusals",
               "language_match")
WORST = 20


def fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}" if value <= 1 else f"{value:.1f}"
    return str(value)


def ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(fmt(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def short(text: str, limit: int = 48) -> str:
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def variants_table(report: dict) -> str:
    rows = [[name, *(v[k] for k in RETRIEVAL_KEYS), ms(v["latency_ms"]["retrieve_p50"]),
             ms(v["latency_ms"]["retrieve_p95"])]
            for name, v in report["variants"].items()]
    return table(["variant", *RETRIEVAL_KEYS, "retrieve p50 ms", "retrieve p95 ms"], rows)


def breakdown_table(report: dict, field: str, metric: str) -> str:
    """Rows: kinds (or languages); columns: the metric of each variant."""
    names = list(report["variants"])
    keys = list(dict.fromkeys(k for v in report["variants"].values() for k in v[field]))
    rows = [[key, report["variants"][names[0]][field][key]["n"],
             *(report["variants"][n][field].get(key, {}).get(metric) for n in names)] for key in keys]
    return table([field.removeprefix("by_"), "answerable", *names], rows)


def answers_section(report: dict) -> list[str]:
    answers = report["answers"]
    out = ["## Answers", "", f"LLM: `{report['config']['llm']}` · key points judged by: {answers['judge']}", "",
           table(list(ANSWER_KEYS), [[answers.get(k) for k in ANSWER_KEYS]])]
    if "judge_agreement_with_matcher" in answers:
        a = answers["judge_agreement_with_matcher"]
        out += ["", f"Judge vs matcher on {a['n']} key points: agreement {fmt(a['agreement'])}, "
                    f"Cohen's kappa {fmt(a['kappa'])}; judge replies unreadable: {answers['judge_failures']}."]
    lat = report["latency_ms"]
    out += ["", "Latency (ms): " + ", ".join(f"{k} {ms(v)}" for k, v in lat.items())]
    for field in ("by_kind", "by_lang"):
        groups = report[field]
        rows = [[key, g["n"], *(g.get(k) for k in ANSWER_KEYS), ms(g["latency_ms"].get("answer_p50")),
                 ms(g["latency_ms"].get("answer_p95"))] for key, g in groups.items()]
        out += ["", table([field.removeprefix("by_"), "n", *ANSWER_KEYS, "answer p50 ms", "answer p95 ms"], rows)]
    return out


def worst_questions(run: EvalRun) -> str:
    """Answerable questions whose main variant ranks no relevant post first, worst first (nDCG, then misses)."""
    names = run.options.variants
    scored = [r for r in run.records if r["answerable"]]
    scored.sort(key=lambda r: (r["scores"][run.main]["ndcg@10"],
                               -sum(r["scores"][n]["hit@5"] == 0 for n in names), r["id"]))
    rows = []
    for r in scored[:WORST]:
        if r["scores"][run.main]["hit@1"]:
            break
        relevant = ", ".join(f"{p} 《{short(run.titles[p], 20)}》" if p in run.titles else f"{p} (not in index)"
                             for p in r["relevant"])
        ranks = [first_rank(r["retrieved"][n], r["relevant"]) or "miss" for n in names]
        top = r["retrieved"][run.main][:1]
        got = f"{top[0]} 《{short(run.titles.get(top[0], ''), 20)}》" if top else "–"
        rows.append([r["id"], r["kind"], r["lang"], short(r["question"], 40), relevant, *ranks, got])
    if not rows:
        return "Every answerable question has a relevant post at rank 1 in the main variant."
    header = ["id", "kind", "lang", "question", "relevant", *(f"rank ({n})" for n in names), f"top 1 ({run.main})"]
    return table(header, rows)


def lowest_coverage(run: EvalRun) -> str:
    done = [r for r in run.records if r.get("key_point_coverage") is not None]
    done.sort(key=lambda r: (r["key_point_coverage"], r["id"]))
    rows = [[r["id"], r["kind"], short(r["question"], 40), r["key_point_coverage"],
             ", ".join(c["post_id"] for c in r["citations"]) or "–", short(r["answer"], 60)] for r in done[:WORST]]
    return table(["id", "kind", "question", "coverage", "cited", "answer"], rows)


def render(run: EvalRun, report: dict, plots: list[str]) -> str:
    config = report["config"]
    out = ["# Evaluation report", "",
           f"{report['questions']} questions ({report['answerable']} answerable) · index `{config['index']}` "
           f"({config['index_posts']} posts, {config['index_chunks']} chunks) · embedder {config['embedder']} · "
           f"k={config['k']} · run took {run.seconds['total']:.0f} s (setup {run.seconds['setup']:.0f} s)", "",
           "## Retrieval (answerable questions, counted by post)", "", variants_table(report), ""]
    out += [f"- **{n}**: {d}" for n, d in run.descriptions.items()]
    out += ["", "### hit@5 by kind", "", breakdown_table(report, "by_kind", "hit@5"),
            "", "### MRR@10 by kind", "", breakdown_table(report, "by_kind", "mrr@10"),
            "", "### hit@5 by language", "", breakdown_table(report, "by_lang", "hit@5"),
            "", "### MRR@10 by language", "", breakdown_table(report, "by_lang", "mrr@10"), ""]
    if "answers" in report:
        out += answers_section(report) + ["", "### Lowest key-point coverage", "", lowest_coverage(run), ""]
    out += [f"## Worst questions ({run.main})", "", "Rank of the first relevant post in each variant's top "
            f"{config['k']} (miss = not retrieved).", "", worst_questions(run), ""]
    if plots:
        out += ["## Plots", ""] + [f"![{p}]({p})" for p in plots] + [""]
    out += ["## Definitions", "",
            "hit@k: a relevant post among the first k posts. MRR@10: mean of 1/rank of the first relevant post "
            "(0 beyond 10). nDCG@10 (binary relevance): sum over ranks i<=10 of rel_i/log2(i+1), divided by the "
            "same sum for an ideal ranking (min(|relevant|,10) relevant posts first). Citation precision: cited "
            "relevant posts / cited posts; recall: relevant posts cited / relevant posts. Refusal accuracy: "
            "unanswerable questions the answer declines; false refusals: answerable questions declined.", ""]
    return "\n".join(out)
