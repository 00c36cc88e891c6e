"""Blind judging (../shared/JUDGING.md): batches of candidate answers from several runs, shuffled and labelled per
question, and the graders' verdicts folded back into figures per run.

``export_batches`` writes ``batch-NN.jsonl`` (what graders see: no run names) and ``key.json`` (label -> run per
question, kept apart from the batches); ``import_verdicts`` reads verdict files plus that key."""

from __future__ import annotations

import json
import random
import string
from collections import defaultdict
from pathlib import Path
from typing import Any

KEY_FILE = "key.json"
BATCH_SIZE = 12


class JudgingError(ValueError):
    """A run directory, key or verdict file that cannot be used; the message names it."""


def read_run(run_dir: Path) -> dict[str, dict[str, Any]]:
    """A run's per-question records (``questions.jsonl`` of ``kexue eval --out``), by question id."""
    path = run_dir / "questions.jsonl"
    if not path.is_file():
        raise JudgingError(f"{path}: not found (give the --out directory of a `kexue eval` run with answers)")
    records = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise JudgingError(f"{path}:{number}: not JSON ({exc.msg})") from None
        if "answer" not in record and "error" not in record:
            raise JudgingError(f"{path}:{number}: no answer (was the run --retrieval-only?)")
        records[record["id"]] = record
    return records


def _candidate(record: dict[str, Any]) -> dict[str, Any]:
    return {"answer": record.get("answer") or f"(no answer: {record.get('error', 'missing')})",
            "refused": bool(record.get("refused")),
            "citations": [{"post_id": c["post_id"], "title": c["title"]} for c in record.get("citations", [])]}


def export_batches(runs: dict[str, Path], questions: dict[str, Any], out: Path, batch_size: int = BATCH_SIZE,
                   seed: int = 0) -> list[Path]:
    """Write the batches for every question answered by all ``runs`` (name -> run directory), only those of
    ``questions`` when it is given; key points come from ``questions``, else from the runs' own records."""
    answers = {name: read_run(path) for name, path in runs.items()}
    ids = [qid for qid in next(iter(answers.values())) if all(qid in a for a in answers.values())
           and (not questions or qid in questions)]
    rng = random.Random(seed)
    items, key = [], {}
    for qid in ids:
        names = list(runs)
        rng.shuffle(names)
        labels = string.ascii_uppercase[: len(names)]
        record = answers[names[0]][qid]
        q = questions.get(qid) or {"key_points": [p["point"] if isinstance(p, dict) else p
                                                   for p in record.get("key_points", [])]}
        items.append({"id": qid, "question": record["question"], "lang": record["lang"],
                      "history": record.get("history") or None, "answerable": record["answerable"],
                      "kind": record["kind"], "relevant": record["relevant"], "key_points": q.get("key_points", []),
                      "candidates": {label: _candidate(answers[name][qid]) for label, name in zip(labels, names,
                                                                                                 strict=True)}})
        key[qid] = dict(zip(labels, names, strict=True))
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for start in range(0, len(items), batch_size):
        path = out / f"batch-{start // batch_size + 1:02d}.jsonl"
        path.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items[start:start + batch_size]),
                        encoding="utf-8")
        paths.append(path)
    (out / KEY_FILE).write_text(json.dumps({"runs": {n: str(p) for n, p in runs.items()}, "labels": key},
                                           ensure_ascii=False, indent=1), encoding="utf-8")
    return paths


def read_verdicts(paths: list[Path]) -> dict[str, dict[str, Any]]:
    verdicts = {}
    for path in paths:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                verdicts[row["id"]] = row["verdicts"]
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise JudgingError(f"{path}:{number}: not a verdict line ({exc})") from None
    return verdicts


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 3) if values else None


def _figures(rows: list[tuple[dict[str, Any], dict[str, Any]]]) -> dict[str, Any]:
    """The figures of JUDGING.md over (question item, verdict) pairs."""
    answerable = [(q, v) for q, v in rows if q["answerable"]]
    unanswerable = [(q, v) for q, v in rows if not q["answerable"]]
    cites = [v["cites_ok"] for _, v in answerable if v.get("cites_ok") is not None]
    return {
        "answerable": len(answerable),
        "key_point_coverage": _mean([sum(v["kp"]) / len(v["kp"]) for _, v in answerable if v.get("kp")]),
        "correct": _mean([float(v["correct"]) for _, v in answerable]),
        "useful": _mean([float(v["useful"]) for _, v in answerable]),
        "cites_ok": _mean([float(c) for c in cites]),
        "unanswerable": len(unanswerable),
        "refused_cleanly": _mean([float(v["correct"]) for _, v in unanswerable]),
        "invented": sum(1 for _, v in unanswerable if not v["correct"]),
    }


def import_verdicts(judging_dir: Path, verdict_paths: list[Path]) -> dict[str, Any]:
    """Per run: the figures overall, by kind and by language (run names from the key beside the batches)."""
    key_path = judging_dir / KEY_FILE
    if not key_path.is_file():
        raise JudgingError(f"{key_path}: not found (the directory written by --export-judging)")
    key = json.loads(key_path.read_text(encoding="utf-8"))
    items = {}
    for path in sorted(judging_dir.glob("batch-*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                items[item["id"]] = item
    verdicts = read_verdicts(verdict_paths)
    per_run: dict[str, list] = defaultdict(list)
    for qid, by_label in verdicts.items():
        if qid not in key["labels"]:
            raise JudgingError(f"verdict for unknown question {qid!r} (not in {key_path})")
        for label, verdict in by_label.items():
            run = key["labels"][qid].get(label)
            if run is None:
                raise JudgingError(f"verdict for {qid} names candidate {label!r}, which the batch does not have")
            per_run[run].append((items[qid], verdict))
    report: dict[str, Any] = {"judged_questions": len(verdicts), "runs": {}}
    for run, rows in sorted(per_run.items()):
        by_kind: dict[str, list] = defaultdict(list)
        by_lang: dict[str, list] = defaultdict(list)
        for q, v in rows:
            by_kind[q["kind"]].append((q, v))
            by_lang[q["lang"]].append((q, v))
        report["runs"][run] = {**_figures(rows), "by_kind": {k: _figures(r) for k, r in sorted(by_kind.items())},
                               "by_lang": {k: _figures(r) for k, r in sorted(by_lang.items())}}
    return report


def report_markdown(report: dict[str, Any]) -> str:
    """The per-run table of a judged comparison, then each run by kind and language."""
    head = ("| run | answerable | key points | correct | useful (1-5) | cites ok | unanswerable | refused cleanly "
            "| invented |\n|---|---|---|---|---|---|---|---|---|")
    lines = [f"# Blind judging: {report['judged_questions']} questions", "", head]

    def row(name: str, f: dict[str, Any]) -> str:
        cells = [f["answerable"], f["key_point_coverage"], f["correct"], f["useful"], f["cites_ok"],
                 f["unanswerable"], f["refused_cleanly"], f["invented"]]
        return f"| {name} | " + " | ".join("—" if c is None else str(c) for c in cells) + " |"

    for run, figures in report["runs"].items():
        lines.append(row(run, figures))
    for run, figures in report["runs"].items():
        lines += ["", f"## {run}", "", head]
        lines += [row(f"kind: {k}", f) for k, f in figures["by_kind"].items()]
        lines += [row(f"lang: {k}", f) for k, f in figures["by_lang"].items()]
    return "\n".join(lines) + "\n"
