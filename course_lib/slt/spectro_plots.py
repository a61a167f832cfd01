"""Figures for notebook 5.4 (susceptibilities and influence on known answers).

Every series has its own marker or line style as well as its colour, so no figure relies on hue.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from matplotlib.figure import Figure

from ..figures import marker, new_figure
from .spectroscopy import SGLD_NBETAS, THERMO_NBETAS, KnownAnswers
from .theory import normal_crossing_lambda
from .thermo import LawFit

__all__ = ["plot_regression_check", "plot_two_tasks", "plot_thermo", "plot_network_thermo"]


def plot_regression_check(k: KnownAnswers) -> Figure:
    """Left: the chains' loss trace (a claim rests on it). Middle: streamed Cov(ℓ_i, ℓ_j) against
    the exact covariance of SGLD's stationary law. Right: the Bayesian influence −Cov against
    (n/nβ) × the classical influence function, every (i, j) pair one point."""
    fig = new_figure((12.5, 3.8))
    ax0, ax1, ax2 = fig.subplots(1, 3)
    for c, trace in enumerate(k.reg_trace):
        ax0.plot(trace, lw=0.4, alpha=0.7)
    ax0.set(xlabel="draw (after burn-in)", ylabel="$L_n(w)$", title="loss trace, every chain")
    iu = np.triu_indices_from(k.reg_covariance)
    for ax, x, y, xl, yl, title in (
            (ax1, k.reg_sgld_law[iu], k.reg_covariance[iu], "exact Cov (SGLD's stationary law)",
             "streamed Cov from the chains", "loss covariance"),
            (ax2, k.reg_classical[iu], -k.reg_covariance[iu], "(n/nβ) × classical influence",
             "Bayesian influence −Cov", "BIF against the classical IF")):
        ax.scatter(x, y, s=6, marker=marker(0), alpha=0.5, label="pairs (i, j)")
        lo, hi = float(min(x.min(), y.min())), float(max(x.max(), y.max()))
        ax.plot([lo, hi], [lo, hi], "k--", lw=1, label="y = x")
        ax.set(xlabel=xl, ylabel=yl, title=title)
        ax.legend(loc="upper left", fontsize=8)
    return fig


def plot_two_tasks(k: KnownAnswers) -> Figure:
    """Left: the loss kernel (correlation) of the two-task network, samples ordered by task.
    Right: the susceptibility of each task's own weights over the samples, ± 2 chain s.e."""
    fig = new_figure((11.5, 4.0))
    ax0, ax1 = fig.subplots(1, 2)
    im = ax0.imshow(k.kernel, cmap="RdBu_r", vmin=-1, vmax=1)
    half = int(np.sum(k.groups == 0))
    for pos in (half - 0.5,):
        ax0.axhline(pos, color="k", lw=1)
        ax0.axvline(pos, color="k", lw=1)
    ax0.set(title="loss kernel Corr(ℓ_i, ℓ_j)", xlabel="sample (task A | task B)",
            ylabel="sample")
    fig.colorbar(im, ax=ax0, shrink=0.8)
    x = np.arange(len(k.groups))
    for j, (name, style) in enumerate((("task A head", "-"), ("task B head", "--"))):
        ax1.errorbar(x, k.chi[:, j], yerr=2 * k.chi_se[:, j], fmt=marker(j), ls=style, ms=4,
                     capsize=2, label=f"φ = loss change, chain on {name}")
    ax1.axvline(half - 0.5, color="k", lw=1)
    ax1.axhline(0, color="0.5", lw=0.8)
    ax1.set(xlabel="sample x (task A | task B)", ylabel="χ(x, C) = Cov(φ_C, ℓ_x − L)",
            title="susceptibilities")
    ax1.legend(fontsize=8)
    return fig


def plot_thermo(k: KnownAnswers) -> Figure:
    """Exact finite-nβ targets nβ E[K] of five normal crossings (markers), the fitted law
    λ − (m − 1)/(log nβ + b) (lines), the true λ (dotted), and SGLD's readings on w₁²w₂²."""
    fig = new_figure((10.5, 4.5))
    ax = fig.subplots()
    grid = np.logspace(2, 5, 100)
    for i, (kk, y) in enumerate(k.thermo_exact.items()):
        lam, m = normal_crossing_lambda(kk)
        fit = k.thermo_fits[kk]
        ax.plot(THERMO_NBETAS, y, marker(i), ls="none",
                label=f"k = {kk}: λ = {lam:.3g}, m = {m}; read {fit.llc:.3f}, m̂ = {fit.multiplicity:.2f}")
        ax.plot(grid, fit.llc - (fit.multiplicity - 1) / (np.log(grid) + fit.offset), "-", lw=1,
                color=ax.lines[-1].get_color())
        ax.axhline(lam, ls=":", lw=0.8, color=ax.lines[-1].get_color())
    ax.errorbar(SGLD_NBETAS, k.sgld_y, yerr=2 * k.sgld_se, fmt="k*", ms=9, capsize=3,
                label="SGLD on k = (1, 1), ± 2 s.e.")
    ax.set(xscale="log", xlabel="nβ", ylabel="nβ (E[L] − L(w*))",
           title="the thermodynamic device on normal crossings")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig


def plot_network_thermo(nbetas: np.ndarray, y: np.ndarray, se: np.ndarray, fit: LawFit,
                        log_z: np.ndarray, y_doubled: np.ndarray, se_doubled: np.ndarray,
                        nbeta0: float, y_capped: np.ndarray, se_capped: np.ndarray,
                        y_sets: Sequence[np.ndarray] = (), half_width: float = 2.0) -> Figure:
    """Left: the kink-free sweep's readings y(nβ) on the grokking network (± ``half_width`` s.e.),
    the same chains with the burn-in doubled, the same sweep on other chain sets (``y_sets``), the
    capped sweep (ε fixed up to nβ₀: its step bias bends at nβ₀) and the fitted finite-nβ law.
    Right: log Z(nβ) − log Z(nβ₀) from the kink-free readings."""
    fig = new_figure((11.5, 4.0))
    ax0, ax1 = fig.subplots(1, 2)
    ax0.errorbar(nbetas, y, yerr=half_width * se, fmt="ko", capsize=3,
                 label=f"kink-free, set 0 (± {half_width:.2g} s.e.)")
    ax0.errorbar(nbetas * 1.04, y_doubled, yerr=half_width * se_doubled, fmt="s", mfc="none",
                 capsize=3, color="tab:orange", label="same chains, burn-in doubled")
    for i, ys in enumerate(y_sets):
        ax0.plot(nbetas * 1.08, ys, "x", color="grey",
                 label="kink-free, other chain sets" if i == 0 else None)
    ax0.errorbar(nbetas / 1.04, y_capped, yerr=half_width * se_capped, fmt="^", mfc="none",
                 capsize=3, color="tab:green", label="ε fixed up to nβ₀ (kink at nβ₀)")
    grid = np.logspace(np.log10(nbetas[0]), np.log10(nbetas[-1]), 100)
    ax0.plot(grid, fit.llc - (fit.multiplicity - 1) / (np.log(grid) + fit.offset), "--",
             color="tab:blue", label=f"fitted law: λ = {fit.llc:.1f}, m̂ = {fit.multiplicity:.1f}"
             f" (rms {fit.rms:.1f})")
    ax0.axvline(nbeta0, ls=":", lw=0.8, color="grey")
    ax0.set(xscale="log", xlabel="nβ", ylabel="y = nβ (E[L] − L(w*))",
            title="the sweep on the grokking network")
    ax0.legend(fontsize=7)
    ax1.plot(nbetas, log_z, "k-o")
    ax1.axvline(nbeta0, ls=":", lw=0.8, color="grey")
    ax1.axhline(0, lw=0.5, color="grey")
    ax1.set(xscale="log", xlabel="nβ", ylabel="log Z(nβ) − log Z(nβ₀)",
            title="free energy: −∫ y d log nβ")
    for ax in (ax0, ax1):
        ax.set_xticks(nbetas, [f"{nb:.0f}" for nb in nbetas])
        ax.minorticks_off()
    return fig
