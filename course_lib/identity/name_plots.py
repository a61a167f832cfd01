"""Figures of names (notebooks 3.1–3.2). Each function returns a matplotlib ``Figure`` (built with
the kit :mod:`course_lib.figures`, without ``pyplot``, so they render in a loop for a frame slider).

* :func:`plot_births`    — babies given each name, per year, split by recorded sex
* :func:`plot_alive`     — the age pyramid of the living with each name in a given year
* :func:`plot_probe_table` — held-out R² per layer against the spelling baseline and the control
* :func:`plot_variance_kept` — share of the names' variance kept by the top k directions
* :func:`plot_steering`  — nearest real names as a name is moved "younger" and "more female"
* :func:`plot_steering_tradeoff` — effect on the target against damage, per space, at matched damage
* :func:`plot_portraits`, :func:`plot_face_study` — portraits, and their rendered age and sex against the records
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from matplotlib.figure import Figure

from ..figures import new_figure

from .names import NameStats

__all__ = ["plot_births", "plot_alive", "plot_probe_table", "plot_variance_kept", "plot_steering", "plot_steering_tradeoff",
           "plot_portraits", "plot_face_study"]

_FEMALE, _MALE = "tab:red", "tab:blue"


def _grid(n: int, width: float = 10.0, height: float = 2.3, cols: int = 2) -> tuple[Figure, np.ndarray]:
    rows = int(np.ceil(n / cols))
    fig = new_figure((width, height * rows))
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False).ravel())
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes


def plot_births(stats: Sequence[NameStats]) -> Figure:
    """Babies per year (female stacked on male) for each name, with the mean birth year marked."""
    fig, axes = _grid(len(stats))
    for ax, s in zip(axes, stats):
        ax.fill_between(s.years, 0, s.female_births, color=_FEMALE, alpha=0.7, lw=0, label="recorded female")
        ax.fill_between(s.years, s.female_births, s.births_by_year, color=_MALE, alpha=0.7, lw=0, label="recorded male")
        ax.axvline(s.mean_birth_year, color="k", ls="--", lw=1)
        ax.set_title(f"{s.name}: {s.total:,} births, {s.female_fraction:.1%} female, mean year {s.mean_birth_year:.0f}",
                     fontsize=9)
        ax.set_xlim(s.years[0], s.years[-1])
        ax.set_ylabel("babies / year", fontsize=8)
        ax.tick_params(labelsize=8)
    axes[0].legend(fontsize=7, loc="upper left")
    return fig


def plot_alive(stats: Sequence[NameStats], ylim: Sequence[float] | None = None) -> Figure:
    """Expected people alive with each name, by age, in the stats' reference year."""
    fig, axes = _grid(len(stats))
    for i, (ax, s) in enumerate(zip(axes, stats)):
        ax.bar(s.ages, s.alive_by_age, width=1.0, color="0.35")
        ax.axvline(s.median_age_alive, color="tab:orange", lw=1.5)
        ax.set_xlim(0, 110)
        if ylim is not None:
            ax.set_ylim(0, ylim[i])
        ax.set_title(f"{s.name} in {s.reference_year}: {s.alive:,.0f} alive, median age {s.median_age_alive:.0f}",
                     fontsize=9)
        ax.set_xlabel("age", fontsize=8)
        ax.tick_params(labelsize=8)
    return fig


def plot_probe_table(table) -> Figure:
    """Held-out R² of the probes per layer (with bootstrap intervals), beside the spelling baseline,
    spelling + best layer and the shuffled-label control, for both targets."""
    fig = new_figure((10, 3.4))
    axes = fig.subplots(1, 2, sharey=False)
    titles = {"female_fraction": "female fraction", "mean_birth_year": "mean birth year"}
    for ax, target in zip(axes, ("female_fraction", "mean_birth_year")):
        r2 = np.array([d[target].r2 for d in table.layers])
        lo = np.array([d[target].r2_interval[0] for d in table.layers]); hi = np.array([d[target].r2_interval[1] for d in table.layers])
        layers = np.arange(len(r2))
        ax.errorbar(layers, r2, yerr=[r2 - lo, hi - r2], marker="o", color="k", capsize=3, label=f"{table.encoder} layer")
        refs = ((table.spelling[target], "tab:blue", "--", "spelling (char n-grams)"),
                (table.combined[target], "tab:green", "-.", f"spelling + layer {table.best_layer[target]}"),
                (table.shuffled[target], "0.5", ":", "shuffled labels (control)"))
        for res, color, ls, label in refs:
            ax.axhline(res.r2, color=color, ls=ls, label=label)
            ax.axhspan(*res.r2_interval, color=color, alpha=0.12, lw=0)
        ax.set_title(f"{titles[target]}: held-out R² ({table.n_names:,} names)", fontsize=10)
        ax.set_xlabel("layer (0 = token embeddings)")
        ax.set_xticks(layers)
        ax.set_ylim(-0.05, 1.0)
    axes[0].set_ylabel("R² on held-out names")
    axes[1].legend(fontsize=7, loc="upper right")
    return fig


def plot_variance_kept(explained: np.ndarray, marks: Sequence[int] = (16, 64)) -> Figure:
    """Cumulative share of variance against the number of directions kept."""
    share = np.cumsum(explained)
    fig = new_figure((5.5, 3.0))
    ax = fig.add_subplot()
    ax.plot(np.arange(1, len(share) + 1), share, color="k")
    for k in marks:
        if k <= len(share):
            ax.plot([k], [share[k - 1]], "o", color="tab:orange")
            ax.annotate(f"k = {k}: {share[k - 1]:.0%}", (k, share[k - 1]), textcoords="offset points",
                        xytext=(6, -12), fontsize=8)
    ax.set_xlabel("directions kept (k)")
    ax.set_ylabel("share of variance")
    ax.set_ylim(0, 1)
    ax.set_title("How much of a name the top directions keep", fontsize=10)
    return fig


def plot_steering(grid: dict, t_age: float) -> Figure:
    """One frame of the steering slider: for each start name (columns) and "more female" step
    (rows), the nearest real names with their SSA mean birth year and female share.

    ``grid[(start, t_sex)]`` is a list of ``(name, birth_year, female_fraction)``."""
    starts = list(dict.fromkeys(k[0] for k in grid))            # in the order given
    sexes = sorted({k[1] for k in grid})
    fig = new_figure((10, 0.9 + 1.25 * len(sexes)))
    axes = fig.subplots(len(sexes), len(starts), squeeze=False)
    for r, t_sex in enumerate(sexes[::-1]):
        for c, start in enumerate(starts):
            ax = axes[r, c]
            ax.set_xticks([]); ax.set_yticks([])
            rows = grid[(start, t_sex)]
            years = np.mean([y for _, y, _ in rows]); fem = np.mean([f for _, _, f in rows])
            ax.set_facecolor((1.0, 1 - 0.25 * fem, 1 - 0.25 * fem) if fem >= 0.5 else (1 - 0.25 * (1 - fem), 1 - 0.25 * (1 - fem), 1.0))
            text = "\n".join(f"{n:<10} {y:.0f}  {f:.0%}♀" for n, y, f in rows)
            ax.text(0.04, 0.5, text, family="monospace", fontsize=8, va="center", transform=ax.transAxes)
            ax.text(0.98, 0.06, f"mean {years:.0f}", fontsize=8, ha="right", transform=ax.transAxes, color="0.25")
            if r == 0:
                ax.set_title(f"start: {start}", fontsize=10)
            if c == 0:
                ax.set_ylabel(f"more female\n× {t_sex:+.1f}", fontsize=8)
    fig.suptitle(f"younger × {t_age:+.1f}  (nearest real names, their SSA mean birth year and female share)", fontsize=10)
    return fig


def plot_steering_tradeoff(tradeoff, damage: str = "turnover", t_match: float = 1.5) -> Figure:
    """Per target, the mean effect on the decoded names' statistic against the mean damage (one
    point per step t), for MiniLM and the spelling space, difference of means (solid) and random
    directions (dotted); the grey line is the damage of MiniLM's step ``t_match``, where the two
    spaces are compared."""
    from .basis import DAMAGES

    if damage not in DAMAGES:
        raise ValueError(f"damage must be one of {DAMAGES}, got {damage!r}")
    units = {"younger": "change in mean birth year (years)", "more female": "change in female share"}
    xlabel = ("share of the start name's neighbours lost" if damage == "turnover"
              else "off-target change (the other statistic)")
    colours = {"MiniLM": "tab:purple", "spelling": "tab:olive"}
    fig = new_figure((10.0, 3.8))
    axes = fig.subplots(1, 2)
    for ax, target in zip(axes, ("younger", "more female")):
        for space in tradeoff.effect:
            for kind, ls in (("difference of means", "-"), ("random", ":")):
                d, e = tradeoff.curve(space, kind, target, damage)
                label = f"{space}, {'difference of means' if ls == '-' else 'random'}"
                ax.plot(np.r_[0.0, d], np.r_[0.0, e], ls, marker="o", ms=3,
                        color=colours.get(space, "0.3"), label=label)
        ax.axvline(tradeoff.level(target, damage, t=t_match), color="0.5", lw=0.8)
        ax.set_xlabel(xlabel, fontsize=10)
        ax.set_ylabel(units[target], fontsize=10)
        ax.set_title(f'"{target}": effect against damage', fontsize=10)
        ax.tick_params(labelsize=10)
    axes[0].legend(fontsize=10, loc="upper left")
    return fig


def plot_portraits(images: Sequence, titles: Sequence[str], cols: int = 4) -> Figure:
    """Generated images in a grid with their prompts as titles."""
    if len(images) != len(titles) or not images:
        raise ValueError("images and titles must be non-empty and of one length")
    rows = int(np.ceil(len(images) / cols))
    fig = new_figure((2.6 * cols, 2.9 * rows))
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False).ravel())
    for ax in axes:
        ax.axis("off")
    for ax, image, title in zip(axes, images, titles):
        ax.imshow(np.asarray(image))
        ax.set_title(title, fontsize=8)
    return fig


def plot_face_study(study) -> Figure:
    """Rendered age against the mean age of the living, and P(woman) against the female share: one
    point per name (mean over seeds, bars ± one standard deviation over seeds), with r and its interval."""
    scores, targets = study.scores, study.targets
    fig = new_figure((11.0, 4.6))
    left, right = fig.subplots(1, 2)
    panels = ((left, targets.living_age, scores.age, study.age_living, "mean age of the living (years)",
               "rendered age, CLIP zero-shot (years)"),
              (right, targets.female_share, scores.female, study.sex, "female share of the births",
               "P(a woman), CLIP zero-shot"))
    for ax, x, y, corr, xlabel, ylabel in panels:
        colours = [_FEMALE if f > 0.5 else _MALE for f in targets.female_share]
        ax.errorbar(x, y.mean(axis=1), yerr=y.std(axis=1), fmt="none", ecolor="0.7", lw=0.8)
        ax.scatter(x, y.mean(axis=1), c=colours, s=18, zorder=3)
        for name, xi, yi in zip(scores.names, x, y.mean(axis=1)):
            ax.annotate(name, (xi, yi), fontsize=6, xytext=(2, 2), textcoords="offset points")
        ax.set_xlabel(xlabel, fontsize=9)
        ax.set_ylabel(ylabel, fontsize=9)
        ax.set_title(str(corr), fontsize=9)
        ax.tick_params(labelsize=8)
    lo = min(targets.living_age.min(), scores.age.min())
    hi = max(targets.living_age.max(), scores.age.max())
    left.plot([lo, hi], [lo, hi], color="k", ls=":", lw=0.8, label="rendered = living age")
    left.legend(fontsize=7, loc="upper left")
    return fig
