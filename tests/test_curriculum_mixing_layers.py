"""Tests for notebook 2.6's baseline (mixing_pooled) and layer-by-layer measures (mixing_layers)."""

import math

import numpy as np
import pytest
import torch

from course_lib.curriculum import mixing as M
from course_lib.curriculum import mixing_layers as L
from course_lib.curriculum import mixing_pooled as P


def test_residuals_and_head_from_agree_with_forward():
    m = M.MixingTransformer(d=8, heads=2, layers=2)
    p = M.mixing_pairs(5, torch.Generator().manual_seed(0))
    hs = m.residuals(p)
    assert len(hs) == 3 and all(h.shape == (5, 2, 8) for h in hs)
    for layer in range(3):
        assert torch.allclose(m.head_from(hs[layer], layer), m(p), atol=1e-6)
    with pytest.raises(ValueError, match="layer"):
        m.head_from(hs[0], 3)


def test_pooled_baseline_sees_only_the_sum():
    m = P.PooledMixer(d=6)
    a, b = torch.tensor([[1.0, 0, 0]]), torch.tensor([[0.0, 1, 1]])
    grey = torch.full((1, 3), 0.5)
    out1 = m(torch.stack([a, b], 1))
    out2 = m(torch.stack([grey, grey], 1))
    assert torch.allclose(out1, out2, atol=1e-6)          # same sum → same answer, whatever the weights
    assert not torch.allclose(M.mix(a, b), M.mix(grey, grey))


def test_deepsets_is_not_bound_to_the_sum():
    m = P.PooledMixer(d=6, token_hidden=8)
    assert m.token_hidden == 8 and not isinstance(m.colour, torch.nn.Linear)
    a, b = torch.tensor([[1.0, 0, 0]]), torch.tensor([[0.0, 1, 1]])
    grey = torch.full((1, 3), 0.5)
    assert not torch.allclose(m(torch.stack([a, b], 1)), m(torch.stack([grey, grey], 1)), atol=1e-6)
    with torch.no_grad():
        m.role.normal_()                                  # even with distinct role vectors ...
        ab, ba = m(torch.stack([a, b], 1)), m(torch.stack([b, a], 1))
        pooled = m.readout((m.colour(a) + m.colour(b)) / 2 + m.role.mean(0))
    assert torch.allclose(ab, ba, atol=1e-6)              # ... no order: the tokens meet only in the mean
    assert torch.allclose(ab, pooled, atol=1e-6)
    with pytest.raises(ValueError, match="token_hidden"):
        P.PooledMixer(token_hidden=-1)


def test_deepsets_training_beats_the_floor_and_round_trips():
    run = P.train_pooled(seed=0, profile="quick", steps=400, token_hidden=32)
    assert run.config["token_hidden"] == 32
    m = run.model()
    assert m.token_hidden == 32
    p = M.mixing_pairs(2000, torch.Generator().manual_seed(11))
    with torch.no_grad():
        err = float(((m(p) - M.mix(p[:, 0], p[:, 1])) ** 2).mean())
    assert err < 1.5e-3 / 1.5, err          # under the pooling floor (≈ 1.5e-3) after 400 steps
    old = P.PooledRun(config={"d": 12, "hidden": 48}, state=P.PooledMixer().state_dict(), steps=np.arange(1),
                      mse=np.zeros(1))
    assert old.model().token_hidden == 0    # runs cached before the option existed load as the pooled baseline


def test_pooled_training_and_floor():
    run = P.train_pooled(seed=0, profile="quick", steps=30)
    assert run.mse.shape == (30,) and run.mse[-5:].mean() < run.mse[:5].mean()
    assert isinstance(run.model(), P.PooledMixer)
    with pytest.raises(ValueError, match="unknown"):
        P.train_pooled(seed=0, profile="quick", bogus=1)
    floor = P.mean_pool_floor(n_reference=4000, n_query=500, k=20)
    assert 5e-4 < floor < 5e-3
    with pytest.raises(ValueError, match="k"):
        P.mean_pool_floor(n_reference=10, k=11)


def test_red_layer_cosines_shape_and_embedding_value():
    run = M.train_mixer(seed=0, profile="quick", steps=20, snap_every=10)
    m = run.model()
    c = L.red_layer_cosines(m)
    assert c.shape == (3, 24)
    # at the embedding, red's token does not depend on its partner: the value red_cosines reports
    want = float(M.red_cosines(m, torch.tensor([[1.0, 0, 0]]))[0])
    assert np.allclose(c[0], want, atol=1e-6)
    with pytest.raises(TypeError, match="MixingTransformer"):
        L.red_layer_cosines("model")
    with pytest.raises(ValueError, match="non-zero"):
        L.red_layer_cosines(m, direction=torch.zeros(12))


def test_edit_reduces_to_suppression_and_is_validated():
    run = M.train_mixer(seed=1, profile="quick", steps=20, snap_every=10)
    m = run.model()
    p = M.mixing_pairs(50, torch.Generator().manual_seed(2))
    e0 = M.anchor_direction(m.d)
    assert torch.allclose(L.edit_predict(m, p, 0, e0), M.suppressed_predict(m, p), atol=1e-6)
    assert torch.allclose(L.edit_predict(m, p, 2, e0, alpha=0.0), m(p).detach(), atol=1e-6)
    assert torch.allclose(L.edit_damage(m, p, 1, e0, 0.0), torch.zeros(50), atol=1e-7)
    with pytest.raises(ValueError, match="alpha"):
        L.edit_predict(m, p, 0, e0, alpha=-1.0)
    with pytest.raises(ValueError, match="layer"):
        L.edit_predict(m, p, 5, e0)


def test_posthoc_direction_points_from_free_to_red():
    run = M.train_mixer(seed=2, profile="quick", steps=20, snap_every=10)
    m = run.model()
    p = M.mixing_pairs(500, torch.Generator().manual_seed(3))
    u, off = L.posthoc_direction(m, p, 0)
    assert math.isclose(float(torch.linalg.vector_norm(u)), 1.0, rel_tol=1e-5)
    red = m.embed(torch.tensor([[[1.0, 0, 0], [1.0, 0, 0]]])).detach()[0, 0]
    assert float(red @ u) > off
    with pytest.raises(ValueError, match="both"):
        L.posthoc_direction(m, torch.tensor([[[0.0, 1, 0], [0.0, 0, 1]]]), 0)


def test_matched_edit_hits_its_target():
    run = M.train_mixer(seed=0, profile="quick", steps=60, snap_every=30)
    m = run.model()
    p = M.mixing_pairs(800, torch.Generator().manual_seed(4))
    e0 = M.anchor_direction(m.d)
    ref = L.matched_edit(m, p, 0, e0, target=1e-3)
    assert ref.matched and math.isclose(ref.damage_red, 1e-3, rel_tol=0.011)
    r = M.pair_redness(p)
    d = L.edit_damage(m, p, 0, e0, ref.alpha)
    assert math.isclose(ref.damage_red, float(d[r >= 0.5].mean()), rel_tol=1e-5)
    assert math.isclose(ref.selectivity, ref.damage_red / max(ref.damage_free, L.FREE_FLOOR), rel_tol=1e-6)
    out = L.matched_edit(m, p, 0, e0, target=1e6, alpha_max=10.0)
    assert not out.matched and out.alpha == 10.0
    with pytest.raises(ValueError, match="target"):
        L.matched_edit(m, p, 0, e0, target=0.0)


def test_layer_comparison_rows():
    a = M.train_mixer(seed=0, profile="quick", steps=40, snap_every=20)
    c = M.train_mixer(seed=0, profile="quick", steps=40, snap_every=20, anchor_weight=0.0, anti_weight=0.0)
    p, fit = M.mixing_pairs(600, torch.Generator().manual_seed(5)), M.mixing_pairs(600, torch.Generator().manual_seed(6))
    rows = L.layer_comparison(a, c, p, fit)
    assert len(rows) == 1 + 3 * (1 + 2 * len(L.OFFSETS))
    assert rows[0].alpha == 1.0 and rows[1].label == "anchored, e₀" and rows[1].layer == 0
    assert math.isclose(rows[1].damage_red, rows[0].damage_red, rel_tol=0.011)
    want = {"anchored, e₀"} | {f"control, {n}, offset {o}" for n in ("own red direction", "random direction")
                                for o in L.OFFSETS}
    assert {r.label for r in rows[1:]} == want
    # each control row's offset is the calibration its label names, fitted on fit (not on p)
    for r in rows[1:]:
        if r.label.startswith("control, own") and r.layer == 1:
            u, mean_off = L.posthoc_direction(c.model(), fit, 1)
            how = r.label.rsplit(" ", 1)[1]
            assert math.isclose(r.offset, L.calibrated_offset(c.model(), fit, 1, u, how), rel_tol=1e-6, abs_tol=1e-7)
            if how == "mean":
                assert math.isclose(r.offset, mean_off, rel_tol=1e-6, abs_tol=1e-7)
    only = L.layer_comparison(a, c, p, fit, offsets=("max",))
    assert len(only) == 1 + 3 * 3
    with pytest.raises(ValueError, match="offsets"):
        L.layer_comparison(a, c, p, fit, offsets=("median",))
    with pytest.raises(TypeError, match="control"):
        L.layer_comparison(a, "c", p, fit)


def test_calibrated_offsets_are_ordered_and_max_spares_every_fit_token():
    m = M.train_mixer(seed=3, profile="quick", steps=30, snap_every=30).model()
    fit = M.mixing_pairs(800, torch.Generator().manual_seed(8))
    u, _ = L.posthoc_direction(m, fit, 0)
    lean = L.redfree_leans(m, fit, 0, u)
    offs = [L.calibrated_offset(m, fit, 0, u, how) for how in L.OFFSETS]
    assert offs[0] < offs[1] <= offs[2] and math.isclose(offs[2], float(lean.max()), rel_tol=1e-6)
    assert math.isclose(offs[1], float(np.quantile(lean.numpy(), 0.99)), rel_tol=1e-4, abs_tol=1e-6)
    # with the max offset the edit changes no red-free fit token: pairs of two such tokens are untouched
    from course_lib.curriculum.regularisers import redness
    both_free = (redness(fit) < 0.05).all(dim=1)
    d = L.edit_damage(m, fit[both_free], 0, u, alpha=5.0, offset=offs[2])
    assert torch.all(d == 0)
    assert L.redfree_leans(m, fit, 0, 3 * u).shape == lean.shape      # the direction is normalised
    with pytest.raises(ValueError, match="how"):
        L.calibrated_offset(m, fit, 0, u, "median")
    with pytest.raises(ValueError, match="red-free"):
        L.redfree_leans(m, torch.tensor([[[1.0, 0, 0], [1.0, 0, 0]]]), 0, u)


def test_matched_edit_reports_the_middle_group():
    m = M.train_mixer(seed=0, profile="quick", steps=60, snap_every=30).model()
    p = M.mixing_pairs(800, torch.Generator().manual_seed(4))
    e0 = M.anchor_direction(m.d)
    res = L.matched_edit(m, p, 0, e0, target=1e-3, offset=-0.05)
    r = M.pair_redness(p)
    d = L.edit_damage(m, p, 0, e0, res.alpha, -0.05)
    mid = (r >= 0.05) & (r < 0.5)
    assert math.isclose(res.damage_mid, float(d[mid].mean()), rel_tol=1e-5)
    assert math.isclose(res.damage_free, float(d[r < 0.05].abs().mean()), rel_tol=1e-5)
    assert math.isclose(res.collateral, res.damage_mid / res.damage_red, rel_tol=1e-9)
    assert res.offset == -0.05
    with pytest.raises(ValueError, match="offset"):
        L.matched_edit(m, p, 0, e0, target=1e-3, offset=float("nan"))


@pytest.mark.parametrize("n, lo_rank, cov", [(4, 1, 0.875), (8, 1, 1 - 2 / 256), (10, 2, 1 - 2 * 11 / 1024)])
def test_median_ci_order_statistics(n, lo_rank, cov):
    v = np.arange(n, dtype=float)[::-1]
    med, lo, hi, coverage = L.median_ci(v)
    assert med == np.median(v) and lo == lo_rank - 1 and hi == n - lo_rank
    assert math.isclose(coverage, cov)


def test_median_ci_bad_input():
    with pytest.raises(ValueError, match="empty"):
        L.median_ci([])
    with pytest.raises(ValueError, match="NaN"):
        L.median_ci([1.0, float("nan")])


def test_separation_auc_counts_pairs_and_ties():
    assert L.separation_auc([3.0, 2.0, 1.0, 0.0], np.array([True, True, False, False])) == 1.0
    assert L.separation_auc([0.0, 1.0, 2.0, 3.0], np.array([True, True, False, False])) == 0.0
    # one tie between a positive and a negative counts ½: (1 + 1 + 1 + ½) / 4
    assert L.separation_auc([2.0, 1.0, 1.0, 0.0], np.array([True, True, False, False])) == 0.875
    with pytest.raises(ValueError, match="both classes"):
        L.separation_auc([1.0, 2.0], np.array([True, True]))
    with pytest.raises(TypeError, match="labels"):
        L.separation_auc([1.0, 2.0], np.array([1, 0]))
    with pytest.raises(ValueError, match="same length"):
        L.separation_auc([1.0, 2.0, 3.0], np.array([True, False]))
    with pytest.raises(ValueError, match="NaN"):
        L.separation_auc([np.nan, 2.0], np.array([True, False]))


def test_red_separation_rows_and_a_planted_direction():
    torch.manual_seed(0)
    m = M.MixingTransformer(d=8, heads=2, layers=2)
    p = M.mixing_pairs(400, torch.Generator().manual_seed(3))
    rows = L.red_separation(m, p)
    assert [r.layer for r in rows] == [0, 1, 2]
    for r in rows:
        assert 0.0 <= r.auc_anchor <= 1.0 and 0.0 <= r.auc_best <= 1.0
        assert -1.0 <= r.cos_best <= 1.0 and -1.0 <= r.cos_mean <= 1.0
    # plant red's channel on e₀ at the embedding: e₀'s lean is the red channel ⇒ it separates red well,
    # and the mean-difference direction leans on e₀
    with torch.no_grad():
        m.colour.weight.zero_()
        m.colour.weight[0, 0] = 1.0
        m.colour.weight[1, 1] = 1.0
        m.colour.weight[2, 2] = 1.0
        m.colour.bias.zero_()
        m.role.zero_()
    r0 = L.red_separation(m, p)[0]
    assert r0.auc_anchor > 0.9 and r0.cos_mean > 0.5 and r0.auc_best > 0.95
    with pytest.raises(ValueError, match="red_above"):
        L.red_separation(m, p, red_above=1.0)
    with pytest.raises(ValueError, match="C must"):
        L.red_separation(m, p, C=0)
    with pytest.raises(ValueError, match="k must"):
        L.red_separation(m, p, k=-1)
    with pytest.raises(ValueError, match="red"):
        L.red_separation(m, torch.zeros(5, 2, 3))


def test_lean_aucs_match_red_separation_and_fix_the_sign_once():
    torch.manual_seed(0)
    m = M.MixingTransformer(d=8, heads=2, layers=2)
    with torch.no_grad():
        m.colour.weight.zero_()
        m.colour.weight[0, 0] = 1.0
        m.colour.bias.zero_()
        m.role.zero_()
    p = M.mixing_pairs(400, torch.Generator().manual_seed(3))
    e0 = M.anchor_direction(8)
    v = L.random_direction(8, seed=4)
    got = L.lean_aucs(m, p, torch.stack([e0, -e0, v]))
    assert got.shape == (3, 3)
    want = [r.auc_anchor for r in L.red_separation(m, p)]
    np.testing.assert_allclose(got[0], want)
    # −e₀ is flipped at the embedding, and the flip is kept at every layer
    np.testing.assert_allclose(got[1], got[0])
    assert np.all(got[:, 0] >= 0.5) and got[0, 0] > 0.9
    with pytest.raises(ValueError, match="directions"):
        L.lean_aucs(m, p, torch.zeros(0, 8))
    with pytest.raises(ValueError, match="direction"):
        L.lean_aucs(m, p, torch.zeros(2, 8))
    with pytest.raises(ValueError, match="red_above"):
        L.lean_aucs(m, p, e0[None], red_above=0.0)
    with pytest.raises(ValueError, match="k must"):
        L.lean_aucs(m, p, e0[None], k=0)


def test_layer_analyses_run_on_one_thread(monkeypatch):
    """The per-layer analyses run the tiny mixer on one CPU thread (on two they were 5× slower,
    same numbers) and give the caller's thread setting back."""
    a = M.train_mixer(seed=0, profile="quick", steps=40, snap_every=20)
    c = M.train_mixer(seed=0, profile="quick", steps=40, snap_every=20, anchor_weight=0.0, anti_weight=0.0)
    p = M.mixing_pairs(600, torch.Generator().manual_seed(5))
    fit = M.mixing_pairs(600, torch.Generator().manual_seed(6))
    seen = []
    real = M.MixingTransformer.residuals

    def spy(self, *args, **kwargs):
        seen.append(torch.get_num_threads())
        return real(self, *args, **kwargs)

    monkeypatch.setattr(M.MixingTransformer, "residuals", spy)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        calls = {
            "red_layer_cosines": lambda: L.red_layer_cosines(a.model()),
            "redfree_leans": lambda: L.redfree_leans(a.model(), fit, 0, M.anchor_direction(a.model().d)),
            "layer_comparison": lambda: L.layer_comparison(a, c, p, fit, offsets=("max",)),
            "red_separation": lambda: L.red_separation(a.model(), p),
            "lean_aucs": lambda: L.lean_aucs(a.model(), p, M.anchor_direction(a.model().d)[None]),
        }
        for name, call in calls.items():
            seen.clear()
            call()
            assert seen and set(seen) == {1}, (name, seen)
            assert torch.get_num_threads() == 2, name
    finally:
        torch.set_num_threads(before)
