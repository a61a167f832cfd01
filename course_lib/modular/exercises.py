"""Exercise checker for notebook 3.3: the embedding's norm per Fourier frequency.

:func:`check_frequency_norms` runs :class:`~course_lib.exercises.Case` s against the reader's
function and says what is wrong; :func:`solution_frequency_norms` is the reference answer. Tests
against subtle wrong answers live in ``tests/test_modular_exercises.py``.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch

from ..exercises import CheckResult, case, check, forbid
from .measures import embedding_spectrum, fourier_basis, key_frequencies

__all__ = ["solution_frequency_norms", "check_frequency_norms"]


def solution_frequency_norms(W_E: torch.Tensor) -> np.ndarray:
    p = W_E.shape[0]
    coefficients = fourier_basis(p) @ W_E.double()          # (p, d): row 0 constant, then cos k, sin k
    power = coefficients[1:].pow(2).sum(dim=1)               # energy per basis function
    return torch.sqrt(power.reshape(-1, 2).sum(dim=1)).numpy()  # cos k + sin k together


_OWN_SPECTRUM = (embedding_spectrum, key_frequencies)


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
    case("a cosine mode", _case_cos, hint="project W_E onto the Fourier basis: fourier_basis(p) @ W_E"),
    case("a sine mode", _case_sin, hint="frequency k has two basis rows, cos k and sin k: add their energies"),
    case("the constant is not a frequency", _case_constant, hint="skip row 0 of the basis (the constant)"),
    case("values", _case_scale, hint="norm = √(Σ_d (cos_k·W)² + (sin_k·W)²)"),
    case("your own code", _case_own_spectrum, hint="compute it from fourier_basis, not embedding_spectrum"),
]


def check_frequency_norms(attempt: Callable, *, quiet: bool = False) -> CheckResult:
    """Check ``frequency_norms(W_E) -> ((p−1)/2,)``: the embedding's norm per Fourier frequency."""
    return check("frequency_norms", attempt, SPECTRUM_CASES, quiet=quiet)
