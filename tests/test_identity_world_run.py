"""Tests for course_lib.identity.world_run: the cached run and its checkpoint protocol."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_lib.identity.world_measures import CURVES
from course_lib.identity.world_run import identity_world_run
from world_tools import TINY, TINY_OVERRIDES, tiny_run, world_cache  # noqa: F401  (fixtures)


def test_run_shapes_checkpoints_and_cache(tiny_run):
    run = tiny_run
    assert run.checkpoint_steps[0] == 0 and run.final_step == TINY["steps"] and run.checkpoint_steps.dtype == np.int64
    assert np.all(np.diff(run.checkpoint_steps) > 0) and len(run.states) == len(run.checkpoint_steps)
    assert len(run.train_loss) == TINY["steps"] and run.train_loss[-1] < run.train_loss[0]
    for key in CURVES:
        values = run.timelines[key]
        assert values.shape == (len(run.checkpoint_steps), run.world.n_people)
        if key.startswith("lp_"):                                   # log-probabilities
            assert np.all(values <= 1e-6) and np.allclose(np.exp(values[:, :3]).max(), np.exp(values[:, :3]).max())
        elif key == "u_norm":
            assert np.all(values >= 0)
        else:
            assert np.all((values >= 0) & (values <= 1 + 1e-6)), key
    assert np.all(run.timelines["base_coarse"] <= 0) and np.allclose(run.timelines["base_unique"], -np.log(12))
    assert run.timelines["own_nobody"].shape[1] == TINY["n_first"] * TINY["n_surnames"] - TINY["n_people"]
    with pytest.raises(ValueError, match="was not saved; the nearest checkpoint is 80"):
        run.model_at(int(run.checkpoint_steps[1]) + 1000)
    with pytest.raises(TypeError, match="step"):
        run.model_at(1.0)
    assert run.checkpoint_index(int(run.checkpoint_steps[3])) == 3
    assert torch.equal(run.model().first.weight, run.model_at(run.final_step).first.weight)
    with pytest.raises(ValueError, match="key"):
        run.curve("fame", 0)
    again = identity_world_run(0, "quick", progress=False, **TINY_OVERRIDES)
    assert np.array_equal(again.timelines["unique"], run.timelines["unique"])


def test_run_loss_fn_is_the_training_loss(tiny_run):
    run = tiny_run
    batch = run.train_data()
    with torch.no_grad():
        for t in (0, int(run.checkpoint_steps[5])):
            assert float(run.loss_fn(run.model_at(t), batch)) == pytest.approx(run.train_loss[t], rel=1e-5)


def test_fit_checkpoint_is_the_first_checkpoint_below_the_level(tiny_run):
    at = tiny_run.train_loss[np.minimum(tiny_run.checkpoint_steps, len(tiny_run.train_loss) - 1)]
    level = float(np.median(at))
    i = tiny_run.fit_checkpoint(level)
    assert at[i] < level and (at[:i] >= level).all()
    assert tiny_run.fit_checkpoint(float(at.min()) / 2) is None
    with pytest.raises(ValueError, match="level"):
        tiny_run.fit_checkpoint(0.0)
