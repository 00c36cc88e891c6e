"""Errors of the model layer; each message is one line that says what to do."""

from __future__ import annotations


class ModelError(RuntimeError):
    """Base class: a model cannot be used as asked."""


class ModelNotReady(ModelError):
    """A model file that ``kexue models prepare`` builds is missing."""


class ModelIntegrityError(ModelError):
    """A model file exists but its contents are not the expected ones (hash or size mismatch)."""


class ModelUnavailable(ModelError):
    """A model cannot be built here: the packages that carry it are not installed, or it is unknown."""
