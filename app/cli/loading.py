"""One-line errors for commands that open the index and its models."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import click


@contextlib.contextmanager
def index_errors() -> Iterator[None]:
    """Turn a missing or mismatched index, or a model that is not prepared, into a one-line CLI error."""
    from app.index_store import IndexError_
    from app.models.errors import ModelError

    try:
        yield
    except (IndexError_, ModelError) as exc:
        raise click.ClickException(str(exc)) from None
