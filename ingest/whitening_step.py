"""The whitening step of an ingest: which transform the new version gets (none, the stored one, or a new fit)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from app import whitening
from app.settings import Settings
from app.whitening import Whitening, WhiteningError


@dataclass
class WhiteningPlan:
    """(k, β, γ) wanted for the new version (k = 0: raw vectors), the stored transform to reuse with its manifest
    entry, and why a new one is fitted (None when the stored one is kept or there is none)."""

    k: int
    beta: float
    gamma: float
    reuse: Whitening | None = None
    reused_entry: dict[str, Any] | None = None
    reason: str | None = None


def wanted(settings: Settings, old: dict[str, Any] | None) -> tuple[int, float, float]:
    """Each of k, β, γ: the setting when it was set (flag, environment, config file), else the current index's
    choice (raw vectors when it has no transform), else the setting's default."""
    stored = None if old is None else (old.get("whitening") or {"k": 0})
    values = []
    for name, key in (("whiten", "k"), ("whiten_beta", "beta"), ("whiten_gamma", "gamma")):
        explicit = name in settings.origins or stored is None or key not in stored
        values.append(getattr(settings, name) if explicit else stored[key])
    return int(values[0]), float(values[1]), float(values[2])


def label(k: int, beta: float, gamma: float) -> str:
    return "none" if k == 0 else f"k={k}, β={beta:g}, γ={gamma:g}"


def plan(settings: Settings, old: dict[str, Any] | None, version: Path | None, rebuild: str | None, refit: bool,
         dim: int) -> WhiteningPlan:
    """Decide the transform before anything is embedded; ``WhiteningError`` for impossible parameters."""
    k, beta, gamma = wanted(settings, old)
    if not 0 <= k <= dim:
        raise WhiteningError(f"--whiten must be none or 1..{dim} (the embedder's dimension), not {k}")
    result = WhiteningPlan(k, beta, gamma)
    entry = (old or {}).get("whitening")
    before = label(entry["k"], entry["beta"], entry["gamma"]) if entry else "none"
    if k == 0:
        result.reason = f"whitening removed, was {before}" if entry else None
    elif entry is None:
        result.reason = "no transform yet" if old is None or rebuild else \
            f"whitening changed (none -> {label(k, beta, gamma)})"
    elif (entry["k"], entry["beta"], entry["gamma"]) != (k, beta, gamma):
        result.reason = f"whitening changed ({before} -> {label(k, beta, gamma)})"
    elif rebuild:
        result.reason = "full rebuild"
    elif refit:
        result.reason = "--refit-whitening"
    else:
        result.reuse, result.reused_entry = whitening.load(version, entry), entry
    return result


def check_rows(wanted_plan: WhiteningPlan, chunks: int) -> None:
    """Fail before embedding when the corpus is too small to fit the wanted dimension."""
    if wanted_plan.k and wanted_plan.reuse is None and chunks <= wanted_plan.k:
        raise WhiteningError(f"whitening to {wanted_plan.k} dimensions needs more than {wanted_plan.k} chunks; "
                             f"this corpus has {chunks} (use a smaller --whiten or --whiten none)")


def apply(wanted_plan: WhiteningPlan, raw: np.ndarray, chunks_embedded: int) -> tuple[Whitening | None,
                                                                                     dict[str, Any] | None]:
    """The transform of the new version and its manifest entry (without file and sha256, which the writer adds):
    parameters, chunks embedded since the fit, and the drift of the current vectors from the fit."""
    if not wanted_plan.k:
        return None, None
    if wanted_plan.reuse is not None:
        transform = wanted_plan.reuse
        since = wanted_plan.reused_entry.get("chunks_since_fit", 0) + chunks_embedded
    else:
        transform = whitening.fit(raw, wanted_plan.k, wanted_plan.beta, wanted_plan.gamma)
        since = 0
    entry = {**transform.params(), "chunks_since_fit": since}
    entry["drift"] = whitening.drift(entry, transform.second_moment_distance(raw), len(raw))
    return transform, entry
