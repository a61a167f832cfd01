"""The checkpoint protocol: step arrays, exact lookups, the mixin, the shared helpers."""

import numpy as np
import pytest
import torch
from torch import nn

from course_lib import checkpoints
from course_lib.checkpoints import (CheckpointedRun, as_checkpoint_steps, checkpoint_index, even_steps,
                                    log_spaced_steps, state_copy)


def test_as_checkpoint_steps_returns_int64_and_rejects_bad_arrays():
    out = as_checkpoint_steps([0, 5, 9])
    assert out.dtype == np.int64 and out.tolist() == [0, 5, 9]
    with pytest.raises(TypeError, match="checkpoint_steps"):
        as_checkpoint_steps(5)
    with pytest.raises(TypeError, match="ints"):
        as_checkpoint_steps([0.0, 1.0])
    with pytest.raises(ValueError, match="strictly increasing"):
        as_checkpoint_steps([0, 3, 3])
    with pytest.raises(ValueError, match="strictly increasing"):
        as_checkpoint_steps([-1, 3])
    with pytest.raises(ValueError, match="non-empty"):
        as_checkpoint_steps([])
    with pytest.raises(ValueError, match=r"\[0, 8\]"):
        as_checkpoint_steps([0, 9], last=8)


def test_checkpoint_index_is_exact_and_names_the_neighbours():
    steps = as_checkpoint_steps([0, 10, 100])
    assert checkpoint_index(steps, 100) == 2
    assert checkpoint_index(steps, np.int64(10)) == 1
    with pytest.raises(ValueError, match="nearest checkpoints are 10 and 100"):
        checkpoint_index(steps, 99)      # no rounding down to 10
    with pytest.raises(ValueError, match="nearest checkpoint is 100"):
        checkpoint_index(steps, 101)
    with pytest.raises(TypeError, match="step must be an int"):
        checkpoint_index(steps, 10.0)
    with pytest.raises(TypeError, match="step must be an int"):
        checkpoint_index(steps, True)


def test_even_and_log_spaced_steps():
    assert even_steps(10, 3).tolist() == [0, 5, 10]
    assert even_steps(2, 5).tolist() == [0, 1, 2]     # no repeats
    logs = log_spaced_steps(1000, 5)
    assert logs[0] == 0 and logs[1] == 1 and logs[-1] == 1000
    assert np.all(np.diff(logs) > 0)
    with pytest.raises(ValueError, match="n must be"):
        even_steps(10, 1)
    with pytest.raises(TypeError, match="total must be an int"):
        log_spaced_steps(10.0, 3)


def test_state_copy_is_detached_and_independent():
    layer = nn.Linear(2, 2)
    copy = state_copy(layer)
    with torch.no_grad():
        layer.weight.add_(1.0)
    assert not torch.equal(copy["weight"], layer.weight)
    assert not copy["weight"].requires_grad
    assert state_copy(copy)["bias"] is not copy["bias"]


class _Toy(CheckpointedRun):
    def __init__(self):
        self.checkpoint_steps = as_checkpoint_steps([0, 4, 8])
        self.states = [{"weight": torch.full((1, 1), float(i)), "bias": torch.zeros(1)} for i in range(3)]

    def _model_from(self, index):
        model = nn.Linear(1, 1)
        model.load_state_dict(self.states[index])
        return model.eval()


def test_mixin_gives_model_at_model_and_final_step():
    run = _Toy()
    assert float(run.model_at(4).weight) == 1.0
    assert float(run.model().weight) == 2.0
    assert run.final_step == 8 and run.checkpoint_index(8) == 2
    with pytest.raises(ValueError, match="step 5 was not saved"):
        run.model_at(5)


def test_doctest_of_the_module():
    import doctest
    assert doctest.testmod(checkpoints).failed == 0
