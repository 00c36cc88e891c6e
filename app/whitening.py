"""BERT-whitening (苏剑林, kexue.fm/archives/8069 and 9079): a linear map fitted on the corpus's passage vectors.

Fit: μ = mean(x), Σ = mean((x − γμ)ᵀ(x − γμ)) = UΛUᵀ (eigenvalues in decreasing order). Map:
x̃ = (x − γμ)·U[:, :k]·Λ[:k]^(−β/2), then L2-normalised, so inner product stays cosine. β = γ = 1 is the
original BERT-whitening; β = γ = 0 with k = d is a pure rotation (cosines unchanged), and with k < d it is a
lossless-looking PCA cut. The post 《当BERT-whitening引入超参数》 names the two knobs the other way round (its β
shifts the mean, its γ is the exponent); here they follow the settings ``whiten_beta`` (exponent) and
``whiten_gamma`` (mean shift). Numpy only: the transform is stored beside an index version (``FILE``) and its
sha256 is recorded in the manifest, so a query is never mapped with another version's transform.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

FILE = "whitening.npz"
EIGEN_FLOOR = 1e-6  # eigenvalues under this share of the largest are raised to it (e5 vectors have one ~1e-9 direction)
DRIFT_DIRECTIONS = 64  # the drift distance looks at the leading directions only (the rest is mostly sampling noise)
DRIFT_NEW_SHARE = 0.25  # refit advised when this share of the chunks was embedded after the fit
DRIFT_DISTANCE = 0.15  # … or when the second-moment distance is this large (0.18 when a quarter of the posts is new)


class WhiteningError(ValueError):
    """Whitening cannot be done as asked; the message says why."""


class WhiteningMismatch(WhiteningError):
    """A stored transform does not match its manifest entry or the index it belongs to."""


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fingerprint(raw: np.ndarray) -> str:
    """A short hash of the vectors a transform was fitted on."""
    return hashlib.sha256(np.ascontiguousarray(raw, dtype=np.float32).tobytes()).hexdigest()[:16]


@dataclass(frozen=True, eq=False)
class Whitening:
    """A fitted transform: ``mu`` (d,), ``u`` (d, k), ``lam`` (k,), the two hyper-parameters and its origin."""

    mu: np.ndarray
    u: np.ndarray
    lam: np.ndarray
    beta: float
    gamma: float
    rows: int  # passage vectors it was fitted on
    fitted_on: str  # fingerprint() of those vectors

    @property
    def k(self) -> int:
        return int(self.u.shape[1])

    @property
    def dim(self) -> int:
        return int(self.u.shape[0])

    @functools.cached_property
    def _affine(self) -> tuple[np.ndarray, np.ndarray]:
        matrix = self.u * self.lam ** (-self.beta / 2)
        return matrix.astype(np.float32), (self.gamma * self.mu @ matrix).astype(np.float32)

    def apply(self, x: np.ndarray, normalise: bool = True) -> np.ndarray:
        """Map raw vectors (n, d) or (d,) to whitened ones (n, k) or (k,), L2-normalised unless asked not to."""
        x = np.asarray(x, dtype=np.float32)
        if x.shape[-1] != self.dim:
            raise WhiteningMismatch(f"the transform maps {self.dim}-dimensional vectors, not {x.shape[-1]}")
        matrix, bias = self._affine
        y = x @ matrix - bias
        if not normalise:
            return y
        return (y / np.maximum(np.linalg.norm(y, axis=-1, keepdims=True), 1e-12)).astype(np.float32)

    def params(self) -> dict[str, Any]:
        return {"k": self.k, "beta": self.beta, "gamma": self.gamma, "dim_in": self.dim, "fitted_rows": self.rows,
                "fitted_on": self.fitted_on}

    def save(self, folder: Path) -> dict[str, Any]:
        """Write ``folder/FILE``; returns the manifest entry (parameters, file name and its sha256)."""
        path = folder / FILE
        with path.open("wb") as fh:
            np.savez(fh, mu=self.mu, u=self.u, lam=self.lam, beta_gamma=np.array([self.beta, self.gamma]))
        return {**self.params(), "file": FILE, "sha256": _sha256(path)}

    def second_moment_distance(self, raw: np.ndarray) -> float:
        """‖C − I‖_F / √m, C the second moment about γμ of ``raw`` fully whitened (β = 1) along the m leading
        directions: 0 on the vectors of the fit, about 0.1 when a tenth of the posts is new, 0.3 for half."""
        m = min(self.k, DRIFT_DIRECTIONS)
        z = (np.asarray(raw, dtype=np.float64) - self.gamma * self.mu) @ self.u[:, :m] / np.sqrt(self.lam[:m])
        moment = z.T @ z / max(len(z), 1)
        return float(np.linalg.norm(moment - np.eye(m)) / np.sqrt(m))


def fit(raw: np.ndarray, k: int, beta: float = 1.0, gamma: float = 1.0) -> Whitening:
    """Fit on passage vectors ``raw`` (n, d), keeping ``k`` dimensions."""
    x = np.asarray(raw, dtype=np.float64)
    n, d = x.shape
    if not 1 <= k <= d:
        raise WhiteningError(f"whitening keeps 1..{d} dimensions, not {k}")
    if n <= k:
        raise WhiteningError(f"whitening to {k} dimensions needs more than {k} chunks; the index has {n}")
    mu = x.mean(axis=0)
    centred = x - gamma * mu
    lam, u = np.linalg.eigh(centred.T @ centred / n)
    order = np.argsort(lam)[::-1][:k]
    lam, u = lam[order], u[:, order]
    u = u * np.where(u[np.abs(u).argmax(axis=0), np.arange(k)] < 0, -1.0, 1.0)  # a fixed sign per direction
    lam = np.maximum(lam, EIGEN_FLOOR * lam[0])
    return Whitening(mu, u, lam, float(beta), float(gamma), n, fingerprint(raw))


def load(folder: Path, entry: dict[str, Any]) -> Whitening:
    """The transform of the version in ``folder`` described by its manifest ``entry``; checks file and shapes."""
    path = folder / entry["file"]
    if not path.is_file():
        raise WhiteningMismatch(f"{path} is missing")
    digest = _sha256(path)
    if digest != entry["sha256"]:
        raise WhiteningMismatch(f"{path} has sha256 {digest[:12]}…, the manifest records {entry['sha256'][:12]}…")
    with np.load(path, allow_pickle=False) as data:
        mu, u, lam, beta_gamma = data["mu"], data["u"], data["lam"], data["beta_gamma"]
    if u.shape != (entry["dim_in"], entry["k"]) or mu.shape != (entry["dim_in"],) or lam.shape != (entry["k"],):
        raise WhiteningMismatch(f"{path} holds a {u.shape} map, the manifest records ({entry['dim_in']}, {entry['k']})")
    if tuple(beta_gamma) != (entry["beta"], entry["gamma"]):
        raise WhiteningMismatch(f"{path} was fitted with β, γ = {tuple(beta_gamma)}, the manifest records "
                                f"{entry['beta']}, {entry['gamma']}")
    return Whitening(mu, u, lam, float(entry["beta"]), float(entry["gamma"]), int(entry["fitted_rows"]),
                     entry["fitted_on"])


def drift(entry: dict[str, Any], distance: float, chunks: int) -> dict[str, Any]:
    """The drift figures of a reused transform: share of chunks embedded since the fit, second-moment distance,
    and whether a refit (``kexue ingest --refit-whitening``) is advised."""
    share = entry.get("chunks_since_fit", 0) / max(chunks, 1)
    return {"new_share": round(share, 4), "second_moment_distance": round(distance, 4),
            "refit_advised": share > DRIFT_NEW_SHARE or distance > DRIFT_DISTANCE}


def describe(entry: dict[str, Any] | None) -> str:
    """One line for people, e.g. ``k=128, β=1, γ=1 (fitted on 9184 chunks)``."""
    if not entry:
        return "none (raw vectors)"
    return (f"k={entry['k']}, β={entry['beta']:g}, γ={entry['gamma']:g} "
            f"(fitted on {entry['fitted_rows']} chunks)")
