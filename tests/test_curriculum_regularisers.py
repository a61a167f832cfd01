"""Regularisers and soft labels: hand-computed values, gradients (gradcheck), bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.color import rgb_to_hsv
from course_lib.curriculum import (
    anchor_loss,
    anti_anchor,
    planarity,
    redness,
    separation,
    unitarity,
    vibrancy,
)

D = torch.float64


def t(x):
    return torch.tensor(x, dtype=D)


def rand(*shape, seed=0, low=None, high=None):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(*shape, generator=g, dtype=D) if low is None else \
        low + (high - low) * torch.rand(*shape, generator=g, dtype=D)
    return x.requires_grad_()


# --------------------------------------------------------------------------- values
def test_unitarity_values():
    assert unitarity(t([[3.0, 4.0], [0.0, 1.0]])).item() == pytest.approx(8.0)  # (4² + 0²)/2
    assert unitarity(t([[0.6, 0.8, 0.0]])).item() == pytest.approx(0.0)
    assert unitarity(t([[0.0, 0.0]])).item() == pytest.approx(1.0)


def test_unitarity_gradient_is_radial():
    z = t([[3.0, 4.0], [0.5, 0.0]]).requires_grad_()
    unitarity(z).backward()
    # ∂/∂zᵢ = (2/n)(‖zᵢ‖ − 1) ẑᵢ
    expected = torch.stack([(2 / 2) * 4 * t([0.6, 0.8]), (2 / 2) * (-0.5) * t([1.0, 0.0])])
    torch.testing.assert_close(z.grad, expected)


def test_planarity_values():
    z = t([[1.0, 2.0, 3.0], [0.0, 0.0, 4.0]])
    assert planarity(z).item() == pytest.approx((9 + 16) / 2)
    assert planarity(z, keep=1).item() == pytest.approx((4 + 9 + 16) / 2)
    assert planarity(z, keep=3).item() == 0.0
    assert planarity(z, keep=0).item() == pytest.approx((1 + 4 + 9 + 16) / 2)


def test_planarity_gradient_spares_the_kept_dims():
    z = t([[1.0, 2.0, 3.0, -1.0]]).requires_grad_()
    planarity(z).backward()
    torch.testing.assert_close(z.grad, t([[0.0, 0.0, 6.0, -2.0]]))


def test_separation_values():
    same = t([[1.0, 0.0], [2.0, 0.0]])
    opposite = t([[1.0, 0.0], [-3.0, 0.0]])
    right = t([[1.0, 0.0], [0.0, 5.0]])
    assert separation(same).item() == pytest.approx(1.0)
    assert separation(opposite).item() == pytest.approx(0.0)
    assert separation(right, power=3).item() == pytest.approx(2.0 ** -3)
    angles = torch.tensor([0.0, 2 * math.pi / 3, 4 * math.pi / 3], dtype=D)
    tri = torch.stack([angles.cos(), angles.sin()], 1)  # cos = −½ for every pair
    assert separation(tri, power=2).item() == pytest.approx(0.25 ** 2)


def test_separation_is_scale_free_and_prefers_spread():
    z = rand(20, 3, seed=1).detach()
    assert separation(z).item() == pytest.approx(separation(7.0 * z).item())
    angles = torch.linspace(0, 2 * math.pi, 13, dtype=D)[:-1]
    spread = torch.stack([angles.cos(), angles.sin(), 0 * angles], 1)
    bunched = torch.stack([(angles / 4).cos(), (angles / 4).sin(), 0 * angles], 1)
    assert separation(spread).item() < separation(bunched).item()


def test_anchor_loss_values():
    z = t([[2.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    anchor = t([5.0, 0.0])  # need not be unit length
    assert anchor_loss(z, anchor).item() == pytest.approx((0 + 1 + 2) / 3)
    assert anchor_loss(z, anchor, t([1.0, 0.0, 0.0])).item() == pytest.approx(0.0)
    assert anchor_loss(z, anchor, t([1.0, 1.0, 0.0])).item() == pytest.approx(0.5)
    assert anchor_loss(z, anchor, t([0.0, 1.0, 3.0])).item() == pytest.approx((1 + 6) / 4)
    assert anchor_loss(z, anchor, t([0.0, 0.0, 0.0])).item() == 0.0  # nobody selected


def test_anti_anchor_values_and_its_gradient_only_pushes_those_leaning_in():
    z = t([[1.0, 1.0], [-1.0, 0.0], [1.0, 0.0]]).requires_grad_()
    anchor = t([1.0, 0.0])
    loss = anti_anchor(z, anchor)
    assert loss.item() == pytest.approx((1 / math.sqrt(2) + 0 + 1) / 3)
    loss.backward()
    assert torch.all(z.grad[1] == 0)  # cos = −1: already away, not pushed
    assert z.grad[0].norm() > 0
    assert anti_anchor(z.detach(), anchor, t([0.0, 1.0, 0.0])).item() == 0.0


def test_redness_values():
    rgb = t([[1, 0, 0], [1, 0.5, 0], [0, 1, 0], [1, 1, 1], [1, 0, 1], [0.5, 0, 0]])
    torch.testing.assert_close(redness(rgb), t([1.0, 0.75, 0.0, 0.0, 0.5, 0.5]))
    torch.testing.assert_close(redness(rgb, k=2), t([1.0, 0.5625, 0.0, 0.0, 0.25, 0.25]))
    assert redness(t([[[1.0, 0.0, 0.0]]])).shape == (1, 1)
    assert redness(torch.tensor([1.0, 0.0, 0.0])).dtype == torch.float32


def test_vibrancy_values_are_chroma():
    rgb = t([[1, 0, 0], [0.5, 0.5, 0.5], [0, 0, 0], [1, 1, 1], [0.8, 0.4, 0.2]])
    hsv = rgb_to_hsv(rgb)
    torch.testing.assert_close(vibrancy(hsv), t([1.0, 0.0, 0.0, 0.0, 0.6]))
    torch.testing.assert_close(vibrancy(hsv, k=2), t([1.0, 0.0, 0.0, 0.0, 0.36]))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=3, max_size=3))
def test_vibrancy_equals_max_minus_min(rgb):
    x = torch.tensor([rgb], dtype=D)
    chroma = max(rgb) - min(rgb)
    assert vibrancy(rgb_to_hsv(x)).item() == pytest.approx(chroma, abs=1e-9)
    assert 0.0 <= redness(x).item() <= 1.0


def test_results_keep_dtype_and_are_scalars():
    z = torch.randn(6, 4)
    a = torch.tensor([1.0, 0, 0, 0])
    for loss in (unitarity(z), planarity(z), separation(z), anchor_loss(z, a), anti_anchor(z, a)):
        assert loss.shape == () and loss.dtype == torch.float32


# --------------------------------------------------------------------------- gradients
def test_gradcheck_unitarity_planarity_separation():
    z = rand(7, 3, seed=2)
    assert torch.autograd.gradcheck(unitarity, (z,))
    assert torch.autograd.gradcheck(lambda x: planarity(x, keep=2), (z,))
    assert torch.autograd.gradcheck(lambda x: planarity(x, keep=1), (z,))
    assert torch.autograd.gradcheck(lambda x: separation(x, power=10), (z,))
    assert torch.autograd.gradcheck(lambda x: separation(x, power=2.5), (z,))


def test_gradcheck_anchor_terms():
    z = rand(8, 4, seed=3)
    anchor = rand(4, seed=4)
    weights = rand(8, seed=5, low=0.1, high=1.0)
    assert torch.autograd.gradcheck(lambda x, a: anchor_loss(x, a), (z, anchor))
    assert torch.autograd.gradcheck(anchor_loss, (z, anchor, weights))
    # clamp(cos, 0) has a kink at cos = 0; random points are away from it
    assert torch.autograd.gradcheck(anti_anchor, (z, anchor, weights))


def test_gradcheck_soft_labels():
    rgb = rand(5, 3, seed=6, low=0.05, high=0.95)
    hsv = rand(5, 3, seed=7, low=0.05, high=0.95)
    assert torch.autograd.gradcheck(lambda x: redness(x, k=3), (rgb,))
    assert torch.autograd.gradcheck(lambda x: vibrancy(x, k=2), (hsv,))
    assert torch.autograd.gradcheck(lambda x: vibrancy(rgb_to_hsv(x)), (rgb,))


def test_a_latent_at_the_origin_gives_finite_gradients():
    z = torch.zeros(3, 3, requires_grad=True)
    a = torch.ones(3)
    (unitarity(z) + separation(z) + anchor_loss(z, a) + anti_anchor(z, a)).backward()
    assert torch.isfinite(z.grad).all()


def test_gradients_flow_on_the_training_device_dtype():
    z = torch.randn(10, 3, requires_grad=True)
    total = unitarity(z) + 0.1 * planarity(z) + separation(z) + anchor_loss(z, torch.ones(3))
    total.backward()
    assert torch.isfinite(z.grad).all()


# --------------------------------------------------------------------------- bad input
def test_bad_latents_are_named():
    with pytest.raises(TypeError, match="z must be a torch tensor.*as_tensor"):
        unitarity(np.zeros((3, 2)))
    with pytest.raises(TypeError, match="z must be a floating-point tensor"):
        planarity(torch.zeros(3, 2, dtype=torch.long))
    with pytest.raises(ValueError, match="z must be 2-D"):
        unitarity(torch.zeros(3))
    with pytest.raises(ValueError, match="z contains NaN"):
        separation(torch.tensor([[1.0, float("nan")], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="z must hold at least 2"):
        separation(torch.zeros(1, 3))
    with pytest.raises(ValueError, match="z must hold at least 1"):
        unitarity(torch.zeros(0, 3))


def test_bad_settings_are_named():
    z = torch.randn(4, 3)
    with pytest.raises(ValueError, match=r"keep must be an int in \[0, 3\]"):
        planarity(z, keep=4)
    with pytest.raises(TypeError, match="keep must be an int"):
        planarity(z, keep=1.5)
    with pytest.raises(ValueError, match="power must be a positive"):
        separation(z, power=0)
    with pytest.raises(TypeError, match="power"):
        separation(z, power="10")
    with pytest.raises(ValueError, match="k must be a positive"):
        redness(torch.ones(2, 3), k=-1)


def test_bad_anchors_and_weights_are_named():
    z = torch.randn(4, 3)
    with pytest.raises(ValueError, match=r"anchor must have shape \(3,\)"):
        anchor_loss(z, torch.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match="anchor must be a non-zero"):
        anti_anchor(z, torch.zeros(3))
    with pytest.raises(ValueError, match="anchor contains NaN"):
        anchor_loss(z, torch.tensor([1.0, float("nan"), 0.0]))
    with pytest.raises(ValueError, match=r"weights must have shape \(4,\)"):
        anchor_loss(z, torch.ones(3), torch.ones(5))
    with pytest.raises(ValueError, match="weights must be ≥ 0"):
        anti_anchor(z, torch.ones(3), torch.tensor([1.0, -1.0, 0.0, 0.0]))
    with pytest.raises(ValueError, match="weights must be 1-D"):
        anti_anchor(z, torch.ones(3), torch.ones(4, 1))


def test_bad_colours_are_named():
    with pytest.raises(ValueError, match=r"rgb must have shape \[..., 3\]"):
        redness(torch.ones(4, 4))
    with pytest.raises(ValueError, match=r"rgb must lie in \[0, 1\]"):
        redness(torch.tensor([[1.5, 0.0, 0.0]]))
    with pytest.raises(ValueError, match="hsv contains NaN"):
        vibrancy(torch.tensor([[0.5, float("nan"), 1.0]]))
    with pytest.raises(TypeError, match="hsv must be a torch tensor"):
        vibrancy([[0.5, 1.0, 1.0]])
