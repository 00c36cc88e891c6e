"""This machine's speed: measured with the real models, recorded with the CPU, shown by `kexue models`."""

from __future__ import annotations

import json

from click.testing import CliRunner

from app.cli.main import cli
from app.machine import cpu_model, simd_flags


def test_speed_is_measured_recorded_and_shown(model_settings, monkeypatch):
    monkeypatch.setenv("KEXUE_CACHE_DIR", str(model_settings.cache_dir))
    runner = CliRunner()
    measured = runner.invoke(cli, ["models", "speed", "--json"])
    assert measured.exit_code == 0, measured.output
    data = json.loads(measured.output)
    assert data["machine"]["cpu"] == cpu_model() and data["machine"]["simd"] == simd_flags()
    assert "avx2" in data["machine"]["simd"]
    assert data["embedder"]["tokens_per_s"] > 50 and data["embedder"]["tokens"] > 5000
    generator = data["generator"]
    assert generator["read_tokens_per_s"] > 1 and generator["write_tokens_per_s"] > 0.5
    assert generator["prompt_tokens"] >= 200
    shown = runner.invoke(cli, ["models"])
    assert shown.exit_code == 0
    assert f"measured {data['measured']} on {cpu_model()}" in shown.output
    assert "reads" in shown.output and "tokens/s" in shown.output
