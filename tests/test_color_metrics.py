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


# --------------------------------------------------------------------------- trained arc, band, transitions

from course_lib.color import arc_sweep, probe_wheel, transition_epoch, transition_epochs, wheel_report  # noqa: E402


def _circle(angle):
    return np.stack([np.cos(angle), np.sin(angle)], axis=-1)


def test_wheel_report_perfect_wheel_and_gap():
    hue = probe_wheel().hue
    r = wheel_report(hue, _circle(2 * np.pi * hue))
    assert r["trained_wheel"] and r["band_placed"] and r["probe_wheel"]
    # the band's trained neighbours are 149° and 241°: 92° apart
    assert r["gap_deg"] == pytest.approx(92.0)
    assert r["trained_sweep_deg"] == pytest.approx(268.0)
    assert r["band_inside"] == 1.0 and r["band_order"] == 1.0


def test_wheel_report_stretched_arc_gap():
    hue = probe_wheel().hue
    # trained arc stretched to 300°, band squeezed into 60°: gap 60°, still placed in order
    from course_lib.color import in_band
    band = in_band(hue)
    start = np.mod(hue - 241 / 360, 1.0)  # 0 at 241°, along the arc
    angle = np.where(band, 0.0, start / start[~band].max() * np.radians(300))
    pos = np.mod(hue[band] - 150 / 360, 1) / (90 / 360)
    angle[band] = np.radians(300) + (pos * 58 + 1) * np.pi / 180
    r = wheel_report(hue, _circle(angle))
    assert r["gap_deg"] == pytest.approx(60.0)
    assert r["band_placed"]


def test_wheel_report_band_folded_back():
    hue = probe_wheel().hue
    z = _circle(2 * np.pi * hue)
    from course_lib.color import in_band
    band = in_band(hue)
    z[band] = z[band][::-1]  # band reversed: in the gap, wrong order
    r = wheel_report(hue, z)
    assert r["trained_wheel"] and not r["band_placed"] and r["band_order"] < 0.1


def test_wheel_report_loop_off_origin_and_batch():
    hue = probe_wheel().hue
    wheel = _circle(2 * np.pi * hue)
    off = 0.3 * wheel + np.array([2.0, 0.0])  # an ordered loop that misses the origin
    r = wheel_report(hue, np.stack([wheel, off, -wheel[:, ::-1]]))
    assert r["trained_wheel"].tolist() == [True, False, True]
    assert r["loop_wheel"].tolist() == [True, True, True]
    assert np.isnan(r["gap_deg"][1])
    assert r["probe_winding"].tolist() == [1, 0, -1]


def test_wheel_report_double_wrap_and_blob():
    hue = probe_wheel().hue
    r = wheel_report(hue, _circle(4 * np.pi * hue))
    assert not r["trained_wheel"] and not r["probe_wheel"]
    rng = np.random.default_rng(0)
    r = wheel_report(hue, rng.normal(size=(360, 2)))
    assert not r["trained_wheel"]


def test_wheel_report_bad_input():
    hue = probe_wheel().hue
    with pytest.raises(ValueError, match="z"):
        wheel_report(hue, np.zeros((10, 2)))
    with pytest.raises(ValueError, match="distinct"):
        wheel_report(np.zeros(360), np.ones((360, 2)))
    with pytest.raises(ValueError, match="min_score"):
        wheel_report(hue, np.ones((360, 2)), min_score=2)
    with pytest.raises(ValueError, match="NaN"):
        wheel_report(hue, np.full((360, 2), np.nan))


def test_arc_sweep():
    sweep, order = arc_sweep(np.radians(np.array([170.0, -170.0, -150.0])))  # across ±180°
    assert np.degrees(sweep) == pytest.approx(40.0) and order == 1.0
    with pytest.raises(ValueError, match="angles"):
        arc_sweep(np.array([1.0]))


def test_transition_epoch():
    e = np.array([0, 10, 20, 30, 40])
    assert transition_epoch(e, np.array([0.1, 0.96, 0.5, 0.96, 0.97]), 0.95) == 30
    assert transition_epoch(e, np.array([0.96] * 5), 0.95) == 0
    assert transition_epoch(e, np.array([0.96, 0.96, 0.96, 0.96, 0.1]), 0.95) is None
    assert transition_epoch(e, np.array([0.1, 0.95, 0.95, 0.95, 0.95]), 0.95) == 10  # >=
    assert transition_epoch(e, np.array([False, True, True, False, True]), 0.5) == 40
    batch = transition_epochs(e, np.array([[0, 1, 1, 1, 1], [1, 1, 1, 1, 0]]), 0.5)
    assert batch[0] == 10 and np.isnan(batch[1])


def test_transition_epoch_bad_input():
    with pytest.raises(ValueError, match="scores"):
        transition_epoch(np.arange(3), np.arange(4), 0.5)
    with pytest.raises(ValueError, match="increasing"):
        transition_epoch(np.array([0, 10, 10]), np.ones(3), 0.5)
    with pytest.raises(ValueError, match="epochs"):
        transition_epoch(np.array([]), np.array([]), 0.5)
    with pytest.raises(ValueError, match="NaN"):
        transition_epoch(np.arange(3), np.array([0.1, np.nan, 1]), 0.5)


def test_transition_summary_and_format():
    from course_lib import color

    s = color.transition_summary(np.array([0.0, 100.0, np.nan, 200.0, 300.0]))
    assert s == {"n": 5, "never": 1, "median": 150.0, "q1": 75.0, "q3": 225.0}
    text = color.format_transitions(np.array([0.0, 100.0, np.nan, 200.0, 300.0]))
    assert text.startswith("median 150 (IQR 75–225) of 4 that formed; never: 1/5 = 20% (95% CI")
    none = color.transition_summary([np.nan, np.nan])
    assert none["never"] == 2 and np.isnan(none["median"])
    assert color.format_transitions([np.nan]).startswith("none formed; never: 1/1")
    with pytest.raises(ValueError):
        color.transition_summary([])
