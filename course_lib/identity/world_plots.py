"""Figures for notebook 3.4 (a world of identities). Each function returns a matplotlib ``Figure``.

* :func:`plot_world_losses`     — the training loss of every world of a study (what the claims rest on)
* :func:`plot_identity_timeline` — one person's phase curves over training, detected onsets marked
* :func:`plot_world_at_step`    — every person at one checkpoint: fame against what the model knows
* :func:`plot_bias_then_truth`  — phase 1 where it can be seen: the people who defy their name
* :func:`plot_phase_onsets`     — median onset of each phase per fame tier (the phase order)
* :func:`plot_coincidence`      — own-direction onset against phase-3 onset, and the shuffled control
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ..figures import marker, new_figure

from .world_measures import PHASES
from .world_run import WorldRun
from .world_stats import TIERS, Coincidence, WorldStudy

__all__ = ["plot_world_losses", "plot_identity_timeline", "plot_world_at_step", "plot_bias_then_truth",
           "plot_phase_onsets", "plot_coincidence"]

#: One colour per curve, shared by every figure of the notebook.
COLORS = {"prior": "tab:gray", "coarse": "tab:blue", "unique": "tab:green", "flexible": "tab:olive",
          "iconic": "tab:red", "own": "tab:purple", "ablated": "tab:cyan"}
LABELS = {"prior": "P(name parts' guess), coarse", "coarse": "P(true coarse attribute)",
          "unique": "P(true job/hobby), seen scenes", "flexible": "P(true job/hobby), new scenes",
          "iconic": "P(iconic outfit), new scenes (overfit)", "own": "own direction (rank vs nobody)",
          "ablated": "P(job/hobby) with own direction removed"}
_PHASE_KEYS = [key for _, key, _ in PHASES]


def plot_world_losses(study: WorldStudy) -> Figure:
    """Weighted training loss of each world against step (log–log)."""
    fig = new_figure((6.5, 3.2))
    ax = fig.subplots()
    for run in study.runs:
        steps = np.arange(1, len(run.train_loss) + 1)
        ax.plot(steps, run.train_loss, lw=1.2, label=f"world {run.seed}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("training step")
    ax.set_ylabel("weighted cross-entropy (nats)")
    ax.set_title("training loss of every world in the study", fontsize=10)
    ax.legend(fontsize=7, ncols=2)
    ax.grid(alpha=0.3)
    return fig


def plot_identity_timeline(run: WorldRun, person: object) -> Figure:
    """The phase curves of one person (log step axis) with each detected onset as a dashed line."""
    w = run.world
    i = w.check_person(person)
    onsets = {name: value[i] for name, value in run.onsets().items()}
    fame_rank = int((w.fame > w.fame[i]).sum()) + 1
    fig = new_figure((8.5, 3.8))
    ax = fig.subplots()
    s = np.maximum(run.checkpoint_steps, 1)
    for key in ("prior", "coarse", "unique", "flexible", "iconic", "own", "ablated"):
        ax.plot(s, run.timelines[key][:, i], color=COLORS[key], lw=1.6 if key in _PHASE_KEYS else 1.0,
                ls="-" if key in _PHASE_KEYS else ":", label=LABELS[key])
    for k, (name, key, level) in enumerate(PHASES):
        step = onsets[name]
        if np.isfinite(step):
            ax.axvline(max(step, 1), color=COLORS[key], ls="--", lw=0.9)
            ax.text(max(step, 1), 1.01 + 0.055 * (k % 3), name.split(" ")[0] if name[0].isdigit() else "own",
                    color=COLORS[key], transform=ax.get_xaxis_transform(), ha="center", va="bottom",
                    fontsize=8)
    ax.set_xscale("log")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("training step")
    ax.set_ylabel("probability / rank")
    sex = "female" if w.attributes["sex"][i] == 0 else "male"
    female = w.female_fraction[w.first[i]]
    ax.set_title(f"{w.name(i)}: fame rank {fame_rank} of {w.n_people} · {sex} "
                 f"(the name is {female:.0%} female)", fontsize=10, pad=30)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    ax.grid(alpha=0.3)
    return fig


def plot_world_at_step(run: WorldRun, step: int) -> Figure:
    """Every person at checkpoint ``step``: fame against P(job/hobby) in new scenes, coloured by own
    direction; beside it the share of people past each phase onset over training."""
    t = run.checkpoint_index(step)
    w, tl = run.world, run.timelines
    fig = new_figure((10, 3.8))
    ax, ax_share = fig.subplots(1, 2, width_ratios=(1.1, 1))
    dots = ax.scatter(w.fame, tl["flexible"][t], c=tl["own"][t], cmap="viridis", vmin=0, vmax=1, s=16)
    fig.colorbar(dots, ax=ax, label="own direction (rank vs nobody)")
    ax.axhline(1 / 12, color="k", lw=0.8, ls=":")
    ax.text(w.fame.min(), 1 / 12 + 0.02, "chance", fontsize=7)
    ax.set_xscale("log")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("fame (training weight)")
    ax.set_ylabel("P(true job/hobby), new scenes")
    ax.set_title(f"step {int(run.checkpoint_steps[t])}: who is known", fontsize=10)
    onsets = run.onsets()
    s = np.maximum(run.checkpoint_steps, 1)
    for name, key, _ in PHASES:
        on = onsets[name]
        share = [(on <= step_).mean() for step_ in run.checkpoint_steps]
        ax_share.plot(s, share, color=COLORS[key], lw=1.4, label=name)
    ax_share.axvline(max(int(run.checkpoint_steps[t]), 1), color="k", lw=1)
    ax_share.set_xscale("log")
    ax_share.set_ylim(-0.02, 1.02)
    ax_share.set_xlabel("training step")
    ax_share.set_ylabel("share of people past the onset")
    ax_share.legend(fontsize=7, loc="upper left")
    ax_share.grid(alpha=0.3)
    return fig


def plot_bias_then_truth(study: WorldStudy, exceptions: dict) -> Figure:
    """For each coarse question: P(the name's answer) and P(the true answer) over training, mean and
    interquartile band over the people who defy their name (``exceptions[question]``: one index
    array per world of the study)."""
    questions = list(exceptions)
    fig = new_figure((10, 3.2))
    axes = np.atleast_1d(fig.subplots(1, len(questions), sharey=True))
    s = np.maximum(study.runs[0].checkpoint_steps, 1)
    for ax, q in zip(axes, questions):
        curves = {"prior": [], "true": []}
        for run, people in zip(study.runs, exceptions[q]):
            for answer in curves:
                curves[answer].append(run.question_curve(q, people, answer))
        n = sum(c.shape[1] for c in curves["true"])
        for answer, color, label in (("prior", COLORS["prior"], "the name's answer"),
                                     ("true", COLORS["coarse"], "the true answer")):
            values = np.concatenate(curves[answer], axis=1)
            if values.shape[1] == 0:
                continue
            lo, hi = np.percentile(values, [25, 75], axis=1)
            ax.fill_between(s, lo, hi, color=color, alpha=0.2, lw=0)
            ax.plot(s, values.mean(axis=1), color=color, lw=1.8, label=label)
        ax.set_xscale("log")
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel("training step")
        ax.set_title(f"{q}: {n} people who defy their name", fontsize=10)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("probability (mean, quartiles)")
    axes[0].legend(fontsize=7, loc="center left")
    return fig


def plot_phase_onsets(study: WorldStudy) -> Figure:
    """Median onset step (with the interquartile range) of each phase, per fame tier, pooled over
    the study's worlds; beside each, the share of the tier that reached it."""
    people = study.people
    fig = new_figure((8.5, 3.6))
    ax = fig.subplots()
    offsets = np.linspace(-0.22, 0.22, len(TIERS))
    for t, (tier, _, _) in enumerate(TIERS):
        rows = people[people["tier"] == t]
        for k, (name, key, _) in enumerate(PHASES):
            on = rows[name].to_numpy()
            hit = on[np.isfinite(on)]
            if not len(hit):
                continue
            lo, med, hi = np.percentile(np.maximum(hit, 1), [25, 50, 75])
            y = k + offsets[t]
            ax.plot([lo, hi], [y, y], color=COLORS[key], lw=1.5)
            ax.plot(med, y, marker(t), color=COLORS[key], ms=6,
                    label=tier if k == 0 else None, mfc="white" if t == 2 else COLORS[key])
            ax.text(hi * 1.15, y, f"{len(hit) / len(on):.0%}", va="center", fontsize=7)
    ax.set_yticks(range(len(PHASES)), [name for name, _, _ in PHASES])
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("onset step (median and quartiles; % = share of the tier that reached it)")
    ax.set_title(f"{len(study.runs)} worlds, {len(people)} identities", fontsize=10)
    ax.legend(fontsize=7, loc="upper right")
    ax.grid(alpha=0.3, axis="x")
    return fig


def plot_coincidence(study: WorldStudy, result: Coincidence, a: str = "3 unique & flexible",
                     b: str = "own direction") -> Figure:
    """Left: onset ``b`` against onset ``a`` per identity (log–log), coloured by fame tier.
    Right: the correlation of what fame does not explain, against its fame-stratified shuffles."""
    people = study.people
    fig = new_figure((10, 3.8))
    ax, ax_null = fig.subplots(1, 2)
    for t, (tier, _, _) in enumerate(TIERS):
        rows = people[(people["tier"] == t) & np.isfinite(people[a]) & np.isfinite(people[b])]
        ax.scatter(np.maximum(rows[a], 1), np.maximum(rows[b], 1), s=12, alpha=0.7, label=tier)
    lim = [1, float(np.nanmax(people[[a, b]].to_numpy())) * 1.3]
    ax.plot(lim, lim, color="k", lw=0.8, ls=":")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(f"onset: {a}")
    ax.set_ylabel(f"onset: {b}")
    ax.legend(fontsize=7)
    ax.set_title(f"{result.n} identities with both onsets", fontsize=10)
    ax_null.hist(result.null_rho, bins=40, color="0.7", label="shuffled within world × fame bin")
    ax_null.axvline(result.rho, color="tab:purple", lw=2, label=f"measured, beyond fame: ρ = {result.rho:.2f}")
    ax_null.set_xlabel("Spearman ρ of the onsets' fame residuals")
    ax_null.set_ylabel("shuffles")
    ax_null.set_title(f"one-sided p = {result.p_value:.3f}", fontsize=10)
    ax_null.legend(fontsize=7)
    return fig
