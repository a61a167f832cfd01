"""The chapter's exercise checkers: solutions pass, known-wrong attempts fail, nothing raises."""

import numpy as np
import torch

from course_lib.color import hsv_to_rgb
from course_lib.exercises import FAIL_MARK
from course_lib.color.exercises import (
    check_hsv_to_rgb,
    check_normalize,
    solution_hsv_to_rgb,
    solution_normalize,
)
from course_lib.color.model import L2Normalize

# ---------------------------------------------------------------- known-wrong hsv_to_rgb attempts


def sextant_table(hsv, wrap):
    """The textbook six-case table; ``wrap=False`` forgets to take the sector modulo 6."""
    h, s, v = hsv[:, 0], hsv[:, 1], hsv[:, 2]
    i = np.floor(h * 6).astype(int)
    if wrap:
        i = i % 6
    f = h * 6 - np.floor(h * 6)
    p, q, t = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    cases = [i == k for k in range(6)]
    r = np.select(cases, [v, q, p, p, t, v], default=0)
    g = np.select(cases, [t, v, v, q, p, p], default=0)
    b = np.select(cases, [p, p, t, v, v, q], default=0)
    return np.stack([r, g, b], axis=1)


def forgets_wrap(hsv):
    return sextant_table(hsv, wrap=False)


def swaps_channels(hsv):
    return solution_hsv_to_rgb(hsv)[:, ::-1]


def ignores_saturation(hsv):
    full = hsv.copy()
    full[:, 1] = 1.0
    return solution_hsv_to_rgb(full)


def returns_nothing(hsv):
    solution_hsv_to_rgb(hsv)


def crashes(hsv):
    raise RuntimeError("oops")


def transposed(hsv):
    return solution_hsv_to_rgb(hsv).T


def test_hsv_solutions_pass():
    assert check_hsv_to_rgb(solution_hsv_to_rgb, quiet=True).passed
    assert check_hsv_to_rgb(lambda x: sextant_table(x, wrap=True), quiet=True).passed
    assert check_hsv_to_rgb(hsv_to_rgb, quiet=True).passed  # the library's own version


def test_hsv_wrong_attempts_fail_with_the_right_case():
    expected = {
        forgets_wrap: "hue wraps around",
        swaps_channels: "primary colours",
        ignores_saturation: "greys",
        returns_nothing: "return",
        transposed: "shape",
        crashes: "RuntimeError",
    }
    for attempt, words in expected.items():
        result = check_hsv_to_rgb(attempt, quiet=True)
        assert not result.passed, attempt.__name__
        assert words in result.message, (attempt.__name__, result.message)


def test_hsv_checker_never_raises_on_bad_attempts(capsys):
    for attempt in (None, 42, "hsv_to_rgb", lambda x: None, lambda x: "red", lambda: 0):
        result = check_hsv_to_rgb(attempt)
        assert not result.passed
    assert FAIL_MARK in capsys.readouterr().out


def test_solution_hsv_matches_library():
    hsv = np.random.default_rng(0).random((50, 3))
    np.testing.assert_allclose(solution_hsv_to_rgb(hsv), hsv_to_rgb(hsv), atol=1e-12)


# ---------------------------------------------------------------- known-wrong normalize attempts


def no_eps(z):
    return z / z.norm(dim=-1, keepdim=True)


def wrong_dim(z):
    return z / z.norm(dim=0, keepdim=True).clamp_min(1e-8)


def whole_tensor(z):
    return z / z.norm().clamp_min(1e-8)


def no_keepdim(z):
    return z / z.norm(dim=-1).clamp_min(1e-8)


def via_numpy(z):
    x = z.detach().numpy()
    return torch.as_tensor(x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-8))


def squares(z):
    return z / (z**2).sum(-1, keepdim=True).clamp_min(1e-8)


def test_normalize_solutions_pass():
    assert check_normalize(solution_normalize, quiet=True).passed
    assert check_normalize(L2Normalize(), quiet=True).passed  # a module works too
    assert check_normalize(lambda z: torch.nn.functional.normalize(z, dim=-1), quiet=True).passed


def test_normalize_wrong_attempts_fail():
    expected = {
        no_eps: "NaN",
        wrong_dim: "unit norm",
        whole_tensor: "unit norm",
        no_keepdim: "raised",
        via_numpy: "autograd",
        squares: "unit norm",
    }
    for attempt, words in expected.items():
        result = check_normalize(attempt, quiet=True)
        assert not result.passed, attempt.__name__
        assert words in result.message, (attempt.__name__, result.message)


def test_normalize_checker_never_raises():
    for attempt in (None, 3.0, lambda z: None, lambda z: z.numpy(), lambda z: z[..., :1]):
        assert not check_normalize(attempt, quiet=True).passed
