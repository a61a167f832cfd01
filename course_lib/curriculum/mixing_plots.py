"""Figures for notebook 2.6 (the colour-mixing transformer).

As elsewhere in the course, colour never carries information alone: bars carry hue labels in
degrees, swatches carry their names, scatters separate groups by marker shape too.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ..figures import new_figure
from ..validation import check_int

__all__ = ["plot_token_cosines", "plot_mixer_losses", "plot_damage_vs_redness", "plot_mix_swatches",
           "plot_layer_cosines", "plot_matched_selectivity"]


def _array(x: Any, name: str, ndim: int) -> np.ndarray:
    a = np.asarray(x.detach().numpy() if hasattr(x, "detach") else x, dtype=float)
    if a.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {a.shape}")
    return a


def plot_token_cosines(cosines: Mapping[str, Any], rgb: Any, *, step: Optional[int] = None,
                       threshold: float = 0.9) -> Figure:
    """One panel per model: each probe hue's token cosine to the anchor ``e₀`` as a bar in its own
    colour, hue in degrees along the x axis; dotted lines at ``±threshold`` and 0."""
    if not isinstance(cosines, Mapping) or not cosines:
        raise ValueError("cosines must be a non-empty dict label → cosines (n,)")
    rgb = np.clip(_array(rgb, "rgb", 2), 0, 1)
    n = len(rgb)
    hue = np.arange(n) * 360.0 / n
    fig = new_figure((3.6 * len(cosines), 2.9))
    axes = np.atleast_1d(fig.subplots(1, len(cosines), sharey=True))
    for ax, (label, cos) in zip(axes, cosines.items()):
        cos = _array(cos, f"cosines[{label!r}]", 1)
        if len(cos) != n:
            raise ValueError(f"cosines[{label!r}] must have one value per colour ({n}), got {len(cos)}")
        ax.bar(hue, cos, width=0.8 * 360 / n, color=rgb, edgecolor="k", linewidth=0.4)
        ax.axhline(threshold, color="k", ls=":", lw=0.9)
        ax.axhline(0, color="k", lw=0.6)
        ax.set_ylim(-1.05, 1.05)
        ax.set_xticks([0, 60, 120, 180, 240, 300], ["red\n0°", "yellow\n60°", "green\n120°", "cyan\n180°",
                                                     "blue\n240°", "magenta\n300°"], fontsize=8)
        ax.set_title(label, fontsize=10)
        ax.grid(alpha=0.3, axis="y")
        ax.tick_params(axis="y", labelsize=8)
    axes[0].set_ylabel("cos(token, e₀)", fontsize=9)
    if step is not None:
        fig.suptitle(f"step {step}", fontsize=10)
    return fig


def plot_mixer_losses(curves: Mapping[str, Sequence[Any]], *, window: int = 10,
                      floor: Optional[float] = None) -> Figure:
    """Mixing MSE against step, one line per arm: the median over its runs of a running mean over
    ``window`` steps, with the 10–90 % band; log scale. ``curves[label]`` is a list of runs, each
    with ``steps`` and ``mse`` arrays (:class:`~.mixing.MixingRun`). ``floor``: a dotted horizontal
    line (e.g. the mean-pooling floor), labelled."""
    if not isinstance(curves, Mapping) or not curves:
        raise ValueError("curves must be a non-empty dict label → list of runs")
    check_int(window, "window", min=1)
    fig = new_figure((6.4, 3.3))
    ax = fig.add_subplot()
    kernel = np.ones(window) / window
    for i, (label, runs) in enumerate(curves.items()):
        runs = list(runs)
        if not runs:
            raise ValueError(f"curves[{label!r}] holds no runs")
        mse = np.stack([np.convolve(r.mse, kernel, mode="valid") for r in runs])
        steps = np.asarray(runs[0].steps)[window - 1:]
        lo, med, hi = np.percentile(mse, [10, 50, 90], axis=0)
        color = ("tab:red", "tab:gray", "tab:blue", "tab:green")[i % 4]
        ls = ("-", "--", "-.", (0, (6, 1.5, 1, 1.5, 1, 1.5)))[i % 4]
        ax.fill_between(steps, lo, hi, color=color, alpha=0.2, lw=0)
        ax.plot(steps, med, color=color, ls=ls, lw=1.6, label=f"{label} ({len(runs)} seeds)")
    if floor is not None:
        ax.axhline(float(floor), color="k", ls=":", lw=1.0, label=f"floor of any function of a + b ({float(floor):.1e})")
    ax.set_yscale("log")
    ax.set_xlabel("step", fontsize=9)
    ax.set_ylabel(f"mixing MSE\n(running mean of {window} steps)", fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    ax.tick_params(labelsize=8)
    return fig


def plot_damage_vs_redness(redness: Any, damage: Any, rgb: Any, *, red_above: float = 0.5,
                           free_below: float = 0.05) -> Figure:
    """Per pair: ΔMSE of the muted prediction against the pair's redness, each point in the colour of
    its target mix. Pairs above ``red_above`` are drawn as triangles, below ``free_below`` as
    circles, the rest as small dots; symmetric-log y axis so zero damage is visible."""
    redness, damage = _array(redness, "redness", 1), _array(damage, "damage", 1)
    rgb = np.clip(_array(rgb, "rgb", 2), 0, 1)
    if not len(redness) == len(damage) == len(rgb):
        raise ValueError(f"redness, damage and rgb must have the same length, got "
                         f"{len(redness)}, {len(damage)}, {len(rgb)}")
    fig = new_figure((6.0, 3.8))
    ax = fig.add_subplot()
    groups = ((redness >= red_above, "^", 22, f"contains red (redness ≥ {red_above})"),
              (redness < free_below, "o", 16, f"red-free (redness < {free_below})"),
              ((redness >= free_below) & (redness < red_above), ".", 10, "in between"))
    for mask, marker, size, label in groups:
        ax.scatter(redness[mask], damage[mask], c=rgb[mask], marker=marker, s=size, edgecolors="k",
                   linewidths=0.2, label=label)
    ax.set_yscale("symlog", linthresh=1e-4)
    ax.set_xlabel("redness of the pair (the redder input)", fontsize=9)
    ax.set_ylabel("ΔMSE when e₀ is muted", fontsize=9)
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(alpha=0.3)
    ax.tick_params(labelsize=8)
    return fig


def plot_mix_swatches(labels: Sequence[str], columns: Mapping[str, Any]) -> Figure:
    """A table of colour swatches: one row per mixture (``labels``), one column per entry of
    ``columns`` (e.g. target, model, muted), each ``(n, 3)`` RGB; values outside [0, 1] are clipped
    for display and marked with a "!" (the model left the colour cube)."""
    labels = list(labels)
    if not labels:
        raise ValueError("labels must not be empty")
    if not isinstance(columns, Mapping) or not columns:
        raise ValueError("columns must be a non-empty dict title → rgb (n, 3)")
    cols = {k: _array(v, f"columns[{k!r}]", 2) for k, v in columns.items()}
    for k, v in cols.items():
        if v.shape != (len(labels), 3):
            raise ValueError(f"columns[{k!r}] must have shape ({len(labels)}, 3), got {v.shape}")
    n, m = len(labels), len(cols)
    fig = new_figure((2.0 + 0.9 * m, 0.28 * n + 0.6))
    ax = fig.add_subplot()
    for j, (title, v) in enumerate(cols.items()):
        for i in range(n):
            c = v[i]
            ax.add_patch(_square(j, i, np.clip(c, 0, 1)))
            if np.any(c < -0.05) or np.any(c > 1.05):
                ax.text(j + 0.5, i + 0.5, "!", ha="center", va="center", fontsize=8,
                        color="w" if np.clip(c, 0, 1).mean() < 0.5 else "k")
        ax.text(j + 0.5, -0.3, title, ha="center", va="bottom", fontsize=8)
    ax.set_xlim(0, m)
    ax.set_ylim(n, -1.0)
    ax.set_yticks(np.arange(n) + 0.5, labels, fontsize=8)
    ax.set_xticks([])
    for s in ax.spines.values():
        s.set_visible(False)
    ax.tick_params(length=0)
    return fig


def _square(x: float, y: float, color: np.ndarray) -> Rectangle:
    return Rectangle((x + 0.06, y + 0.06), 0.88, 0.88, facecolor=color, edgecolor="k", linewidth=0.4)


def plot_layer_cosines(cosines: Mapping[str, Any], *, threshold: float = 0.9) -> Figure:
    """Red's cosine to ``e₀`` at the embedding and after each block: ``cosines[label]`` is
    ``(seeds, layers + 1)`` (one value per seed and layer, e.g. the median over partner colours). One
    thin line per seed, the median over seeds thick with markers (circle / square per arm)."""
    if not isinstance(cosines, Mapping) or not cosines:
        raise ValueError("cosines must be a non-empty dict label → (seeds, layers + 1)")
    fig = new_figure((5.6, 3.3))
    ax = fig.add_subplot()
    n_layers = None
    for i, (label, c) in enumerate(cosines.items()):
        c = _array(c, f"cosines[{label!r}]", 2)
        n_layers = c.shape[1] if n_layers is None else n_layers
        if c.shape[1] != n_layers:
            raise ValueError("every arm needs the same number of layers")
        color, marker = ("tab:red", "tab:gray")[i % 2], ("o", "s")[i % 2]
        x = np.arange(c.shape[1])
        for row in c:
            ax.plot(x, row, color=color, lw=0.6, alpha=0.5)
        ax.plot(x, np.median(c, axis=0), color=color, marker=marker, lw=2, label=f"{label} (median of {len(c)} seeds)")
    ax.axhline(threshold, color="k", ls=":", lw=0.9)
    ax.axhline(0, color="k", lw=0.6)
    ax.set_xticks(np.arange(n_layers), ["embedding"] + [f"after block {k}" for k in range(1, n_layers)], fontsize=8)
    ax.set_ylim(-1.05, 1.05)
    ax.set_ylabel("cos(red's token, e₀)", fontsize=9)
    ax.legend(fontsize=8, loc="lower left")
    ax.grid(alpha=0.3)
    ax.tick_params(labelsize=8)
    return fig


_ARM_STYLES = (("tab:red", "^"), ("tab:gray", "o"), ("tab:blue", "x"), ("tab:green", "s"), ("tab:purple", "D"),
               ("tab:orange", "v"))


def plot_matched_selectivity(selectivity: Mapping[str, Any]) -> Figure:
    """Selectivity (damage to red pairs over damage to red-free pairs) at matched damage to red, per
    layer: ``selectivity[label]`` is ``(seeds, layers + 1)``; one marker per seed (jittered), the
    median over the finite values as a bar outline; log scale. NaN marks an edit that never reached
    the matched damage: it is left out (say so in the text)."""
    if not isinstance(selectivity, Mapping) or not selectivity:
        raise ValueError("selectivity must be a non-empty dict label → (seeds, layers + 1)")
    if len(selectivity) > len(_ARM_STYLES):
        raise ValueError(f"at most {len(_ARM_STYLES)} arms, got {len(selectivity)}")
    arrays = {k: _array(v, f"selectivity[{k!r}]", 2) for k, v in selectivity.items()}
    n_layers = next(iter(arrays.values())).shape[1]
    if any(a.shape[1] != n_layers for a in arrays.values()):
        raise ValueError("every arm needs the same number of layers")
    fig = new_figure((6.4, 3.6))
    ax = fig.add_subplot()
    m = len(arrays)
    width = 0.8 / m
    for i, (label, a) in enumerate(arrays.items()):
        color, marker = _ARM_STYLES[i]
        x0 = np.arange(n_layers) - 0.4 + width * (i + 0.5)
        a = np.clip(a, 1e-2, None)
        for j in range(n_layers):
            xs = x0[j] + np.linspace(-0.3, 0.3, len(a)) * width
            ok = np.isfinite(a[:, j])
            ax.scatter(xs[ok], a[ok, j], color=color, marker=marker, s=18, label=label if j == 0 else None)
            if ok.any():
                ax.hlines(np.median(a[ok, j]), x0[j] - width / 2, x0[j] + width / 2, color=color, lw=2)
    ax.set_yscale("log")
    ax.set_xticks(np.arange(n_layers), ["embedding"] + [f"after block {k}" for k in range(1, n_layers)], fontsize=8)
    ax.set_ylabel("selectivity at matched\ndamage to red (log)", fontsize=9)
    ax.legend(fontsize=7, loc="upper left")
    ax.grid(alpha=0.3, which="both", axis="y")
    ax.tick_params(labelsize=8)
    return fig
