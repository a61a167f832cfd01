"""Figures for notebook 5.5 (components as concepts).

Every series has its own marker or line style as well as its colour, so no figure relies on hue.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ..figures import marker, new_figure
from .components import ColumnStudy, ComponentStudy, SeedStudy, residue_means

__all__ = ["plot_loss_curves", "plot_mode_frame", "plot_mode_timeline", "plot_columns"]

_PHASES = (("memorisation_end", ":"), ("circuit_formation_end", "-."), ("grokked", "--"),
           ("cleanup_end", (0, (1, 3))))
_STYLES = ("-", "--", ":")


def _phase_lines(ax, s: SeedStudy, labels: bool = False) -> None:
    for name, style in _PHASES:
        step = s.phases.get(name)
        if step is not None:
            ax.axvline(step, color="0.4", ls=style, lw=1, label=name.replace("_", " ") if labels else None)


def plot_loss_curves(study: ComponentStudy) -> Figure:
    """Train and test loss of every seed's run (3.3's run, the one every matrix is measured on),
    with 3.3's phase boundaries and the studied checkpoints marked."""
    fig = new_figure((5.8 * len(study.seeds), 3.6))
    axes = np.atleast_1d(fig.subplots(1, len(study.seeds)))
    for ax, s in zip(axes, study.seeds):
        ax.plot(s.curve_steps, s.train_loss, "-", label="train loss")
        ax.plot(s.curve_steps, s.test_loss, "--", label="test loss")
        ax.set_yscale("log")
        _phase_lines(ax, s, labels=True)
        for step in s.steps:
            ax.plot([step], [s.train_loss[np.searchsorted(s.curve_steps, step)]], marker(2), ms=8,
                    color="k", ls="none")
        ax.plot([], [], marker(2), color="k", ls="none", label="checkpoints studied")
        ax.set(xlabel="training step", ylabel="cross-entropy", title=f"seed {s.seed}: the run")
        ax.legend(fontsize=7)
    return fig


def plot_mode_frame(s: SeedStudy, step: int) -> Figure:
    """One checkpoint's modes. Left: each top mode's loading averaged within each class of
    (a + b) mod p. Middle: its Fourier power share per k, 3.3's key frequencies marked, the
    shuffled-pairs control's 99th percentile of the peak share dashed. Right: the components'
    weights on each mode."""
    c = s.at(step)
    fig = new_figure((14.0, 3.9))
    ax0, ax1, ax2 = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1.0, 1.0, 1.3]})
    rank = c.modes.loadings.shape[1]
    for i in range(rank):
        r = residue_means(c.modes.loadings[:, i], s.pairs, s.p)
        ax0.plot(np.arange(s.p), r, marker=marker(i), ls=_STYLES[i % 3], ms=3, label=f"mode {i + 1}")
        sp = c.spectra["a + b"][i]
        share = sp.power / sp.power.sum()
        k = np.arange(1, len(share) + 1)
        ax1.plot(k, share, marker=marker(i), ls=_STYLES[i % 3], ms=3,
                 label=f"mode {i + 1}: peak k = {sp.peak}{' ✓' if c.is_key[i] else ''}")
        ax1.axhline(c.null_q["a + b"][i, 0], color=f"C{i}", ls=(0, (4, 2)), lw=0.8)
    for kk in s.key_freqs:
        ax1.axvline(kk, color="0.3", lw=3, alpha=0.25)
    ax0.axhline(0, color="0.5", lw=0.8)
    ax0.set(xlabel="(a + b) mod p", ylabel="mean loading", title=f"step {step}: modes over a + b")
    ax0.legend(fontsize=7)
    ax1.set(xlabel="frequency k (grey bands: 3.3's key frequencies)", ylabel="share of power",
            title="Fourier power in a + b (dashed: shuffled 99 %)")
    ax1.legend(fontsize=7)
    lim = float(np.abs(c.modes.weights).max())
    im = ax2.imshow(c.modes.weights, cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto")
    ax2.set_yticks(range(rank), [f"mode {i + 1} ({100 * c.modes.share[i]:.0f} %, rel {c.reliability[i]:.2f})"
                                 for i in range(rank)], fontsize=7)
    ax2.set_xticks(range(len(c.modes.components)), c.modes.components, rotation=60, ha="right",
                   fontsize=7)
    ax2.set_title("component weights (share of χ̃; split-half reliability)", fontsize=9)
    fig.colorbar(im, ax=ax2, shrink=0.8)
    return fig


def plot_mode_timeline(study: ComponentStudy) -> Figure:
    """Over the studied checkpoints, per seed: the top mode's peak share in a + b against its
    shuffled control (left) and the split-half reliability of the top modes (right), with 3.3's
    phase boundaries."""
    fig = new_figure((12.0, 3.6))
    ax0, ax1 = fig.subplots(1, 2)
    for j, s in enumerate(study.seeds):
        steps = s.steps
        top = [c.spectra["a + b"][0].peak_share for c in s.checkpoints]
        null = [c.null_q["a + b"][0, 0] for c in s.checkpoints]
        ax0.plot(steps, top, marker=marker(j), ls=_STYLES[j % 3], label=f"seed {s.seed}: top mode")
        ax0.plot(steps, null, ls=(0, (4, 2)), color="0.4", lw=1,
                 label="shuffled-pairs 99 %" if j == 0 else None)
        for c in s.checkpoints:
            if c.is_key[0]:
                ax0.annotate(f"k={c.spectra['a + b'][0].peak}", (c.step, c.spectra["a + b"][0].peak_share),
                             fontsize=7)
        for i in range(s.checkpoints[0].reliability.shape[0]):
            ax1.plot(steps, [c.reliability[i] for c in s.checkpoints], marker=marker(i),
                     ls=_STYLES[j % 3], label=f"seed {s.seed}, mode {i + 1}")
        if j == 0:
            _phase_lines(ax0, s, labels=True)
            _phase_lines(ax1, s)
    ax0.set(xlabel="training step", ylabel="peak share in a + b", title="is the top mode a wave in a + b?")
    ax1.axhline(0.5, color="k", lw=0.8)
    ax1.set(xlabel="training step", ylabel="split-half reliability", ylim=(0, 1.05),
            title="do two halves of the chains see the same modes?")
    ax0.legend(fontsize=7)
    ax1.legend(fontsize=6, ncol=2)
    return fig


def plot_columns(cols: ColumnStudy) -> Figure:
    """The column measurement. One panel per component: its own χ column's Fourier power share
    in a + b, pooled over the chains of each chain set (one line per sampler seed), 3.3's key
    frequencies as grey bands, the pooled noise-only control's quantile dotted black, the
    component's own frequency (a frequency group) as a black tick. Last panel: the baseline,
    the per-pair loss at the checkpoint's weights read the same way."""
    n = len(cols.components)
    rows = (n + 2) // 2
    fig = new_figure((10.0, 3.3 * rows))
    axes = np.ravel(fig.subplots(rows, 2))
    for ax in axes[n + 1:]:
        ax.set_visible(False)
    k = np.arange(1, len(cols.baseline.power) + 1)
    for j, (ax, name) in enumerate(zip(axes, cols.components)):
        for i, sseed in enumerate(cols.sampler_seeds):
            pw = cols.readings[i][j].power
            ax.plot(k, pw / pw.sum(), marker=marker(i), ls=_STYLES[i % 3], ms=3, lw=1,
                    label=f"sampler seed {sseed}")
        ax.axhline(cols.null_q[j], color="k", ls=(0, (1, 2)), lw=1.2, label="noise-only 99 %")
        for kk in cols.key_freqs:
            ax.axvline(kk, color="0.3", lw=3, alpha=0.25)
        if name in cols.own_k:
            ax.plot([cols.own_k[name]], [0.0], marker="^", color="k", ms=8, ls="none",
                    label="own k")
        hits, sets = cols.passes(name)
        short = name.replace("neurons ", "") + (" group" if name.startswith("neurons") else "")
        ax.set(xlabel="frequency k in a + b", ylabel="share of power",
               title=f"{short}: agrees in {hits} of {sets}")
        if j == 0:
            ax.legend(fontsize=8, loc="upper left")
    ax = axes[n]
    base = cols.baseline.power / cols.baseline.power.sum()
    ax.plot(k, base, marker="o", ms=3, color="0.2", label="loss at w* per pair")
    for kk in cols.key_freqs:
        ax.axvline(kk, color="0.3", lw=3, alpha=0.25)
    ax.set(xlabel="frequency k in a + b", ylabel="share of power",
           title="baseline: per-pair loss at the weights")
    ax.legend(fontsize=8, loc="upper right")
    return fig
