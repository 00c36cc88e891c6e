"""Runs inside the sandbox before the snippet: drops root, sets the resource limits, execs the snippet's interpreter.

Standard library only: the host passes this file's text to ``python -I -S -c`` (the project is not mounted in the
sandbox). Arguments: cpu_seconds memory_bytes max_processes file_bytes uid gid ready_fd interpreter snippet.
It writes ``ready`` to ``ready_fd`` (closed by the exec) just before the exec, so the host knows the sandbox was
complete; a failure is one line on stderr starting with ``MARK``, ``!`` on ``ready_fd`` and exit status
``SETUP_FAILED``.
"""

import contextlib
import os
import resource
import sys

MARK = "kexue-sandbox:"
SETUP_FAILED = 125
OPEN_FILES = 1024


def drop_root(uid: int, gid: int) -> None:
    """Become ``uid``/``gid`` with no supplementary groups when started as root (then no capability is left)."""
    if os.getuid() != 0 and os.geteuid() != 0:
        return
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    try:
        os.setuid(0)
    except PermissionError:
        return
    raise RuntimeError("root could be regained after dropping privileges")


def set_limits(cpu_s: int, memory: int, processes: int, file_bytes: int) -> None:
    """Hard rlimits for this process and everything it starts; CPU gets SIGXCPU at the limit, SIGKILL 1 s later."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 1))
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, file_bytes))
    resource.setrlimit(resource.RLIMIT_NOFILE, (OPEN_FILES, OPEN_FILES))


def main(argv: list[str]) -> None:
    cpu_s, memory, processes, file_bytes, uid, gid, ready_fd = (int(a) for a in argv[:7])
    interpreter, snippet = argv[7:9]
    try:
        drop_root(uid, gid)
        set_limits(cpu_s, memory, processes, file_bytes)
        os.set_inheritable(ready_fd, False)
        os.write(ready_fd, b"ready")
        os.execv(interpreter, [interpreter, "-I", "-u", snippet])
    except (OSError, RuntimeError, ValueError) as exc:
        sys.stderr.write(f"{MARK} {type(exc).__name__}: {exc}\n")
        with contextlib.suppress(OSError):
            os.write(ready_fd, b"!")
        sys.exit(SETUP_FAILED)


if __name__ == "__main__":
    main(sys.argv[1:])
