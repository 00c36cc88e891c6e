"""Running a Python snippet in the sandbox, ``run_python(code, limits)``, and telling which limit ended it.

Code is only run isolated: without bubblewrap, without a syscall filter for the machine, or when bubblewrap
cannot make the namespaces (e.g. user namespaces are disabled), the run is refused and says why.
"""

from __future__ import annotations

import math
import os
import platform
import re
import signal
import subprocess
import sys
from functools import cache
from pathlib import Path

from .bwrap import build_command, find_bwrap, interpreter_conflict
from .capture import Capture, run_and_capture
from .code_check import check_code, python2_hint
from .launcher import MARK
from .result import Limits, RunResult
from .seccomp import filter_program

NO_BWRAP = ("bubblewrap (bwrap) is not installed, and code is never run without a sandbox "
            "(no network, own processes and files): install it, e.g. `apt-get install bubblewrap`")
_MEMORY = re.compile(r"^[\w.]*MemoryError\b|\[Errno 12\] Cannot allocate memory"
                     r"|failed to map segment from shared object", re.MULTILINE)
_PROCESSES = re.compile(r"^BlockingIOError: \[Errno 11\]|can't start new thread", re.MULTILINE)
_DISK = re.compile(r"\[Errno 27\] File too large|\[Errno 28\] No space left on device")
_TAIL = 8192


@cache
def launcher_source() -> str:
    return Path(__file__).with_name("launcher.py").read_text(encoding="utf-8")


def _memfd(name: str, data: bytes) -> int:
    fd = os.memfd_create(name)
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def _start(bwrap: str, code: str, program: bytes, limits: Limits) -> Capture:
    fds: list[int] = []
    try:
        status_r, status_w = os.pipe()
        fds += [status_r, status_w]
        ready_r, ready_w = os.pipe()
        fds += [ready_r, ready_w]
        fds += [_memfd("snippet", code.encode("utf-8")), _memfd("seccomp", program)]
        command = build_command(bwrap, limits, snippet_fd=fds[4], seccomp_fd=fds[5], status_fd=status_w,
                                ready_fd=ready_w, launcher_source=launcher_source())
    except BaseException:
        for fd in fds:
            os.close(fd)
        raise
    return run_and_capture(command, limits, status_r, ready_r)


def _exit_status(returncode: int) -> tuple[int, str | None]:
    """Shell-style exit status (128+N after signal N) and the signal's name, if any."""
    number = -returncode if returncode < 0 else returncode - 128 if 128 < returncode < 128 + 65 else 0
    try:
        name = signal.Signals(number).name if number else None
    except ValueError:
        name = None
    return (128 + number if returncode < 0 else returncode), name


def _limit_hit(capture: Capture, exit_code: int, signal_name: str | None, stderr: str, limits: Limits) -> str | None:
    if capture.killed_for is not None:
        return capture.killed_for
    if signal_name == "SIGXCPU" or (signal_name == "SIGKILL" and capture.max_cpu_s >= math.ceil(limits.cpu_s)):
        return "cpu_time"
    if exit_code == 0:
        return None
    tail = stderr[-_TAIL:]
    if signal_name == "SIGXFSZ" or _DISK.search(tail):
        return "disk"
    if _MEMORY.search(tail):
        return "memory"
    if _PROCESSES.search(tail):
        return "processes"
    return None


def _setup_failure(capture: Capture) -> str | None:
    """Why the sandbox was not completed (the launcher never reported ready), or None when the snippet ran."""
    if capture.ready == b"ready" or capture.killed_for is not None:
        return None
    lines = capture.stderr.decode("utf-8", "replace").splitlines()
    detail = next((line for line in lines if line.startswith(("bwrap:", MARK))), lines[0] if lines else "")
    return (f"the sandbox could not be set up ({detail.strip() or f'status {capture.returncode}'}); code is never "
            "run without its own network, processes and files")


def run_python(code: str, limits: Limits | None = None) -> RunResult:
    """Run ``code`` with ``python -I`` in a fresh sandbox within ``limits`` (default: ``Limits()``)."""
    limits = limits or Limits()
    problem = check_code(code)
    if problem is not None:
        return RunResult.refused(*problem)
    bwrap = find_bwrap()
    if bwrap is None:
        return RunResult.refused(NO_BWRAP)
    program = filter_program()
    if program is None:
        return RunResult.refused(f"no syscall filter is defined for this machine ({platform.machine()}), "
                                 "so code is not run")
    if not sys.executable:
        return RunResult.refused("the path of the Python interpreter is unknown")
    conflict = interpreter_conflict()
    if conflict is not None:
        return RunResult.refused(conflict)
    try:
        capture = _start(bwrap, code, program, limits)
    except (OSError, subprocess.SubprocessError) as exc:
        return RunResult.refused(f"the sandbox could not be started ({type(exc).__name__}: {exc})")
    failure = _setup_failure(capture)
    if failure is not None:
        return RunResult.refused(failure, capture.stderr.decode("utf-8", "replace"))
    exit_code, signal_name = _exit_status(capture.returncode)
    stderr = capture.stderr.decode("utf-8", "replace")
    return RunResult(stdout=capture.stdout.decode("utf-8", "replace"), stderr=stderr, exit_code=exit_code,
                     signal=signal_name, seconds=round(capture.seconds, 3),
                     limit=_limit_hit(capture, exit_code, signal_name, stderr, limits), truncated=capture.truncated,
                     note=python2_hint(stderr) if exit_code != 0 else None)
