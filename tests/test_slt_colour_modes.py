"""Tests of course_lib.slt.colour_modes (notebook 5.6) and its exercise checkers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_lib.color.model import ColorAutoencoder
from course_lib.slt import colour_modes as cm
from course_lib.slt.colour_modes_exercises import (
    check_colour_prediction, check_harmonic_r2, check_noise_share, colour_verdict,
    solution_harmonic_r2, solution_noise_share
)
from course_lib.slt.observables import susceptibilities

HUE = np.arange(36) * 10.0


@pytest.mark.parametrize("activation, latent, normalize", [("relu", 2, True),
                                                           ("gelu", 4, True),
                                                           ("relu", 3, False)])
def test_component_autoencoder_is_the_same_function(activation, latent, normalize):
    torch.manual_seed(0)
    src = ColorAutoencoder(latent_dim=latent, hidden=8, normalize=normalize,
                           activation=activation)
    x = torch.rand(50, 3)
    model = cm.ComponentAutoencoder(src, [[5, 0, 2], [1, 3, 4, 6, 7]], [[7], list(range(7))])
    with torch.no_grad():
        (r1, z1), (r2, z2) = src(x), model(x)
        h_e, h_d = model.hidden_activations(x)
        want_e = src.encoder[1](src.encoder[0](x))
    assert torch.allclose(r1, r2, atol=1e-6) and torch.allclose(z1, z2, atol=1e-6)
    assert torch.allclose(h_e, want_e, atol=1e-6) and h_d.shape == (50, 8)
    assert model.cell_names("encoder", 1) == ["e1_in", "e1_b", "e1_out"]


def test_component_autoencoder_bad_input():
    src = ColorAutoencoder(hidden=4)
    with pytest.raises(ValueError, match="selects nothing"):
        cm.ComponentAutoencoder(src, [[0, 1, 2, 3], []])
    with pytest.raises(ValueError, match="partition"):
        cm.ComponentAutoencoder(src, [[0, 1], [1, 2, 3]])
    with pytest.raises(TypeError, match="ColorAutoencoder"):
        cm.ComponentAutoencoder(torch.nn.Linear(3, 3))
    with pytest.raises(ValueError, match="layer"):
        cm.ComponentAutoencoder(src).cell_names("middle", 0)
    with pytest.raises(ValueError, match="shape"):
        cm.ComponentAutoencoder(src)(torch.rand(5, 4))


def test_preferred_hues_and_groups():
    rad = np.radians(HUE)
    acts = np.stack([np.maximum(np.cos(rad - np.radians(c)), 0) for c in (0, 90, 200)]
                    + [np.zeros(36)], axis=1)
    pref = cm.preferred_hues(acts, HUE)
    assert np.allclose(pref[:3], [0, 90, 200], atol=1e-6) and np.isnan(pref[3])
    groups = cm.hue_groups(pref, 2)
    assert [g.tolist() for g in groups] == [[0, 1], [2, 3]]
    with pytest.raises(ValueError, match="divisible"):
        cm.hue_groups(pref, 3)
    with pytest.raises(ValueError, match="acts"):
        cm.preferred_hues(acts[:10], HUE)


def test_colour_components_groupings():
    torch.manual_seed(1)
    src = ColorAutoencoder(hidden=16)
    hue_setup = cm.colour_components(src, grouping="hue")
    rnd_setup = cm.colour_components(src, grouping="random", seed=3)
    for setup in (hue_setup, rnd_setup):
        assert len(setup.components) == 8
        for layer in ("encoder", "decoder"):
            idx = np.concatenate([g for n, g in setup.groups.items()
                                  if setup.layers[n] == layer])
            assert sorted(idx.tolist()) == list(range(16))
    sizes = lambda s: sorted(len(g) for g in s.groups.values())  # noqa: E731
    assert sizes(hue_setup) == sizes(rnd_setup)
    with pytest.raises(ValueError, match="grouping"):
        cm.colour_components(src, grouping="by colour")


def test_harmonic_r2_and_wheel_stats():
    rad = np.radians(HUE)
    wheel = np.stack([np.cos(rad), np.sin(rad)], axis=1)
    assert cm.harmonic_r2(wheel, HUE) == pytest.approx(1.0)
    s = cm.wheel_stats(wheel + 5.0, HUE)
    assert s.r2 == pytest.approx(1.0) and s.order == 1.0 and abs(s.winding) == 1
    twice = np.stack([np.cos(2 * rad), np.sin(2 * rad)], axis=1)
    assert cm.harmonic_r2(twice, HUE) < 1e-9 and abs(cm.wheel_stats(twice, HUE).winding) == 2
    null = cm.wheel_null(wheel, HUE, shuffles=50)
    assert null.shape == (50, 2) and np.quantile(null[:, 0], 0.99) < 0.5
    with pytest.raises(ValueError, match="loadings"):
        cm.wheel_stats(wheel[:, :1], HUE)
    with pytest.raises(ValueError, match="loadings"):
        cm.harmonic_r2(wheel[:30], HUE)
    with pytest.raises(ValueError, match="finite"):
        cm.harmonic_r2(np.full((36, 2), np.nan), HUE)


def test_hue_concentration_and_red_share():
    u = np.zeros(36)
    u[[0, 1, 35]] = 1.0
    hi, lo = (1 - 3 / 36) ** 2, (3 / 36) ** 2   # the band ±25° holds 0, ±10, ±20 degrees
    assert cm.hue_concentration(u, HUE, 0.0) == pytest.approx((3 * hi + 2 * lo)
                                                              / (3 * hi + 33 * lo))
    assert cm.hue_concentration(u + 7.0, HUE, 180.0) < 0.1
    flat = np.random.default_rng(0).standard_normal(36)
    prof = cm.concentration_profile(np.stack([u, flat], 1), HUE)
    assert prof.shape == (2, 36)
    share, mode = cm.red_share(np.stack([flat, u], 1), HUE)
    assert mode == 1 and share > 0.9
    with pytest.raises(ValueError, match="constant"):
        cm.hue_concentration(np.ones(36), HUE)
    with pytest.raises(ValueError, match="width"):
        cm.hue_concentration(u, HUE, width=0)


def test_susceptibilities_on_the_components_runs_and_rejects_empty_masks():
    torch.manual_seed(0)
    src = ColorAutoencoder(hidden=8)
    setup = cm.colour_components(src, n_groups=2)
    rgb, _ = cm.probe_hues(12)
    x = torch.rand(40, 3)

    def loss(model, batch):
        return cm.per_colour_mse(model, batch).mean()

    sus = susceptibilities(setup.model, loss, cm.per_colour_mse, (x,), setup.components,
                           (rgb,), epsilon=1e-3, gamma=100.0, num_chains=2, num_burnin=5,
                           num_draws=10)
    assert sus.chi.shape == (12, 4) and np.all(np.isfinite(sus.chi))
    with pytest.raises(ValueError, match="selects no parameters"):
        susceptibilities(setup.model, loss, cm.per_colour_mse, (x,), {"empty": []},
                         (rgb,), epsilon=1e-3, num_chains=2, num_draws=4, num_burnin=0)


# --------------------------------------------------------------------------- checkers
def test_harmonic_checker_accepts_the_solution():
    assert check_harmonic_r2(solution_harmonic_r2, quiet=True).passed


def _no_intercept(u, h):
    u = np.asarray(u, float).reshape(len(h), -1)
    r = np.radians(h)
    X = np.stack([np.cos(r), np.sin(r)], 1)
    c, *_ = np.linalg.lstsq(X, u, rcond=None)
    return float(1 - ((u - X @ c) ** 2).sum() / ((u - u.mean(0)) ** 2).sum())


def _degrees(u, h):
    return solution_harmonic_r2(u, np.degrees(np.asarray(h)))


def _averaged(u, h):
    u = np.asarray(u, float).reshape(len(h), -1)
    return float(np.mean([solution_harmonic_r2(u[:, i], h) for i in range(u.shape[1])]))


def _even_hues(u, h):   # ignores the hues given: assumes n evenly spaced ones
    u = np.asarray(u, float).reshape(len(h), -1)
    return solution_harmonic_r2(u, np.arange(len(h)) * 360.0 / len(h))


def _projection(u, h):   # Fourier projection: least squares only on an even full circle
    u = np.asarray(u, float).reshape(len(h), -1)
    r = np.radians(h)
    c = u - u.mean(0)
    fit = (2 / len(h)) * (np.outer(np.cos(r), np.cos(r) @ c) + np.outer(np.sin(r), np.sin(r) @ c))
    return float(1 - ((c - fit) ** 2).sum() / (c ** 2).sum())


def _two_columns(u, h):
    u = np.asarray(u, float).reshape(len(h), -1)
    return solution_harmonic_r2(u[:, :2], h)


@pytest.mark.parametrize("wrong", [_no_intercept, _degrees, _averaged, _even_hues, _projection,
                                   _two_columns])
def test_harmonic_checker_rejects_subtle_errors(wrong):
    assert not check_harmonic_r2(wrong, quiet=True).passed


def test_colour_verdict_and_prediction():
    even = 5 / 36
    v = colour_verdict(0.0, 0.51, 0.09, 0.14, even)
    assert v == {"trained_wheel": "beats all its noise", "untrained_wheel": "within its noise",
                 "anchored_red_mode": False}
    assert colour_verdict(0.03, 0.0, 0.5, 0.1, even) == {
        "trained_wheel": "within its noise", "untrained_wheel": "beats all its noise",
        "anchored_red_mode": True}
    # twice the even share but not above the control: no red mode
    assert not colour_verdict(0.0, 0.0, 0.5, 0.6, even)["anchored_red_mode"]
    with pytest.raises(ValueError, match="share"):
        colour_verdict(1.5, 0.0, 0.1, 0.1, even)
    assert check_colour_prediction(dict(v), 0.0, 0.51, 0.09, 0.14, even, quiet=True).passed
    wrong = {**v, "anchored_red_mode": True}
    assert not check_colour_prediction(wrong, 0.0, 0.51, 0.09, 0.14, even, quiet=True).passed
    # the raw-R² reading (the untrained wheel "as strong" as the trained one, so the same
    # verdict for both) is not what the noise-calibrated measurement says
    raw = {**v, "untrained_wheel": "beats all its noise"}
    assert not check_colour_prediction(raw, 0.0, 0.51, 0.09, 0.14, even, quiet=True).passed
    # the old "neither is learned" reading: both within noise
    neither = {**v, "trained_wheel": "within its noise"}
    assert not check_colour_prediction(neither, 0.0, 0.51, 0.09, 0.14, even,
                                       quiet=True).passed


def test_noise_share_checker_accepts_the_solution():
    assert check_noise_share(solution_noise_share, quiet=True).passed
    assert check_noise_share(lambda r, n: np.mean(np.array(n) >= r), quiet=True).passed
    assert solution_noise_share(0.5, [0.1, 0.5, 0.9]) == pytest.approx(2 / 3)


def _strict(r, n):            # ties counted for the real wheel
    return float(np.mean(np.asarray(n) > r))


def _raw_bar(r, n):           # the raw-R² reading: a high R² is a wheel, whatever the noise
    return 0.0 if r >= 0.5 else 1.0


def _median(r, n):            # "above the typical noise matrix"
    return 0.0 if r > np.median(n) else 1.0


def _q99(r, n):               # a yes/no against the 99th percentile
    return 0.0 if r > np.quantile(n, 0.99) else 1.0


def _count(r, n):             # a count, not a share
    return float(np.sum(np.asarray(n) >= r))


def _below(r, n):             # the share the real wheel beats
    return float(np.mean(np.asarray(n) < r))


@pytest.mark.parametrize("wrong", [_strict, _raw_bar, _median, _q99, _count, _below])
def test_noise_share_checker_rejects_subtle_errors(wrong):
    assert not check_noise_share(wrong, quiet=True).passed


def test_half_difference_is_the_chains_noise_without_their_signal():
    rng = np.random.default_rng(0)
    signal = rng.standard_normal((36, 3))
    noise = 0.1 * rng.standard_normal((4, 36, 3))
    chains = signal + noise
    d = cm.half_difference(chains)
    assert d.shape == (36, 3)
    assert np.allclose(d, (chains[0] + chains[1] - chains[2] - chains[3]) / 4)
    assert np.allclose(d, (noise[0] + noise[1] - noise[2] - noise[3]) / 4)   # signal cancels
    assert np.allclose(cm.half_difference(np.repeat(signal[None], 2, axis=0)), 0)
    with pytest.raises(ValueError, match="even number"):
        cm.half_difference(chains[:3])
    bad = chains.copy()
    bad[1, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        cm.half_difference(bad)
    with pytest.raises(ValueError, match="chain_chi"):
        cm.half_difference(chains[0])


def test_noise_only_wheel_reads_the_half_difference_like_chi():
    rng = np.random.default_rng(1)
    h = np.radians(HUE)
    wave = np.stack([np.cos(h), np.sin(h), np.cos(h + 1.0)], axis=1)
    # every chain the same wave plus small noise: the estimate is a wheel, its noise-only part is not
    chains = wave + 0.05 * rng.standard_normal((4, 36, 3))
    entry = {"chi": chains.mean(0), "chain_chi": chains, "components": ["a", "b", "c"]}
    wheel, null_q = cm.noise_only_wheel(entry, rank=2, shuffles=50, seed=0)
    assert null_q.shape == (2,)
    from course_lib.slt.components import svd_modes

    modes = svd_modes(chains.mean(0), ["a", "b", "c"], 2)
    assert cm.wheel_stats(modes.loadings, HUE).r2 > 0.99 > wheel.r2


def _entry(chains, names=("a", "b", "c")):
    return {"chi": chains.mean(0), "chain_chi": chains, "components": list(names)}


def test_live_columns_drops_a_dead_group():
    rng = np.random.default_rng(2)
    chi = rng.standard_normal((36, 4))
    chi[:, 2] *= 1e-6
    keep = cm.live_columns(chi, list("abcd"))
    assert keep.tolist() == [True, True, False, True]
    assert cm.live_columns(chi, list("abcd"), rel=1e-7).all()
    with pytest.raises(ValueError, match="components"):
        cm.live_columns(chi, list("abc"))
    with pytest.raises(ValueError, match="rel"):
        cm.live_columns(chi, list("abcd"), rel=0)
    with pytest.raises(ValueError, match="chi must be"):
        cm.live_columns(chi[:, 0], ["a"])
    with pytest.raises(ValueError, match="median"):
        cm.live_columns(np.zeros((36, 3)), list("abc"))
    bad = chi.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        cm.live_columns(bad, list("abcd"))


def test_noise_calibrated_wheel_separates_a_shared_wheel_from_noise():
    rng = np.random.default_rng(3)
    h = np.radians(HUE)
    wave = np.stack([np.cos(h), np.sin(h), np.cos(h + 1.0)], axis=1)
    chains = wave + 0.05 * rng.standard_normal((8, 36, 3))
    cal = cm.noise_calibrated_wheel(_entry(chains), rank=2)
    assert cal.n == 35 and cal.noise_order.shape == (35,)
    assert cal.r2 > 0.99 and cal.share == 0.0 and cal.margin > 0
    med, q99, top = cal.quantiles()
    assert med <= q99 <= top == cal.noise_r2.max()
    # pure noise: the real matrix is one more draw of the same noise, never far above it
    noise = rng.standard_normal((8, 36, 3))
    assert cm.noise_calibrated_wheel(_entry(noise), rank=2).share > 0.0
    # a dead column is dropped before the SVD, in the real matrix and the noise alike
    dead = np.concatenate([chains, 1e-9 * rng.standard_normal((8, 36, 1))], axis=2)
    cal_dead = cm.noise_calibrated_wheel(_entry(dead, "abcd"), rank=2)
    assert np.isclose(cal_dead.r2, cal.r2) and np.allclose(cal_dead.noise_r2, cal.noise_r2)
    with pytest.raises(ValueError, match="8 chains"):
        cm.noise_calibrated_wheel(_entry(chains[:4]), rank=2)
    with pytest.raises(ValueError, match="min_chains"):
        cm.noise_calibrated_wheel(_entry(chains), rank=2, min_chains=1)


def test_colour_readers_use_the_chain_mean_that_the_contrasts_match():
    """The all-plus signed mean is the real matrix: a pooled chi with a between-chain term
    (here a large offset) changes no reading."""
    rng = np.random.default_rng(9)
    h = np.radians(HUE)
    wave = np.stack([np.cos(h), np.sin(h), np.cos(h + 1.0)], axis=1)
    chains = wave + 0.3 * rng.standard_normal((8, 36, 3))
    mean = _entry(chains)
    pooled = {**mean, "chi": chains.mean(0) + rng.standard_normal((36, 3))}
    a, b = cm.noise_calibrated_wheel(mean, rank=2), cm.noise_calibrated_wheel(pooled, rank=2)
    assert (a.r2, a.ratio) == (b.r2, b.ratio) and np.array_equal(a.noise_r2, b.noise_r2)
    ta, tb = cm.wheel_test_2d(mean), cm.wheel_test_2d(pooled)
    assert np.array_equal(ta.sv, tb.sv) and ta.share == tb.share
    assert np.allclose(cm._live(pooled)[0], chains.mean(0))


def test_noise_split_half_is_the_split_half_of_two_noise_matrices():
    from course_lib.slt.components import split_half_reliability

    rng = np.random.default_rng(4)
    chains = rng.standard_normal((8, 36, 3))
    got = cm.noise_split_half(chains, list("abc"), 2)
    a = (chains[:2].mean(0) - chains[2:4].mean(0)) / 2
    b = (chains[4:6].mean(0) - chains[6:].mean(0)) / 2
    assert np.allclose(got, split_half_reliability(np.stack([a, b]), list("abc"), 2))
    # a signal shared by every chain cancels: what is left is the noise's own reliability
    shifted = chains + 100 * rng.standard_normal((1, 36, 3))
    assert np.allclose(cm.noise_split_half(shifted, list("abc"), 2), got)
    for bad in (chains[:6], chains[0], chains[:2]):
        with pytest.raises(ValueError, match="divisible by 4"):
            cm.noise_split_half(bad, list("abc"), 2)


def test_read_colour_modes_drops_dead_columns_and_calibrates_with_8_chains():
    rng = np.random.default_rng(5)
    h = np.radians(HUE)
    wave = np.stack([np.cos(h), np.sin(h), np.cos(h + 1.0)], axis=1)
    chains = np.concatenate([wave + 0.05 * rng.standard_normal((8, 36, 3)),
                             1e-9 * rng.standard_normal((8, 36, 1))], axis=2)
    entry = {**_entry(chains, "abcd"), "step": 7, "wrllc": {}, "cpu_seconds": 0.0}
    r = cm.read_colour_modes(entry, "colour", 0, "hue", rank=2, shuffles=20)
    assert r.dropped == ["d"] and r.modes.components == list("abc")
    assert r.noise is not None and r.noise.n == 35 and r.noise_reliability.shape == (2,)
    four = {**entry, "chain_chi": chains[:4], "chi": chains[:4].mean(0)}
    r4 = cm.read_colour_modes(four, "colour", 0, "hue", rank=2, shuffles=20)
    assert r4.noise is None and r4.noise_reliability is None


def test_silent_components_finds_a_group_that_never_fires():
    torch.manual_seed(2)
    src = ColorAutoencoder(hidden=16)
    setup = cm.colour_components(src, grouping="hue")
    x = torch.rand(50, 3)
    assert cm.silent_components(setup, x) == [] or all(
        "dead" in n for n in cm.silent_components(setup, x))
    # silence one encoder group: a large negative bias keeps its ReLUs at 0 on every colour
    name = next(n for n in setup.components if setup.layers[n] == "encoder")
    j = list(n for n in setup.components if setup.layers[n] == "encoder").index(name)
    with torch.no_grad():
        getattr(setup.model, f"e{j}_b").fill_(-100.0)
    assert name in cm.silent_components(setup, x)
    with pytest.raises(ValueError, match="x must be"):
        cm.silent_components(setup, torch.rand(5, 4))
    with pytest.raises(ValueError, match="x must be"):
        cm.silent_components(setup, np.zeros((0, 3)))


def test_a_silent_name_is_dropped_and_an_unknown_one_rejected():
    rng = np.random.default_rng(6)
    chains = rng.standard_normal((8, 36, 3))
    entry = {**_entry(chains), "step": 0, "wrllc": {}, "cpu_seconds": 0.0}
    r = cm.read_colour_modes(entry, "colour", 0, "hue", rank=2, shuffles=10, silent=["b"])
    assert r.dropped == ["b"] and r.modes.components == ["a", "c"]
    with pytest.raises(ValueError, match="not components"):
        cm.noise_calibrated_wheel(entry, rank=2, silent=["z"])
    with pytest.raises(ValueError, match="nothing left"):
        cm.noise_calibrated_wheel(entry, rank=1, silent=["a", "b", "c"])


def test_study_cells_pick_one_row_per_seed_cell():
    def cal(share):
        noise = np.array([0.5, 0.9]) if share else np.array([0.1, 0.2])
        return cm.NoiseCalibration(0.6, 0.8, noise, noise)

    rows = [cm.CalibrationRow(0, ss, step, g, cal(step == 0))
            for ss in (0, 1) for step in (0, 1000) for g in cm.GROUPINGS]
    rows += [cm.CalibrationRow(1, 0, step, "hue", cal(False)) for step in (0, 800)]
    study = cm.ColourModeStudy("quick", {}, [], {}, cm.input_wheel(), rows)
    final = study.cells("final", "hue")
    assert [(r.seed, r.step) for r in final] == [(0, 1000), (0, 1000), (1, 800)]
    assert [r.cal.share for r in study.cells(0, "hue")] == [0.5, 0.5, 0.0]
    assert all(r.cal.margin > 0 for r in final)
    with pytest.raises(ValueError, match="no calibration row"):
        study.cells(500, "hue")
    with pytest.raises(ValueError, match="no calibration row"):
        study.cells("final", "by colour")


def test_colour_silent_rejects_a_bad_seed_before_loading_a_run():
    with pytest.raises(ValueError, match="seed"):
        cm.colour_silent(-1, "final")


def test_noise_ratio_is_one_for_noise_and_large_for_signal():
    from course_lib.slt.components import sign_contrasts

    rng = np.random.default_rng(3)
    noise = rng.standard_normal((8, 36, 4))
    # pure noise: χ (the chains' mean) is as large as a sign contrast
    r0 = cm.noise_ratio(noise.mean(0), sign_contrasts(noise))
    assert 0.7 < r0 < 1.4, r0
    signal = noise + 5.0 * np.cos(np.radians(HUE))[None, :, None]
    r1 = cm.noise_ratio(signal.mean(0), sign_contrasts(signal))
    assert r1 > 5 * r0, (r0, r1)
    # a contrast cancels the signal exactly: the denominator does not move
    assert np.isclose(np.median(np.linalg.norm(sign_contrasts(signal), axis=(1, 2))),
                      np.median(np.linalg.norm(sign_contrasts(noise), axis=(1, 2))))
    with pytest.raises(ValueError, match="chi must be"):
        cm.noise_ratio(np.zeros(36), sign_contrasts(noise))
    with pytest.raises(ValueError, match="contrasts must be"):
        cm.noise_ratio(noise.mean(0), noise.mean(0))
    with pytest.raises(ValueError, match="contrasts must be"):
        cm.noise_ratio(noise.mean(0)[:, :3], sign_contrasts(noise))
    with pytest.raises(ValueError, match="finite"):
        bad = noise.mean(0).copy()
        bad[0, 0] = np.nan
        cm.noise_ratio(bad, sign_contrasts(noise))
    with pytest.raises(ValueError, match="median contrast is zero"):
        cm.noise_ratio(noise.mean(0), np.zeros((3, 36, 4)))


def test_noise_calibration_carries_the_ratio():
    rng = np.random.default_rng(4)
    chains = rng.standard_normal((8, 36, 3)) + 4 * np.stack(
        [np.cos(np.radians(HUE)), np.sin(np.radians(HUE)), np.cos(np.radians(2 * HUE))],
        axis=1)[None]
    cal = cm.noise_calibrated_wheel(_entry(chains), rank=2)
    assert cal.ratio > 3 and cal.share == 0.0, cal
    assert np.isnan(cm.NoiseCalibration(0.5, 0.5, np.zeros(2), np.zeros(2)).ratio)


def test_beat_rate_counts_cells_with_share_zero_and_gives_wilson():
    from course_lib.stats import wilson_interval

    def row(share0):
        noise = np.array([0.1, 0.2]) if share0 else np.array([0.5, 0.9])
        return cm.CalibrationRow(0, 0, 0, "hue", cm.NoiseCalibration(0.6, 0.8, noise, noise))

    rows = [row(True)] * 3 + [row(False)] * 2
    k, n, low, high = cm.beat_rate(rows)
    assert (k, n) == (3, 5) and (low, high) == pytest.approx(wilson_interval(3, 5))
    study = cm.ColourModeStudy("quick", {}, [], {}, cm.input_wheel(), rows)
    assert study.rate(0, "hue")[:2] == (3, 5)
    with pytest.raises(ValueError, match="non-empty"):
        cm.beat_rate([])
    with pytest.raises(ValueError, match="CalibrationRow"):
        cm.beat_rate([0.0])


def test_live_without_roundoff_keeps_a_tiny_column():
    rng = np.random.default_rng(5)
    chains = rng.standard_normal((8, 36, 3))
    chains[:, :, 1] *= 1e-6
    entry = _entry(chains)
    assert cm.noise_calibrated_wheel(entry, rank=2).n == 35
    *_, dropped = cm._live(entry)
    assert dropped == ["b"]
    *_, dropped = cm._live(entry, roundoff=False)
    assert dropped == []
    *_, dropped = cm._live(entry, silent=["b"], roundoff=False)
    assert dropped == ["b"]


def test_colour_chi_rejects_a_partition_of_the_hue_grouping():
    with pytest.raises(ValueError, match="random grouping only"):
        cm.colour_chi(0, "final", "hue", partition=1)
    with pytest.raises(ValueError, match="seed"):
        cm.colour_chi(0, "final", "random", partition=-1)


def test_colour_prediction_says_the_untrained_test_has_no_power(capsys):
    even = 5 / 36
    v = {"trained_wheel": "beats all its noise", "untrained_wheel": "within its noise",
         "anchored_red_mode": False}
    res = check_colour_prediction(dict(v), 0.0, 0.51, 0.09, 0.14, even, untrained_ratio=6.2)
    assert res.passed
    out = capsys.readouterr().out
    assert "6.2" in out and "not evidence of no wheel" in out
    # without signal (ratio ≈ 1) no such note
    check_colour_prediction(dict(v), 0.0, 0.51, 0.09, 0.14, even, untrained_ratio=1.1)
    assert "not evidence of no wheel" not in capsys.readouterr().out
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="untrained_ratio"):
            check_colour_prediction(dict(v), 0.0, 0.51, 0.09, 0.14, even,
                                    untrained_ratio=bad, quiet=True)


def test_wheel_test_2d_passes_a_wheel_whose_noise_is_shaped_like_it():
    """Multiplicative noise (each chain the wheel at its own scale): every sign contrast is a
    wheel too, so the scale-free R² barely separates them; σ keeps the noise's scale."""
    rng = np.random.default_rng(5)
    h = np.radians(HUE)
    wave = np.stack([np.cos(h), np.sin(h), np.cos(h + 1.0), np.sin(h + 2.0)], axis=1)
    scale = 1.0 + 0.5 * rng.standard_normal(8)
    chains = scale[:, None, None] * wave + 0.02 * rng.standard_normal((8, 36, 4))
    entry = _entry(chains, "abcd")
    cal = cm.noise_calibrated_wheel(entry, rank=2)
    assert cal.margin < 0.01 and cal.quantiles()[0] > 0.9, cal.quantiles()
    t = cm.wheel_test_2d(entry)
    assert t.n == 35 and t.noise_sv.shape == (35, 2) and t.beats
    assert np.allclose(t.p, 1 / 36) and t.share > 0.95
    # one-dimensional (cos only in every column): σ₁ beats its noise, σ₂ does not
    flat = scale[:, None, None] * np.cos(h)[None, :, None] * np.ones((1, 1, 4))
    flat = flat + 0.02 * rng.standard_normal((8, 36, 4))
    t1 = cm.wheel_test_2d(_entry(flat, "abcd"))
    assert t1.p[0] == pytest.approx(1 / 36) and not t1.beats and t1.p[1] > 0.2
    # pure noise: one more draw of it, not beyond all of it in most draws
    hits = sum(cm.wheel_test_2d(_entry(rng.standard_normal((8, 36, 4)), "abcd")).beats
               for _ in range(20))
    assert hits <= 4, hits
    with pytest.raises(ValueError, match="8 chains"):
        cm.wheel_test_2d(_entry(chains[:4], "abcd"))
    with pytest.raises(ValueError, match="weights"):
        cm.first_harmonic_sv(chains[0], HUE, np.ones(3))
    with pytest.raises(ValueError, match="m must be"):
        cm.first_harmonic_sv(chains[0][:5], HUE, np.ones(4))


def test_rate2d_counts_cells_whose_sigma2_beats_all_contrasts():
    noise = np.array([0.1, 0.2])

    def row(beats):
        w2 = cm.WheelTest2D(np.array([1.0, 0.5 if beats else 0.05]),
                            np.array([[0.2, 0.1], [0.3, 0.1]]), 0.7)
        return cm.CalibrationRow(0, 0, 0, "hue", cm.NoiseCalibration(0.6, 0.8, noise, noise),
                                 0, w2)

    study = cm.ColourModeStudy("quick", {}, [], {}, cm.input_wheel(),
                               [row(True)] * 4 + [row(False)])
    assert study.rate2d(0, "hue")[:2] == (4, 5)


def test_colour_prediction_graded_on_the_scale_aware_test():
    """5.6 grades the wheels on σ₂ (both beat their noise at seed 0, sampler seed 0): the
    R²-era answer (the untrained wheel "within its noise") is now wrong."""
    even = 5 / 36
    right = {"trained_wheel": "beats all its noise", "untrained_wheel": "beats all its noise",
             "anchored_red_mode": False}
    assert check_colour_prediction(right, 0.0, 0.0, 0.09, 0.14, even, statistic="σ₂",
                                   quiet=True).passed
    old = {**right, "untrained_wheel": "within its noise"}
    assert not check_colour_prediction(old, 0.0, 0.0, 0.09, 0.14, even, statistic="σ₂",
                                       quiet=True).passed
    with pytest.raises(ValueError, match="statistic"):
        check_colour_prediction(right, 0.0, 0.0, 0.09, 0.14, even, statistic="", quiet=True)
