"""Write a run's files into the output directory: report.json, report.md, questions.jsonl and the plots."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from eval.markdown import render
from eval.plots import write_plots
from eval.report import summarise
from eval.runner import EvalRun


def write_outputs(run: EvalRun, out: Path) -> dict[str, Any]:
    """Write every output file; returns the report object."""
    out.mkdir(parents=True, exist_ok=True)
    report = summarise(run)
    (out / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    with (out / "questions.jsonl").open("w", encoding="utf-8") as handle:
        for record in run.records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    plots = write_plots(run, report, out)
    (out / "report.md").write_text(render(run, report, plots), encoding="utf-8")
    return report
