"""Figures for notebook 3.4 (a world of identities). Each function returns a matplotlib ``Figure``.

* :func:`plot_world_losses`     — the training loss of every world of a study (what the claims rest on)
* :func:`plot_identity_timeline` — one person's phase curves over training, detected onsets marked
* :func:`plot_world_at_step`    — every person at one checkpoint: fame against what the model knows
* :func:`plot_bias_then_truth`  — phase 1 where it can be seen: the people who defy their name
* :func:`plot_phase_onsets`     — median onset of each phase per fame tier
* :func:`plot_phase_order`      — threshold-free order: per-person lags between half-times, per world
* :func:`plot_own_control`      — own-direction rank over training: unique half, compositional half, nobody
* :func:`plot_jump_test`        — phase change or smooth growth of ‖u‖
* :func:`plot_coincidence`      — own-direction onset against phase-3 onset, and the shuffled control
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from matplotlib.figure import Figure

from ..figures import marker, new_figure

from .world_measures import ANSWER_TYPES, PHASES, share_curves
from .world_run import WorldRun
from .world_stats import TIERS, Coincidence, WorldStudy

__all__ = ["plot_world_losses", "plot_identity_timeline", "plot_world_at_step", "plot_bias_then_truth",
           "plot_phase_onsets", "plot_phase_order", "plot_own_control", "plot_jump_test", "plot_coincidence"]

#: One colour per curve, shared by every figure of the notebook.
COLORS = {"prior": "tab:gray", "coarse": "tab:blue", "unique": "tab:green", "activity": "tab:brown",
          "flexible": "tab:olive", "iconic": "tab:red", "own": "tab:purple", "ablated": "tab:cyan",
          "u_norm": "tab:purple"}
LABELS = {"prior": "P(name parts' guess), coarse", "coarse": "P(true coarse attribute)",
          "unique": "P(true job/hobby), seen scenes", "activity": "P(true activity), seen scenes",
          "flexible": "P(true activity), new scenes", "iconic": "P(iconic outfit), new scenes (overfit)",
          "own": "own direction (rank vs nobody)", "ablated": "P(job/hobby) from the name parts' code alone",
          "u_norm": "‖u‖ / its peak"}


def _color(key: str) -> str:
    """The colour of a curve or of a ``share_<type>`` curve."""
    return COLORS[key.removeprefix("share_")]


def plot_world_losses(study: WorldStudy | Sequence[WorldRun], labels: Sequence[str] | None = None) -> Figure:
    """Weighted training loss of each world of a study (or of each run of a list, named by
    ``labels``) against step (log–log)."""
    runs = list(study.runs if isinstance(study, WorldStudy) else study)
    labels = [f"world {r.seed}" for r in runs] if labels is None else list(labels)
    if len(labels) != len(runs):
        raise ValueError(f"labels must name every run: {len(labels)} labels for {len(runs)} runs")
    fig = new_figure((6.5, 3.2))
    ax = fig.subplots()
    for run, label in zip(runs, labels):
        steps = np.arange(1, len(run.train_loss) + 1)
        ax.plot(steps, run.train_loss, lw=1.2, label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("training step")
    ax.set_ylabel("weighted cross-entropy (nats)")
    ax.set_title("training loss of every run", fontsize=10)
    ax.legend(fontsize=7, ncols=2)
    ax.grid(alpha=0.3)
    return fig


def plot_identity_timeline(run: WorldRun, person: object) -> Figure:
    """One person over training (log step axis). Left: the probability curves, each detected onset
    a dashed line. Right: the threshold-free view — each answer type's share of its final nats
    gained over the name prior (0 = the name's prior, 1 = the end), and ``‖u‖`` over its peak."""
    w = run.world
    i = w.check_person(person)
    onsets = {name: value[i] for name, value in run.onsets().items()}
    fame_rank = int((w.fame > w.fame[i]).sum()) + 1
    fig = new_figure((11, 3.9))
    ax, ax_share = fig.subplots(1, 2, width_ratios=(1.25, 1))
    s = np.maximum(run.checkpoint_steps, 1)
    for key in ("prior", "coarse", "unique", "activity", "flexible", "iconic", "own", "ablated"):
        ax.plot(s, run.timelines[key][:, i], color=COLORS[key], lw=1.0 if key in ("own", "ablated") else 1.6,
                ls=":" if key in ("own", "ablated") else "-", label=LABELS[key])
    for k, (name, key, level) in enumerate(PHASES):
        step = onsets[name]
        if np.isfinite(step):
            ax.axvline(max(step, 1), color=_color(key), ls="--", lw=0.9)
    ax.set_xscale("log")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("training step (dashed: onsets)")
    ax.set_ylabel("probability / rank")
    sex = "female" if w.attributes["sex"][i] == 0 else "male"
    female = w.female_fraction[w.first[i]]
    kind = "compositional" if w.compositional[i] else "unique"
    ax.set_title(f"{w.name(i)} ({kind}): fame rank {fame_rank} of {w.n_people} · {sex} "
                 f"(the name is {female:.0%} female)", fontsize=9)
    ax.legend(fontsize=6.5, loc="lower right")
    ax.grid(alpha=0.3)
    shares = share_curves(run.timelines)
    for kind_ in ANSWER_TYPES:
        ax_share.plot(s, shares[f"share_{kind_}"][:, i], color=COLORS[kind_], lw=1.6, label=kind_)
    u = run.timelines["u_norm"][:, i]
    ax_share.plot(s, u / u.max(), color=COLORS["u_norm"], lw=1.2, ls=":", label=LABELS["u_norm"])
    ax_share.axhline(0.5, color="k", lw=0.7, ls="--")
    ax_share.set_xscale("log")
    ax_share.set_ylim(-0.3, 1.1)
    ax_share.set_xlabel("training step")
    ax_share.set_ylabel("share of the final nats over the name prior")
    ax_share.set_title("threshold-free: who gains their nats first", fontsize=9)
    ax_share.legend(fontsize=7, loc="upper left")
    ax_share.grid(alpha=0.3)
    return fig


def plot_world_at_step(run: WorldRun, step: int) -> Figure:
    """Every person at checkpoint ``step``: fame against P(job/hobby) in new scenes, coloured by own
    direction; beside it the share of people past each phase onset over training."""
    t = run.checkpoint_index(step)
    w, tl = run.world, run.timelines
    fig = new_figure((10, 3.8))
    ax, ax_share = fig.subplots(1, 2, width_ratios=(1.1, 1))
    dots = ax.scatter(w.fame, tl["flexible"][t], c=tl["own"][t], cmap="viridis", vmin=0, vmax=1, s=16,
                      marker="o")
    fig.colorbar(dots, ax=ax, label="own direction (rank vs nobody)")
    ax.axhline(1 / 12, color="k", lw=0.8, ls=":")
    ax.text(w.fame.min(), 1 / 12 + 0.02, "chance", fontsize=7)
    ax.set_xscale("log")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("fame (training weight)")
    ax.set_ylabel("P(true activity), new scenes")
    ax.set_title(f"step {int(run.checkpoint_steps[t])}: who is known", fontsize=10)
    onsets = run.onsets()
    s = np.maximum(run.checkpoint_steps, 1)
    for name, key, _ in PHASES:
        on = onsets[name]
        share = [(on <= step_).mean() for step_ in run.checkpoint_steps]
        ax_share.plot(s, share, color=_color(key), lw=1.4, label=name)
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
            ax.plot([lo, hi], [y, y], color=_color(key), lw=1.5)
            ax.plot(med, y, marker(t), color=_color(key), ms=6,
                    label=tier if k == 0 else None, mfc="white" if t == 2 else _color(key))
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


def plot_phase_order(study: WorldStudy, pairs=(("coarse", "unique"), ("activity", "flexible")),
                     kind: str = "unique") -> Figure:
    """Per pair ``(a, b)``: each person's lag ``log10(half-time b / half-time a)`` (> 0: ``a``
    gains half its final nats first), one strip per world and fame tier."""
    people = study.people_of(kind)
    fig = new_figure((10, 3.4))
    axes = np.atleast_1d(fig.subplots(1, len(pairs), sharey=True))
    worlds = sorted(people["seed"].unique())
    rng = np.random.default_rng(0)
    for ax, (a, b) in zip(axes, pairs):
        for k, w in enumerate(worlds):
            for t, (tier, _, _) in enumerate(TIERS):
                rows = people[(people["seed"] == w) & (people["tier"] == t)]
                lag = np.log10(rows[f"half {b}"].to_numpy() / rows[f"half {a}"].to_numpy())
                lag = lag[np.isfinite(lag)]
                x = k + (t - 1) * 0.25 + rng.uniform(-0.07, 0.07, len(lag))
                ax.scatter(x, lag, s=8, alpha=0.6, color=f"C{t}", label=tier if k == 0 and ax is axes[0] else None)
        order = study.phase_order(a, b, kind)
        ax.axhline(0, color="k", lw=0.8)
        ax.set_xticks(range(len(worlds)), [f"world {w}" for w in worlds], fontsize=7)
        ax.set_title(f"{a} first for {order.share:.0%} [{order.share_interval[0]:.0%}, "
                     f"{order.share_interval[1]:.0%}]", fontsize=9)
        ax.set_ylabel(f"log10(half-time {b} / half-time {a})", fontsize=8)
        ax.grid(alpha=0.3, axis="y")
    axes[0].legend(fontsize=7, loc="lower left")
    return fig


def plot_own_control(study: WorldStudy) -> Figure:
    """The own-direction rank (vs the nobody pairs) over training: mean and quartiles for the unique
    half and the compositional half of every world, and the nobody pairs' 0.5 (chance)."""
    fig = new_figure((6.8, 3.4))
    ax = fig.subplots()
    s = np.maximum(study.runs[0].checkpoint_steps, 1)
    for kind, color in (("unique", "tab:purple"), ("compositional", "tab:orange")):
        curves = np.concatenate([r.timelines["own"][:, r.world.compositional == (kind == "compositional")]
                                 for r in study.runs], axis=1)
        lo, hi = np.percentile(curves, [25, 75], axis=1)
        ax.fill_between(s, lo, hi, color=color, alpha=0.2, lw=0)
        ax.plot(s, curves.mean(axis=1), color=color, lw=1.8, label=f"{kind} half ({curves.shape[1]} people)")
    ax.axhline(0.5, color="k", lw=0.8, ls=":", label="nobody pairs (chance)")
    ax.axhline(0.99, color="k", lw=0.8, ls="--", label="onset level 0.99")
    ax.set_xscale("log")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("training step")
    ax.set_ylabel("rank of ‖u‖ among the nobody pairs")
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(alpha=0.3)
    return fig


def plot_jump_test(study: WorldStudy) -> Figure:
    """Left: ``‖u‖`` in units of the nobody pairs' median ``‖u‖`` (the code's overall growth taken
    out), rescaled from start to peak, of every unique-half person with an own-direction onset,
    against log10(step / the step where it is halfway), so a jump would be a vertical wall.
    Right: the rise times (10 % → 90 %) of ``‖u‖`` and of the unique answers' nats, with one
    checkpoint interval marked."""
    jump = study.jump_test("unique")
    fig = new_figure((10, 3.4))
    ax, ax_hist = fig.subplots(1, 2)
    p = study.people_of("unique")
    p = p[np.isfinite(p["own direction"])]
    runs = {r.seed: r for r in study.runs}
    for _, row in p.iterrows():
        r = runs[row["seed"]]
        u = r.timelines["u_norm"][:, int(row["person"])] / r.timelines["u_nobody"]
        c = (u - u[0]) / max(u.max() - u[0], 1e-12)
        x = np.log10(np.maximum(r.checkpoint_steps, 1))
        top = int(np.argmax(c))
        mid = x[int(np.argmax(c[: top + 1] >= 0.5))]
        ax.plot(x - mid, c, color="tab:purple", alpha=0.25, lw=0.8)
    ax.axvspan(-jump.interval / 2, jump.interval / 2, color="0.8", label="one checkpoint interval")
    ax.set_xlim(-1.5, 1.5)
    ax.set_xlabel("log10(step / step at half of the rise)")
    ax.set_ylabel("‖u‖ / nobody median: rise (0 = start, 1 = peak)")
    ax.set_title(f"{jump.n} identities with an own direction", fontsize=9)
    ax.legend(fontsize=7, loc="upper left")
    ax.grid(alpha=0.3)
    bins = np.linspace(0, max(2.0, float(np.nanmax(np.r_[jump.u_rise, jump.behaviour_rise]))), 30)
    ax_hist.hist(jump.u_rise, bins=bins, alpha=0.6, color="tab:purple", label="‖u‖ / nobody median")
    ax_hist.hist(jump.behaviour_rise, bins=bins, alpha=0.5, color="tab:green", label="unique answers (nats share)")
    ax_hist.axvline(jump.interval, color="k", lw=1, ls="--", label="one checkpoint interval")
    ax_hist.set_xlabel("rise time, 10 % → 90 % (decades of steps)")
    ax_hist.set_ylabel("identities")
    ax_hist.legend(fontsize=7)
    return fig
