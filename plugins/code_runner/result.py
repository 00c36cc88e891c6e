"""What a sandboxed run may use (``Limits``) and what it produced (``RunResult``)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any

# The values RunResult.limit takes when a limit ended the run.
LIMIT_NAMES = ("wall_time", "output", "memory", "cpu_time", "disk", "processes")


@dataclass(frozen=True)
class Limits:
    """Resources of one run; memory is per process (an rlimit) and for the whole process tree (a watchdog)."""

    wall_s: float = 10.0
    cpu_s: float = 10.0
    memory_mb: int = 512
    max_processes: int = 64
    output_kb: int = 256  # per stream (stdout, stderr)
    disk_mb: int = 64  # the working directory, /tmp and /dev/shm are each a tmpfs of this size

    def __post_init__(self) -> None:
        for name in ("wall_s", "cpu_s", "memory_mb", "max_processes", "output_kb", "disk_mb"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
                raise ValueError(f"limit {name} must be a positive number, not {value!r}")
        if self.memory_mb < 32:
            raise ValueError(f"limit memory_mb must be at least 32 (the interpreter needs it), not {self.memory_mb}")
        if self.max_processes < 2:
            raise ValueError(f"limit max_processes must be at least 2, not {self.max_processes}")

    @classmethod
    def from_settings(cls, settings: Any) -> Limits:
        """The limits configured by the ``run_*`` settings (``app.settings.Settings``)."""
        return cls(wall_s=float(settings.run_timeout_s), cpu_s=float(settings.run_cpu_s),
                   memory_mb=int(settings.run_memory_mb), max_processes=int(settings.run_max_processes),
                   output_kb=int(settings.run_output_kb))

    def with_timeout(self, timeout_s: float | None) -> Limits:
        """These limits with a wall-clock limit of ``timeout_s``, never above the configured one."""
        if timeout_s is None:
            return self
        if isinstance(timeout_s, bool) or not isinstance(timeout_s, int | float) or not math.isfinite(timeout_s) \
                or timeout_s <= 0:
            raise ValueError(f"timeout_s must be a positive number of seconds, not {timeout_s!r}")
        return replace(self, wall_s=min(float(timeout_s), self.wall_s))

    def describe(self, limit: str) -> str:
        """The limit named ``limit`` with its value, e.g. "wall-clock limit of 10 s"."""
        return {
            "wall_time": f"wall-clock limit of {self.wall_s:g} s",
            "cpu_time": f"CPU-time limit of {self.cpu_s:g} s",
            "memory": f"memory limit of {self.memory_mb} MB",
            "processes": f"limit of {self.max_processes} processes and threads",
            "output": f"output limit of {self.output_kb} KB per stream",
            "disk": f"disk limit of {self.disk_mb} MB (per file; working directory, /tmp and /dev/shm each)",
        }.get(limit, limit)


@dataclass
class RunResult:
    """One run: its output, how it ended (``exit_code`` is shell-style: 128+N after signal N) and the limit hit.

    ``refused_reason`` is set, and nothing ran, when the code was not accepted (Python 2, syntax error, too
    large) or no sandbox could be made; ``note`` is a hint about a failure (e.g. a Python 2 name).
    """

    stdout: str
    stderr: str
    exit_code: int | None
    signal: str | None
    seconds: float
    limit: str | None = None
    truncated: bool = False
    refused_reason: str | None = None
    note: str | None = None

    @classmethod
    def refused(cls, reason: str, stderr: str = "") -> RunResult:
        return cls(stdout="", stderr=stderr, exit_code=None, signal=None, seconds=0.0, refused_reason=reason)

    @property
    def ok(self) -> bool:
        """The snippet ran, exited with status 0 and hit no limit."""
        return self.refused_reason is None and self.exit_code == 0 and self.limit is None

    def status_line(self, limits: Limits | None = None) -> str:
        """One line: exit status, seconds and the limit hit, or why the code was not run."""
        if self.refused_reason is not None:
            return f"not run: {self.refused_reason}"
        parts = [f"exit {self.exit_code}" + (f" ({self.signal})" if self.signal else ""), f"{self.seconds:.2f} s"]
        if self.limit:
            parts.append("stopped by the " + (limits.describe(self.limit) if limits else f"{self.limit} limit"))
        if self.truncated:
            parts.append("output truncated")
        if self.note:
            parts.append(self.note)
        return " · ".join(parts)

    def to_json(self) -> dict:
        return {**asdict(self), "ok": self.ok}
