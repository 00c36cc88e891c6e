"""``kexue ask`` / ``ask``: answer one question from the index, with citations."""

from __future__ import annotations

import json
from pathlib import Path

import click

from app.settings import Settings


@click.command()
@click.argument("question")
@click.option("--index", "index_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Index directory (default: setting index_dir / KEXUE_INDEX).")
@click.option("--k", "top_k", type=click.IntRange(1, 50), help="How many passages to retrieve (default 5).")
@click.option("--llm", type=click.Choice(["local", "openai", "extractive"]),
              help="Answer backend: the packaged local model (default), an OpenAI-compatible server, or no LLM.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (question, answer, citations, ...).")
@click.option("--no-stream", is_flag=True, help="Print the answer when it is complete instead of as it comes.")
@click.option("--show-sources", is_flag=True, help="Also list every retrieved passage with its score.")
@click.pass_obj
def ask(settings: Settings, question: str, index_dir: Path | None, top_k: int | None, llm: str | None,
        as_json: bool,
        no_stream: bool, show_sources: bool) -> None:
    """Answer QUESTION from the blog, citing posts by title and date, e.g. ask "SimSiam为什么不退化"."""
    from app.answering import Answer, Answerer, QuestionError
    from app.answering.answerer import check_question
    from app.answering.render import sources_block
    from app.index_store import IndexError_
    from app.models.errors import ModelError

    settings = settings.replace(index_dir=index_dir, top_k=top_k)
    try:
        check_question(question)
        answerer = Answerer(settings)
        stream = answerer.stream(question, llm=llm)
        result = None
        for piece in stream:
            if isinstance(piece, Answer):
                result = piece
            elif not (as_json or no_stream):
                click.echo(piece, nl=False)
    except (QuestionError, IndexError_, ModelError) as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        if result.notice:
            click.echo(f"({result.notice})", err=True)
        click.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
        return
    if no_stream:
        click.echo(result.answer, nl=False)
    click.echo("")
    if result.notice:
        click.echo(f"({result.notice})", err=True)
    click.echo("\n" + sources_block(result, show_sources))
