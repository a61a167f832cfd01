"""Figures for notebook 5.1 (density of states near a singularity).

Every series has its own marker or line style as well as its colour, so no figure relies on hue.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from matplotlib.figure import Figure

from ..figures import marker, new_figure

from .density import sublevel_volume, sublevel_volume_mc, volume_exponent_fit
from .theory import normal_crossing_expectation, normal_crossing_lambda

__all__ = ["plot_sublevel_sets", "plot_finite_nbeta_target", "LEVELS", "FIT_EPS"]

#: Loss levels drawn as sublevel sets in the left panel.
LEVELS: tuple[float, ...] = (1e-1, 1e-2, 1e-3)
#: Levels over which the volume exponent is fitted (and the volume drawn).
FIT_EPS: np.ndarray = np.logspace(-12, -2, 21)
_STYLES = ("-", "--", ":")


def _k_label(k: Sequence[int]) -> str:
    terms = [f"w_{i + 1}^{{{2 * kk}}}" if kk > 1 else f"w_{i + 1}^2" for i, kk in enumerate(k) if kk]
    return "$K = " + " ".join(terms) + "$"


def plot_sublevel_sets(k: Sequence[int], *, eps: np.ndarray = FIT_EPS,
                       levels: Sequence[float] = LEVELS, n_mc: int = 100_000,
                       seed: int = 0) -> Figure:
    """Left: the sets {K < ε} in [−1, 1]² for a few levels. Right: V(ε) on log-log axes.

    The right panel shows the exact volume (line), Monte-Carlo estimates where they resolve it
    (hollow circles, ±2 standard errors), the naive least-squares slope and a line of slope λ.
    """
    k = tuple(int(v) for v in k)
    lam, m = normal_crossing_lambda(k)
    fig = new_figure((10.5, 4.4))
    left, right = fig.subplots(1, 2)

    grid = np.linspace(-1, 1, 401)
    w1, w2 = np.meshgrid(grid, grid)
    K = w1 ** (2 * k[0]) * w2 ** (2 * k[1])
    left.contourf(w1, w2, K, levels=[0, max(levels)], colors=["#c6dbef"])
    for level, style in zip(sorted(levels, reverse=True), _STYLES):
        left.contour(w1, w2, K, levels=[level], colors=["#08306b"], linestyles=[style], linewidths=1.6)
        left.plot([], [], color="#08306b", linestyle=style, label=f"$K = 10^{{{np.log10(level):.0f}}}$")
    left.set(xlim=(-1, 1), ylim=(-1, 1), xlabel="$w_1$", ylabel="$w_2$", aspect="equal",
             title=f"{_k_label(k)}: where $K < \\varepsilon$ (shaded: $\\varepsilon = {max(levels):g}$)")
    left.legend(loc="upper right", fontsize=9, framealpha=0.9)

    volume = sublevel_volume(k, eps)
    fit = volume_exponent_fit(eps, volume)
    right.loglog(eps, volume, color="#08306b", lw=2, label="exact volume $V(\\varepsilon)$")
    mc, se = sublevel_volume_mc(k, eps, n_mc, seed)
    shown = mc > 10 * se  # where the sample resolves the volume to better than 10 %
    right.errorbar(eps[shown], mc[shown], yerr=2 * se[shown], fmt="o", mfc="none", mec="#b35900",
                   ecolor="#b35900", ms=7, label=f"Monte Carlo ({n_mc:,} points, ±2 s.e.)")
    right.loglog(eps, np.exp(fit.intercept) * eps**fit.exponent, ls="--", color="black",
                 label=f"least-squares slope {fit.exponent:.3f}")
    anchor = volume[0] / eps[0] ** lam
    right.loglog(eps, anchor * eps**lam, ls=":", color="#2f7f2f", lw=2,
                 label=f"slope $\\lambda$ = {lam:.3f}" + (f" (m = {m})" if m > 1 else ""))
    right.set(xlabel="loss level $\\varepsilon$", ylabel="volume of $\\{K < \\varepsilon\\}$",
              title=f"$\\lambda = {lam:.3g}$, m = {m}: $V \\approx c\\,\\varepsilon^\\lambda"
                    f"(\\log 1/\\varepsilon)^{{m-1}}$")
    right.legend(loc="lower right", fontsize=9)
    right.grid(True, which="major", alpha=0.3)
    return fig


def plot_finite_nbeta_target(ks: Sequence[Sequence[int]], nbetas: np.ndarray, *,
                             gamma: float = 1.0) -> Figure:
    """nβ E[K] under the localised posterior against nβ, for each K, with λ as a dotted line.

    For a singularity of multiplicity m > 1 the curve λ − (m − 1)/log(nβ) is drawn too (dash-dot,
    for nβ ≥ 10³): the slow approach that no finite nβ escapes.
    """
    fig = new_figure((11, 4.8))
    ax = fig.subplots()
    for i, k in enumerate(ks):
        lam, m = normal_crossing_lambda(k)
        target = [normal_crossing_expectation(k, nb, gamma) for nb in nbetas]
        line, = ax.semilogx(nbetas, target, marker=marker(i), mfc="none",
                            label=f"{_k_label(k)} (λ = {lam:.3g}, m = {m})")
        ax.axhline(lam, color=line.get_color(), ls=":", lw=1.2)
        if m > 1:  # the asymptotic form, drawn where it is a fair approximation
            far = np.asarray(nbetas) >= 1e3
            ax.semilogx(np.asarray(nbetas)[far], lam - (m - 1) / np.log(np.asarray(nbetas)[far]),
                        color=line.get_color(), ls="-.", lw=1.2, label=f"λ − {m - 1}/log nβ")
    ax.set(xlabel="nβ (inverse temperature × sample size)",
           ylabel="nβ E[K]: the estimator's target",
           title=f"What an LLC estimator aims at, at finite nβ (γ = {gamma:g}); dotted: λ")
    ax.set_ylim(0, None)
    ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    ax.grid(True, alpha=0.3)
    return fig
