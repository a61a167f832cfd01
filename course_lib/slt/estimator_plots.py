"""Figures of notebook 5.2: chain diagnostics, calibration sweeps, estimates against theory.

Every series has its own marker as well as its colour, so no figure relies on hue alone.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..figures import marker, new_figure
from .calibration import Calibration
from .estimator import LLCResult

STATUS_STYLE = {"stable": ("o", "tab:blue"), "drifting": ("^", "tab:orange"),
                "diverged": ("x", "tab:red")}


def plot_chains(result: LLCResult, title: str = "", *, max_chains: int = 8) -> Figure:
    """Left: each chain's nβ (L_B(w_t) − L_n(w*)) over every step, burn-in shaded.
    Right: each chain's running estimate over the draws, and the final mean ± 2 s.e.m."""
    fig = new_figure((11, 3.6), layout="tight")
    left, right = fig.subplots(1, 2)
    trace = np.concatenate([result.burnin_trace, result.loss_trace], axis=1)
    scaled = result.nbeta * (trace - result.init_loss)
    steps = np.arange(trace.shape[1])
    shown = min(result.num_chains, max_chains)
    every = max(1, trace.shape[1] // 400)
    for c in range(shown):
        left.plot(steps[::every], scaled[c, ::every], lw=0.7, alpha=0.8,
                  marker=marker(c), markevery=max(1, len(steps[::every]) // 6),
                  ms=4)
    if result.num_burnin:
        left.axvspan(0, result.num_burnin, color="0.85", zorder=0, label="burn-in (not averaged)")
        left.legend(loc="upper right", fontsize=8)
    left.set(xlabel="SGLD step", ylabel=r"$n\beta\,(L_B(w_t) - L_n(w^*))$",
             title="loss along each chain")
    running = result.llc_trace()
    draws = np.arange(1, result.num_draws + 1)
    for c in range(shown):
        right.plot(draws, running[c], lw=1, marker=marker(c),
                   markevery=max(1, result.num_draws // 6), ms=4)
    right.axhspan(result.mean - 2 * result.sem, result.mean + 2 * result.sem, color="0.8",
                  label=fr"$\hat\lambda$ = {result.mean:.3f} ± {2 * result.sem:.3f} (2 s.e.m.)")
    right.set(xlabel="draw (after burn-in)", ylabel=r"running $\hat\lambda$ per chain",
              title=f"{result.num_chains} chains")
    right.legend(loc="upper right", fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def draw_calibration(ax: Axes, calibration: Calibration, *, target: Optional[float] = None,
                     target_label: str = "target", title: str = "") -> None:
    """λ̂ against ε (log axis) with 2 s.e.m. bars, each point marked by its status; the plateau
    shaded, the recommended ε starred, diverged settings drawn as × at the top."""
    eps, means, sems = calibration.epsilons, calibration.means, calibration.sems
    finite = np.isfinite(means)
    top = np.nanmax(means + 2 * sems) if finite.any() else 1.0
    for status, (symbol, color) in STATUS_STYLE.items():
        picked = [i for i, p in enumerate(calibration.points) if p.status == status]
        if not picked:
            continue
        if status == "diverged":
            ax.plot(eps[picked], np.full(len(picked), top), symbol, color=color, ms=9,
                    label="diverged", linestyle="none")
        else:
            ax.errorbar(eps[picked], means[picked], yerr=2 * sems[picked], fmt=symbol,
                        color=color, ms=6, capsize=3, label=status)
    ax.plot(eps[finite], means[finite], color="0.5", lw=0.8, zorder=0)
    if calibration.plateau:
        lo, hi = eps[calibration.plateau[0]], eps[calibration.plateau[-1]]
        ax.axvspan(lo / 1.3, hi * 1.3, color="tab:green", alpha=0.12, label="plateau")
    if calibration.recommended is not None:
        i = int(np.argmin(np.abs(np.log(eps / calibration.recommended))))
        ax.plot([eps[i]], [means[i]], "*", color="tab:green", ms=16, mec="k",
                label=f"recommended ε = {calibration.recommended:.2g}")
    if target is not None:
        ax.axhline(target, color="k", ls="--", lw=1, label=target_label)
    ax.set_xscale("log")
    ax.set(xlabel=r"step size $\varepsilon$", ylabel=r"$\hat\lambda$", title=title)
    ax.legend(fontsize=7, loc="best")


def plot_calibrations(panels: Sequence[tuple[str, Calibration, Optional[float]]],
                      target_label: str = "target") -> Figure:
    """One :func:`draw_calibration` panel per (title, calibration, target)."""
    fig = new_figure((4.2 * len(panels), 3.8), layout="tight")
    axes = fig.subplots(1, len(panels), squeeze=False)
    for ax, (title, calibration, target) in zip(axes[0], panels):
        draw_calibration(ax, calibration, target=target, target_label=target_label, title=title)
    return fig


def plot_inflation(epsilons: np.ndarray, measured: np.ndarray, errors: np.ndarray,
                   predicted: np.ndarray, curvature: float) -> Figure:
    """Measured λ̂(ε) / exact against the predicted inflation 1/(1 − εa/4), on a log axis, up to
    the stability edge εa = 4 (one step multiplies w by 1 − εa/2)."""
    fig = new_figure((6.4, 3.9), layout="tight")
    ax = fig.subplots()
    grid = np.linspace(0, 4 * 0.995, 400)
    ax.plot(grid, 1 / (1 - grid / 4), "k--", lw=1, label=r"predicted $1/(1-\varepsilon a/4)$")
    ax.errorbar(epsilons * curvature, measured, yerr=2 * errors, fmt="o", color="tab:blue",
                capsize=3, label=r"measured $\hat\lambda(\varepsilon)$ / exact (± 2 s.e.m.)")
    ax.plot(epsilons * curvature, predicted, "s", mfc="none", color="tab:orange", ms=9,
            label="prediction at the measured ε")
    ax.axvline(2, color="0.5", lw=1, ls=":", label=r"$\varepsilon a = 2$: factor $1-\varepsilon a/2 = 0$")
    ax.axvline(4, color="tab:red", lw=1.2, ls="-.", label=r"$\varepsilon a = 4$: chains diverge")
    ax.set_yscale("log")
    ax.set_xlim(0, 4.4)
    ax.set(xlabel=r"$\varepsilon a$ (step × curvature)", ylabel="inflation of the estimate (log)",
           title="A regular model: what a finite step does")
    ax.legend(fontsize=7, loc="upper left")
    return fig


def plot_burnin(burnins: Sequence[int], ratios: np.ndarray, half_widths: np.ndarray,
                labels: Sequence[str], *, flat: Optional[np.ndarray] = None, tau: Optional[float] = None,
                title: str = "") -> Figure:
    """λ̂ / exact target against the burn-in discarded, one line per model (``ratios`` and their
    interval ``half_widths``: (models, burn-ins)), with the slowest direction's predicted window
    average 1 − ρ^{2b}(1 − ρ^{2D}) / (D(1 − ρ²)) for the time scale (``flat``) and 3τ marked."""
    burnins = np.asarray(burnins, dtype=float)
    ratios, half_widths = np.atleast_2d(ratios), np.atleast_2d(half_widths)
    if ratios.shape != half_widths.shape or ratios.shape != (len(labels), len(burnins)):
        raise ValueError(f"ratios and half_widths must have shape (len(labels), len(burnins)) = "
                         f"{(len(labels), len(burnins))}, got {ratios.shape} and {half_widths.shape}")
    fig = new_figure((6.6, 3.9), layout="tight")
    ax = fig.subplots()
    shift = 0.012 * (burnins.max() - burnins.min()) * (np.arange(len(labels)) - (len(labels) - 1) / 2)
    for k, label in enumerate(labels):
        ax.errorbar(burnins + shift[k], ratios[k], yerr=half_widths[k], fmt="o-", ms=4, lw=1,
                    capsize=2, label=label)
    ax.axhline(1.0, color="k", ls="--", lw=1, label="exact target")
    if flat is not None:
        ax.plot(burnins, flat, color="0.4", ls="-.", lw=1.2,
                label="a flat direction's spread (window average)")
    if tau is not None:
        ax.axvline(3 * tau, color="tab:red", ls=":", lw=1.2, label=r"$3\tau$")
    ax.set(xlabel="burn-in discarded (steps)", ylabel=r"$\hat\lambda$ / exact target (95 % t interval)",
           title=title)
    ax.legend(fontsize=7, loc="lower right", ncol=2)
    return fig


def plot_eps_gamma(sweep: "Any") -> Figure:
    """Left: λ̂ against ε for each γ (± 2 s.e.m.), each γ's exact MALA value as a horizontal line
    of the same colour, and λ − (m − 1)/log nβ dashed.  Right: λ̂ − MALA against the part the
    Hessian at w* predicts, 1/(1 − εa/4) summed over its directions; hollow markers: SGLD with the same
    seed on the full data (no minibatch noise), where the sweep ran them."""
    fig = new_figure((11, 3.9), layout="tight")
    left, right = fig.subplots(1, 2)
    colours = ["tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:brown"]
    eps = sweep.epsilons
    for i, g in enumerate(sweep.gammas):
        c = colours[i % len(colours)]
        left.errorbar(eps * (1 + 0.05 * (i - 1)), sweep.means[i], yerr=2 * sweep.sems[i],
                      marker=marker(i), color=c, capsize=3, label=f"SGLD, γ = {g:g}")
        left.axhline(sweep.mala_means[i], color=c, lw=1, ls=":", label=f"MALA (exact), γ = {g:g}")
        excess = sweep.means[i] - sweep.mala_means[i]
        err = 2 * np.hypot(sweep.sems[i], sweep.mala_sems[i])
        right.errorbar(sweep.hessian_bias[i], excess, yerr=err, marker=marker(i), color=c,
                       capsize=3, linestyle="none", label=f"γ = {g:g}")
        full = np.isfinite(sweep.full_means[i])
        if full.any():              # the same seed on all the data: no minibatch noise
            right.errorbar(sweep.hessian_bias[i][full] + 0.01, sweep.full_means[i][full] - sweep.mala_means[i],
                           yerr=2 * np.hypot(sweep.full_sems[i][full], sweep.mala_sems[i]), marker=marker(i),
                           mfc="white", color=c, capsize=3, linestyle="none", label=f"γ = {g:g}, full batch")
    left.axhline(sweep.reference, color="k", ls="--", lw=1,
                 label=r"$\lambda - (m-1)/\log n\beta$")
    left.set_xscale("log")
    left.set(xlabel=r"step size $\varepsilon$", ylabel=r"$\hat\lambda$", title=sweep.name)
    left.legend(fontsize=6, ncol=2)
    finite = sweep.hessian_bias[np.isfinite(sweep.hessian_bias)]
    top = float(np.max(finite)) if finite.size else 1.0
    right.plot([0, top * 1.1], [0, top * 1.1], "k--", lw=1, label="all of it is the Hessian's")
    right.axhline(0, color="0.6", lw=0.8)
    right.set(xlabel=r"Hessian part: $\sum \frac{n\beta h}{2a}\,(\frac{1}{1-\varepsilon a/4} - 1)$",
              ylabel=r"$\hat\lambda_{SGLD} - \hat\lambda_{MALA}$",
              title="sampler bias: predicted at w* vs measured")
    right.legend(fontsize=7)
    return fig


def plot_estimates_vs_theory(names: Sequence[str], theory: Sequence[float],
                             estimates: np.ndarray, errors: np.ndarray,
                             epsilons: Sequence[float]) -> Figure:
    """λ̂ / λ against ε for each known model (rows of ``estimates``, columns = ``epsilons``)."""
    fig = new_figure((6.5, 3.9), layout="tight")
    ax = fig.subplots()
    for i, name in enumerate(names):
        ratio = estimates[i] / theory[i]
        ax.errorbar(np.asarray(epsilons) * (1 + 0.06 * (i - 1)), ratio,
                    yerr=2 * errors[i] / theory[i], marker=marker(i), capsize=3,
                    label=f"{name} (λ = {theory[i]:g})")
    ax.axhline(1, color="k", ls="--", lw=1, label="theory")
    ax.set_xscale("log")
    ax.set(xlabel=r"step size $\varepsilon$", ylabel=r"$\hat\lambda / \lambda$",
           title="Known answers: estimate over theory")
    ax.legend(fontsize=8)
    return fig
