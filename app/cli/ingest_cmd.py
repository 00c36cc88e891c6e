"""``kexue ingest``: build or update the index from files, directories or the live site."""

from __future__ import annotations

import json
from pathlib import Path

import click

from app.cli.index_cmd import index_info, print_info
from app.index_store import IndexError_
from app.settings import Settings
from app.whitening import WhiteningError, describe


def report_dict(report) -> dict:
    """The run report as plain JSON-able data."""
    return {
        "index": str(report.index_dir), "sources": report.sources, "files": report.files,
        "posts_by_source": dict(report.posts_by_source), "posts_by_format": dict(report.posts_by_format),
        "added": len(report.added), "changed": len(report.changed), "deleted": len(report.deleted),
        "unchanged": len(report.unchanged), "rebuild_reason": report.rebuild_reason, "wrote": report.wrote,
        "chunks": report.chunks, "chunks_embedded": report.chunks_embedded, "chunks_resumed": report.chunks_resumed,
        "tokens_embedded": report.tokens_embedded, "chunks_segmented": report.chunks_segmented,
        "retokenize_reason": report.retokenize_reason, "whitening": report.whitening,
        "whitening_reason": report.whitening_reason, "timings_s": report.timings, "seconds": report.seconds,
        "skipped": [{"file": f, "reason": r} for f, r in report.skipped],
    }


def _print_report(report) -> None:
    click.echo(f"files      {report.files} read, {len(report.skipped)} skipped")
    click.echo("posts      " + ", ".join(f"{k}: {v}" for k, v in sorted(report.posts_by_source.items()))
               + "  |  " + ", ".join(f"{k}: {v}" for k, v in sorted(report.posts_by_format.items())))
    if report.rebuild_reason:
        click.echo(f"full build: {report.rebuild_reason}")
    click.echo(f"changes    {len(report.added)} new, {len(report.changed)} changed, "
               f"{len(report.deleted)} deleted, {len(report.unchanged)} unchanged")
    if report.wrote:
        rate = report.chunks_embedded / report.timings["embed"] if report.timings.get("embed") else 0
        click.echo(f"chunks     {report.chunks} in the index, {report.chunks_embedded} embedded "
                   f"({report.tokens_embedded} tokens, {rate:.1f} chunks/s), "
                   f"{report.chunks - report.chunks_embedded} vectors reused")
        why = f"; {report.retokenize_reason}" if report.retokenize_reason else ""
        click.echo(f"bm25       {report.chunks_segmented} chunks segmented, {report.chunks - report.chunks_segmented} "
                   f"reused ({report.timings.get('bm25', 0):.1f}s){why}")
        if report.chunks_resumed:
            click.echo(f"resumed    {report.chunks_resumed} chunks reused from the checkpoints of an unfinished "
                       "earlier ingest")
    else:
        click.echo(f"index is up to date ({report.chunks} chunks); nothing written")
    _print_whitening(report)
    for path, reason in report.skipped:
        click.echo(f"skipped    {path}: {reason}")
    phases = ", ".join(f"{k} {v:.1f}s" for k, v in report.timings.items())
    click.echo(f"time       {report.seconds:.1f}s ({phases})")


def _print_whitening(report) -> None:
    """What the version's vectors went through, and how far the corpus has drifted from the fit."""
    entry = report.whitening
    how = f" ({report.whitening_reason})" if report.whitening_reason else ""
    if not entry:
        click.echo(f"whitening  none{how}")
        return
    drift = entry.get("drift", {})
    state = f"new fit, {report.whitening_reason}" if report.whitening_reason else (
        f"reused; {drift.get('new_share', 0):.1%} of the chunks embedded since the fit, "
        f"second-moment distance {drift.get('second_moment_distance', 0):.3f}")
    click.echo(f"whitening  {describe(entry)}: {state}")
    if drift.get("refit_advised"):
        click.echo("whitening  the corpus has drifted far from the fit: run `kexue ingest --refit-whitening`")


def _whiten_value(ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
    if value is None:
        return None
    if value.strip().lower() in ("none", "0"):
        return 0
    try:
        k = int(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is neither 'none' nor a number of dimensions") from None
    if k < 1:
        raise click.BadParameter(f"{k} dimensions: use 'none' or a positive number")
    return k


@click.command()
@click.argument("sources", nargs=-1)
@click.option("--index", "index_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Index directory (default: setting index_dir / KEXUE_INDEX).")
@click.option("--full", is_flag=True, help="Re-embed everything instead of only new or changed posts.")
@click.option("--index-kind", type=click.Choice(["flat", "hnsw"]),
              help="FAISS index: exact inner product (flat, default) or HNSW for large corpora.")
@click.option("--whiten", "whiten", callback=_whiten_value, metavar="none|K",
              help="BERT-whitening: fit on the passage vectors and keep K dimensions, or 'none' for raw vectors "
                   "(default: the index's current choice, else setting whiten).")
@click.option("--whiten-beta", type=float, help="Exponent β of Λ^(−β/2) (1: full whitening, 0: no scaling).")
@click.option("--whiten-gamma", type=float, help="Share γ of the mean subtracted (1: centre, 0: do not).")
@click.option("--refit-whitening", is_flag=True,
              help="Fit the whitening again on the current vectors (no re-embedding).")
@click.option("--stats", is_flag=True, help="Only show what the current index holds, then exit.")
@click.option("--json", "as_json", is_flag=True, help="Print the run report (or, with --stats, the index) as JSON.")
@click.option("--no-progress", is_flag=True, help="No progress bars.")
@click.pass_obj
def ingest(settings: Settings, sources: tuple[str, ...], index_dir: Path | None, full: bool,
           index_kind: str | None, whiten: int | None, whiten_beta: float | None, whiten_gamma: float | None,
           refit_whitening: bool, stats: bool, as_json: bool, no_progress: bool) -> None:
    """Index SOURCES: directories or files of posts (Markdown with front matter, scraped pages, listing
    excerpts, saved HTML pages; the format is detected per file) or a site URL such as https://kexue.fm,
    which is crawled politely (robots.txt, 1 request/s, cached, resumable).

    Without SOURCES the configured corpus is used (setting `corpus`, KEXUE_CORPUS). A re-run embeds only
    new or changed posts and drops posts no longer in SOURCES; a new version is written beside the old one
    and swapped in atomically, so an interrupted run leaves the previous index usable. Raw embeddings are
    kept, so changing --whiten, --whiten-beta or --whiten-gamma re-embeds nothing.
    """
    settings = settings.replace(index_dir=index_dir, index_kind=index_kind, whiten=whiten, whiten_beta=whiten_beta,
                                whiten_gamma=whiten_gamma)
    if stats:
        try:
            print_info(index_info(settings.index_dir), as_json)
        except IndexError_ as exc:
            raise click.ClickException(str(exc)) from None
        return
    if not sources:
        sources = tuple(str(p) for p in settings.corpus)
        if not sources:
            raise click.ClickException("no SOURCES given and no default corpus found: pass directories or set "
                                       "`corpus` in the config file or KEXUE_CORPUS")
    from ingest.lock import IndexLocked
    from ingest.pipeline import NothingIngested
    from ingest.pipeline import ingest as run_ingest

    try:
        report = run_ingest(settings, sources, full=full, refit_whitening=refit_whitening,
                            progress=not no_progress)
    except NothingIngested as exc:
        for path, reason in exc.report.skipped:
            click.echo(f"skipped    {path}: {reason}")
        raise click.ClickException(str(exc)) from None
    except (IndexLocked, IndexError_, WhiteningError) as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(report_dict(report), ensure_ascii=False, indent=2))
    else:
        _print_report(report)
