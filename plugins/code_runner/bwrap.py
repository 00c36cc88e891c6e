"""The bubblewrap command line of one run: namespaces, a read-only view of the system, size-limited scratch space.

Inside, the snippet sees ``/usr`` (and the ``/bin``, ``/lib`` links), a few files of ``/etc``, the host's Python
(its installation and its virtual environment, read-only, at their own paths, so installed packages such as
numpy are importable), a fresh ``/proc`` and ``/dev``, and three empty tmpfs of ``disk_mb`` each: the working
directory ``/sandbox`` (also ``HOME``), ``/tmp`` and ``/dev/shm``. Nothing else of the host is visible. The
Python directories are bound after the scratch mounts, so an environment under ``/tmp`` (a checkout there) stays
visible; one that is or contains a path the sandbox replaces (``/tmp`` itself, ``/etc``, …) is refused.

As a normal user, bubblewrap makes a user namespace (the snippet is uid 65534 inside, the user outside) and
forbids further ones. As root it runs without one (so it can read an interpreter under ``/root``) keeping only
CAP_SETUID/CAP_SETGID, and the launcher becomes the host's ``nobody`` before anything of the snippet runs:
RLIMIT_NPROC is not enforced for root.
"""

from __future__ import annotations

import grp
import math
import os
import pwd
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .result import Limits

WORKDIR = "/sandbox"
SNIPPET_PATH = f"{WORKDIR}/snippet.py"
FALLBACK_ID = 65534
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
REPLACED = ("/etc", "/dev", "/dev/shm", "/proc", "/tmp", WORKDIR)  # the sandbox's own, never bound from the host
ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "passwd", "group", "nsswitch.conf",
             "alternatives", "mime.types", "fonts")
ENV = {"LANG": "C.UTF-8", "HOME": WORKDIR, "TMPDIR": "/tmp", "MPLBACKEND": "Agg", "MPLCONFIGDIR": "/tmp/matplotlib",
       "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def find_bwrap() -> str | None:
    """The bubblewrap executable, or None when it is not installed."""
    found = shutil.which("bwrap") or "/usr/bin/bwrap"
    return found if os.access(found, os.X_OK) else None


def unprivileged_ids() -> tuple[int, int]:
    """The host's ``nobody`` user and group (65534 when they have no entry)."""
    try:
        uid = pwd.getpwnam("nobody").pw_uid
    except KeyError:
        uid = FALLBACK_ID
    for name in ("nogroup", "nobody"):
        try:
            return uid, grp.getgrnam(name).gr_gid
        except KeyError:
            continue
    return uid, FALLBACK_ID


def interpreter_dirs() -> list[str]:
    """The directories this interpreter needs, outside the system ones: its installation and its environment."""
    wanted = [sys.base_prefix, sys.prefix, str(Path(os.path.realpath(sys.executable)).parent.parent)]
    dirs: list[str] = []
    for directory in map(os.path.realpath, wanted):
        if not any(_within(directory, d) for d in (*SYSTEM_DIRS, *dirs)):
            dirs.append(directory)
    return dirs


def _within(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def interpreter_conflict() -> str | None:
    """Why this interpreter cannot be shown in the sandbox (a directory of it is a path the sandbox replaces)."""
    for directory in interpreter_dirs():
        replaced = next((r for r in REPLACED if _within(r, directory)), None)
        if replaced is not None:
            return (f"the Python environment {directory} cannot be shown in the sandbox, which has its own "
                    f"{replaced}: install the project and its virtual environment in another directory")
    return None


@dataclass
class BwrapCommand:
    """What to start: ``argv`` with the environment ``env``; ``fds`` are the descriptors bubblewrap reads."""

    argv: list[str]
    env: dict[str, str]
    fds: list[int] = field(default_factory=list)


def _system_view() -> list[str]:
    args: list[str] = []
    for directory in SYSTEM_DIRS:
        if os.path.islink(directory):
            args += ["--symlink", os.readlink(directory), directory]
        elif os.path.isdir(directory):
            args += ["--ro-bind", directory, directory]
    args += ["--perms", "0755", "--dir", "/etc"]  # made 0700 if left to bubblewrap
    for name in ETC_FILES:
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    return args


def _bind_readonly(directories: list[str]) -> list[str]:
    """Read-only binds at the same paths, after the scratch mounts; new parent directories are world-searchable."""
    args: list[str] = []
    made: set[str] = {"/", *REPLACED}
    for directory in directories:
        parents = [str(p) for p in reversed(Path(directory).parents)]
        for parent in parents:
            if parent not in made and not any(_within(parent, d) for d in SYSTEM_DIRS):
                args += ["--perms", "0755", "--dir", parent]
                made.add(parent)
        args += ["--ro-bind", directory, directory]
    return args


def _scratch(limits: Limits) -> list[str]:
    size = str(limits.disk_mb * 1024 * 1024)
    return ["--dev", "/dev", "--perms", "1777", "--size", size, "--tmpfs", "/dev/shm", "--proc", "/proc",
            "--perms", "1777", "--size", size, "--tmpfs", "/tmp",
            "--perms", "0777", "--size", size, "--tmpfs", WORKDIR]


def build_command(bwrap: str, limits: Limits, *, snippet_fd: int, seccomp_fd: int, status_fd: int, ready_fd: int,
                  launcher_source: str) -> BwrapCommand:
    """The bubblewrap invocation that runs ``launcher_source``, which execs this interpreter on the snippet."""
    executable = sys.executable
    uid, gid = unprivileged_ids()
    as_root = os.geteuid() == 0
    if as_root:
        identity = ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        identity = ["--unshare-user", "--uid", str(FALLBACK_ID), "--gid", str(FALLBACK_ID), "--disable-userns"]
    argv = [bwrap, *identity,
            "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
            "--die-with-parent", "--new-session", "--hostname", "sandbox",
            *_system_view(), *_scratch(limits), *_bind_readonly(interpreter_dirs()), "--remount-ro", "/dev",
            "--file", str(snippet_fd), SNIPPET_PATH, "--remount-ro", "/", "--chdir", WORKDIR,
            "--seccomp", str(seccomp_fd), "--json-status-fd", str(status_fd), "--",
            executable, "-I", "-S", "-c", launcher_source,
            str(math.ceil(limits.cpu_s)), str(limits.memory_mb * 1024 * 1024), str(limits.max_processes),
            str(limits.disk_mb * 1024 * 1024), str(uid), str(gid), str(ready_fd), executable, SNIPPET_PATH]
    path = ":".join([str(Path(sys.prefix) / "bin"), "/usr/local/bin", "/usr/bin", "/bin"])
    return BwrapCommand(argv, {**ENV, "PATH": path}, [snippet_fd, seccomp_fd, status_fd, ready_fd])
