"""Figures of the curriculum and its schedules (notebooks 2.1 and 2.2). Each function returns a
matplotlib ``Figure``.

Figures are built with the kit :mod:`course_lib.figures` (``matplotlib.figure.Figure``, not
``pyplot``), so they show once, render under any backend and can be made in a loop for a
:func:`course_lib.widgets.frame_slider`.

* :func:`plot_views` — 2-D views (dims 0–1, 0–2, …) of 3-D latents, coloured by true colour
* :func:`plot_curriculum_frame` — one frame of the scrubber: two views and the loss so far
* :func:`plot_phase_ends` — the latents at the end of every phase
* :func:`plot_seed_gallery` — several seeds' latents side by side, two views each
* :func:`plot_schedule` — a dopesheet timeline: one row per parameter, keyframes marked
* :func:`plot_threshold_curves` — share of seeds called crumpled against the threshold
* :func:`plot_sweep_losses` — median and spread of the loss over seeds, per arm
* :func:`plot_easings` — value and velocity of every easing
* :func:`plot_transition` — a retargeted transition's value, velocity and acceleration
* :func:`plot_probe_curves` — probe error against step for several arms (median and band)
* :func:`plot_advances` — when each run of a reactive schedule advanced, beside the fixed phases
"""

from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from ..figures import marker, new_axes, new_figure
from ..validation import check_int
from .easings import EASINGS, ease_derivatives
from .schedules import Transition

__all__ = [
    "plot_views",
    "plot_curriculum_frame",
    "plot_phase_ends",
    "plot_seed_gallery",
    "plot_schedule",
    "plot_threshold_curves",
    "plot_sweep_losses",
    "plot_easings",
    "plot_transition",
    "plot_probe_curves",
    "plot_advances",
]

_ARM_COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:purple")
_ARM_STYLES = ("-", "--", "-.", ":")
_PHASE_SHADES = ("0.97", "0.90")
_SUB = "₀₁₂₃₄₅₆₇₈₉"


def _latents(z: Any, name: str = "z") -> np.ndarray:
    if hasattr(z, "detach"):
        z = z.detach().cpu().numpy()
    if not isinstance(z, np.ndarray):
        raise TypeError(f"{name} must be a numpy array or tensor, got {type(z).__name__}")
    z = z.astype(np.float64, copy=False)
    if z.ndim != 2 or z.shape[1] < 2:
        raise ValueError(f"{name} must have shape (N, d ≥ 2), got {z.shape}")
    if not np.isfinite(z).all():
        raise ValueError(f"{name} contains NaN or inf")
    return z


def _rgb(rgb: Any, n: int) -> np.ndarray:
    rgb = np.asarray(rgb.detach().cpu().numpy() if hasattr(rgb, "detach") else rgb, dtype=np.float64)
    if rgb.shape != (n, 3):
        raise ValueError(f"rgb must have shape ({n}, 3) to match z, got {rgb.shape}")
    if rgb.size and (rgb.min() < -1e-6 or rgb.max() > 1 + 1e-6):
        raise ValueError("rgb must lie in [0, 1] to be drawn as colours")
    return np.clip(rgb, 0.0, 1.0)


def _pairs(pairs: Any, d: int) -> list[tuple[int, int]]:
    out = []
    for p in pairs:
        a, b = (int(i) for i in p)
        if not (0 <= a < d and 0 <= b < d and a != b):
            raise ValueError(f"pairs: ({a}, {b}) is not a pair of distinct dims of a {d}-D latent")
        out.append((a, b))
    if not out:
        raise ValueError("pairs must not be empty")
    return out


def _view(ax: Axes, z: np.ndarray, rgb: np.ndarray, a: int, b: int, lim: float, fontsize: float,
          value: Optional[np.ndarray] = None) -> None:
    ax.set_facecolor("0.94")
    ax.axhline(0, color="white", lw=0.8, zorder=0)
    ax.axvline(0, color="white", lw=0.8, zorder=0)
    order = np.argsort(value) if value is not None else np.arange(len(z))  # bright on top
    ax.scatter(z[order, a], z[order, b], c=rgb[order], s=10, edgecolors="none", zorder=2)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_xlabel(f"z{_SUB[a]}", fontsize=fontsize)
    ax.set_ylabel(f"z{_SUB[b]}", fontsize=fontsize, labelpad=0)
    ax.tick_params(labelsize=fontsize - 1)


def _lim(z: np.ndarray) -> float:
    return max(1.2, 1.1 * float(np.abs(z).max())) if z.size else 1.2


def plot_views(z: Any, rgb: Any, *, pairs: Sequence[Sequence[int]] = ((0, 1), (0, 2)),
               lim: Optional[float] = None, title: Optional[str] = None,
               value: Any = None, fontsize: float = 9.0) -> Figure:
    """Side-by-side 2-D views of latents ``z`` (N, d) coloured by true colour ``rgb`` (N, 3):
    one panel per pair of dims in ``pairs``. With ``value`` (N,) brighter colours are drawn on
    top. Same limits (``lim``, default from the data) on every panel, equal aspect."""
    z = _latents(z)
    rgb = _rgb(rgb, len(z))
    pairs = _pairs(pairs, z.shape[1])
    lim = _lim(z) if lim is None else float(lim)
    fig = new_figure((3.1 * len(pairs), 3.3))
    axes = np.atleast_1d(fig.subplots(1, len(pairs)))
    for ax, (a, b) in zip(axes, pairs):
        _view(ax, z, rgb, a, b, lim, fontsize, None if value is None else np.asarray(value))
        ax.set_title(f"dims {a}–{b}", fontsize=fontsize + 1)
    if title:
        fig.suptitle(title, fontsize=fontsize + 2)
    return fig


def _shade_phases(ax: Axes, starts: Sequence[float], ends: Sequence[float], labels: bool = True,
                  fontsize: float = 8.0) -> None:
    for i, (s, e) in enumerate(zip(starts, ends)):
        ax.axvspan(s, e, color=_PHASE_SHADES[i % 2], zorder=0, lw=0)
        if labels:
            ax.text((s + e) / 2, 1.0, str(i + 1), transform=ax.get_xaxis_transform(), ha="center",
                    va="bottom", fontsize=fontsize, color="0.35")


def plot_curriculum_frame(run: Any, index: int, curriculum: Any, *, lim: Optional[float] = None) -> Figure:
    """One frame of the scrubber: the probe's latents at snapshot ``index`` in dims 0–1 and 0–2,
    and the reconstruction loss so far with the phases shaded (numbered) and the step marked."""
    from .data import curriculum_probe
    from .runs import CurriculumRun

    if not isinstance(run, CurriculumRun):
        raise TypeError(f"run must be a CurriculumRun, got {type(run).__name__}")
    n = len(run.checkpoint_steps)
    index = check_int(index, "index", min=-n, max=n - 1)
    step = int(run.checkpoint_steps[index])
    z = run.probe_latents[index]
    probe = curriculum_probe()
    value = probe.value if len(probe.hsv) == len(z) else None
    if lim is None:
        lim = _lim(run.probe_latents[1:] if n > 1 else run.probe_latents)
    phase = curriculum.phase_at(min(step, run.steps - 1))
    fig = new_figure((9.6, 3.3))
    axes = fig.subplots(1, 3, width_ratios=[1, 1, 1.35])
    for ax, (a, b) in zip(axes[:2], ((0, 1), (0, 2))):
        _view(ax, z, run.probe_rgb, a, b, lim, 9.0, value)
        ax.set_title(f"dims {a}–{b}", fontsize=10)
    ax = axes[2]
    _shade_phases(ax, curriculum.starts, curriculum.ends)
    t = np.arange(1, run.steps + 1)
    ax.plot(t, run.losses["recon"], color="0.75", lw=0.8)
    ax.plot(t[:step], run.losses["recon"][:step], color="tab:blue", lw=1.2, label="reconstruction MSE")
    ax.axvline(max(step, 1), color="k", lw=1.0)
    ax.set_yscale("log")
    ax.set_xlim(1, run.steps)
    ax.set_xlabel("step (shaded: phases 1–5)", fontsize=9)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.tick_params(labelsize=8)
    ax.set_title("loss (on the current phase's data)", fontsize=10)
    fig.suptitle(f"step {step} · phase {phase + 1}: {curriculum.phases[phase].name}", fontsize=11)
    return fig


def plot_phase_ends(run: Any, curriculum: Any, *, pairs: Sequence[Sequence[int]] = ((0, 1), (0, 2))) -> Figure:
    """The probe's latents at the last step of every phase: one column per phase, one row per
    view. Needs snapshots at ``curriculum.ends − 1`` (``watched_run`` takes them)."""
    from .data import curriculum_probe

    probe = curriculum_probe()
    idx = []
    for end in curriculum.ends:
        hits = np.flatnonzero(run.checkpoint_steps == min(int(end), run.steps))
        if not len(hits):
            hits = np.flatnonzero(run.checkpoint_steps == int(end) - 1)
        if not len(hits):
            raise ValueError(f"run has no snapshot at the end of the phase ending at step {end}")
        idx.append(int(hits[0]))
    pairs = _pairs(pairs, run.probe_latents.shape[-1])
    lim = _lim(run.probe_latents[idx])
    k = len(idx)
    fig = new_figure((2.25 * k, 2.3 * len(pairs) + 0.4))
    axes = np.asarray(fig.subplots(len(pairs), k, squeeze=False))
    for j, i in enumerate(idx):
        for r, (a, b) in enumerate(pairs):
            _view(axes[r, j], run.probe_latents[i], run.probe_rgb, a, b, lim, 8.0, probe.value)
        axes[0, j].set_title(f"end of phase {j + 1}\n{curriculum.phases[j].name}", fontsize=9)
    return fig


def plot_seed_gallery(latents: Any, rgb: Any, titles: Sequence[str], *,
                      pairs: Sequence[Sequence[int]] = ((0, 1), (0, 2)), value: Any = None) -> Figure:
    """Several models' latents (S, P, d) side by side: one column per model (titled), one row per
    view in ``pairs``; the same limits everywhere."""
    z = np.asarray(latents, dtype=np.float64)
    if z.ndim != 3:
        raise ValueError(f"latents must have shape (S, P, d), got {z.shape}")
    if len(titles) != len(z):
        raise ValueError(f"titles must have one entry per model ({len(z)}), got {len(titles)}")
    pairs = _pairs(pairs, z.shape[-1])
    rgb = _rgb(rgb, z.shape[1])
    lim = _lim(z)
    fig = new_figure((2.3 * len(z), 2.3 * len(pairs) + 0.3))
    axes = np.asarray(fig.subplots(len(pairs), len(z), squeeze=False))
    for j in range(len(z)):
        for r, (a, b) in enumerate(pairs):
            _view(axes[r, j], _latents(z[j]), rgb, a, b, lim, 8.0,
                  None if value is None else np.asarray(value))
        axes[0, j].set_title(titles[j], fontsize=9)
    return fig


def plot_schedule(schedule: Any, steps: Any, names: Sequence[str], *, at: Optional[float] = None,
                  labels: Optional[Mapping[str, str]] = None, phases: Any = None,
                  log: Sequence[str] = ()) -> Figure:
    """A dopesheet timeline: one row per parameter in ``names``, its value against ``steps``
    (from ``schedule.curve``, else ``schedule.values``). Keyframes of a ``Dopesheet`` that set the
    parameter are marked with diamonds; ``at`` draws the current step and writes each value;
    ``phases`` (an object with ``starts``/``ends``) shades phases; parameters in ``log`` get a
    log axis."""
    steps = np.asarray(steps, dtype=np.float64)
    if steps.ndim != 1 or len(steps) < 2:
        raise ValueError("steps must be a 1-D sequence of at least 2 steps")
    names = list(names)
    if not names:
        raise ValueError("names must not be empty")
    labels = dict(labels or {})
    fig = new_figure((7.6, 0.35 + 1.05 * len(names)))
    axes = np.atleast_1d(fig.subplots(len(names), 1, sharex=True))
    frames = getattr(schedule, "keyframes", ())
    for ax, name in zip(axes, names):
        if hasattr(schedule, "curve"):
            y = np.asarray(schedule.curve(name, steps), dtype=np.float64)
        else:
            y = np.array([schedule.values(s)[name] for s in steps])
        if phases is not None:
            _shade_phases(ax, phases.starts, phases.ends, labels=ax is axes[0])
        ax.plot(steps, y, color="tab:blue", lw=1.6)
        for f in frames:
            if name in f.targets:
                ax.plot(f.step, f.targets[name], "D", color="tab:red", ms=5, zorder=3)
        if at is not None:
            ax.axvline(at, color="k", lw=1.0)
            now = float(np.interp(at, steps, y))
            ax.plot(at, now, "o", color="k", ms=4, zorder=4)
            ax.text(0.995, 0.9, f"{now:.3g}", transform=ax.transAxes, ha="right", va="top",
                    fontsize=9, bbox=dict(fc="white", ec="none", alpha=0.8))
        if name in log:
            ax.set_yscale("symlog", linthresh=1e-3)
        ax.set_ylabel(labels.get(name, name), fontsize=9, rotation=0, ha="right", va="center")
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel("step", fontsize=9)
    axes[-1].set_xlim(steps[0], steps[-1])
    if frames:
        axes[0].plot([], [], "D", color="tab:red", ms=5, label="keyframe")
        axes[0].legend(fontsize=8, loc="upper right" if at is None else "upper center")
    return fig


def plot_threshold_curves(values: Mapping[str, np.ndarray], *, chosen: float = 0.2,
                          thresholds: Optional[np.ndarray] = None, confidence: float = 0.95,
                          title: str = "") -> Figure:
    """Left: the crumpling of every seed (dots, one row per arm). Right: the share of seeds
    called crumpled against the threshold, one line per arm, with Wilson intervals; the
    ``chosen`` threshold is marked."""
    from ..stats import wilson_interval

    if not isinstance(values, Mapping) or not values:
        raise ValueError("values must be a non-empty dict label → crumpling per seed")
    thresholds = np.linspace(0.0, 0.6, 61) if thresholds is None else np.asarray(thresholds)
    fig = new_figure((9.4, 3.4))
    ax0, ax1 = fig.subplots(1, 2, width_ratios=[1, 1.2])
    for i, (label, c) in enumerate(values.items()):
        c = np.asarray(c, dtype=np.float64).ravel()
        color = _ARM_COLORS[i % 4]
        jitter = (np.random.default_rng(i).random(len(c)) - 0.5) * 0.3
        ax0.scatter(c, np.full(len(c), i) + jitter, s=16, color=color,
                    marker=marker(i % 2), edgecolors="none", alpha=0.8)
        k = np.array([(c > t).sum() for t in thresholds])
        lo_hi = np.array([wilson_interval(int(x), len(c), confidence) for x in k])
        ax1.fill_between(thresholds, lo_hi[:, 0], lo_hi[:, 1], color=color, alpha=0.15, lw=0)
        ax1.plot(thresholds, k / len(c), color=color, ls=_ARM_STYLES[i % 4], lw=1.8,
                 label=f"{label} (n = {len(c)})")
    ax0.set_yticks(range(len(values)), list(values), fontsize=9)
    ax0.set_ylim(-0.6, len(values) - 0.4)
    ax0.set_xlabel("crumpling", fontsize=9)
    ax0.set_title("every seed", fontsize=10)
    for ax in (ax0, ax1):
        ax.axvline(chosen, color="k", lw=1.0, ls=":")
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=8)
    ax1.set_xlabel("threshold (dotted: the one we use)", fontsize=9)
    ax1.set_ylabel("share called crumpled", fontsize=9)
    ax1.set_ylim(0, 1.02)
    ax1.set_title(f"share above the threshold ({confidence:.0%} Wilson bands)", fontsize=10)
    ax1.legend(fontsize=8)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig


def plot_sweep_losses(sweeps: Mapping[str, Any], *, phases: Any = None, term: str = "recon",
                      ax: Optional[Axes] = None) -> Figure:
    """``term``'s loss against step for each arm: median over seeds and the 10–90 % band."""
    if not isinstance(sweeps, Mapping) or not sweeps:
        raise ValueError("sweeps must be a non-empty dict label → CurriculumSweep")
    fig, ax = new_axes(ax, (6.8, 3.4))
    if phases is not None:
        _shade_phases(ax, phases.starts, phases.ends)
    for i, (label, sw) in enumerate(sweeps.items()):
        losses = np.asarray(sw.losses[term])
        t = np.arange(1, losses.shape[1] + 1)
        lo, med, hi = np.percentile(losses, [10, 50, 90], axis=0)
        color = _ARM_COLORS[i % 4]
        ax.fill_between(t, lo, hi, color=color, alpha=0.2, lw=0)
        ax.plot(t, med, color=color, ls=_ARM_STYLES[i % 4], lw=1.6,
                label=f"{label}: median, 10–90 % band ({losses.shape[0]} seeds)")
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set_xlabel("step" + (" (shaded: phases)" if phases is not None else ""), fontsize=9)
    ax.set_ylabel("reconstruction MSE" if term == "recon" else term, fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    ax.tick_params(labelsize=8)
    return fig


def plot_easings(names: Sequence[str] = tuple(EASINGS)) -> Figure:
    """Each easing's value e(t) and velocity e'(t) on t ∈ [0, 1] (the step's jump drawn as a
    vertical line; its velocity is an impulse, drawn as an arrow)."""
    t = np.linspace(0, 1, 401)
    fig = new_figure((8.6, 3.2))
    ax0, ax1 = fig.subplots(1, 2)
    for i, name in enumerate(names):
        if name not in EASINGS:
            raise ValueError(f"unknown easing {name!r}; choose from {sorted(EASINGS)}")
        e, de, _ = ease_derivatives(name, t)
        color, ls = _ARM_COLORS[i % 4], _ARM_STYLES[i % 4]
        ax0.plot(t, e, color=color, ls=ls, lw=1.8, label=name)
        if name == "step":
            ax1.annotate("", xy=(1.0, 1.95), xytext=(1.0, 0.0),
                         arrowprops=dict(arrowstyle="->", color=color, lw=1.6))
            ax1.plot(t, de, color=color, ls=ls, lw=1.8, label="step (impulse at t = 1)")
        else:
            ax1.plot(t, de, color=color, ls=ls, lw=1.8, label=name)
    ax0.set_title("value e(t)", fontsize=10)
    ax1.set_title("velocity e′(t)", fontsize=10)
    ax1.set_ylim(-0.05, 2.0)
    for ax in (ax0, ax1):
        ax.set_xlabel("progress t", fontsize=9)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=8)
    ax0.legend(fontsize=8, loc="upper left")
    ax1.legend(fontsize=8, loc="upper left")
    return fig


def plot_transition(transition: Transition, steps: Any, *, marks: Sequence[float] = (),
                    others: Optional[Mapping[str, Any]] = None) -> Figure:
    """A transition's value, velocity and acceleration against ``steps`` (three rows), with
    retarget steps ``marks`` as dotted lines; ``others`` (label → Transition) are drawn dashed
    for comparison."""
    if not isinstance(transition, Transition):
        raise TypeError(f"transition must be a Transition, got {type(transition).__name__}")
    steps = np.asarray(steps, dtype=np.float64)
    fig = new_figure((7.4, 5.0))
    axes = fig.subplots(3, 1, sharex=True)
    series = {"retargeted": transition, **dict(others or {})}
    for i, (label, tr) in enumerate(series.items()):
        x = tr.curve(steps)
        v = np.array([tr.velocity(float(s)) for s in steps])
        a = np.array([tr.acceleration(float(s)) for s in steps])
        for ax, y in zip(axes, (x, v, a)):
            ax.plot(steps, y, color=_ARM_COLORS[i % 4], ls=_ARM_STYLES[i % 4], lw=1.7, label=label)
    for ax, title in zip(axes, ("value", "velocity (per step)", "acceleration (per step²)")):
        for m in marks:
            ax.axvline(m, color="k", ls=":", lw=1.0)
        ax.set_ylabel(title, fontsize=9)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=8)
    axes[0].legend(fontsize=8)
    axes[-1].set_xlabel("step (dotted: where the target changed)", fontsize=9)
    return fig


def plot_probe_curves(curves: Mapping[str, tuple[Any, Any]], *, target: Optional[float] = None,
                      ax: Optional[Axes] = None) -> Figure:
    """``curves[label] = (steps (K,), errors (S, K))``: the median over runs and the 10–90 % band
    against step, log scale; ``target`` draws a dotted horizontal line."""
    if not isinstance(curves, Mapping) or not curves:
        raise ValueError("curves must be a non-empty dict label → (steps, errors)")
    fig, ax = new_axes(ax, (6.8, 3.5))
    for i, (label, (steps, err)) in enumerate(curves.items()):
        steps, err = np.asarray(steps, dtype=float), np.atleast_2d(np.asarray(err, dtype=float))
        if err.shape[1] != len(steps):
            raise ValueError(f"curves[{label!r}]: errors must have shape (runs, {len(steps)}), got {err.shape}")
        lo, med, hi = np.percentile(err, [10, 50, 90], axis=0)
        color = _ARM_COLORS[i % 4]
        ax.fill_between(steps, lo, hi, color=color, alpha=0.18, lw=0)
        ax.plot(steps, med, color=color, ls=_ARM_STYLES[i % 4], lw=1.7,
                marker=marker(i % 2), ms=3, label=f"{label} ({err.shape[0]} seeds)")
    if target is not None:
        ax.axhline(target, color="k", ls=":", lw=1.0, label="the fixed schedule's final error (median)")
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set_xlabel("step", fontsize=9)
    ax.set_ylabel("probe reconstruction MSE\n(all five brightnesses)", fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    ax.tick_params(labelsize=8)
    return fig


def plot_advances(advances: Mapping[str, Sequence[Sequence[float]]], fixed_starts: Sequence[float],
                  steps: int) -> Figure:
    """One row per run: a marker at each step where a reactive schedule advanced a phase
    (numbered 2–5), grouped by arm; the fixed schedule's phase starts as dotted lines."""
    if not isinstance(advances, Mapping) or not advances:
        raise ValueError("advances must be a non-empty dict label → list of advance steps per run")
    rows = sum(len(v) for v in advances.values())
    fig = new_figure((7.2, 0.9 + 0.16 * rows))
    ax = fig.add_subplot()
    y, ticks, labels = 0, [], []
    for i, (label, runs) in enumerate(advances.items()):
        top = y
        for adv in runs:
            for j, a in enumerate(adv):
                ax.plot(a, y, marker(j), color=_ARM_COLORS[i % 4], ms=4,
                        mfc="none" if i % 2 else _ARM_COLORS[i % 4])
            y += 1
        ticks.append((top + y - 1) / 2)
        labels.append(label)
        y += 1
    for k, s in enumerate(fixed_starts[1:]):
        ax.axvline(s, color="k", ls=":", lw=1.0)
        ax.text(s, 1.0, f"phase {k + 2}", transform=ax.get_xaxis_transform(), ha="center", va="bottom",
                fontsize=8)
    for j in range(4):
        ax.plot([], [], marker(j), color="0.4", ms=4, label=f"→ phase {j + 2}")
    ax.set_yticks(ticks, labels, fontsize=9)
    ax.set_ylim(y + 1.5, -1.0)  # room below the last row for the legend
    ax.set_xlim(0, steps)
    ax.set_xlabel("step (dotted: the fixed schedule's phase starts)", fontsize=9)
    ax.legend(fontsize=8, loc="lower right", ncol=4)
    ax.grid(alpha=0.3, axis="x")
    return fig
