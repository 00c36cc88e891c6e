"""The embedder runtime chosen by measurement: the agreement check, the recorded choice, the override."""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner

from app.cli.main import cli
from app.index_store import read_manifest
from app.machine import cpu_model, describe, simd_flags
from app.models import runtime_choice
from app.models.embedder import load_embedder
from app.models.errors import ModelError, ModelNotReady
from app.models.fsutil import write_json
from ingest.pipeline import ingest


@pytest.fixture()
def own_cache(model_settings, tmp_path):
    """Settings with an empty cache of their own (no record) that shares the prepared models, and no index."""
    (tmp_path / "cache").mkdir()
    os.symlink(model_settings.models_dir, tmp_path / "cache" / "models")
    return model_settings.replace(cache_dir=tmp_path / "cache", index_dir=tmp_path / "index", embed_runtime="auto")


def _record(settings, chosen: str, machine: dict | None = None) -> None:
    write_json(runtime_choice.record_path(settings), {"machine": machine or describe(), "chosen": chosen})


def test_the_fastest_agreeing_runtime_is_chosen():
    candidates = {"torch": {"tokens_per_s": 900.0, "min_cosine": 1.0},
                  "onnx-int8": {"tokens_per_s": 2000.0, "min_cosine": 0.993},
                  "onnx-fp32": {"tokens_per_s": 1200.0, "min_cosine": 0.99999}}
    assert runtime_choice.choose(candidates) == "onnx-fp32"
    assert runtime_choice.choose(candidates, floor=0.99) == "onnx-int8"
    assert runtime_choice.choose({**candidates, "onnx-fp32": {"error": "onnxruntime missing"}}) == "torch"
    with pytest.raises(ModelError, match="embed_runtime"):
        runtime_choice.choose({"onnx-int8": candidates["onnx-int8"]})


def test_measurement_checks_agreement_records_the_choice_and_models_shows_it(own_cache):
    record = runtime_choice.measure(own_cache, paragraphs=24, timed=12)
    assert json.loads(runtime_choice.record_path(own_cache).read_text(encoding="utf-8")) == record
    assert record["machine"]["cpu"] == cpu_model() and record["machine"]["simd"] == simd_flags()
    assert (record["paragraphs"], record["timed_passages"], record["min_cosine"]) == (24, 12, 0.999)
    found = record["candidates"]
    assert set(found) == {"torch", "onnx-int8", "onnx-fp32"}
    assert all(c["tokens_per_s"] > 50 and c["tokens"] > 2000 for c in found.values())
    assert found["torch"]["min_cosine"] == 1.0
    assert found["onnx-int8"]["min_cosine"] < 0.999 and not found["onnx-int8"]["agrees"]
    assert found["onnx-fp32"]["min_cosine"] >= 0.9999 and found["onnx-fp32"]["agrees"]
    faster = max(("torch", "onnx-fp32"), key=lambda name: found[name]["tokens_per_s"])
    assert record["chosen"] == faster == runtime_choice.measured_choice(own_cache)
    assert load_embedder(own_cache, prepare_missing=False).runtime == faster

    env = {"KEXUE_CACHE_DIR": str(own_cache.cache_dir), "KEXUE_INDEX": str(own_cache.index_dir),
           "KEXUE_EMBED_RUNTIME": "auto", "KEXUE_EMBEDDER": None}
    shown = CliRunner(env=env).invoke(cli, ["models"])
    assert shown.exit_code == 0, shown.output
    assert f"embedder runtimes, measured {record['measured']} on {cpu_model()}" in shown.output
    for name, c in found.items():
        verdict = "chosen" if name == faster else ("agrees" if c["agrees"] else "disagrees")
        mark = "*" if name == faster else " "
        assert f"{mark} {name:<10} {c['tokens_per_s']:>8.0f} tokens/s" in shown.output
        assert f"min cosine {c['min_cosine']:.4f}, mean {c['mean_cosine']:.4f}   {verdict}" in shown.output
    assert f"in use: {faster} (auto: measured fastest on this machine)" in shown.output


def test_an_explicit_setting_wins_over_the_record(own_cache):
    _record(own_cache, "onnx-fp32")
    assert runtime_choice.resolve(own_cache) == "onnx-fp32"
    pinned = own_cache.replace(embed_runtime="torch")
    assert runtime_choice.resolve(pinned, measure_missing=False) == "torch"
    with pytest.raises(ModelError, match="setting embed_runtime: 'fast' is not one of auto, onnx-int8"):
        load_embedder(own_cache.replace(embed_runtime="fast"))


def test_auto_follows_an_existing_index_then_the_record_of_this_machine(own_cache, embedder, md_subset):
    with pytest.raises(ModelNotReady, match="kexue models prepare"):
        load_embedder(own_cache, prepare_missing=False)
    _record(own_cache, "onnx-int8", machine={**describe(), "cpu": "another CPU"})
    assert runtime_choice.current(own_cache) == (None, "auto: not measured on this machine yet")
    _record(own_cache, "onnx-fp32")
    assert runtime_choice.resolve(own_cache, measure_missing=False) == "onnx-fp32"
    assert embedder.runtime == "onnx-int8"
    ingest(own_cache, [str(md_subset("104"))], progress=False, embedder=embedder)
    runtime, why = runtime_choice.current(own_cache)
    assert (runtime, why) == ("onnx-int8", f"auto: the index at {own_cache.index_dir} was built with it")
    loaded = load_embedder(own_cache, prepare_missing=False)
    assert loaded.fingerprint == read_manifest(own_cache.index_dir)["embedder"]["fingerprint"]
