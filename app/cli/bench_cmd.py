"""``kexue bench``: performance benchmarks (figures for BENCH.md; never assertions in tests)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import click

from app.index_store import current_version, dir_size
from app.settings import Settings


def run_measured(args: list[str], env: dict[str, str]) -> tuple[dict, float, float]:
    """Run ``kexue ARGS --json`` in a child process: (its JSON output, wall seconds, peak RSS in MB)."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "app", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise click.ClickException(f"`kexue {' '.join(args)}` failed (exit {os.waitstatus_to_exitcode(status)})")
    return json.loads(out), wall, usage.ru_maxrss / 1024


def machine() -> str:
    from app.machine import summary

    return summary()


@click.group()
def bench() -> None:
    """Measure speed and memory; record the figures in BENCH.md."""


@bench.command("ingest")
@click.argument("sources", nargs=-1)
@click.option("--keep", type=click.Path(file_okay=False, path_type=Path),
              help="Build the benchmark index here and keep it (default: a temporary directory).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_obj
def bench_ingest(settings: Settings, sources: tuple[str, ...], keep: Path | None, as_json: bool) -> None:
    """Full ingest of SOURCES (default: the configured corpus) into a fresh index, then a no-op re-ingest.

    Reports posts/s, chunks/s, tokens/s, peak RSS and index size, and the no-op re-ingest time, each run
    as a separate `kexue ingest` process so start-up and model loading are counted.
    """
    sources = sources or tuple(str(p) for p in settings.corpus)
    workdir = keep or Path(tempfile.mkdtemp(prefix="kexue-bench-"))
    if keep and keep.exists():
        shutil.rmtree(keep)
    env = {**os.environ, "KEXUE_INDEX": str(workdir), "KEXUE_CACHE_DIR": str(settings.cache_dir)}
    try:
        full, full_s, full_rss = run_measured(["ingest", "--no-progress", "--json", *sources], env)
        noop, noop_s, noop_rss = run_measured(["ingest", "--no-progress", "--json", *sources], env)
        size = dir_size(current_version(workdir))
    finally:
        if keep is None:
            shutil.rmtree(workdir, ignore_errors=True)
    embed_s = full["timings_s"].get("embed", 0.0)
    result = {
        "date": date.today().isoformat(), "machine": machine(), "sources": list(sources),
        "posts": sum(full["posts_by_source"].values()), "chunks": full["chunks"], "tokens": full["tokens_embedded"],
        "full_ingest_s": round(full_s, 1), "phases_s": {k: round(v, 1) for k, v in full["timings_s"].items()},
        "posts_per_s": round(sum(full["posts_by_source"].values()) / full_s, 2),
        "chunks_per_s": round(full["chunks"] / full_s, 2),
        "embed_tokens_per_s": round(full["tokens_embedded"] / embed_s, 1) if embed_s else None,
        "peak_rss_mb": round(full_rss), "index_size_mb": round(size / 1e6, 1),
        "noop_reingest_s": round(noop_s, 1), "noop_wrote": noop["wrote"], "noop_peak_rss_mb": round(noop_rss),
        "skipped_files": len(full["skipped"]),
    }
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    for key, value in result.items():
        click.echo(f"{key:<20} {value}")


def _percentiles(values: list[float]) -> dict[str, float]:
    import numpy as np

    return {"p50": round(float(np.percentile(values, 50)), 1), "p95": round(float(np.percentile(values, 95)), 1)}


@bench.command("query")
@click.option("--questions", "questions_file", type=click.Path(dir_okay=False, path_type=Path),
              default=Path(__file__).resolve().parents[2] / "eval" / "questions" / "kexue.jsonl",
              show_default=True, help="Question file (EVAL.md format) whose questions are the queries.")
@click.option("--retrieval-queries", default=100, show_default=True, help="Queries timed per retrieval mode.")
@click.option("--answers", default=5, show_default=True, help="Questions answered with the LLM (0: none).")
@click.option("--llm", type=click.Choice(["local", "openai"]), default="local", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_obj
def bench_query(settings: Settings, questions_file: Path, retrieval_queries: int, answers: int, llm: str,
                as_json: bool) -> None:
    """Retrieval latency p50/p95 for dense, BM25 and fused search; time to first token and total answer
    time with the LLM; peak RSS of this process."""
    import resource

    from app.answering import Answerer

    rows = [json.loads(line) for line in questions_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    questions = [row["question"] for row in rows]
    answerer = Answerer(settings)
    result: dict = {"date": date.today().isoformat(), "machine": machine(), "index_chunks":
                    answerer.retriever.index.faiss.ntotal, "retrieval_ms": {}}
    for mode in ("dense", "bm25", "hybrid"):
        answerer.retriever.retrieve(questions[0], settings.top_k, mode=mode)
        times = [answerer.retriever.retrieve(q, settings.top_k, mode=mode).ms
                 for q in questions[:retrieval_queries]]
        result["retrieval_ms"][mode] = _percentiles(times)
    english = [row["question"] for row in rows
               if row.get("lang") == "en" and not row.get("history") and row.get("answerable", True)]
    if answers and english and settings.translate_english:
        result["english_extractive"] = _bench_translation(answerer, english[:answers])
    if answers:
        result["answer"] = _bench_answers(answerer, questions[:answers], llm, settings.answer_style)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    for key, value in result.items():
        click.echo(f"{key:<16} {value}")


def _answered(answerer, questions: list[str], llm: str) -> list:
    """The answers to ``questions`` that are not refusals."""
    return [answer for answer in (answerer.answer(q, llm=llm) for q in questions) if not answer.refused]


def _timing(answers: list, key: str) -> dict:
    """Percentiles of one timing over the answers that have it (zeros when none has)."""
    return _percentiles([a.timings[key] for a in answers if key in a.timings] or [0])


def _bench_translation(answerer, questions: list[str]) -> dict:
    """English questions answered extractively: sources from the English search, the local model's translation,
    the answer after the second (Chinese) search."""
    answerer.backend("local")  # load the model and read its system prompt first (no translation is cached)
    answers = _answered(answerer, questions, "extractive")
    return {"questions": len(answers), "sources_ms": _timing(answers, "sources_ms"),
            "translate_ms": _timing(answers, "translate_ms"), "total_ms": _percentiles([a.timings["total_ms"]
                                                                                       for a in answers])}


def _bench_answers(answerer, questions: list[str], llm: str, style: str) -> dict:
    """Time to sources, to the model's first token and to the whole answer, with the model's measured prompt
    reading and writing rates on this machine."""
    answers = _answered(answerer, questions, llm)
    for answer in answers:
        if answer.llm != llm:
            raise click.ClickException(f"the {llm} model did not answer: {answer.notice}")
    if not answers:
        raise click.ClickException("every benchmark question was refused")
    read = [a.timings for a in answers if a.timings.get("read_tokens_per_s")]
    written = [a.timings["write_tokens_per_s"] for a in answers if a.timings.get("write_tokens_per_s")]
    return {"llm": llm, "style": style, "questions": len(answers), "sources_ms": _timing(answers, "sources_ms"),
            "first_token_ms": _timing(answers, "first_token_ms"),
            "total_ms": _percentiles([a.timings["total_ms"] for a in answers]),
            "prompt_tokens": _percentiles([t["prompt_tokens"] for t in read] or [0]),
            "read_tokens_per_s": _percentiles([t["read_tokens_per_s"] for t in read] or [0]),
            "write_tokens_per_s": _percentiles(written or [0]),
            "answer_chars_mean": round(sum(len(a.answer) for a in answers) / len(answers)),
            **({"translate_ms": _timing(answers, "translate_ms")}  # English questions, before reading
               if any("translate_ms" in a.timings for a in answers) else {})}
