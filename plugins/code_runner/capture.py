"""Running bubblewrap and watching it: stdout and stderr read together up to a cap, a wall-clock deadline and the
memory of the whole process tree; a run over a limit is killed at once (its PID namespace dies with its init)."""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import subprocess
import time
from dataclasses import dataclass, field

from .bwrap import BwrapCommand
from .result import Limits
from .tree_usage import namespace_usage, wait_until_empty

WATCH_INTERVAL_S = 0.1
KILL_GRACE_S = 2.0
CHUNK = 65536
SIDE_CHANNEL_CAP = 65536


@dataclass
class Capture:
    """What a run printed and how it ended; ``returncode`` is bubblewrap's (the snippet's status, or -N if killed)."""

    stdout: bytes
    stderr: bytes
    truncated: bool
    killed_for: str | None
    returncode: int
    seconds: float
    max_cpu_s: float  # CPU time of the busiest process, as last sampled
    ready: bytes


@dataclass
class _Watch:
    limits: Limits
    proc: subprocess.Popen
    started: float
    output: dict[str, bytearray] = field(default_factory=lambda: {"stdout": bytearray(), "stderr": bytearray()})
    side: dict[str, bytearray] = field(default_factory=lambda: {"status": bytearray(), "ready": bytearray()})
    truncated: bool = False
    killed_for: str | None = None
    killed_at: float = 0.0
    sandbox: dict | None = None  # bubblewrap's first status document: child-pid, pid-namespace
    max_cpu_s: float = 0.0

    def kill(self, reason: str) -> None:
        """Kill the sandbox's init (its PID namespace goes with it) and bubblewrap's process group."""
        if self.killed_for is not None:
            return
        self.killed_for, self.killed_at = reason, time.monotonic()
        child = (self.sandbox or {}).get("child-pid")
        running = os.waitid(os.P_PID, self.proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None
        if isinstance(child, int) and running:  # while bubblewrap runs, its child's pid cannot have been reused
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(child, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)

    def take(self, name: str, data: bytes) -> None:
        """Keep ``data`` read from stream ``name``: output up to its cap (more kills the run), side channels capped."""
        if name in self.output:
            buffer = self.output[name]
            room = self.limits.output_kb * 1024 - len(buffer)
            buffer += data[:room]
            if len(data) > room:
                self.truncated = True
                self.kill("output")
            return
        buffer = self.side[name]
        buffer += data[: SIDE_CHANNEL_CAP - len(buffer)]
        if name == "status" and self.sandbox is None and b"\n" in buffer:
            try:
                first = json.loads(buffer.split(b"\n", 1)[0])
            except ValueError:
                first = None
            self.sandbox = first if isinstance(first, dict) else {}

    def check_usage(self) -> None:
        """Kill the run when its processes together use more memory than the limit; note the busiest's CPU time."""
        namespace = (self.sandbox or {}).get("pid-namespace")
        if not isinstance(namespace, int):
            return
        usage = namespace_usage(namespace)
        self.max_cpu_s = max(self.max_cpu_s, usage.max_cpu_s)
        if usage.memory_bytes > self.limits.memory_mb * 1024 * 1024:
            self.kill("memory")


def _close(*fds: int) -> None:
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)


def _read_ready(watch: _Watch, selector: selectors.BaseSelector, timeout: float) -> None:
    for key, _ in selector.select(timeout):
        try:
            data = os.read(key.fd, CHUNK)
        except OSError:
            data = b""
        if data:
            watch.take(key.data, data)
        else:
            selector.unregister(key.fd)


def _watch_until_done(watch: _Watch, selector: selectors.BaseSelector) -> None:
    """Read until every stream is closed (bubblewrap holds the status pipe until it exits), enforcing the limits."""
    deadline = watch.started + watch.limits.wall_s
    next_check = watch.started + WATCH_INTERVAL_S
    while selector.get_map():
        now = time.monotonic()
        if now >= deadline:
            watch.kill("wall_time")
        if watch.killed_for is not None:
            if now >= watch.killed_at + KILL_GRACE_S:
                return
            _read_ready(watch, selector, WATCH_INTERVAL_S)
            continue
        if now >= next_check:
            watch.check_usage()
            next_check = now + WATCH_INTERVAL_S
        _read_ready(watch, selector, max(0.0, min(deadline, next_check) - now))


def run_and_capture(command: BwrapCommand, limits: Limits, status_fd: int, ready_fd: int) -> Capture:
    """Start ``command`` and watch it until it and its tree end; ``command.fds`` are closed once it started."""
    started = time.monotonic()
    try:
        proc = subprocess.Popen(command.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=command.env, pass_fds=command.fds, start_new_session=True)
    except BaseException:
        _close(status_fd, ready_fd)
        raise
    finally:
        _close(*command.fds)
    watch = _Watch(limits, proc, started)
    selector = selectors.DefaultSelector()
    for fd, name in ((proc.stdout.fileno(), "stdout"), (proc.stderr.fileno(), "stderr"),
                     (status_fd, "status"), (ready_fd, "ready")):
        selector.register(fd, selectors.EVENT_READ, name)
    try:
        _watch_until_done(watch, selector)
    except BaseException:
        watch.kill("interrupted")  # the host is stopping (e.g. Ctrl-C): the sandbox must not outlive the call
        raise
    finally:
        selector.close()
        proc.stdout.close()
        proc.stderr.close()
        _close(status_fd, ready_fd)
        proc.wait()
        namespace, init = (watch.sandbox or {}).get("pid-namespace"), (watch.sandbox or {}).get("child-pid")
        if isinstance(namespace, int):
            wait_until_empty(namespace, init if isinstance(init, int) else None, KILL_GRACE_S)
    return Capture(bytes(watch.output["stdout"]), bytes(watch.output["stderr"]), watch.truncated, watch.killed_for,
                   proc.returncode, time.monotonic() - started, watch.max_cpu_s, bytes(watch.side["ready"]))
