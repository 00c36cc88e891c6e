"""Blind judging: batches exported from runs round-trip through verdicts into per-run figures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import PROJECT


def _run(folder: Path, answers: dict[str, str]) -> Path:
    folder.mkdir(parents=True)
    rows = []
    for qid, answer in answers.items():
        answerable = qid != "u1"
        rows.append({"id": qid, "question": f"question {qid}", "lang": "zh", "kind": "conceptual" if answerable
                     else "unanswerable", "answerable": answerable, "relevant": ["7980"] if answerable else [],
                     "history": [], "answer": answer, "refused": answer.startswith("博客没有"),
                     "key_points": [{"point": "run's point", "present": False}] if answerable else [],
                     "citations": [{"post_id": "7980", "title": "SimSiam", "n": 1}] if answerable else []})
    (folder / "questions.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                                            encoding="utf-8")
    return folder


def _kexue(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True, cwd=PROJECT,
                          timeout=120)


def test_export_then_import_gives_each_run_its_own_figures(tmp_path: Path):
    good = _run(tmp_path / "good", {"q1": "right [1]", "q2": "also right [1]", "u1": "博客没有涉及这个问题。",
                                    "q3": "not asked"})
    bad = _run(tmp_path / "bad", {"q1": "wrong [1]", "q2": "wrong too [1]", "u1": "invented answer", "q3": "no"})
    questions = tmp_path / "q.jsonl"
    rows = [{"id": q, "question": q, "lang": "zh", "relevant": ["7980"], "key_points": ["a", "b"], "kind": "factual",
             "answerable": True} for q in ("q1", "q2")]
    rows.append({"id": "u1", "question": "u1", "lang": "zh", "relevant": [], "key_points": [],
                 "kind": "unanswerable", "answerable": False})
    questions.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    out = tmp_path / "judging"
    done = _kexue("eval", "--export-judging", str(out), "--from-run", f"good={good}", "--from-run", f"bad={bad}",
                  "--questions", str(questions))
    assert done.returncode == 0, done.stderr
    batch = [json.loads(line) for line in (out / "batch-01.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {b["id"] for b in batch} == {"q1", "q2", "u1"}, "only the questions of --questions"
    text = (out / "batch-01.jsonl").read_text(encoding="utf-8")
    assert "good" not in text and "bad" not in text, "a batch must not name the runs"
    assert batch[0]["key_points"] == ["a", "b"] and set(batch[0]["candidates"]) == {"A", "B"}
    key = json.loads((out / "key.json").read_text(encoding="utf-8"))["labels"]
    verdicts = []
    for item in batch:
        by_label = {}
        for label, candidate in item["candidates"].items():
            right = key[item["id"]][label] == "good"
            by_label[label] = {"kp": [1, 1] if right else [0, 0.5], "correct": int(right), "useful": 5 if right else 1,
                               "cites_ok": 1 if right else 0, "note": ""} if item["answerable"] else \
                {"kp": [], "correct": int(candidate["refused"]), "useful": 5 if candidate["refused"] else 1,
                 "cites_ok": None, "note": ""}
        verdicts.append({"id": item["id"], "verdicts": by_label})
    verdict_file = tmp_path / "verdicts.jsonl"
    verdict_file.write_text("".join(json.dumps(v) + "\n" for v in verdicts), encoding="utf-8")
    done = _kexue("eval", "--import-verdicts", str(verdict_file), "--judging", str(out), "--out", str(tmp_path / "r"))
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))["runs"]
    assert report["good"]["key_point_coverage"] == 1.0 and report["good"]["correct"] == 1.0
    assert report["bad"]["key_point_coverage"] == 0.25 and report["bad"]["useful"] == 1.0
    assert report["good"]["refused_cleanly"] == 1.0 and report["bad"]["invented"] == 1
    assert report["good"]["by_kind"]["conceptual"]["answerable"] == 2
    assert "| good |" in (tmp_path / "r" / "report.md").read_text(encoding="utf-8")


def test_a_verdict_for_a_missing_candidate_is_a_clear_error(tmp_path: Path):
    run = _run(tmp_path / "one", {"q1": "x [1]"})
    out = tmp_path / "judging"
    assert _kexue("eval", "--export-judging", str(out), "--from-run", f"one={run}").returncode == 0
    bad = tmp_path / "v.jsonl"
    bad.write_text(json.dumps({"id": "q1", "verdicts": {"C": {"kp": [1], "correct": 1, "useful": 3}}}) + "\n")
    done = _kexue("eval", "--import-verdicts", str(bad), "--judging", str(out), "--out", str(tmp_path / "r"))
    assert done.returncode != 0 and "candidate 'C'" in done.stderr


def test_without_questions_every_answer_is_exported_with_the_runs_key_points(tmp_path: Path):
    one = _run(tmp_path / "one", {"q1": "right [1]", "u1": "博客没有涉及这个问题。"})
    two = _run(tmp_path / "two", {"q1": "wrong [1]", "u1": "invented answer"})
    out = tmp_path / "judging"
    done = _kexue("eval", "--export-judging", str(out), "--from-run", f"one={one}", "--from-run", f"two={two}")
    assert done.returncode == 0, done.stderr
    batch = {b["id"]: b for b in map(json.loads, (out / "batch-01.jsonl").read_text(encoding="utf-8").splitlines())}
    assert batch["q1"]["key_points"] == ["run's point"] and batch["u1"]["key_points"] == []
