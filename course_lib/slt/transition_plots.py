"""Figures for notebook 5.3 (phase transitions in the course's models). Each returns a ``Figure``.

* :func:`plot_epsilon_sweep` — the calibration: each ε's loss trace (burn-in shaded) and λ̂ against ε;
* :func:`plot_llc_trajectory` — λ̂ over training (mean, the chains' spread, one marker per seed)
  above the chapter's behavioural probes, detected LLC boundaries as solid lines, the chapter's own
  phase boundaries as dashed lines;
* :func:`plot_refined` — weight- or data-refined LLCs of each group over the same checkpoints;
* :func:`plot_gamma_sweep` — λ̂ and E[L] − L(w*) at the same checkpoints for several γ;
* :func:`plot_llc_against` — λ̂ against one of the run's probes (is it just a function of it?).

Lines differ by marker and dash as well as colour, so nothing depends on hue alone.
"""

from __future__ import annotations

from typing import Mapping, Optional, Sequence

import numpy as np
from matplotlib.figure import Figure

from ..figures import marker, new_figure

from .course_models import CourseRun
from .boundaries import Boundary
from .sensitivity import GammaSweep
from .transitions import EpsilonSweep, LLCTrajectory, RefinedLLCs

__all__ = ["plot_epsilon_sweep", "plot_llc_trajectory", "plot_refined", "plot_gamma_sweep",
           "plot_llc_against"]

_DASHES = ("-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1)))
_COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown")
_LOG_PROBES = ("loss", "mse")


def plot_epsilon_sweep(sweep: EpsilonSweep) -> Figure:
    """Left: the chains' mean loss trace per ε (burn-in shaded); right: λ̂ ± std against ε."""
    if not isinstance(sweep, EpsilonSweep):
        raise TypeError(f"sweep must be an EpsilonSweep, got {type(sweep).__name__}")
    fig = new_figure((10, 3.6))
    ax_t, ax_e = fig.subplots(1, 2, width_ratios=(1.6, 1))
    ax_t.axvspan(0, sweep.num_burnin, color="0.9", lw=0, label="burn-in (not averaged)")
    for j, e in enumerate(sweep.epsilons):
        trace = sweep.traces[j]
        if trace is None:
            continue
        mean = trace.mean(axis=0)
        x = np.arange(len(mean))
        ax_t.plot(x, mean, color=_COLOURS[j % 6], ls=_DASHES[j % 6], lw=1.2,
                  marker=marker(j), markevery=max(len(x) // 8, 1), ms=4,
                  label=f"ε = {e:.2g}" + ("  (chosen)" if sweep.chosen == e else ""))
    ax_t.axhline(sweep.init_loss, color="k", lw=0.8, ls=":", label="L(w*)")
    ax_t.set_xlabel("SGLD step")
    ax_t.set_ylabel("minibatch loss (mean over chains)")
    ax_t.set_title(f"{sweep.run}: loss traces at step {sweep.step}", fontsize=9)
    ax_t.legend(fontsize=7, loc="best")
    ok = np.isfinite(sweep.mean)
    ax_e.errorbar(sweep.epsilons[ok], sweep.mean[ok], yerr=sweep.std[ok], color="k", marker="o", capsize=3)
    bad = ~ok
    if bad.any():
        ax_e.plot(sweep.epsilons[bad], np.zeros(bad.sum()), "x", color="tab:red", ms=8, label="diverged")
        ax_e.legend(fontsize=7)
    if sweep.chosen is not None:
        ax_e.axvline(sweep.chosen, color="tab:blue", ls="--", lw=1)
    ax_e.set_xscale("log")
    ax_e.set_xlabel("SGLD step ε")
    ax_e.set_ylabel("λ̂ (± std over chains)")
    return fig


def _boundary_lines(ax, boundaries: Sequence[Boundary], phases: Mapping[str, Optional[int]],
                    labels: bool) -> None:
    for b in boundaries:
        ax.axvline(b.step, color="k", lw=1.3, ls="-", zorder=1)
        if labels:
            ax.text(b.step, 1.01, f"LLC {b.kind}", transform=ax.get_xaxis_transform(), rotation=90,
                    ha="right", va="bottom", fontsize=7)
    for k, (name, step) in enumerate(p for p in phases.items() if p[1] is not None):
        ax.axvline(step, color="0.45", lw=1.0, ls=_DASHES[1 + k % 5], zorder=1)
        if labels:
            ax.text(step, 1.01, name, transform=ax.get_xaxis_transform(), rotation=90,
                    ha="left", va="bottom", fontsize=7, color="0.3")


def plot_llc_trajectory(run: CourseRun, trajectories: Sequence[LLCTrajectory] | LLCTrajectory, *,
                        probes: Sequence[str] = (), boundaries: Sequence[Boundary] = (),
                        phases: Optional[Mapping[str, Optional[int]]] = None,
                        labels: Optional[Sequence[str]] = None) -> Figure:
    """λ̂ over training above the run's behavioural ``probes`` (one panel each).

    ``trajectories``: one per seed (markers differ); the band is mean ± std over chains.
    ``boundaries``: detected LLC boundaries (solid lines); ``phases`` (default ``run.phases``):
    the chapter's own phase boundaries (dashed lines, named above the top panel).
    """
    if not isinstance(run, CourseRun):
        raise TypeError(f"run must be a CourseRun, got {type(run).__name__}")
    trajs = [trajectories] if isinstance(trajectories, LLCTrajectory) else list(trajectories)
    if not trajs:
        raise ValueError("trajectories must not be empty")
    for p in probes:
        if p not in run.probes:
            raise ValueError(f"probe {p!r} is not one of the run's probes {sorted(run.probes)}")
    phases = run.phases if phases is None else phases
    labels = [f"seed {k}" for k in range(len(trajs))] if labels is None else list(labels)
    fig = new_figure((10, 3.4 + 1.7 * len(probes)))
    axes = fig.subplots(1 + len(probes), 1, sharex=True, squeeze=False,
                        height_ratios=[2.2] + [1] * len(probes))[:, 0]
    ax = axes[0]
    for k, (t, label) in enumerate(zip(trajs, labels)):
        colour = _COLOURS[k % 6]
        ax.fill_between(t.steps, t.mean - t.std, t.mean + t.std, color=colour, alpha=0.2, lw=0)
        ax.plot(t.steps, t.mean, color=colour, ls=_DASHES[k % 6], marker=marker(k), ms=4, lw=1.4,
                label=f"{label}: λ̂, mean ± std over {t.num_chains} chains")
    ax.set_ylabel("λ̂ (LLC)")
    ax.legend(fontsize=7, loc="best")
    _boundary_lines(ax, boundaries, phases, labels=True)
    for k, (axp, name) in enumerate(zip(axes[1:], probes)):
        values = run.probes[name]
        axp.plot(run.checkpoint_steps, values, color="0.15", ls=_DASHES[(k + 1) % 6], marker=marker(k + 1),
                 ms=3, markevery=max(len(values) // 25, 1), lw=1.2)
        if any(tag in name for tag in _LOG_PROBES) and np.all(values > 0):
            axp.set_yscale("log")
        axp.set_ylabel(name.replace("_", " "), fontsize=8)
        _boundary_lines(axp, boundaries, phases, labels=False)
    axes[-1].set_xlabel(f"training {run.unit}")
    fig.suptitle(run.title, fontsize=10)
    return fig


def plot_refined(refined: RefinedLLCs, kind: str = "weight", *,
                 phases: Optional[Mapping[str, Optional[int]]] = None) -> Figure:
    """The refined LLC of every group (``kind="weight"``) or subset (``"data"``) at the checkpoints,
    ± std over chains; dashed lines at ``phases``."""
    if not isinstance(refined, RefinedLLCs):
        raise TypeError(f"refined must be RefinedLLCs, got {type(refined).__name__}")
    if kind not in ("weight", "data"):
        raise ValueError(f"kind must be 'weight' or 'data', got {kind!r}")
    table = refined.weight if kind == "weight" else refined.data
    if not table:
        raise ValueError(f"no {kind}-refined LLCs were measured")
    fig = new_figure((8, 3.6))
    ax = fig.subplots()
    for k, (name, t) in enumerate(table.items()):
        ax.errorbar(t.steps, t.mean, yerr=t.std, color=_COLOURS[k % 6], ls=_DASHES[k % 6],
                    marker=marker(k), ms=5, capsize=3, lw=1.3, label=name)
    _boundary_lines(ax, (), phases or {}, labels=True)
    ax.set_xlabel("training step")
    ax.set_ylabel(f"{kind}-refined λ̂")
    ax.legend(fontsize=7, loc="best")
    return fig


def plot_gamma_sweep(sweep: GammaSweep) -> Figure:
    """Left: λ̂ (95 % t intervals) at the sweep's checkpoints, one line per γ, log scale; right:
    E[L] − L(w*) there, with the untrained loss's distance from L(w*) as the ceiling."""
    if not isinstance(sweep, GammaSweep):
        raise TypeError(f"sweep must be a GammaSweep, got {type(sweep).__name__}")
    fig = new_figure((10, 3.6))
    ax_l, ax_e = fig.subplots(1, 2)
    for k, (g, t) in enumerate(zip(sweep.gammas, sweep.trajectories)):
        half = t.half_width()
        style = dict(color=_COLOURS[k % 6], ls=_DASHES[k % 6], marker=marker(k), ms=5, lw=1.3)
        ax_l.errorbar(t.steps, t.mean, yerr=half, capsize=3, label=f"γ = {g:g}", **style)
        ax_e.plot(t.steps, t.excess_loss, label=f"γ = {g:g}", **style)
    ax_e.plot(sweep.steps, sweep.chance - sweep.init_loss, color="k", lw=1, ls=":",
              label="untrained loss − L(w*)")
    ax_l.set_yscale("symlog", linthresh=1.0)
    ax_e.set_yscale("log")
    for ax in (ax_l, ax_e):
        ax.set_xscale("log")
        ax.set_xlabel("training step")
        ax.legend(fontsize=7, loc="best")
    ax_l.set_ylabel("λ̂ (95 % t interval over chains)")
    ax_e.set_ylabel("E[L] − L(w*)  (nats)")
    fig.suptitle(f"{sweep.run}: the same checkpoints at {len(sweep.gammas)} localisation strengths", fontsize=10)
    return fig


def plot_llc_against(run: CourseRun, trajectory: LLCTrajectory, probe: str = "train_loss") -> Figure:
    """λ̂ (95 % t intervals) against the run's ``probe`` at the same checkpoints, in training order
    (log scale for a loss): a monotone curve means λ̂ adds nothing beyond the probe there."""
    if not isinstance(run, CourseRun):
        raise TypeError(f"run must be a CourseRun, got {type(run).__name__}")
    if not isinstance(trajectory, LLCTrajectory):
        raise TypeError(f"trajectory must be an LLCTrajectory, got {type(trajectory).__name__}")
    if probe not in run.probes:
        raise ValueError(f"probe {probe!r} is not one of the run's probes {sorted(run.probes)}")
    x = np.array([run.probe_at(probe, int(s)) for s in trajectory.steps])
    fig = new_figure((5.5, 3.8))
    ax = fig.subplots()
    ax.errorbar(x, trajectory.mean, yerr=trajectory.half_width(), color="k", marker="o", ms=4,
                capsize=2, lw=1)
    for k in (0, len(x) - 1):
        ax.annotate(f"{run.unit} {int(trajectory.steps[k])}", (x[k], trajectory.mean[k]),
                    textcoords="offset points", xytext=(5, 5), fontsize=7)
    if any(tag in probe for tag in _LOG_PROBES) and np.all(x > 0):
        ax.set_xscale("log")
    ax.set_xlabel(probe.replace("_", " "))
    ax.set_ylabel("λ̂ (95 % t interval over chains)")
    ax.set_title(f"{run.title}: λ̂ against {probe.replace('_', ' ')}", fontsize=9)
    return fig
