"""What of an LLC trajectory survives the settings nothing pins, and a data-refined LLC with a control.

* :func:`gamma_sweep` — the same checkpoints at several localisation strengths γ (:class:`GammaSweep`,
  ε, nβ and chains fixed): claim only what holds at every γ;
* :func:`burnin_check` — one checkpoint re-measured with a burn-in of 3 relaxation times
  τ = 2/(εγ) (:class:`BurninCheck`): does the setting's shorter burn-in bias λ̂?
* :func:`matched_loss` — a checkpoint's λ̂ with its output group scaled down until its training loss
  equals an earlier checkpoint's (:class:`MatchedLoss`): what remains of a change in λ̂ at equal loss;
* :func:`mirror_groups`, :func:`size_matched_controls`, :func:`data_refined` — the data-refined LLC
  of Chapter 3's pair groups beside random training subsets of the same sizes (:class:`DataRefined`):
  the LLC of a subset grows with its size, so a group is compared with random rows of its size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Optional, Sequence

import math

import numpy as np
import torch

from ..stats import t_quantile, welch_half_width
from ..validation import check_float, check_int, check_seed
from .course_models import CourseRun
from .estimator import relaxation_time
from .transitions import (LLCTrajectory, check_course_run, check_row_mask, choose_steps,
                          clamp_batch, data_loss, llc_trajectory, sampler_settings, untrained_loss)

__all__ = ["GammaSweep", "gamma_sweep", "mirror_groups", "size_matched_controls", "DataRefined",
           "data_refined", "BurninCheck", "burnin_check", "MatchedLoss", "matched_loss"]


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

    def fall(self, first: int, last: int, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """(γ,) λ̂(first) − λ̂(last) at every γ and its ``level`` t half-width (Welch). A difference,
        not a ratio: where the chains barely move λ̂(last) is near 0 and a ratio means nothing."""
        i, j = self.trajectories[0].index(first), self.trajectories[0].index(last)
        drop = self.mean[:, i] - self.mean[:, j]
        c = self.num_chains
        half = np.array([welch_half_width(a, b, c, c, level) for a, b in zip(self.sem[:, i], self.sem[:, j])])
        return drop, half

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
        """λ̂(group) − the mean λ̂ of its size-matched random subsets at ``step``, with a ``level`` t
        interval. The control's error is the spread *between* random subsets (each subset's λ̂ is one
        draw of "a random set of this size", chain noise included): s.e. = std(subset λ̂) / √R over R
        subsets, beside the group's chains' s.e.m.; Welch's degrees of freedom. Needs R ≥ 2."""
        g = self.groups[name]
        c = self.controls[name]
        if len(c) < 2:
            raise ValueError(f"{name!r} has {len(c)} random subset(s); the spread between subsets needs ≥ 2")
        a = g.per_chain[g.index(step)]
        b = np.array([t.at(step) for t in c])
        diff = float(a.mean() - b.mean())
        sem_a, sem_b = a.std(ddof=1) / math.sqrt(len(a)), b.std(ddof=1) / math.sqrt(len(b))
        half = welch_half_width(sem_a, sem_b, len(a), len(b), level)
        return diff, diff - half, diff + half

    def rank(self, name: str, step: int) -> tuple[int, int]:
        """How many of the R random subsets have a λ̂ below the group's at ``step``, and R."""
        g, c = self.groups[name], self.controls[name]
        return int(sum(t.at(step) < g.at(step) for t in c)), len(c)

    def table(self, level: float = 0.95) -> str:
        rows = [f"{'group':<22} {'rows':>5} {'step':>6} {'λ̂ group':>9} {'λ̂ random':>10} "
                f"{'group − random [' + format(level, '.0%') + ' t interval]':>34} {'subsets below':>14}"]
        for name, t in self.groups.items():
            for step in t.steps:
                d, lo, hi = self.excess(name, int(step), level)
                ctrl = np.mean([c.at(int(step)) for c in self.controls[name]])
                below, total = self.rank(name, int(step))
                rows.append(f"{name:<22} {self.sizes[name]:5d} {int(step):6d} {t.at(int(step)):9.1f} "
                            f"{ctrl:10.1f} {d:+10.1f} [{lo:+8.1f}, {hi:+8.1f}] {below:>9d} of {total}")
        return "\n".join(rows)


def data_refined(run: CourseRun, settings: Mapping[str, Any], steps: Iterable[int],
                 groups: Mapping[str, torch.Tensor], *, repeats: int = 6,
                 control_chains: Optional[int] = None, seed: int = 0,
                 use_cache: bool = True, progress: bool = True) -> DataRefined:
    """The data-refined λ̂ of each group of rows (nβ at the whole data's value) at ``steps``, and
    of ``repeats`` ≥ 2 random subsets of each group's size (:func:`size_matched_controls`), each with
    ``control_chains`` chains (default: the setting's): the control is the spread between subsets,
    so many subsets with few chains each beat few subsets with many."""
    run = check_course_run(run)
    repeats = check_int(repeats, "repeats", min=2)
    control_settings = dict(settings)
    if control_chains is not None:
        control_settings["num_chains"] = check_int(control_chains, "control_chains", min=2)
    n = len(run.data[0])
    if not isinstance(groups, Mapping) or not groups:
        raise ValueError("groups must be a non-empty mapping name → boolean mask")
    groups = {name: check_row_mask(m, n, name) for name, m in groups.items()}
    controls = size_matched_controls(groups, repeats=repeats, seed=seed)
    steps = list(steps)
    own = {name: llc_trajectory(run, settings, steps=steps, subset=name, mask=m, use_cache=use_cache,
                                progress=progress) for name, m in groups.items()}
    ctrl = {name: [llc_trajectory(run, control_settings, steps=steps, subset=f"random, size of {name} #{r}",
                                  mask=m, use_cache=use_cache, progress=progress)
                   for r, m in enumerate(masks)] for name, masks in controls.items()}
    return DataRefined(run=run.name, steps=np.asarray(sorted(set(int(s) for s in steps))),
                       groups=own, controls=ctrl, sizes={k: int(m.sum()) for k, m in groups.items()})




# --------------------------------------------------------------------------- burn-in against τ
@dataclass
class BurninCheck:
    """λ̂ at one checkpoint with the setting's burn-in (``short``) and with ⌈factor·τ⌉ (``long``)."""

    run: str
    step: int
    tau: float
    short: LLCTrajectory
    long: LLCTrajectory

    def difference(self, level: float = 0.95) -> tuple[float, float, float]:
        """λ̂(long burn-in) − λ̂(setting's), with a ``level`` t interval. Both runs use the setting's
        seed, so chain k of the long run is chain k of the short one run on: the interval is the paired
        one, over the chains' own differences (C − 1 degrees of freedom)."""
        a = np.asarray(self.long.per_chain[0], dtype=float)
        b = np.asarray(self.short.per_chain[0], dtype=float)
        if a.shape != b.shape or len(a) < 2:
            raise ValueError("the two runs need the same number (≥ 2) of chains for a paired difference")
        d = a - b
        diff = float(d.mean())
        half = t_quantile(0.5 + level / 2, len(d) - 1) * float(d.std(ddof=1)) / math.sqrt(len(d))
        return diff, diff - half, diff + half

    def __str__(self) -> str:
        d, lo, hi = self.difference()
        return (f"{self.run}, step {self.step}: τ ≈ 2/(εγ) = {self.tau:.0f} steps; burn-in "
                f"{self.short.settings['num_burnin']} → λ̂ {self.short.mean[0]:.2f}, burn-in "
                f"{self.long.settings['num_burnin']} (≥ 3τ) → λ̂ {self.long.mean[0]:.2f}; "
                f"difference {d:+.2f} [{lo:+.2f}, {hi:+.2f}] (95 % t, paired over chains)")


def burnin_check(run: CourseRun, settings: Mapping[str, Any], step: int, *, factor: float = 3.0,
                 use_cache: bool = True, progress: bool = True) -> BurninCheck:
    """Re-measure ``step`` with a burn-in of ⌈``factor`` τ⌉ steps, τ = 2/(εγ) the relaxation time of a
    direction held only by the localisation (5.2), everything else (and the draws) unchanged."""
    run = check_course_run(run)
    factor = check_float(factor, "factor", min=0, inclusive="neither")
    if not isinstance(settings, Mapping) or "epsilon" not in settings:
        raise ValueError("settings must be a mapping of estimate_llc keywords with an epsilon")
    gamma = float(settings.get("gamma", 1.0))
    tau = relaxation_time(float(settings["epsilon"]), gamma)
    if not math.isfinite(tau):
        raise ValueError(f"no relaxation time at gamma = {gamma:g}: nothing pulls the chains back")
    long_burnin = max(int(math.ceil(factor * tau)), int(settings.get("num_burnin", 0)))
    short = llc_trajectory(run, settings, steps=[step], use_cache=use_cache, progress=progress)
    long = llc_trajectory(run, {**settings, "num_burnin": long_burnin}, steps=[step], use_cache=use_cache,
                          progress=progress)
    return BurninCheck(run=run.name, step=int(step), tau=tau, short=short, long=long)


# --------------------------------------------------------------------------- λ̂ at matched training loss
@dataclass
class MatchedLoss:
    """λ̂ at checkpoint ``step`` after multiplying group ``group``'s parameters by ``scale`` so that the
    training loss L(w*) equals ``target_loss`` (``loss``: the loss reached)."""

    run: str
    step: int
    group: str
    target_loss: float
    scale: float
    loss: float
    result: Any

    @property
    def mean(self) -> float:
        return float(self.result.mean)

    def half_width(self, level: float = 0.95) -> float:
        """The ``level`` t half-width of λ̂ over chains."""
        c = self.result.num_chains
        return t_quantile(0.5 + level / 2, c - 1) * float(self.result.sem)


def _scaled(run: CourseRun, step: int, names: list[str], scale: float) -> torch.nn.Module:
    model = run.model_at(step)
    _rescale(model, {n: p.detach().clone() for n, p in model.named_parameters() if n in names}, scale)
    return model


def _rescale(model: torch.nn.Module, originals: Mapping[str, torch.Tensor], scale: float) -> None:
    """Set the parameters named in ``originals`` to ``scale`` times their original values."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name in originals:
                p.copy_(originals[name] * scale)


def matched_loss(run: CourseRun, settings: Mapping[str, Any], step: int, target_loss: float, *,
                 group: str = "unembedding", use_cache: bool = True) -> MatchedLoss:
    """λ̂ at ``step`` with the model's confidence lowered to a given training loss: every parameter of
    ``group`` (for Chapter 3's transformer the unembedding, so every logit) is multiplied by one
    factor c ∈ (0, 1], found by bisection on log c, until L(w*) on the final training data equals
    ``target_loss``; then the same sampler setting. A trained model keeps sharpening its margins
    after it fits (weight decay, growing logits), and a sharper margin costs wandering chains more
    loss; this control asks what of a fall in λ̂ is left at equal loss. (Scaling the logits also
    scales every upstream direction's effect on them: the control is one-factor in the loss, not in
    the geometry.) Cached."""
    run = check_course_run(run)
    run.checkpoint_index(step)
    if group not in run.groups:
        raise ValueError(f"group must be one of {sorted(run.groups)}, got {group!r}")
    target_loss = check_float(target_loss, "target_loss", min=0, inclusive="neither")
    names = run.groups[group]
    data = run.data
    sampler = sampler_settings(settings, run)
    base = data_loss(run, run.model_at(step), data)
    if base > target_loss:
        raise ValueError(f"step {step}'s training loss {base:.3g} is already above target_loss "
                         f"{target_loss:.3g}: scaling down cannot lower it")

    def compute() -> MatchedLoss:
        model = run.model_at(step)
        originals = {n: p.detach().clone() for n, p in model.named_parameters() if n in names}

        def loss_at(log_c: float) -> float:
            _rescale(model, originals, math.exp(log_c))
            return data_loss(run, model, data)

        lo, hi = math.log(1e-4), 0.0                  # loss(c) falls as c grows towards 1
        if loss_at(lo) < target_loss:
            raise ValueError(f"target_loss {target_loss:.3g} is above the loss of near-zero logits")
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            if loss_at(mid) > target_loss:
                lo = mid
            else:
                hi = mid
        scale = math.exp(0.5 * (lo + hi))
        _rescale(model, originals, scale)
        from .estimator import estimate_llc
        result = estimate_llc(model, run.loss_fn, data, **clamp_batch(sampler, len(data[0])))
        return MatchedLoss(run=run.name, step=int(step), group=group, target_loss=float(target_loss),
                           scale=scale, loss=data_loss(run, model, data), result=result)

    if not use_cache:
        return compute()
    from ..cache import cached
    key = {"run": run.key, "step": int(step), "group": group, "target_loss": float(target_loss),
           "sampler": dict(sampler), "version": 1}
    return cached("slt-matched-loss", key, compute)
