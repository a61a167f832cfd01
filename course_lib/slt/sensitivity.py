"""What of an LLC trajectory survives the settings nothing pins, and a data-refined LLC with a control.

* :func:`gamma_sweep` — the same checkpoints at several localisation strengths γ (:class:`GammaSweep`,
  ε, nβ and chains fixed): claim only what holds at every γ;
* :func:`mirror_groups`, :func:`size_matched_controls`, :func:`data_refined` — the data-refined LLC
  of Chapter 3's pair groups beside random training subsets of the same sizes (:class:`DataRefined`):
  the LLC of a subset grows with its size, so a group is compared with random rows of its size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import math

import numpy as np
import torch

from ..stats import t_quantile, welch_df
from ..validation import check_float, check_int, check_seed
from .course_models import CourseRun
from .transitions import (LLCTrajectory, check_course_run, check_row_mask, choose_steps,
                          llc_trajectory, untrained_loss)

__all__ = ["GammaSweep", "gamma_sweep", "mirror_groups", "size_matched_controls", "DataRefined",
           "data_refined"]


# --------------------------------------------------------------------------- the γ sweep
@dataclass
class GammaSweep:
    """λ̂ at the same checkpoints for several localisation strengths γ (ε, nβ, chains fixed).

    ``trajectories[g]``: the :class:`LLCTrajectory` for ``gammas[g]`` at ``steps``;
    ``chance``: the untrained model's loss (see :func:`untrained_loss`)."""

    run: str
    gammas: np.ndarray
    steps: np.ndarray
    trajectories: list[LLCTrajectory]
    chance: float

    @property
    def mean(self) -> np.ndarray:
        """(γ, steps) λ̂."""
        return np.stack([t.mean for t in self.trajectories])

    @property
    def sem(self) -> np.ndarray:
        return np.stack([t.sem for t in self.trajectories])

    @property
    def excess_loss(self) -> np.ndarray:
        """(γ, steps) E[L] − L(w*) = λ̂ / nβ."""
        return np.stack([t.excess_loss for t in self.trajectories])

    @property
    def init_loss(self) -> np.ndarray:
        """(steps,) L(w*)."""
        return self.trajectories[0].init_loss

    @property
    def num_chains(self) -> int:
        return self.trajectories[0].num_chains

    def locality(self) -> np.ndarray:
        """(γ, steps) the fraction of the way from L(w*) to the untrained loss the chains climb:
        (E[L] − L(w*)) / (chance − L(w*)). Near 0: local; near 1: the chains left the basin."""
        gap = np.maximum(self.chance - self.init_loss, 1e-12)
        return self.excess_loss / gap[None, :]

    def ratio(self, first: int, last: int) -> np.ndarray:
        """(γ,) λ̂(first) / λ̂(last) at every γ."""
        i, j = self.trajectories[0].index(first), self.trajectories[0].index(last)
        return self.mean[:, i] / self.mean[:, j]

    def table(self) -> str:
        rows = [f"{'γ':>6} {'step':>6} {'λ̂':>9} {'95 % t interval':>20} {'E[L]−L(w*)':>11} "
                f"{'L(w*)':>8}  of the way to chance ({self.chance:.2f})"]
        for g, t in zip(self.gammas, self.trajectories):
            for k, step in enumerate(t.steps):
                lo, hi = t.interval(int(step))
                rows.append(f"{g:6g} {int(step):6d} {t.mean[k]:9.2f} [{lo:8.2f}, {hi:8.2f}] "
                            f"{t.excess_loss[k]:11.3f} {t.init_loss[k]:8.4f}  "
                            f"{self.locality()[list(self.gammas).index(g), k]:6.1%}")
        return "\n".join(rows)


def gamma_sweep(run: CourseRun, settings: Mapping[str, Any], gammas: Sequence[float],
                steps: Iterable[int], *, use_cache: bool = True, progress: bool = True) -> GammaSweep:
    """λ̂ at checkpoints ``steps`` for every localisation strength in ``gammas``, the rest of
    ``settings`` (ε, nβ, chains, draws) held fixed: one :func:`llc_trajectory` per γ (cached, and
    sharing estimates with any trajectory of the same setting)."""
    run = check_course_run(run)
    if isinstance(gammas, (str, bytes)):
        raise TypeError("gammas must be a sequence of numbers")
    gs = [check_float(g, "gammas", min=0, inclusive="neither") for g in gammas]
    if not gs:
        raise ValueError("gammas must not be empty")
    if len(set(gs)) != len(gs):
        raise ValueError(f"gammas must be distinct, got {list(gammas)}")
    steps = choose_steps(run, steps)
    trajs = [llc_trajectory(run, {**settings, "gamma": g}, steps=steps, use_cache=use_cache,
                            progress=progress) for g in gs]
    return GammaSweep(run=run.name, gammas=np.asarray(gs), steps=np.asarray(steps),
                      trajectories=trajs, chance=untrained_loss(run))


# --------------------------------------------------------------------------- data-refined, with a control
def mirror_groups(run: CourseRun) -> dict[str, torch.Tensor]:
    """Chapter 3's training pairs in three disjoint groups (boolean masks over the training rows):
    ``"diagonal (a, a)"`` (its own mirror), ``"mirror also trained"`` ((b, a) trained too, a ≠ b) and
    ``"mirror held out"`` ((b, a) in the test set)."""
    run = check_course_run(run)
    if run.name != "grokking" or "mirror also trained" not in run.subsets:
        raise ValueError(f"mirror groups exist for Chapter 3's grokking run only, got {run.name!r}")
    pairs = run.data[0]
    diagonal = pairs[:, 0] == pairs[:, 1]
    trained = run.subsets["mirror also trained"] & ~diagonal
    return {"diagonal (a, a)": diagonal, "mirror also trained": trained,
            "mirror held out": ~trained & ~diagonal}


def size_matched_controls(groups: Mapping[str, torch.Tensor], *, repeats: int = 1,
                          seed: int = 0) -> dict[str, list[torch.Tensor]]:
    """For each group, ``repeats`` random subsets of all the rows with exactly as many rows
    (seeded, reproducible): the control a data-refined λ̂ is compared against, since λ̂ on a
    subset depends on its size as well as on what is in it."""
    if not isinstance(groups, Mapping) or not groups:
        raise ValueError("groups must be a non-empty mapping name → boolean mask")
    repeats = check_int(repeats, "repeats", min=1)
    sizes = {len(m) for m in groups.values()}
    if len(sizes) != 1:
        raise ValueError(f"the groups' masks must have one length, got {sorted(sizes)}")
    n = sizes.pop()
    generator = torch.Generator().manual_seed(check_seed(seed))
    out = {}
    for name, mask in groups.items():
        k = int(torch.as_tensor(mask).sum())
        masks = []
        for _ in range(repeats):
            m = torch.zeros(n, dtype=torch.bool)
            m[torch.randperm(n, generator=generator)[:k]] = True
            masks.append(m)
        out[name] = masks
    return out


@dataclass
class DataRefined:
    """Data-refined λ̂ of named row groups and of random groups of the same sizes.

    ``groups[name]``: the group's :class:`LLCTrajectory`; ``controls[name]``: one per random
    subset of that group's size; ``sizes[name]``: its rows."""

    run: str
    steps: np.ndarray
    groups: dict[str, LLCTrajectory]
    controls: dict[str, list[LLCTrajectory]]
    sizes: dict[str, int]

    def excess(self, name: str, step: int, level: float = 0.95) -> tuple[float, float, float]:
        """λ̂(group) − mean λ̂(its size-matched controls) at ``step``, with a ``level`` t interval
        (the controls' chains pooled; Welch's unequal-variance standard error and degrees of freedom)."""
        g = self.groups[name]
        c = self.controls[name]
        i = g.index(step)
        a = g.per_chain[i]
        b = np.concatenate([t.per_chain[t.index(step)] for t in c])
        diff = float(a.mean() - b.mean())
        sem_a, sem_b = a.std(ddof=1) / math.sqrt(len(a)), b.std(ddof=1) / math.sqrt(len(b))
        half = t_quantile(0.5 + level / 2, welch_df(sem_a, sem_b, len(a), len(b))) * math.hypot(sem_a, sem_b)
        return diff, diff - half, diff + half

    def table(self, level: float = 0.95) -> str:
        rows = [f"{'group':<22} {'rows':>5} {'step':>6} {'λ̂ group':>9} {'λ̂ random':>10} "
                f"{'group − random [' + format(level, '.0%') + ' t interval]':>34}"]
        for name, t in self.groups.items():
            for step in t.steps:
                d, lo, hi = self.excess(name, int(step), level)
                ctrl = np.mean([c.at(int(step)) for c in self.controls[name]])
                rows.append(f"{name:<22} {self.sizes[name]:5d} {int(step):6d} {t.at(int(step)):9.1f} "
                            f"{ctrl:10.1f} {d:+10.1f} [{lo:+8.1f}, {hi:+8.1f}]")
        return "\n".join(rows)


def data_refined(run: CourseRun, settings: Mapping[str, Any], steps: Iterable[int],
                 groups: Mapping[str, torch.Tensor], *, repeats: int = 1, seed: int = 0,
                 use_cache: bool = True, progress: bool = True) -> DataRefined:
    """The data-refined λ̂ of each group of rows (nβ at the whole data's value) at ``steps``, and
    of ``repeats`` random subsets of each group's size (:func:`size_matched_controls`)."""
    run = check_course_run(run)
    n = len(run.data[0])
    if not isinstance(groups, Mapping) or not groups:
        raise ValueError("groups must be a non-empty mapping name → boolean mask")
    groups = {name: check_row_mask(m, n, name) for name, m in groups.items()}
    controls = size_matched_controls(groups, repeats=repeats, seed=seed)
    steps = list(steps)
    own = {name: llc_trajectory(run, settings, steps=steps, subset=name, mask=m, use_cache=use_cache,
                                progress=progress) for name, m in groups.items()}
    ctrl = {name: [llc_trajectory(run, settings, steps=steps, subset=f"random, size of {name} #{r}",
                                  mask=m, use_cache=use_cache, progress=progress)
                   for r, m in enumerate(masks)] for name, masks in controls.items()}
    return DataRefined(run=run.name, steps=np.asarray(sorted(set(int(s) for s in steps))),
                       groups=own, controls=ctrl, sizes={k: int(m.sum()) for k, m in groups.items()})


