"""Tests for course_lib.modular.phases: detect_phases on curves with known change points."""

import math

import numpy as np
import pytest
import torch

from course_lib.modular.phases import detect_phases

torch.set_num_threads(1)


def synthetic(t_fit=200, t_excl=400, t_circuit=1200, t_grok=1600, mu=1700, tau=60, n=3000, every=20):
    """Curves with known change points: train, restricted and test loss cross 0.1 exactly at t_fit,
    t_circuit, t_grok; the excluded loss falls, then rises from its minimum at t_excl; the weight
    norm grows while memorising and drops back fast (a bump at t_fit whose fall is steeper than the
    clean-up's), then falls along a logistic (centre mu, width tau), plus a slow drift."""
    s = np.arange(0, n + 1, every, dtype=float)

    def crossing(t, start=4.6, end=1e-6, width=100.0):      # log-linear through 0.1 at t
        z = np.clip((s - t) / width, -np.log(start / 0.1) / np.log(10), np.log(0.1 / end) / np.log(10))
        return 0.1 * 10.0 ** (-z)

    train, restricted, test = crossing(t_fit), crossing(t_circuit), crossing(t_grok)
    excluded = 0.05 * np.exp(np.abs(s - t_excl) / 300)
    bump = 0.7 * np.exp(-0.5 * ((s - t_fit) / 40) ** 2)
    log_norm = np.log(1500) + bump - 0.8 / (1 + np.exp(-(s - mu) / tau)) - 2e-5 * s
    cleanup = mu + tau * math.log(0.933 / 0.067)             # where the fall rate is 1/4 of its peak
    return s, train, test, excluded, restricted, np.exp(log_norm), cleanup


@pytest.mark.parametrize("points", [(200, 400, 1200, 1600, 1700, 60), (400, 600, 900, 1300, 1500, 40),
                                    (100, 1000, 1800, 2000, 2100, 80)])
def test_detect_phases_recovers_known_change_points(points):
    t_fit, t_excl, t_circuit, t_grok, mu, tau = points
    s, train, test, excl, restr, norm, cleanup = synthetic(*points)
    ph = detect_phases(s, train, test, excl, restr, norm)
    assert ph.memorisation_end == pytest.approx(t_excl, abs=20)
    assert ph.circuit_formation_end == pytest.approx(t_circuit, abs=20)
    assert ph.cleanup_end == pytest.approx(cleanup, abs=40)
    assert ph.memorisation_end < ph.circuit_formation_end < ph.cleanup_end
    assert [name for name, _, _ in ph.intervals()] == ["memorisation", "circuit formation", "clean-up"]


def test_detect_phases_memorisation_needs_a_fitted_train_set():
    # the excluded loss bottoms out before the training pairs are fitted: memorisation ends at the fit
    s, train, test, excl, restr, norm, _ = synthetic(t_fit=600, t_excl=300)
    assert detect_phases(s, train, test, excl, restr, norm).memorisation_end == pytest.approx(600, abs=20)


def test_detect_phases_cleanup_waits_for_grokking():
    # the norm settles early but test loss is still high: clean-up ends only when test loss is low
    s, train, test, excl, restr, norm, cleanup = synthetic(200, 400, 800, 2400, 1000, 40)
    ph = detect_phases(s, train, test, excl, restr, norm)
    assert ph.cleanup_end == pytest.approx(2400, abs=20)


def test_detect_phases_unreached_boundaries_are_none():
    s, train, test, excl, restr, norm, _ = synthetic()
    flat = np.full_like(s, 4.0)
    assert detect_phases(s, flat, flat, excl, flat, norm).as_dict() == {
        "memorisation_end": None, "circuit_formation_end": None, "cleanup_end": None}
    ph = detect_phases(s, train, flat, excl, restr, norm)   # never groks
    assert ph.circuit_formation_end is not None and ph.cleanup_end is None
    ph = detect_phases(s[:90], train[:90], test[:90], excl[:90], restr[:90], norm[:90])
    assert ph.cleanup_end is None                             # the run ends inside the fall


def test_detect_phases_bad_input():
    s, train, test, excl, restr, norm, _ = synthetic()
    with pytest.raises(ValueError, match="test_loss has"):
        detect_phases(s, train, test[:-1], excl, restr, norm)
    nan = restr.copy()
    nan[5] = np.nan
    with pytest.raises(ValueError, match="restricted_loss contains NaN"):
        detect_phases(s, train, test, excl, nan, norm)
    with pytest.raises(ValueError, match="increasing"):
        detect_phases(s[::-1], train, test, excl, restr, norm)
    with pytest.raises(ValueError, match="weight_norm"):
        detect_phases(s, train, test, excl, restr, -norm)
    with pytest.raises(ValueError, match="norm_fraction"):
        detect_phases(s, train, test, excl, restr, norm, norm_fraction=1.5)
