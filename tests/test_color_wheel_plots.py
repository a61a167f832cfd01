"""Each colour figure returns a Figure with axes, and rejects bad input."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from course_lib.color import (  # noqa: E402
    hsv_grid,
    hue_wheel,
    plot_hsv_cylinder,
    plot_hsv_slice,
    plot_hue_wheel,
    plot_latents,
    plot_rgb_cube,
    plot_training_frame,
    probe_wheel,
    rgb_cube,
    train_bottleneck,
)


@pytest.fixture(scope="module")
def run():
    return train_bottleneck(epochs=20, n_snapshots=3, progress=False)


def check_figure(fig):
    assert isinstance(fig, Figure) and len(fig.axes) >= 1
    fig.canvas.draw()  # actually renders
    return fig


def test_basic_figures():
    check_figure(plot_rgb_cube(rgb_cube(5)))
    check_figure(plot_rgb_cube(torch.rand(10, 3)))
    check_figure(plot_hsv_cylinder(hsv_grid(12, 3, 3)))
    check_figure(plot_hue_wheel(72))
    for fig in (plot_hsv_slice(), plot_hsv_slice(value=0.5, n=16), plot_hsv_slice(saturation=0.3, n=16)):
        check_figure(fig)
        assert "slice" in fig.axes[0].get_title()


def test_plot_latents_and_ax():
    p = probe_wheel(36)
    theta = 2 * np.pi * p.hue
    z = np.stack([np.cos(theta), np.sin(theta)], axis=1)
    fig = check_figure(plot_latents(z, p.rgb, held_out=p.held_out, title="wheel"))
    ax = fig.axes[0]
    assert ax.get_title() == "wheel" and ax.get_legend() is not None
    assert ax.get_aspect() == 1.0
    # held-out points are hollow: their scatter has no face colour
    hollow = [c for c in ax.collections if len(c.get_offsets()) == p.held_out.sum()]
    assert hollow and len(hollow[0].get_facecolors()) == 0
    labelled = plot_latents(z, p.rgb, held_out=p.held_out, hue=p.hue)
    names = {t.get_text() for t in labelled.axes[0].texts}
    assert {"red", "green", "blue", "spring green"} <= names
    with pytest.raises(ValueError, match="hue"):
        plot_latents(z, p.rgb, hue=p.hue[:3])
    host = Figure()
    axes = host.subplots(1, 2)
    assert plot_latents(z * 3, p.rgb, ax=axes[1]) is host
    assert axes[1].get_xlim()[1] >= 3


def test_training_frame(run):
    for index in (0, len(run.checkpoint_steps) - 1, -1):
        fig = check_figure(plot_training_frame(run, index))
        assert len(fig.axes) == 2
        title = fig._suptitle.get_text()
        assert f"epoch {run.checkpoint_steps[index]}" in title and "trained-arc order" in title
        assert tuple(fig.get_size_inches()) == (8.0, 3.9)
    # same limits in every frame, so a scrubber does not jump
    assert plot_training_frame(run, 0).axes[0].get_xlim() == plot_training_frame(run, -1).axes[0].get_xlim()
    with pytest.raises(ValueError, match="index"):
        plot_training_frame(run, 99)
    with pytest.raises(TypeError, match="run must be a TrainingRun"):
        plot_training_frame({"losses": []}, 0)


def test_bad_input():
    with pytest.raises(ValueError, match="value must be in"):
        plot_hsv_slice(value=1.5)
    with pytest.raises(ValueError, match="saturation must be in"):
        plot_hsv_slice(saturation=-0.1)
    with pytest.raises(ValueError, match="either value or saturation"):
        plot_hsv_slice(value=0.5, saturation=0.5)
    with pytest.raises(ValueError, match="n must be"):
        plot_hsv_slice(n=1)
    with pytest.raises(ValueError, match=r"rgb_points must have shape \(N, 3\)"):
        plot_rgb_cube(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="rgb_points contains NaN"):
        plot_rgb_cube(np.full((4, 3), np.nan))
    with pytest.raises(ValueError, match="must lie in"):
        plot_rgb_cube(np.full((4, 3), 2.0))
    with pytest.raises(TypeError, match="hsv"):
        plot_hsv_cylinder([[0, 0, 0]])
    with pytest.raises(ValueError, match="one row per latent"):
        plot_latents(np.zeros((4, 2)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="held_out"):
        plot_latents(np.zeros((4, 2)), np.zeros((4, 3)), held_out=np.zeros(4))
    with pytest.raises(ValueError, match="z must have shape"):
        plot_latents(np.zeros((4, 1)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match="n must be"):
        plot_hue_wheel(2)
    assert hue_wheel(3).shape == (3, 3)


@pytest.fixture(scope="module")
def histories():
    from course_lib.color import training_sweep

    kw = dict(epochs=60, checkpoint_steps=[0, 20, 40, 60], progress=False)
    return {"with": training_sweep([0, 1, 2], normalize=True, **kw),
            "without": training_sweep([0, 1, 2], normalize=False, **kw)}


def test_sweep_history_figures(histories, run):
    from course_lib.color import wheel_plots

    fig = check_figure(wheel_plots.plot_rates(histories))
    assert len(fig.axes) == 2
    check_figure(wheel_plots.plot_rates(histories, {"probe_wheel": "whole wheel"}))
    check_figure(wheel_plots.plot_loss_spread(histories))
    fig = check_figure(wheel_plots.plot_loss_spread(histories, metrics=("trained_wheel", "loop_wheel")))
    assert "dashed: loop round its centre" in fig.axes[0].get_title()
    check_figure(wheel_plots.plot_transitions(histories))
    check_figure(wheel_plots.plot_aligned_loss(histories["with"], window=20))
    fig = check_figure(wheel_plots.plot_gallery(histories["without"], [0, 2], titles=["a", "b"]))
    assert [ax.get_title() for ax in fig.axes[:2]] == ["a", "b"]
    check_figure(wheel_plots.plot_strips(run, [0, -1]))


def test_sweep_history_figures_bad_input(histories, run):
    from course_lib.color import wheel_plots

    with pytest.raises(ValueError, match="histories"):
        wheel_plots.plot_rates({})
    with pytest.raises(TypeError, match="SweepHistory"):
        wheel_plots.plot_loss_spread({"x": 3})
    with pytest.raises(ValueError, match="metrics"):
        wheel_plots.plot_loss_spread(histories, metrics="loop_wheel")
    with pytest.raises(ValueError, match="window"):
        wheel_plots.plot_aligned_loss(histories["with"], window=2)
    with pytest.raises(ValueError, match="seed"):
        wheel_plots.plot_gallery(histories["with"], [7])
    with pytest.raises(ValueError, match="epoch"):
        wheel_plots.plot_gallery(histories["with"], [0], epoch=20)
    with pytest.raises(ValueError, match="titles"):
        wheel_plots.plot_gallery(histories["with"], [0], titles=["a", "b"])
    with pytest.raises(ValueError, match="indices"):
        wheel_plots.plot_strips(run, [99])
    with pytest.raises(TypeError, match="TrainingRun"):
        wheel_plots.plot_strips(histories["with"], [0])
