"""Figures for notebook 5.6 (colour modes). Each series has its own marker or line style as well
as its colour; the points of a mode plane are drawn in their own colour *and* labelled by hue."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ..figures import marker, new_figure
from .colour_modes import RED_WIDTH, ColourModeStudy, probe_hues

__all__ = ["plot_wheel_frame", "plot_wheel_timeline", "plot_red_profiles"]

_STYLES = ("-", "--", ":")


def plot_wheel_frame(study: ColourModeStudy, seed: int, step: int) -> Figure:
    """One checkpoint of Chapter 1's run (hue-grouped components). Left: the 36 pure hues in
    the plane of the top two modes, joined in hue order, each dot in its own colour. Right: the
    two loadings against hue, with their first-harmonic fits."""
    r = study.select("colour", "hue", seed, step)[0]
    rgb, hue = probe_hues()
    u = r.modes.loadings[:, :2]
    fig = new_figure((10.0, 4.0))
    ax0, ax1 = fig.subplots(1, 2)
    loop = np.append(np.arange(len(hue)), 0)
    ax0.plot(u[loop, 0], u[loop, 1], "-", color="0.6", lw=1)
    ax0.scatter(u[:, 0], u[:, 1], c=rgb.numpy(), s=40, edgecolors="k", linewidths=0.5)
    for i in range(0, len(hue), 6):
        ax0.annotate(f"{hue[i]:.0f}°", u[i], fontsize=10, xytext=(4, 4),
                     textcoords="offset points")
    ax0.set(xlabel="mode 1 loading", ylabel="mode 2 loading",
            title=f"epoch {step}: R² {r.wheel.r2:.2f}, order {r.wheel.order:.2f}, "
                  f"winding {r.wheel.winding}")
    rad = np.radians(hue)
    X = np.stack([np.ones_like(rad), np.cos(rad), np.sin(rad)], axis=1)
    for i in range(2):
        coef, *_ = np.linalg.lstsq(X, u[:, i], rcond=None)
        ax1.plot(hue, u[:, i], marker(i), ms=4, ls="none", label=f"mode {i + 1}")
        ax1.plot(hue, X @ coef, _STYLES[i], color="0.3", lw=1,
                 label=f"mode {i + 1}: a + b cos h + c sin h")
    title = f"shuffled-hue 99 %: R² {r.null_q[0]:.2f}, order {r.null_q[1]:.2f}"
    if r.noise is not None:
        title += f"\nlargest of {r.noise.n} noise-only R²: {r.noise.noise_r2.max():.2f}"
    ax1.set(xlabel="hue h (degrees)", ylabel="loading", title=title)
    ax1.legend(fontsize=10)
    return fig


def plot_wheel_timeline(study: ColourModeStudy) -> Figure:
    """Over the studied checkpoints of each seed of Chapter 1's run: the wheel's R² (left) and
    hue-order score (right) for hue-grouped and random-grouped components, the shuffled-hue
    control's 99th percentile, the inputs' own value, and the epoch the latent wheel formed."""
    fig = new_figure((10.0, 3.8))
    axes = fig.subplots(1, 2)
    seeds = sorted({r.seed for r in study.readings if r.model == "colour"})
    for k, (ax, what) in enumerate(zip(axes, ("r2", "order"))):
        i = 0
        for seed in seeds:
            for grouping in ("hue", "random"):
                rs = study.select("colour", grouping, seed)
                x = [r.step for r in rs]
                ax.plot(x, [getattr(r.wheel, what) for r in rs], marker=marker(i),
                        ls=_STYLES[i % 3], label=f"seed {seed}, {grouping} groups")
                i += 1
            ax.plot(x, [r.null_q[k] for r in rs], "k:", lw=1,
                    label="shuffled hue, 99 %" if seed == seeds[0] else None)
            formed = study.phases[seed].get("wheel_formed")
            if formed is not None:
                ax.axvline(formed, color="0.5", ls="-.", lw=1,
                           label="latent wheel formed" if seed == seeds[0] else None)
        ax.axhline(getattr(study.input_wheel, what), color="0.3", ls="--", lw=1,
                   label="the inputs' RGB")
        ax.set(xlabel="epoch", ylabel="R² (first harmonic)" if what == "r2" else "hue order",
               ylim=(0, 1.05))
    axes[1].legend(fontsize=10, loc="lower left")
    return fig


def plot_red_profiles(study: ColourModeStudy) -> Figure:
    """Chapter 2's arms: for each seed, each top mode's concentration on the ±25° band around
    every hue (red at 0°), against the share an even spread gives."""
    arms = ("anchored", "unanchored")
    fig = new_figure((10.0, 3.8))
    axes = fig.subplots(1, 2, sharey=True)
    _, hue = probe_hues()
    from .colour_modes import concentration_profile
    even = float(np.mean(np.abs(np.mod(hue + 180.0, 360.0) - 180.0) <= RED_WIDTH + 1e-9))
    for ax, arm in zip(axes, arms):
        for j, r in enumerate(study.select(arm)):
            prof = concentration_profile(r.modes.loadings, hue)
            for i, p in enumerate(prof):
                ax.plot(hue, p, ls=_STYLES[i % 3], marker=marker(j), ms=3,
                        label=f"seed {r.seed}, mode {i + 1}")
        ax.axhline(even, color="k", ls=":", lw=1, label="even spread")
        ax.axvspan(0, RED_WIDTH, color="0.85")
        ax.axvspan(360 - RED_WIDTH, 360, color="0.85")
        ax.set(xlabel="band centre (hue, degrees; red = 0°, shaded)",
               title=f"{arm} model", xlim=(0, 360))
    axes[0].set_ylabel("share of the mode on the band")
    axes[1].legend(fontsize=10)
    return fig
