"""``kexue eval``: score retrieval (and answers) on question files; the logic lives in the ``eval`` package."""

from __future__ import annotations

from pathlib import Path

import click

from app.settings import Settings


@click.command("eval")
@click.option("--questions", "question_paths", multiple=True,
              type=click.Path(exists=True, path_type=Path),
              help="A question file (JSON Lines, see EVAL.md) or a directory of *.jsonl; repeatable.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Directory for report.json, report.md, questions.jsonl and the plots (or the judged report).")
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
@click.option("--export-judging", "export_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write blind judging batches here (../shared/JUDGING.md): from the --from-run runs, else from "
                   "this run's answers.")
@click.option("--from-run", "from_runs", multiple=True, metavar="NAME=DIR",
              help="An earlier run's --out directory, named; repeatable (with --export-judging: no new run).")
@click.option("--import-verdicts", "verdict_paths", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="Graders' verdict files (JSON Lines); repeatable; needs --judging and --out.")
@click.option("--judging", "judging_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="The --export-judging directory the verdicts answer (its key maps labels to runs).")
@click.pass_obj
def eval_command(settings: Settings, question_paths: tuple[Path, ...], out_dir: Path | None,
                 variants: tuple[str, ...], retrieval_only: bool, llm: str | None, judge: str | None, k: int,
                 limit: int | None, index_dir: Path | None, no_progress: bool, export_dir: Path | None,
                 from_runs: tuple[str, ...], verdict_paths: tuple[Path, ...], judging_dir: Path | None) -> None:
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

    if verdict_paths:
        _import_verdicts(judging_dir, verdict_paths, out_dir)
        return
    if export_dir and from_runs:
        _export_judging(export_dir, dict(_named_run(r) for r in from_runs), question_paths)
        return
    if not question_paths or not out_dir:
        raise click.UsageError("give --questions and --out (or --export-judging with --from-run, or "
                               "--import-verdicts with --judging and --out)")
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
    if export_dir:
        _export_judging(export_dir, {llm or settings.llm: out_dir}, question_paths)


def _named_run(text: str) -> tuple[str, Path]:
    name, sep, path = text.partition("=")
    if not sep or not name or not Path(path).is_dir():
        raise click.BadParameter(f"{text!r}: give NAME=DIR with DIR an eval --out directory", param_hint="--from-run")
    return name, Path(path)


def _export_judging(export_dir: Path, runs: dict[str, Path], question_paths: tuple[Path, ...]) -> None:
    """Blind batches of the runs' answers; key points come from the question files."""
    from eval.judging import JudgingError, export_batches
    from eval.questions import QuestionFileError, load_questions

    try:
        questions = {q.id: {"key_points": q.key_points} for q in load_questions(question_paths)} \
            if question_paths else {}
        paths = export_batches(runs, questions, export_dir)
    except (JudgingError, QuestionFileError) as exc:
        raise click.ClickException(str(exc)) from None
    if not questions:
        click.echo("(no --questions given: the batches carry no key points)", err=True)
    click.echo(f"{len(paths)} batches of {', '.join(runs)} in {export_dir} (key.json maps labels to runs: keep it "
               "from the graders)")


def _import_verdicts(judging_dir: Path | None, verdict_paths: tuple[Path, ...], out_dir: Path | None) -> None:
    import json

    from eval.judging import JudgingError, import_verdicts, report_markdown

    if judging_dir is None or out_dir is None:
        raise click.UsageError("--import-verdicts needs --judging DIR (the exported batches) and --out DIR")
    try:
        report = import_verdicts(judging_dir, list(verdict_paths))
    except JudgingError as exc:
        raise click.ClickException(str(exc)) from None
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (out_dir / "report.md").write_text(report_markdown(report), encoding="utf-8")
    click.echo(report_markdown(report).split("\n\n## ")[0])
