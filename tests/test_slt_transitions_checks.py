"""Chapter 5.3, the re-analysis: t intervals, locality, the γ sweep, size-matched data-refined
controls, rank correlation, the anchored model on the final data, and the two new checkers."""

import math

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from course_lib import stats
from course_lib.slt import sensitivity, transitions as T
from course_lib.slt import transition_exercises as X
from course_lib.slt import transition_plots
from course_lib.slt.transitions import LLCTrajectory
from slt_tools import anchored, cache_dir, grok  # noqa: F401 (fixtures)

SAMPLER = dict(gamma=100.0, num_chains=2, num_burnin=5, num_draws=10, batch_size=8, epsilon=1e-4)


# --------------------------------------------------------------------------- Student's t
@pytest.mark.parametrize("q, df, want", [(0.975, 1, 12.7062), (0.975, 2, 4.3027), (0.975, 3, 3.1824),
                                         (0.975, 7, 2.3646), (0.95, 4, 2.1318), (0.9, 6, 1.4398),
                                         (0.975, 1e6, 1.95996), (0.5, 3, 0.0), (0.025, 2, -4.3027)])
def test_t_quantile_matches_tables(q, df, want):
    assert stats.t_quantile(q, df) == pytest.approx(want, abs=2e-4)


@pytest.mark.parametrize("q, df", [(0, 3), (1, 3), (1.2, 3), (0.9, 0), (0.9, -1), (float("nan"), 2)])
def test_t_quantile_bad_input(q, df):
    with pytest.raises(ValueError):
        stats.t_quantile(q, df)


def test_t_interval_and_its_coverage():
    lo, hi = stats.t_interval([10.0, 12.0, 14.0])
    assert (lo + hi) / 2 == pytest.approx(12.0) and (hi - lo) / 2 == pytest.approx(4.3027 * 2 / math.sqrt(3), rel=1e-4)
    assert stats.interval_coverage(stats.t_interval, num_chains=3, trials=3000) == pytest.approx(0.95, abs=0.015)

    def two_se(x, level):
        h = 2 * np.std(x, ddof=1) / math.sqrt(len(x))
        return np.mean(x) - h, np.mean(x) + h

    assert stats.interval_coverage(two_se, num_chains=3, trials=3000) == pytest.approx(0.816, abs=0.02)
    for bad in ([1.0], [[1.0, 2.0]], [1.0, float("nan")]):
        with pytest.raises(ValueError):
            stats.t_interval(bad)
    with pytest.raises(ValueError, match="level"):
        stats.t_interval([1.0, 2.0], level=1.0)
    with pytest.raises(TypeError, match="callable"):
        stats.interval_coverage("nope")
    with pytest.raises(ValueError, match="num_chains"):
        stats.interval_coverage(stats.t_interval, num_chains=1)


def _traj(mean, std, chains=3, nbeta=10.0, init=None):
    mean, std = np.asarray(mean, float), np.asarray(std, float)
    steps = np.arange(1, len(mean) + 1) * 100
    per = mean[:, None] + std[:, None] * np.linspace(-1, 1, chains)[None, :] / np.std(np.linspace(-1, 1, chains), ddof=1)
    return LLCTrajectory(run="synthetic", steps=steps, mean=mean, std=std, per_chain=per,
                         init_loss=np.zeros(len(mean)) if init is None else np.asarray(init, float),
                         settings={"nbeta": nbeta})


def test_trajectory_intervals_are_t_and_excess_is_lambda_over_nbeta():
    t = _traj([20.0, 10.0], [2.0, 1.0], chains=3, nbeta=4.0)
    lo, hi = t.interval(100)
    assert (hi - lo) / 2 == pytest.approx(stats.t_quantile(0.975, 2) * 2 / math.sqrt(3))
    assert t.interval(100, z=2.0) == pytest.approx((20 - 4 / math.sqrt(3), 20 + 4 / math.sqrt(3)))
    np.testing.assert_allclose(t.half_width(), stats.t_quantile(0.975, 2) * t.sem)
    np.testing.assert_allclose(t.excess_loss, [5.0, 2.5])
    with pytest.raises(ValueError, match="not in this trajectory"):
        t.interval(150)


# --------------------------------------------------------------------------- rank correlation
def test_spearman_says_when_one_curve_is_a_monotone_function_of_the_other():
    x = np.array([0.5, 0.2, 0.1, 0.05, 0.01])
    assert stats.spearman(x, 1 / x) == pytest.approx(-1.0)
    assert stats.spearman(x, np.log(x)) == pytest.approx(1.0)
    assert abs(stats.spearman([1, 2, 3, 4, 5, 6], [1, 6, 2, 5, 3, 4])) < 0.5
    assert stats.spearman([1, 2, 2, 3], [1, 2, 2, 3]) == pytest.approx(1.0)     # ties
    for a, b in (([1, 2], [1, 2]), ([1, 2, 3], [1, 2]), ([1, 2, np.nan], [1, 2, 3]), ([[1, 2, 3]], [1, 2, 3])):
        with pytest.raises(ValueError):
            stats.spearman(a, b)
    assert math.isnan(stats.spearman([1, 1, 1], [1, 2, 3]))     # a constant curve has no rank order


# --------------------------------------------------------------------------- groups and controls
def test_mirror_groups_partition_and_put_the_diagonal_apart(grok):
    groups = sensitivity.mirror_groups(grok)
    pairs = grok.data[0]
    stacked = torch.stack(list(groups.values())).int()
    assert torch.equal(stacked.sum(0), torch.ones(len(pairs), dtype=torch.int32))      # a partition
    diag = groups["diagonal (a, a)"]
    assert torch.equal(diag, pairs[:, 0] == pairs[:, 1]) and int(diag.sum()) > 0
    assert not (groups["mirror held out"] & diag).any()
    # a held-out mirror really is not a training pair
    train = {tuple(p) for p in pairs.tolist()}
    for (a, b) in pairs[groups["mirror held out"]].tolist():
        assert (b, a) not in train
    for (a, b) in pairs[groups["mirror also trained"]].tolist():
        assert (b, a) in train and a != b


def test_size_matched_controls(grok):
    groups = sensitivity.mirror_groups(grok)
    controls = sensitivity.size_matched_controls(groups, repeats=3, seed=1)
    for name, masks in controls.items():
        assert len(masks) == 3 and all(int(m.sum()) == int(groups[name].sum()) for m in masks)
        assert all(m.dtype == torch.bool and len(m) == len(groups[name]) for m in masks)
    again = sensitivity.size_matched_controls(groups, repeats=3, seed=1)
    assert all(torch.equal(a, b) for k in controls for a, b in zip(controls[k], again[k]))   # reproducible
    with pytest.raises(ValueError, match="non-empty"):
        sensitivity.size_matched_controls({})
    with pytest.raises(ValueError, match="one length"):
        sensitivity.size_matched_controls({"a": torch.ones(3, dtype=torch.bool), "b": torch.ones(4, dtype=torch.bool)})
    with pytest.raises(ValueError, match="repeats"):
        sensitivity.size_matched_controls(groups, repeats=0)


def test_data_refined_with_controls(grok):
    groups = sensitivity.mirror_groups(grok)
    big = {k: v for k, v in groups.items() if int(v.sum()) >= 2}
    dr = sensitivity.data_refined(grok, SAMPLER, [20, 60], big, repeats=2, progress=False)
    assert set(dr.groups) == set(big) and all(len(c) == 2 for c in dr.controls.values())
    name = next(iter(big))
    d, lo, hi = dr.excess(name, 20)
    subsets = np.array([c.at(20) for c in dr.controls[name]])      # one value per random subset
    assert d == pytest.approx(dr.groups[name].per_chain[0].mean() - subsets.mean()) and lo < d < hi
    # the control's error is the spread between the subsets, not their pooled chains'
    own = dr.groups[name].per_chain[0]
    se = math.hypot(own.std(ddof=1) / math.sqrt(len(own)), subsets.std(ddof=1) / math.sqrt(len(subsets)))
    assert (hi - lo) / 2 > 2 * se                                    # t with few df is wider than 2 s.e.
    below, total = dr.rank(name, 20)
    assert total == 2 and below == int((subsets < dr.groups[name].at(20)).sum())
    assert name in dr.table() and "subsets below" in dr.table()
    fewer = sensitivity.data_refined(grok, SAMPLER, [20], big, repeats=2, control_chains=3, progress=False)
    assert all(c.num_chains == 3 for cs in fewer.controls.values() for c in cs)
    assert fewer.groups[name].num_chains == SAMPLER["num_chains"]
    with pytest.raises(ValueError, match="repeats"):
        sensitivity.data_refined(grok, SAMPLER, [20], big, repeats=1, progress=False)
    # the group's estimate really is on its own rows: nβ held at the whole set's, data = those rows
    t = dr.groups[name]
    assert t.settings["nbeta"] == pytest.approx(T.default_nbeta(len(grok.data[0])))
    sub = tuple(x[big[name]] for x in grok.data)
    from course_lib.slt.estimator import estimate_llc
    batch = min(SAMPLER["batch_size"], int(big[name].sum()))
    ref = estimate_llc(grok.model_at(20), grok.loss_fn, sub, **{**t.settings, "batch_size": batch})
    assert ref.mean == pytest.approx(t.at(20))


def test_masks_are_checked_and_keyed_by_their_rows(grok):
    n = len(grok.data[0])
    m1 = torch.zeros(n, dtype=torch.bool)
    m1[:4] = True
    m2 = torch.zeros(n, dtype=torch.bool)
    m2[4:8] = True
    a = T.llc_trajectory(grok, SAMPLER, steps=[20], subset="x", mask=m1, progress=False)
    b = T.llc_trajectory(grok, SAMPLER, steps=[20], subset="x", mask=m2, progress=False)
    assert a.at(20) != b.at(20)                                    # same label, other rows: not the cache's
    with pytest.raises(ValueError, match="label"):
        T.llc_trajectory(grok, SAMPLER, steps=[20], mask=m1, progress=False)
    with pytest.raises(TypeError, match="boolean"):
        T.llc_trajectory(grok, SAMPLER, steps=[20], subset="x", mask=m1.int(), progress=False)
    with pytest.raises(ValueError, match="rows"):
        T.llc_trajectory(grok, SAMPLER, steps=[20], subset="x", mask=m1[:-1], progress=False)
    one = torch.zeros(n, dtype=torch.bool)
    one[0] = True
    with pytest.raises(ValueError, match="≥ 2"):
        T.llc_trajectory(grok, SAMPLER, steps=[20], subset="x", mask=one, progress=False)
    with pytest.raises(ValueError, match="final data"):
        T.llc_trajectory(grok, SAMPLER, steps=[20], subset="x", mask=m1, final_data=True, progress=False)
    with pytest.raises(TypeError, match="final_data"):
        T.llc_trajectory(grok, SAMPLER, steps=[20], final_data="yes", progress=False)
    with pytest.raises(ValueError, match="grokking"):
        sensitivity.mirror_groups(type(grok)(**{**grok.__dict__, "name": "colour"}))


# --------------------------------------------------------------------------- γ sweep and locality
def test_gamma_sweep(grok):
    sw = sensitivity.gamma_sweep(grok, SAMPLER, [100.0, 1000.0], [20, 40, 60], progress=False)
    assert sw.mean.shape == sw.sem.shape == sw.excess_loss.shape == (2, 3)
    np.testing.assert_allclose(sw.excess_loss, sw.mean / SAMPLER_NBETA(grok))
    assert [t.settings["gamma"] for t in sw.trajectories] == [100.0, 1000.0]
    assert all(t.settings["epsilon"] == SAMPLER["epsilon"] for t in sw.trajectories)
    assert sw.chance == pytest.approx(T.untrained_loss(grok))
    np.testing.assert_allclose(sw.locality(), sw.excess_loss / (sw.chance - sw.init_loss)[None, :])
    drop, half = sw.fall(20, 60)
    np.testing.assert_allclose(drop, sw.mean[:, 0] - sw.mean[:, 2])
    assert np.all(half > 2 * np.hypot(sw.sem[:, 0], sw.sem[:, 2]))     # t quantile of few chains > 2
    assert "γ" in sw.table() and isinstance(transition_plots.plot_gamma_sweep(sw), Figure)
    # the γ = 100 row is the trajectory of that setting: shared through the cache
    t = T.llc_trajectory(grok, SAMPLER, steps=[20, 40, 60], progress=False)
    np.testing.assert_array_equal(t.mean, sw.mean[0])
    for bad, err in (([], ValueError), ([100.0, 100.0], ValueError), ([0.0], ValueError), ("100", TypeError)):
        with pytest.raises(err):
            sensitivity.gamma_sweep(grok, SAMPLER, bad, [20], progress=False)
    with pytest.raises(TypeError, match="GammaSweep"):
        transition_plots.plot_gamma_sweep(t)


def SAMPLER_NBETA(run):
    return T.default_nbeta(len(run.data[0]))


def test_untrained_loss_is_about_log_p(grok):
    assert T.untrained_loss(grok) == pytest.approx(math.log(7), rel=0.3)
    with pytest.raises(ValueError):
        T.untrained_loss(grok, step=13)


def test_resolve_steps(grok):
    import dataclasses

    run = dataclasses.replace(grok, phases={"reached": 37, "never": None})
    assert T.resolve_steps(run, [20, "reached"]) == [20, 40]
    for bad in (["not a phase"], ["never"]):
        with pytest.raises(ValueError):
            T.resolve_steps(run, bad)
    with pytest.raises(ValueError):
        T.resolve_steps(grok, [13])


def test_profile_gamma_sweeps_name_checkpoints_of_the_runs():
    for profile in ("quick", "standard", "full"):
        g = T.phase_settings(profile)["grokking"]
        assert len(g["gamma_sweep"]["steps"]) >= 3 and len(g["gamma_sweep"]["gammas"]) >= 2
        assert g["sampler"]["gamma"] in g["gamma_sweep"]["gammas"]   # the trajectory's γ is one of them


# --------------------------------------------------------------------------- anchored on the final data
def test_anchored_on_the_final_data(anchored):
    steps = [int(s) for s in anchored.checkpoint_steps[1:]]
    own = T.llc_trajectory(anchored, {**SAMPLER, "batch_size": None}, steps=steps, progress=False)
    fin = T.llc_trajectory(anchored, {**SAMPLER, "batch_size": None}, steps=steps, final_data=True, progress=False)
    assert fin.final_data and not own.final_data
    final = anchored.data_at(anchored.final_step)
    from course_lib.slt.estimator import estimate_llc
    ref = estimate_llc(anchored.model_at(steps[0]), anchored.loss_fn, final, **{**fin.settings})
    assert ref.mean == pytest.approx(fin.at(steps[0]))
    assert fin.at(steps[-1]) == own.at(steps[-1])                  # the last checkpoint: the same data
    if len(anchored.data_at(steps[0])[0]) != len(final[0]):
        assert fin.init_loss[0] != own.init_loss[0]


# --------------------------------------------------------------------------- figures
def test_llc_against_a_probe(grok):
    t = T.llc_trajectory(grok, SAMPLER, progress=False)
    assert isinstance(transition_plots.plot_llc_against(grok, t, "train_loss"), Figure)
    with pytest.raises(ValueError, match="probe"):
        transition_plots.plot_llc_against(grok, t, "nope")
    with pytest.raises(TypeError):
        transition_plots.plot_llc_against(grok, "t")


# --------------------------------------------------------------------------- checkers
def test_new_checkers_pass_their_solutions():
    assert X.check_chain_interval(X.solution_chain_interval, quiet=True).passed
    assert X.check_trend_signs(X.solution_trend_signs, quiet=True).passed


def _z_interval(x, level=0.95):
    x = np.asarray(x, float)
    if len(x) < 2:
        raise ValueError
    h = 2 * x.std(ddof=1) / math.sqrt(len(x))
    return x.mean() - h, x.mean() + h


def _ddof0(x, level=0.95):
    x = np.asarray(x, float)
    if len(x) < 2:
        raise ValueError
    h = stats.t_quantile(0.5 + level / 2, len(x) - 1) * x.std() / math.sqrt(len(x))
    return x.mean() - h, x.mean() + h


def _std_not_sem_interval(x, level=0.95):
    x = np.asarray(x, float)
    if len(x) < 2:
        raise ValueError
    h = stats.t_quantile(0.5 + level / 2, len(x) - 1) * x.std(ddof=1)
    return x.mean() - h, x.mean() + h


def _one_sided(x, level=0.95):
    x = np.asarray(x, float)
    if len(x) < 2:
        raise ValueError
    h = stats.t_quantile(level, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x))
    return x.mean() - h, x.mean() + h


def _df_is_chains(x, level=0.95):
    x = np.asarray(x, float)
    if len(x) < 2:
        raise ValueError
    h = stats.t_quantile(0.5 + level / 2, len(x)) * x.std(ddof=1) / math.sqrt(len(x))
    return x.mean() - h, x.mean() + h


def _ignores_level(x, level=0.95):
    return X.solution_chain_interval(x, 0.95)


def _no_error_for_one(x, level=0.95):
    x = np.asarray(x, float)
    if len(x) < 2:
        return float(x[0]), float(x[0])
    return X.solution_chain_interval(x, level)


def _library(x, level=0.95):
    return stats.t_interval(x, level)


@pytest.mark.parametrize("wrong", [_z_interval, _ddof0, _std_not_sem_interval, _one_sided, _df_is_chains,
                                   _ignores_level, _no_error_for_one, _library, lambda x, level=0.95: (0, 1),
                                   lambda x, level=0.95: 1 / 0])
def test_chain_interval_checker_rejects_wrong_answers(wrong):
    assert not X.check_chain_interval(wrong, quiet=True).passed


def _signs(q_of, noise_of):
    def attempt(t, level=0.95):
        out = []
        for k in range(len(t.steps) - 1):
            change = t.mean[k + 1] - t.mean[k]
            noise = q_of(t, level) * noise_of(t, k)
            out.append(1 if change > noise else -1 if change < -noise else 0)
        return out
    return attempt


_quad = lambda t, k: math.sqrt(t.sem[k] ** 2 + t.sem[k + 1] ** 2)
_right_q = lambda t, level: stats.t_quantile(0.5 + level / 2, 2 * (t.num_chains - 1))


@pytest.mark.parametrize("wrong", [
    _signs(lambda t, level: 2.0, _quad),                                                  # ± 2 s.e.
    _signs(_right_q, lambda t, k: math.sqrt(t.std[k] ** 2 + t.std[k + 1] ** 2)),          # std, not sem
    _signs(lambda t, level: stats.t_quantile(0.975, 2 * (t.num_chains - 1)), _quad),          # ignores level
    _signs(lambda t, level: stats.t_quantile(0.5 + level / 2, t.num_chains - 1), _quad),      # df C − 1
    _signs(_right_q, lambda t, k: t.sem[k]),                                              # one error only
    _signs(lambda t, level: 0.0, _quad),                                                  # no noise at all
    lambda t, level=0.95: [-s for s in X.solution_trend_signs(t, level)],                 # signs flipped
    lambda t, level=0.95: X.solution_trend_signs(t, level)[:-1],                          # one short
    lambda t, level=0.95: None,
])
def test_trend_signs_checker_rejects_wrong_answers(wrong):
    assert not X.check_trend_signs(wrong, quiet=True).passed


# --------------------------------------------------------------------------- the γ prediction
def _gamma_sweep(rows):
    trajs = [X._traj(list(r), [0.5] * len(r), chains=4, steps=(40, 80, 700, 1800)) for r in rows]
    return sensitivity.GammaSweep(run="grokking", gammas=np.array([100.0, 1000.0][:len(rows)]),
                                  steps=np.array([40, 80, 700, 1800]), trajectories=trajs, chance=4.0)


def test_gamma_prediction_is_checked_against_the_sweep():
    # γ = 1000 lowers every checkpoint, far more where λ̂ is small; rise-then-fall at both
    sweep = _gamma_sweep([[100, 420, 106, 40], [20, 44, 8, 2]])
    right = {"direction": "down", "same_factor": False, "ordering_survives": True}
    assert X.gamma_verdict(sweep) == right
    assert X.check_gamma_prediction(right, sweep, quiet=True).passed
    # subtly wrong: the common intuition that γ rescales every λ̂ alike
    assert not X.check_gamma_prediction({**right, "same_factor": True}, sweep, quiet=True).passed
    assert not X.check_gamma_prediction({**right, "direction": "up"}, sweep, quiet=True).passed
    # a proportional change is "same factor"; a reversed ordering does not survive
    assert X.gamma_verdict(_gamma_sweep([[100, 400, 100, 40], [50, 200, 50, 20]]))["same_factor"] is True
    flipped = _gamma_sweep([[100, 420, 106, 40], [20, 10, 30, 2]])
    assert X.gamma_verdict(flipped)["ordering_survives"] is False
    assert X.gamma_verdict(flipped)["direction"] == "down"
    assert X.gamma_verdict(_gamma_sweep([[10, 20, 10, 5], [20, 10, 30, 2]]))["direction"] == "mixed"


def test_gamma_prediction_form():
    ok = {"direction": "down", "same_factor": False, "ordering_survives": True}
    assert X.check_gamma_prediction_form(ok, quiet=True).passed
    for bad in ({**ok, "same_factor": None},                  # not yet written
                {**ok, "direction": "lower"},                 # not one of the answers
                {**ok, "same_factor": 0},                     # 0 is not False
                {**ok, "extra": 1},
                ["down", False, True]):
        assert not X.check_gamma_prediction_form(bad, quiet=True).passed, bad
    # an unwritten prediction fails the final check without raising (the notebook still runs)
    sweep = _gamma_sweep([[100, 420, 106, 40], [20, 44, 8, 2]])
    assert not X.check_gamma_prediction(dict.fromkeys(ok), sweep, quiet=True).passed


# --------------------------------------------------------------------------- burn-in against τ
def test_burnin_check_remeasures_one_checkpoint_with_a_longer_burnin(grok):
    bc = sensitivity.burnin_check(grok, SAMPLER, 20, factor=0.5, progress=False)
    tau = 2 / (SAMPLER["epsilon"] * SAMPLER["gamma"])
    assert bc.tau == pytest.approx(tau, rel=1e-2)        # −1/log(1 − εγ/2) ≈ 2/(εγ)
    assert bc.short.settings["num_burnin"] == SAMPLER["num_burnin"]
    assert bc.long.settings["num_burnin"] == math.ceil(0.5 * bc.tau)
    assert bc.long.settings["num_draws"] == bc.short.settings["num_draws"]      # only the burn-in differs
    short = T.llc_trajectory(grok, SAMPLER, steps=[20], progress=False)
    assert bc.short.at(20) == short.at(20)                                      # the setting's own estimate
    d, lo, hi = bc.difference()
    assert d == pytest.approx(bc.long.at(20) - bc.short.at(20)) and lo < d < hi
    pairs = bc.long.per_chain[0] - bc.short.per_chain[0]             # same seed: chain k continued
    half = stats.t_quantile(0.975, len(pairs) - 1) * pairs.std(ddof=1) / math.sqrt(len(pairs))
    assert (hi - lo) / 2 == pytest.approx(half)
    assert "τ" in str(bc)
    with pytest.raises(ValueError, match="relaxation"):
        sensitivity.burnin_check(grok, {**SAMPLER, "gamma": 0.0}, 20, progress=False)
    with pytest.raises(ValueError, match="factor"):
        sensitivity.burnin_check(grok, SAMPLER, 20, factor=0, progress=False)


# --------------------------------------------------------------------------- λ̂ at matched loss
def test_matched_loss_scales_the_output_to_an_earlier_loss(grok):
    early = T.data_loss(grok, grok.model_at(20), grok.data)
    late = T.data_loss(grok, grok.model_at(60), grok.data)
    assert late < early
    m = sensitivity.matched_loss(grok, SAMPLER, 60, early, use_cache=False)
    assert 0 < m.scale < 1 and m.loss == pytest.approx(early, rel=1e-6)
    assert m.result.init_loss == pytest.approx(early, rel=1e-5)        # the chains start from the matched loss
    assert m.result.num_chains == SAMPLER["num_chains"] and m.half_width() > 0
    # only the unembedding was scaled
    scaled = sensitivity._scaled(grok, 60, grok.groups["unembedding"], m.scale)
    orig = dict(grok.model_at(60).named_parameters())
    for name, p in scaled.named_parameters():
        factor = m.scale if name in grok.groups["unembedding"] else 1.0
        assert torch.allclose(p, orig[name] * factor), name
    with pytest.raises(ValueError, match="already above"):
        sensitivity.matched_loss(grok, SAMPLER, 20, late, use_cache=False)
    with pytest.raises(ValueError, match="group"):
        sensitivity.matched_loss(grok, SAMPLER, 60, early, group="nope", use_cache=False)
    with pytest.raises(ValueError, match="target_loss"):
        sensitivity.matched_loss(grok, SAMPLER, 60, -1.0, use_cache=False)
