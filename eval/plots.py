"""PNG plots of a run (matplotlib, no display): metrics per variant, hit@5 by kind, latency distributions."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from eval.report import RETRIEVAL_KEYS
from eval.runner import EvalRun


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def grouped_bars(path: Path, groups: list[str], series: dict[str, list[float | None]], title: str,
                 ylabel: str) -> None:
    """One cluster of bars per group, one bar per series."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(6.0, 0.45 * len(groups) * max(len(series), 1) + 2), 4.2))
    width = 0.8 / max(len(series), 1)
    x = np.arange(len(groups))
    for i, (name, values) in enumerate(series.items()):
        heights = [v if v is not None else 0.0 for v in values]
        bars = ax.bar(x + (i - (len(series) - 1) / 2) * width, heights, width, label=name)
        ax.bar_label(bars, labels=[f"{v:.2f}" if v is not None else "" for v in values], fontsize=7, padding=1)
    ax.set_xticks(x, groups)
    ax.set_ylim(0, 1.22)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8, loc="upper center", ncols=len(series), frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def latency_plot(path: Path, samples: dict[str, list[float]], title: str) -> None:
    """Box plots of latency samples (ms, log scale), one per series."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(6.0, 1.4 * len(samples) + 2), 4.2))
    names = list(samples)
    ax.boxplot([samples[n] for n in names], tick_labels=names, showfliers=True)
    ax.tick_params(axis="x", labelrotation=15)
    ax.set_yscale("log")
    ax.set_ylabel("ms (log scale)")
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_plots(run: EvalRun, report: dict, out: Path) -> list[str]:
    """Write the PNGs into ``out``; returns their file names."""
    names = run.options.variants
    files = []
    variants = report["variants"]
    grouped_bars(out / "metrics_by_variant.png", list(RETRIEVAL_KEYS),
                 {n: [variants[n][k] for k in RETRIEVAL_KEYS] for n in names},
                 f"Retrieval over {report['answerable']} answerable questions", "score")
    files.append("metrics_by_variant.png")
    kinds = list(variants[names[0]]["by_kind"])
    grouped_bars(out / "hit5_by_kind.png", kinds,
                 {n: [variants[n]["by_kind"].get(k, {}).get("hit@5") for k in kinds] for n in names},
                 "hit@5 by question kind", "hit@5")
    files.append("hit5_by_kind.png")
    samples = {f"retrieve: {n}": [r["retrieve_ms"][n] for r in run.records] for n in names}
    done = [r for r in run.records if "timings" in r]
    if done:
        samples["answer: generate"] = [max(r["timings"].get("generate_ms", 0.0), 0.01) for r in done]
        samples["answer: total"] = [max(r["timings"].get("total_ms", 0.0), 0.01) for r in done]
    latency_plot(out / "latency.png", samples, "Latency per question")
    files.append("latency.png")
    return files
