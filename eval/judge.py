"""Key-point judging: an LLM judge (``--judge openai|local``) or the n-gram matcher of :mod:`eval.keypoints`."""

from __future__ import annotations

import re
from typing import Any

from eval import keypoints

JUDGE_SYSTEM = (
    "You grade answers. For each numbered key point, decide whether the answer states it in substance "
    "(paraphrase, other language or equivalent formula counts; merely mentioning the topic does not). "
    "Reply with one line per key point, exactly `<number>: yes` or `<number>: no`, and nothing else.")
_VERDICT = re.compile(r"^\s*(\d+)\s*[:.)\-]\s*(yes|no|是|否)", re.I | re.M)


def judge_prompt(question: str, answer: str, key_points: list[str]) -> list[dict]:
    points = "\n".join(f"{i}. {p}" for i, p in enumerate(key_points, start=1))
    user = f"Question:\n{question}\n\nAnswer:\n{answer or '(empty)'}\n\nKey points:\n{points}"
    return [{"role": "system", "content": JUDGE_SYSTEM}, {"role": "user", "content": user}]


def parse_verdicts(reply: str, n: int) -> list[bool] | None:
    """The yes/no verdict of each of ``n`` key points, or None when some is missing from the reply."""
    found: dict[int, bool] = {}
    for number, word in _VERDICT.findall(reply):
        found.setdefault(int(number), word.lower() in ("yes", "是"))
    if not all(i in found for i in range(1, n + 1)):
        return None
    return [found[i] for i in range(1, n + 1)]


class MatcherJudge:
    """The documented n-gram matcher; needs no model."""

    name = keypoints.DESCRIPTION

    def verdicts(self, question: str, answer: str, key_points: list[str]) -> list[bool]:
        return [keypoints.present(p, answer) for p in key_points]


class LLMJudge:
    """A chat backend of the app (``local`` or ``openai``) asked for one yes/no per key point."""

    def __init__(self, settings: Any, backend_name: str):
        from app.answering.llm import load_backend

        self.backend = load_backend(settings, backend_name)
        model = settings.openai_model if backend_name == "openai" else settings.generator
        self.name = f"{backend_name}:{model}" if model else backend_name
        self.failures = 0

    def verdicts(self, question: str, answer: str, key_points: list[str]) -> list[bool] | None:
        """The judge's verdicts, or None when it failed or replied in a form that cannot be read."""
        from app.answering.llm import LLMUnavailable

        try:
            reply = "".join(self.backend.stream(judge_prompt(question, answer, key_points),
                                                max_tokens=16 * len(key_points) + 32, temperature=0.0))
        except LLMUnavailable:
            reply = ""
        verdicts = parse_verdicts(reply, len(key_points))
        if verdicts is None:
            self.failures += 1
        return verdicts


def load_judge(settings: Any, name: str | None) -> MatcherJudge | LLMJudge:
    """The LLM judge called ``name``, or the matcher when ``name`` is None."""
    return LLMJudge(settings, name) if name else MatcherJudge()
