"""Memory and CPU time of every process of a sandbox, found by its PID namespace (the rlimits are per process)."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class TreeUsage:
    memory_bytes: int  # proportional set sizes added up (shared pages divided among their users)
    max_cpu_s: float  # CPU time of the busiest process


def _memory_bytes(pid: str) -> int:
    """Proportional set size, or resident size when PSS is unavailable."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as rollup:
            for line in rollup:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        with open(f"/proc/{pid}/statm", "rb") as statm:
            return int(statm.read().split()[1]) * PAGE_SIZE
    except (OSError, ValueError, IndexError):
        return 0


def _cpu_seconds(pid: str) -> float:
    """User plus system time (fields 14 and 15 of /proc/PID/stat; the name in field 2 may hold spaces)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    except (OSError, ValueError, IndexError):
        return 0.0


def _in_namespace(pid: str, wanted: str) -> bool:
    try:
        return os.readlink(f"/proc/{pid}/ns/pid") == wanted
    except OSError:
        return False


def _state(pid: str) -> bytes:
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return b"X"


def namespace_pids(pid_namespace: int) -> list[str]:
    """The host's pids of the live (not zombie) processes in the PID namespace with inode ``pid_namespace``."""
    wanted = f"pid:[{pid_namespace}]"
    return [pid for pid in os.listdir("/proc")
            if pid.isdigit() and _in_namespace(pid, wanted) and _state(pid) not in (b"Z", b"X")]


def namespace_usage(pid_namespace: int) -> TreeUsage:
    """Usage of the processes in the PID namespace (zero when none is left)."""
    pids = namespace_pids(pid_namespace)
    return TreeUsage(sum(map(_memory_bytes, pids)), max(map(_cpu_seconds, pids), default=0.0))


def reap_init(pid_namespace: int, init_pid: int) -> None:
    """Reap the sandbox's init if it became our child (we are PID 1 or a subreaper, as in a container)."""
    if _in_namespace(str(init_pid), f"pid:[{pid_namespace}]"):
        with contextlib.suppress(ChildProcessError):
            os.waitpid(init_pid, os.WNOHANG)


def wait_until_empty(pid_namespace: int, init_pid: int | None, timeout_s: float) -> bool:
    """Wait for the namespace's last processes to finish exiting (they were killed with its init); True if gone.

    Bubblewrap exits as soon as its init reports the snippet's status, before the init and the rest are gone.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        left = namespace_pids(pid_namespace)
        if not left:
            if init_pid is not None:
                reap_init(pid_namespace, init_pid)  # a zombie now: the others died before it
            return True
        if time.monotonic() >= deadline:
            for pid in left:
                with contextlib.suppress(OSError):
                    os.kill(int(pid), signal.SIGKILL)
            return False
        time.sleep(0.01)
