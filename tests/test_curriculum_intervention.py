"""Inference-time edits of an anchored latent and the damage measurements: values, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from course_lib.color import ColorAutoencoder
from course_lib.curriculum.intervention import (
    alignment,
    damage,
    gated_suppress,
    named_colours,
    suppress,
)

A = torch.tensor([1.0, 0.0, 0.0, 0.0])


def unit(*rows):
    z = torch.tensor(rows, dtype=torch.float64)
    return z / z.norm(dim=1, keepdim=True)


# --------------------------------------------------------------------------- suppress
def test_suppress_removes_only_the_positive_lean():
    z = torch.tensor([[0.6, 0.8, 0.0, 0.0], [-0.6, 0.8, 0.0, 0.0], [2.0, 0.0, 1.0, 0.0]])
    out = suppress(z, A)
    torch.testing.assert_close(out, torch.tensor([[0.0, 0.8, 0.0, 0.0], [-0.6, 0.8, 0.0, 0.0],
                                                  [0.0, 0.0, 1.0, 0.0]]))


def test_suppress_normalises_the_anchor_and_any_direction():
    g = torch.Generator().manual_seed(0)
    z = torch.randn(50, 5, generator=g)
    a = torch.randn(5, generator=g)
    out = suppress(z, 3.0 * a)
    u = a / a.norm()
    lean = out @ u
    assert bool((lean <= 1e-5).all())                          # nothing leans towards a any more
    neg = (z @ u) <= 0
    torch.testing.assert_close(out[neg], z[neg])                  # the others untouched
    # only the component along a changed
    torch.testing.assert_close(out - (out @ u)[:, None] * u, z - (z @ u)[:, None] * u)


# --------------------------------------------------------------------------- gated
def test_gate_values():
    z = unit([1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [-1.0, 0.0, 0.0, 0.0])
    out = gated_suppress(z, A.double(), sharpness=3.0, strength=2.0)
    torch.testing.assert_close(out[0], torch.tensor([-1.0, 0.0, 0.0, 0.0], dtype=torch.float64))  # reflected
    torch.testing.assert_close(out[1], z[1])                                                      # along = 0
    torch.testing.assert_close(out[2], z[2])                                                      # gate = 0
    c = math.cos(math.radians(30))
    z30 = unit([c, 0.5, 0.0, 0.0])
    out30 = gated_suppress(z30, A.double(), sharpness=3.0, strength=1.0)
    gate = ((c + 1) / 2) ** 3
    torch.testing.assert_close(out30[0, 0], torch.tensor(c * (1 - gate), dtype=torch.float64))
    torch.testing.assert_close(out30[0, 1:], z30[0, 1:])


def test_sharp_gate_spares_thirty_degrees_but_not_five():
    near, far = (unit([math.cos(math.radians(d)), math.sin(math.radians(d)), 0, 0]) for d in (5, 30))
    moved = lambda z: (gated_suppress(z, A.double(), sharpness=200.0) - z).norm().item()
    assert moved(near) > 1.0          # 5°: reflected, moves by about 2·cos 5° · 0.64
    assert moved(far) < 0.01          # 30°: barely touched


def test_gate_with_strength_one_and_no_sharpness_limit_matches_suppress_on_the_anchor():
    z = unit([1.0, 0.0, 0.0, 0.0])
    torch.testing.assert_close(gated_suppress(z, A.double(), sharpness=1e-9, strength=1.0),
                               suppress(z, A.double()), atol=1e-8, rtol=0)


def test_gate_is_differentiable_and_finite_at_origin():
    z = torch.tensor([[0.0, 0.0, 0.0, 0.0], [0.3, 0.1, 0.0, 0.2]], dtype=torch.float64, requires_grad=True)
    out = gated_suppress(z, A.double())
    out.sum().backward()
    assert bool(torch.isfinite(out).all()) and bool(torch.isfinite(z.grad).all())


# --------------------------------------------------------------------------- alignment, damage
def test_alignment_values():
    z = torch.tensor([[2.0, 0.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0], [-1.0, 0.0, 0.0, 0.0]])
    torch.testing.assert_close(alignment(z, A), torch.tensor([1.0, 1 / math.sqrt(2), 0.0]))


def test_damage_is_zero_for_the_identity_and_positive_for_a_wrecking_edit():
    torch.manual_seed(0)
    model = ColorAutoencoder(4, 16, True, "gelu")
    _, rgb = named_colours()
    d0 = damage(model.encode, model.decode, rgb, lambda z: z)
    torch.testing.assert_close(d0, torch.zeros(len(rgb)))
    x = rgb[:3]
    base = ((model.decode(model.encode(x)) - x) ** 2).mean(1)
    edit = lambda z: -z
    expected = ((model.decode(-model.encode(x)) - x) ** 2).mean(1) - base
    torch.testing.assert_close(damage(model.encode, model.decode, x, edit), expected.detach())


def test_named_colours():
    names, rgb = named_colours()
    assert names[:3] == ("red", "orange", "yellow") and names[-3:] == ("black", "grey", "white")
    assert rgb.shape == (15, 3) and rgb.dtype == torch.float32
    torch.testing.assert_close(rgb[0], torch.tensor([1.0, 0.0, 0.0]))
    torch.testing.assert_close(rgb[1], torch.tensor([1.0, 0.5, 0.0]))
    torch.testing.assert_close(rgb[-2], torch.tensor([0.5, 0.5, 0.5]))


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("fn", [suppress, gated_suppress, alignment])
def test_bad_latents(fn):
    with pytest.raises(TypeError, match="z"):
        fn(np.zeros((2, 4)), A)
    with pytest.raises(ValueError, match="z"):
        fn(torch.zeros(4), A)
    with pytest.raises(ValueError, match="NaN"):
        fn(torch.full((2, 4), float("nan")), A)
    with pytest.raises(TypeError, match="floating"):
        fn(torch.zeros(2, 4, dtype=torch.long), A)


@pytest.mark.parametrize("fn", [suppress, gated_suppress, alignment])
def test_bad_anchor(fn):
    z = torch.ones(2, 4)
    with pytest.raises(ValueError, match="anchor"):
        fn(z, torch.ones(3))
    with pytest.raises(ValueError, match="non-zero"):
        fn(z, torch.zeros(4))
    with pytest.raises(TypeError, match="anchor"):
        fn(z, [1.0, 0.0, 0.0, 0.0])


def test_bad_gate_settings():
    z = torch.ones(2, 4)
    with pytest.raises(ValueError, match="sharpness"):
        gated_suppress(z, A, sharpness=0)
    with pytest.raises(TypeError, match="strength"):
        gated_suppress(z, A, strength="2")


def test_bad_damage_input():
    model = ColorAutoencoder(4, 16, True, "gelu")
    ok = torch.rand(3, 3)
    with pytest.raises(ValueError, match="rgb"):
        damage(model.encode, model.decode, torch.rand(3, 4), lambda z: z)
    with pytest.raises(ValueError, match="empty"):
        damage(model.encode, model.decode, torch.rand(0, 3), lambda z: z)
    with pytest.raises(TypeError, match="edit"):
        damage(model.encode, model.decode, ok, None)
    with pytest.raises(ValueError, match="edit must return"):
        damage(model.encode, model.decode, ok, lambda z: z[:, :2])
