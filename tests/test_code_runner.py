"""The code sandbox: each containment case of the issue, one test each, and what a normal run returns."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest

from plugins.code_runner import sandbox as sandbox_module
from plugins.code_runner import seccomp
from plugins.code_runner.bwrap import ENV, interpreter_dirs, unprivileged_ids
from plugins.code_runner.result import LIMIT_NAMES, Limits, RunResult
from plugins.code_runner.sandbox import run_python

SANDBOX_UID, SANDBOX_GID = unprivileged_ids()  # the host user a snippet runs as when we are root
FAST = Limits(wall_s=8, cpu_s=8, memory_mb=256, max_processes=16, output_kb=64, disk_mb=16)
PACKAGE = Path(sandbox_module.__file__).parent


def run(code: str, **changes) -> RunResult:
    result = run_python(textwrap.dedent(code), replace(FAST, **changes))
    assert result.refused_reason is None, result.refused_reason
    assert result.limit in (None, *LIMIT_NAMES)
    return result


def processes_named(name: str) -> list[str]:
    """Host pids of the processes whose name (``/proc/PID/comm``) is ``name``."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() == name:
                found.append(pid)
        except OSError:
            continue
    return found


@pytest.fixture()
def sentinel():
    """A host process of the user the sandbox runs as (nobody when we are root), which it must not reach."""
    as_sandbox_user = {"user": SANDBOX_UID, "group": SANDBOX_GID, "extra_groups": []} if os.geteuid() == 0 else {}
    proc = subprocess.Popen(["sleep", "120"], **as_sandbox_user)
    yield proc
    proc.kill()
    proc.wait()


def test_output_exit_status_and_installed_packages():
    result = run("""
        import sys, numpy
        print("你好", numpy.arange(3).sum())
        print("to stderr", file=sys.stderr)
        sys.exit(3)
    """)
    assert (result.stdout, result.stderr, result.exit_code, result.signal) == ("你好 3\n", "to stderr\n", 3, None)
    assert result.limit is None and not result.truncated and not result.ok and 0 < result.seconds < 8
    assert run("print(1)").ok


def test_the_snippet_sees_only_a_small_read_only_system_as_nobody():
    result = run("""
        import os, pwd
        print(sorted(os.listdir("/")))
        print(sorted(os.listdir("/etc")), pwd.getpwuid(os.getuid()).pw_name, os.getcwd())
    """)
    top, etc_line = result.stdout.splitlines()
    allowed = {"bin", "dev", "etc", "lib", "lib32", "lib64", "libx32", "proc", "sandbox", "sbin", "tmp", "usr",
               *(Path(d).parts[1] for d in interpreter_dirs())}
    assert {"etc", "proc", "sandbox", "tmp", "usr"} <= set(eval(top)) <= allowed  # a list literal
    assert "ld.so.cache" in etc_line and "shadow" not in etc_line and etc_line.endswith(" nobody /sandbox")


@pytest.mark.parametrize("code", ["while True:\n    pass", "import time\ntime.sleep(60)"])
def test_infinite_loop_is_killed_at_the_wall_clock_limit(code):
    result = run(code, wall_s=1.5)
    assert (result.limit, result.signal, result.exit_code) == ("wall_time", "SIGKILL", 137)
    assert 1.5 <= result.seconds < 4.5


@pytest.mark.parametrize(("code", "signal_name"), [
    ("while True:\n    pass", "SIGXCPU"),
    ("import signal\nsignal.signal(signal.SIGXCPU, signal.SIG_IGN)\nwhile True:\n    pass", "SIGKILL"),
])
def test_busy_loop_is_stopped_at_the_cpu_limit(code, signal_name):
    result = run(code, cpu_s=1, wall_s=20)
    assert (result.limit, result.signal) == ("cpu_time", signal_name)


def test_fork_bomb_is_stopped_by_the_process_limit(sentinel):
    name = f"bomb{secrets.token_hex(5)}"  # the bomb's processes carry this name, so the host can look for them
    result = run(f"""
        import ctypes, os
        ctypes.CDLL(None).prctl(15, b"{name}", 0, 0, 0)  # PR_SET_NAME
        while True:
            os.fork()
    """, max_processes=16)
    assert result.limit == "processes" and "BlockingIOError" in result.stderr and result.seconds < 8
    assert sentinel.poll() is None and processes_named(name) == []  # every forked process is gone


def test_4gb_allocation_fails_at_the_memory_limit():
    result = run("data = bytearray(4 * 1024 ** 3)", memory_mb=256)
    assert result.limit == "memory" and result.stderr.rstrip().endswith("MemoryError") and result.exit_code == 1


def test_memory_of_all_processes_together_is_limited():
    result = run("""
        import os, time
        for _ in range(4):
            if os.fork() == 0:
                data = b"x" * (100 << 20)  # each child stays under the per-process limit
                time.sleep(30)
        time.sleep(30)
    """, memory_mb=256, wall_s=15)
    assert (result.limit, result.signal) == ("memory", "SIGKILL") and result.seconds < 8


def test_writing_outside_the_working_directory_fails_and_the_host_is_untouched(tmp_path):
    name = f"kexue-escape-{secrets.token_hex(4)}"
    blocked = [tmp_path / name, Path(sys.prefix) / name, Path("/") / name, Path("/usr") / name, Path.home() / name]
    inside_only = Path(tempfile.gettempdir()) / name  # the sandbox's /tmp is its own
    result = run(f"""
        for path in {[str(p) for p in blocked]!r}:
            try:
                open(path, "w").write("x")
                print("WROTE", path)
            except OSError as exc:
                print("blocked", type(exc).__name__)
        open({str(inside_only)!r}, "w").write("x")
        open("here.txt", "w").write("x")
        print("inside ok")
    """)
    assert result.exit_code == 0 and "WROTE" not in result.stdout
    assert result.stdout.count("blocked") == len(blocked) and result.stdout.endswith("inside ok\n")
    assert not any(p.exists() for p in [*blocked, inside_only])


def test_the_hosts_secrets_are_not_readable(monkeypatch, tmp_path):
    token = secrets.token_hex(16)
    monkeypatch.setenv("KEXUE_OPENAI_API_KEY", token)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", token)
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text(token)
    result = run(f"""
        import os
        print(sorted(os.environ))
        for path in ("/proc/self/environ", "/proc/1/environ", "/proc/{os.getpid()}/environ", {str(secret_file)!r}):
            try:
                print(open(path, "rb").read())
            except OSError as exc:
                print(path, type(exc).__name__)
    """)
    assert result.exit_code == 0 and token not in result.stdout + result.stderr
    names = set(eval(result.stdout.splitlines()[0]))  # a list literal printed by the snippet
    assert names <= {*ENV, "PATH", "PWD", "LC_CTYPE"} and f"{secret_file} FileNotFoundError" in result.stdout


def test_no_network_even_to_a_server_on_the_hosts_loopback():
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        result = run(f"""
            import socket
            for address in (("127.0.0.1", {port}), ("1.1.1.1", 53)):
                try:
                    socket.create_connection(address, timeout=2)
                    print("connected", address)
                except OSError as exc:
                    print("failed", type(exc).__name__)
        """)
        server.setblocking(False)
        with pytest.raises(BlockingIOError):
            server.accept()  # nothing reached the host's server
        with socket.create_connection(("127.0.0.1", port)):
            server.setblocking(True)
            server.accept()[0].close()  # while the host itself can connect
    assert result.stdout == "failed ConnectionRefusedError\nfailed OSError\n"


def test_killing_its_parent_and_every_process_harms_nothing_on_the_host(sentinel):
    result = run(f"""
        import os, signal
        for pid in (os.getppid(), 1, {os.getpid()}, {sentinel.pid}, -1):
            try:
                os.kill(pid, signal.SIGKILL)
                print("sent")
            except OSError as exc:
                print(type(exc).__name__)
        print("still running")
    """)
    assert result.exit_code == 0 and result.stdout.endswith("still running\n")
    assert result.stdout.splitlines()[2:4] == ["ProcessLookupError", "ProcessLookupError"]  # host pids not visible
    assert sentinel.poll() is None


def test_printing_100_mb_is_cut_at_the_output_limit():
    result = run("import sys\nsys.stdout.write('x' * 100_000_000)\nsys.stdout.flush()", output_kb=64)
    assert (result.limit, result.truncated) == ("output", True) and result.stdout == "x" * 65536
    assert result.seconds < 8


def test_stdout_is_capped_and_keeps_its_beginning():
    result = run("for i in range(100000):\n    print(i)", output_kb=4)
    assert result.limit == "output" and result.truncated and len(result.stdout) == 4096
    assert result.stdout.startswith("0\n1\n2\n")


def test_each_run_has_a_fresh_working_directory_that_is_gone_afterwards():
    first = run("""
        import os
        open("marker.txt", "w").write("x")
        open("/tmp/marker.txt", "w").write("x")
        print(os.getcwd(), sorted(os.listdir(".")))
    """)
    second = run("import os\nprint(sorted(os.listdir('.')), sorted(os.listdir('/tmp')), os.environ['HOME'])")
    below_tmp = sorted({Path(d).parts[2] for d in interpreter_dirs() if d.startswith("/tmp/")})  # a checkout there
    assert first.stdout == "/sandbox ['marker.txt', 'snippet.py']\n"
    assert second.stdout == f"['snippet.py'] {below_tmp} /sandbox\n"
    assert not Path("/sandbox").exists() and not (Path(tempfile.gettempdir()) / "marker.txt").exists()


def test_filling_the_disk_stops_at_the_disk_limit():
    result = run("open('big.bin', 'wb').write(b'x' * (64 << 20))", disk_mb=16)
    assert result.limit == "disk" and "No space left on device" in result.stderr


def test_syscalls_that_would_escape_the_limits_are_refused_while_threads_and_processes_work():
    result = run("""
        import ctypes, subprocess, threading
        libc = ctypes.CDLL(None, use_errno=True)
        for name, call in (("shmget", lambda: libc.shmget(0, 1 << 20, 0o1600)),
                           ("unshare user", lambda: libc.unshare(0x10000000)),
                           ("unshare net", lambda: libc.unshare(0x40000000))):
            print(name, call(), ctypes.get_errno())
        worker = threading.Thread(target=print, args=("thread ok",))
        worker.start()
        worker.join()
        print(subprocess.run(["echo", "child ok"], capture_output=True, text=True).stdout.strip())
    """)
    assert result.stdout == "shmget -1 1\nunshare user -1 1\nunshare net -1 1\nthread ok\nchild ok\n"


@pytest.mark.parametrize(("machine", "header"), [("x86_64", "/usr/include/x86_64-linux-gnu/asm/unistd_64.h"),
                                                 ("aarch64", "/usr/include/asm-generic/unistd.h")])
def test_filtered_syscall_numbers_match_the_kernel_headers(machine, header):
    if not Path(header).is_file():
        pytest.skip(f"{header} not installed")
    defined = {m[1]: int(m[2]) for m in re.finditer(r"#define __NR(?:3264)?_(\w+)\s+(\d+)", Path(header).read_text())}
    _, numbers, clone, clone3, _ = seccomp.ARCHITECTURES[machine]
    assert dict(zip(seccomp.DENIED, numbers, strict=True)) == {name: defined[name] for name in seccomp.DENIED}
    assert (clone, clone3) == (defined["clone"], defined["clone3"])


UNPRIVILEGED_HOST = """
    import sys
    sys.path.insert(0, sys.argv[1])
    from runner.result import Limits
    from runner.sandbox import run_python

    for code in ("import os, socket\\nprint(os.getuid())\\nsocket.create_connection(('127.0.0.1', 9))",
                 "import os\\nwhile True:\\n    os.fork()"):
        result = run_python(code, Limits(wall_s=8, max_processes=8))
        errors = [e for e in ("ConnectionRefusedError", "BlockingIOError") if e in result.stderr]
        print(result.refused_reason, result.limit, result.stdout.strip(), errors)
"""


@pytest.mark.skipif(os.geteuid() != 0 or not Path("/usr/bin/python3").exists(), reason="needs root and python3")
def test_an_unprivileged_host_user_gets_the_same_sandbox_through_a_user_namespace():
    """Run as ``nobody`` with the system Python, the sandbox takes its other path (bubblewrap makes a userns)."""
    copy = Path(tempfile.mkdtemp(prefix="kexue-sandbox-test-"))
    try:
        shutil.copytree(PACKAGE, copy / "runner", ignore=shutil.ignore_patterns("__init__.py", "cli.py", "__pycache__"))
        (copy / "runner" / "__init__.py").write_text("")
        os.chmod(copy, 0o755)
        done = subprocess.run(["/usr/bin/python3", "-c", textwrap.dedent(UNPRIVILEGED_HOST), str(copy)],
                              user=SANDBOX_UID, group=SANDBOX_GID, extra_groups=[], cwd="/", capture_output=True,
                              text=True, timeout=60)
    finally:
        shutil.rmtree(copy)
    assert done.stdout.splitlines() == ["None None 65534 ['ConnectionRefusedError']",
                                        "None processes  ['BlockingIOError']"], done.stderr
