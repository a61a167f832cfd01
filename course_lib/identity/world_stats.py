"""Several identity worlds pooled, and the statistics across them.

* :func:`world_study` — :func:`~.world_run.identity_world_run` for every seed of a profile, one row
  per person of every world (:class:`WorldStudy`: the reach table per phase and fame tier; the
  threshold-free phase order per world with a world bootstrap, :class:`PhaseOrder`,
  :func:`world_bootstrap`; the own direction against the compositional control; jump against
  smooth growth of ``‖u‖``, :class:`JumpTest`; the coincidence tests);
* :func:`onset_coincidence` — do two onsets coincide across identities beyond what fame and the
  name parts explain? (:func:`fame_residual`, a shuffle within world × fame bin: :func:`stratified_shuffle`,
  :func:`fame_strata`; :class:`Coincidence`);
* :class:`OwnRates`, :func:`own_rates_from_hits` — own-direction rates per kind of pair with
  two-stage (worlds, then people) bootstrap intervals;
* :data:`TIERS`, :func:`fame_tier` — the fame tiers the notebook reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

import numpy as np

from .. import runtime
from ..stats import spearman
from ..validation import check_choice, check_float, check_int
from ..widgets import progress as progress_bar
from .world import COARSE, world_config
from .world_controls import (OWN_FITS, ablation_control, activity_half_times, other_u_control, own_direction_fit,
                             phase1_matched)
from .world_measures import ANSWER_TYPES, PHASES, half_time, onset, prior_base, rise_time, share_curves
from .world_run import WorldRun, identity_world_run

__all__ = ["stratified_shuffle", "fame_strata", "Coincidence", "fame_residual", "onset_coincidence",
           "TIERS", "fame_tier", "PENALTY_GRID", "WorldStudy", "PhaseOrder", "TierDifference", "JumpTest", "world_bootstrap", "world_study",
           "OwnRates", "own_rates_from_hits"]


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


def _one_hot(labels: np.ndarray) -> np.ndarray:
    """Indicator columns of ``labels``, all but the first level (the intercept carries it)."""
    levels = np.unique(labels)
    return (labels[:, None] == levels[None, 1:]).astype(float)


#: Ridge penalties tried for the name-part indicators of :func:`fame_residual` (``"cv"``).
PENALTY_GRID = (0.01, 0.1, 1.0, 10.0, 100.0, 1000.0)


def _ridge_fit(design: np.ndarray, y: np.ndarray, penalty: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fitted values and leave-one-out residuals of a ridge fit (closed form: e_i / (1 − H_ii))."""
    inv = np.linalg.pinv(design.T @ design + np.diag(penalty))
    hat = design @ inv @ design.T
    fit = hat @ y
    loo = (y - fit) / np.maximum(1 - np.diag(hat), 1e-9)
    return fit, loo


def fame_residual(onsets: np.ndarray, fame: np.ndarray, groups: np.ndarray, first: Optional[np.ndarray] = None,
                  surname: Optional[np.ndarray] = None, *, name_penalty: float | str = "cv") -> np.ndarray:
    """``log10(onset)`` minus its fit within each group (world) on ``1, log fame, (log fame)²`` and,
    when given, one indicator per ``first`` name and per ``surname``: what neither the person's
    fame nor their name parts predict about when they reach the onset (two people called Mary share
    whatever the model learned about "Mary"). The name-part coefficients are ridge-penalised (the
    fame terms are not): a world holds only a few people per name part, and an unpenalised fit with
    about as many columns as people absorbs everything. The penalty is added to ``XᵀX`` (units of
    people: a penalty of 3 shrinks a name part seen 3 times halfway to zero). ``"cv"`` (default)
    picks it per group from :data:`PENALTY_GRID` by leave-one-out prediction error, so the
    result does not rest on an arbitrary choice; a number fixes it."""
    x, f = np.log10(onsets), np.log10(fame)
    if not (isinstance(name_penalty, str) and name_penalty == "cv"):
        check_float(name_penalty, "name_penalty", min=0)
    out = np.empty_like(x)
    for g in np.unique(groups):
        idx = np.flatnonzero(groups == g)
        fixed = np.column_stack([np.ones(len(idx)), f[idx], f[idx] ** 2])
        parts = [_one_hot(np.asarray(v)[idx]) for v in (first, surname) if v is not None]
        design = np.column_stack([fixed] + parts)
        grid = PENALTY_GRID if isinstance(name_penalty, str) else (float(name_penalty),)
        best = None
        for lam in grid:
            penalty = np.zeros(design.shape[1])
            penalty[fixed.shape[1]:] = lam
            fit, loo = _ridge_fit(design, x[idx], penalty)
            score = float(np.mean(loo ** 2))
            if best is None or score < best[0]:
                best = (score, fit)
        out[idx] = x[idx] - best[1]
    return out


def onset_coincidence(a: Sequence[float], b: Sequence[float], fame: Sequence[float],
                      groups: Sequence[int] | None = None, *, first: Sequence[int] | None = None,
                      surname: Sequence[int] | None = None, n_shuffles: int = 2000,
                      seed: int = 0) -> Coincidence:
    """Do onsets ``a`` and ``b`` (steps; NaN = never, dropped) coincide beyond fame?

    Famous identities do *everything* earlier, so a raw correlation of two onsets mostly measures
    fame. Instead: take each onset's :func:`fame_residual` within its group (world), correlate the
    residuals (Spearman), and compare with shuffles of ``b``'s residuals within group × fame
    quintile. With ``first`` and ``surname`` (per identity) the residuals also remove every name
    part's own effect (:func:`fame_residual`). ``lag`` is the median of ``log10(b / a)`` with a
    bootstrap interval."""
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
    parts = [None if v is None else np.asarray(v)[keep] for v in (first, surname)]
    a, b, fame, groups = a[keep], b[keep], fame[keep], groups[keep]
    ra, rb = fame_residual(a, fame, groups, *parts), fame_residual(b, fame, groups, *parts)
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
    #: filled by :meth:`phase1_table`: per question with a matched null, the per-person rules
    #: ("name", "other"), each person's "world", the "paired" difference of the two rules' rates
    #: (mean, two-stage interval), the averaged preference's "peak", its bootstrap "interval",
    #: "step" and "end"
    phase1_results: dict = field(default_factory=dict, repr=False)

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

    def coincidence(self, a: str = "3 unique & flexible", b: str = "own direction", kind: str = "unique",
                    **kwargs: Any) -> Coincidence:
        """:func:`onset_coincidence` of two onset columns over every world's ``kind`` people (the
        unique half by default: the compositional half needs no identity to tie to) (remembered)."""
        key = (a, b, kind, tuple(sorted(kwargs.items())))
        if key not in self._coincidences:
            p = self.people_of(kind)
            self._coincidences[key] = onset_coincidence(p[a].to_numpy(), p[b].to_numpy(), p["fame"].to_numpy(),
                                                        p["seed"].to_numpy(), first=p["first"].to_numpy(),
                                                        surname=p["surname"].to_numpy(), **kwargs)
        return self._coincidences[key]

    def coincidence_table(self, b: str = "own direction", alpha: float = 0.05, **kwargs: Any) -> Any:
        """:meth:`coincidence` of ``b`` with each phase: is it tied to phase 3 in particular? The last
        column applies a Bonferroni correction over the phases tested (``p < alpha / k``)."""
        import pandas as pd

        rows = []
        names = [name for name, _, _ in PHASES if name != b]
        for name in names:
            c = self.coincidence(name, b, **kwargs)
            lo, hi = c.null_interval
            llo, lhi = c.lag_interval
            rows.append({"phase": name, "identities": c.n, "raw ρ": round(c.raw_rho, 2),
                         "ρ beyond fame": round(c.rho, 2), "shuffled 95% range": f"{lo:.2f} to {hi:.2f}",
                         "p (one-sided)": round(c.p_value, 4),
                         f"p < {alpha}/{len(names)}": bool(c.p_value < alpha / len(names)),
                         "median lag (decades)": f"{c.lag:+.2f} [{llo:+.2f}, {lhi:+.2f}]"})
        return pd.DataFrame(rows).set_index("phase")

    def people_of(self, kind: str) -> Any:
        """The rows of :attr:`people` of one ``kind``: "unique" half, "compositional" half or "all"."""
        check_choice(kind, "kind", ("unique", "compositional", "all"))
        p = self.people
        return p if kind == "all" else p[p["compositional"] == (kind == "compositional")]

    def phase_order(self, a: str = "coarse", b: str = "unique", kind: str = "unique", *, n_boot: int = 2000,
                    seed: int = 0) -> PhaseOrder:
        """Which answer type gains half its final nats first (:func:`~.world_measures.gain_share`,
        :func:`~.world_measures.half_time`), among the ``kind`` people ("unique", "compositional"
        or "all") with both half-times: per world the share for whom ``a`` comes first (Wilson),
        and pooled with a two-stage **world bootstrap** (:func:`world_bootstrap`: worlds resampled,
        then people within each: people of one world share a model and are not independent)."""
        rows = self.people_of(kind)
        ha, hb = rows[f"half {a}"].to_numpy(), rows[f"half {b}"].to_numpy()
        ok = np.isfinite(ha) & np.isfinite(hb)
        seeds = rows["seed"].to_numpy()[ok]
        first = (ha[ok] < hb[ok]).astype(float)
        lag = np.log10(hb[ok] / ha[ok])
        worlds = sorted(np.unique(seeds).tolist())
        per_world = {w: (int(first[seeds == w].sum()), int((seeds == w).sum()),
                         float(np.median(lag[seeds == w]))) for w in worlds}
        return PhaseOrder(a=a, b=b, kind=kind, per_world=per_world, share=float(first.mean()),
                          share_interval=world_bootstrap(first, seeds, np.mean, n_boot=n_boot, seed=seed),
                          lag=float(np.median(lag)),
                          lag_interval=world_bootstrap(lag, seeds, np.median, n_boot=n_boot, seed=seed))

    def tier_difference(self, column: str | tuple[str, str], tier: int = 0, kind: str = "all", *,
                        n_boot: int = 2000, seed: int = 0) -> TierDifference:
        """Does fame ``tier`` (0: celebrities) differ from the other tiers in a yes/no measure of
        the ``kind`` people ("all", "unique" or "compositional")? Per world the two counts; pooled
        the difference of the two shares, with a two-stage world bootstrap (worlds, then people):
        pooled Wilson intervals would treat people of one world as independent. ``column`` is an
        onset column of :attr:`people` (yes = reached), or a pair ``(a, b)`` of answer types
        (yes = ``a`` gains half its nats first; people without both half-times left out)."""
        check_int(tier, "tier", min=0, max=len(TIERS) - 1)
        rows = self.people_of(kind)
        if isinstance(column, tuple):
            if len(column) != 2 or any(f"half {c}" not in rows for c in column):
                raise KeyError(f"column pair must name two answer types with half-times, got {column!r}")
            ha, hb = (rows[f"half {c}"].to_numpy(dtype=float) for c in column)
            ok = np.isfinite(ha) & np.isfinite(hb)
            rows, yes = rows[ok], (ha < hb)[ok]
        elif column in rows:
            yes = np.isfinite(rows[column].to_numpy(dtype=float))
        else:
            raise KeyError(f"column must be one of the study's onset columns, got {column!r}")
        top = rows["tier"].to_numpy() == tier
        seeds = rows["seed"].to_numpy()
        per_world = {int(w): (int(yes[(seeds == w) & top].sum()), int(((seeds == w) & top).sum()),
                              int(yes[(seeds == w) & ~top].sum()), int(((seeds == w) & ~top).sum()))
                     for w in np.unique(seeds)}

        def gap(coded: np.ndarray) -> float:  # coded = yes + 2 * top, so one array carries both
            t = coded >= 2
            return float(np.mean(coded[t] % 2) - np.mean(coded[~t] % 2)) if t.any() and (~t).any() else np.nan

        coded = yes.astype(float) + 2 * top
        return TierDifference(column=column, tier=tier, per_world=per_world, tier_share=float(yes[top].mean()),
                              rest_share=float(yes[~top].mean()), difference=gap(coded),
                              interval=world_bootstrap(coded, seeds, gap, n_boot=n_boot, seed=seed),
                              tier_interval=world_bootstrap(yes[top].astype(float), seeds[top], np.mean,
                                                            n_boot=n_boot, seed=seed))

    def order_table(self, pairs: Sequence[tuple[str, str]] = (("coarse", "unique"), ("unique", "flexible"),
                                                                 ("activity", "flexible")),
                    kind: str = "unique") -> Any:
        """:meth:`phase_order` of each pair as a table: pooled share (world bootstrap), median lag,
        and one column per world."""
        import pandas as pd
        from ..stats import format_rate

        rows = []
        for a, b in pairs:
            o = self.phase_order(a, b, kind)
            lo, hi = o.share_interval
            llo, lhi = o.lag_interval
            row = {"comparison": f"{a} before {b}", "share, all worlds [two-stage bootstrap]":
                   f"{o.share:.0%} [{lo:.0%}, {hi:.0%}]",
                   "median lag, decades [two-stage bootstrap]": f"{o.lag:+.2f} [{llo:+.2f}, {lhi:+.2f}]"}
            row.update({f"world {w}": format_rate(k, n) for w, (k, n, _) in o.per_world.items()})
            rows.append(row)
        return pd.DataFrame(rows).set_index("comparison")

    def own_control(self) -> dict[str, tuple[int, int]]:
        """Own-direction onsets reached (k, n) by the unique half, the compositional half, and the
        same rule on the name pairs that are nobody (the chance rate)."""
        nobody = np.concatenate([r.timelines["own_nobody"] for r in self.runs], axis=1)
        steps = self.runs[0].checkpoint_steps
        level = dict((n, lv) for n, _, lv in PHASES)["own direction"]
        hit = sum(onset(steps, nobody[:, j], level) is not None for j in range(nobody.shape[1]))
        out = {}
        for kind in ("unique", "compositional"):
            on = self.people_of(kind)["own direction"].to_numpy()
            out[kind] = (int(np.isfinite(on).sum()), len(on))
        out["nobody"] = (int(hit), nobody.shape[1])
        return out

    def _own_hits(self, fit: str = "all") -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Per kind ("unique", "compositional", "nobody"): (own-direction onset reached, world) for
        every person or pair that is nobody, with the additive part fitted as ``fit`` says."""
        check_choice(fit, "fit", OWN_FITS)
        level = dict((n, lv) for n, _, lv in PHASES)["own direction"]
        hits: dict[str, list] = {"unique": [], "compositional": [], "nobody": []}
        for r in self.runs:
            tl = r.timelines if fit == "all" else own_direction_fit(r, fit)
            steps, comp = r.checkpoint_steps, r.world.compositional
            people = np.array([onset(steps, tl["own"][:, i], level) is not None for i in range(len(comp))])
            nobody = np.array([onset(steps, tl["own_nobody"][:, j], level) is not None
                               for j in range(tl["own_nobody"].shape[1])])
            for kind, v in (("unique", people[~comp]), ("compositional", people[comp]), ("nobody", nobody)):
                hits[kind].append((v, np.full(len(v), r.seed)))
        return {k: (np.concatenate([v for v, _ in x]), np.concatenate([g for _, g in x])) for k, x in hits.items()}

    def own_rates(self, fit: str = "all", *, n_boot: int = 2000, seed: int = 0) -> OwnRates:
        """Own-direction onset rates of the unique half, the compositional half and the name pairs
        that are nobody (chance), each with a **two-stage bootstrap** interval (worlds, then people
        within each: :func:`world_bootstrap`) — people of one world share one model, so a Wilson
        interval over the pooled people is too narrow. ``fit``: how the additive part is fitted
        (:data:`~.world_controls.OWN_FITS`; ``"all"`` is the measure of the timelines)."""
        key = ("own rates", fit, n_boot, seed)
        if key not in self._coincidences:
            self._coincidences[key] = own_rates_from_hits(self._own_hits(fit), n_boot=n_boot, seed=seed)
        return self._coincidences[key]

    def own_fit_table(self, *, margin: float = 0.1) -> Any:
        """The own direction under both fits of the additive part (:data:`~.world_controls.OWN_FITS`),
        per kind of pair: the onset rate with its two-stage bootstrap interval, and (people only)
        whether their answers need *their own* ``u``: P(true job/hobby) from the full code, the
        additive part alone and the additive part plus another person's ``u``
        (:func:`~.world_controls.other_u_control`), and the share for whom ``u`` adds more than
        ``margin`` — their own against another person's (the floor)."""
        import pandas as pd

        labels = {"all": "every pair (as above)", "nobody": "untrained pairs only, cross-fitted"}
        rows = []
        for fit in OWN_FITS:
            rates = self.own_rates(fit)
            ctrl = [other_u_control(r, fit, margin=margin) for r in self.runs]
            for kind in ("unique", "compositional", "nobody"):
                k, n = rates.counts[kind]
                lo, hi = rates.intervals[kind]
                row = {"additive part fitted on": labels[fit], "pairs": kind,
                       "own-direction onset [two-stage bootstrap]": f"{k}/{n} = {k / n:.0%} [{lo:.0%}, {hi:.0%}]"}
                if kind != "nobody":
                    pick = [r.world.compositional == (kind == "compositional") for r in self.runs]
                    cat = lambda name: np.concatenate([c[name][m] for c, m in zip(ctrl, pick)])  # noqa: E731
                    row.update({"P(job/hobby): full": round(float(cat("full").mean()), 2),
                                "additive": round(float(cat("additive").mean()), 2),
                                "additive + another's u": round(float(cat("other").mean()), 2),
                                f"own u adds > {margin}": f"{cat('needs own').mean():.0%}",
                                f"another's u adds > {margin} (floor)": f"{cat('other helps').mean():.0%}"})
                rows.append(row)
        return pd.DataFrame(rows).set_index(["additive part fitted on", "pairs"]).astype(object).fillna("")

    def own_table(self) -> Any:
        """Per half (unique, compositional) and world: own-direction rate (pooled: two-stage
        bootstrap, :meth:`own_rates`; per world: Wilson over its people), the mean
        own-direction rank at its peak, and the ablation — P(true job/hobby) at the end from the
        full identity code against from its additive (name-parts) part alone."""
        import pandas as pd
        from ..stats import format_rate

        rows = []
        rates = self.own_rates()

        def pooled(kind: str) -> str:
            (k, n), (lo, hi) = rates.counts[kind], rates.intervals[kind]
            return f"{k}/{n} = {k / n:.0%} [{lo:.0%}, {hi:.0%}]"

        for kind in ("unique", "compositional"):
            p = self.people_of(kind)
            row = {"people": kind, "own direction, all worlds [two-stage bootstrap]": pooled(kind)}
            for w in sorted(p["seed"].unique()):
                on = p.loc[p["seed"] == w, "own direction"].to_numpy()
                row[f"world {w}"] = format_rate(int(np.isfinite(on).sum()), len(on))
            row.update({"own rank at peak": round(float(p["own peak"].mean()), 2),
                        "own rank at end": round(float(p["own final"].mean()), 2),
                        "P(job/hobby), full code": round(float(p["unique final"].mean()), 2),
                        "P(job/hobby), additive part alone": round(float(p["ablated final"].mean()), 2),
                        "P(job/hobby), random direction of size ‖u‖ removed":
                            round(float(p["random ablated final"].mean()), 2)})
            rows.append(row)
        nobody = [r.timelines["own_nobody"] for r in self.runs]
        steps, level = self.runs[0].checkpoint_steps, dict((n, lv) for n, _, lv in PHASES)["own direction"]
        per_world = {f"world {r.seed}": format_rate(sum(onset(steps, n[:, j], level) is not None
                                                        for j in range(n.shape[1])), n.shape[1])
                     for r, n in zip(self.runs, nobody)}
        rows.append({"people": "nobody (chance)", "own direction, all worlds [two-stage bootstrap]": pooled("nobody"),
                     **per_world,
                     "own rank at peak": round(float(np.mean(np.concatenate([n.max(axis=0) for n in nobody]))), 2),
                     "own rank at end": round(float(np.mean(np.concatenate([n[-1] for n in nobody]))), 2)})
        return pd.DataFrame(rows).set_index("people").fillna("")

    def phase1_table(self, exceptions: dict, *, n_boot: int = 1000, seed: int = 0) -> Any:
        """Phase 1 for the people who defy their name (``exceptions``: question → one index array
        per run), against a **matched** null. Per coarse question: the share for whom the name's
        answer is preferred by > 0.1 at some checkpoint and the truth at the end; the same rule for
        a random *other* wrong answer (:func:`~.world_controls.phase1_matched`; same people, same
        checkpoints) and the two rules' difference over the same people (paired, with a two-stage
        interval: overlapping unpaired intervals are the wrong test for one set of people scored
        twice); and the averaged preference P(name's answer) − mean P(other wrong answers) at
        its peak checkpoint, with a two-stage (worlds, then people) bootstrap interval, and at the
        end. Sex has two answers, no other wrong one: only the step-0 null is shown."""
        import pandas as pd
        from ..stats import format_rate

        rows, self.phase1_results = [], {}
        for q in COARSE:
            people = exceptions[q]
            name = np.concatenate([r.bias_then_truth(q, p) for r, p in zip(self.runs, people)])
            row = {"question": q, "people": len(name), "name's answer, then the truth": format_rate(int(name.sum()), len(name))}
            if self.runs[0].world.n_answers[q] < 3:
                start = np.concatenate([r.bias_at_start(q, p) for r, p in zip(self.runs, people)])
                row["null"] = f"at step 0: {format_rate(int(start.sum()), len(start))} (no other wrong answer)"
                rows.append(row)
                continue
            m = [phase1_matched(r, q, p) for r, p in zip(self.runs, people)]
            other = np.concatenate([x["other"] for x in m])
            row["null"] = f"another wrong answer: {format_rate(int(other.sum()), len(other))}"
            # the same people under both rules: a paired difference, worlds then people resampled
            world = np.concatenate([np.full(len(p), r.seed) for r, p in zip(self.runs, people)])
            diff = name.astype(float) - other.astype(float)
            paired = (float(diff.mean()), world_bootstrap(diff, world, np.mean, n_boot=n_boot, seed=seed))
            row["name's − other's rate, paired [two-stage]"] = (f"{paired[0]:+.2f} "
                                                                 f"[{paired[1][0]:+.2f}, {paired[1][1]:+.2f}]")
            curves = [x["per_person"] for x in m]
            mean = np.mean(np.concatenate(curves), axis=0)
            t = int(np.argmax(mean))
            rng = np.random.default_rng(seed)
            boot = []
            for _ in range(n_boot):
                pick = [curves[k] for k in rng.integers(0, len(curves), len(curves))]
                boot.append(np.concatenate([c[rng.integers(0, len(c), len(c)), t] for c in pick]).mean())
            lo, hi = np.percentile(boot, [2.5, 97.5])
            self.phase1_results[q] = {"name": name, "other": other, "world": world, "paired": paired,
                                      "peak": float(mean[t]), "interval": (float(lo), float(hi)),
                               "step": int(self.runs[0].checkpoint_steps[t]), "end": float(mean[-1])}
            row["P(name's) − P(other wrong), peak [bootstrap]"] = (f"{mean[t]:+.2f} [{lo:+.2f}, {hi:+.2f}] "
                                                                   f"at step {self.phase1_results[q]['step']}")
            row["… at the end"] = f"{mean[-1]:+.2f}"
            rows.append(row)
        return pd.DataFrame(rows).set_index("question").fillna("")

    def jump_test(self, kind: str = "unique") -> JumpTest:
        """Phase change or smooth growth of ``‖u‖``? Per person of ``kind`` with an own-direction
        onset: the rise time of ``‖u‖`` divided by the nobody pairs' median ``‖u‖`` at the same checkpoint
        (the whole code grows during training, untrained pairs' too; the same null that defines the
        onset) (10 % → 90 % of the way to its peak, decades of steps,
        :func:`~.world_measures.rise_time`), against one checkpoint interval (a jump cannot be
        faster) and against the rise time of the same people's unique answers (their share of the
        final nats): a jump rises within a few checkpoint intervals and far faster than the behaviour."""
        p = self.people_of(kind)
        p = p[np.isfinite(p["own direction"])]
        steps = np.maximum(self.runs[0].checkpoint_steps, 1)
        interval = float(np.median(np.diff(np.log10(steps[1:]))))
        u, behaviour = p["u rise"].to_numpy(), p["unique rise"].to_numpy()
        ok = np.isfinite(u) & np.isfinite(behaviour)
        return JumpTest(n=int(ok.sum()), interval=interval, u_rise=u[ok], behaviour_rise=behaviour[ok],
                        seeds=p["seed"].to_numpy()[ok])


@dataclass
class TierDifference:
    """One fame tier against the others in a yes/no column (see :meth:`WorldStudy.tier_difference`)."""

    column: Any                  #: an onset column, or a pair of answer types (see the method)
    tier: int
    per_world: dict              #: world → (tier yes, tier n, others yes, others n)
    tier_share: float            #: pooled share of yes in the tier
    rest_share: float            #: pooled share of yes in the other tiers
    difference: float            #: tier_share − rest_share
    interval: tuple              #: two-stage world-bootstrap 95 % interval of the difference
    tier_interval: tuple         #: two-stage world-bootstrap 95 % interval of tier_share


@dataclass
class PhaseOrder:
    """Which of two answer types gains half its final nats first (see :meth:`WorldStudy.phase_order`)."""

    a: str
    b: str
    kind: str
    per_world: dict              #: world → (people with ``a`` first, people compared, median lag)
    share: float                 #: pooled share of people with ``a`` first
    share_interval: tuple        #: its world-bootstrap 95 % interval
    lag: float                   #: median log10(half-time b / half-time a): > 0, ``a`` first
    lag_interval: tuple          #: its world-bootstrap 95 % interval

    @property
    def worlds_agree(self) -> bool:
        """Does every world put the same type first (share above ½ in all, or below ½ in all)?"""
        shares = [k / n for k, n, _ in self.per_world.values() if n]
        return all(x > 0.5 for x in shares) or all(x < 0.5 for x in shares)


@dataclass
class JumpTest:
    """Rise times of ``‖u‖`` and of the behaviour, per person (decades of training steps)."""

    n: int
    interval: float              #: one checkpoint interval (decades): the fastest a jump can look
    u_rise: np.ndarray
    behaviour_rise: np.ndarray
    seeds: np.ndarray

    @property
    def jump_share(self) -> float:
        """Share of people whose ‖u‖ rises within three checkpoint intervals."""
        return float(np.mean(self.u_rise <= 3 * self.interval))

    @property
    def ratio(self) -> float:
        """Median over people of (‖u‖ rise time) / (behaviour rise time)."""
        return float(np.median(self.u_rise / self.behaviour_rise))

    def verdict(self) -> str:
        """``"jump"`` when most people's ‖u‖ rises within three checkpoint intervals and faster than
        half their behaviour's rise; ``"smooth"`` otherwise."""
        return "jump" if self.jump_share > 0.5 and self.ratio < 0.5 else "smooth"


@dataclass
class OwnRates:
    """Own-direction onset rates per kind of pair, with two-stage bootstrap intervals
    (see :meth:`WorldStudy.own_rates`)."""

    counts: dict                 #: kind → (reached, total), pooled over worlds
    intervals: dict              #: kind → 95 % two-stage (worlds, then people) bootstrap interval
    per_world: dict              #: kind → {world: (reached, total)}

    def rate(self, kind: str) -> float:
        """Pooled rate of ``kind`` ("unique", "compositional" or "nobody")."""
        k, n = self.counts[kind]
        return k / n


def own_rates_from_hits(hits: dict, *, n_boot: int = 2000, seed: int = 0) -> OwnRates:
    """:class:`OwnRates` from ``hits``: kind → (reached: bool array, world: label array), one entry
    per person (or pair that is nobody); intervals by :func:`world_bootstrap`."""
    if not {"unique", "compositional", "nobody"} <= set(hits):
        raise ValueError(f"hits must have the kinds unique, compositional and nobody, got {sorted(hits)}")
    counts, intervals, per_world = {}, {}, {}
    for kind, (v, g) in hits.items():
        v, g = np.asarray(v, dtype=float), np.asarray(g)
        if v.shape != g.shape or v.ndim != 1 or not len(v):
            raise ValueError(f"hits[{kind!r}] must be two 1-D arrays of the same non-zero length")
        counts[kind] = (int(v.sum()), len(v))
        intervals[kind] = world_bootstrap(v, g, np.mean, n_boot=n_boot, seed=seed)
        per_world[kind] = {w: (int(v[g == w].sum()), int((g == w).sum())) for w in sorted(np.unique(g).tolist())}
    return OwnRates(counts=counts, intervals=intervals, per_world=per_world)


def world_bootstrap(values: np.ndarray, groups: np.ndarray, statistic: Callable[[np.ndarray], float], *,
                    n_boot: int = 2000, seed: int = 0, within: bool = True) -> tuple[float, float]:
    """95 % interval of ``statistic(values)`` by a **two-stage (hierarchical) bootstrap**: resample
    whole groups (worlds) with replacement — the unit drawn independently is the world — and then,
    when ``within``, the members (people) of each drawn group with replacement. With three to five
    worlds the first stage alone takes few distinct values and ignores that each world's share is
    itself a noisy estimate from a few dozen people: too narrow. A resample whose statistic is
    undefined (NaN) is left out; NaN if more than half are."""
    v, g = np.asarray(values, dtype=float), np.asarray(groups)
    if v.shape != g.shape or v.ndim != 1 or not len(v):
        raise ValueError(f"values and groups must be 1-D of the same non-zero length, got {v.shape} and {g.shape}")
    check_int(n_boot, "n_boot", min=10)
    labels = np.unique(g)
    members = [v[g == lab] for lab in labels]
    rng = np.random.default_rng(seed)

    def draw(k: int) -> np.ndarray:
        m = members[k]
        return m[rng.integers(0, len(m), len(m))] if within else m

    stats = np.array([statistic(np.concatenate([draw(k) for k in rng.integers(0, len(labels), len(labels))]))
                      for _ in range(n_boot)], dtype=float)
    stats = stats[np.isfinite(stats)]
    if len(stats) < n_boot / 2:
        return float("nan"), float("nan")
    return tuple(float(x) for x in np.percentile(stats, [2.5, 97.5]))


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
        shares, from_start = share_curves(tl), share_curves(tl, zero="start")
        steps = run.checkpoint_steps
        frame = {"seed": seed, "person": np.arange(w.n_people),
                 "name": [w.name(i) for i in range(w.n_people)], "first": w.first, "surname": w.surname,
                 "compositional": w.compositional, "fame": w.fame,
                 "tier": fame_tier(w.fame),
                 **run.onsets(),
                 **{f"half {kind}": [half_time(steps, shares[f"share_{kind}"][:, i]) for i in range(w.n_people)]
                    for kind in ANSWER_TYPES},
                 # the same half-times with the share's 0 at the untrained model (all that is learned)
                 **{f"half {kind} from step 0": [half_time(steps, from_start[f"share_{kind}"][:, i])
                                                 for i in range(w.n_people)] for kind in ("coarse", "unique")},
                 **{f"final gain {kind}": (tl[key][-1] - prior_base(tl, kind)) / -prior_base(tl, kind)
                    for kind, key in ANSWER_TYPES.items()},
                 # ‖u‖ in units of the nobody pairs' median ‖u‖: the whole code grows during training
                 "u rise": [rise_time(steps, tl["u_norm"][:, i] / tl["u_nobody"]) for i in range(w.n_people)],
                 "unique rise": [rise_time(steps, np.nan_to_num(shares["share_unique"][:, i], nan=0.0))
                                 if np.isfinite(shares["share_unique"][:, i]).all() else np.nan
                                 for i in range(w.n_people)],
                 "own peak": tl["own"].max(axis=0), "own final": tl["own"][-1],
                 "unique final": tl["unique"][-1], "ablated final": tl["ablated"][-1]}
        split = activity_half_times(run)
        frame["random ablated final"] = ablation_control(run)["random"]
        frame.update({f"half {k}": v for k, v in split.items()})
        frames.append(pd.DataFrame(frame))
    return WorldStudy(runs=runs, people=pd.concat(frames, ignore_index=True))
