"""Deleting a latent dimension, the anti-subspace term, and the recovery step."""

from __future__ import annotations

import pytest
import numpy as np
import torch

from course_lib.color import ColorAutoencoder
from course_lib.curriculum.deletion import (
    away_from_subspace,
    delete_dimension,
    deleted_dimensions,
    recovery_step,
)


def model():
    torch.manual_seed(0)
    return ColorAutoencoder(5, 16, True, "gelu")


def test_delete_zeroes_the_dimension_and_keeps_the_original():
    m = model()
    x = torch.rand(20, 3)
    before = m.encode(x).detach().clone()
    d = delete_dimension(m, 0)
    z = d.encode(x)
    assert torch.all(z[:, 0] == 0)
    torch.testing.assert_close(z.norm(dim=1), torch.ones(20))
    torch.testing.assert_close(m.encode(x).detach(), before)            # original untouched
    # the decoder ignores the deleted input
    zz = torch.randn(4, 5)
    zz2 = zz.clone()
    zz2[:, 0] = 7.0
    torch.testing.assert_close(d.decode(zz), d.decode(zz2))
    assert deleted_dimensions(d) == (0,) and deleted_dimensions(m) == ()


def test_deleted_dimension_stays_deleted_under_training():
    d = delete_dimension(model(), 2)
    opt = torch.optim.Adam(d.parameters(), lr=0.05)
    x = torch.rand(64, 3)
    for _ in range(30):
        recon, z = d(x)
        loss = ((recon - x) ** 2).mean() - z[:, 2].mean()     # even a term that wants dim 2
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert torch.all(d.encode(x)[:, 2] == 0)
    assert torch.all(d.decoder[0].weight[:, 2] == 0)


def test_delete_two_dimensions():
    d = delete_dimension(delete_dimension(model(), 0), 3)
    z = d.encode(torch.rand(5, 3))
    assert torch.all(z[:, [0, 3]] == 0) and deleted_dimensions(d) == (0, 3)


def test_bad_delete():
    with pytest.raises(ValueError, match="dim"):
        delete_dimension(model(), 5)
    with pytest.raises(TypeError, match="dim"):
        delete_dimension(model(), 0.0)
    with pytest.raises(TypeError, match="model"):
        delete_dimension(torch.nn.Linear(3, 3), 0)


def test_away_from_subspace_values():
    z = torch.tensor([[3.0, 1.0, 0.0], [2.0, 0.0, 1.0]])
    assert away_from_subspace(z, [0]).item() == pytest.approx((9 + 4) / 2)
    w = torch.tensor([1.0, 0.0])   # first sample may use dim 0
    assert away_from_subspace(z, [0], w).item() == pytest.approx(4.0)
    assert away_from_subspace(z, [0, 2], torch.tensor([0.5, 0.5])).item() == pytest.approx((9 + 5) / 2)
    assert away_from_subspace(z, [0], torch.ones(2)).item() == 0.0
    with pytest.raises(ValueError, match="dims"):
        away_from_subspace(z, [3])
    with pytest.raises(ValueError, match="weights"):
        away_from_subspace(z, [0], torch.tensor([2.0, 0.0]))


def test_recovery_step():
    steps = [0, 10, 20, 30, 40]
    assert recovery_step(steps, [0.5, 0.1, 0.3, 0.05, 0.04], 0.1) == 30   # must stay below
    assert recovery_step(steps, [0.05] * 5, 0.1) == 0
    assert recovery_step(steps, [0.5, 0.4, 0.3, 0.2, 0.15], 0.1) is None
    assert recovery_step(steps, [0.5, 0.4, 0.3, 0.2, 0.1], 0.1) == 40      # "within" includes equal
    with pytest.raises(ValueError, match="NaN"):
        recovery_step(steps, [0.1, float("nan"), 0, 0, 0], 0.1)
    with pytest.raises(ValueError, match="same"):
        recovery_step(steps, [0.1], 0.1)


def test_deletion_masks_match_delete_dimension():
    from course_lib.curriculum.deletion import deletion_masks
    m = model()
    masks = deletion_masks(5, 16, [0, 3])
    d = delete_dimension(delete_dimension(m, 0), 3)
    state = {k: v for k, v in m.state_dict().items()}
    x = torch.rand(6, 3)
    masked = ColorAutoencoder(5, 16, True, "gelu")
    masked.load_state_dict({k: v * masks[k] if k in masks else v for k, v in state.items()})
    torch.testing.assert_close(masked(x)[0], d(x)[0])
    with pytest.raises(ValueError, match="dims"):
        deletion_masks(5, 16, [5])


def test_bootstrap_median_ci():
    from course_lib.curriculum.deletion import bootstrap_median_ci
    med, lo, hi = bootstrap_median_ci([10, 20, 30, 40, 50] * 4)
    assert med == 30 and lo <= 30 <= hi and lo >= 10 and hi <= 50
    med, lo, hi = bootstrap_median_ci([1, float("nan"), float("nan")])
    assert med == float("inf")
    with pytest.raises(ValueError, match="empty"):
        bootstrap_median_ci([])


# --------------------------------------------------------------------------- the four-removal study
def test_recovery_steps_matches_recovery_step():
    from course_lib.curriculum.deletion import recovery_step, recovery_steps
    steps = np.array([0, 10, 20, 30])
    err = np.array([[0.5, 0.1, 0.3, 0.05], [0.5, 0.4, 0.3, 0.2], [0.01, 0.01, 0.01, 0.01]])
    tgt = np.array([0.1, 0.1, 0.1])
    got = recovery_steps(steps, err, tgt)
    for i in range(3):
        r = recovery_step(steps, err[i], tgt[i])
        assert (np.isnan(got[i]) and r is None) or got[i] == r
    assert got[0] == 30 and np.isnan(got[1]) and got[2] == 0
    with pytest.raises(ValueError):
        recovery_steps(steps, err[0], tgt)
    with pytest.raises(ValueError):
        recovery_steps(steps, err, tgt[:2])


def test_margin_target():
    from course_lib.curriculum.deletion import margin_target
    assert np.allclose(margin_target([0.01], [0.5], "abs", 0.003), [0.013])
    assert np.allclose(margin_target([0.01], [0.51], "rel", 0.1), [0.06])
    with pytest.raises(ValueError):
        margin_target([0.01], [0.5], "ratio", 0.1)
    with pytest.raises(ValueError):
        margin_target([0.01], [0.5], "abs", -1)


def test_unlearn_term_is_retain_plus_forget():
    from course_lib.curriculum import deletion as D
    from course_lib.curriculum.routing import red_set_mask
    x = torch.tensor([[1.0, 0, 0], [0.0, 1, 0], [0.9, 0.1, 0.1], [0.2, 0.3, 0.9]])
    recon = torch.rand(2, 4, 3)
    red = red_set_mask(x)
    assert red.tolist() == [True, False, True, False]
    total = ((recon - x) ** 2).mean(dim=(-2, -1)) + D.unlearn_term(None, x, recon)
    grey = x.mean(-1, keepdim=True).expand_as(x)
    want = (((recon - x) ** 2).mean(-1) * (~red) + D.REMOVAL_HYPER["forget_weight"] * ((recon - grey) ** 2).mean(-1) * red).sum(-1) / 4
    assert torch.allclose(total, want, atol=1e-6)


def test_red_data_helpers():
    from course_lib.curriculum import deletion as D
    from course_lib.curriculum.routing import red_set_mask
    reds = D.red_colours()
    assert len(reds) == 25 and torch.equal(reds[0], torch.tensor([1.0, 0.0, 0.0]))
    few = D.few_red()
    assert len(few) == int(D.REMOVAL_HYPER["few_red"]) and red_set_mask(few).all()
    assert not ((few - torch.tensor([1.0, 0, 0])).abs().sum(1) < 1e-6).any()       # pure red not among them
    free = D.relearn_data("red-free")
    assert len(free) == 3600 - 25 and not red_set_mask(free).any()
    assert len(D.relearn_data("few red")) == len(free) + len(few)
    assert D.red_free_data(0, {"spread": 1.0}) is free                              # the same object
    probe = D.removal_probe()
    assert torch.equal(probe[0], torch.tensor([1.0, 0, 0])) and torch.equal(probe[-25:], reds)
    with pytest.raises(ValueError):
        D.relearn_data("all")
    # the one-factor control: every training colour, the whole red set and pure red included
    full = D.relearn_data(D.RELEARN_CONTROL)
    assert len(full) == 3600 and red_set_mask(full).sum() == 25
    assert ((full - torch.tensor([1.0, 0, 0])).abs().sum(1) < 1e-6).any()
    assert D.RELEARN_CONTROL not in D.RELEARN_DATA              # not one of the study's arms
    with pytest.raises(ValueError, match="kind"):
        D.relearn_sweep("anchoring + deletion", "everything")
    with pytest.raises(ValueError, match="kind"):
        D.intact_relearn_sweep("everything")
    with pytest.raises(ValueError):
        D.removed_models("pruning")


def _study():
    from course_lib.curriculum import deletion as D
    steps = np.array([0, 10, 20, 30])
    intact = np.array([0.001, 0.001, 0.001, 0.001])
    curves = np.array([[0.3, 0.1, 0.005, 0.002],     # lost, back at 20 (+0.01) / 30 (+0.003)
                       [0.3, 0.3, 0.3, 0.3],         # lost, never back: censored
                       [0.005, 0.004, 0.003, 0.002],  # never lost
                       [0.2, 0.002, 0.002, 0.002]])  # lost, back at 10
    error = {m: {k: curves for k in D.RELEARN_DATA} for m in D.REMOVALS}
    return D.RemovalStudy(steps=steps, seeds=np.arange(4), intact=intact, error=error, red_set_error=error,
                          damage={m: np.zeros((4, 3)) for m in D.REMOVALS}, others_error=error,
                          others_intact=np.full(4, 0.002))


def test_removal_study_recovery_conditions_and_censors():
    from course_lib.curriculum import deletion as D
    st = _study()
    assert st.lost("unlearning").tolist() == [True, True, False, True]
    r = st.recovery("unlearning", "few red", D.MARGINS[1])           # +0.01
    assert (r.lost, r.n, r.recovered, r.budget) == (3, 4, 2, 30)
    assert r.steps[0] == 20 and np.isnan(r.steps[1]) and r.steps[2] == 10
    assert r.median == 20 and "2/3" in r.rate()
    r3 = st.recovery("unlearning", "few red", D.MARGINS[0])           # +0.003
    assert r3.steps[0] == 30
    rel = st.recovery("unlearning", "few red", ("half", "rel", 0.5))  # 0.001 + 0.5·0.299 = 0.1505
    assert rel.steps[0] == 10
    norm = st.normalised("unlearning", "red-free")
    assert np.allclose(norm[:, 0][[0, 1, 3]], 1.0) and np.isclose(norm[0, -1], 0.001 / 0.299)
    assert st.others_back("unlearning", "red-free").tolist() == [True, False, True]
    with pytest.raises(ValueError):
        st.recovery("pruning", "few red", D.MARGINS[0])
    # the shared helper the all-colours control uses: the same numbers on the same curves
    base = st.baseline("few red")
    for margin in D.MARGINS:
        a = st.recovery("unlearning", "few red", margin)
        b = D._recovery(st.steps, st.error["unlearning"]["few red"], base, st.lost("unlearning"), margin)
        np.testing.assert_array_equal(a.steps, b.steps)
        assert (a.lost, a.recovered, a.median) == (b.lost, b.recovered, b.median) or np.isnan(a.median)


def test_study_table_and_figure():
    import matplotlib
    matplotlib.use("Agg")
    from course_lib.curriculum import deletion as D
    st = _study()
    table = D.recovery_table(st)
    assert table.count("\n") == len(D.REMOVALS) * len(D.RELEARN_DATA) * len(D.MARGINS)
    assert "2/3" in table and "3/4" in table
    fig = D.plot_relearning_curves(st)
    assert len(fig.axes) == len(D.RELEARN_DATA)
    assert len(D.plot_relearning_curves(st, normalised=False).axes) == len(D.RELEARN_DATA)
    with pytest.raises(TypeError):
        D.recovery_table("study")
    with pytest.raises(TypeError):
        D.plot_relearning_curves(None)


def test_matched_damage_strata():
    from course_lib.curriculum import deletion as D
    st = _study()                         # excess 0.299, 0.299, ≤ 0.01, 0.199 (the same curves for every removal)
    strata = D.matched_damage(st, bands=(0.01, 0.25, np.inf))
    assert list(strata) == [(0.01, 0.25), (0.25, np.inf)]
    low, high = strata[(0.01, 0.25)]["unlearning"], strata[(0.25, np.inf)]["unlearning"]
    assert low == (1, 1, 10.0)
    assert high[:2] == (2, 1) and high[2] == np.inf                 # one back at 20, one censored: median ∞
    with pytest.raises(ValueError, match="bands"):
        D.matched_damage(st, bands=(0.2, 0.1))
    with pytest.raises(ValueError, match="bands"):
        D.matched_damage(st, bands=(0.0, 0.1))


def _keep_out_study():
    from course_lib.curriculum import deletion as D
    steps = np.array([0, 10, 20])
    ko = (0.0, 1.0)
    err = {0.0: np.array([[0.3, 0.2, 0.1], [0.4, 0.3, 0.2]]), 1.0: np.array([[0.005, 0.004, 0.003], [0.2, 0.005, 0.004]])}
    return D.KeepOutStudy(keep_outs=ko, steps=steps, intact=np.full(2, 0.002),
                          z0_red={k: np.array([0.5, 0.6]) for k in ko}, z0_others={k: np.full((2, 14), 0.1) for k in ko},
                          excess={k: err[k][:, 0] - 0.002 for k in ko}, damage_others={0.0: np.full(2, 0.2), 1.0: np.zeros(2)},
                          error=err, others_end={k: np.zeros(2) for k in ko})


def test_keep_out_study_recovery_and_table():
    from course_lib.curriculum import deletion as D
    ks = _keep_out_study()
    assert ks.lost(0.0).tolist() == [True, True] and ks.lost(1.0).tolist() == [False, True]
    r0, r1 = ks.recovery(0.0), ks.recovery(1.0)
    assert (r0.lost, r0.recovered) == (2, 0) and (r1.lost, r1.recovered, r1.steps.tolist()) == (1, 1, [10.0])
    table = D.keep_out_table(ks)
    assert table.count("\n") == 2 and "0/2" in table and "1/1" in table
    with pytest.raises(TypeError):
        D.keep_out_table("study")


def test_recovery_is_measured_against_the_fine_tuned_reference():
    from course_lib.curriculum import deletion as D
    st = _study()
    # the intact model's red error drifts up to 0.009 under the same fine-tuning
    drift = np.array([0.001, 0.004, 0.007, 0.009])
    ref = {k: np.tile(drift, (4, 1)) for k in D.RELEARN_DATA}
    moved = D.RemovalStudy(**{**st.__dict__, "reference": ref})
    assert np.allclose(st.baseline("few red"), 0.001) and np.allclose(moved.baseline("red-free")[0], drift)
    # +0.003: seed 0 (0.3, 0.1, 0.005, 0.002) is within 0.003 of the reference from step 20 on, not 30
    r_old, r_new = st.recovery("unlearning", "few red", D.MARGINS[0]), moved.recovery("unlearning", "few red",
                                                                                       D.MARGINS[0])
    assert r_old.steps[0] == 30 and r_new.steps[0] == 20
    # lost is still judged against the untouched intact model (reference at step 0)
    assert moved.lost("unlearning").tolist() == st.lost("unlearning").tolist()
    assert np.isclose(moved.normalised("unlearning", "few red")[0, -1], (0.002 - 0.009) / 0.299)
    strata = D.matched_damage(moved, kind="few red", bands=(0.01, 0.25, np.inf), margin=D.MARGINS[0])
    assert strata[(0.25, np.inf)]["unlearning"][:2] == (2, 1)


def test_keep_out_recovery_uses_its_reference():
    from course_lib.curriculum import deletion as D
    ks = _keep_out_study()
    moved = D.KeepOutStudy(**{**ks.__dict__, "reference": np.array([[0.002, 0.1, 0.2]] * 2)})
    assert ks.recovery(0.0).recovered == 0
    # seed 0: 0.2 ≤ 0.1 + 0.01 at step 10? no (0.2 > 0.11); at step 20: 0.1 ≤ 0.21 → back at 20
    assert moved.recovery(0.0).steps.tolist() == [20.0, 20.0]
    assert np.allclose(ks.baseline(), 0.002)


def test_censored_rank_sum():
    from course_lib.curriculum import deletion as D
    from course_lib.stats import rank_sum
    a = np.array([np.nan, np.inf, 900.0, 800.0, np.nan])
    b = np.array([10.0, 20.0, 30.0, 40.0, np.nan])
    auc, p = D.censored_rank_sum(a, b, 1000)
    # censored runs tie at budget + 1, above every observed run
    assert (auc, p) == rank_sum([1001, 1001, 900, 800, 1001], [10, 20, 30, 40, 1001])
    assert auc > 0.8
    # all censored on both sides: no shift
    assert D.censored_rank_sum([np.nan] * 3, [np.inf] * 3, 100) == (0.5, 1.0)
    with pytest.raises(ValueError, match="budget"):
        D.censored_rank_sum([10.0, 2000.0], [1.0, 2.0], 1000)
    with pytest.raises(ValueError, match="at least 2"):
        D.censored_rank_sum([1.0], [1.0, 2.0], 1000)


def test_train_removals_trains_every_run_the_study_reads(tmp_path, monkeypatch):
    """Trained two at a time, then the study loads everything: no run is missing from the list."""
    from course_lib.curriculum import deletion as D
    from course_lib.curriculum import routing, train
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    monkeypatch.setitem(D.REMOVAL_SETTINGS, "quick", {"steps": 20, "seeds": 2, "finetune_steps": 10, "every": 10,
                                                       "unlearn_steps": 10, "keep_out_seeds": 1})
    D.train_removals("quick", progress=False)

    def no_training(*args, **kwargs):
        raise AssertionError("trained again: train_removals missed this run")
    monkeypatch.setattr(train, "fit", no_training)
    monkeypatch.setattr(routing, "fit", no_training)
    study = D.removal_study("quick")
    assert study.seeds.tolist() == [0, 1] and study.steps.tolist() == [0, 10]
    # the undeleted arm starts from the anchored model itself: its step-0 red error is the anchored sweep's
    an = D.anchored_red_sweep("quick")
    red_err = ((an.probe_recon[-1][:, 0] - an.probe_rgb[0]) ** 2).mean(-1)
    for kind in D.RELEARN_DATA:
        np.testing.assert_allclose(study.undeleted[kind][:, 0], red_err, rtol=1e-6)
    assert not np.allclose(study.undeleted["red-free"][:, 0], study.error["anchoring + deletion"]["red-free"][:, 0])
    assert set(D.routed_red_sweeps("quick")) == set(D.ROUTING_KEEP_OUT)
    with pytest.raises(ValueError, match="profile"):
        D.train_removals("fast", progress=False)


def test_deletion_recovery_against_the_undeleted_reference():
    from course_lib.curriculum import deletion as D
    st = _study()
    with pytest.raises(ValueError, match="undeleted"):
        st.deletion_recovery("few red", D.MARGINS[0])
    # the undeleted anchored models drift from 0.001 up to 0.004 under the same fine-tuning
    und = {k: np.tile([0.001, 0.002, 0.003, 0.004], (4, 1)) for k in D.RELEARN_DATA}
    both = D.RemovalStudy(**{**st.__dict__, "undeleted": und})
    # seed 0 (0.3, 0.1, 0.005, 0.002): within +0.003 of the intact model from step 30, of the undeleted from 20
    assert both.recovery("anchoring + deletion", "few red", D.MARGINS[0]).steps[0] == 30
    r = both.deletion_recovery("few red", D.MARGINS[0])
    assert r.steps[0] == 20 and (r.lost, r.n) == (3, 4)           # the same lost seeds
    np.testing.assert_allclose(both.recipe_drift("red-free")[0], [0.0, 0.001, 0.002, 0.003])
    with pytest.raises(ValueError, match="kind"):
        both.recipe_drift("all colours")


def test_undeleted_arm_starts_from_the_anchored_models_unpruned(monkeypatch):
    """The one-factor reference: the anchored parent's own states, no masks, a cache key of its own."""
    from types import SimpleNamespace
    from course_lib.curriculum import deletion as D
    from course_lib.curriculum import train
    state = {k: v.unsqueeze(0).repeat(2, *([1] * v.ndim)) for k, v in model().state_dict().items()}
    parent = SimpleNamespace(states=[None, state], seeds=np.array([0, 1]))
    monkeypatch.setattr(D, "anchored_red_sweep", lambda profile=None: parent)
    monkeypatch.setattr(D, "plain_sweep", lambda profile=None: SimpleNamespace(
        states=[{k: v + 1 for k, v in state.items()}], seeds=np.array([0, 1])))
    calls = []
    monkeypatch.setattr(train, "cached_sweep", lambda name, key, seeds, **kw: calls.append((name, key, seeds, kw)))
    D.undeleted_relearn_sweep("red-free", "quick")
    D.relearn_sweep("anchoring + deletion", "red-free", "quick")
    D.intact_relearn_sweep("red-free", "quick")
    (n_u, k_u, s_u, kw_u), (n_d, k_d, _, kw_d), (_, k_i, _, kw_i) = calls
    assert kw_u["init_states"] is state and kw_d["init_states"] is state and s_u == [0, 1]
    assert "masks" not in kw_u and "masks" not in kw_i                  # nothing pruned
    assert (kw_d["masks"]["encoder.2.weight"][D.RED_DIM] == 0).all()     # the deleted arm: dim 0 pruned
    assert n_u == n_d and k_u["parent"] == k_d["parent"] != k_i["parent"]
    assert k_u != k_d and k_u != k_i and k_u["method"] == D.UNDELETED
    same = ("data", "steps", "lr", "batch_size", "checkpoint_steps")
    assert all(kw_u[a] is kw_d[a] or kw_u[a] == kw_d[a] for a in same)
    with pytest.raises(ValueError, match="kind"):
        D.undeleted_relearn_sweep("everything")
