"""Chapter-2 figures: they draw what they are given and refuse bad input clearly."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from course_lib.curriculum import Dopesheet, Keyframe, Transition
from course_lib.curriculum import curriculum_plots
from course_lib.curriculum.data import Curriculum, curriculum_probe
from course_lib.curriculum.train import train_run, train_sweep

PROBE = curriculum_probe()


@pytest.fixture(scope="module")
def run():
    cur = Curriculum(20)
    return cur, train_run(cur.data, schedule=cur, terms={}, steps=20, probe=PROBE.tensor,
                          checkpoint_steps=np.unique(np.r_[0, cur.ends - 1, 20]), progress=False)


def test_views(run):
    _, r = run
    fig = curriculum_plots.plot_views(r.probe_latents[-1], PROBE.rgb, value=PROBE.value, title="t")
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert len(curriculum_plots.plot_views(r.probe_latents[-1], PROBE.rgb, pairs=[(0, 1), (0, 2), (1, 2)]).axes) == 3
    with pytest.raises(ValueError, match="rgb"):
        curriculum_plots.plot_views(r.probe_latents[-1], PROBE.rgb[:5])
    with pytest.raises(ValueError, match="pair"):
        curriculum_plots.plot_views(r.probe_latents[-1], PROBE.rgb, pairs=[(0, 3)])
    with pytest.raises(ValueError, match="NaN"):
        curriculum_plots.plot_views(np.full((360, 3), np.nan), PROBE.rgb)


def test_frames_and_phase_ends(run):
    cur, r = run
    fig = curriculum_plots.plot_curriculum_frame(r, 2, cur)
    assert len(fig.axes) == 3 and "phase" in fig._suptitle.get_text()
    with pytest.raises(ValueError, match="index"):
        curriculum_plots.plot_curriculum_frame(r, 99, cur)
    with pytest.raises(TypeError):
        curriculum_plots.plot_curriculum_frame("run", 0, cur)
    assert len(curriculum_plots.plot_phase_ends(r, cur).axes) == 10
    lat = np.stack([r.probe_latents[-1]] * 3)
    assert len(curriculum_plots.plot_seed_gallery(lat, PROBE.rgb, ["a", "b", "c"], value=PROBE.value).axes) == 6
    with pytest.raises(ValueError, match="titles"):
        curriculum_plots.plot_seed_gallery(lat, PROBE.rgb, ["a"])


def test_schedule_timeline():
    sheet = Dopesheet([Keyframe(0, {"lr": 0.0, "w": 1.0}), Keyframe(50, {"lr": 0.01}), Keyframe(100, {"w": 0.0})])
    fig = curriculum_plots.plot_schedule(sheet, np.arange(120), ["lr", "w"], at=60)
    assert len(fig.axes) == 2
    cur = Curriculum(100)
    assert len(curriculum_plots.plot_schedule(cur, np.arange(100), ["lr", "phase"], phases=cur).axes) == 2
    with pytest.raises(ValueError):
        curriculum_plots.plot_schedule(sheet, [1], ["lr"])
    with pytest.raises(ValueError):
        curriculum_plots.plot_schedule(sheet, np.arange(10), [])


def test_sweep_figures():
    sw = train_sweep([0, 1], curriculum_probe().tensor, steps=5, progress=False)
    assert isinstance(curriculum_plots.plot_sweep_losses({"a": sw, "b": sw}, phases=Curriculum(5)), Figure)
    fig = curriculum_plots.plot_threshold_curves({"with": np.array([0.0, 0.1, 0.3]), "without": np.array([0.25, 0.3])})
    assert len(fig.axes) == 2
    with pytest.raises(ValueError):
        curriculum_plots.plot_threshold_curves({})
    with pytest.raises(ValueError):
        curriculum_plots.plot_sweep_losses({})


def test_easings_and_transition():
    assert len(curriculum_plots.plot_easings().axes) == 2
    with pytest.raises(ValueError):
        curriculum_plots.plot_easings(["bouncy"])
    tr = Transition(0.0, 1.0, 0, 100)
    tr.retarget(0.3, 40, 60)
    assert len(curriculum_plots.plot_transition(tr, np.arange(120), marks=[40]).axes) == 3
    with pytest.raises(TypeError):
        curriculum_plots.plot_transition("tr", np.arange(3))


def test_reactive_figures():
    fig = curriculum_plots.plot_probe_curves({"a": (np.arange(5), np.random.rand(3, 5) + 0.1)}, target=0.2)
    assert isinstance(fig, Figure)
    with pytest.raises(ValueError, match="shape"):
        curriculum_plots.plot_probe_curves({"a": (np.arange(4), np.random.rand(3, 5))})
    fig = curriculum_plots.plot_advances({"r": [[10, 20, 30, 40], [12, 25]], "p": [[50]]}, [0, 20, 40, 70, 90], 120)
    assert isinstance(fig, Figure)
    with pytest.raises(ValueError):
        curriculum_plots.plot_advances({}, [0], 10)
