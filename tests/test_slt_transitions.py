"""Chapter 5.3: the course runs seen by the LLC, trajectories, stage boundaries, refined LLCs, checker."""

import math

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from course_lib.slt import boundaries, course_models, transitions as T
from course_lib.slt import transition_exercises as X
from course_lib.slt import transition_plots
from course_lib.slt.boundaries import Boundary
from course_lib.slt.transitions import LLCTrajectory
from slt_tools import anchored, cache_dir, grok  # noqa: F401 (fixtures)

SAMPLER = dict(gamma=100.0, num_chains=2, num_burnin=5, num_draws=10, batch_size=8)


@pytest.fixture(scope="module")
def colour(cache_dir):
    from course_lib.color import train

    mp = pytest.MonkeyPatch()
    mp.setitem(train.PROFILE_SETTINGS, "quick", {**train.PROFILE_SETTINGS["quick"], "epochs": 40, "n_snapshots": 5})
    run = course_models.colour_run(seed=0, profile="quick", progress=False)
    mp.undo()
    return run


# --------------------------------------------------------------------------- adapters
def _names(model):
    return [n for n, _ in model.named_parameters()]


def test_grokking_adapter_measures_the_training_pairs(grok):
    source = grok.source
    assert list(grok.checkpoint_steps) == [0, 20, 40, 60] and grok.unit == "step"
    assert grok.checkpoint_steps.dtype == np.int64 and grok.loss_fn is source.loss_fn
    pairs, labels = grok.data
    assert len(pairs) == int(source.train_mask.sum()) and grok.data_at(20)[0] is pairs
    assert torch.equal(pairs, source.data.train_pairs)          # the training pairs, never the test pairs
    model, reference = grok.model_at(40), source.model_at(40)
    torch.testing.assert_close(model(pairs), reference(pairs))
    from course_lib.modular.model import cross_entropy
    with torch.no_grad():
        assert float(grok.loss_fn(model, grok.data)) == pytest.approx(float(cross_entropy(reference(pairs), labels)))
    # vmap over per-chain minibatches works (the chapter's own model refuses it)
    batches = pairs[torch.stack([torch.arange(4), torch.arange(4, 8)])]
    out = torch.vmap(model)(batches)
    assert out.shape == (2, 4, 7)
    assert set(grok.probes) >= {"train_loss", "test_loss", "test_acc"}
    assert all(len(v) == len(grok.checkpoint_steps) for v in grok.probes.values())
    assert set(grok.phases) == {"memorisation_end", "circuit_formation_end", "cleanup_end", "grokked"}


def test_groups_partition_the_parameters(grok, colour, anchored):
    for run in (grok, colour, anchored):
        names = _names(run.model_at(run.final_step))
        grouped = [n for g in run.groups.values() for n in g]
        assert sorted(grouped) == sorted(names), run.name
        total = sum(p.numel() for p in run.model_at(run.final_step).parameters())
        assert sum(run.group_size(g) for g in run.groups) == total, run.name     # sizes partition too
    with pytest.raises(ValueError, match="group"):
        grok.group_size("nope")


def test_subsets_partition_the_training_rows(grok, colour):
    masks = list(grok.subsets.values())
    assert (masks[0] ^ masks[1]).all()
    total = sum(int(m.sum()) for m in colour.subsets.values())
    assert total == len(colour.data[0])
    reds = colour.subset("reds (300°–60°)")[0]
    assert reds.shape[1] == 3 and bool((reds[:, 0] >= reds[:, 2]).all())
    with pytest.raises(ValueError, match="subset must be one of"):
        grok.subset("test pairs")


def test_colour_adapter(colour):
    assert list(colour.checkpoint_steps) == list(colour.source.checkpoint_steps) and colour.unit == "epoch"
    model = colour.model_at(int(colour.checkpoint_steps[1]))
    (x,) = colour.data
    with torch.no_grad():
        assert float(colour.loss_fn(model, (x,))) == pytest.approx(
            float(torch.mean((model(x)[0] - x) ** 2)))
    assert colour.probes["hue_order"][1] == pytest.approx(colour.source.hue_order(1))
    assert "wheel_formed" in colour.phases


def test_anchored_adapter_follows_the_curriculum(anchored):
    first, last = anchored.data_at(0)[0], anchored.data_at(anchored.final_step)[0]
    assert len(first) == 36 and len(last) == 3600
    with torch.no_grad():
        loss = anchored.loss_fn(anchored.model_at(anchored.final_step), (last,))
    assert loss.ndim == 0 and math.isfinite(float(loss))
    assert anchored.phases["data first widen"] is not None and "red anchored" in anchored.phases
    assert len(anchored.probes["red_cos"]) == len(anchored.checkpoint_steps)


def test_run_lookups(grok):
    assert grok.checkpoint_index(40) == 2 and grok.nearest_step(33) == 40
    with pytest.raises(ValueError, match="step 30 was not saved; the nearest checkpoints are 20 and 40"):
        grok.checkpoint_index(30)
    with pytest.raises(TypeError, match="step"):
        grok.checkpoint_index(2.0)
    with pytest.raises(ValueError, match="probe"):
        grok.probe_at("nope", 20)
    with pytest.raises(TypeError, match="seed"):
        course_models.grokking_run(seed="0")


# --------------------------------------------------------------------------- trajectories
def test_trajectory_shapes_fixed_setting_and_cache(grok, monkeypatch):
    settings = {**SAMPLER, "epsilon": 1e-4}
    t = T.llc_trajectory(grok, settings, progress=False)
    assert list(t.steps) == [20, 40, 60]                      # step 0 skipped: not near a minimum
    assert t.mean.shape == (3,) and t.per_chain.shape == (3, 2) and np.all(np.isfinite(t.mean))
    n = len(grok.data[0])
    assert t.settings["nbeta"] == pytest.approx(n / math.log(n))
    assert t.interval(40)[0] < t.at(40) < t.interval(40)[1]
    monkeypatch.setattr(T, "estimate_llc", lambda *a, **k: (_ for _ in ()).throw(AssertionError("recomputed")))
    again = T.llc_trajectory(grok, settings, progress=False)
    np.testing.assert_array_equal(again.mean, t.mean)


def test_refined_trajectories(grok):
    settings = {**SAMPLER, "epsilon": 1e-4}
    refined = T.refined_llcs(grok, settings, [20, 60], progress=False)
    assert set(refined.weight) == set(grok.groups) and set(refined.data) == set(grok.subsets)
    assert refined.weight["MLP"].params == grok.groups["MLP"]
    nb = refined.data["mirror held out"].settings["nbeta"]
    assert nb == pytest.approx(refined.weight["MLP"].settings["nbeta"])   # nβ held at the whole set's
    change = refined.change("weight", 20, 60)
    assert set(change) == set(grok.groups)
    with pytest.raises(ValueError, match="kind"):
        refined.change("layers", 20, 60)


def test_trajectory_bad_input(grok):
    good = {**SAMPLER, "epsilon": 1e-4}
    with pytest.raises(ValueError, match="epsilon"):
        T.llc_trajectory(grok, SAMPLER, progress=False)
    with pytest.raises(ValueError, match="unknown sampler"):
        T.llc_trajectory(grok, {**good, "lr": 1}, progress=False)
    with pytest.raises(ValueError, match="group must be one of"):
        T.llc_trajectory(grok, good, group="decoder", progress=False)
    with pytest.raises(ValueError, match="subset must be one of"):
        T.llc_trajectory(grok, good, subset="test", progress=False)
    with pytest.raises(ValueError, match="step 30 was not saved"):
        T.llc_trajectory(grok, good, steps=[30], progress=False)
    with pytest.raises(ValueError, match="every"):
        T.llc_trajectory(grok, good, every=0, progress=False)
    with pytest.raises(ValueError, match="epsilon must be"):
        T.llc_trajectory(grok, {**good, "epsilon": -1.0}, progress=False)
    with pytest.raises(TypeError, match="CourseRun"):
        T.llc_trajectory("grokking", good)


def test_choose_epsilon_keeps_the_largest_usable_step(grok):
    sweep = T.choose_epsilon(grok, [1e-4, 3e-4, 1e3], progress=False, **SAMPLER)
    assert not sweep.stable[-1] and sweep.traces[-1] is None          # ε = 1000 diverges
    assert sweep.chosen is None or bool(sweep.stable[list(sweep.epsilons).index(sweep.chosen)])
    assert "diverged" in sweep.table()
    with pytest.raises(ValueError, match="epsilons"):
        T.choose_epsilon(grok, [], progress=False, **SAMPLER)
    with pytest.raises(ValueError, match="flat_tol"):
        T.choose_epsilon(grok, [1e-4], flat_tol=2.0, progress=False, **SAMPLER)


class _Fake:
    """What choose_epsilon reads from an estimate: a loss trace with a chosen level and drift."""

    def __init__(self, level, drift, chains=4, draws=100, nbeta=10.0):
        ramp = np.linspace(-drift / 2, drift / 2, draws) / nbeta
        wiggle = 1e-3 * np.sin(np.arange(chains)[:, None] + np.arange(draws)[None, :])
        self.loss_trace = level / nbeta + ramp[None, :] + wiggle
        self.burnin_trace = np.zeros((chains, 10))
        self.nbeta, self.init_loss, self.num_draws = nbeta, 0.0, draws
        per = nbeta * self.loss_trace.mean(1)
        self.mean, self.std = float(per.mean()), float(per.std(ddof=1))


def test_the_epsilon_rule_flat_plateau_and_divergence(grok, monkeypatch):
    answers = {1e-5: _Fake(10.0, 5.0), 3e-5: _Fake(10.0, 0.1), 1e-4: _Fake(11.0, 0.2),
               3e-4: _Fake(30.0, 0.2), 1e-3: None}

    def fake(run, step, sampler, params, subset, use_cache=True):
        res = answers[sampler["epsilon"]]
        if res is None:
            raise T.ChainDivergedError("boom")
        return res

    monkeypatch.setattr(T, "_estimate", fake)
    sweep = T.choose_epsilon(grok, list(answers), use_cache=False, progress=False, **SAMPLER)
    assert sweep.flat.tolist() == [False, True, True, True, False]      # 1e-5 still drifting
    assert sweep.plateau.tolist()[1:4] == [True, True, False]          # 3e-4 inflated vs 1e-4
    assert sweep.chosen == 1e-4
    assert "inflated" in sweep.table() and "still drifting" in sweep.table() and "← chosen" in sweep.table()


# --------------------------------------------------------------------------- boundaries
def _noisy(y, sigma, seed=0):
    return np.asarray(y) + sigma * np.random.default_rng(seed).standard_normal(len(y))


def test_rise_fall_settle_is_found_where_it_was_put():
    steps = np.r_[np.arange(20, 200, 20), np.arange(200, 2001, 80)]       # dense early, as in notebook 5.3
    y = np.where(steps <= 100, 4 * steps, np.where(steps <= 1320, 400 - 350 * (steps - 100) / 1220, 50.0))
    for seed in range(5):
        found = boundaries.detect_boundaries(steps, _noisy(y, 5.0, seed))
        kinds = [b.kind for b in found]
        assert kinds == ["peak", "settles"], found
        assert abs(found[0].step - 100) <= 40 and abs(found[1].step - 1320) <= 160, found


def test_flat_rise_flat_and_a_monotone_line():
    steps = np.arange(0, 2100, 100)
    y = np.clip((steps - 500) / 900, 0, 1) * 40 + 5
    found = boundaries.detect_boundaries(steps, y)
    assert [b.kind for b in found] == ["starts rising", "settles"], found
    assert abs(found[0].step - 500) <= 100 and abs(found[1].step - 1400) <= 100
    assert boundaries.detect_boundaries(steps, 3.0 * steps) == []                     # one stage, no boundary
    assert boundaries.detect_boundaries(steps, np.full(len(steps), 7.0)) == []
    trough = boundaries.detect_boundaries(steps, np.abs(steps - 1000.0))
    assert [b.kind for b in trough] == ["trough"] and trough[0].step == 1000


def test_a_single_noisy_interval_is_not_a_stage():
    steps = np.arange(20)
    y = np.r_[np.linspace(0, 100, 10), np.linspace(100, 200, 10)]
    y[12] += 30                                                             # one outlier
    assert all(b.kind != "peak" for b in boundaries.detect_boundaries(steps, y, smooth=1))


def test_boundary_bad_input():
    with pytest.raises(ValueError, match="at least 3"):
        boundaries.detect_boundaries([0, 1], [1, 2])
    with pytest.raises(ValueError, match="finite"):
        boundaries.detect_boundaries([0, 1, 2], [1, np.nan, 2])
    with pytest.raises(ValueError, match="increase"):
        boundaries.detect_boundaries([0, 2, 1], [1, 2, 3])
    with pytest.raises(ValueError, match="same length"):
        boundaries.detect_boundaries([0, 1, 2], [1, 2])
    with pytest.raises(ValueError, match="window"):
        boundaries.detect_boundaries([0, 1, 2], [1, 2, 3], smooth=2)
    with pytest.raises(ValueError, match="flat"):
        boundaries.detect_boundaries([0, 1, 2], [1, 2, 3], flat=0)
    with pytest.raises(ValueError, match="min_run"):
        boundaries.detect_boundaries([0, 1, 2], [1, 2, 3], min_run=0)


def test_alignment_distances():
    bounds = [Boundary(step=80, index=3, kind="peak"), Boundary(step=1100, index=11, kind="settles")]
    steps = [20, 40, 60, 80, 120, 240, 380, 540, 700, 900, 1000, 1100, 1360]
    rows = boundaries.align_boundaries(bounds, {"memorisation_end": 120, "cleanup_end": 1360, "never": None}, steps)
    assert [r["phase"] for r in rows] == ["memorisation_end", "cleanup_end"]
    assert rows[0]["llc_step"] == 80 and rows[0]["distance_steps"] == -40 and rows[0]["distance_checkpoints"] == -1
    assert rows[1]["kind"] == "settles" and rows[1]["distance_checkpoints"] == -1
    assert boundaries.align_boundaries([], {"a": 5}, steps)[0]["llc_step"] is None
    with pytest.raises(TypeError, match="mapping"):
        boundaries.align_boundaries(bounds, [120], steps)


def _synthetic(values, stds, chains=4, steps=(100, 500, 900)):
    return X._traj(list(values), list(stds), chains=chains, steps=steps)


def test_boundary_spread_from_the_chains():
    steps = np.arange(0, 2000, 100)
    base = np.where(steps <= 500, steps / 5.0, np.maximum(100 - (steps - 500) / 8.0, 0))
    per = np.stack([base + 0.5 * c for c in range(3)], axis=1)
    t = LLCTrajectory(run="s", steps=steps, mean=per.mean(1), std=per.std(1, ddof=1), per_chain=per,
                      init_loss=np.zeros(len(steps)), settings={})
    spread = boundaries.boundary_spread(t, 500, "peak")
    assert spread.shape == (3,) and np.all(np.abs(spread - 500) <= 100)   # smoothing: within a checkpoint
    assert np.isnan(boundaries.boundary_spread(t, 500, "trough")).all()


# --------------------------------------------------------------------------- the exercise checker
def test_checker_passes_the_solution():
    assert X.check_biggest_drop(X.solution_biggest_drop, quiet=True).passed


def _wrong_sign(trajs, start, end):
    name, drop = X.solution_biggest_drop({k: _negated(t) for k, t in trajs.items()}, start, end)
    return name, -drop if name else drop


def _negated(t):
    return LLCTrajectory(run=t.run, steps=t.steps, mean=-t.mean, std=t.std, per_chain=-t.per_chain,
                         init_loss=t.init_loss, settings={})


def _relative(trajs, start, end):
    rel = {k: (t.at(start) - t.at(end)) / t.at(start) for k, t in trajs.items()}
    best = max(rel, key=rel.get)
    return best, trajs[best].at(start) - trajs[best].at(end)


def _no_noise_test(trajs, start, end):
    drops = {k: t.at(start) - t.at(end) for k, t in trajs.items()}
    best = max(drops, key=drops.get)
    return best, drops[best]


def _std_not_sem(trajs, start, end):
    drops = {k: t.at(start) - t.at(end) for k, t in trajs.items()}
    order = sorted(drops, key=drops.get, reverse=True)
    if len(order) == 1:
        return order[0], drops[order[0]]
    a, b = (trajs[k] for k in order[:2])
    idx = lambda t, s: int(np.flatnonzero(t.steps == s)[0])
    noise = sum(t.std[idx(t, s)] ** 2 for t in (a, b) for s in (start, end))
    return (order[0] if drops[order[0]] - drops[order[1]] > 2 * math.sqrt(noise) else None), drops[order[0]]


def _whole_run(trajs, start, end):
    return X.solution_biggest_drop(trajs, int(next(iter(trajs.values())).steps[0]),
                                   int(next(iter(trajs.values())).steps[-1]))


def _largest_at_start(trajs, start, end):
    best = max(trajs, key=lambda k: trajs[k].at(start))
    return best, trajs[best].at(start) - trajs[best].at(end)


def _one_group_is_noise(trajs, start, end):
    if len(trajs) == 1:
        return None, X.solution_biggest_drop(trajs, start, end)[1]
    return X.solution_biggest_drop(trajs, start, end)


@pytest.mark.parametrize("wrong", [_wrong_sign, _relative, _no_noise_test, _std_not_sem, _whole_run,
                                   _largest_at_start, _one_group_is_noise, lambda t, s, e: "MLP"])
def test_checker_rejects_subtle_wrong_answers(wrong):
    assert not X.check_biggest_drop(wrong, quiet=True).passed


# --------------------------------------------------------------------------- figures
def test_figures(grok):
    settings = {**SAMPLER, "epsilon": 1e-4}
    t = T.llc_trajectory(grok, settings, progress=False)
    bounds = [Boundary(step=40, index=1, kind="peak")]
    fig = transition_plots.plot_llc_trajectory(grok, [t, t], probes=["test_loss", "test_acc"], boundaries=bounds)
    assert isinstance(fig, Figure) and len(fig.axes) == 3
    refined = T.refined_llcs(grok, settings, [20, 60], subsets=[], progress=False)
    assert isinstance(transition_plots.plot_refined(refined, "weight", phases={"x": 40}), Figure)
    with pytest.raises(ValueError, match="no data-refined"):
        transition_plots.plot_refined(refined, "data")
    sweep = T.choose_epsilon(grok, [1e-4, 1e3], progress=False, **SAMPLER)
    assert isinstance(transition_plots.plot_epsilon_sweep(sweep), Figure)
    with pytest.raises(ValueError, match="probe"):
        transition_plots.plot_llc_trajectory(grok, t, probes=["nope"])
    with pytest.raises(ValueError, match="empty"):
        transition_plots.plot_llc_trajectory(grok, [])
    with pytest.raises(TypeError, match="EpsilonSweep"):
        transition_plots.plot_epsilon_sweep(t)


def test_profile_settings_name_real_checkpoints_and_phases(grok):
    for profile in ("quick", "standard", "full"):
        cfg = T.phase_settings(profile)
        assert set(cfg) == {"grokking", "colour", "anchored"}
        assert set(cfg["grokking"]["refined_at"]) <= set(grok.phases)
        for steps in [cfg["grokking"].get("steps")]:
            if steps is not None:
                assert all(s % 20 == 0 for s in steps) and steps == sorted(steps)


def test_a_repeated_estimate_is_reused_not_resampled(grok, monkeypatch):
    sampler = T.sampler_settings({**SAMPLER, "epsilon": 1e-4}, grok)
    first = T._estimate(grok, 40, sampler, None, None)
    monkeypatch.setattr(T, "estimate_llc", lambda *a, **k: (_ for _ in ()).throw(AssertionError("recomputed")))
    again = T._estimate(grok, 40, dict(sampler), None, None)
    np.testing.assert_array_equal(again.per_chain, first.per_chain)
    with pytest.raises(AssertionError, match="recomputed"):            # any other setting samples anew
        T._estimate(grok, 40, {**sampler, "seed": sampler["seed"] + 1}, None, None)
    with pytest.raises(AssertionError, match="recomputed"):            # and use_cache=False always does
        T._estimate(grok, 40, sampler, None, None, use_cache=False)
