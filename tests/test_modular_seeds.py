"""Tests for course_lib.modular.seeds: phase boundaries over seeds and their summary."""

import numpy as np
import pytest
import torch

from course_lib.modular.seeds import GROKKING_SEEDS, SeedPhases, phases_over_seeds
from course_lib.stats import t_quantile

torch.set_num_threads(1)

TINY = {"p": 13, "train_fraction": 0.5, "d_model": 32, "n_heads": 4, "d_mlp": 64, "lr": 1e-2,
        "steps": 40, "checkpoint_every": 20}


def test_seeds_per_profile():
    assert GROKKING_SEEDS["quick"] == (0, 1, 2)
    assert len(GROKKING_SEEDS["standard"]) == 5 == len(set(GROKKING_SEEDS["standard"]))
    # standard's five seeds run at quick's size: five paper-size runs are beyond its budget
    from course_lib.modular.seeds import SEED_RUN_PROFILE
    assert SEED_RUN_PROFILE == {"quick": "quick", "standard": "quick", "full": "full"}


def test_summary_mean_interval_range():
    table = np.array([[100, 300, 900, 500], [120, 360, 1000, 560], [140, 420, 1100, np.nan]], dtype=float)
    sp = SeedPhases((0, 1, 2), 53, table, table + 20)
    s = sp.summary()
    assert s["memorisation_end"]["n"] == 3 and s["memorisation_end"]["mean"] == pytest.approx(120)
    half = t_quantile(0.975, 2) * 20 / np.sqrt(3)
    assert s["memorisation_end"]["lo"] == pytest.approx(120 - half)
    assert s["memorisation_end"]["hi"] == pytest.approx(120 + half)
    assert (s["cleanup_end"]["min"], s["cleanup_end"]["max"]) == (900, 1100)
    assert s["grok_step"]["n"] == 2                           # a seed that never grokked is left out
    assert sp.summary("unseen")["memorisation_end"]["mean"] == pytest.approx(140)
    assert np.allclose(sp.shift()[:, :3], 20)
    one = SeedPhases((0,), 53, table[:1], table[:1])
    assert np.isnan(one.summary()["memorisation_end"]["lo"])
    with pytest.raises(ValueError, match="which"):
        sp.summary("test")
    with pytest.raises(ValueError, match="level"):
        sp.summary(level=1.5)


def test_phases_over_seeds_bad_arguments():
    with pytest.raises(ValueError, match="empty"):
        phases_over_seeds([], profile="quick")
    with pytest.raises(ValueError, match="distinct"):
        phases_over_seeds([1, 1], profile="quick")
    with pytest.raises(TypeError):
        phases_over_seeds("012", profile="quick")
    with pytest.raises(TypeError, match="seed"):
        phases_over_seeds([0.5], profile="quick")
    with pytest.raises(ValueError, match="profile"):
        phases_over_seeds(None, profile="huge")


def test_phases_over_tiny_seeds(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    sp = phases_over_seeds([0, 1], profile="quick", **TINY)
    assert sp.seeds == (0, 1) and sp.p == 13
    assert sp.checkpoint_every == TINY["checkpoint_every"] and sp.last_step == TINY["steps"]
    assert sp.all_pairs.shape == (2, 4) and sp.unseen.shape == (2, 4)
    assert set(sp.summary()) == {"memorisation_end", "circuit_formation_end", "cleanup_end", "grok_step"}
    # Per-seed excluded-loss peak and the threshold sweep of circuit formation's end.
    from course_lib.modular.seeds import THRESHOLDS
    assert len(sp.excluded) == 2 and sp.circuit_end_by_threshold.shape == (2, len(THRESHOLDS))
    for row, peak, phases in zip(sp.circuit_end_by_threshold, sp.excluded, sp.all_pairs):
        assert peak["ratio"] == pytest.approx(peak["loss"] / np.log(13)) and 0 <= peak["worse_than_uniform"] <= 1
        assert 0 <= peak["final_neuron_share"] <= 1
        if np.isfinite(phases[1]):                                    # the rule's 0.1 nats is the 0.1 column
            assert row[list(THRESHOLDS).index(0.1)] == phases[1]
        done = row[np.isfinite(row)]
        assert (np.diff(done[::-1]) >= 0).all()                       # a looser threshold is reached no later


def test_seed_plot_draws_an_unended_phase():
    from course_lib.modular.run_plots import plot_seed_phases
    table = np.array([[100, 300, 900, 500], [120, 700, np.nan, 950]], dtype=float)
    fig = plot_seed_phases(SeedPhases((0, 1), 53, table, table, 1000))
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "not ended by the last step" in labels and "clean-up" in labels
    assert np.isnan(SeedPhases((0, 1), 53, table, table).shift()[1, 2])


def test_profile_seeds_other_than_0_run_for_the_profiles_length(tmp_path, monkeypatch):
    """quick's seeds 1–2 stop at SEED_RUN_STEPS (seed 0 is the main run, at its own length);
    standard's run at the size's own length."""
    from course_lib.modular import seeds as S
    from course_lib.modular.training import GROKKING_SETTINGS
    assert S.SEED_RUN_STEPS == {"quick": 1400, "standard": None, "full": None}
    assert S.SEED_RUN_STEPS["quick"] < GROKKING_SETTINGS["quick"]["steps"]
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    monkeypatch.setitem(GROKKING_SETTINGS, "quick", {**GROKKING_SETTINGS["quick"], **TINY})
    monkeypatch.setitem(S.GROKKING_SEEDS, "quick", (0, 1))
    monkeypatch.setitem(S.GROKKING_SEEDS, "standard", (0, 1))
    monkeypatch.setitem(S.SEED_RUN_STEPS, "quick", 20)
    sp = phases_over_seeds(profile="quick")
    assert sp.last_steps == (40, 20) and sp.last_step == 40
    assert phases_over_seeds(profile="standard").last_steps == (40, 40)
    short = phases_over_seeds(profile="quick", steps=40)          # an explicit length wins
    assert short.last_steps == (40, 40)
