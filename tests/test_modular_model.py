"""Tests for course_lib.modular.model: the fast forward against full attention, input checks, the float64 loss."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib.modular.data import modular_addition_data
from course_lib.modular.model import ModularTransformer, cross_entropy

torch.set_num_threads(1)


def test_model_fast_forward_matches_full_attention():
    g = torch.Generator().manual_seed(0)
    m = ModularTransformer(11, d_model=32, n_heads=4, d_mlp=64, generator=g)
    with torch.no_grad():  # make attention non-trivial: random, larger weights
        m.W_Q.mul_(4), m.W_K.mul_(4)
    pairs = modular_addition_data(11, 0.5, 0).pairs
    fast, full = m(pairs), m.forward_all_positions(pairs)
    assert fast.shape == (121, 11)
    assert torch.allclose(fast, full, atol=1e-5)
    logits, mlp_part = m.logits_and_mlp_part(pairs)
    assert torch.allclose(logits, fast, atol=1e-6) and mlp_part.shape == logits.shape
    assert not torch.allclose(mlp_part, logits)
    assert torch.allclose(m(pairs.int()), fast)


@pytest.mark.parametrize("bad, err", [
    (np.zeros((4, 2), dtype=int), TypeError), (torch.zeros(4, 2), TypeError),
    (torch.zeros(4, 3, dtype=torch.long), ValueError), (torch.zeros(4, dtype=torch.long), ValueError),
    (torch.tensor([[0, 11]]), ValueError), (torch.tensor([[-1, 0]]), ValueError)])
def test_model_bad_input(bad, err):
    m = ModularTransformer(11, d_model=16, n_heads=2, d_mlp=32)
    with pytest.raises(err, match="pairs"):
        m(bad)


def test_model_bad_config():
    with pytest.raises(ValueError, match="divisible"):
        ModularTransformer(11, d_model=30, n_heads=4)
    with pytest.raises(ValueError, match="prime"):
        ModularTransformer(12)
    with pytest.raises(ValueError, match="d_mlp"):
        ModularTransformer(11, d_mlp=0)


def test_cross_entropy_is_float64_and_exact():
    logits = torch.randn(20, 7, generator=torch.Generator().manual_seed(0))
    y = torch.randint(0, 7, (20,), generator=torch.Generator().manual_seed(1))
    loss = cross_entropy(logits, y)
    assert loss.dtype == torch.float64
    assert abs(float(loss) - float(F.cross_entropy(logits, y))) < 1e-6
    confident = torch.full((1, 7), -15.0)
    confident[0, 3] = 15.0  # true loss ln(1 + 6e⁻³⁰) ≈ 5.6e-13, below float32's resolution near 1
    true = math.log1p(6 * math.exp(-30))
    assert float(cross_entropy(confident, torch.tensor([3]))) == pytest.approx(true, rel=1e-3)
    assert float(F.cross_entropy(confident, torch.tensor([3]))) == 0.0  # float32 loses it entirely
