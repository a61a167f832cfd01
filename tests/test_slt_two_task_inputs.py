"""course_lib.slt.spectroscopy.two_task_input_blocks (notebook 5.4): the input-kernel baselines
of the two-task problem — a kernel of u cannot show the tasks, one of (u, t) can."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.slt import influence_known as ik
from course_lib.slt import spectroscopy


def test_two_task_input_blocks():
    out = spectroscopy.two_task_input_blocks()
    assert set(out) == {"u", "u, t"}
    u, ut = out["u"], out["u, t"]
    # u alone: each sample's copy in the other task is identical, so no block structure
    assert abs(u["within"] - u["across"]) < 0.05 and u["rows"] == 0.0
    # with the task bit the kernel sees the tasks
    assert ut["within"] > ut["across"] + 0.1 and ut["rows"] > 0.5
    again = spectroscopy.two_task_input_blocks()            # deterministic
    assert again == out


def test_input_kernel_bad_input():
    with pytest.raises(ValueError, match="X must be"):
        ik.input_kernel(np.ones(3))
    with pytest.raises(ValueError, match="all-zero"):
        ik.input_kernel(np.zeros((2, 2)))
