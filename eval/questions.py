"""Question files (JSON Lines, the format of /work/shared/EVAL.md): loading and validation with line numbers."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LANGS = ("zh", "en")
KINDS = ("factual", "conceptual", "formula", "code", "multi", "unanswerable", "followup")
REQUIRED: dict[str, type | tuple[type, ...]] = {
    "id": str, "question": str, "lang": str, "relevant": list, "key_points": list, "kind": str, "answerable": bool,
}
TYPE_NAMES = {str: "a string", list: "a list", bool: "true or false"}


class QuestionFileError(ValueError):
    """One or more malformed lines; each entry of ``problems`` is one line ``file:line: what is wrong``."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class Question:
    id: str
    question: str
    lang: str
    relevant: list[str]
    key_points: list[str]
    kind: str
    answerable: bool
    history: list[str] = field(default_factory=list)
    source: str = ""  # "file:line" it was read from
    extra: dict[str, Any] = field(default_factory=dict)  # unknown fields, kept as they were


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _problem(data: Any) -> str | None:
    """What is wrong with one parsed line, or None."""
    if not isinstance(data, dict):
        return f"expected a JSON object, got {type(data).__name__}"
    for name, kind in REQUIRED.items():
        if name not in data:
            return f"missing field {name!r}"
        if not isinstance(data[name], kind):
            return f"field {name!r} must be {TYPE_NAMES[kind]}, got {json.dumps(data[name], ensure_ascii=False)[:60]}"
    if not data["id"].strip() or not data["question"].strip():
        return "fields 'id' and 'question' must not be empty"
    if data["lang"] not in LANGS:
        return f"field 'lang' must be one of {', '.join(LANGS)}, got {data['lang']!r}"
    for name in ("relevant", "key_points"):
        if not _is_str_list(data[name]):
            return f"field {name!r} must be a list of strings"
    if "history" in data and not _is_str_list(data["history"]):
        return "field 'history' must be a list of strings"
    if data["answerable"] and not data["relevant"]:
        return "an answerable question needs at least one id in 'relevant'"
    if not data["answerable"] and data["relevant"]:
        return "an unanswerable question must have an empty 'relevant'"
    return None


def parse_lines(lines: Iterable[str], name: str) -> tuple[list[Question], list[str]]:
    """Questions of one file and its problems (``name:line: ...``); blank lines are skipped."""
    questions: list[Question] = []
    problems: list[str] = []
    first_line: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{name}:{number}: not valid JSON: {exc.msg} (column {exc.colno})")
            continue
        problem = _problem(data)
        if problem:
            problems.append(f"{name}:{number}: {problem}")
            continue
        if data["id"] in first_line:
            problems.append(f"{name}:{number}: duplicate id {data['id']!r} (first on line {first_line[data['id']]})")
            continue
        first_line[data["id"]] = number
        known = {**REQUIRED, "history": list}
        questions.append(Question(
            data["id"], data["question"], data["lang"], [str(r) for r in data["relevant"]], data["key_points"],
            data["kind"], data["answerable"], data.get("history", []), f"{name}:{number}",
            {k: v for k, v in data.items() if k not in known}))
    return questions, problems


def question_files(paths: Sequence[str | Path]) -> list[Path]:
    """The files named, plus the ``*.jsonl`` files directly inside directories named (sorted)."""
    files: list[Path] = []
    for given in paths:
        path = Path(given).expanduser()
        if path.is_dir():
            found = sorted(path.glob("*.jsonl"))
            if not found:
                raise QuestionFileError([f"{path}: no *.jsonl question files in this directory"])
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise QuestionFileError([f"{path}: no such file or directory"])
    return files


def load_questions(paths: Sequence[str | Path]) -> list[Question]:
    """Every question of every file; ids that repeat across files get the file's stem as prefix (``stem:id``)."""
    questions: list[Question] = []
    problems: list[str] = []
    for path in question_files(paths):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{path}: cannot read as UTF-8 text: {exc}")
            continue
        found, bad = parse_lines(text.splitlines(), str(path))
        questions.extend(found)
        problems.extend(bad)
    if problems:
        raise QuestionFileError(problems)
    counts: dict[str, int] = {}
    for q in questions:
        counts[q.id] = counts.get(q.id, 0) + 1
    for q in questions:
        if counts[q.id] > 1:
            q.id = f"{Path(q.source.rsplit(':', 1)[0]).stem}:{q.id}"
    return questions
