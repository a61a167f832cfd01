"""Figures of the colour chapter: colour spaces and the latent colour wheel as it forms (notebooks 1.1
and 1.2). Each function returns a matplotlib ``Figure``.

Figures are created with the kit :mod:`course_lib.figures` (``matplotlib.figure.Figure``, not
``pyplot``), so a notebook shows a returned figure exactly once, nothing piles up in pyplot's
registry when frames are rendered in a loop, and the code runs under any backend (``Agg`` included). Where an ``ax`` is passed, the
function draws into it and returns its figure.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import PatchCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Wedge
from matplotlib.ticker import FuncFormatter, NullFormatter

from ..figures import new_axes, new_figure
from ..validation import check_fraction, check_int
from .data import in_band
from .spaces import NAMED_HUES, hsv_to_rgb

__all__ = [
    "plot_rgb_cube",
    "plot_hsv_cylinder",
    "plot_hue_wheel",
    "plot_hsv_slice",
    "plot_latents",
    "plot_training_frame",
    "plot_rates",
    "plot_loss_spread",
    "plot_transitions",
    "plot_aligned_loss",
    "plot_gallery",
    "plot_strips",
]

FRAME_SIZE = (8.0, 3.9)


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


def _unit(value: Any, name: str) -> float:
    return check_fraction(value, name)


def plot_rgb_cube(rgb_points: Any, *, ax: Axes | None = None, title: str | None = None) -> Figure:
    """3-D scatter of colours at their (r, g, b) position, each drawn in its own colour."""
    rgb = _colors(_array(rgb_points, "rgb_points"), "rgb_points")
    fig, ax = new_axes(ax, (5.0, 4.6), projection="3d")
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
    fig, ax = new_axes(ax, (5.0, 4.6), projection="3d")
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
    n = check_int(n, "n", min=3)
    fig, ax = new_axes(ax, (4.2, 4.2))
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
    n = check_int(n, "n", min=2, max=1024)
    fixed_name = "saturation" if saturation is not None else "value"
    fixed = _unit(saturation if saturation is not None else (1.0 if value is None else value),
                  fixed_name)
    hue = (np.arange(n) + 0.5) / n
    other = np.linspace(0.0, 1.0, n)
    h, o = np.meshgrid(hue, other, indexing="xy")  # rows: the varying axis, columns: hue
    f = np.full_like(h, fixed)
    hsv = np.stack([h, o, f] if fixed_name == "value" else [h, f, o], axis=-1)
    fig, ax = new_axes(ax, (5.0, 3.0))
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


def _label_named_hues(ax: Axes, hue: np.ndarray, z: np.ndarray, fontsize: float = 8.0,
                      radius: float | None = None, min_gap: float = 0.2) -> None:
    """Write the twelve hue names beside the latents of those hues (for readers who cannot tell
    the colours apart): at ``radius`` from the origin in the latent's direction, or else pushed
    outward from the latents' centre. A name that would sit on top of one already written is
    left out (where latents are folded together, one name stands for the crowd)."""
    centre = z[:, :2].mean(axis=0)
    spread = float(np.median(np.linalg.norm(z[:, :2] - centre, axis=1))) or 1.0
    placed: list[np.ndarray] = []
    for name, h in NAMED_HUES.items():
        d = np.abs(np.mod(hue - h + 0.5, 1.0) - 0.5)
        i = int(np.argmin(d))
        if d[i] > 1 / 120:  # that hue is not among the points
            continue
        p = z[i, :2]
        if radius is not None:
            a = np.arctan2(p[1], p[0])
            q = radius * np.array([np.cos(a), np.sin(a)])
        else:
            out = p - centre
            norm = float(np.linalg.norm(out))
            out = out / norm if norm > 1e-9 else np.array([1.0, 0.0])
            q = p + out * 0.22 * max(spread, 0.5)
        if any(np.linalg.norm(q - r) < min_gap * max(spread, 0.5) * (1.4 if radius else 1.0) for r in placed):
            continue
        placed.append(q)
        ax.text(q[0], q[1], name, ha="center", va="center", fontsize=fontsize, color="0.1", zorder=4,
                bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none", alpha=0.6))


def plot_latents(
    z: Any,
    rgb: Any,
    *,
    ax: Axes | None = None,
    title: str | None = None,
    held_out: Any = None,
    lim: float | None = None,
    hue: Any = None,
    legend: bool = True,
    fontsize: float = 9.0,
    label_radius: float | None = None,
) -> Figure:
    """Scatter of latents (first two dims) coloured by each sample's true colour.

    Held-out samples (``held_out`` mask) are drawn hollow (a ring in their own colour); the unit
    circle is drawn faintly; the aspect is equal so a circle looks like one. ``lim`` fixes ±axis
    limits. With ``hue`` (one per sample) the twelve named hues are written beside their latents,
    so the figure reads without telling colours apart.
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
    if hue is not None:
        hue = np.asarray(hue, dtype=np.float64)
        if hue.shape != (len(z),):
            raise ValueError(f"hue must have shape ({len(z)},), got {hue.shape}")
    fig, ax = new_axes(ax, (4.4, 4.4))
    t = np.linspace(0, 2 * np.pi, 200)
    ax.plot(np.cos(t), np.sin(t), color="0.8", lw=0.8, zorder=0)
    ax.axhline(0, color="0.92", lw=0.6, zorder=0)
    ax.axvline(0, color="0.92", lw=0.6, zorder=0)
    ax.plot([0], [0], "+", color="0.3", ms=7, zorder=1)  # the origin
    ax.scatter(z[~mask, 0], z[~mask, 1], c=rgb[~mask], s=18, edgecolors="none", zorder=2)
    if mask.any():
        ax.scatter(z[mask, 0], z[mask, 1], s=22, facecolors="none", edgecolors=rgb[mask],
                   linewidths=1.1, zorder=3)
        if legend:
            handles = [
                Line2D([], [], marker="o", ls="", color="0.45", label="trained on"),
                Line2D([], [], marker="o", ls="", markerfacecolor="none", markeredgecolor="0.3",
                       label="held out"),
                Line2D([], [], marker="+", ls="", color="0.3", label="origin"),
            ]
            ax.legend(handles=handles, loc="lower right", fontsize=fontsize, framealpha=0.85,
                      handletextpad=0.2, borderpad=0.3, labelspacing=0.3)
    if hue is not None:
        _label_named_hues(ax, hue, z, fontsize=fontsize - 1, radius=label_radius)
    if lim is None:
        lim = _latent_limit(z)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_xlabel("z₀", fontsize=fontsize)  # unicode, not mathtext: frames render faster
    ax.set_ylabel("z₁", fontsize=fontsize)
    ax.tick_params(labelsize=fontsize - 1)
    ax.set_title(title if title is not None else "Latents, coloured by true colour", fontsize=fontsize + 1)
    return fig


def _ring(ax: Axes, colors: np.ndarray, r0: float = 1.1, r1: float = 1.25) -> None:
    """A thin ring just outside the unit circle: ``colors[i]`` at angle i·360/n degrees."""
    n = len(colors)
    step = 360.0 / n
    wedges = [Wedge((0, 0), r1, i * step - step / 2, i * step + step / 2 + 0.3, width=r1 - r0)
              for i in range(n)]
    ax.add_collection(PatchCollection(wedges, facecolors=np.clip(colors, 0, 1), edgecolors="none", zorder=1))


def plot_training_frame(run: Any, index: int) -> Figure:
    """One frame of training: the probe wheel's latents at snapshot ``index`` (left), with the
    decoded colour of every latent angle as a ring outside the unit circle (normalised runs), and
    the loss curve with the current epoch marked (right). Axis limits are the same for every frame."""
    from .train import TrainingRun  # local import: plots do not need training otherwise

    if not isinstance(run, TrainingRun):
        raise TypeError(f"run must be a TrainingRun, got {type(run).__name__}")
    n = len(run.checkpoint_steps)
    index = check_int(index, "index", min=-n, max=n - 1)
    epoch = int(run.checkpoint_steps[index])
    hue = run.probe_hue
    rgb = hsv_to_rgb(np.stack([hue, np.ones_like(hue), np.ones_like(hue)], axis=-1))
    z = run.probe_latents[index]
    normalised = run.config.get("normalize", True)
    lim = max(_latent_limit(run.probe_latents), 1.62 if normalised else 0.0)

    # fixed margins instead of a layout engine: every frame has the same geometry and renders
    # in about a third of the time
    fig = new_figure(FRAME_SIZE, layout=None)
    fig.subplots_adjust(left=0.07, right=0.97, bottom=0.19, top=0.86, wspace=0.28)
    left, right = fig.subplots(1, 2, width_ratios=[1, 1.2])
    if normalised and run.strip is not None:
        _ring(left, run.strip[index])
    plot_latents(z, rgb, ax=left, held_out=in_band(hue), lim=lim, hue=hue, fontsize=10, legend=False,
                 label_radius=1.43 if normalised else None,
                 title="latents (ring: what each angle decodes to)" if normalised and run.strip is not None
                 else "latents of the hue wheel")
    fig.text(0.02, 0.02, "● trained hue   ○ held-out hue (150°–240°)   + origin", fontsize=9.5, color="0.2")
    losses = np.asarray(run.losses)
    steps = np.arange(len(losses))
    right.plot(steps, losses, color="0.25", lw=1.4)
    marker_y = losses[min(epoch, len(losses) - 1)] if len(losses) else np.nan
    right.axvline(epoch, color="tab:orange", lw=1.0, alpha=0.7)
    right.plot([epoch], [marker_y], "o", color="tab:orange", ms=7)
    right.set_yscale("log")
    right.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    right.yaxis.set_minor_formatter(NullFormatter())
    right.set_xlabel("epoch", fontsize=10)
    right.set_ylabel("training MSE", fontsize=10)
    right.tick_params(labelsize=9)
    right.set_xlim(0, 1.02 * max(len(losses), 1))
    right.set_title("reconstruction loss", fontsize=11)
    report = run.report(index)
    verdict = "trained hues wrap the origin in order" if report["trained_wheel"] else "no wheel yet"
    norm = "normalised" if normalised else "not normalised"
    fig.suptitle(f"epoch {epoch} ({norm}) · trained-arc order {report['trained_order']:.2f} · {verdict}",
                 fontsize=12)
    return fig


def _histories(histories: Any) -> dict[str, Any]:
    from .train import SweepHistory

    if not isinstance(histories, dict) or not histories:
        raise ValueError("histories must be a non-empty dict {label: SweepHistory}")
    for label, h in histories.items():
        if not isinstance(h, SweepHistory):
            raise TypeError(f"histories[{label!r}] must be a SweepHistory, got {type(h).__name__}")
    return histories


_CONDITION_COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:purple")


def plot_rates(
    histories: dict[str, Any],
    metrics: dict[str, str] | None = None,
    *,
    confidence: float = 0.95,
) -> Figure:
    """Share of seeds with each yes/no metric against training epoch, one panel per metric, one
    line per condition, with a shaded Wilson interval at every checkpoint."""
    from ..stats import wilson_interval

    histories = _histories(histories)
    metrics = metrics or {"trained_wheel": "trained hues wrap the origin, in order",
                          "band_placed": "held-out band in the gap, in order"}
    fig = new_figure((4.3 * len(metrics), 3.6))
    axes = np.atleast_1d(fig.subplots(1, len(metrics), sharey=True))
    for ax, (name, title) in zip(axes, metrics.items()):
        for color, (label, h) in zip(_CONDITION_COLORS, histories.items()):
            flags = h.metrics[name].astype(bool)
            k = flags.sum(axis=1)
            n = flags.shape[1]
            lo_hi = np.array([wilson_interval(int(x), n, confidence) for x in k])
            ax.fill_between(h.checkpoint_steps, lo_hi[:, 0], lo_hi[:, 1], color=color, alpha=0.18, lw=0)
            ax.plot(h.checkpoint_steps, k / n, color=color, lw=1.8, label=f"{label} ({n} seeds)")
        ax.set_xscale("symlog", linthresh=100)
        ax.set_xlim(0, max(h.checkpoint_steps[-1] for h in histories.values()))
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("epoch (linear to 100, then log)", fontsize=10)
        ax.set_title(title, fontsize=11)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=9)
    axes[0].set_ylabel("share of seeds", fontsize=10)
    axes[0].legend(fontsize=9, loc="lower right")
    fig.suptitle(f"How often, after how long (shaded: {confidence:.0%} Wilson intervals)", fontsize=12)
    return fig


_METRIC_STYLES = {"trained_wheel": (":", "wheel round the origin"), "loop_wheel": ("--", "loop round its centre")}


def plot_loss_spread(histories: dict[str, Any], *, metrics: Sequence[str] = ("trained_wheel",),
                     ax: Axes | None = None) -> Figure:
    """Training loss against epoch for every condition: the median over seeds and the band from
    the 10th to the 90th percentile, with each condition's median transition epoch marked for each
    of ``metrics`` (dotted: ``trained_wheel``, round the origin; dashed: ``loop_wheel``, round the
    loop's own centre)."""
    if isinstance(metrics, str) or not all(m in _METRIC_STYLES for m in metrics):
        raise ValueError(f"metrics must be a sequence drawn from {sorted(_METRIC_STYLES)}, got {metrics!r}")
    histories = _histories(histories)
    fig, ax = new_axes(ax, (6.0, 3.8))
    for color, (label, h) in zip(_CONDITION_COLORS, histories.items()):
        epochs = np.arange(1, h.losses.shape[1] + 1)
        lo, med, hi = np.percentile(h.losses, [10, 50, 90], axis=0)
        ax.fill_between(epochs, lo, hi, color=color, alpha=0.18, lw=0)
        ax.plot(epochs, med, color=color, lw=1.8, label=f"{label}: median, 10–90% band")
        for metric in metrics:
            t = h.transitions(metric)
            if np.isfinite(t).any():
                ax.axvline(np.nanmedian(t), color=color, ls=_METRIC_STYLES[metric][0], lw=1.4)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set_xlabel("epoch", fontsize=10)
    ax.set_ylabel("training MSE", fontsize=10)
    marks = ", ".join(f"{'dotted' if _METRIC_STYLES[m][0] == ':' else 'dashed'}: {_METRIC_STYLES[m][1]}"
                      for m in metrics)
    ax.set_title(f"Loss over training; median epoch formed ({marks})" if metrics else "Loss over training",
                 fontsize=10)
    ax.legend(fontsize=9)
    ax.grid(alpha=0.3, which="both")
    return fig


def plot_transitions(histories: dict[str, Any], *, metric: str = "trained_wheel") -> Figure:
    """Histogram of each seed's transition epoch (the checkpoint from which ``metric`` holds for
    good), one row per condition, log-spaced bins; seeds that never get there are counted apart."""
    histories = _histories(histories)
    last = max(int(h.checkpoint_steps[-1]) for h in histories.values())
    bins = np.geomspace(10, last, 25)
    fig = new_figure((7.0, 1.9 * len(histories) + 0.6))
    axes = np.atleast_1d(fig.subplots(len(histories), 1, sharex=True))
    for ax, color, (label, h) in zip(axes, _CONDITION_COLORS, histories.items()):
        t = h.transitions(metric)
        done = t[np.isfinite(t)]
        ax.hist(np.clip(done, 10, None), bins=bins, color=color, alpha=0.85)
        never = int(np.isnan(t).sum())
        med = f"median {np.median(done):.0f}" if len(done) else "none"
        ax.set_title(f"{label}: {len(done)}/{len(t)} seeds, {med} · never (or not for good): {never}",
                     fontsize=10)
        if len(done):
            ax.axvline(np.median(done), color="0.2", ls=":", lw=1.2)
        ax.set_ylabel("seeds", fontsize=10)
        ax.tick_params(labelsize=9)
    axes[-1].set_xscale("log")
    axes[-1].set_xlabel("transition epoch (log scale)", fontsize=10)
    return fig


def plot_aligned_loss(history: Any, *, window: int = 300, ax: Axes | None = None) -> Figure:
    """Each seed's loss, divided by its starting loss, against epochs *relative to its own
    transition epoch*: median and interquartile band. A kink at 0 shared by the seeds means the
    loss curve and the wheel change together."""
    h = _histories({"h": history})["h"]
    window = check_int(window, "window", min=10)
    t = h.transitions()
    rel = np.arange(-window, window + 1)
    rows = []
    for s in np.flatnonzero(np.isfinite(t)):
        idx = int(t[s]) + rel
        ok = (idx >= 0) & (idx < h.losses.shape[1])
        row = np.full(len(rel), np.nan)
        row[ok] = h.losses[s, idx[ok]] / h.losses[s, 0]
        rows.append(row)
    fig, ax = new_axes(ax, (5.5, 3.6))
    if rows:
        arr = np.array(rows)
        lo, med, hi = np.nanpercentile(arr, [25, 50, 75], axis=0)
        ax.fill_between(rel, lo, hi, color="tab:blue", alpha=0.2, lw=0, label="25–75% of seeds")
        ax.plot(rel, med, color="tab:blue", lw=1.8, label=f"median over {len(rows)} seeds")
    ax.axvline(0, color="0.2", ls=":", lw=1.2)
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set_xlabel("epochs since this seed's wheel formed", fontsize=10)
    ax.set_ylabel("loss / loss at epoch 0", fontsize=10)
    ax.set_title("Loss, aligned on each seed's transition", fontsize=11)
    if rows:
        ax.legend(fontsize=9)
    ax.grid(alpha=0.3)
    return fig


def plot_gallery(
    history: Any, seeds: Sequence[int], *, epoch: int | None = None, titles: Sequence[str] | None = None,
    ncols: int = 2,  # two per row: each panel stays legible at the book's page width
) -> Figure:
    """Small multiples: the probe wheel's latents of several seeds of one sweep at ``epoch``
    (default the last epoch with stored latents), held-out band hollow, named hues labelled."""
    h = _histories({"h": history})["h"]
    seeds = list(seeds)
    if not seeds:
        raise ValueError("seeds must not be empty")
    epoch = max(h.latents) if epoch is None else epoch
    if epoch not in h.latents:
        raise ValueError(f"epoch must be one of the epochs with stored latents {sorted(h.latents)}, got {epoch!r}")
    if titles is not None and len(titles) != len(seeds):
        raise ValueError(f"titles must have one entry per seed ({len(seeds)}), got {len(titles)}")
    positions = []
    for s in seeds:
        hits = np.flatnonzero(h.seeds == s)
        if not len(hits):
            raise ValueError(f"seed {s!r} is not in this sweep")
        positions.append(int(hits[0]))
    ncols = min(ncols, len(seeds))
    nrows = int(np.ceil(len(seeds) / ncols))
    fig = new_figure((3.3 * ncols, 3.4 * nrows))
    axes = np.atleast_1d(fig.subplots(nrows, ncols)).ravel()
    hue = h.probe_hue
    rgb = hsv_to_rgb(np.stack([hue, np.ones_like(hue), np.ones_like(hue)], axis=-1))
    for k, (ax, s, i) in enumerate(zip(axes, seeds, positions)):
        z = h.latents[epoch][i]
        title = titles[k] if titles is not None else f"seed {s}"
        plot_latents(z, rgb, ax=ax, held_out=in_band(hue), hue=hue, legend=False, fontsize=8.5,
                     lim=max(1.45, _latent_limit(z)), title=title)
    for ax in axes[len(seeds):]:
        ax.axis("off")
    return fig


def plot_strips(run: Any, indices: Sequence[int]) -> Figure:
    """What the decoder makes of each latent angle (0°–360°), one strip per snapshot ``indices``
    of a :class:`~course_lib.color.train.TrainingRun`; the trained arc's two ends (hues 149° and
    241°) are marked, so the strip between them is what the gap decodes to."""
    from .train import TrainingRun

    if not isinstance(run, TrainingRun):
        raise TypeError(f"run must be a TrainingRun, got {type(run).__name__}")
    if run.strip is None:
        raise ValueError("run has no decoded strips (trained by an older version: clear the cache)")
    indices = list(indices)
    n = len(run.checkpoint_steps)
    for i in indices:
        check_int(i, "indices", min=-n, max=n - 1)
    fig = new_figure((7.5, 0.62 * len(indices) + 1.0))
    ax = fig.add_subplot()
    hue = run.probe_hue
    ends = [int(np.argmin(np.abs(hue - d / 360))) for d in (149, 241)]
    for row, i in enumerate(indices):
        ax.imshow(run.strip[i][None], extent=(0, 360, row - 0.4, row + 0.4), aspect="auto",
                  interpolation="nearest")
        for j, name in zip(ends, ("149°", "241°")):
            a = float(np.degrees(np.arctan2(run.probe_latents[i][j, 1], run.probe_latents[i][j, 0])) % 360)
            ax.plot([a, a], [row - 0.4, row + 0.4], color="black", lw=1.6)
            ax.text(a, row, name, ha="center", va="center", fontsize=8,
                    bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="black", lw=0.6))
    ax.set_yticks(range(len(indices)), [f"epoch {run.checkpoint_steps[i]}" for i in indices], fontsize=9)
    ax.set_ylim(len(indices) - 0.4, -0.7)
    ax.set_xlim(0, 360)
    ax.set_xticks(np.arange(0, 361, 45))
    ax.set_xlabel("latent angle (degrees)", fontsize=10)
    ax.set_title("Decoded colour of each latent angle (black ticks: where hues 149° and 241° sit)", fontsize=10.5)
    return fig
