"""Deleting a latent dimension, the anti-subspace term, and the recovery step."""

from __future__ import annotations

import pytest
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
