"""The built-in math plugin: the blog's LaTeX made ready for KaTeX in the chat (``web``), rendered as Unicode
in the terminal (``cli``), and the ``math`` tool (SymPy: simplify, solve, differentiate, integrate, identities)."""

from __future__ import annotations

from plugins.hookspecs import hookimpl


@hookimpl
def transform_text(text, surface, kind):
    """KaTeX-ready Markdown for "web", Unicode text for "cli"; other surfaces are left alone."""
    if surface == "web":
        from plugins.math_render.web import to_katex_markdown

        return to_katex_markdown(text)
    if surface == "cli":
        from plugins.math_render.terminal import to_unicode

        return to_unicode(text, compact=kind == "source")
    return None


@hookimpl
def register_tools(register):
    from plugins.math_render.sympy_tool import MATH_TOOL

    register(MATH_TOOL)
