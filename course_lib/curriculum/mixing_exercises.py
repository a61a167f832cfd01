"""Exercise checkers for notebook 2.6 (the colour-mixing transformer).

``check_hue_midpoint`` — why the course mixes in RGB: averaging hue on the circle needs the short
way round and has no answer for opposite hues. ``check_mixture_redness`` — how much red a *pair*
contains (the redder input, not the redness of the mixed colour). Reference solutions are the
``solution_*`` functions; tests against subtle wrong answers live in
``tests/test_curriculum_mixing_exercises.py``.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from ..exercises import CheckResult, case, check, forbid
from .regularisers import redness

__all__ = ["solution_hue_midpoint", "solution_mixture_redness", "check_hue_midpoint",
           "check_mixture_redness"]

_OWN_REDNESS = ("course_lib.curriculum.mixing:pair_redness",)


def solution_hue_midpoint(h1: np.ndarray, h2: np.ndarray) -> np.ndarray:
    a1, a2 = 2 * np.pi * np.asarray(h1, float), 2 * np.pi * np.asarray(h2, float)
    x, y = np.cos(a1) + np.cos(a2), np.sin(a1) + np.sin(a2)
    mid = (np.arctan2(y, x) / (2 * np.pi)) % 1.0
    mid = np.where(mid >= 1.0, 0.0, mid)  # a tiny negative angle % 1 rounds up to 1.0
    return np.where(np.hypot(x, y) < 1e-9, np.nan, mid)


def solution_mixture_redness(pairs: torch.Tensor, k: float = 2.0) -> torch.Tensor:
    return redness(pairs, k=k).amax(dim=1)


def _circ_close(got, want, tol=1e-6):
    got, want = np.asarray(got, float), np.asarray(want, float)
    assert got.shape == want.shape, f"expected shape {want.shape}, got {got.shape}"
    nan = np.isnan(want)
    assert np.array_equal(np.isnan(got), nan), "NaN exactly where the hues are opposite, nowhere else"
    d = np.abs(got[~nan] - want[~nan])
    assert np.all(np.minimum(d, 1 - d) < tol), f"expected {want}, got {got}"
    # 1.0 is accepted as 0 (−1e-17 % 1 rounds to 1.0); negative hues are not
    assert np.all((got[~nan] >= 0) & (got[~nan] <= 1)), f"hues must lie in [0, 1), got {got}"


def _midpoint_test(attempt: Callable, h1, h2) -> None:
    h1, h2 = np.array(h1, float), np.array(h2, float)
    _circ_close(attempt(h1, h2), solution_hue_midpoint(h1, h2))


HUE_MIDPOINT_CASES = [
    case("yellow (1/6) and cyan (1/2) meet at green (1/3)", _midpoint_test, [1 / 6], [1 / 2],
         hint="on the circle the midpoint of two nearby hues is their plain average"),
    case("350° and 10° meet at red (0), not at cyan", _midpoint_test, [350 / 360], [10 / 360],
         hint="the plain average goes the long way round: average the angles as unit vectors (cos, sin)"),
    case("magenta (5/6) and orange (1/12) meet at rose-red (23/24), in [0, 1)", _midpoint_test,
         [5 / 6], [1 / 12], hint="bring the angle back into [0, 1) with % 1"),
    case("opposite hues (red and cyan) have no midpoint: NaN", _midpoint_test, [0.0, 0.25], [0.5, 0.75],
         hint="when the two unit vectors cancel, their sum has length 0 — return np.nan there"),
    case("works elementwise on arrays", _midpoint_test, np.linspace(0, 0.9, 10), np.linspace(0.05, 0.3, 10),
         hint="use numpy operations on the whole arrays"),
]


def check_hue_midpoint(attempt: Callable, *, quiet: bool = False) -> CheckResult:
    """``hue_midpoint(h1, h2)``: hues in turns [0, 1) → their midpoint the short way round, NaN if opposite."""
    return check("hue_midpoint", attempt, HUE_MIDPOINT_CASES, quiet=quiet)


def _redness_test(attempt: Callable, pairs: torch.Tensor, k: float = 2.0) -> None:
    with forbid(_OWN_REDNESS):
        got = attempt(pairs, k)
    want = solution_mixture_redness(pairs, k)
    assert isinstance(got, torch.Tensor), f"return a torch tensor, got {type(got).__name__}"
    assert got.shape == want.shape, f"expected shape {tuple(want.shape)}, got {tuple(got.shape)}"
    assert torch.allclose(got.double(), want.double(), atol=1e-6), f"expected {want}, got {got}"


_RED, _CYAN, _GREEN, _ORANGE = [1., 0, 0], [0., 1, 1], [0., 1, 0], [1., .5, 0]
MIXTURE_REDNESS_CASES = [
    case("red + red has redness 1", _redness_test, torch.tensor([[_RED, _RED]]),
         hint="use redness(…, k=k) of each input"),
    case("red + cyan contains red: redness 1, although the mix is grey", _redness_test,
         torch.tensor([[_RED, _CYAN]]),
         hint="score the inputs, not the mixed colour — suppression acts on the input tokens"),
    case("green + red is as red as red + green (the redder input, not the first)", _redness_test,
         torch.tensor([[_GREEN, _RED], [_RED, _GREEN]]), hint="take the larger of the two, in either order"),
    case("orange + green at k = 1 scores ¾ (the max, not the mean)", _redness_test,
         torch.tensor([[_ORANGE, _GREEN]]), k=1.0, hint="the mean halves red's weight; take the max"),
    case("k sharpens the label", _redness_test, torch.rand(50, 2, 3, generator=torch.Generator().manual_seed(0)),
         k=3.0, hint="pass k on to redness"),
]


def check_mixture_redness(attempt: Callable, *, quiet: bool = False) -> CheckResult:
    """``mixture_redness(pairs (n, 2, 3), k)`` → ``(n,)``: the redder of the two inputs' redness."""
    return check("mixture_redness", attempt, MIXTURE_REDNESS_CASES, quiet=quiet)
