"""This machine's speed with the configured models: the embedder's tokens/s on corpus passages and the local
model's prompt-reading and writing tokens/s, measured by ``kexue models prepare`` (or ``kexue models speed``) and
kept in the cache with the machine they were measured on."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from app.settings import Settings

SPEED_FILE = "machine-speed.json"
SAMPLE_PASSAGES = 64
WRITE_TOKENS = 48


def speed_path(settings: Settings) -> Path:
    return settings.cache_dir / SPEED_FILE


def sample_passages(settings: Settings, n: int = SAMPLE_PASSAGES) -> list[str]:
    """The first ``n`` paragraphs of 200+ characters from the configured corpus, in file order (a fixed sample)."""
    from ingest.latex_spans import paragraphs

    found: list[str] = []
    for root in settings.corpus:
        for path in sorted(Path(root).glob("*.md")) + sorted(Path(root).glob("*.txt")):
            text = path.read_text(encoding="utf-8", errors="replace")
            found += [p for p in paragraphs(text) if len(p) >= 200 and not p.lstrip().startswith(("---", "#", "|"))]
            if len(found) >= n:
                return found[:n]
    return found


def measure_embedder(settings: Settings, passages: list[str]) -> dict[str, Any]:
    from app.models.embedder import load_embedder

    embedder = load_embedder(settings)
    embedder.embed_passages(passages[:4])
    tokens = int(sum(embedder.count_tokens(passages)))
    start = time.perf_counter()
    embedder.embed_passages(passages)
    seconds = time.perf_counter() - start
    return {"runtime": embedder.runtime, "tokens": tokens, "tokens_per_s": round(tokens / seconds, 1)}


def measure_generator(settings: Settings, passages: list[str]) -> dict[str, Any]:
    """Prompt-reading and writing rates of the local model, from one prompt of about 400 new tokens."""
    from app.answering.llm.local import load_local

    backend = load_local(settings)
    backend.prime([{"role": "system", "content": "你是助手。"}])
    prompt = [{"role": "system", "content": "你是助手。"},
              {"role": "user", "content": "\n".join(passages)[:1200] + "\n请概括上文。"}]
    "".join(backend.stream(prompt, max_tokens=WRITE_TOKENS, temperature=0.0))
    last = backend.last
    return {"model": settings.generator, "threads": settings.threads or "all", "prompt_tokens": last["prompt_tokens"],
            "read_tokens_per_s": last["read_tokens_per_s"], "write_tokens_per_s": last["write_tokens_per_s"]}


def measure(settings: Settings, generator: bool = True) -> dict[str, Any]:
    """Measure and record this machine's speed; returns what was recorded."""
    from app.machine import describe

    passages = sample_passages(settings)
    result: dict[str, Any] = {"measured": time.strftime("%Y-%m-%d %H:%M"), "machine": describe(),
                              "embedder": measure_embedder(settings, passages) if passages else None}
    if generator:
        try:
            result["generator"] = measure_generator(settings, passages or ["科学空间"])
        except Exception as exc:  # an unavailable model is reported, not fatal
            result["generator"] = {"error": str(exc).splitlines()[0]}
    path = speed_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    return result


def recorded(settings: Settings) -> dict[str, Any] | None:
    """The last measurement, or None."""
    path = speed_path(settings)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def describe_speed(speed: dict[str, Any] | None) -> list[str]:
    """Lines for ``kexue models``: the measured rates and what a local answer will cost."""
    if not speed:
        return ["machine speed: not measured yet (`kexue models speed`)"]
    cpu = speed["machine"]
    lines = [f"machine speed, measured {speed['measured']} on {cpu['cpu']} ({cpu['cores']} cores; "
             f"{' '.join(f for f in cpu['simd'] if f in ('avx2', 'avx512f', 'avx512_vnni', 'avx_vnni'))}):"]
    if speed.get("embedder"):
        e = speed["embedder"]
        lines.append(f"  embedder ({e['runtime']}): {e['tokens_per_s']:.0f} tokens/s; the default corpus "
                     f"(~2.75 M tokens) takes about {2.75e6 / e['tokens_per_s'] / 60:.0f} min to index")
    g = speed.get("generator") or {}
    if "read_tokens_per_s" in g:
        answer_s = 900 / g["read_tokens_per_s"] + 250 / max(g["write_tokens_per_s"], 0.1)
        lines.append(f"  local model: reads {g['read_tokens_per_s']:.0f} prompt tokens/s, writes "
                     f"{g['write_tokens_per_s']:.1f} tokens/s; a typical answer (~900 tokens of evidence, ~250 "
                     f"written) takes about {answer_s:.0f} s")
    elif g.get("error"):
        lines.append(f"  local model: not measured ({g['error']})")
    return lines
