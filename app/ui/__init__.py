"""The Gradio chat UI: streamed answers from the same answering API as the CLI, with a sources panel, rendered
math, Run buttons under code blocks and the ``/run`` and ``/math`` commands."""

from app.ui.layout import build_app, launch_app

__all__ = ["build_app", "launch_app"]
