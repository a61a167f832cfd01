"""Exact learning coefficients, and the exact finite-nβ target an estimator aims at.

The **learning coefficient** λ (real log canonical threshold) of a loss K ≥ 0 near a minimum w*
with K(w*) = 0 is the exponent in the volume of the low-loss region,

    V(ε) = ∫_{K(w) < ε} φ(w) dw  ≈  c ε^λ (log 1/ε)^{m−1}    (ε → 0),

and m is its **multiplicity**. It is also the coefficient of log n in the free energy
F_n ≈ n L_n(w*) + λ log n − (m − 1) log log n (Watanabe 2009). A regular model with d parameters
has λ = d/2, m = 1; singular models have λ < d/2. This module gives λ and m where they are known
exactly, so the course's estimator can be tested against right answers:

* :func:`normal_crossing_lambda` — K(w) = Π w_i^{2k_i}, prior ∝ Π |w_i|^{h_i} (every analytic K is
  locally of this form after resolution of singularities: this is the model case);
* :func:`rrr_lambda` — reduced-rank regression y = B A x (Aoyagi & Watanabe 2005);
* :func:`dln_lambda` — deep linear networks y = W_L ⋯ W_1 x (Aoyagi 2024);
* :func:`normal_crossing_expectation` — nβ E[K] under the localised tempered posterior at a finite
  nβ: what the SGLD estimator of notebook 5.2 actually estimates. It tends to λ as nβ → ∞, but for
  m > 1 only slowly, with a gap ≈ (m − 1)/log(nβ).

All three formulas return ``(lambda, multiplicity)`` with λ a float and m an int. They compute with
exact fractions internally, so ties that decide the multiplicity are never lost to rounding.
"""

from __future__ import annotations

import math
from fractions import Fraction
from itertools import combinations
from numbers import Integral
from typing import Sequence

import numpy as np

from ..validation import check_float, check_int

__all__ = ["normal_crossing_lambda", "rrr_lambda", "dln_lambda", "normal_crossing_expectation"]


# --------------------------------------------------------------------------- validation
def _int_sequence(values: object, name: str, *, minimum: int = 0) -> list[int]:
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
        raise TypeError(f"{name} must be a sequence of ints, got {type(values).__name__}")
    values = list(values)  # type: ignore[arg-type]
    if not values:
        raise ValueError(f"{name} must not be empty")
    return [check_int(v, f"{name}[{i}]", min=minimum) for i, v in enumerate(values)]


def _check_k(k: object) -> list[int]:
    ks = _int_sequence(k, "k")
    if not any(ks):
        raise ValueError(f"k must have at least one positive entry (K = 1 has no zero), got {ks}")
    return ks


def _check_h(h: object, d: int) -> list[Fraction]:
    if h is None:
        return [Fraction(0)] * d
    if isinstance(h, (str, bytes)) or not hasattr(h, "__len__"):
        raise TypeError(f"h must be a sequence of numbers (or None), got {type(h).__name__}")
    hs = list(h)  # type: ignore[arg-type]
    if len(hs) != d:
        raise ValueError(f"h must have one entry per entry of k ({d}), got {len(hs)}")
    out = []
    for i, v in enumerate(hs):
        check_float(v, f"h[{i}]")
        # A float is read as the decimal it prints as (0.2 → 1/5), so ties a reader means
        # (h = (0.2, 2.6) with k = (1, 3)) are ties, not lost to binary rounding.
        f = Fraction(v) if isinstance(v, (Integral, Fraction)) else Fraction(str(float(v)))
        if f <= -1:
            raise ValueError(f"h[{i}] must be > -1 (the prior |w|^h must be integrable), got {v}")
        out.append(f)
    return out


# --------------------------------------------------------------------------- normal crossings
def normal_crossing_exact(k: Sequence[int], h: Sequence[float] | None = None) -> tuple[Fraction, int]:
    """:func:`normal_crossing_lambda` with λ as an exact :class:`~fractions.Fraction`."""
    ks = _check_k(k)
    hs = _check_h(h, len(ks))
    ratios = [(hi + 1) / (2 * ki) for ki, hi in zip(ks, hs) if ki > 0]
    lam = min(ratios)
    return lam, sum(1 for r in ratios if r == lam)


def normal_crossing_lambda(k: Sequence[int], h: Sequence[float] | None = None) -> tuple[float, int]:
    """λ and m of K(w) = Π_i w_i^{2 k_i} with prior φ(w) ∝ Π_i |w_i|^{h_i} near w = 0.

    λ = min_i (h_i + 1)/(2 k_i) and m = the number of indices attaining the minimum. Why: the
    volume ∫_{K<ε} φ factorises over coordinates after the change of variables u_i = w_i^{k_i};
    each coordinate alone gives ε^{(h_i+1)/(2k_i)}, the smallest exponent dominates as ε → 0, and
    every tie adds a factor log(1/ε). An index with k_i = 0 (w_i absent from K) only contributes a
    constant. ``h=None`` is the uniform prior (all h_i = 0). Examples: w₁²w₂⁴ → (1/4, 1);
    (w₁w₂)² → (1/2, 2); w² → (1/2, 1), the regular one-parameter model.

    ``k``: non-negative ints, not all zero; ``h``: same length, each > −1.
    """
    lam, m = normal_crossing_exact(k, h)
    return float(lam), m


# --------------------------------------------------------------------------- reduced-rank regression
def _rrr_exact(M: int, H: int, N: int, r: int) -> tuple[Fraction, int]:
    if N + r <= M + H and M + r <= N + H and H + r <= M + N:
        s = 2 * (H + r) * (M + N) - (M - N) ** 2 - (H + r) ** 2
        if (M + H + N + r) % 2 == 0:
            return Fraction(s, 8), 1
        return Fraction(s + 1, 8), 2
    if M + H < N + r:
        return Fraction(H * M - H * r + N * r, 2), 1
    if N + H < M + r:
        return Fraction(H * N - H * r + M * r, 2), 1
    return Fraction(M * N, 2), 1  # M + N < H + r: more hidden units than a full-rank map needs


def rrr_lambda(M: int, H: int, N: int, r: int) -> tuple[float, int]:
    """λ and m of reduced-rank regression y = B A x at a true map of rank r (Aoyagi & Watanabe 2005).

    ``M`` input dimension, ``H`` hidden width (A is H×M, B is N×H), ``N`` output dimension,
    ``r`` the rank of the true product B₀A₀ (0 ≤ r ≤ min(M, H, N)). With S = M + H + N + r:

    * if N + r ≤ M + H, M + r ≤ N + H and H + r ≤ M + N:
      λ = [2(H + r)(M + N) − (M − N)² − (H + r)²]/8, m = 1 when S is even; with +1 in the bracket
      and m = 2 when S is odd;
    * if M + H < N + r: λ = (HM − Hr + Nr)/2; if N + H < M + r: λ = (HN − Hr + Mr)/2;
    * otherwise (M + N < H + r): λ = MN/2, as for an unconstrained linear map.

    The model has H(M + N) parameters, H² of them redundant (A → GA, B → BG⁻¹), so even at full
    rank λ = (H(M + N) − H²)/2 < H(M + N)/2: the symmetry alone makes it singular.
    """
    M = check_int(M, "M", min=1)
    H = check_int(H, "H", min=1)
    N = check_int(N, "N", min=1)
    r = check_int(r, "r", min=0)
    if r > min(M, H, N):
        raise ValueError(f"r must be <= min(M, H, N) = {min(M, H, N)} (a rank of B A), got {r}")
    lam, m = _rrr_exact(M, H, N, r)
    return float(lam), m


# --------------------------------------------------------------------------- deep linear networks
def _dln_from_sigma(widths: Sequence[int], r: int, sigma: Sequence[int]) -> tuple[Fraction, int]:
    """Aoyagi's λ and m given the index set Σ (|Σ| = ℓ + 1 ≥ 2)."""
    deltas = [widths[i] - r for i in sigma]
    ell = len(sigma) - 1
    S = sum(deltas)
    a = S - (-(-S // ell) - 1) * ell  # S − (⌈S/ℓ⌉ − 1)ℓ, in 1..ℓ
    pairs = sum(x * y for x, y in combinations(deltas, 2))
    lam = (Fraction(r * (widths[0] + widths[-1]) - r * r, 2) + Fraction(a * (ell - a), 4 * ell)
           - Fraction(ell * (ell - 1), 4) * Fraction(S, ell) ** 2 + Fraction(pairs, 2))
    return lam, a * (ell - a) + 1


def _sigma_conditions(deltas: Sequence[int], sigma: Sequence[int]) -> bool:
    """Aoyagi's three conditions on Σ: max_Σ Δ < min_Σᶜ Δ, Σ_Σ Δ ≥ ℓ max_Σ Δ, Σ_Σ Δ < ℓ min_Σᶜ Δ."""
    ell = len(sigma) - 1
    inside = [deltas[i] for i in sigma]
    outside = [d for i, d in enumerate(deltas) if i not in sigma]
    low = min(outside) if outside else math.inf
    return max(inside) < low and sum(inside) >= ell * max(inside) and sum(inside) < ell * low


def dln_sigma(widths: Sequence[int], r: int) -> list[int]:
    """The index set Σ of Aoyagi's theorem, by the sorted-prefix construction.

    Σ must satisfy max_Σ Δ < min_Σᶜ Δ, so it is a prefix of the indices sorted by Δ_i = H_i − r.
    For the prefix of length ℓ + 1 put f(ℓ) = Σ_Σ Δ − ℓ max_Σ Δ; the other two conditions read
    f(ℓ) ≥ 0 > f(ℓ + 1), and f is non-increasing with f(1) = min Δ ≥ 0, so exactly one ℓ ≥ 1 works:
    the largest with f(ℓ) ≥ 0.
    """
    order = sorted(range(len(widths)), key=lambda i: widths[i])
    deltas = [widths[i] - r for i in order]
    best = 1
    for ell in range(1, len(widths)):
        if sum(deltas[: ell + 1]) >= ell * deltas[ell]:
            best = ell
        else:
            break
    return sorted(order[: best + 1])


def dln_sigma_by_search(widths: Sequence[int], r: int) -> list[int]:
    """Σ by trying every subset of size ≥ 2 (exponential: for checking :func:`dln_sigma`)."""
    deltas = [w - r for w in widths]
    found = [list(s) for size in range(2, len(widths) + 1)
             for s in combinations(range(len(widths)), size) if _sigma_conditions(deltas, s)]
    if not found:
        raise ValueError(f"no index set satisfies Aoyagi's conditions for widths={list(widths)}, r={r}")
    # Sets differing only by which of several tied Δ they hold give the same λ: return the first.
    return found[0]


def dln_lambda(widths: Sequence[int], r: int) -> tuple[float, int]:
    """λ and m of a deep linear network y = W_L ⋯ W_1 x at a true product of rank r (Aoyagi 2024).

    ``widths`` = (H_1, …, H_{L+1}), input first (W_i is H_{i+1}×H_i); 0 ≤ r ≤ min widths. With
    Δ_i = H_i − r and Σ the index set of :func:`dln_sigma` (|Σ| = ℓ + 1), S = Σ_Σ Δ_i and
    a = S − (⌈S/ℓ⌉ − 1)ℓ:

        λ = [r(H_1 + H_{L+1}) − r²]/2 + a(ℓ − a)/(4ℓ) − ℓ(ℓ − 1)/4 · (S/ℓ)² + ½ Σ_{i<j ∈ Σ} Δ_iΔ_j,
        m = a(ℓ − a) + 1.

    Only the narrowest layers (those in Σ) matter beyond the r-dimensional "true" part. One hidden
    layer, widths (M, H, N), gives :func:`rrr_lambda` (M, H, N, r); one layer, widths (M, N), gives
    the regular MN/2. Example: widths (6, 5, 5, 6), r = 1 → λ = 12, far below d/2 = 42.5.
    """
    if isinstance(widths, (str, bytes)) or not hasattr(widths, "__len__"):
        raise TypeError(f"widths must be a sequence of ints, got {type(widths).__name__}")
    ws = _int_sequence(widths, "widths", minimum=1)
    if len(ws) < 2:
        raise ValueError(f"widths must list at least input and output (2 entries), got {ws}")
    r = check_int(r, "r", min=0)
    if r > min(ws):
        raise ValueError(f"r must be <= min(widths) = {min(ws)} (a rank of the product), got {r}")
    lam, m = _dln_from_sigma(ws, r, dln_sigma(ws, r))
    return float(lam), m


# --------------------------------------------------------------------------- the finite-nβ target
#: Gauss–Legendre nodes per panel and panels per decade of |w| in the quadrature below.
QUADRATURE_ORDER = 16
PANELS_PER_DECADE = 4
#: Decades of |w| covered below the Gaussian cut-off; the rest, [0, tiny], is one more panel.
DECADES = 16
#: The localising Gaussian is cut where exp(−γw²/2) < exp(−TAIL).
TAIL = 40.0


def _radial_nodes(gamma: float, panels_per_decade: int, order: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights on [0, w_max] for smooth even integrands with a sharp feature near 0.

    Geometric panels (``panels_per_decade`` per factor 10 in |w|) resolve every scale at which
    exp(−nβ K) switches off, whatever nβ; Gauss–Legendre of ``order`` within each panel is then
    spectrally accurate, since the integrands are analytic (K is a polynomial).
    """
    w_max = math.sqrt(2 * TAIL / gamma)
    n = DECADES * panels_per_decade
    edges = np.concatenate([[0.0], w_max * np.logspace(-DECADES, 0, n + 1)])
    x, wt = np.polynomial.legendre.leggauss(order)
    lo, hi = edges[:-1, None], edges[1:, None]
    nodes = (lo + hi) / 2 + (hi - lo) / 2 * x
    weights = (hi - lo) / 2 * wt
    return nodes.ravel(), weights.ravel()


def normal_crossing_expectation(
    k: Sequence[int],
    nbeta: float,
    gamma: float = 1.0,
    *,
    panels_per_decade: int = PANELS_PER_DECADE,
    order: int = QUADRATURE_ORDER,
) -> float:
    """nβ E_p[K(w)] for K(w) = Π w_i^{2k_i} (1 or 2 coordinates), p(w) ∝ exp(−nβ K(w) − γ‖w‖²/2).

    This is exactly what the localised SGLD estimator λ̂ = nβ (E[L] − L(w*)) estimates for the loss
    L(w) = L(w*) + K(w) localised at w* = 0 with strength γ: its *finite-nβ target*. It is not λ.
    Writing Z(t) = ∫ exp(−tK) φ_γ, the target is −t d log Z/dt, and Z(t) ≈ C t^{−λ} (log t)^{m−1}
    gives

        nβ E[K] = λ − (m − 1)/log(nβ) + (smaller terms)     (nβ → ∞),

    so it approaches λ from below, slowly when m > 1. Example: K = w² (regular, λ = 1/2) gives
    nβ/(2nβ + γ) exactly.

    Computed by quadrature, accurate to about 1e-8 relative. When some k_i = 1, that coordinate is
    Gaussian given the others and is integrated in closed form (mean of w_i² = 1/(2nβc + γ)),
    leaving a 1-D integral; otherwise a 2-D tensor quadrature. ``panels_per_decade`` and ``order``
    set the resolution (raise them to check convergence).
    """
    ks = _check_k(k)
    if len(ks) > 2:
        raise ValueError(f"k must have 1 or 2 entries here (quadrature in ≤ 2 dimensions), got {len(ks)}")
    t = check_float(nbeta, "nbeta", min=0, inclusive="neither")
    g = check_float(gamma, "gamma", min=0, inclusive="neither")
    panels_per_decade = check_int(panels_per_decade, "panels_per_decade", min=1)
    order = check_int(order, "order", min=2)
    # A coordinate with k_i = 0 is free (Gaussian, independent of K): it drops out of the ratio.
    ks = [kk for kk in ks if kk > 0]
    if len(ks) == 2 and ks[0] != 1 and ks[1] == 1:
        ks = ks[::-1]  # put the Gaussian coordinate first
    if ks == [1]:
        return t / (2 * t + g)
    w, dw = _radial_nodes(g, panels_per_decade, order)
    prior = np.exp(-g * w**2 / 2) * dw
    with np.errstate(over="ignore", under="ignore"):
        if len(ks) == 1:
            tK = t * w ** (2 * ks[0])
            weight = np.exp(-tK) * prior
            return float(np.sum(tK * weight) / np.sum(weight))
        if ks[0] == 1:
            c = w ** (2 * ks[1])  # K = w1² c(w2)
            a = t * c + g / 2  # w1 | w2 ∝ exp(−a w1²): ∫ dw1 = √(π/a), E[w1² | w2] = 1/(2a)
            weight = np.sqrt(np.pi / a) * prior
            return float(np.sum(t * c / (2 * a) * weight) / np.sum(weight))
    return _tensor_expectation(ks, t, g, w, prior)


def _tensor_expectation(ks: Sequence[int], t: float, g: float, w: np.ndarray,
                        prior: np.ndarray) -> float:
    """The 2-D route: tensor-product quadrature over (|w1|, |w2|) (both integrands are even)."""
    k1, k2 = ks
    with np.errstate(over="ignore", under="ignore"):
        tK = t * (w[:, None] ** (2 * k1)) * (w[None, :] ** (2 * k2))
        weight = np.exp(-tK) * prior[:, None] * prior[None, :]
        return float(np.sum(tK * weight) / np.sum(weight))
