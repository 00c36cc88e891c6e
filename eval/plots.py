"""PNG plots of a run (matplotlib, no display): metrics per variant, hit@5 by kind, latency distributions, and
for whitening variants the metrics against the kept dimension and the relevant/irrelevant similarity gap."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from eval.report import RETRIEVAL_KEYS
from eval.runner import EvalRun
from eval.whitened import parse

WHITENING_KEYS = ("hit@1", "ndcg@10")


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


def _series(variants: dict[str, dict], mode: str, key: str) -> tuple[float | None, dict[str, dict[int, float]]]:
    """The raw variant's value and, per (β, γ) label, value by kept dimension, for one mode and metric."""
    raw, lines = None, {}
    for name, values in variants.items():
        parsed = parse(name)
        if not parsed or parsed[0] != mode:
            continue
        setting = parsed[1]
        if setting.k:
            lines.setdefault(f"β={setting.beta:g} γ={setting.gamma:g}", {})[setting.k] = values[key]
        else:
            raw = values[key]
    return raw, dict(sorted(lines.items(), reverse=True))


def whitening_plot(path: Path, variants: dict[str, dict]) -> None:
    """Metric against kept dimension, one line per (β, γ), one column per retrieval mode; raw vectors dashed."""
    parsed = [p for p in map(parse, variants) if p]
    modes = [m for m in ("dense", "hybrid") if any(p[0] == m for p in parsed)]
    dims = sorted({p[1].k for p in parsed if p[1].k})
    plt = _pyplot()
    fig, axes = plt.subplots(len(WHITENING_KEYS), len(modes), figsize=(5.2 * len(modes), 3.4 * len(WHITENING_KEYS)),
                             squeeze=False, sharex=True)
    for col, mode in enumerate(modes):
        for row, key in enumerate(WHITENING_KEYS):
            ax = axes[row][col]
            raw, lines = _series(variants, mode, key)
            if raw is not None:
                ax.axhline(raw, color="black", linestyle="--", linewidth=1, label="raw vectors")
            for label, by_dim in lines.items():
                ks = [k for k in dims if k in by_dim]
                ax.plot([dims.index(k) for k in ks], [by_dim[k] for k in ks], marker="o", label=label)
            ax.set_xticks(range(len(dims)), [str(k) for k in dims])
            ax.set_title(f"{mode}: {key}", fontsize=10)
            ax.grid(alpha=0.3)
        axes[-1][col].set_xlabel("dimensions kept (k)")
    axes[0][-1].legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def gap_plot(path: Path, gaps: dict[str, dict]) -> None:
    """Per setting: the relevant−irrelevant gap in standard deviations, and the answerable/unanswerable AUC."""
    plt = _pyplot()
    names = list(gaps)
    fig, axes = plt.subplots(1, 2, figsize=(max(8.0, 0.5 * len(names) + 3), 4.2))
    for ax, key, title in ((axes[0], "gap_in_sd", "relevant − irrelevant best similarity (in SDs)"),
                           (axes[1], "auc", "answerable vs unanswerable best similarity (AUC)")):
        values = [gaps[n][key] or 0.0 for n in names]
        bars = ax.bar(range(len(names)), values, color=["black" if n == "raw" else "tab:blue" for n in names])
        ax.bar_label(bars, labels=[f"{v:.2f}" for v in values], fontsize=6, padding=1)
        ax.set_xticks(range(len(names)), names, rotation=70, fontsize=7)
        ax.set_title(title, fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    axes[1].set_ylim(0.5, 1.0)
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
    if any(parse(n) and parse(n)[1].k for n in names):
        whitening_plot(out / "whitening.png", {n: variants[n] for n in names if parse(n)})
        files.append("whitening.png")
    if report.get("similarity_gap"):
        gap_plot(out / "similarity_gap.png", report["similarity_gap"])
        files.append("similarity_gap.png")
    return files
