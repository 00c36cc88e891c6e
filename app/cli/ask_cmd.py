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
@click.option("--raw-math", is_flag=True, help="Print formulas as the LaTeX they are written in, not as Unicode text.")
@click.pass_obj
def ask(settings: Settings, question: str, index_dir: Path | None, top_k: int | None, llm: str | None,
        as_json: bool, no_stream: bool, show_sources: bool, raw_math: bool) -> None:
    """Answer QUESTION from the blog, citing posts by title and date, e.g. ask "SimSiam为什么不退化"."""
    from app.answering import Answer, Answerer, Evidence, QuestionError
    from app.answering.answerer import check_question
    from app.answering.language import detect_language
    from app.answering.render import sources_block, support_notice
    from app.index_store import IndexError_
    from app.models.errors import ModelError
    from plugins import apply_transforms

    settings = settings.replace(index_dir=index_dir, top_k=top_k)

    def for_terminal(text: str, kind: str) -> str:
        return text if raw_math else apply_transforms(text, "cli", kind, settings)

    echo = _LineEcho(lambda text: for_terminal(text, "answer"), buffered=not raw_math)
    try:
        check_question(question)
        answerer = Answerer(settings)
        stream = answerer.stream(question, llm=llm)
        result = None
        for piece in stream:
            if isinstance(piece, Answer):
                result = piece
            elif isinstance(piece, Evidence):
                if not as_json:
                    _show_evidence(piece, detect_language(question), for_terminal)
            elif not (as_json or no_stream):
                echo.feed(piece)
        echo.finish()
    except (QuestionError, IndexError_, ModelError) as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        if result.notice:
            click.echo(f"({result.notice})", err=True)
        click.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
        return
    if no_stream:
        click.echo(for_terminal(result.answer, "answer"), nl=False)
    click.echo("")
    if result.notice:
        click.echo(f"({result.notice})", err=True)
    if support_notice(result):
        click.echo(support_notice(result) + (":" if not no_stream else ""), err=True)
        if not no_stream:
            for sentence in result.extra["sentences"]:
                if not sentence["supported"]:
                    click.echo(f"  {for_terminal(sentence['text'], 'answer')}", err=True)
    click.echo("\n" + for_terminal(sources_block(result, show_sources), "source"))


def _show_evidence(evidence, lang: str, for_terminal) -> None:
    """The sources first (before the answer streams), and how long the local model will read."""
    from app.answering.render import evidence_block, evidence_notices

    block = evidence_block(evidence, lang)
    if block:
        click.echo(for_terminal(block, "source") + "\n")
    for notice in evidence_notices(evidence):
        click.echo(f"({notice})", err=True)


class _LineEcho:
    """Echo streamed text through ``transform`` a line at a time, holding back a display formula or code block
    until it is complete (so it is transformed whole); unbuffered, pieces are echoed as they come."""

    def __init__(self, transform, buffered: bool) -> None:
        self.transform, self.buffered, self.pending = transform, buffered, ""

    def feed(self, piece: str) -> None:
        from plugins.math_render.segments import printable_length

        if not self.buffered:
            click.echo(piece, nl=False)
            return
        self.pending += piece
        cut = printable_length(self.pending)
        if cut:
            click.echo(self.transform(self.pending[:cut]), nl=False)
            self.pending = self.pending[cut:]

    def finish(self) -> None:
        if self.pending:
            click.echo(self.transform(self.pending), nl=False)
            self.pending = ""
