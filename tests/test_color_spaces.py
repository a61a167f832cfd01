"""RGB ↔ HSV against Python's colorsys, for numpy arrays and torch tensors."""

import colorsys

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from course_lib.color import NAMED_HUES, hsv_to_rgb, rgb_to_hsv

unit = st.floats(0.0, 1.0, allow_nan=False, width=64)
batches = arrays(np.float64, st.tuples(st.integers(1, 20), st.just(3)), elements=unit)


def hue_distance(a, b):
    d = np.abs(np.asarray(a) - np.asarray(b)) % 1.0
    return np.minimum(d, 1.0 - d)


@settings(max_examples=200, deadline=None)
@given(batches)
def test_hsv_to_rgb_matches_colorsys_numpy(hsv):
    want = np.array([colorsys.hsv_to_rgb(*row) for row in hsv])
    got = hsv_to_rgb(hsv)
    assert isinstance(got, np.ndarray) and got.dtype == np.float64 and got.shape == hsv.shape
    np.testing.assert_allclose(got, want, atol=1e-9)


@settings(max_examples=200, deadline=None)
@given(batches)
def test_rgb_to_hsv_matches_colorsys_numpy(rgb):
    want = np.array([colorsys.rgb_to_hsv(*row) for row in rgb])
    got = rgb_to_hsv(rgb)
    assert got.shape == rgb.shape and got.dtype == np.float64
    assert np.all((got[:, 0] >= 0) & (got[:, 0] < 1))
    np.testing.assert_allclose(got[:, 1:], want[:, 1:], atol=1e-9)
    assert np.all(hue_distance(got[:, 0], want[:, 0]) < 1e-9)


@settings(max_examples=100, deadline=None)
@given(batches)
def test_torch_matches_numpy_and_keeps_type(x):
    for dtype, tol in ((torch.float64, 1e-9), (torch.float32, 1e-5)):
        t = torch.as_tensor(x, dtype=dtype)
        rgb = hsv_to_rgb(t)
        hsv = rgb_to_hsv(t)
        assert isinstance(rgb, torch.Tensor) and rgb.dtype == dtype and rgb.shape == t.shape
        assert hsv.dtype == dtype and hsv.device == t.device
        same_input = t.numpy()  # casting to float32 can flush a tiny value to 0 (black)
        np.testing.assert_allclose(rgb.numpy(), hsv_to_rgb(same_input), atol=tol)
        ref = rgb_to_hsv(same_input)
        np.testing.assert_allclose(hsv[:, 1:].numpy(), ref[:, 1:], atol=tol)
        assert np.all(hue_distance(hsv[:, 0].numpy(), ref[:, 0]) < 10 * tol)
        assert bool(((hsv[:, 0] >= 0) & (hsv[:, 0] < 1)).all())


@settings(max_examples=200, deadline=None)
@given(batches)
def test_round_trip_rgb_hsv_rgb(rgb):
    np.testing.assert_allclose(hsv_to_rgb(rgb_to_hsv(rgb)), rgb, atol=1e-9)
    t = torch.as_tensor(rgb, dtype=torch.float32)
    np.testing.assert_allclose(hsv_to_rgb(rgb_to_hsv(t)).numpy(), rgb, atol=1e-5)


def test_named_hues_and_wrap():
    assert len(NAMED_HUES) == 12
    assert NAMED_HUES["red"] == 0 and NAMED_HUES["orange"] == pytest.approx(30 / 360)
    assert NAMED_HUES["yellow"] == pytest.approx(60 / 360)
    assert NAMED_HUES["blue"] == pytest.approx(240 / 360)
    assert np.allclose(np.diff(list(NAMED_HUES.values())), 30 / 360)
    np.testing.assert_allclose(hsv_to_rgb(np.array([1.0, 1.0, 1.0])), [1, 0, 0])
    np.testing.assert_allclose(hsv_to_rgb(np.array([NAMED_HUES["green"], 1, 1])), [0, 1, 0], atol=1e-12)
    np.testing.assert_allclose(hsv_to_rgb(np.array([NAMED_HUES["blue"], 1, 1])), [0, 0, 1], atol=1e-12)


def test_greys_have_hue_and_saturation_zero():
    greys = np.array([[0, 0, 0], [0.5, 0.5, 0.5], [1, 1, 1]], dtype=np.float64)
    np.testing.assert_array_equal(rgb_to_hsv(greys), [[0, 0, 0], [0, 0, 0.5], [0, 0, 1]])
    np.testing.assert_array_equal(rgb_to_hsv(torch.tensor(greys)).numpy(), rgb_to_hsv(greys))


def test_hue_never_reaches_one():
    # a red with a hair of blue: (g - b) / C is a tiny negative number, mod 6 rounds to 6.0
    rgb = np.array([[1.0, 0.0, 1e-17], [1.0, 0.0, 1e-12]])
    assert np.all(rgb_to_hsv(rgb)[:, 0] < 1.0)
    assert bool((rgb_to_hsv(torch.tensor(rgb, dtype=torch.float32))[:, 0] < 1.0).all())


def test_shapes_float32_single_and_empty():
    x = np.random.default_rng(0).random((4, 5, 3)).astype(np.float32)
    for f in (hsv_to_rgb, rgb_to_hsv):
        assert f(x).shape == (4, 5, 3) and f(x).dtype == np.float32
        assert f(x[0, 0]).shape == (3,)
        assert f(np.zeros((0, 3))).shape == (0, 3)
        assert f(torch.zeros(0, 3)).shape == (0, 3)
    assert hsv_to_rgb(np.array([[0, 1, 1]])).dtype == np.float64  # ints become floats


def test_slack_is_clipped():
    out = hsv_to_rgb(np.array([[0.2, 1 + 1e-7, -1e-7]]))
    assert out.min() >= 0 and out.max() <= 1


def test_gradient_flows_through_hsv_to_rgb():
    hsv = torch.tensor([[0.1, 0.8, 0.9], [0.55, 0.5, 0.7]], dtype=torch.float64, requires_grad=True)
    rgb = hsv_to_rgb(hsv)
    rgb.sum().backward()
    assert hsv.grad is not None and torch.isfinite(hsv.grad).all()
    assert hsv.grad.abs().sum() > 0
    # agrees with finite differences
    assert torch.autograd.gradcheck(lambda t: hsv_to_rgb(t), (hsv.detach().requires_grad_(),))


@pytest.mark.parametrize("f", [hsv_to_rgb, rgb_to_hsv])
def test_bad_input(f):
    with pytest.raises(TypeError, match=r"np\.asarray"):
        f([[0.1, 0.2, 0.3]])
    with pytest.raises(TypeError, match="x"):
        f("red")
    with pytest.raises(ValueError, match=r"x must have shape \[\.\.\., 3\]"):
        f(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="x"):
        f(np.zeros(()))
    with pytest.raises(ValueError, match="x contains NaN"):
        f(np.array([[0.1, np.nan, 0.3]]))
    with pytest.raises(ValueError, match="x contains NaN or inf"):
        f(torch.tensor([[0.1, float("inf"), 0.3]]))
    with pytest.raises(ValueError, match=r"x must lie in \[0, 1\]"):
        f(np.array([[0.1, 1.5, 0.3]]))
    with pytest.raises(ValueError, match=r"x must lie in \[0, 1\]"):
        f(torch.tensor([[-0.1, 0.5, 0.3]]))
