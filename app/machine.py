"""What machine a figure was measured on: CPU model, SIMD flags, cores, Python and OS."""

from __future__ import annotations

import os
import platform
from pathlib import Path

SIMD_PREFIXES = ("avx", "fma", "f16c", "sse4", "amx")


def cpu_model() -> str:
    """The CPU's model name (from /proc/cpuinfo on Linux, else the platform's processor string)."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def simd_flags() -> list[str]:
    """The CPU's vector-instruction flags that decide embedding and LLM speed (avx2, avx512*, avx_vnni, fma, …)."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.lower().startswith("flags"):
                return sorted(f for f in line.split(":", 1)[1].split() if f.startswith(SIMD_PREFIXES))
    except OSError:
        pass
    return []


def describe() -> dict[str, object]:
    return {"cpu": cpu_model(), "simd": simd_flags(), "cores": os.cpu_count(),
            "python": f"{platform.python_implementation()} {platform.python_version()}",
            "os": f"{platform.system()} {platform.release()}", "arch": platform.machine()}


def summary() -> str:
    """One line: CPU model, core count, SIMD flags, Python, OS."""
    d = describe()
    return f"{d['cpu']}, {d['cores']} cores, SIMD {' '.join(d['simd']) or 'none found'}; {d['python']}, {d['os']}"
