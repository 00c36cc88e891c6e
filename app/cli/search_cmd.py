"""``kexue search``: posts ranked by the hybrid retrieval, with filters and highlighted passages."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click

from app.cli.loading import index_errors
from app.settings import Settings

_BOLD = re.compile(r"\*\*(.+?)\*\*")


@click.command()
@click.argument("query")
@click.option("--k", "k", type=click.IntRange(1, 50), default=10, show_default=True, help="How many posts to list.")
@click.option("--after", help="Only posts published on or after this date (YYYY-MM-DD).")
@click.option("--before", help="Only posts published on or before this date (YYYY-MM-DD).")
@click.option("--category", help="Only posts of this category (e.g. 信息时代; see the posts' category).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of hits.")
@click.option("--index", "index_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Index directory (default: setting index_dir / KEXUE_INDEX).")
@click.pass_obj
def search(settings: Settings, query: str, k: int, after: str | None, before: str | None, category: str | None,
           as_json: bool, index_dir: Path | None) -> None:
    """Search the blog for QUERY, e.g. kexue search "SimSiam" --after 2020-01-01."""
    from app.answering.retriever import Retriever
    from app.search import SearchError, check_date, search_posts

    try:
        check_date("after", after)
        check_date("before", before)
        with index_errors():
            retriever = Retriever(settings.replace(index_dir=index_dir))
        hits = search_posts(retriever, query, k=k, after=after, before=before, category=category)
    except SearchError as exc:
        raise click.UsageError(str(exc)) from None
    if as_json:
        click.echo(json.dumps([hit.to_json() for hit in hits], ensure_ascii=False, indent=2))
        return
    if not hits:
        click.echo("no posts found", err=True)
    for hit in hits:
        category_text = f" · {hit.category}" if hit.category else ""
        click.echo(click.style(f"{hit.rank}. 《{hit.title}》", bold=True) + f" {hit.date}{category_text}")
        click.echo(f"   {hit.url}")
        click.echo("   " + _BOLD.sub(lambda m: click.style(m.group(1), bold=True, fg="yellow"), hit.snippet) + "\n")
