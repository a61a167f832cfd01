"""Exercise checkers for notebooks 3.1 (held-out probes), 3.2 (how many directions a name needs) and
3.3 (the embedding's Fourier spectrum).

Each ``check_*`` runs :class:`~course_lib.exercises.Case` s against the reader's function and says
what is wrong; ``solution_*`` are the reference answers. Tests against subtle wrong answers live in
``tests/test_identity_exercises.py``.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch

from ..exercises import Case, CheckResult, check, forbid
from .probes import fit_ridge, fold_ids, r2_score

__all__ = ["solution_held_out_r2", "check_held_out_r2", "solution_variance_kept", "check_variance_kept",
           "solution_frequency_norms", "check_frequency_norms"]

_OWN_PROBES = ("course_lib.identity.probes:ridge_oof", "course_lib.identity.probes:probe",
               "course_lib.identity.probes:probe_table")


# --------------------------------------------------------------------------- reference solutions
def solution_held_out_r2(X: np.ndarray, y: np.ndarray, folds: np.ndarray) -> float:
    pred = np.zeros(len(y))
    for f in np.unique(folds):
        test = folds == f
        predict = fit_ridge(X[~test], y[~test])
        pred[test] = predict(X[test])
    return r2_score(y, pred)


def solution_variance_kept(X: np.ndarray, k: int) -> float:
    centred = X - X.mean(axis=0)
    _, s, _ = np.linalg.svd(centred, full_matrices=False)
    return float((s[:k] ** 2).sum() / (s**2).sum())


# --------------------------------------------------------------------------- held-out R²
def _num(out: Any, what: str) -> float:
    assert np.ndim(out) == 0, f"{what} must be one number, got shape {np.shape(out)}"
    value = float(out)
    assert np.isfinite(value), f"{what} is {value}"
    return value


def _noise(seed: int = 0, n: int = 240, d: int = 120) -> tuple:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.normal(size=n), fold_ids(n, 5, seed)


def _case_noise(attempt: Callable) -> None:
    X, y, folds = _noise()
    got = _num(attempt(X, y, folds), "the R²")
    assert got < 0.1, (
        f"features that are pure noise scored R² = {got:.2f}: the probe saw the names it was scored on. "
        "Fit on the other folds only (X[~test], y[~test]) and predict the held-out fold")


def _case_signal(attempt: Callable) -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 10)); y = X[:, 0] - 0.5 * X[:, 1] + 0.2 * rng.normal(size=300)
    got = _num(attempt(X, y, fold_ids(300, 5, 1)), "the R²")
    assert got > 0.9, f"a strong planted direction scored only R² = {got:.2f}: check which rows you fit on"


def _case_pooled(attempt: Callable) -> None:
    rng = np.random.default_rng(2)
    X = rng.normal(size=(90, 6)); y = X[:, 0] + rng.normal(size=90)
    folds = fold_ids(90, 3, 2)
    got, want = _num(attempt(X, y, folds), "the R²"), solution_held_out_r2(X, y, folds)
    assert abs(got - want) < 1e-6, (
        f"expected {want:.4f}, got {got:.4f}: compute one R² over all names from their out-of-fold "
        "predictions (not an average of per-fold R²s, and with the global mean of y in the denominator)")


def _case_own(attempt: Callable) -> None:
    X, y, folds = _noise(3, 60, 5)
    with forbid(_OWN_PROBES):
        attempt(X, y, folds)


HELD_OUT_CASES = [
    Case("pure-noise features score about zero", _case_noise, "no name may be predicted by a probe fitted on it"),
    Case("a planted direction is found", _case_signal, "fit on the training folds, predict the held-out one"),
    Case("pooled out-of-fold R²", _case_pooled, "fill a prediction for every name, then one r2_score"),
    Case("your own loop", _case_own, "write the loop over folds with fit_ridge, not ridge_oof"),
]


def check_held_out_r2(attempt: Callable, quiet: bool = False) -> CheckResult:
    """Check ``held_out_r2(X, y, folds) -> float`` (pooled out-of-fold R² of ridge probes)."""
    return check("held_out_r2", attempt, HELD_OUT_CASES, quiet=quiet)


# --------------------------------------------------------------------------- variance kept
def _case_known(attempt: Callable) -> None:
    X = np.array([[3.0, 0.0], [-3.0, 0.0], [0.0, 1.0], [0.0, -1.0]])   # variances 9/2 and 1/2 per row
    got = _num(attempt(X, 1), "the share")
    assert abs(got - 0.9) < 1e-9, f"for variances 18 and 2 along two axes, k = 1 keeps 0.9, got {got:.4f}"


def _case_centred(attempt: Callable) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5)) * [3, 2, 1, 0.5, 0.1] + 50.0      # far from the origin
    got, want = _num(attempt(X, 2), "the share"), solution_variance_kept(X, 2)
    assert abs(got - want) < 1e-6, (
        f"expected {want:.4f}, got {got:.4f}: measure variance around the mean name (centre X first); "
        "uncentred, the first direction just points at the mean")


def _case_all(attempt: Callable) -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(50, 4))
    assert abs(_num(attempt(X, 4), "the share") - 1.0) < 1e-9, "keeping every direction must keep all the variance"
    small, big = _num(attempt(X, 1), "the share"), _num(attempt(X, 3), "the share")
    assert 0 < small < big < 1, "the share must grow with k: use the top-k directions (largest singular values)"


VARIANCE_CASES = [
    Case("two axes", _case_known, "a share of the total: Σ top-k s² / Σ s²"),
    Case("centred", _case_centred, "subtract the mean embedding before the SVD"),
    Case("grows with k to 1", _case_all, "the singular values come sorted largest first"),
]


def check_variance_kept(attempt: Callable, quiet: bool = False) -> CheckResult:
    """Check ``variance_kept(X, k) -> float`` (share of the centred variance in the top k directions)."""
    return check("variance_kept", attempt, VARIANCE_CASES, quiet=quiet)


# --------------------------------------------------------------------------- Fourier spectrum (3.3)
def solution_frequency_norms(W_E: torch.Tensor) -> np.ndarray:
    from .grokking import fourier_basis

    p = W_E.shape[0]
    coefficients = fourier_basis(p) @ W_E.double()          # (p, d): row 0 constant, then cos k, sin k
    power = coefficients[1:].pow(2).sum(dim=1)               # energy per basis function
    return torch.sqrt(power.reshape(-1, 2).sum(dim=1)).numpy()  # cos k + sin k together


_OWN_SPECTRUM = ("course_lib.identity.grokking:embedding_spectrum", "course_lib.identity.grokking:key_frequencies")


def _wave(p: int, d: int, k: int, kind: str, scale: float = 1.0):
    x = torch.arange(p, dtype=torch.float64)
    f = torch.cos(2 * np.pi * k * x / p) if kind == "cos" else torch.sin(2 * np.pi * k * x / p)
    direction = torch.zeros(d, dtype=torch.float64); direction[0] = scale
    return f[:, None] * direction[None, :]


def _vec(out: Any, p: int) -> np.ndarray:
    arr = out.detach().cpu().numpy() if isinstance(out, torch.Tensor) else np.asarray(out, dtype=float)
    assert arr.shape == ((p - 1) // 2,), f"expected one norm per frequency k = 1 … {(p - 1) // 2}, shape ({(p - 1) // 2},), got {arr.shape}"
    return arr.astype(float)


def _case_cos(attempt: Callable) -> None:
    p = 11
    got = _vec(attempt(_wave(p, 4, 3, "cos", 2.0)), p)
    assert np.argmax(got) == 2 and np.allclose(np.delete(got, 2), 0, atol=1e-9), (
        f"W_E = 2·cos(2π·3x/11) along one axis must put all its energy at k = 3 (index 2), got {np.round(got, 3)}")


def _case_sin(attempt: Callable) -> None:
    p = 13
    got = _vec(attempt(_wave(p, 3, 5, "sin")), p)
    assert got[4] > 1e-6 and np.allclose(np.delete(got, 4), 0, atol=1e-9), (
        f"a pure sine at k = 5 must show at k = 5 too (count the sin component, not only the cos), got {np.round(got, 3)}")


def _case_constant(attempt: Callable) -> None:
    p = 11
    W = _wave(p, 4, 2, "cos") + 5.0                           # every token shifted by the same vector
    got = _vec(attempt(W), p)
    want = solution_frequency_norms(W)
    assert np.allclose(got, want, atol=1e-6), (
        f"a constant offset is frequency 0 and must not show anywhere: expected {np.round(want, 3)}, got {np.round(got, 3)}")


def _case_scale(attempt: Callable) -> None:
    g = torch.Generator().manual_seed(0)
    W = torch.randn(17, 6, generator=g, dtype=torch.float64)
    got, want = _vec(attempt(W), 17), solution_frequency_norms(W)
    assert np.allclose(got, want, atol=1e-6), (
        f"expected {np.round(want, 3)}, got {np.round(got, 3)}: use the orthonormal basis and take √(cos² + sin²) "
        "summed over the embedding dimensions")


def _case_own_spectrum(attempt: Callable) -> None:
    with forbid(_OWN_SPECTRUM):
        attempt(_wave(11, 2, 1, "cos"))


SPECTRUM_CASES = [
    Case("a cosine mode", _case_cos, "project W_E onto the Fourier basis: fourier_basis(p) @ W_E"),
    Case("a sine mode", _case_sin, "frequency k has two basis rows, cos k and sin k: add their energies"),
    Case("the constant is not a frequency", _case_constant, "skip row 0 of the basis (the constant)"),
    Case("values", _case_scale, "norm = √(Σ_d (cos_k·W)² + (sin_k·W)²)"),
    Case("your own code", _case_own_spectrum, "compute it from fourier_basis, not embedding_spectrum"),
]


def check_frequency_norms(attempt: Callable, quiet: bool = False) -> CheckResult:
    """Check ``frequency_norms(W_E) -> ((p−1)/2,)``: the embedding's norm per Fourier frequency."""
    return check("frequency_norms", attempt, SPECTRUM_CASES, quiet=quiet)
