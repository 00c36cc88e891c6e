"""``kexue serve`` in a child process on 127.0.0.1 for the tests: started, awaited until it answers, stopped."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import PROJECT
from tests.openai_server import free_port, serving

API_KEY = "kexue-test-key-0123"


@contextlib.contextmanager
def kexue_serve(index_dir: Path, log: Path, *args: str, api_key: str | None = API_KEY) -> Iterator[str]:
    """Yield the base URL (``http://127.0.0.1:PORT``) of ``kexue serve --index index_dir *args``; with ``api_key`` the
    server requires it (KEXUE_API_KEY), loopback or not."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("KEXUE_API_KEY", "KEXUE_CHAT_USER", "KEXUE_CHAT_PASSWORD")}
    env["GRADIO_ANALYTICS_ENABLED"] = "False"
    if api_key:
        env["KEXUE_API_KEY"] = api_key
    command = [sys.executable, "-m", "app", "serve", "--port", str(port), "--index", str(index_dir), *args]
    with open(log, "wb") as out:
        process = subprocess.Popen(command, cwd=PROJECT, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    with serving(process, f"{base}/v1/models", api_key, log, "kexue serve", 180):
        yield base
