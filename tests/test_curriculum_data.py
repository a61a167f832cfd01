"""The curriculum's phases, its schedule + data source, and the probe."""

import numpy as np
import pytest
import torch

from course_lib.color import rgb_to_hsv
from course_lib.curriculum.data import PHASES, Curriculum, Phase, curriculum_probe, phase_hsv, phase_rgb


def test_phase_table_matches_the_research_note():
    assert [len(phase_rgb(p)) for p in PHASES] == [12, 360, 720, 1080, 3600]
    assert [(p.unit, p.planar) for p in PHASES] == [(0.02, 0.1), (0.02, 0.1), (0.05, 0.02), (0.1, 0.005), (0.1, 0.0)]
    hsv = phase_hsv(PHASES[4])
    assert np.allclose(np.unique(hsv[:, 2]), np.linspace(0.2, 1, 10))
    assert np.all(hsv[:, 1] == 1.0)
    back = rgb_to_hsv(phase_rgb(PHASES[2]).numpy().astype(np.float64))
    assert np.allclose(np.unique(np.round(back[:, 2], 5)), [0.9, 1.0])


def test_curriculum_boundaries_and_values():
    cur = Curriculum(1200)
    assert cur.starts.tolist() == [0, 200, 400, 700, 900]
    assert cur.ends.tolist() == [200, 400, 700, 900, 1200]
    assert [cur.phase_at(s) for s in (0, 199, 200, 899, 900, 5000)] == [0, 0, 1, 3, 4, 4]
    v = cur.values(0)
    assert v == {"lr": pytest.approx(0.01 / 3), "unit": 0.02, "planar": 0.1, "phase": 0.0}
    assert cur.values(20)["lr"] == pytest.approx(0.01)  # warm-up over 10 % of 200 steps
    assert cur.values(10)["lr"] == pytest.approx(0.01 * (1 / 3 + 2 / 3 * 0.5))
    assert cur.values(900)["lr"] == pytest.approx(0.01 / 3)  # restarts every phase
    assert cur.values(950)["planar"] == 0.0
    assert cur.data(0, {}) is cur.data(150, {}) and len(cur.data(0, {})) == 12
    assert len(cur.data(1000, {})) == 3600


def test_flat_control_has_the_same_schedule_and_the_last_data():
    cur, flat = Curriculum(1200), Curriculum.control(1200)
    steps = np.arange(0, 1200, 7)
    for name in ("lr", "unit", "planar"):
        assert np.array_equal(cur.curve(name, steps), flat.curve(name, steps))
    assert all(len(flat.data(s, {})) == 3600 for s in (0, 500, 1199))
    assert flat.describe()["flat"] and not cur.describe()["flat"]


@pytest.mark.parametrize("kwargs, err", [
    (dict(total_steps=3), ValueError), (dict(total_steps=0), ValueError), (dict(total_steps=1.5), TypeError),
    (dict(total_steps=100, warmup=2.0), ValueError), (dict(total_steps=100, start_factor=0.0), ValueError),
    (dict(total_steps=100, lr=-1.0), ValueError), (dict(total_steps=100, phases=[]), ValueError),
    (dict(total_steps=100, flat="no"), TypeError),
])
def test_curriculum_bad_input(kwargs, err):
    with pytest.raises(err):
        Curriculum(**kwargs)


def test_curriculum_step_checks():
    cur = Curriculum(100)
    with pytest.raises(ValueError):
        cur.phase_at(-1)
    with pytest.raises(TypeError):
        cur.phase_at("3")


def test_probe():
    probe = curriculum_probe()
    assert probe.rgb.shape == (360, 3) and probe.wheel.sum() == 72
    assert isinstance(probe.tensor, torch.Tensor) and probe.tensor.dtype == torch.float32
    assert np.allclose(np.unique(probe.value), [0.2, 0.4, 0.6, 0.8, 1.0])
    with pytest.raises(ValueError):
        curriculum_probe(n_hues=3)
    with pytest.raises(ValueError):
        curriculum_probe(values=[])
    with pytest.raises(ValueError):
        curriculum_probe(values=[1.5])


def test_phase_validation():
    with pytest.raises(TypeError):
        phase_rgb("12 hues")
    assert len(phase_rgb(Phase("x", 6, (0.5, 1.0), 1, 0, 0))) == 12
