"""Several identity worlds pooled, and the statistics across them.

* :func:`world_study` — :func:`~.world_run.identity_world_run` for every seed of a profile, one row
  per person of every world (:class:`WorldStudy`: the reach table per phase and fame tier, the
  coincidence tests);
* :func:`onset_coincidence` — do two onsets coincide across identities beyond what fame explains?
  (:func:`fame_residual`, a shuffle within world × fame bin: :func:`stratified_shuffle`,
  :func:`fame_strata`; :class:`Coincidence`);
* :data:`TIERS`, :func:`fame_tier` — the fame tiers the notebook reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

import numpy as np

from .. import runtime
from ..stats import spearman
from ..validation import check_int
from ..widgets import progress as progress_bar
from .world import world_config
from .world_measures import PHASES, onset
from .world_run import WorldRun, identity_world_run

__all__ = ["stratified_shuffle", "fame_strata", "Coincidence", "fame_residual", "onset_coincidence",
           "TIERS", "fame_tier", "WorldStudy", "world_study"]


def stratified_shuffle(values: Sequence[float], strata: Sequence[int], rng: np.random.Generator) -> np.ndarray:
    """``values`` permuted at random *within* each stratum (each stratum keeps its own values)."""
    v, s = np.asarray(values), np.asarray(strata)
    if v.shape != s.shape or v.ndim != 1:
        raise ValueError(f"values and strata must be 1-D of the same length, got {v.shape} and {s.shape}")
    out = v.copy()
    for label in np.unique(s):
        idx = np.flatnonzero(s == label)
        out[idx] = v[rng.permutation(idx)]
    return out


def fame_strata(fame: np.ndarray, n_bins: int = 5) -> np.ndarray:
    """Quantile bin (0 = least famous … n_bins − 1) of each person's fame."""
    edges = np.quantile(fame, np.linspace(0, 1, n_bins + 1)[1:-1])
    return np.searchsorted(edges, fame, side="right")


@dataclass
class Coincidence:
    """Do two onsets coincide across identities beyond what fame alone explains?"""

    n: int                    #: identities with both onsets
    raw_rho: float            #: Spearman correlation of the two onsets (fame included)
    rho: float                #: Spearman correlation of what fame does not explain (see below)
    null_rho: np.ndarray      #: ``rho`` after shuffling one onset's residuals within world × fame bin
    lag: float                #: median log10(onset_b / onset_a): < 0, b comes first
    lag_interval: tuple[float, float]  #: bootstrap 95% interval of ``lag``

    @property
    def p_value(self) -> float:
        """One-sided: share of shuffles with a correlation at least the observed (add-one)."""
        return float((1 + np.sum(self.null_rho >= self.rho)) / (1 + len(self.null_rho)))

    @property
    def null_interval(self) -> tuple[float, float]:
        return tuple(float(x) for x in np.percentile(self.null_rho, [2.5, 97.5]))


def fame_residual(onsets: np.ndarray, fame: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """``log10(onset)`` minus its least-squares fit on ``1, log fame, (log fame)²`` within each group
    (world): what the person's fame does not predict about when they reach the onset."""
    x, f = np.log10(onsets), np.log10(fame)
    out = np.empty_like(x)
    for g in np.unique(groups):
        idx = np.flatnonzero(groups == g)
        design = np.stack([np.ones(len(idx)), f[idx], f[idx] ** 2], axis=1)
        coef, *_ = np.linalg.lstsq(design, x[idx], rcond=None)
        out[idx] = x[idx] - design @ coef
    return out


def onset_coincidence(a: Sequence[float], b: Sequence[float], fame: Sequence[float],
                      groups: Sequence[int] | None = None, *, n_shuffles: int = 2000,
                      seed: int = 0) -> Coincidence:
    """Do onsets ``a`` and ``b`` (steps; NaN = never, dropped) coincide beyond fame?

    Famous identities do *everything* earlier, so a raw correlation of two onsets mostly measures
    fame. Instead: take each onset's :func:`fame_residual` within its group (world), correlate the
    residuals (Spearman), and compare with shuffles of ``b``'s residuals within group × fame
    quintile. ``lag`` is the median of ``log10(b / a)`` with a bootstrap interval."""
    a, b, fame = (np.asarray(x, dtype=float) for x in (a, b, fame))
    groups = np.zeros(len(a), dtype=int) if groups is None else np.asarray(groups)
    if not a.shape == b.shape == fame.shape == groups.shape or a.ndim != 1:
        raise ValueError("a, b, fame and groups must be 1-D of the same length")
    if np.any(~np.isfinite(fame)) or np.any(fame <= 0):
        raise ValueError("fame must be positive and finite")
    check_int(n_shuffles, "n_shuffles", min=10)
    keep = np.isfinite(a) & np.isfinite(b) & (a > 0) & (b > 0)
    if keep.sum() < 8:
        raise ValueError(f"need at least 8 identities with both onsets, got {int(keep.sum())}")
    a, b, fame, groups = a[keep], b[keep], fame[keep], groups[keep]
    ra, rb = fame_residual(a, fame, groups), fame_residual(b, fame, groups)
    strata = np.zeros(len(a), dtype=int)
    for k, g in enumerate(np.unique(groups)):
        idx = groups == g
        strata[idx] = k * 10 + fame_strata(fame[idx], min(5, int(idx.sum())))
    rng = np.random.default_rng(seed)
    rho = spearman(ra, rb)
    null = np.array([spearman(ra, stratified_shuffle(rb, strata, rng)) for _ in range(n_shuffles)])
    lags = np.log10(b / a)
    boot = [np.median(rng.choice(lags, len(lags))) for _ in range(1000)]
    return Coincidence(n=int(keep.sum()), raw_rho=spearman(a, b), rho=rho, null_rho=null,
                       lag=float(np.median(lags)),
                       lag_interval=tuple(float(x) for x in np.percentile(boot, [2.5, 97.5])))


#: Fame tiers reported in the notebook: share of people by fame rank.
TIERS = (("celebrities (top 10%)", 0.0, 0.1), ("middle (10–50%)", 0.1, 0.5), ("ordinary (bottom half)", 0.5, 1.0))


def fame_tier(fame: np.ndarray) -> np.ndarray:
    """Index into :data:`TIERS` of each person, by fame rank within the world."""
    order = np.argsort(-np.asarray(fame), kind="stable")
    position = np.empty(len(order))
    position[order] = np.arange(len(order)) / len(order)
    return np.array([next(i for i, (_, lo, hi) in enumerate(TIERS) if lo <= p < hi) for p in position])


@dataclass
class WorldStudy:
    """The identity world over several seeds: one row per person of every world."""

    runs: list[WorldRun]
    people: Any  #: pandas DataFrame: seed, person, name, fame, tier, one onset column per phase, …
    _coincidences: dict = field(default_factory=dict, repr=False)

    def reach_table(self) -> Any:
        """Per phase × tier: how many identities reached the phase (Wilson 95% interval) and the
        median onset step among them; plus the same rule on the name pairs that are nobody."""
        import pandas as pd
        from ..stats import format_rate

        rows = []
        for name, _, _ in PHASES:
            row = {"phase": name}
            for t, (tier, _, _) in enumerate(TIERS):
                on = self.people.loc[self.people["tier"] == t, name].to_numpy()
                hit = np.isfinite(on)
                med = f", median step {np.median(on[hit]):.0f}" if hit.any() else ""
                row[tier] = format_rate(int(hit.sum()), len(on)) + med
            rows.append(row)
        nobody = np.concatenate([r.timelines["own_nobody"] for r in self.runs], axis=1)
        steps = self.runs[0].checkpoint_steps
        hit = sum(onset(steps, nobody[:, j], PHASES[-1][2]) is not None for j in range(nobody.shape[1]))
        rows.append({"phase": "own direction, name pairs that are nobody (chance)",
                     **{tier: format_rate(int(hit), nobody.shape[1]) if t == 0 else ""
                        for t, (tier, _, _) in enumerate(TIERS)}})
        return pd.DataFrame(rows).set_index("phase")

    def coincidence(self, a: str = "3 unique & flexible", b: str = "own direction", **kwargs: Any) -> Coincidence:
        """:func:`onset_coincidence` of two onset columns over every world's people (remembered)."""
        key = (a, b, tuple(sorted(kwargs.items())))
        if key not in self._coincidences:
            p = self.people
            self._coincidences[key] = onset_coincidence(p[a].to_numpy(), p[b].to_numpy(), p["fame"].to_numpy(),
                                                        p["seed"].to_numpy(), **kwargs)
        return self._coincidences[key]

    def coincidence_table(self, b: str = "own direction", **kwargs: Any) -> Any:
        """:meth:`coincidence` of ``b`` with each phase: is it tied to phase 3 in particular?"""
        import pandas as pd

        rows = []
        for name, _, _ in PHASES:
            if name == b:
                continue
            c = self.coincidence(name, b, **kwargs)
            lo, hi = c.null_interval
            llo, lhi = c.lag_interval
            rows.append({"phase": name, "identities": c.n, "raw ρ": round(c.raw_rho, 2),
                         "ρ beyond fame": round(c.rho, 2), "shuffled 95% range": f"{lo:.2f} to {hi:.2f}",
                         "p (one-sided)": round(c.p_value, 4),
                         "median lag (decades)": f"{c.lag:+.2f} [{llo:+.2f}, {lhi:+.2f}]"})
        return pd.DataFrame(rows).set_index("phase")


def world_study(profile: Optional[str] = None, *, seeds: Optional[Sequence[int]] = None,
                progress: bool = True, **overrides: Any) -> WorldStudy:
    """:func:`identity_world_run` for every seed of the profile (or ``seeds``), pooled per person."""
    import pandas as pd

    cfg = world_config(profile, overrides)
    seeds = cfg["seeds"] if seeds is None else runtime.check_seeds(seeds)
    runs, frames = [], []
    for seed in progress_bar(seeds, desc="worlds", disable=not progress):
        run = identity_world_run(seed, profile, progress=False, **overrides)
        runs.append(run)
        w, tl = run.world, run.timelines
        frame = {"seed": seed, "person": np.arange(w.n_people),
                 "name": [w.name(i) for i in range(w.n_people)], "fame": w.fame,
                 "tier": fame_tier(w.fame),
                 **run.onsets(),
                 "own peak": tl["own"].max(axis=0), "own final": tl["own"][-1],
                 "unique final": tl["unique"][-1], "ablated final": tl["ablated"][-1]}
        frames.append(pd.DataFrame(frame))
    return WorldStudy(runs=runs, people=pd.concat(frames, ignore_index=True))
