"""Tests for course_lib.modular.prepare: every run notebook 3.3 reads, trained up front."""

import pytest
import torch

from course_lib.modular import controls as C
from course_lib.modular import prepare as P
from course_lib.modular import seeds as S
from course_lib.modular.training import GROKKING_SETTINGS

torch.set_num_threads(1)

TINY = {"p": 13, "train_fraction": 0.5, "d_model": 16, "n_heads": 4, "d_mlp": 32, "lr": 1e-2,
        "steps": 40, "checkpoint_every": 20, "threads": 1}


def test_notebook_jobs_per_profile():
    quick = [label for label, _, _ in P.notebook_jobs("quick")]
    # the main run is seed 0 of the seeds (listed once); seeds 1-2 shorter; one control
    assert quick == ["seed 0, quick size, 1800 steps", "seed 1, quick size, 1400 steps",
                     "seed 2, quick size, 1400 steps", "seed 0, weight decay 0, 1000 steps"]
    standard = P.notebook_jobs("standard")
    labels = [label for label, _, _ in standard]
    assert labels[0] == "seed 0, standard size, 3000 steps"          # the paper-size run: longest
    assert sum("quick size, 1800 steps" in x for x in labels) == 5
    assert sum("weight decay 0" in x for x in labels) == 3 and len(labels) == 9
    costs = [cost for _, cost, _ in standard]
    assert costs == sorted(costs, reverse=True)
    with pytest.raises(ValueError, match="profile"):
        P.notebook_jobs("fast")


def test_prepared_runs_are_what_the_notebook_then_loads(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    monkeypatch.setitem(GROKKING_SETTINGS, "quick", {**GROKKING_SETTINGS["quick"], **TINY})
    monkeypatch.setitem(S.GROKKING_SEEDS, "quick", (0, 1))
    monkeypatch.setitem(S.SEED_RUN_STEPS, "quick", 20)
    monkeypatch.setattr(C, "CONTROL_STEPS", 20)
    monkeypatch.setattr(P, "CONTROL_STEPS", 20)
    labels = P.prepare_runs("quick", progress=False, workers=2)
    assert len(labels) == 3

    def no_training(*args, **kwargs):
        raise AssertionError("trained again: prepare_runs missed this run")
    from course_lib.modular import run as R
    monkeypatch.setattr(R, "train_modular_addition", no_training)
    monkeypatch.setattr(C, "train_modular_addition", no_training)
    sp = S.phases_over_seeds(profile="quick")                 # every run (and its measures) cached
    assert sp.last_steps == (40, 20)
    control = C.weight_decay_control(seed=0, steps=20, profile="quick")
    assert control.steps.tolist() == [0, 20]
