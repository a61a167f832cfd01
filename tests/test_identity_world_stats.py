"""Tests for course_lib.identity.world_stats: the fame-controlled coincidence test, fame tiers and
several worlds pooled."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.identity.world_stats import (TIERS, fame_strata, fame_tier, onset_coincidence, stratified_shuffle,
                                             world_study)
from course_lib.stats import rank, spearman
from world_tools import TINY, TINY_OVERRIDES, world_cache  # noqa: F401  (a fixture)


def test_spearman_and_ranks():
    assert rank([10, 30, 20, 20]).tolist() == [1, 4, 2.5, 2.5]
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1)
    # hand-computed: ranks (1,2,3,4,5) against (2,1,4,3,5): 1 − 6·Σd²/(n(n²−1)) = 1 − 6·4/120 = 0.8
    assert spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]) == pytest.approx(0.8)
    with pytest.raises(ValueError):
        rank([1, np.nan])


def test_stratified_shuffle_keeps_every_stratums_values():
    rng = np.random.default_rng(0)
    values = np.arange(40.0)
    strata = np.repeat([0, 1, 2, 3], 10)
    out = stratified_shuffle(values, strata, rng)
    for s in range(4):
        assert sorted(out[strata == s]) == sorted(values[strata == s])
    assert not np.array_equal(out, values)


def test_the_shuffled_control_sees_through_a_fame_confound():
    """Two onsets that both follow fame and nothing else correlate strongly, yet within fame
    strata they are independent: the control must not call that a coincidence. A real link
    (b follows a beyond fame) must be detected."""
    rng = np.random.default_rng(2)
    n = 400
    fame = rng.pareto(1.0, n) + 1
    base = 1000 / fame
    a = base * np.exp(rng.normal(0, 0.3, n))
    b_confounded = base ** 0.8 * np.exp(rng.normal(0, 0.3, n))
    confounded = onset_coincidence(a, b_confounded, fame, n_shuffles=300)
    assert confounded.raw_rho > 0.5 and confounded.p_value > 0.05
    # coarse fame bins alone would not do: the raw correlation beats within-bin shuffles
    bins = fame_strata(fame, 5)
    within_bins = [spearman(a, stratified_shuffle(b_confounded, bins, rng)) for _ in range(200)]
    assert confounded.raw_rho > np.percentile(within_bins, 99)
    b_linked = a * np.exp(rng.normal(0, 0.1, n)) * 0.7
    linked = onset_coincidence(a, b_linked, fame, n_shuffles=300)
    assert linked.p_value < 0.01 and linked.lag == pytest.approx(np.log10(0.7), abs=0.03)
    lo, hi = linked.lag_interval
    assert lo <= linked.lag <= hi
    with pytest.raises(ValueError, match="fame"):
        onset_coincidence(a, b_linked, -fame)
    with pytest.raises(ValueError, match="at least 8"):
        onset_coincidence(a[:5], b_linked[:5], fame[:5])


def test_fame_tiers_and_strata():
    fame = np.arange(1, 101, dtype=float)
    tier = fame_tier(fame)
    assert (tier == 0).sum() == 10 and (tier == 1).sum() == 40 and (tier == 2).sum() == 50
    assert tier[-1] == 0 and tier[0] == 2
    assert np.bincount(fame_strata(fame, 5)).tolist() == [20] * 5



def test_study_pools_people_and_reports_the_chance_rate(world_cache):
    study = world_study("quick", seeds=[0, 1], progress=False, **TINY_OVERRIDES)
    assert len(study.people) == 2 * TINY["n_people"]
    table = study.reach_table()
    assert list(table.columns) == [t for t, _, _ in TIERS]
    assert "chance" in table.index[-1]
    assert all("CI" in cell for cell in table.iloc[0])


def test_fame_residual_removes_name_part_effects():
    from course_lib.identity.world_stats import fame_residual

    rng = np.random.default_rng(0)
    n = 400
    first, surname = rng.integers(0, 8, n), rng.integers(0, 8, n)
    fame = rng.lognormal(size=n)
    effect = rng.normal(0, 0.5, 8)
    onset = 10 ** (2 - 0.3 * np.log10(fame) + effect[first] + rng.normal(0, 0.05, n))
    groups = np.zeros(n, dtype=int)
    plain = fame_residual(onset, fame, groups)
    named = fame_residual(onset, fame, groups, first, surname)
    assert abs(np.corrcoef(plain, effect[first])[0, 1]) > 0.9       # fame alone leaves the name's effect
    assert abs(np.corrcoef(named, effect[first])[0, 1]) < 0.3        # what is left: the ridge's shrinkage
    assert named.std() < 0.1


def test_world_bootstrap_resamples_whole_worlds():
    from course_lib.identity.world_stats import world_bootstrap

    # three worlds that disagree: the person-level spread is tiny, the world-level one is not
    values = np.r_[np.full(100, 0.2), np.full(100, 0.5), np.full(100, 0.8)]
    groups = np.repeat([0, 1, 2], 100)
    lo, hi = world_bootstrap(values, groups, np.mean, n_boot=500)
    assert lo < 0.35 and hi > 0.65
    lo, hi = world_bootstrap(np.full(300, 0.5), groups, np.mean, n_boot=100)
    assert lo == hi == 0.5
    with pytest.raises(ValueError, match="groups"):
        world_bootstrap(values, groups[:-1], np.mean)


def test_world_bootstrap_second_stage_adds_within_world_noise():
    from course_lib.identity.world_stats import world_bootstrap

    # three worlds that agree exactly on a 0/1 share of 0.6: worlds alone see no spread at all,
    # the second stage (people within each world) does — 144 coin flips cannot pin 0.6 to ±0.01
    one = np.r_[np.ones(30), np.zeros(20)]
    values, groups = np.tile(one, 3), np.repeat([0, 1, 2], 50)
    lo, hi = world_bootstrap(values, groups, np.mean, n_boot=500, within=False)
    assert lo == hi == pytest.approx(0.6)
    lo, hi = world_bootstrap(values, groups, np.mean, n_boot=500)
    assert lo < 0.55 and hi > 0.65


def test_fame_residual_penalty_by_cross_validation():
    from course_lib.identity.world_stats import PENALTY_GRID, fame_residual

    rng = np.random.default_rng(1)
    n = 40
    first, surname = rng.integers(0, 15, n), rng.integers(0, 15, n)
    fame = rng.lognormal(size=n)
    onset = 10 ** (2 - 0.3 * np.log10(fame) + rng.normal(0, 0.2, n))     # no name-part effect at all
    groups = np.zeros(n, dtype=int)
    cv = fame_residual(onset, fame, groups, first, surname)
    tiny = fame_residual(onset, fame, groups, first, surname, name_penalty=0.0)
    # with ~30 indicator columns for 40 people, no penalty nearly interpolates; CV keeps the noise
    assert tiny.std() < 0.5 * cv.std()
    assert cv.std() > 0.1
    big = fame_residual(onset, fame, groups, first, surname, name_penalty=max(PENALTY_GRID))
    assert np.corrcoef(cv, big)[0, 1] > 0.95                                # CV shrinks the names away
    with pytest.raises(ValueError, match="name_penalty"):
        fame_residual(onset, fame, groups, first, surname, name_penalty=-1.0)


def test_own_rates_from_hits_uses_worlds_as_the_unit():
    from course_lib.identity.world_stats import own_rates_from_hits
    from course_lib.stats import wilson_interval

    # three worlds that disagree (2 %, 10 %, 15 %): the pooled Wilson interval is too narrow
    v = np.concatenate([np.arange(48) < k for k in (1, 5, 7)])
    g = np.repeat([0, 1, 2], 48)
    nobody = (np.arange(480) < 21, np.repeat([0, 1, 2], 160))
    rates = own_rates_from_hits({"unique": (v, g), "compositional": (v, g), "nobody": nobody})
    lo, hi = rates.intervals["compositional"]
    wlo, whi = wilson_interval(13, 144)
    assert hi - lo > whi - wlo and lo < wlo
    assert rates.counts["compositional"] == (13, 144) and rates.rate("nobody") == 21 / 480
    assert rates.per_world["compositional"] == {0: (1, 48), 1: (5, 48), 2: (7, 48)}
    with pytest.raises(ValueError, match="kinds"):
        own_rates_from_hits({"unique": (v, g)})
    with pytest.raises(ValueError, match="same non-zero length"):
        own_rates_from_hits({"unique": (v, g[:3]), "compositional": (v, g), "nobody": nobody})


def test_study_own_rates_and_fit_table(world_cache):
    study = world_study("quick", seeds=[0, 1], progress=False, **TINY_OVERRIDES)
    rates = study.own_rates()
    ctrl = study.own_control()
    assert all(rates.counts[k] == ctrl[k] for k in ctrl)      # the same onsets as before, new intervals
    assert all(lo <= rates.rate(k) <= hi for k, (lo, hi) in rates.intervals.items())
    table = study.own_fit_table()
    assert len(table) == 6 and "two-stage" in table.columns[0]
    assert study.own_rates("nobody").counts["unique"][1] == ctrl["unique"][1]
    with pytest.raises(ValueError, match="fit"):
        study.own_rates("people")


def test_world_bootstrap_leaves_out_undefined_resamples():
    from course_lib.identity.world_stats import world_bootstrap

    values, groups = np.arange(40, dtype=float), np.repeat(np.arange(4), 10)
    lo, hi = world_bootstrap(values, groups, lambda v: np.nan if v.mean() > 25 else v.mean(), n_boot=200)
    assert lo <= hi <= 25
    assert all(np.isnan(world_bootstrap(values, groups, lambda v: np.nan, n_boot=50)))


def _planted_people(celeb_yes: float, rest_yes: float, worlds: int = 4, per_world: int = 40):
    """A people frame where a share ``celeb_yes`` of tier 0 and ``rest_yes`` of the others reach
    phase 4, and half-times put coarse first exactly where phase 4 is reached."""
    import pandas as pd

    rows = []
    for w in range(worlds):
        for i in range(per_world):
            top = i < per_world // 4
            yes = (i % (per_world // 4)) < (celeb_yes if top else rest_yes) * (per_world // 4)
            rows.append({"seed": w, "tier": 0 if top else 1 + i % 2, "compositional": False,
                         "4 overfit (iconic)": 100.0 if yes else np.nan,
                         "half coarse": 10.0 if yes else 30.0, "half unique": 20.0})
    return pd.DataFrame(rows)


def test_tier_difference_counts_per_world_and_resamples_worlds():
    from course_lib.identity.world_stats import WorldStudy

    study = WorldStudy(runs=[], people=_planted_people(0.8, 0.4))
    d = study.tier_difference("4 overfit (iconic)")
    assert d.per_world[0] == (8, 10, 12, 30) and len(d.per_world) == 4
    assert d.tier_share == pytest.approx(0.8) and d.rest_share == pytest.approx(0.4)
    assert d.difference == pytest.approx(0.4) and d.interval[0] < 0.4 < d.interval[1]
    assert d.tier_interval[0] <= 0.8 <= d.tier_interval[1]
    order = study.tier_difference(("coarse", "unique"), kind="unique")   # coarse first = reached
    assert order.difference == pytest.approx(0.4) and order.per_world == d.per_world
    same = WorldStudy(runs=[], people=_planted_people(0.5, 0.5)).tier_difference("4 overfit (iconic)")
    assert same.difference == pytest.approx(0) and same.interval[0] < 0 < same.interval[1]


def test_tier_difference_bad_input():
    from course_lib.identity.world_stats import WorldStudy

    study = WorldStudy(runs=[], people=_planted_people(0.8, 0.4))
    with pytest.raises(KeyError, match="column"):
        study.tier_difference("5 fame")
    with pytest.raises(KeyError, match="pair"):
        study.tier_difference(("coarse", "fame"))
    with pytest.raises(ValueError, match="tier"):
        study.tier_difference("4 overfit (iconic)", tier=3)
    with pytest.raises(ValueError, match="kind"):
        study.tier_difference("4 overfit (iconic)", kind="famous")


def test_phase1_table_pairs_the_two_rules_by_world(world_cache):
    from course_lib.identity.exercises import solution_name_exceptions
    from course_lib.identity.world import COARSE

    study = world_study("quick", seeds=[0, 1], progress=False, **TINY_OVERRIDES)
    exceptions = {q: [solution_name_exceptions(r.world, q) for r in study.runs] for q in COARSE}
    table = study.phase1_table(exceptions, n_boot=50)
    assert any("paired" in c for c in table.columns)
    for q, m in study.phase1_results.items():
        assert len(m["world"]) == len(m["name"]) == len(m["other"])
        assert set(np.unique(m["world"])) <= {0, 1}
        diff, (lo, hi) = m["paired"]
        assert diff == pytest.approx(m["name"].mean() - m["other"].mean())
        assert lo <= diff <= hi or not np.isfinite(lo)
    assert "half coarse from step 0" in study.people and "half unique from step 0" in study.people
