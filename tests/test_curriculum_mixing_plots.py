"""Tests for course_lib.curriculum.mixing_plots: each figure draws, and bad input is refused clearly."""

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from course_lib.curriculum import mixing as M
from course_lib.curriculum import mixing_plots as P


@pytest.fixture(scope="module")
def runs():
    return [M.train_mixer(seed=s, profile="quick", steps=20, snap_every=10) for s in (0, 1)]


def test_token_cosines(runs):
    rgb = M.probe_colours()
    fig = P.plot_token_cosines({"a": runs[0].checkpoint_cos[-1], "b": runs[1].checkpoint_cos[-1]}, rgb, step=20)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert len(fig.axes[0].patches) == len(rgb)  # one bar per hue
    with pytest.raises(ValueError, match="one value per colour"):
        P.plot_token_cosines({"a": np.zeros(5)}, rgb)
    with pytest.raises(ValueError, match="non-empty"):
        P.plot_token_cosines({}, rgb)


def test_mixer_losses(runs):
    fig = P.plot_mixer_losses({"anchored": runs, "control": runs[:1]}, window=5)
    line = fig.axes[0].get_lines()[0]
    want = np.median(np.stack([np.convolve(r.mse, np.ones(5) / 5, mode="valid") for r in runs]), axis=0)
    assert np.allclose(line.get_ydata(), want)  # the median of the running means
    with pytest.raises(ValueError, match="window"):
        P.plot_mixer_losses({"a": runs}, window=0)
    with pytest.raises(ValueError, match="no runs"):
        P.plot_mixer_losses({"a": []})


def test_damage_vs_redness():
    pairs = M.mixing_pairs(200, torch.Generator().manual_seed(0))
    r = M.pair_redness(pairs)
    fig = P.plot_damage_vs_redness(r, torch.rand(200), M.mix(pairs[:, 0], pairs[:, 1]))
    assert sum(len(c.get_offsets()) for c in fig.axes[0].collections) == 200  # every pair drawn once
    with pytest.raises(ValueError, match="same length"):
        P.plot_damage_vs_redness(r, torch.rand(199), M.mix(pairs[:, 0], pairs[:, 1]))


def test_mix_swatches():
    labels, pairs = M.named_mixes(["red", "cyan"])
    target = M.mix(pairs[:, 0], pairs[:, 1])
    broken = target.clone()
    broken[0, 2] = 1.4
    fig = P.plot_mix_swatches(labels, {"target": target, "muted": broken})
    ax = fig.axes[0]
    assert len(ax.patches) == 2 * len(labels)
    assert [t.get_text() for t in ax.texts].count("!") == 1  # only the colour outside the cube is marked
    with pytest.raises(ValueError, match="shape"):
        P.plot_mix_swatches(labels, {"target": target[:2]})
    with pytest.raises(ValueError, match="labels"):
        P.plot_mix_swatches([], {"target": target})


def test_mixer_losses_three_arms_and_floor(runs):
    fig = P.plot_mixer_losses({"a": runs, "b": runs, "c": runs[:1]}, window=5, floor=1e-3)
    ax = fig.axes[0]
    assert len(ax.get_lines()) == 4                      # three medians and the floor
    assert np.allclose(ax.get_lines()[-1].get_ydata(), 1e-3)


def test_layer_cosines():
    c = np.array([[0.93, 0.6, 0.4], [0.92, 0.7, 0.5]])
    fig = P.plot_layer_cosines({"anchored": c, "control": -c})
    lines = fig.axes[0].get_lines()
    assert np.allclose(lines[2].get_ydata(), np.median(c, axis=0))   # two seed lines, then the median
    with pytest.raises(ValueError, match="same number of layers"):
        P.plot_layer_cosines({"a": c, "b": c[:, :2]})
    with pytest.raises(ValueError, match="non-empty"):
        P.plot_layer_cosines({})


def test_matched_selectivity():
    s = np.array([[300.0, 50, 10], [200, 80, 5]])
    fig = P.plot_matched_selectivity({"anchored": s, "control": s / 10})
    from matplotlib.collections import PathCollection
    dots = [c for c in fig.axes[0].collections if isinstance(c, PathCollection)]
    assert sum(len(c.get_offsets()) for c in dots) == 2 * s.size   # every seed and layer
    with pytest.raises(ValueError, match="2 dimension"):
        P.plot_matched_selectivity({"a": np.zeros(3)})


def test_matched_selectivity_leaves_out_unmatched_and_takes_five_arms():
    s = np.array([[300.0, 50, 10], [200, np.nan, 5]])
    fig = P.plot_matched_selectivity({k: s for k in "abcde"})
    from matplotlib.collections import PathCollection
    dots = [c for c in fig.axes[0].collections if isinstance(c, PathCollection)]
    assert sum(len(c.get_offsets()) for c in dots) == 5 * (s.size - 1)   # the NaN is not drawn
    assert len({tuple(c.get_facecolor()[0]) for c in dots}) == 5
    with pytest.raises(ValueError, match="at most"):
        P.plot_matched_selectivity({k: s for k in "abcdefg"})
