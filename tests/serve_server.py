"""``kexue serve`` in a child process on 127.0.0.1 for the tests: started, awaited until it answers, stopped."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from tests.conftest import PROJECT
from tests.openai_server import free_port

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
    try:
        deadline = time.monotonic() + 180
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"kexue serve exited with {process.returncode}: {log.read_text()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/v1/models", headers={"Authorization": f"Bearer {api_key}"},
                             timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"kexue serve did not answer in 180 s: {log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
