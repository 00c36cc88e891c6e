"""The sandbox wherever the project lives: a virtual environment below /tmp, a path the sandbox replaces."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import pytest

from plugins.code_runner import bwrap
from plugins.code_runner import sandbox as sandbox_module
from plugins.code_runner.sandbox import run_python

PROJECT = Path(__file__).resolve().parents[1]
needs_bwrap = pytest.mark.skipif(bwrap.find_bwrap() is None, reason="bubblewrap is not installed")


@pytest.fixture()
def checkout_in_tmp():
    """A virtual environment in ``/tmp/…/.venv`` like a checkout's, seeing the project and its packages (a .pth)."""
    root = Path(tempfile.mkdtemp(prefix="kexue-checkout-", dir="/tmp"))
    try:
        os.chmod(root, 0o755)
        venv = root / ".venv"
        subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)],
                       check=True, capture_output=True, timeout=120)
        purelib = Path(sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)}))
        (purelib / "kexue-project.pth").write_text(f"{PROJECT}\n{sysconfig.get_path('purelib')}\n")
        yield venv
    finally:
        shutil.rmtree(root)


@needs_bwrap
def test_kexue_run_works_with_the_virtual_environment_below_tmp(checkout_in_tmp: Path, tmp_path: Path):
    snippet = "import os, sys\nprint(sys.prefix, os.getcwd())\nprint(sum(range(10)))\n"
    env = {**os.environ, "KEXUE_CONFIG": str(tmp_path / "no-config.toml")}
    done = subprocess.run([str(checkout_in_tmp / "bin" / "python"), "-m", "app", "run", "-"], input=snippet,
                          capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{checkout_in_tmp} /sandbox\n45\n" and "exit 0" in done.stderr


@pytest.mark.parametrize(("directory", "replaced"), [("/tmp", "/tmp"), ("/", "/etc"), ("/dev/shm", "/dev/shm")])
def test_an_environment_that_is_a_replaced_path_is_refused_with_the_reason(directory, replaced, monkeypatch):
    monkeypatch.setattr(bwrap, "interpreter_dirs", lambda: [directory])
    monkeypatch.setattr(sandbox_module, "find_bwrap", lambda: "/usr/bin/bwrap")
    monkeypatch.setattr(sandbox_module, "_start", lambda *args: pytest.fail("no sandbox must be started"))
    result = run_python("print(1)")
    assert result.refused_reason == (f"the Python environment {directory} cannot be shown in the sandbox, which has "
                                     f"its own {replaced}: install the project and its virtual environment in "
                                     "another directory")
