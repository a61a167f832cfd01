"""The crumpling metric on constructed wheels: clean, folded, saddle-shaped, collapsed."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.curriculum import DEFAULT_THRESHOLD, crumpling, crumpling_report, total_turning

N = 36
HUE = np.arange(N) / N
THETA = 2 * np.pi * HUE


def ring(angle=THETA, radius=1.0, lift=None):
    lift = np.zeros_like(angle) if lift is None else lift
    return np.stack([radius * np.cos(angle), radius * np.sin(angle), lift], axis=1)


def saddle(a):
    return ring(lift=a * np.cos(2 * THETA))


def folded(width=0.2, at=0.3):
    """Hues in [at, at + width) run backwards, the rest catch up: a hairpin in the plane."""
    h = HUE
    back = 2 * np.pi * (at - (h - at))
    rest = 2 * np.pi * (at - width + (h - at - width) * (1 - at + width) / (1 - at - width))
    angle = np.where((h >= at) & (h < at + width), back, np.where(h >= at + width, rest, THETA))
    return ring(angle)


def random_rotation(seed, d=3):
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(d, d)))
    return q


# --------------------------------------------------------------------------- clean wheels
def test_a_clean_circle_is_not_crumpled():
    assert crumpling(HUE, ring()) == pytest.approx(0.0, abs=1e-9)
    assert total_turning(HUE, ring()) == pytest.approx(1.0, abs=1e-9)
    report = crumpling_report(HUE, ring())
    assert report["order"] == 1.0 and abs(report["winding"]) == 1
    assert report["out_of_plane"] == pytest.approx(0.0) and not report["crumpled"]


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), scale=st.floats(1e-3, 1e3), aspect=st.floats(0.2, 1.0),
       shift=st.floats(-10, 10))
def test_flat_convex_loops_anywhere_score_zero(seed, scale, aspect, shift):
    """Ellipses of any size, rotated into any plane of 3-D space and moved anywhere."""
    z = ring() * np.array([scale, scale * aspect, 0.0])
    z = z @ random_rotation(seed).T + shift
    assert crumpling(HUE, z) == pytest.approx(0.0, abs=1e-6)


def test_uneven_hue_spacing_does_not_count():
    """A wheel that crowds some hues together (common in trained models) is still flat and round."""
    angle = THETA + 0.8 * np.sin(3 * THETA) / 3  # monotone, but far from uniform
    assert crumpling(HUE, ring(angle)) == pytest.approx(0.0, abs=1e-9)


def test_convex_polygons_with_sharp_corners_score_zero():
    """ReLU encoders map the hue circle to piecewise-linear loops: corners are not crumples."""
    corners = 2 * np.pi * np.arange(6) / 6
    hexagon = np.stack([np.cos(corners), np.sin(corners)], 1)
    side = np.floor(HUE * 6).astype(int)
    frac = (HUE * 6 - side)[:, None]
    z = (1 - frac) * hexagon[side] + frac * hexagon[(side + 1) % 6]
    assert crumpling(HUE, z) == pytest.approx(0.0, abs=1e-9)
    square = np.clip(1.5 * ring()[:, :2], -1, 1)
    assert crumpling(HUE, square) == pytest.approx(0.0, abs=1e-9)


def test_a_cone_of_brightness_rings_is_averaged_per_hue():
    hue = np.concatenate([HUE, HUE])
    z = np.concatenate([ring(radius=1.0), ring(radius=0.8, lift=np.full(N, -0.3))])
    assert crumpling(hue, z) == pytest.approx(0.0, abs=1e-9)


def test_small_jitter_is_not_crumpling():
    rng = np.random.default_rng(0)
    for sigma in (0.01, 0.03):
        z = ring() + rng.normal(0, sigma, (N, 3))
        assert crumpling(HUE, z) < 0.1
    dense = np.arange(360) / 360
    z = ring(2 * np.pi * dense) + rng.normal(0, 0.01, (360, 3))
    assert crumpling(dense, z) < 0.05


# --------------------------------------------------------------------------- crumpled wheels
def test_a_saddle_ring_is_crumpled_in_proportion_to_its_bend():
    values = [crumpling(HUE, saddle(a)) for a in (0.0, 0.1, 0.3, 0.5, 1.0)]
    assert values[0] == pytest.approx(0.0, abs=1e-9)
    assert all(b > a for a, b in zip(values, values[1:]))  # monotone in the bend
    assert values[2] == pytest.approx(0.15, abs=0.02) and values[3] == pytest.approx(0.25, abs=0.02)
    report = crumpling_report(HUE, saddle(0.5))
    # seen from above it is a perfect wheel: only the 3-D measures catch it
    assert report["order"] == 1.0 and abs(report["winding"]) == 1
    assert report["out_of_plane"] == pytest.approx(0.5 / np.sqrt(2))
    assert report["crumpled"] and not crumpling_report(HUE, saddle(0.1))["crumpled"]


def test_a_twisted_ring_is_crumpled():
    """A ring that tilts out of plane three times round (a wavy, twisted band)."""
    z = ring(lift=0.6 * np.sin(3 * THETA))
    assert crumpling(HUE, z) > DEFAULT_THRESHOLD


def test_a_fold_adds_about_a_full_turn():
    for width in (0.1, 0.2):
        c = crumpling(HUE, folded(width))
        assert 0.45 <= c < 0.7  # turns ≈ 2: a hairpin turns the tangent round once more
        report = crumpling_report(HUE, folded(width))
        assert report["crumpled"] and report["order"] < 1.0
        assert report["out_of_plane"] == pytest.approx(0.0)  # flat, yet crumpled


def test_a_fold_narrower_than_the_smoothing_is_ignored_unless_smoothing_is_off():
    narrow = folded(width=0.05)
    assert crumpling(HUE, narrow) < 0.05
    assert crumpling(HUE, narrow, smoothing=0.0) >= 0.45


def test_winding_twice_is_crumpled():
    report = crumpling_report(HUE, ring(2 * THETA))
    assert report["crumpling"] == pytest.approx(0.5, abs=1e-6) and abs(report["winding"]) == 2


def test_a_blob_is_badly_crumpled():
    rng = np.random.default_rng(1)
    values = [crumpling(HUE, rng.normal(0, 1, (N, 3))) for _ in range(10)]
    assert min(values) > 0.6
    tiny = 1e-4 * rng.normal(0, 1, (N, 3)) + 5.0  # collapsed to a tiny blob somewhere
    assert crumpling(HUE, tiny) > 0.6
    assert crumpling(HUE, np.full((N, 3), 2.0)) == 1.0  # collapsed to a point
    assert np.isnan(crumpling_report(HUE, np.full((N, 3), 2.0))["out_of_plane"])


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), d=st.integers(2, 5))
def test_crumpling_is_in_the_unit_interval(seed, d):
    z = np.random.default_rng(seed).normal(size=(N, d))
    assert 0.0 <= crumpling(HUE, z) <= 1.0


# --------------------------------------------------------------------------- batches and inputs
def test_a_batch_of_models_at_once():
    batch = np.stack([ring(), saddle(0.5), folded(0.2)])
    out = crumpling(HUE, batch)
    assert out.shape == (3,)
    np.testing.assert_allclose(out, [crumpling(HUE, z) for z in batch])
    assert crumpling(HUE, np.stack([batch, batch])).shape == (2, 3)


def test_sample_order_and_tensors_do_not_matter():
    perm = np.random.default_rng(2).permutation(N)
    z = saddle(0.3)
    assert crumpling(HUE[perm], z[perm]) == pytest.approx(crumpling(HUE, z))
    assert crumpling(torch.tensor(HUE), torch.tensor(z, dtype=torch.float32)) == \
        pytest.approx(crumpling(HUE, z), abs=1e-5)
    assert crumpling(HUE + 1.0, z) == pytest.approx(crumpling(HUE, z))  # hue wraps


def test_bad_input_is_named():
    z = ring()
    with pytest.raises(TypeError, match="hue must be a numpy array"):
        crumpling(list(HUE), z)
    with pytest.raises(TypeError, match="z must be a numpy array"):
        crumpling(HUE, z.tolist())
    with pytest.raises(ValueError, match=r"hue must have shape \(N,\)"):
        crumpling(HUE[None], z)
    with pytest.raises(ValueError, match=r"z must have shape \(\.\.\., 36, d\)"):
        crumpling(HUE, z[:-1])
    with pytest.raises(ValueError, match="d ≥ 2"):
        crumpling(HUE, z[:, :1])
    with pytest.raises(ValueError, match="z contains NaN"):
        crumpling(HUE, np.where(np.arange(N)[:, None] == 3, np.nan, z))
    with pytest.raises(ValueError, match="hue contains NaN"):
        crumpling(np.where(np.arange(N) == 3, np.nan, HUE), z)
    with pytest.raises(ValueError, match="at least 4 distinct hues"):
        crumpling(np.array([0.0, 0.0, 0.5, 0.5]), z[:4])
    with pytest.raises(ValueError, match="smoothing must be in"):
        crumpling(HUE, z, smoothing=0.5)
    with pytest.raises(TypeError, match="smoothing must be a real number"):
        crumpling(HUE, z, smoothing="a little")
    with pytest.raises(ValueError, match="threshold must be"):
        crumpling_report(HUE, z, threshold=2.0)
    with pytest.raises(ValueError, match="one model"):
        crumpling_report(HUE, np.stack([z, z]))
