"""Small statistics the course reports with: rates with honest uncertainty.

A rate measured on a few dozen seeds ("57 of 64 seeds formed a wheel") is an estimate. The course
reports it with a **Wilson score interval** (Wilson, 1927): unlike the textbook "p ± 1.96·√(p(1−p)/n)"
it stays inside [0, 1], is not zero-width at 0/n or n/n, and keeps close to its nominal coverage even
for small n — exactly the regime of seed sweeps.

* :func:`wilson_interval` — the interval for ``successes`` out of ``n``;
* :func:`format_rate` — ``"57/64 = 89% (95% CI 79–95%)"`` for text and figure labels;
* :func:`rank`, :func:`spearman` — ranks with ties averaged, and Spearman's rank correlation;
* :func:`pearson` — Pearson's correlation of two 1-D samples (numpy arrays, lists or tensors);
* :func:`t_quantile`, :func:`t_interval` — Student's t quantiles (no SciPy) and the interval for the
  mean of a few independent estimates (e.g. SGLD chains); :func:`welch_df` — the degrees of freedom
  of a difference of two such means, and :func:`welch_half_width` — its t half-width;
  :func:`interval_coverage` — an interval's real coverage, simulated;
* :func:`fisher_exact`, :func:`difference_interval`, :func:`rank_sum` — two arms compared: Fisher's
  exact test and Newcombe's interval for two rates, the Mann–Whitney rank-sum for two samples;
* :func:`mcnemar_exact`, :func:`paired_ratio` — two arms measured on the *same* seeds: McNemar's
  exact test on the discordant pairs, and the geometric-mean ratio with a paired t interval and p.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Any, Sequence

import numpy as np

from .validation import check_float, check_fraction, check_int, check_seed

__all__ = ["wilson_interval", "format_rate", "rank", "spearman", "pearson", "fisher_exact",
           "difference_interval", "rank_sum", "mcnemar_exact", "paired_ratio",
           "format_paired_rates", "detectable_ratio", "binomial_tail"]


def _check_counts(successes: object, n: object) -> tuple[int, int]:
    check_int(successes, "successes")
    n = check_int(n, "n", min=1)
    return check_int(successes, "successes", min=0, max=n), n


def _check_confidence(confidence: object) -> float:
    return check_fraction(confidence, "confidence", inclusive="neither")


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval ``(low, high)`` for a binomial rate ``successes / n``.

    With p̂ = k/n and z the two-sided normal quantile (1.959964… for 95%, computed exactly with
    :class:`statistics.NormalDist`)::

        centre    = (p̂ + z²/2n) / (1 + z²/n)
        halfwidth = z / (1 + z²/n) · √(p̂(1 − p̂)/n + z²/4n²)

    >>> [round(x, 4) for x in wilson_interval(5, 10)]
    [0.2366, 0.7634]
    >>> [round(x, 4) for x in wilson_interval(0, 10)]
    [0.0, 0.2775]
    """
    k, n = _check_counts(successes, n)
    confidence = _check_confidence(confidence)
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    low, high = max(0.0, centre - half), min(1.0, centre + half)
    # exact ends: 0/n has low 0 and n/n has high 1 (rounding could leave 1e-17)
    if k == 0:
        low = 0.0
    if k == n:
        high = 1.0
    return low, high


def binomial_tail(successes: int, n: int, rate: float) -> float:
    """P(X ≥ ``successes``) for X ~ Binomial(``n``, ``rate``), summed exactly with
    ``math.comb``: the one-sided chance of at least that many hits when each of ``n``
    independent trials hits with probability ``rate``.

    >>> round(binomial_tail(6, 9, 1 / 3), 4)
    0.0424
    """
    k, n = _check_counts(successes, n)
    q = check_fraction(rate, "rate")
    return float(min(1.0, sum(math.comb(n, x) * q ** x * (1 - q) ** (n - x)
                              for x in range(k, n + 1))))


def format_rate(successes: int, n: int, confidence: float = 0.95) -> str:
    """``"57/64 = 89% (95% CI 79–95%)"``: the count, the rate and its Wilson interval, in percent."""
    k, n = _check_counts(successes, n)
    low, high = wilson_interval(k, n, confidence)
    level = f"{confidence * 100:g}"
    return f"{k}/{n} = {100 * k / n:.0f}% ({level}% CI {100 * low:.0f}–{100 * high:.0f}%)"


def rank(values: Sequence[float]) -> np.ndarray:
    """Ranks 1…n with ties averaged (``inf`` allowed, e.g. "never": all such tie last; NaN not)."""
    v = np.asarray(values, dtype=float)
    if v.ndim != 1 or np.any(np.isnan(v)):
        raise ValueError("values must be 1-D without NaN")
    n = len(v)
    order = np.argsort(v, kind="mergesort")
    ordered = v[order]
    new = np.r_[True, ordered[1:] != ordered[:-1]] if n else np.zeros(0, dtype=bool)
    group = np.cumsum(new) - 1                       # tie group of each sorted position
    starts = np.r_[np.flatnonzero(new), n]           # first position of each group, then n
    mean_rank = (starts[:-1] + starts[1:] + 1) / 2   # mean of 1-based positions start+1 … end
    ranks = np.empty(n)
    ranks[order] = mean_rank[group]
    return ranks


def spearman(a: Sequence[float], b: Sequence[float]) -> float:
    """Spearman's rank correlation (Pearson correlation of the ranks)."""
    ra, rb = rank(a), rank(b)
    if len(ra) != len(rb) or len(ra) < 3:
        raise ValueError("a and b must have the same length ≥ 3")
    ra, rb = ra - ra.mean(), rb - rb.mean()
    denom = math.sqrt((ra ** 2).sum() * (rb ** 2).sum())
    return float((ra * rb).sum() / denom) if denom > 0 else float("nan")


def _sample(x: object) -> np.ndarray:
    if hasattr(x, "detach"):  # a torch tensor
        x = x.detach().cpu()
    return np.asarray(x, dtype=float)


def pearson(x: object, y: object) -> float:
    """Pearson correlation of two 1-D samples of equal length ≥ 2 (NaN if either is constant)."""
    a, b = _sample(x), _sample(y)
    if a.ndim != 1 or b.ndim != 1 or a.shape != b.shape or a.size < 2:
        raise ValueError(f"x and y must be 1-D of the same length ≥ 2, got {a.shape} and {b.shape}")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("x and y must be finite")
    a, b = a - a.mean(), b - b.mean()
    denom = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / denom) if denom > 0 else float("nan")


# --------------------------------------------------------------------------- Student's t, for a few chains
def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the regularised incomplete beta function (Lentz's method)."""
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 400):
        for num in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                    -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + num * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + num / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 1e-15:
            break
    return h


def _betainc(a: float, b: float, x: float) -> float:
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                     + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def _t_cdf(t: float, df: float) -> float:
    tail = 0.5 * _betainc(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t >= 0 else tail


def t_quantile(q: float, df: float) -> float:
    """The ``q`` quantile of Student's t distribution with ``df`` degrees of freedom (bisection on
    its CDF; no SciPy needed). ``t_quantile(0.975, 2) = 4.303``: a 95 % interval from 3 chains is
    mean ± 4.30 standard errors, not ± 2."""
    q = check_float(q, "q", min=0, max=1, inclusive="neither")
    df = check_float(df, "df", min=0, inclusive="neither")
    if q == 0.5:
        return 0.0
    if q < 0.5:
        return -t_quantile(1.0 - q, df)
    lo, hi = 0.0, 1.0
    while _t_cdf(hi, df) < q:
        hi *= 2.0
        if hi > 1e12:
            return math.inf
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if _t_cdf(mid, df) < q:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-12 * max(1.0, hi):
            break
    return 0.5 * (lo + hi)


def welch_df(sem_a: float, sem_b: float, n_a: int, n_b: int) -> float:
    """Welch–Satterthwaite degrees of freedom of a difference of two means whose standard errors
    ``sem_a``, ``sem_b`` come from ``n_a``, ``n_b`` samples:
    (s_a² + s_b²)² / (s_a⁴/(n_a − 1) + s_b⁴/(n_b − 1)). Equal errors and sizes give 2(n − 1); one
    error much larger than the other gives that side's n − 1."""
    n_a = check_int(n_a, "n_a", min=2)
    n_b = check_int(n_b, "n_b", min=2)
    a = check_float(sem_a, "sem_a", min=0) ** 2
    b = check_float(sem_b, "sem_b", min=0) ** 2
    if a + b == 0:
        return float(n_a + n_b - 2)
    return (a + b) ** 2 / (a * a / (n_a - 1) + b * b / (n_b - 1))


def welch_half_width(sem_a: float, sem_b: float, n_a: int, n_b: int, level: float = 0.95) -> float:
    """The ``level`` t half-width of a difference of two means with standard errors ``sem_a`` and
    ``sem_b`` from ``n_a`` and ``n_b`` values: t_{(1+level)/2, ν} · √(sem_a² + sem_b²), ν Welch's."""
    return t_quantile(0.5 + level / 2, welch_df(sem_a, sem_b, n_a, n_b)) * math.hypot(sem_a, sem_b)


def t_interval(per_chain: Any, level: float = 0.95) -> tuple[float, float]:
    """A ``level`` interval for the mean of independent chains' estimates: mean ± t_{(1+level)/2,
    C−1} × std/√C (std with ddof 1). With C = 3 chains ± 2 standard errors covers ≈ 82 %, not 95 %."""
    x = np.asarray(per_chain, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"per_chain must be 1-D (one estimate per chain), got shape {x.shape}")
    if len(x) < 2:
        raise ValueError(f"an interval needs at least 2 chains, got {len(x)}")
    if not np.all(np.isfinite(x)):
        raise ValueError("per_chain must be finite (no NaN or inf)")
    level = check_float(level, "level", min=0, max=1, inclusive="neither")
    half = t_quantile(0.5 + level / 2, len(x) - 1) * float(x.std(ddof=1)) / math.sqrt(len(x))
    return float(x.mean() - half), float(x.mean() + half)


def interval_coverage(interval: Any, *, num_chains: int = 3, trials: int = 4000, level: float = 0.95,
                      seed: int = 0) -> float:
    """How often ``interval(per_chain, level) -> (lo, hi)`` covers the true mean (0) when each of
    ``num_chains`` chains' estimates is an independent standard normal: the interval's real level."""
    if not callable(interval):
        raise TypeError("interval must be callable as interval(per_chain, level) -> (lo, hi)")
    num_chains = check_int(num_chains, "num_chains", min=2)
    trials = check_int(trials, "trials", min=1)
    rng = np.random.default_rng(check_seed(seed))
    draws = rng.standard_normal((trials, num_chains))
    hits = 0
    for row in draws:
        lo, hi = interval(row, level)
        hits += bool(lo <= 0.0 <= hi)
    return hits / trials


# --------------------------------------------------------------------------- two arms
def _arm_counts(k: object, n: object, name: str) -> tuple[int, int]:
    n = check_int(n, f"n_{name}", min=1)
    k = check_int(k, f"k_{name}", min=0, max=n)
    return int(k), int(n)


def fisher_exact(k_a: int, n_a: int, k_b: int, n_b: int) -> float:
    """Two-sided Fisher exact p for ``k_a`` of ``n_a`` against ``k_b`` of ``n_b``: the chance,
    with the margins fixed and no difference between the arms, of a table at most as likely as
    the one observed (hypergeometric, summed exactly with ``math.comb``)."""
    k_a, n_a = _arm_counts(k_a, n_a, "a")
    k_b, n_b = _arm_counts(k_b, n_b, "b")
    total, hits = n_a + n_b, k_a + k_b
    denom = math.comb(total, n_a)
    prob = [math.comb(hits, x) * math.comb(total - hits, n_a - x) / denom
            for x in range(max(0, hits - n_b), min(hits, n_a) + 1)]
    observed = prob[k_a - max(0, hits - n_b)]
    return float(min(1.0, sum(q for q in prob if q <= observed * (1 + 1e-9))))


def difference_interval(k_a: int, n_a: int, k_b: int, n_b: int, confidence: float = 0.95) -> tuple[float, float]:
    """Newcombe's (hybrid score) interval for the difference of two rates ``k_a/n_a − k_b/n_b``,
    built from the two Wilson intervals; it stays inside [−1, 1] and behaves at 0 or n."""
    k_a, n_a = _arm_counts(k_a, n_a, "a")
    k_b, n_b = _arm_counts(k_b, n_b, "b")
    p_a, p_b = k_a / n_a, k_b / n_b
    lo_a, hi_a = wilson_interval(k_a, n_a, confidence)
    lo_b, hi_b = wilson_interval(k_b, n_b, confidence)
    diff = p_a - p_b
    return (float(diff - math.sqrt((p_a - lo_a) ** 2 + (hi_b - p_b) ** 2)),
            float(diff + math.sqrt((hi_a - p_a) ** 2 + (p_b - lo_b) ** 2)))


def rank_sum(a: Sequence[float], b: Sequence[float]) -> tuple[float, float]:
    """Mann–Whitney rank-sum comparison of two samples: ``(auc, p)`` — the chance that a random
    value of ``a`` exceeds one of ``b`` (ties count ½; 0.5: no shift) and the two-sided p of the
    normal approximation with the tie correction (fine from about 8 per arm)."""
    x, y = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
    if len(x) < 2 or len(y) < 2:
        raise ValueError(f"a and b must hold at least 2 values each, got {len(x)} and {len(y)}")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("a and b must be finite")
    n_a, n_b = len(x), len(y)
    ranks = rank(np.r_[x, y])
    u = ranks[:n_a].sum() - n_a * (n_a + 1) / 2
    n = n_a + n_b
    _, ties = np.unique(np.r_[x, y], return_counts=True)
    var = n_a * n_b / 12 * ((n + 1) - float(np.sum(ties ** 3 - ties)) / (n * (n - 1)))
    if var <= 0:
        return 0.5, 1.0
    zscore = (abs(u - n_a * n_b / 2) - 0.5) / math.sqrt(var)  # continuity-corrected
    return float(u / (n_a * n_b)), float(min(1.0, math.erfc(max(zscore, 0.0) / math.sqrt(2))))


# --------------------------------------------------------------------------- paired arms
def mcnemar_exact(a: Sequence[bool], b: Sequence[bool]) -> dict[str, float]:
    """Exact McNemar test for two yes/no outcomes measured on the **same** units (seeds).

    Only the discordant pairs carry information: ``only_a`` units are yes in ``a`` and no in
    ``b``, ``only_b`` the reverse. Under "no difference" each discordant pair is a fair coin, so
    the two-sided p is ``min(1, 2·P(Binomial(only_a + only_b, ½) ≤ min(only_a, only_b)))``.
    Returns ``{"only_a", "only_b", "p"}`` (p = 1 when there is no discordant pair).
    """
    x = np.asarray(a)
    y = np.asarray(b)
    if x.ndim != 1 or y.ndim != 1 or len(x) != len(y) or len(x) == 0:
        raise ValueError(
            f"a and b must be 1-D and of equal, non-zero length (one entry per unit), got"
            f" shapes {x.shape} and {y.shape}"
        )
    if not (np.isin(x, (0, 1)).all() and np.isin(y, (0, 1)).all()):
        raise ValueError("a and b must hold booleans (or 0/1)")
    x, y = x.astype(bool), y.astype(bool)
    only_a, only_b = int(np.sum(x & ~y)), int(np.sum(~x & y))
    m = only_a + only_b
    if m == 0:
        return {"only_a": 0, "only_b": 0, "p": 1.0}
    tail = sum(math.comb(m, i) for i in range(min(only_a, only_b) + 1)) / 2.0**m
    return {"only_a": only_a, "only_b": only_b, "p": float(min(1.0, 2.0 * tail))}


def paired_ratio(a: Sequence[float], b: Sequence[float], level: float = 0.95) -> dict[str, float]:
    """Compare two positive quantities measured on the **same** units (seeds), as a ratio a/b.

    With d_i = ln(a_i / b_i): ``ratio`` = exp(mean d) (the geometric-mean ratio), ``lo``/``hi``
    = exp(mean d ± t_{(1+level)/2, n−1}·sd(d)/√n), and ``p`` the two-sided paired t-test of
    mean d = 0 (t = mean d / (sd(d)/√n), n − 1 degrees of freedom). Also ``n`` and ``wins_a``,
    the number of units with a_i < b_i. Needs n ≥ 2 pairs.
    """
    x = np.asarray(a, dtype=float)
    y = np.asarray(b, dtype=float)
    if x.ndim != 1 or y.ndim != 1 or len(x) != len(y):
        raise ValueError(
            f"a and b must be 1-D and of equal length (one value per unit), got shapes"
            f" {x.shape} and {y.shape}"
        )
    if len(x) < 2:
        raise ValueError(f"a paired comparison needs at least 2 pairs, got {len(x)}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("a and b must be finite")
    if not (np.all(x > 0) and np.all(y > 0)):
        raise ValueError("a and b must be positive (the comparison is on log ratios)")
    level = check_float(level, "level", min=0, max=1, inclusive="neither")
    d = np.log(x) - np.log(y)
    n = len(d)
    mean, sem = float(d.mean()), float(d.std(ddof=1)) / math.sqrt(n)
    half = t_quantile(0.5 + level / 2, n - 1) * sem
    if sem == 0:
        p = 1.0 if mean == 0 else 0.0
    else:
        p = 2.0 * (1.0 - _t_cdf(abs(mean) / sem, n - 1))
    return {
        "ratio": math.exp(mean), "lo": math.exp(mean - half), "hi": math.exp(mean + half),
        "p": float(min(1.0, max(0.0, p))), "n": n, "wins_a": int(np.sum(x < y)),
    }


def format_paired_rates(a: Sequence[bool], b: Sequence[bool]) -> str:
    """Two yes/no rates over the same units, with McNemar's exact test on the discordant ones:
    ``"58/64 vs 45/64 (yes only in the first: 13, only in the second: 0; McNemar p = 0.00024)"``."""
    r = mcnemar_exact(a, b)
    n = len(np.asarray(a))
    k_a, k_b = int(np.sum(np.asarray(a, dtype=bool))), int(np.sum(np.asarray(b, dtype=bool)))
    return (f"{k_a}/{n} vs {k_b}/{n} (yes only in the first: {r['only_a']}, only in the second:"
            f" {r['only_b']}; McNemar p = {r['p']:.2g})")


def detectable_ratio(sd_log: float, n: int, level: float = 0.95, power: float = 0.8) -> float:
    """The smallest ratio (> 1) that a two-sided paired t-test at ``1 − level`` finds with chance
    ``power`` from ``n`` pairs whose log ratios spread with standard deviation ``sd_log``:
    exp((t_{(1+level)/2, n−1} + t_{power, n−1}) · sd_log / √n) (the usual shifted-t approximation;
    a ratio r and 1/r are equally detectable)."""
    sd_log = check_float(sd_log, "sd_log", min=0)
    n = check_int(n, "n", min=2)
    level = check_float(level, "level", min=0, max=1, inclusive="neither")
    power = check_float(power, "power", min=0, max=1, inclusive="neither")
    shift = t_quantile(0.5 + level / 2, n - 1) + t_quantile(power, n - 1)
    return math.exp(shift * sd_log / math.sqrt(n))
