"""Figures for the colour chapter. Each function returns a matplotlib ``Figure``.

Figures are created with ``matplotlib.figure.Figure`` (not ``pyplot``), so a notebook shows a
returned figure exactly once, nothing piles up in pyplot's registry when frames are rendered in a
loop, and the code runs under any backend (``Agg`` included). Where an ``ax`` is passed, the
function draws into it and returns its figure.
"""

from __future__ import annotations

from numbers import Real
from typing import Any, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import PatchCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Wedge
from matplotlib.ticker import FuncFormatter, NullFormatter

from .data import in_band
from .metrics import hue_order_score
from .spaces import NAMED_HUES, hsv_to_rgb

__all__ = [
    "plot_rgb_cube",
    "plot_hsv_cylinder",
    "plot_hue_wheel",
    "plot_hsv_slice",
    "plot_latents",
    "plot_training_frame",
    "plot_sweep",
]

FRAME_SIZE = (8.0, 3.6)


def _array(x: Any, name: str, width: int | None = 3, min_width: int | None = None) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a numpy array or torch tensor, got {type(x).__name__}")
    x = x.astype(np.float64, copy=False)
    if x.ndim != 2 or (width is not None and x.shape[1] != width) or (
        min_width is not None and x.shape[1] < min_width
    ):
        want = f"(N, {width})" if width is not None else f"(N, ≥{min_width})"
        raise ValueError(f"{name} must have shape {want}, got {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or inf")
    return x


def _colors(rgb: np.ndarray, name: str) -> np.ndarray:
    if rgb.size and (rgb.min() < -1e-6 or rgb.max() > 1 + 1e-6):
        raise ValueError(f"{name} must lie in [0, 1] to be drawn as colours")
    return np.clip(rgb, 0.0, 1.0)


def _new_axes(ax: Axes | None, figsize: tuple[float, float], **kwargs: Any) -> tuple[Figure, Axes]:
    if ax is not None:
        if not isinstance(ax, Axes):
            raise TypeError(f"ax must be a matplotlib Axes, got {type(ax).__name__}")
        return ax.figure, ax
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot(**kwargs)


def _unit(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a number in [0, 1], got {type(value).__name__}")
    value = float(value)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value}")
    return value


def plot_rgb_cube(rgb_points: Any, *, ax: Axes | None = None, title: str | None = None) -> Figure:
    """3-D scatter of colours at their (r, g, b) position, each drawn in its own colour."""
    rgb = _colors(_array(rgb_points, "rgb_points"), "rgb_points")
    fig, ax = _new_axes(ax, (5.0, 4.6), projection="3d")
    ax.scatter(rgb[:, 0], rgb[:, 1], rgb[:, 2], c=rgb, s=18, depthshade=False, edgecolors="none")
    ax.set_xlabel("red")
    ax.set_ylabel("green")
    ax.set_zlabel("blue")
    for setter in (ax.set_xlim, ax.set_ylim, ax.set_zlim):
        setter(0, 1)
    for ticks in (ax.set_xticks, ax.set_yticks, ax.set_zticks):
        ticks([0, 0.5, 1])
    ax.set_box_aspect(None, zoom=0.85)  # leave room for the axis labels
    ax.set_title(title or f"The RGB cube ({len(rgb)} colours)")
    return fig


def plot_hsv_cylinder(hsv: Any, *, ax: Axes | None = None, title: str | None = None) -> Figure:
    """3-D scatter in HSV's cylinder: angle = hue, radius = saturation, height = value."""
    hsv = _array(hsv, "hsv")
    rgb = hsv_to_rgb(np.clip(hsv, 0.0, 1.0)) if hsv.size else hsv
    angle = 2 * np.pi * hsv[:, 0]
    fig, ax = _new_axes(ax, (5.0, 4.6), projection="3d")
    ax.scatter(hsv[:, 1] * np.cos(angle), hsv[:, 1] * np.sin(angle), hsv[:, 2], c=rgb, s=18,
               depthshade=False, edgecolors="none")
    ax.set_xlabel("saturation · cos(hue)")
    ax.set_ylabel("saturation · sin(hue)")
    ax.set_zlabel("value")
    ax.set_xlim(-1, 1)
    ax.set_ylim(-1, 1)
    ax.set_zlim(0, 1)
    ax.set_xticks([-1, 0, 1])
    ax.set_yticks([-1, 0, 1])
    ax.set_zticks([0, 0.5, 1])
    ax.set_box_aspect(None, zoom=0.85)
    ax.set_title(title or "HSV as a cylinder: hue is an angle")
    return fig


def plot_hue_wheel(n: int = 360, *, ax: Axes | None = None, labels: bool = True) -> Figure:
    """A ring of ``n`` fully saturated hues, red at 0° going counter-clockwise, named every 30°."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 3:
        raise ValueError(f"n must be an int ≥ 3, got {n!r}")
    fig, ax = _new_axes(ax, (4.2, 4.2))
    hue = np.arange(n) / n
    rgb = hsv_to_rgb(np.stack([hue, np.ones(n), np.ones(n)], axis=-1))
    step = 360.0 / n
    wedges = [Wedge((0, 0), 1.0, h * 360 - step / 2, h * 360 + step / 2 + 0.2, width=0.35)
              for h in hue]
    ax.add_collection(PatchCollection(wedges, facecolors=rgb, edgecolors="none"))
    if labels:
        for name, h in NAMED_HUES.items():
            a = 2 * np.pi * h
            ax.text(1.2 * np.cos(a), 1.2 * np.sin(a), f"{name}\n{round(h * 360)}°",
                    ha="center", va="center", fontsize=7)
    ax.set_xlim(-1.45, 1.45)
    ax.set_ylim(-1.45, 1.45)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title("The hue wheel (hue = angle, red = 0)")
    return fig


def plot_hsv_slice(
    value: float | None = None,
    saturation: float | None = None,
    n: int = 64,
    *,
    ax: Axes | None = None,
) -> Figure:
    """An image of hue × saturation at a fixed ``value`` (default 1), or of hue × value at a
    fixed ``saturation``. Give at most one of the two."""
    if value is not None and saturation is not None:
        raise ValueError("give either value or saturation, not both")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 2 <= n <= 1024:
        raise ValueError(f"n must be an int in [2, 1024], got {n!r}")
    fixed_name = "saturation" if saturation is not None else "value"
    fixed = _unit(saturation if saturation is not None else (1.0 if value is None else value),
                  fixed_name)
    hue = (np.arange(n) + 0.5) / n
    other = np.linspace(0.0, 1.0, n)
    h, o = np.meshgrid(hue, other, indexing="xy")  # rows: the varying axis, columns: hue
    f = np.full_like(h, fixed)
    hsv = np.stack([h, o, f] if fixed_name == "value" else [h, f, o], axis=-1)
    fig, ax = _new_axes(ax, (5.0, 3.0))
    ax.imshow(hsv_to_rgb(hsv), origin="lower", extent=(0, 360, 0, 1), aspect="auto",
              interpolation="nearest")
    ax.set_xlabel("hue (degrees)")
    ax.set_ylabel("value" if fixed_name == "saturation" else "saturation")
    ax.set_xticks(np.arange(0, 361, 60))
    ax.set_title(f"HSV slice at {fixed_name} = {fixed:.2f}")
    return fig


def _latent_limit(z: np.ndarray) -> float:
    """Axis half-width: room for the unit circle (and a legend in the corner), or the data."""
    return max(1.35, 1.1 * float(np.abs(z[..., :2]).max())) if z.size else 1.35


def plot_latents(
    z: Any,
    rgb: Any,
    *,
    ax: Axes | None = None,
    title: str | None = None,
    held_out: Any = None,
    lim: float | None = None,
) -> Figure:
    """Scatter of latents (first two dims) coloured by each sample's true colour.

    Held-out samples (``held_out`` mask) get a black edge and a diamond marker; the unit circle
    is drawn faintly; the aspect is equal so a circle looks like one. ``lim`` fixes ±axis limits.
    """
    z = _array(z, "z", width=None, min_width=2)
    rgb = _colors(_array(rgb, "rgb"), "rgb")
    if len(rgb) != len(z):
        raise ValueError(f"rgb must have one row per latent ({len(z)}), got {len(rgb)}")
    mask = np.zeros(len(z), dtype=bool)
    if held_out is not None:
        mask = np.asarray(held_out)
        if mask.dtype != np.bool_ or mask.shape != (len(z),):
            raise ValueError(f"held_out must be a bool mask of shape ({len(z)},), got {mask.dtype} {mask.shape}")
    fig, ax = _new_axes(ax, (4.0, 4.0))
    t = np.linspace(0, 2 * np.pi, 200)
    ax.plot(np.cos(t), np.sin(t), color="0.8", lw=0.8, zorder=0)
    ax.axhline(0, color="0.92", lw=0.6, zorder=0)
    ax.axvline(0, color="0.92", lw=0.6, zorder=0)
    ax.scatter(z[~mask, 0], z[~mask, 1], c=rgb[~mask], s=16, edgecolors="none", zorder=2)
    if mask.any():
        ax.scatter(z[mask, 0], z[mask, 1], c=rgb[mask], s=16, marker="D", edgecolors="0.15",
                   linewidths=0.3, zorder=3)
        handles = [
            Line2D([], [], marker="o", ls="", color="0.5", label="trained on"),
            Line2D([], [], marker="D", ls="", markerfacecolor="0.85", markeredgecolor="black",
                   label="held out"),
        ]
        ax.legend(handles=handles, loc="lower right", fontsize=6.5, framealpha=0.85,
                  handletextpad=0.2, borderpad=0.3, labelspacing=0.3)
    if lim is None:
        lim = _latent_limit(z)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_xlabel("z₀")  # unicode, not mathtext: frames render faster
    ax.set_ylabel("z₁")
    ax.set_title(title if title is not None else "Latents, coloured by true colour")
    return fig


def plot_training_frame(run: Any, index: int) -> Figure:
    """One frame of training: the probe wheel's latents at snapshot ``index`` (left) and the
    loss curve with the current epoch marked (right). Axis limits are the same for every frame."""
    from .train import TrainingRun  # local import: plots do not need training otherwise

    if not isinstance(run, TrainingRun):
        raise TypeError(f"run must be a TrainingRun, got {type(run).__name__}")
    n = len(run.snapshot_epochs)
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not -n <= index < n:
        raise ValueError(f"index must be an int in [0, {n - 1}], got {index!r}")
    epoch = int(run.snapshot_epochs[index])
    hue = run.probe_hue
    rgb = hsv_to_rgb(np.stack([hue, np.ones_like(hue), np.ones_like(hue)], axis=-1))
    z = run.probe_latents[index]
    score = hue_order_score(hue, z)
    lim = _latent_limit(run.probe_latents)

    # fixed margins instead of a layout engine: every frame has the same geometry and renders
    # in about a third of the time
    fig = Figure(figsize=FRAME_SIZE)
    fig.subplots_adjust(left=0.08, right=0.97, bottom=0.14, top=0.84, wspace=0.3)
    left, right = fig.subplots(1, 2, width_ratios=[1, 1.25])
    plot_latents(z, rgb, ax=left, held_out=in_band(hue), lim=lim, title="latents of the hue wheel")
    losses = np.asarray(run.losses)
    steps = np.arange(len(losses))
    right.plot(steps, losses, color="0.25", lw=1.2)
    marker_y = losses[min(epoch, len(losses) - 1)] if len(losses) else np.nan
    right.axvline(epoch, color="tab:orange", lw=0.8, alpha=0.6)
    right.plot([epoch], [marker_y], "o", color="tab:orange", ms=6)
    right.set_yscale("log")
    right.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    right.yaxis.set_minor_formatter(NullFormatter())
    right.set_xlabel("epoch")
    right.set_ylabel("training MSE")
    right.set_xlim(0, max(len(losses), 1))
    right.set_title("reconstruction loss")
    norm = "normalised" if run.config.get("normalize", True) else "not normalised"
    fig.suptitle(f"epoch {epoch} · hue-order score {score:.2f} ({norm})")
    return fig


def plot_sweep(
    results_with: Sequence[dict],
    results_without: Sequence[dict],
    *,
    ax: Axes | None = None,
) -> Figure:
    """Bar chart: fraction of seeds whose latents form a wheel, with vs without normalisation.

    Each result is a dict from :func:`~course_lib.color.train.seed_sweep`. When the results
    carry ``is_loop`` (an ordered loop around its own centre), a second, lighter bar shows it.
    """
    groups = {"with L2 normalisation": results_with, "without": results_without}
    for name, results in (("results_with", results_with), ("results_without", results_without)):
        if isinstance(results, dict) or not isinstance(results, Sequence) or len(results) == 0:
            raise ValueError(f"{name} must be a non-empty list of seed_sweep dicts")
        if not all(isinstance(r, dict) and "is_wheel" in r for r in results):
            raise ValueError(f"{name}: every entry must be a dict with an 'is_wheel' key")
    show_loop = all("is_loop" in r for res in groups.values() for r in res)
    fig, ax = _new_axes(ax, (5.5, 3.6))
    x = np.arange(len(groups))
    width = 0.38 if show_loop else 0.6
    wheel = [np.mean([bool(r["is_wheel"]) for r in res]) for res in groups.values()]
    bars = ax.bar(x - (width / 2 if show_loop else 0), wheel, width, color="tab:blue",
                  label="wheel around the origin (hue = angle)")
    for bar, res in zip(bars, groups.values()):
        k = sum(bool(r["is_wheel"]) for r in res)
        ax.annotate(f"{k}/{len(res)}", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    ha="center", va="bottom", fontsize=8, xytext=(0, 2), textcoords="offset points")
    if show_loop:
        loop = [np.mean([bool(r["is_loop"]) for r in res]) for res in groups.values()]
        bars = ax.bar(x + width / 2, loop, width, color="tab:blue", alpha=0.35,
                      label="ordered loop anywhere in the plane")
        for bar, res in zip(bars, groups.values()):
            k = sum(bool(r["is_loop"]) for r in res)
            ax.annotate(f"{k}/{len(res)}", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                        ha="center", va="bottom", fontsize=8, xytext=(0, 2), textcoords="offset points")
        ax.legend(fontsize=7, loc="upper center", ncols=2, frameon=False)
    ax.set_xticks(x, list(groups))
    ax.set_ylim(0, 1.3 if show_loop else 1.12)
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.set_ylabel("fraction of seeds")
    ax.set_title("How often does the wheel form?")
    return fig
