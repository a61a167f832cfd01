"""Figures of the grokking run (notebook 3.3). Each function returns a matplotlib ``Figure``.

* :func:`plot_grokking_curves` — losses (train, test, restricted, excluded), accuracies (mirror-unseen,
  all and mirror-seen test pairs) and the weight norm over training, the detected phases shaded
* :func:`plot_spectrum_frame`  — one frame of the scrubber: the embedding's Fourier spectrum at a
  checkpoint, key frequencies highlighted, beside the loss curves with the step marked
* :func:`plot_mechanism`       — mirror-unseen beside all-pairs losses, the cos form's share of the
  logits, the neurons' best-frequency share and the excluded loss against ln p, phases shaded
* :func:`plot_seed_phases`     — the detected phases of every seed, one row each
* :func:`plot_weight_decay_control` — the same run with weight decay 1 and 0: losses and honest
  accuracy at the same steps
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import Patch
from matplotlib.figure import Figure

from ..figures import new_figure
from ..validation import check_int
from .mechanism import MechanismMeasures
from .phases import PhaseBoundaries
from .run import GrokkingRun
from .seeds import SeedPhases

__all__ = ["plot_grokking_curves", "plot_spectrum_frame", "plot_mechanism", "plot_seed_phases",
           "plot_weight_decay_control"]

_PHASE_COLORS = ("#fbe3d6", "#dbe9f6", "#def2dc")


def _shade_phases(ax: Axes, run: GrokkingRun, labels: bool = False) -> None:
    """Shade the detected phases; with ``labels``, name them in a key above the axes (a phase can be
    a few pixels wide, so names written over the spans would run together)."""
    end = int(run.checkpoint_steps[-1])
    handles = []
    for (name, start, stop), color in zip(run.phases.intervals(), _PHASE_COLORS):
        ax.axvspan(start, end if stop is None else stop, color=color, lw=0, zorder=0)
        handles.append(Patch(facecolor=color, edgecolor="0.6", label=f"{name} ({start}–{end if stop is None else stop})"))
    if labels and handles:
        kept = ax.get_legend()
        ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0, 1.01), ncols=len(handles),
                  frameon=False, fontsize=9, handlelength=1.2, columnspacing=1.0, borderaxespad=0.0)
        if kept is not None:
            ax.add_artist(kept)   # ax.legend replaced the curves' legend: put it back


def plot_grokking_curves(run: GrokkingRun) -> Figure:
    """Three panels sharing the step axis: losses (log), accuracies, total squared weight norm."""
    fig = new_figure((10, 6.4))
    ax_loss, ax_acc, ax_norm = fig.subplots(3, 1, sharex=True)
    s = run.checkpoint_steps
    for values, label, style in ((run.train_loss, "train", dict(color="k")),
                                 (run.test_loss, "test", dict(color="tab:red")),
                                 (run.restricted_loss, "restricted (key frequencies only)", dict(color="tab:green", ls="--")),
                                 (run.excluded_loss, "excluded (key frequencies removed)", dict(color="tab:purple", ls=":"))):
        ax_loss.plot(s, np.clip(values, 1e-8, None), label=label, lw=1.4, **style)
    ax_loss.set_yscale("log")
    ax_loss.set_ylabel("cross-entropy (nats)")
    ax_loss.legend(fontsize=7, loc="lower left", ncols=2)
    _shade_phases(ax_loss, run, labels=True)
    ax_acc.plot(s, run.train_acc, color="k", lw=1.2, label="train")
    ax_acc.plot(s, run.test_acc, color="tab:red", lw=1.6, label="test, mirror unseen (the honest one)")
    ax_acc.plot(s, run.test_acc_all, color="tab:orange", lw=1.0, ls="--", label="test, all pairs")
    ax_acc.plot(s, run.test_acc_mirror_seen, color="tab:brown", lw=1.0, ls=":", label="test, mirror in train")
    ax_acc.set_ylabel("accuracy")
    ax_acc.set_ylim(-0.03, 1.03)
    ax_acc.legend(fontsize=7, loc="center right")
    _shade_phases(ax_acc, run)
    ax_norm.plot(s, run.weight_norm, color="tab:blue", lw=1.4)
    ax_norm.set_ylabel("Σ weights²")
    ax_norm.set_xlabel("training step")
    _shade_phases(ax_norm, run)
    return fig


def plot_spectrum_frame(run: GrokkingRun, index: int) -> Figure:
    """The embedding's norm per Fourier frequency at checkpoint ``index`` (key frequencies in
    orange), and the test and restricted losses with that checkpoint marked."""
    index = check_int(index, "index", min=0, max=len(run.checkpoint_steps) - 1)
    fig = new_figure((10, 3.2))
    ax_spec, ax_loss = fig.subplots(1, 2, width_ratios=(1.6, 1))
    spectrum = run.embedding_spectrum[index]
    colors = ["tab:orange" if k in run.key_frequencies else "0.6" for k in run.frequencies]
    ax_spec.bar(run.frequencies, spectrum, color=colors, width=0.8)
    ax_spec.set_ylim(0, float(run.embedding_spectrum.max()) * 1.05)
    ax_spec.set_xlabel("frequency k  (orange: the final model's key frequencies)")
    ax_spec.set_ylabel("‖Fourier component of W_E‖")
    s = run.checkpoint_steps
    ax_spec.set_title(f"embedding spectrum at step {int(s[index])}", fontsize=10)
    ax_loss.plot(s, np.clip(run.test_loss, 1e-8, None), color="tab:red", label="test")
    ax_loss.plot(s, np.clip(run.restricted_loss, 1e-8, None), color="tab:green", ls="--", label="restricted")
    ax_loss.plot(s, np.clip(run.train_loss, 1e-8, None), color="k", lw=1, label="train")
    ax_loss.axvline(s[index], color="k", lw=1)
    ax_loss.set_yscale("log")
    ax_loss.set_xlabel("training step")
    ax_loss.legend(fontsize=7)
    _shade_phases(ax_loss, run)
    return fig


def plot_mechanism(run: GrokkingRun, mech: MechanismMeasures) -> Figure:
    """Four panels sharing the step axis, the detected phases shaded: the test and restricted losses
    over all test pairs and over the mirror-unseen ones; the share of the logits' variance the cos
    form explains; the neurons' best-frequency share (median and quartiles); the excluded loss
    against ln p with the share of pairs a wrong answer wins confidently."""
    if not isinstance(run, GrokkingRun):
        raise TypeError(f"run must be a GrokkingRun, got {type(run).__name__}")
    if len(mech.steps) != len(run.checkpoint_steps):
        raise ValueError("mech must be the MechanismMeasures of this run (same checkpoints)")
    fig = new_figure((10, 8.4))
    ax_loss, ax_cos, ax_neu, ax_ex = fig.subplots(4, 1, sharex=True)
    s = run.checkpoint_steps
    for values, label, style in ((run.test_loss, "test, all pairs", dict(color="tab:red", lw=1.0, ls="--")),
                                 (mech.test_loss_unseen, "test, mirror unseen", dict(color="tab:red", lw=1.6)),
                                 (run.restricted_loss, "restricted, all test pairs", dict(color="tab:green", lw=1.0, ls="--")),
                                 (mech.restricted_loss_unseen, "restricted, mirror unseen", dict(color="tab:green", lw=1.6))):
        ax_loss.plot(s, np.clip(values, 1e-8, None), label=label, **style)
    ax_loss.set_yscale("log")
    ax_loss.set_ylabel("loss (nats)")
    ax_loss.legend(fontsize=7, loc="lower left", ncols=2)
    _shade_phases(ax_loss, run, labels=True)
    ax_cos.plot(s, mech.cos_fraction, color="tab:blue", lw=1.6, label=f"Σ α_w cos(w(a+b−c)), key k = {run.key_frequencies}")
    ax_cos.plot(s, mech.cos_fraction_all, color="0.4", lw=1.0, ls=":", label="the same form over all frequencies")
    ax_cos.set_ylim(-0.03, 1.03)
    ax_cos.set_ylabel("share of logit\nvariance")
    ax_cos.legend(fontsize=7, loc="lower right")
    _shade_phases(ax_cos, run)
    q1, med, q3 = np.percentile(mech.neuron_fraction, [25, 50, 75], axis=1)
    ax_neu.fill_between(mech.neuron_steps, q1, q3, color="tab:orange", alpha=0.3, lw=0, label="quartiles")
    ax_neu.plot(mech.neuron_steps, med, color="tab:orange", lw=1.6, marker=".", label="median neuron")
    ax_neu.set_ylim(-0.03, 1.03)
    ax_neu.set_ylabel("neuron variance\nby best frequency")
    ax_neu.legend(fontsize=7, loc="lower right")
    _shade_phases(ax_neu, run)
    ax_ex.plot(s, run.excluded_loss, color="tab:purple", lw=1.6, label="excluded loss")
    ax_ex.axhline(np.log(run.p), color="k", lw=0.8, ls="--", label=f"ln p = {np.log(run.p):.2f} (uniform guess)")
    ax_ex.set_ylabel("excluded loss (nats)")
    ax_ex.set_xlabel("training step")
    ax_ex.legend(fontsize=7, loc="upper left")
    twin = ax_ex.twinx()
    twin.plot(s, mech.excluded_worse_than_uniform, color="tab:gray", lw=1.0, label="share p(right) < 1/p")
    twin.plot(s, mech.excluded_majority_wrong, color="tab:brown", lw=1.0, ls="--", label="share a wrong answer > 0.5")
    twin.set_ylim(-0.03, 1.03)
    twin.set_ylabel("share of training pairs")
    twin.legend(fontsize=7, loc="upper right")
    _shade_phases(ax_ex, run)
    return fig


def plot_seed_phases(seed_phases: SeedPhases) -> Figure:
    """One row per seed: the three detected phases as coloured bars (all test pairs; a phase still
    running at the last step hatched), the grokking step (honest accuracy ≥ 95 %) as a black tick
    and the mirror-unseen boundaries as open circles."""
    n = len(seed_phases.seeds)
    fig = new_figure((10, 1.3 + 0.45 * n))
    ax = fig.subplots()
    unended = False
    for row, seed in enumerate(seed_phases.seeds):
        ends = seed_phases.all_pairs[row, :3]
        last = seed_phases.last_step if seed_phases.last_steps is None else seed_phases.last_steps[row]
        start = 0.0
        for j, (name, color) in enumerate(zip(PhaseBoundaries.NAMES, _PHASE_COLORS)):
            end = ends[j]
            if not np.isfinite(end):
                if last is not None and start < last:   # still in this phase
                    ax.barh(row, last - start, left=start, color=color, edgecolor="0.5",
                            lw=0.5, hatch="//", label="not ended by the last step" if not unended else None)
                    unended = True
                break
            ax.barh(row, end - start, left=start, color=color, edgecolor="0.5", lw=0.5,
                    label=name if row == 0 else None)
            start = end
        grok = seed_phases.all_pairs[row, 3]
        if np.isfinite(grok):
            ax.plot([grok, grok], [row - 0.4, row + 0.4], color="k", lw=2, label="grokked (honest acc ≥ 95 %)" if row == 0 else None)
        unseen = seed_phases.unseen[row, :3]
        ax.plot(unseen[np.isfinite(unseen)], [row] * int(np.isfinite(unseen).sum()), "o", mfc="none", mec="k",
                ms=5, label="boundaries, mirror-unseen curves" if row == 0 else None)
    ax.set_yticks(range(n), [f"seed {s}" for s in seed_phases.seeds])
    ax.invert_yaxis()
    ax.set_xlabel("training step")
    ax.set_title(f"phases over {n} seeds (p = {seed_phases.p})", fontsize=10)
    fig.legend(fontsize=7, loc="outside lower center", ncols=5)
    return fig


def plot_weight_decay_control(controls: list) -> Figure:
    """Two panels sharing the step axis, for one or more :class:`~.controls.WeightDecayControl`
    (one per seed): training and honest (mirror-unseen) test loss (log), and honest accuracy;
    weight decay 1 in blue, 0 in red; one line style per seed."""
    if not controls:
        raise ValueError("controls must hold at least one WeightDecayControl")
    fig = new_figure((10, 5.2))
    ax_loss, ax_acc = fig.subplots(2, 1, sharex=True)
    colors = {"weight decay 1": "tab:blue", "weight decay 0": "tab:red"}
    for j, control in enumerate(controls):
        s = control.steps
        for label, arm in control.arms.items():
            tag = f"{label}" + (f", seed {control.seed}" if len(controls) > 1 else "")
            alpha = 1.0 if j == 0 else 0.55
            ax_loss.plot(s, np.clip(arm["test_loss"], 1e-8, None), color=colors[label], lw=1.5,
                         alpha=alpha, label=f"honest test, {tag}")
            ax_loss.plot(s, np.clip(arm["train_loss"], 1e-8, None), color=colors[label], lw=1.0,
                         ls=":", alpha=alpha, label=f"train, {tag}")
            ax_acc.plot(s, arm["test_acc"], color=colors[label], lw=1.5, alpha=alpha, label=tag)
    ax_loss.set_yscale("log")
    ax_loss.set_ylabel("cross-entropy (nats)")
    ax_loss.legend(fontsize=7, loc="lower left", ncols=2)
    ax_acc.set_ylabel("honest test accuracy")
    ax_acc.set_ylim(-0.03, 1.03)
    ax_acc.set_xlabel("training step")
    ax_acc.legend(fontsize=7, loc="center right")
    return fig
