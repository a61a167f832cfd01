"""Tests for course_lib.identity.world_measures: the own-direction measure and onsets."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_lib.identity.world_measures import additive_part, interaction_norm, onset


def test_interaction_norm_is_zero_for_a_purely_compositional_code():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(5, 1, 3)), rng.normal(size=(1, 7, 3))
    assert np.allclose(interaction_norm(a + b + 2.0), 0, atol=1e-12)


def test_interaction_norm_finds_one_identitys_own_direction():
    """A bump δ·e on one pair leaves δ(1 − 1/F)(1 − 1/S) on it after the additive fit."""
    rng = np.random.default_rng(1)
    F_, S_, d = 6, 8, 4
    z = rng.normal(size=(F_, 1, d)) + rng.normal(size=(1, S_, d))
    z[2, 5] += 3.0 * np.eye(d)[1]
    norm = interaction_norm(z)
    assert np.unravel_index(np.argmax(norm), norm.shape) == (2, 5)
    assert norm[2, 5] == pytest.approx(3.0 * (1 - 1 / F_) * (1 - 1 / S_))
    additive = additive_part(torch.as_tensor(z))
    assert torch.allclose(additive.mean(dim=(0, 1)), torch.as_tensor(z).mean(dim=(0, 1)))


@pytest.mark.parametrize("codes, match", [(np.zeros((4, 4)), "codes must be"), (np.zeros((1, 4, 2)), "codes must be"),
                                          (np.full((3, 3, 2), np.nan), "NaN")])
def test_interaction_norm_bad_input(codes, match):
    with pytest.raises(ValueError, match=match):
        interaction_norm(codes)


def test_onset_on_curves_with_known_change_points():
    steps = np.arange(0, 100, 10)
    curve = np.array([0, 0.1, 0.2, 0.6, 0.7, 0.9, 0.95, 0.97, 0.98, 0.99])
    assert onset(steps, curve, 0.5) == 30
    assert onset(steps, curve, 0.95) == 60
    assert onset(steps, curve, 0.995) is None
    blip = np.array([0, 0.6, 0.1, 0.2, 0.7, 0.8, 0.9, 0.2, 0.9, 0.9])
    assert onset(steps, blip, 0.5, hold=3) == 40          # the one-checkpoint blip at 10 is ignored
    assert onset(steps, blip, 0.5, hold=1) == 10
    late = np.r_[np.zeros(8), 0.9, 0.9]
    assert onset(steps, late, 0.5, hold=3) == 80          # at the end, every remaining checkpoint holds
    assert onset(steps, np.ones(10), 0.5) is None          # started above: no crossing was seen
    assert onset(steps, np.r_[1, 0, np.ones(8)], 0.5) == 20


@pytest.mark.parametrize("steps, curve, match", [([0, 1], [0.1], "same length"), ([0, 0], [0, 1], "increasing"),
                                                 ([0, 1], [0, np.nan], "NaN")])
def test_onset_bad_input(steps, curve, match):
    with pytest.raises(ValueError, match=match):
        onset(steps, curve, 0.5)


def test_gain_share_is_zero_at_the_prior_and_one_at_the_end():
    from course_lib.identity.world_measures import gain_share

    base = np.log(np.array([0.8, 1 / 12, 1 / 12]))
    logp = np.array([[np.log(0.8), np.log(1 / 12), np.log(1 / 12)],
                     [np.log(0.9), np.log(0.3), np.log(1 / 12) + 0.01],
                     [np.log(0.99), np.log(0.9), np.log(1 / 12) + 0.02]])
    share = gain_share(logp, base)
    assert np.allclose(share[0, :2], 0) and np.allclose(share[-1, :2], 1)
    # in nats, not probabilities: halfway in probability is not halfway in nats
    assert share[1, 1] == pytest.approx((np.log(0.3) - np.log(1 / 12)) / (np.log(0.9) - np.log(1 / 12)))
    assert np.isnan(share[:, 2]).all()                         # gained almost nothing: no share
    with pytest.raises(ValueError, match="base"):
        gain_share(logp, base[:2])


def test_half_time_interpolates_in_log_step_and_uses_the_last_crossing():
    from course_lib.identity.world_measures import half_time

    steps = [0, 10, 100, 1000]
    assert half_time(steps, [0.0, 0.0, 1.0, 1.0]) == pytest.approx(10 ** 1.5)
    assert half_time(steps, [0.0, 0.6, 0.4, 1.0]) == pytest.approx(10 ** (2 + 1 / 6))   # dipped back: the last crossing
    assert np.isnan(half_time(steps, [0.0, np.nan, 1.0, 1.0]))


def test_rise_time_tells_a_jump_from_smooth_growth():
    from course_lib.identity.world_measures import rise_time

    steps = np.unique(np.geomspace(1, 10_000, 60).round())
    x = np.log10(steps)
    jump = (x >= 2).astype(float)
    smooth = 1 / (1 + np.exp(-(x - 2) * 3))          # logistic in log step: 10→90 % over ≈ 1.46 decades
    assert rise_time(steps, jump) < 0.1
    assert rise_time(steps, smooth) == pytest.approx(2 * np.log(9) / 3, abs=0.1)
    assert np.isnan(rise_time(steps, np.linspace(1, 0, len(steps))))             # never rises


def test_share_curves_put_zero_at_the_prior_or_at_the_untrained_model():
    from course_lib.identity.world_measures import ANSWER_TYPES, share_curves

    rng = np.random.default_rng(0)
    start = np.log(np.full(4, 0.25))                              # untrained: about uniform
    end = np.log(np.full(4, 0.95))
    curve = np.linspace(start, end, 6) + rng.normal(0, 0.01, (6, 4))
    timelines = {key: curve for key in ANSWER_TYPES.values()}
    timelines["base_coarse"] = np.log(np.full(4, 0.6))           # a strong name prior, above start
    timelines["base_unique"] = np.log(np.full(4, 1 / 12))
    prior, untrained = share_curves(timelines), share_curves(timelines, zero="start")
    assert np.allclose(untrained["share_coarse"][0], 0) and np.allclose(untrained["share_coarse"][-1], 1)
    assert (prior["share_coarse"][0] < -1).all()                # below the prior: a negative start
    assert np.allclose(prior["share_coarse"][-1], 1)
    # the same curve gains half of all it learns sooner than half of what lies beyond the prior
    assert (untrained["share_coarse"][2] > prior["share_coarse"][2]).all()
    with pytest.raises(ValueError, match="zero"):
        share_curves(timelines, zero="end")
    # the prior of each answer type: coarse answers have their own, every other type the unique one
    from course_lib.identity.world_measures import prior_base
    assert prior_base(timelines, "coarse") is timelines["base_coarse"]
    assert all(prior_base(timelines, k) is timelines["base_unique"] for k in ANSWER_TYPES if k != "coarse")
