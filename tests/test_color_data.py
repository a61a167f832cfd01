"""Colour data sets: sizes, band membership, validation."""

import numpy as np
import pytest
import torch

from course_lib.color import (
    HELD_OUT_BAND,
    ColorData,
    bottleneck_dataset,
    hsv_grid,
    hsv_to_rgb,
    hue_wheel,
    in_band,
    probe_wheel,
    rgb_cube,
)


def test_hue_wheel():
    w = hue_wheel(12, saturation=0.5, value=0.8)
    assert w.shape == (12, 3)
    np.testing.assert_allclose(w[:, 0], np.arange(12) / 12)
    assert np.all(w[:, 1] == 0.5) and np.all(w[:, 2] == 0.8)
    assert hue_wheel().shape == (360, 3) and hue_wheel()[:, 0].max() < 1


def test_hsv_grid_and_rgb_cube():
    g = hsv_grid(36, 10, 10)
    assert g.shape == (3600, 3)
    assert len(np.unique(g[:, 0])) == 36 and g[:, 0].max() < 1
    np.testing.assert_allclose(np.unique(g[:, 1]), np.linspace(0, 1, 10))
    assert hsv_grid(4, 1, 1).shape == (4, 3)
    c = rgb_cube(8)
    assert c.shape == (512, 3) and c.min() == 0 and c.max() == 1
    assert len(np.unique(c, axis=0)) == 512


def test_bottleneck_dataset_counts():
    d = bottleneck_dataset()
    assert len(d) == 720
    assert (~d.held_out).sum() == 538 and d.held_out.sum() == 182
    assert d.train_rgb.shape == (538, 3) and d.train_rgb.dtype == torch.float32
    assert d.held_out_rgb.shape == (182, 3) and d.held_out_rgb.dtype == torch.float32
    assert np.all(d.hsv[:, 1] == 1.0)
    assert set(np.round(d.hsv[:, 2], 6)) == {0.9, 1.0}
    np.testing.assert_allclose(d.rgb, hsv_to_rgb(d.hsv))


def test_band_membership_is_inclusive():
    d = bottleneck_dataset()
    deg = np.rint(d.hsv[:, 0] * 360)
    np.testing.assert_array_equal(d.held_out, (deg >= 150) & (deg <= 240))
    assert HELD_OUT_BAND == pytest.approx((150 / 360, 240 / 360))
    assert in_band(np.array([150 / 360, 240 / 360, 149 / 360, 241 / 360, 1 + 200 / 360])).tolist() == [
        True, True, False, False, True]


def test_other_settings():
    d = bottleneck_dataset(step_deg=10, values=(1.0,), band=(0.0, 0.1))
    assert len(d) == 36
    assert d.held_out.sum() == 4  # the band is 0°–36°: hues 0°, 10°, 20°, 30°
    p = probe_wheel()
    assert len(p) == 360 and p.held_out.sum() == 91
    assert np.all(p.hsv[:, 1:] == 1)
    assert probe_wheel(36).rgb.shape == (36, 3)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: hue_wheel(0), "n must be a positive int"),
        (lambda: hue_wheel(10, saturation=1.5), "saturation must be in"),
        (lambda: hue_wheel(10, value=-0.1), "value must be in"),
        (lambda: hue_wheel(10, value=float("nan")), "value must be in"),
        (lambda: hsv_grid(0, 2, 2), "n_hue"),
        (lambda: hsv_grid(2, -1, 2), "n_sat"),
        (lambda: rgb_cube(1), "n must be at least 2"),
        (lambda: bottleneck_dataset(step_deg=0), "step_deg"),
        (lambda: bottleneck_dataset(values=()), "values must not be empty"),
        (lambda: bottleneck_dataset(values=(0.9, 1.2)), r"values\[1\]"),
        (lambda: bottleneck_dataset(band=(0.5, 0.2)), "lo < hi"),
        (lambda: bottleneck_dataset(band=(0.2, 1.5)), r"band\[1\]"),
        (lambda: bottleneck_dataset(band=0.3), "pair"),
    ],
)
def test_validation(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_type_errors():
    with pytest.raises(TypeError, match="n must be an int"):
        hue_wheel(3.5)
    with pytest.raises(TypeError, match="values"):
        bottleneck_dataset(values="0.9")


def test_colordata_validates():
    hsv = hue_wheel(4)
    with pytest.raises(ValueError, match="rgb must have the same shape"):
        ColorData(hsv=hsv, rgb=hsv[:2], held_out=np.zeros(4, bool))
    with pytest.raises(ValueError, match="held_out must be a bool array"):
        ColorData(hsv=hsv, rgb=hsv, held_out=np.zeros(4))
    with pytest.raises(ValueError, match=r"hsv must have shape \(N, 3\)"):
        ColorData(hsv=np.zeros((4, 2)), rgb=np.zeros((4, 2)), held_out=np.zeros(4, bool))
