"""The page's script (a Run button under each Python code block of the chat and the sources panel), style, theme
and math delimiters."""

from __future__ import annotations

from typing import Any

CHAT_ID = "kexue-chat"
SOURCES_ID = "kexue-sources"
RUN_CODE_ID = "kexue-run-code"
RUN_TRIGGER_ID = "kexue-run-trigger"

LATEX_DELIMITERS = [
    {"left": "$$", "right": "$$", "display": True},
    {"left": "\\[", "right": "\\]", "display": True},
    {"left": "$", "right": "$", "display": False},
    {"left": "\\(", "right": "\\)", "display": False},
]

# Runs once on page load. The chat re-renders its messages while an answer streams, so a MutationObserver adds
# the button again to every runnable block that lacks one. A click hands the code over in window.kexueRunCode
# and clicks the hidden trigger button, whose event passes it to the server (see RUN_CODE_JS).
RUN_BUTTON_JS = f"""
() => {{
  const runnable = /^(python|py|python3)?$/;
  const language = (code) => {{
    const name = [...code.classList].find((c) => c.startsWith("language-"));
    return name ? name.slice("language-".length).toLowerCase() : "";
  }};
  const addButtons = () => {{
    document.querySelectorAll("#{CHAT_ID} pre > code, #{SOURCES_ID} pre > code").forEach((code) => {{
      const block = code.closest(".code_wrap") || code.parentElement;
      const next = block.nextElementSibling;
      if (!runnable.test(language(code)) || (next && next.classList.contains("kexue-run"))) return;
      const button = document.createElement("button");
      button.type = "button";
      button.className = "kexue-run";
      button.textContent = "▶ Run";
      button.title = "Run this code in the sandbox";
      button.addEventListener("click", (event) => {{
        event.preventDefault();
        event.stopPropagation();
        window.kexueRunCode = code.textContent;
        document.getElementById("{RUN_TRIGGER_ID}").click();
      }});
      block.insertAdjacentElement("afterend", button);
    }});
  }};
  new MutationObserver(addButtons).observe(document.body, {{ childList: true, subtree: true }});
  addButtons();
}}
"""

RUN_CODE_JS = "(code, history) => [window.kexueRunCode || code, history]"

CSS = """
.kexue-run { display: inline-block; white-space: nowrap; margin: 2px 0 10px; padding: 2px 12px; cursor: pointer;
             border-radius: 6px;
             border: 1px solid var(--border-color-primary); background: var(--button-secondary-background-fill);
             font-size: var(--text-sm); }
.kexue-run:hover { background: var(--button-secondary-background-fill-hover); }
#kexue-sources details.kexue-passage { margin: 2px 0 8px 1em; }
#kexue-sources details.kexue-passage summary { cursor: pointer; color: var(--body-text-color-subdued); }
"""


def theme() -> Any:
    """The default theme with system fonts (the page then needs no font download)."""
    import gradio as gr

    sans = ["system-ui", "PingFang SC", "Noto Sans CJK SC", "WenQuanYi Micro Hei", "sans-serif"]
    return gr.themes.Default(font=sans, font_mono=["ui-monospace", "DejaVu Sans Mono", "monospace"])
