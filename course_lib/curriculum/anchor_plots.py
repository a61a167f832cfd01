"""Figures of the anchored colour model (notebooks 2.3 anchoring, 2.4 muting red, 2.5 deleting red).

Every scatter colours a point by its true RGB colour and, where colour carries meaning, adds a
label or a marker shape too, so no information rides on hue alone.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..figures import marker, new_figure
from ..validation import check_int

__all__ = [
    "plot_anchored_frame",
    "plot_schedules",
    "plot_loss_terms",
    "plot_seed_metrics",
    "plot_damage_bars",
    "plot_damage_vs_similarity",
    "plot_hue_profile",
    "plot_latent_views",
    "plot_relearning",
    "plot_attractor",
    "plot_direction_traces",
    "plot_gate_grid",
]

_PAIRS = ((0, 1), (0, 2), (0, 3))
_WHEEL = 36  # the probe set starts with 36 pure hues (every 10°)


def _unit_square(ax: Axes, i: int, j: int) -> None:
    """Frame a panel of unit latents: latent dims ``i`` (x) and ``j`` (y), equal scales, ±1.15."""
    ax.set_xlim(-1.15, 1.15)
    ax.set_ylim(-1.15, 1.15)
    ax.set_aspect("equal")
    ax.set_xlabel(f"latent dim {i}")
    ax.set_ylabel(f"latent dim {j}")
    ax.grid(alpha=0.3)


def plot_anchored_frame(run: Any, index: int) -> Figure:
    """Snapshot ``index`` of an anchored run: latent dims 0–1, 0–2, 0–3 of the probe set (the 36
    pure hues as large dots, a 6³ RGB cube as small ones, each in its true colour), the anchor as a
    black star, and the losses up to that step."""
    steps = np.asarray(run.checkpoint_steps)
    index = check_int(index, "index", min=0, max=len(steps) - 1)
    z = np.asarray(run.probe_latents[index])
    rgb = np.clip(np.asarray(run.probe_rgb), 0, 1)
    fig = new_figure((15, 3.9), layout="tight")
    axes = fig.subplots(1, 4, gridspec_kw={"width_ratios": [1, 1, 1, 1.4]})
    for ax, (i, j) in zip(axes, _PAIRS):
        ax.scatter(z[_WHEEL:, i], z[_WHEEL:, j], c=rgb[_WHEEL:], s=9, alpha=0.6, linewidths=0)
        ax.scatter(z[:_WHEEL, i], z[:_WHEEL, j], c=rgb[:_WHEEL], s=46, edgecolors="k", linewidths=0.5)
        for k, name in ((0, "red"), (3, "orange"), (18, "cyan")):
            ax.annotate(name, (z[k, i], z[k, j]), textcoords="offset points", xytext=(5, 5), fontsize=9)
        ax.plot([1.0 if i == 0 else 0.0], [1.0 if j == 0 else 0.0], marker="*", ms=16, color="k",
                linestyle="none", label="anchor (1, 0, 0, 0)")
        _unit_square(ax, i, j)
    axes[0].legend(loc="lower left", fontsize=8)
    ax = axes[3]
    t = np.arange(len(run.losses["recon"]))
    for name, style in (("recon", "-"), ("anchor", "--"), ("separation", ":")):
        ax.plot(t, np.maximum(run.losses[name], 1e-6), style, label=name)
    ax.axvline(steps[index], color="k", lw=1)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_title("raw loss terms (unweighted)", fontsize=10)
    ax.legend(fontsize=8)
    fig.suptitle(f"step {int(steps[index])}", fontsize=11)
    return fig


def plot_schedules(sheets: Mapping[str, Any], steps: int, params: Sequence[str] = ("spread", "lr")) -> Figure:
    """Each dopesheet's curve for each of ``params`` (one panel per parameter), keyframes dotted."""
    fig = new_figure((5.2 * len(params), 3.4), layout="tight")
    axes = fig.subplots(1, len(params))
    axes = np.atleast_1d(axes)
    s = np.arange(steps + 1)
    for ax, p in zip(axes, params):
        for (name, sheet), style in zip(sheets.items(), ("-", "--", ":")):
            ax.plot(s, sheet.curve(p, s), style, lw=2, label=name)
        for k in next(iter(sheets.values())).steps:
            ax.axvline(k, color="grey", lw=0.6, ls=":")
        ax.set_xlabel("step")
        ax.set_title(p)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=9)
    return fig


def plot_loss_terms(sweeps: Mapping[str, Any], terms: Sequence[str] = ("recon", "anchor", "separation")) -> Figure:
    """Median (line) and 10–90 % spread (band) over seeds of each raw loss term, per sweep."""
    fig = new_figure((5 * len(terms), 3.4), layout="tight")
    axes = fig.subplots(1, len(terms))
    for ax, term in zip(np.atleast_1d(axes), terms):
        for (name, sw), style in zip(sweeps.items(), ("-", "--", ":")):
            v = np.maximum(np.asarray(sw.losses[term]), 1e-7)
            t = np.arange(v.shape[1])
            lo, med, hi = np.percentile(v, [10, 50, 90], axis=0)
            line, = ax.plot(t, med, style, label=f"{name} (median)")
            ax.fill_between(t, lo, hi, color=line.get_color(), alpha=0.2)
        ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.set_title(term)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return fig


def plot_seed_metrics(reports: Mapping[str, Sequence[Mapping[str, float]]], *, cos_threshold: float = 0.99,
                      evenness_threshold: float = 0.25) -> Figure:
    """Per seed: 1 − cos(red, anchor) (log scale) and hue evenness, one column of dots per schedule,
    with the success thresholds as dashed lines."""
    fig = new_figure((10, 3.6), layout="tight")
    ax1, ax2 = fig.subplots(1, 2)
    rng = np.random.default_rng(0)
    for k, (name, reps) in enumerate(reports.items()):
        miss = np.maximum(1 - np.array([r["red_cos"] for r in reps]), 1e-8)
        even = np.array([r["evenness"] for r in reps])
        x = k + rng.uniform(-0.12, 0.12, len(reps))
        shape = marker(k)
        ax1.scatter(x, miss, marker=shape, facecolors="none", edgecolors=f"C{k}")
        ax2.scatter(x, even, marker=shape, facecolors="none", edgecolors=f"C{k}")
    for ax in (ax1, ax2):
        ax.set_xticks(range(len(reports)), list(reports))
        ax.grid(alpha=0.3)
    ax1.axhline(1 - cos_threshold, color="k", ls="--", lw=1, label=f"cos = {cos_threshold}")
    ax1.set_yscale("log")
    ax1.set_ylabel("1 − cos(red, anchor)")
    ax1.legend(fontsize=8)
    ax2.axhline(evenness_threshold, color="k", ls="--", lw=1, label=f"evenness = {evenness_threshold}")
    ax2.set_ylim(0, 1)
    ax2.set_ylabel("hue evenness (smallest / mean step)")
    ax2.legend(fontsize=8)
    return fig


def plot_damage_bars(names: Sequence[str], rgb: Any, damages: Mapping[str, np.ndarray]) -> Figure:
    """Per-colour ΔMSE: for each method (seeds × colours) the median over seeds as a bar and the
    10–90 % range as an error bar; a swatch of each colour under its name."""
    names = list(names)
    rgb = np.clip(np.asarray(rgb), 0, 1)
    fig = new_figure((12, 3.8), layout="tight")
    ax = fig.subplots()
    n = len(damages)
    width = 0.8 / n
    x = np.arange(len(names))
    for k, (label, d) in enumerate(damages.items()):
        d = np.asarray(d)
        lo, med, hi = np.percentile(d, [10, 50, 90], axis=0)
        ax.bar(x + (k - (n - 1) / 2) * width, med, width, yerr=[med - lo, hi - med], capsize=2,
               label=label, hatch=("", "//", "..")[k % 3], edgecolor="k", linewidth=0.5)
    ax.scatter(x, np.full(len(x), -0.06), c=rgb, s=120, marker="s", edgecolors="k", linewidths=0.5,
               clip_on=False)
    ax.set_xticks(x, names, rotation=35, ha="right")
    ax.set_ylabel("ΔMSE (median over seeds)")
    ax.axhline(0, color="k", lw=0.6)
    ax.set_ylim(-0.08, None)
    ax.legend(fontsize=9)
    ax.grid(alpha=0.3, axis="y")
    return fig


def plot_damage_vs_similarity(similarity_sq: np.ndarray, damage: np.ndarray, rgb: Any, *, r: float | None = None,
                              title: str = "") -> Figure:
    """ΔMSE against similarity² (alignment with the anchor, squared), each point in its true colour."""
    fig = new_figure((5.4, 4.2), layout="tight")
    ax = fig.subplots()
    ax.scatter(similarity_sq, damage, c=np.clip(np.asarray(rgb), 0, 1), s=14, edgecolors="k", linewidths=0.2)
    ax.set_xlabel("similarity² = max(cos(z, anchor), 0)²")
    ax.set_ylabel("ΔMSE")
    ax.grid(alpha=0.3)
    ax.set_title(title + (f"  (r = {r:.2f})" if r is not None else ""), fontsize=10)
    return fig


def plot_hue_profile(hue_deg: np.ndarray, profiles: Mapping[str, np.ndarray], rgb: Any) -> Figure:
    """ΔMSE along the hue circle (S = V = 1) for each method: median over seeds and 10–90 % band,
    with the hue strip underneath."""
    fig = new_figure((10, 3.6), layout="tight")
    ax = fig.subplots()
    for (label, d), style in zip(profiles.items(), ("-", "--", ":")):
        lo, med, hi = np.percentile(np.asarray(d), [10, 50, 90], axis=0)
        line, = ax.plot(hue_deg, med, style, lw=2, label=label)
        ax.fill_between(hue_deg, lo, hi, color=line.get_color(), alpha=0.2)
    ax.scatter(hue_deg, np.full(len(hue_deg), -0.05), c=np.clip(np.asarray(rgb), 0, 1), marker="s", s=30,
               clip_on=False)
    for deg, name in ((0, "red"), (30, "orange"), (60, "yellow"), (330, "rose"), (300, "magenta")):
        ax.axvline(deg, color="grey", lw=0.6, ls=":")
        ax.text(deg + 2, ax.get_ylim()[1] * 0.9, name, fontsize=8)
    ax.set_xlabel("hue (degrees), S = V = 1")
    ax.set_ylabel("ΔMSE")
    ax.set_ylim(-0.07, None)
    ax.legend(fontsize=9)
    ax.grid(alpha=0.3)
    return fig


def plot_latent_views(z: Any, rgb: Any, pairs: Sequence[tuple[int, int]] = ((0, 1), (0, 2), (1, 2)),
                      labels: Mapping[int, str] | None = None, title: str = "") -> Figure:
    """2-D views of latents ``z`` (n, d), each point in its true colour, optional text labels
    ``{row index: name}``."""
    z, rgb = np.asarray(z), np.clip(np.asarray(rgb), 0, 1)
    fig = new_figure((4.2 * len(pairs), 4), layout="tight")
    axes = fig.subplots(1, len(pairs))
    for ax, (i, j) in zip(np.atleast_1d(axes), pairs):
        ax.scatter(z[:, i], z[:, j], c=rgb, s=40, edgecolors="k", linewidths=0.4)
        for k, name in (labels or {}).items():
            ax.annotate(name, (z[k, i], z[k, j]), textcoords="offset points", xytext=(5, 4), fontsize=9)
        _unit_square(ax, i, j)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig


def plot_relearning(steps: Any, curves: Mapping[str, np.ndarray], target: np.ndarray | float | None = None) -> Figure:
    """Error of a colour over fine-tuning steps: per condition (seeds × snapshots) the median and
    the 10–90 % band, on a log scale; ``target`` (the recovery threshold, median over seeds) dashed."""
    steps = np.asarray(steps)
    fig = new_figure((9, 3.8), layout="tight")
    ax = fig.subplots()
    for (label, c), style in zip(curves.items(), ("-", "--", ":", "-.")):
        c = np.maximum(np.asarray(c), 1e-6)
        lo, med, hi = np.percentile(c, [10, 50, 90], axis=0)
        line, = ax.plot(steps, med, style, lw=2, label=label)
        ax.fill_between(steps, lo, hi, color=line.get_color(), alpha=0.18)
    if target is not None:
        ax.axhline(float(np.median(target)), color="k", ls="--", lw=1, label="recovered below this (median)")
    ax.set_yscale("log")
    ax.set_xlabel("fine-tuning step")
    ax.set_ylabel("MSE of the colour")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def _bands(ax: Axes, x: np.ndarray, curves: Mapping[str, np.ndarray]) -> None:
    for (label, c), style in zip(curves.items(), ("-", "--", ":", "-.")):
        lo, med, hi = np.percentile(np.asarray(c, dtype=float), [10, 50, 90], axis=0)
        line, = ax.plot(x, med, style, lw=2, label=label)
        ax.fill_between(x, lo, hi, color=line.get_color(), alpha=0.18)


def plot_attractor(hue_values: Mapping[str, np.ndarray], groups: Mapping[str, Mapping[str, np.ndarray]],
                   names: Mapping[str, Sequence[str]], *, ylabel: str = "cos(code, red's direction)",
                   ylim: tuple[float, float] = (-1.05, 1.05)) -> Figure:
    """Left: a measure against hue distance from red (per arm, seeds × 181: median and 10–90 % band).
    Right: per colour, each seed's value, colours grouped (``groups[group][arm]`` seeds × colours,
    ``names[group]`` the colours), one marker shape per arm."""
    fig = new_figure((13, 3.9), layout="tight")
    ax1, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.5]})
    _bands(ax1, np.arange(181), hue_values)
    lo, hi = ylim
    for deg, name in ((30, "orange"), (60, "yellow"), (120, "green"), (180, "cyan")):
        ax1.axvline(deg, color="grey", lw=0.6, ls=":")
        ax1.text(deg + 2, lo + 0.05 * (hi - lo), name, fontsize=8)
    ax1.set_xlabel("hue distance from red (degrees), S = V = 1")
    ax1.set_ylabel(ylabel)
    ax1.set_ylim(lo, hi)
    ax1.grid(alpha=0.3)
    ax1.legend(fontsize=8, loc="upper right")
    arms = list(next(iter(groups.values())))
    labels: list[str] = []
    start = 0
    for g, (group, per_arm) in enumerate(groups.items()):
        width = len(names[group])
        for k, arm in enumerate(arms):
            vals = np.asarray(per_arm[arm])                                   # seeds × colours
            x = start + np.arange(width) + (k - (len(arms) - 1) / 2) * 0.3
            for j in range(width):
                ax2.scatter(np.full(vals.shape[0], x[j]), vals[:, j], marker=marker(k), facecolors="none",
                            edgecolors=f"C{k}", s=22, label=arm if g == 0 and j == 0 else None)
        if g:
            ax2.axvline(start - 0.5, color="k", lw=0.8)
        ax2.text(start - 0.3, hi + 0.02 * (hi - lo), group, fontsize=9, va="bottom")
        labels += list(names[group])
        start += width
    ax2.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    ax2.set_ylim(lo, hi + 0.1 * (hi - lo))
    ax2.set_ylabel(ylabel)
    ax2.grid(alpha=0.3)
    ax2.legend(fontsize=8, loc="lower left")
    return fig


def plot_direction_traces(steps: Any, traces: Mapping[str, np.ndarray]) -> Figure:
    """Per arm (seeds × checkpoints), a cosine over training: median and 10–90 % band."""
    fig = new_figure((8, 3.6), layout="tight")
    ax = fig.subplots()
    _bands(ax, np.asarray(steps), traces)
    ax.set_xlabel("step")
    ax.set_ylabel("cosine")
    ax.set_ylim(-1.05, 1.05)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def plot_gate_grid(rows: Mapping[str, Sequence[Mapping[str, Any]]], gates: Mapping[str, Mapping[str, float]],
                   matched: float, *, floor: float = 1e-3) -> Figure:
    """Each arm's gate grid (``rows`` from ``anchor_control.match_gates``): sharpness across, strength
    up, the cell's shade the median black ΔMSE (log scale, clipped at ``floor``), its text the
    share of tuning seeds meeting the neighbourhood goal over that median. Cells at the ``matched``
    rate or above are outlined in black; the arm's chosen gate (the least black among them) in red."""
    if not rows or set(rows) != set(gates):
        raise ValueError(f"rows and gates must have the same, non-empty arms, got {sorted(rows)} and {sorted(gates)}")
    if not 0 < matched <= 1:
        raise ValueError(f"matched must be a rate in (0, 1], got {matched!r}")
    from matplotlib.patches import Rectangle

    fig = new_figure((10.5, 3.6 * len(rows) + 0.8))
    axes = fig.subplots(len(rows), 1, squeeze=False)[:, 0]
    image = None
    for ax, (arm, rs) in zip(axes, rows.items()):
        ps = sorted({r["sharpness"] for r in rs})
        ss = sorted({r["strength"] for r in rs})
        black = np.full((len(ss), len(ps)), np.nan)
        g = gates[arm]
        for r in rs:
            i, j = ss.index(r["strength"]), ps.index(r["sharpness"])
            black[i, j] = max(r["black"], floor)
            ok = r["rate_near"] >= matched - 1e-9
            b = f"{r['black']:.3f}" if r["black"] >= floor else "<" + f"{floor:g}".lstrip("0")
            ax.text(j, i, f"{r['rate_near']:.0%}\n{b}", ha="center", va="center", fontsize=7,
                    fontweight="bold" if ok else "normal", color="k" if ok else "0.4")
            chosen = (r["sharpness"], r["strength"]) == (g["sharpness"], g["strength"])
            if ok or chosen:
                ax.add_patch(Rectangle((j - 0.46, i - 0.46), 0.92, 0.92, fill=False,
                                       edgecolor="tab:red" if chosen else "k", linewidth=2.4 if chosen else 0.8,
                                       label="chosen" if chosen else None))
        image = ax.imshow(np.log10(black), cmap="Greys", vmin=np.log10(floor), vmax=0.0, alpha=0.45,
                          aspect="auto", origin="lower")
        ax.set_xticks(range(len(ps)), [f"{p:g}" for p in ps])
        ax.set_yticks(range(len(ss)), [f"{s:g}" for s in ss])
        ax.set_xlabel("sharpness p")
        ax.set_ylabel("strength s")
        ax.set_title(f"{arm}: chosen p = {g['sharpness']:g}, s = {g['strength']:g} (red box)", fontsize=10)
    cbar = fig.colorbar(image, ax=list(axes), shrink=0.7)
    cbar.set_label("log10 median black ΔMSE")
    fig.suptitle(f"each cell: share of seeds meeting the goal, then black's median ΔMSE;\n"
                 f"boxed: at least the matched rate ({matched:.0%}); red: the least black among the boxed",
                 fontsize=10)
    return fig
