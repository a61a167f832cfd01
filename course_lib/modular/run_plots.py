"""Figures of the grokking run (notebook 3.3). Each function returns a matplotlib ``Figure``.

* :func:`plot_grokking_curves` — losses (train, test, restricted, excluded), accuracies (mirror-unseen,
  all and mirror-seen test pairs) and the weight norm over training, the detected phases shaded
* :func:`plot_spectrum_frame`  — one frame of the scrubber: the embedding's Fourier spectrum at a
  checkpoint, key frequencies highlighted, beside the loss curves with the step marked
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..figures import new_figure
from ..validation import check_int
from .run import GrokkingRun

__all__ = ["plot_grokking_curves", "plot_spectrum_frame"]

_PHASE_COLORS = ("#fbe3d6", "#dbe9f6", "#def2dc")


def _shade_phases(ax: Axes, run: GrokkingRun, labels: bool = False) -> None:
    end = int(run.checkpoint_steps[-1])
    for (name, start, stop), color in zip(run.phases.intervals(), _PHASE_COLORS):
        ax.axvspan(start, end if stop is None else stop, color=color, lw=0, zorder=0)
        if labels:
            ax.text((start + (end if stop is None else stop)) / 2, 1.02, name, transform=ax.get_xaxis_transform(),
                    ha="center", va="bottom", fontsize=8)


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
