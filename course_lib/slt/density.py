"""The density of states near a singularity: how much parameter volume has loss below ε.

For K(w) = Π_i w_i^{2k_i} on the box [−b, b]^d with prior measure Π |w_i|^{h_i} dw,

    V(ε) = vol{w : K(w) < ε}  ≈  c ε^λ (log 1/ε)^{m−1}     (ε → 0),

with (λ, m) from :func:`course_lib.slt.theory.normal_crossing_lambda`. Its derivative V'(ε) is the
density of states at loss level ε, the thing seed 003's "spectroscopes" are meant to probe: a
flatter, more degenerate minimum has more volume at low loss, so a smaller λ.

* :func:`sublevel_volume` — V(ε) exactly (closed form, d ≤ 2);
* :func:`sublevel_volume_mc` — a Monte-Carlo estimate with its standard error (any d);
* :func:`volume_exponent_fit` — the slope of log V against log ε, with or without the
  (m − 1) log log(1/ε) correction. The naive fit of an m = 2 volume is biased low by about
  1/log(1/ε) over the fitted range: the log factor looks like a smaller exponent.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

import numpy as np

from ..validation import check_float, check_int, check_seed
from .theory import _check_h, _check_k

__all__ = ["sublevel_volume", "sublevel_volume_mc", "volume_exponent_fit", "ExponentFit",
           "leading_volume"]


def _check_eps(eps: object) -> np.ndarray:
    if isinstance(eps, (str, bytes)):
        raise TypeError("eps must be a number or an array of numbers")
    try:
        arr = np.asarray(eps, dtype=float)
    except (TypeError, ValueError) as err:
        raise TypeError(f"eps must be a number or an array of numbers ({err})") from None
    if arr.size == 0:
        raise ValueError("eps must not be empty")
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0) or np.any(arr >= 1):
        raise ValueError(f"eps must lie in (0, 1), got values in [{arr.min()}, {arr.max()}]")
    return arr


def _check_box(box: object) -> float:
    return check_float(box, "box", min=0, inclusive="neither")


def _quadrant_1d(k: int, h: float, s: np.ndarray, b: float) -> np.ndarray:
    """∫_0^b x^h 1{x^k < s} dx (k ≥ 1)."""
    top = np.minimum(s ** (1.0 / k), b)
    return top ** (h + 1) / (h + 1)


def _quadrant_2d(k1: int, k2: int, h1: float, h2: float, tie: bool, s: np.ndarray,
                 b: float) -> np.ndarray:
    """∫∫_{[0,b]², x^{k1} y^{k2} < s} x^{h1} y^{h2} dx dy for k1, k2 ≥ 1, in closed form.

    For x ≤ x0 = (s/b^{k2})^{1/k1} every y ∈ [0, b] qualifies; beyond, y < y(x) = (s/x^{k1})^{1/k2}:

        V = b^{h2+1} x0^{h1+1} / ((h1+1)(h2+1)) + s^{(h2+1)/k2}/(h2+1) ∫_{x0}^{b} x^{p−1} dx,

    p = (h1 + 1) − k1(h2 + 1)/k2. The last integral is (b^p − x0^p)/p, or log(b/x0) when p = 0 —
    exactly when (h1+1)/(2k1) = (h2+1)/(2k2), the tie that makes m = 2: that log is the
    (log 1/ε)^{m−1} of the volume law.
    """
    x0 = (s / b**k2) ** (1.0 / k1)
    full = x0 >= b  # the whole quadrant lies below the level
    x0 = np.minimum(x0, b)
    first = b ** (h2 + 1) * x0 ** (h1 + 1) / ((h1 + 1) * (h2 + 1))
    log_ratio = np.log(b / x0)
    if tie:
        tail = log_ratio
    else:
        p = (h1 + 1) - k1 * (h2 + 1) / k2
        tail = b**p * -np.expm1(-p * log_ratio) / p  # (b^p − x0^p)/p, stable for small p
    second = s ** ((h2 + 1) / k2) / (h2 + 1) * tail
    whole = b ** (h1 + h2 + 2) / ((h1 + 1) * (h2 + 1))
    return np.where(full, whole, first + second)


def sublevel_volume(k: Sequence[int], eps: float | np.ndarray, h: Sequence[float] | None = None,
                    box: float = 1.0) -> float | np.ndarray:
    """V(ε) = ∫_{[−b, b]^d, K(w) < ε} Π |w_i|^{h_i} dw for K = Π w_i^{2k_i}, exactly (d = 1 or 2).

    Every term is even in every w_i, so V is 2^d times the positive-quadrant integral, which has a
    closed form (:func:`_quadrant_2d`). A coordinate with k_i = 0 is not constrained and contributes
    the factor 2 b^{h_i+1}/(h_i + 1). ``eps`` may be an array (values in (0, 1)); the result has its
    shape. ``h=None`` is the uniform measure, ``box`` = b.
    """
    ks = _check_k(k)
    hs_exact = _check_h(h, len(ks))
    if len(ks) > 2:
        raise ValueError(f"k must have 1 or 2 entries for the exact volume (use sublevel_volume_mc "
                         f"in higher dimensions), got {len(ks)}")
    e = _check_eps(eps)
    b = _check_box(box)
    s = np.sqrt(e)  # K < ε  ⇔  Π |w_i|^{k_i} < √ε
    hs = [float(v) for v in hs_exact]
    factor = 2.0 ** len(ks)
    active = [i for i, kk in enumerate(ks) if kk > 0]
    for i, kk in enumerate(ks):
        if kk == 0:
            factor *= b ** (hs[i] + 1) / (hs[i] + 1)
    if len(active) == 1:
        i = active[0]
        out = _quadrant_1d(ks[i], hs[i], s, b)
    else:
        tie = (hs_exact[0] + 1) * ks[1] == (hs_exact[1] + 1) * ks[0]
        out = _quadrant_2d(ks[0], ks[1], hs[0], hs[1], tie, s, b)
    out = factor * out
    return float(out) if np.ndim(eps) == 0 else out


def sublevel_volume_mc(k: Sequence[int], eps: float | np.ndarray, n_samples: int = 100_000,
                       seed: int = 0, h: Sequence[float] | None = None,
                       box: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Monte-Carlo V(ε) and its standard error, from ``n_samples`` uniform points in [−b, b]^d.

    V̂ = (2b)^d · mean(1{K(w) < ε} Π |w_i|^{h_i}); with h = 0 this is a binomial proportion and the
    standard error is (2b)^d √(p̂(1 − p̂)/n). K is compared in log space (Σ 2k_i log|w_i| < log ε),
    so tiny levels do not underflow. Any dimension d. Returns arrays shaped like ``eps``.
    """
    ks = _check_k(k)
    hs = [float(v) for v in _check_h(h, len(ks))]
    e = _check_eps(eps)
    b = _check_box(box)
    n = check_int(n_samples, "n_samples", min=2)
    rng = np.random.default_rng(check_seed(seed))
    log_eps = np.log(e.ravel())
    total = np.zeros_like(log_eps)
    total_sq = np.zeros_like(log_eps)
    chunk = 200_000
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        w = np.abs(rng.uniform(-b, b, size=(m, len(ks))))
        with np.errstate(divide="ignore"):
            logw = np.log(w)
        log_k = logw @ (2.0 * np.asarray(ks, dtype=float))
        weight = np.exp(logw @ np.asarray(hs)) if any(hs) else np.ones(m)
        below = log_k[:, None] < log_eps[None, :]
        contrib = below * weight[:, None]
        total += contrib.sum(axis=0)
        total_sq += (contrib**2).sum(axis=0)
    scale = (2 * b) ** len(ks)
    mean = total / n
    var = np.maximum(total_sq / n - mean**2, 0.0)
    return (scale * mean).reshape(e.shape), (scale * np.sqrt(var / n)).reshape(e.shape)


@dataclass(frozen=True)
class ExponentFit:
    """Least-squares fit log V = intercept + exponent · log ε + log_power · log log(1/ε).

    ``log_power`` is fixed, not fitted: 0 for the naive power-law fit, m − 1 to remove the known
    log factor. ``rms`` is the root-mean-square residual in log V.
    """

    exponent: float
    intercept: float
    log_power: float
    rms: float


def volume_exponent_fit(eps: np.ndarray, volumes: np.ndarray, *, log_power: float = 0.0) -> ExponentFit:
    """Fit the exponent λ of V(ε) ≈ c ε^λ (log 1/ε)^{log_power} over the given levels.

    With ``log_power=0`` this is the slope of the log-log plot — what one would measure knowing
    nothing about the singularity. For an m = 2 singularity that slope is biased low: the local
    slope of the true law is d log V/d log ε = λ − (m − 1)/log(1/ε), not λ. Passing
    ``log_power = m − 1`` divides the log factor out before fitting and recovers λ.
    """
    e = _check_eps(eps).ravel()
    if isinstance(volumes, (str, bytes)):
        raise TypeError("volumes must be an array of numbers")
    v = np.asarray(volumes, dtype=float).ravel()
    if v.shape != e.shape:
        raise ValueError(f"volumes must have one entry per eps ({e.size}), got {v.size}")
    if e.size < 2 or np.unique(e).size < 2:
        raise ValueError("eps must hold at least two distinct levels to fit a slope")
    if not np.all(np.isfinite(v)) or np.any(v <= 0):
        raise ValueError("volumes must be positive and finite (a zero volume has no logarithm)")
    log_power = check_float(log_power, "log_power")
    x = np.log(e)
    y = np.log(v) - log_power * np.log(-x)
    slope, intercept = np.polyfit(x, y, 1)
    rms = float(np.sqrt(np.mean((y - (intercept + slope * x)) ** 2)))
    return ExponentFit(float(slope), float(intercept), float(log_power), rms)


def leading_volume(k: Sequence[int], eps: float | np.ndarray, h: Sequence[float] | None = None,
                   box: float = 1.0) -> float | np.ndarray:
    """The leading term c ε^λ (log 1/ε)^{m−1} of :func:`sublevel_volume` (d ≤ 2, m ≤ 2).

    From the closed form: when λ is attained by a single active coordinate, only the term with the
    smallest exponent survives as ε → 0; for a tie (m = 2), the log(b/x0) term does.
    """
    ks = _check_k(k)
    hs_exact = _check_h(h, len(ks))
    e = _check_eps(eps)
    b = _check_box(box)
    if len(ks) > 2:
        raise ValueError(f"k must have 1 or 2 entries, got {len(ks)}")
    hs = [float(v) for v in hs_exact]
    factor = 2.0 ** len(ks)
    for i, kk in enumerate(ks):
        if kk == 0:
            factor *= b ** (hs[i] + 1) / (hs[i] + 1)
    active = [i for i, kk in enumerate(ks) if kk > 0]
    lams = {i: Fraction(hs_exact[i] + 1) / (2 * ks[i]) for i in active}
    lam = min(lams.values())
    at_min = [i for i in active if lams[i] == lam]
    if len(active) == 1:
        i = active[0]
        out = e ** float(lam) / (hs[i] + 1)
    elif len(at_min) == 2:
        # The log(b/x0) term of _quadrant_2d: s^{(h2+1)/k2} = ε^λ and
        # log(b/x0) = log(1/ε)/(2k1) + (1 + k2/k1) log b, whose first part leads.
        out = e ** float(lam) * np.log(1 / e) / (2 * ks[0] * (hs[1] + 1))
    else:
        i = at_min[0]
        j = active[1 - active.index(i)]
        # The smaller exponent belongs to coordinate i; coordinate j integrates over its full range
        # in the limit, with the i-constraint x_i^{k_i} < s / x_j^{k_j}.
        p = (hs[j] + 1) - ks[j] * (hs[i] + 1) / ks[i]  # > 0 since λ_j > λ_i
        out = e ** float(lam) / (hs[i] + 1) * b**p / p
    out = factor * out
    return float(out) if np.ndim(eps) == 0 else out
