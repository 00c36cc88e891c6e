"""Question files: the project's set loads; malformed lines are reported with file and line number."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.questions import QuestionFileError, load_questions
from tests.conftest import PROJECT

GOOD = {"id": "q1", "question": "BYOL为什么不塌缩？", "lang": "zh", "relevant": ["7980"],
        "key_points": ["stop_gradient"], "kind": "conceptual", "answerable": True}


def write(path: Path, *lines: object) -> Path:
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in lines) + "\n",
                    encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(QuestionFileError) as info:
        load_questions([path])
    return info.value.problems


@pytest.mark.parametrize(("name", "count", "answerable"), [("kexue.jsonl", 174, 160), ("heldout.jsonl", 132, 116),
                                                          ("fresh/fresh.jsonl", 86, 75)])
def test_project_question_sets_load(name: str, count: int, answerable: int):
    questions = load_questions([PROJECT / "eval" / "questions" / name])
    assert len(questions) == count
    assert len({q.id for q in questions}) == count
    assert sum(q.answerable for q in questions) == answerable
    followups = [q for q in questions if q.kind == "followup"]
    assert followups and all(q.history for q in followups)


def test_the_two_sets_share_no_post():
    own, heldout = (load_questions([PROJECT / "eval" / "questions" / name]) for name in ("kexue.jsonl",
                                                                                          "heldout.jsonl"))
    assert not {p for q in own for p in q.relevant} & {p for q in heldout for p in q.relevant}
    assert sum(q.lang == "en" for q in heldout) >= 30
    assert sum(q.extra.get("style") == "keyword" for q in heldout) >= 20
    assert sum(not q.answerable for q in heldout) >= 15


def test_the_fresh_sets_questions_are_about_posts_the_other_sets_do_not_use():
    sets = [load_questions([PROJECT / "eval" / "questions" / name]) for name in ("kexue.jsonl", "heldout.jsonl")]
    used = {p for questions in sets for q in questions for p in q.relevant}
    fresh = load_questions([PROJECT / "eval" / "questions" / "fresh" / "fresh.jsonl"])
    assert not {q.relevant[0] for q in fresh if q.answerable} & used
    assert sum(q.lang == "en" and q.answerable for q in fresh) >= 30
    assert sum(q.extra.get("style") == "keyword" for q in fresh) >= 15


def test_extra_fields_are_kept_and_blank_lines_skipped(tmp_path: Path):
    path = write(tmp_path / "a.jsonl", {**GOOD, "difficulty": 3}, "", {**GOOD, "id": "q2", "history": ["x"]})
    first, second = load_questions([path])
    assert first.extra == {"difficulty": 3} and first.source.endswith("a.jsonl:1")
    assert second.history == ["x"] and second.source.endswith("a.jsonl:3")


def test_bad_json_names_file_and_line(tmp_path: Path):
    path = write(tmp_path / "bad.jsonl", GOOD, '{"id": "q2", "question": ')
    [problem] = problems(path)
    assert problem.startswith(f"{path}:2: not valid JSON")
    assert "\n" not in problem


@pytest.mark.parametrize(("change", "message"), [
    ({"lang": None}, "field 'lang' must be a string"),
    ({"answerable": "yes"}, "field 'answerable' must be true or false"),
    ({"relevant": "7980"}, "field 'relevant' must be a list"),
    ({"relevant": [7980]}, "field 'relevant' must be a list of strings"),
    ({"lang": "fr"}, "field 'lang' must be one of zh, en"),
    ({"history": "earlier"}, "field 'history' must be a list of strings"),
    ({"answerable": False}, "unanswerable question must have an empty 'relevant'"),
    ({"relevant": []}, "answerable question needs at least one id"),
    ({"question": "  "}, "must not be empty"),
])
def test_wrong_types_and_values(tmp_path: Path, change: dict, message: str):
    path = write(tmp_path / "q.jsonl", GOOD, {**GOOD, "id": "q2", **change})
    [problem] = problems(path)
    assert problem.startswith(f"{path}:2: ") and message in problem


def test_missing_field_and_not_an_object(tmp_path: Path):
    missing = {k: v for k, v in GOOD.items() if k != "key_points"}
    path = write(tmp_path / "q.jsonl", missing, "[1, 2]")
    assert problems(path) == [f"{path}:1: missing field 'key_points'", f"{path}:2: expected a JSON object, got list"]


def test_duplicate_id_names_both_lines(tmp_path: Path):
    path = write(tmp_path / "q.jsonl", GOOD, {**GOOD, "id": "q2"}, GOOD)
    assert problems(path) == [f"{path}:3: duplicate id 'q1' (first on line 1)"]


def test_directories_and_several_files(tmp_path: Path):
    folder = tmp_path / "sets"
    folder.mkdir()
    write(folder / "a.jsonl", GOOD)
    write(folder / "b.jsonl", GOOD, {**GOOD, "id": "q9"})
    (folder / "notes.txt").write_text("ignored", encoding="utf-8")
    questions = load_questions([folder])
    assert [q.id for q in questions] == ["a:q1", "b:q1", "q9"]  # ids repeated across files get the file stem
    with pytest.raises(QuestionFileError, match="no such file"):
        load_questions([tmp_path / "nope.jsonl"])
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(QuestionFileError, match="no \\*.jsonl"):
        load_questions([empty])
