"""Tests for course_lib.modular.controls: the weight-decay-0 arm differs in that one factor."""

import numpy as np
import pytest
import torch

from course_lib.modular import controls as C
from course_lib.modular.training import GROKKING_SETTINGS, train_modular_addition

TINY = {"p": 7, "train_fraction": 0.5, "d_model": 8, "n_heads": 2, "d_mlp": 16, "lr": 5e-3,
        "weight_decay": 1.0, "betas": (0.9, 0.98), "warmup": 3, "steps": 40, "checkpoint_every": 10,
        "threads": 1}


def test_the_first_steps_of_a_longer_run_are_a_shorter_run():
    long = train_modular_addition({**TINY, "steps": 40}, seed=3, progress=False)
    short = train_modular_addition({**TINY, "steps": 20}, seed=3, progress=False)
    for a, b in zip(long["states"][:3], short["states"]):
        assert all(torch.equal(a[k], b[k]) for k in a)


def test_control_differs_in_weight_decay_only(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    monkeypatch.setitem(GROKKING_SETTINGS, "quick", dict(TINY))
    control = C.weight_decay_control(seed=1, steps=20, profile="quick")
    assert control.steps.tolist() == [0, 10, 20] and control.p == 7
    ref, zero = control.arms["weight decay 1"], control.arms["weight decay 0"]
    # step 0: the same initial weights and split, so every measure is equal
    for key in ("train_loss", "test_loss", "test_acc", "weight_norm"):
        assert np.isclose(ref[key][0], zero[key][0]), key
    # the weight decay 0 arm is really a different run: decay shrinks the weights
    assert zero["weight_norm"][-1] > ref["weight_norm"][-1]
    # the control matches an independent run with weight decay 0
    trained = train_modular_addition({**TINY, "weight_decay": 0.0, "steps": 20}, seed=1, progress=False)
    norm = float(sum(v.double().pow(2).sum() for v in trained["states"][-1].values()))
    assert np.isclose(zero["weight_norm"][-1], norm)
    assert control.at("weight decay 0", "weight_norm", 20) == zero["weight_norm"][-1]
    with pytest.raises(ValueError, match="label"):
        control.at("weight decay 2", "weight_norm", 20)
    with pytest.raises(ValueError, match="steps"):
        C.weight_decay_control(seed=1, steps=400, profile="quick")
