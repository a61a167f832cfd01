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
    assert len(rows) == 1 + 3 * 3
    assert rows[0].alpha == 1.0 and rows[1].label == "anchored, e₀" and rows[1].layer == 0
    assert math.isclose(rows[1].damage_red, rows[0].damage_red, rel_tol=0.011)
    assert {r.label for r in rows[1:]} == {"anchored, e₀", "control, own red direction", "control, random direction"}
    with pytest.raises(TypeError, match="control"):
        L.layer_comparison(a, "c", p, fit)


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
