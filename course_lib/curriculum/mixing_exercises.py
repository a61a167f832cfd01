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

from ..exercises import Case, CheckResult, check, forbid
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


def check_hue_midpoint(attempt: Callable, *, quiet: bool = False) -> CheckResult:
    """``hue_midpoint(h1, h2)``: hues in turns [0, 1) → their midpoint the short way round, NaN if opposite."""
    def case(h1, h2):
        h1, h2 = np.array(h1, float), np.array(h2, float)
        return lambda f: _circ_close(f(h1, h2), solution_hue_midpoint(h1, h2))
    cases = [
        Case("yellow (1/6) and cyan (1/2) meet at green (1/3)", case([1 / 6], [1 / 2]),
             "on the circle the midpoint of two nearby hues is their plain average"),
        Case("350° and 10° meet at red (0), not at cyan", case([350 / 360], [10 / 360]),
             "the plain average goes the long way round: average the angles as unit vectors (cos, sin)"),
        Case("magenta (5/6) and orange (1/12) meet at rose-red (23/24), in [0, 1)",
             case([5 / 6], [1 / 12]), "bring the angle back into [0, 1) with % 1"),
        Case("opposite hues (red and cyan) have no midpoint: NaN", case([0.0, 0.25], [0.5, 0.75]),
             "when the two unit vectors cancel, their sum has length 0 — return np.nan there"),
        Case("works elementwise on arrays", case(np.linspace(0, 0.9, 10), np.linspace(0.05, 0.3, 10)),
             "use numpy operations on the whole arrays"),
    ]
    return check("hue_midpoint", attempt, cases, quiet=quiet)


def check_mixture_redness(attempt: Callable, *, quiet: bool = False) -> CheckResult:
    """``mixture_redness(pairs (n, 2, 3), k)`` → ``(n,)``: the redder of the two inputs' redness."""
    def case(pairs, k=2.0):
        def test(f):
            with forbid(_OWN_REDNESS):
                got = f(pairs, k)
            want = solution_mixture_redness(pairs, k)
            assert isinstance(got, torch.Tensor), f"return a torch tensor, got {type(got).__name__}"
            assert got.shape == want.shape, f"expected shape {tuple(want.shape)}, got {tuple(got.shape)}"
            assert torch.allclose(got.double(), want.double(), atol=1e-6), f"expected {want}, got {got}"
        return test
    red, cyan, green, orange = [1., 0, 0], [0., 1, 1], [0., 1, 0], [1., .5, 0]
    cases = [
        Case("red + red has redness 1", case(torch.tensor([[red, red]])), "use redness(…, k=k) of each input"),
        Case("red + cyan contains red: redness 1, although the mix is grey",
             case(torch.tensor([[red, cyan]])),
             "score the inputs, not the mixed colour — suppression acts on the input tokens"),
        Case("green + red is as red as red + green (the redder input, not the first)",
             case(torch.tensor([[green, red], [red, green]])), "take the larger of the two, in either order"),
        Case("orange + green at k = 1 scores ¾ (the max, not the mean)",
             case(torch.tensor([[orange, green]]), k=1.0), "the mean halves red's weight; take the max"),
        Case("k sharpens the label", case(torch.rand(50, 2, 3, generator=torch.Generator().manual_seed(0)), k=3.0),
             "pass k on to redness"),
    ]
    return check("mixture_redness", attempt, cases, quiet=quiet)
