"""``kexue eval``: score retrieval (and answers) on question files; the logic lives in the ``eval`` package."""

from __future__ import annotations

from pathlib import Path

import click

from app.settings import Settings


@click.command("eval")
@click.option("--questions", "question_paths", multiple=True, required=True,
              type=click.Path(exists=True, path_type=Path),
              help="A question file (JSON Lines, see EVAL.md) or a directory of *.jsonl; repeatable.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Directory for report.json, report.md, questions.jsonl and the plots.")
@click.option("--variant", "variants", multiple=True,
              help="Retrieval variant: hybrid, dense, bm25, llamaindex-baseline, or a whitening setting rebuilt "
                   "from the cached raw vectors: dense|hybrid-raw384, dense|hybrid-w<K>-b<BETA>-g<GAMMA> (e.g. "
                   "hybrid-w256-b0.5-g1); repeatable, the first is the main one (default: hybrid).")
@click.option("--retrieval-only", is_flag=True, help="Score retrieval only; do not generate answers.")
@click.option("--llm", type=click.Choice(["local", "openai", "extractive"]),
              help="Answer backend (default: the setting llm).")
@click.option("--judge", type=click.Choice(["openai", "local"]),
              help="LLM judge for key points (default: the n-gram matcher).")
@click.option("--k", "k", type=click.IntRange(1, 100), default=10, show_default=True,
              help="Posts retrieved per variant (answers use the setting top_k).")
@click.option("--limit", type=click.IntRange(1), help="Only the first N questions.")
@click.option("--index", "index_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Index directory (default: setting index_dir / KEXUE_INDEX).")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@click.pass_obj
def eval_command(settings: Settings, question_paths: tuple[Path, ...], out_dir: Path, variants: tuple[str, ...],
                 retrieval_only: bool, llm: str | None, judge: str | None, k: int, limit: int | None,
                 index_dir: Path | None, no_progress: bool) -> None:
    """Evaluate the chatbot on question files and write readable reports to --out.

    Example: kexue eval --questions eval/questions --retrieval-only --variant hybrid --variant dense
    --variant bm25 --variant llamaindex-baseline --out /tmp/eval-run
    """
    from app.answering.llm.base import LLMUnavailable
    from app.index_store import IndexError_
    from app.models.errors import ModelError
    from eval.output import write_outputs
    from eval.questions import QuestionFileError, load_questions
    from eval.runner import EvalOptions, run_eval
    from eval.variants import VARIANTS

    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise click.BadParameter(f"unknown variant {unknown[0]!r}; known: {', '.join(VARIANTS)}",
                                 param_hint="--variant")
    settings = settings.replace(index_dir=index_dir)
    try:
        questions = load_questions(question_paths)
    except QuestionFileError as exc:
        raise click.ClickException(str(exc)) from None
    questions = questions[:limit] if limit else questions
    options = EvalOptions(list(dict.fromkeys(variants)) or ["hybrid"], k, retrieval_only, llm, judge,
                          not no_progress)
    try:
        run = run_eval(settings, questions, options)
    except KeyError as exc:
        raise click.BadParameter(f"cannot build variant: {exc.args[0] if exc.args else exc}",
                                 param_hint="--variant") from None
    except (IndexError_, ModelError, LLMUnavailable, FileNotFoundError) as exc:
        raise click.ClickException(str(exc)) from None
    report = write_outputs(run, out_dir)
    click.echo(f"{report['questions']} questions, {run.seconds['total']:.0f} s; wrote {out_dir}/report.md")
    for name, v in report["variants"].items():
        click.echo(f"  {name:<20} hit@1 {v['hit@1']:.3f}  hit@5 {v['hit@5']:.3f}  mrr@10 {v['mrr@10']:.3f}  "
                   f"ndcg@10 {v['ndcg@10']:.3f}  p50 {v['latency_ms']['retrieve_p50']:.0f} ms")
    if "answers" in report:
        a = report["answers"]
        click.echo("  answers: " + ", ".join(f"{key} {a[key]}" for key in ("key_point_coverage", "citation_precision",
                   "citation_recall", "refusal_accuracy", "false_refusals", "language_match")))
