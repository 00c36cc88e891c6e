"""The command line: help texts, settings and their origins, and one-line errors instead of tracebacks."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.cli.main import COMMANDS, cli
from app.settings import Settings, SettingsError, load_settings
from tests.conftest import PROJECT


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True, timeout=600,
                          env={**os.environ, **(env or {})}, cwd=PROJECT)


def test_every_command_has_help():
    runner = CliRunner()
    top = runner.invoke(cli, ["--help"])
    assert top.exit_code == 0
    for name in COMMANDS:
        assert name in top.output
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert len(result.output.splitlines()) > 3


def test_settings_layers_file_env_and_flags(tmp_path: Path):
    config = tmp_path / "kexue.toml"
    config.write_text('top_k = 7\nindex_dir = "/srv/idx"\n[unused]\n', encoding="utf-8")
    settings = load_settings(config, environ={"KEXUE_TOP_K": "9", "KEXUE_CHUNK_MAX_TOKENS": "300"})
    assert settings.top_k == 9 and settings.origins["top_k"] == "KEXUE_TOP_K"
    assert settings.index_dir == Path("/srv/idx") and settings.origins["index_dir"] == str(config)
    assert settings.chunk_max_tokens == 300
    flagged = settings.replace(top_k=3, index_dir=None)
    assert flagged.top_k == 3 and flagged.origins["top_k"] == "flag" and flagged.index_dir == Path("/srv/idx")
    assert load_settings(config, environ={"KEXUE_INDEX": "/x"}).index_dir == Path("/x")


def test_bad_settings_name_the_setting(tmp_path: Path):
    config = tmp_path / "bad.toml"
    config.write_text("top_k = 'many'\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=r"'top_k'.*bad.toml"):
        load_settings(config, environ={})
    config.write_text("colour = 'blue'\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="unknown setting 'colour'"):
        load_settings(config, environ={})
    with pytest.raises(SettingsError, match="KEXUE_TOP_K"):
        load_settings(None, environ={"KEXUE_TOP_K": "x"})


def test_default_corpus_is_the_shared_one():
    names = [p.name for p in Settings().corpus]
    assert names == ["kexue-pages", "kexue-md", "seeds"]


def test_config_command_shows_values_and_origins(tmp_path: Path):
    result = run("config", "--json", env={"KEXUE_TOP_K": "11"})
    assert result.returncode == 0
    assert json.loads(result.stdout)["top_k"] == 11
    table = run("config", env={"KEXUE_TOP_K": "11"}).stdout
    assert re.search(r"top_k\s+11\s+\[KEXUE_TOP_K\]", table)
    bad = tmp_path / "bad.toml"
    bad.write_text("top_k = [", encoding="utf-8")
    failed = run("--config", str(bad), "config")
    assert failed.returncode == 1 and "not valid TOML" in failed.stderr and "Traceback" not in failed.stderr


def test_ask_errors_are_one_line(tmp_path: Path):
    missing = run("ask", "SimSiam为什么不退化", "--index", str(tmp_path / "none"))
    assert missing.returncode == 1 and "no index at" in missing.stderr and "kexue ingest" in missing.stderr
    for question, message in (("   ", "the question is empty"), ("问" * 10000, "10000 characters long")):
        result = run("ask", question, "--index", str(tmp_path / "none"))
        assert result.returncode == 1, result.stderr
        assert message in result.stderr and "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_ask_refuses_an_index_built_with_another_embedder(settings, embedder, md_subset):
    from ingest.pipeline import ingest

    ingest(settings, [str(md_subset("7980"))], progress=False, embedder=embedder)
    from app.index_store import MANIFEST, current_version

    manifest_path = current_version(settings.index_dir) / MANIFEST
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["embedder"].update(name="BAAI/bge-small-zh-v1.5", fingerprint="0" * 16)
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    result = run("ask", "SimSiam为什么不退化", "--index", str(settings.index_dir))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "built with BAAI/bge-small-zh-v1.5" in result.stderr


def test_dockerfile_names_only_existing_files_and_commands():
    dockerfile = (PROJECT / "Dockerfile").read_text(encoding="utf-8")
    for line in dockerfile.splitlines():
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                assert (PROJECT / source).exists(), source
    entry = (PROJECT / "scripts" / "docker-entrypoint.sh").read_text(encoding="utf-8")
    commands = set(re.findall(r"\bkexue ([a-z]+)", dockerfile + entry))
    commands |= set(re.findall(r'"kexue", "([a-z]+)"', dockerfile))
    assert commands and commands <= set(COMMANDS), commands - set(COMMANDS)
    for command in sorted(commands):
        assert run(command, "--help").returncode == 0
    assert "torch==2.13.0" in dockerfile and "kexue models prepare" in dockerfile


def test_ci_runs_the_readme_test_command():
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    ci = (PROJECT / ".ci" / "run").read_text(encoding="utf-8")
    assert "scripts/test.sh" in readme and "scripts/test.sh" in ci
    assert "scripts/quickstart.sh" in readme
