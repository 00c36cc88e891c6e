"""``python -m app`` runs the ``kexue`` command."""

from app.cli.main import cli

cli(prog_name="kexue")
