"""Wheel metrics on synthetic latents with known answers."""

import numpy as np
import pytest
import torch

from course_lib.color import (
    HELD_OUT_BAND,
    band_gap,
    hue_order_score,
    in_band,
    is_wheel,
    latent_angles,
    winding_number,
    wrap_angle,
)

HUE = np.arange(360) / 360


def circle(theta, radius=1.0):
    return radius * np.stack([np.cos(theta), np.sin(theta)], axis=-1)


def test_latent_angles_and_wrap():
    z = np.array([[1.0, 0.0], [0.0, 2.0], [-1.0, 0.0], [0.0, -1.0]])
    np.testing.assert_allclose(latent_angles(z), [0, np.pi / 2, np.pi, -np.pi / 2])
    w = wrap_angle(np.array([np.pi, -np.pi, 3 * np.pi, 0.5, -4.0]))
    np.testing.assert_allclose(w, [np.pi, np.pi, np.pi, 0.5, -4.0 + 2 * np.pi])
    assert latent_angles(np.zeros((2, 5, 3))).shape == (2, 5)


def test_perfect_wheel():
    z = circle(2 * np.pi * HUE)
    assert hue_order_score(HUE, z) == 1.0
    assert winding_number(HUE, z) == 1
    assert is_wheel(HUE, z)


def test_reversed_rotated_scaled_wheel():
    z = circle(1.3 - 2 * np.pi * HUE, radius=0.4)
    assert hue_order_score(HUE, z) == 1.0
    assert winding_number(HUE, z) == -1
    assert is_wheel(HUE, z)


def test_shuffled_input_order_does_not_matter():
    rng = np.random.default_rng(0)
    perm = rng.permutation(360)
    z = circle(2 * np.pi * HUE)
    assert hue_order_score(HUE[perm], z[perm]) == 1.0
    assert winding_number(HUE[perm], z[perm]) == 1


def test_random_latents_score_low():
    rng = np.random.default_rng(1)
    z = rng.normal(size=(360, 2))
    assert hue_order_score(HUE, z) < 0.65
    assert not is_wheel(HUE, z)


def test_double_wrap():
    z = circle(4 * np.pi * HUE)
    assert winding_number(HUE, z) == 2
    assert hue_order_score(HUE, z) == 1.0
    assert not is_wheel(HUE, z)


def test_noisy_wheel_and_off_centre_loop():
    rng = np.random.default_rng(2)
    z = circle(2 * np.pi * HUE + rng.normal(scale=0.008, size=360))
    assert 0.8 < hue_order_score(HUE, z) < 1.0
    assert winding_number(HUE, z) == 1
    loop = circle(2 * np.pi * HUE) + np.array([3.0, 0.0])  # a loop that misses the origin
    assert winding_number(HUE, loop) == 0
    assert not is_wheel(HUE, loop)
    assert is_wheel(HUE, loop, center="mean")
    assert hue_order_score(HUE, loop, center="mean") == 1.0


def test_duplicate_hues_are_merged():
    hue = np.concatenate([HUE, HUE])  # e.g. two brightnesses per hue
    z = np.concatenate([circle(2 * np.pi * HUE), 0.9 * circle(2 * np.pi * HUE + 0.001)])
    assert hue_order_score(hue, z) == 1.0
    assert winding_number(hue, z) == 1


def test_higher_dims_use_first_two():
    z = np.concatenate([circle(2 * np.pi * HUE), np.ones((360, 2))], axis=1)
    assert is_wheel(HUE, z)
    assert is_wheel(HUE, torch.tensor(z))  # tensors are accepted


def test_band_gap_finds_planted_gap():
    outside = ~in_band(HUE)
    # outside hues, in hue order from 241° round to 149°, squeezed onto 270° of the circle;
    # the band's hues planted in the 90° left over, where they belong
    theta = np.empty(360)
    from_241 = np.argsort(np.mod(HUE[outside] - 241 / 360, 1.0))
    theta[np.flatnonzero(outside)[from_241]] = np.linspace(0, 1.5 * np.pi, outside.sum())
    theta[~outside] = np.linspace(1.5 * np.pi + 0.1, 2 * np.pi - 0.1, (~outside).sum())
    assert is_wheel(HUE, circle(theta))
    result = band_gap(HUE, circle(theta))
    assert result["largest_gap_deg"] == pytest.approx(90, abs=1)
    assert result["band_inside_gap"] == 1.0
    assert result["gap_center_hue"] == pytest.approx(np.mean(HELD_OUT_BAND), abs=1 / 360)


def test_band_gap_without_band_samples_and_perfect_wheel():
    z = circle(2 * np.pi * HUE)
    result = band_gap(HUE, z)
    assert result["largest_gap_deg"] == pytest.approx(92, abs=0.01)  # 149° → 241°
    assert result["band_inside_gap"] == 1.0
    outside = ~in_band(HUE)
    result = band_gap(HUE[outside], z[outside])
    assert np.isnan(result["band_inside_gap"])
    # band hues put on the far side: they are not inside the gap
    z_bad = z.copy()
    z_bad[~outside] = circle(np.zeros((~outside).sum()) + 0.01)
    assert band_gap(HUE, z_bad)["band_inside_gap"] == 0.0


def test_validation():
    with pytest.raises(ValueError, match="hue must have shape"):
        hue_order_score(HUE[:10], circle(HUE))
    with pytest.raises(ValueError, match="d ≥ 2"):
        winding_number(HUE, np.zeros((360, 1)))
    with pytest.raises(ValueError, match="z contains NaN"):
        hue_order_score(HUE[:3], np.array([[0, 1], [np.nan, 0], [1, 1]]))
    with pytest.raises(ValueError, match="hue contains NaN"):
        hue_order_score(np.array([0.1, np.nan]), np.ones((2, 2)))
    with pytest.raises(TypeError, match="hue must be a numpy array"):
        hue_order_score([0.1, 0.2], np.ones((2, 2)))
    with pytest.raises(ValueError, match="at least 2"):
        hue_order_score(np.array([0.1]), np.ones((1, 2)))
    with pytest.raises(ValueError, match="center"):
        winding_number(HUE, circle(HUE), center="median")
    with pytest.raises(ValueError, match="min_score"):
        is_wheel(HUE, circle(HUE), min_score=2)
    with pytest.raises(ValueError, match="outside the band"):
        band_gap(HUE[150:240], circle(HUE[150:240]))
