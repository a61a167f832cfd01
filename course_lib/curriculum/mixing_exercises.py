"""Exercise checkers for notebook 2.6 (the colour-mixing transformer).

``check_hue_midpoint`` — why the course mixes in RGB: averaging hue on the circle needs the short
way round and has no answer for opposite hues. ``check_twin_pair`` — why the product rule needs the
tokens to interact: for a pair ``(a, b)`` build the pair with the **same sum** ``a + b`` (so a model
that pools the tokens before reading them sees the same input) whose product is as far from
``a ⊙ b`` as the colour cube allows, channel by channel. ``mixing_prediction`` — a written-down
prediction (:data:`MIXING_PREDICTION_KEYS`) of whether the pooled baseline learns the rule, whether a
DeepSets model (per-token MLP before the pooling, no attention) gets below the pooling floor, and
whether red's direction survives the blocks, checked for its form where it is written
(:func:`check_mixing_prediction_form`) and against the measurement afterwards
(:func:`check_mixing_prediction`). Reference solutions are the ``solution_*`` functions; tests against
subtle wrong answers live in ``tests/test_curriculum_mixing_exercises.py``.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch

from ..exercises import CheckResult, case, check, prediction_answer, prediction_form

__all__ = ["solution_hue_midpoint", "check_hue_midpoint", "solution_twin_pair", "check_twin_pair",
           "MIXING_PREDICTION_KEYS", "mixing_verdict", "check_mixing_prediction_form", "check_mixing_prediction"]


def solution_hue_midpoint(h1: np.ndarray, h2: np.ndarray) -> np.ndarray:
    a1, a2 = 2 * np.pi * np.asarray(h1, float), 2 * np.pi * np.asarray(h2, float)
    x, y = np.cos(a1) + np.cos(a2), np.sin(a1) + np.sin(a2)
    mid = (np.arctan2(y, x) / (2 * np.pi)) % 1.0
    mid = np.where(mid >= 1.0, 0.0, mid)  # a tiny negative angle % 1 rounds up to 1.0
    return np.where(np.hypot(x, y) < 1e-9, np.nan, mid)


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


# ---- the twin pair: same sum, product as different as possible --------------------------------

def solution_twin_pair(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    s = a + b
    low = (s - 1).clamp_min(0.0)                 # the most uneven split the cube allows
    p_min, p_max = low * (s - low), s * s / 4    # the product's range for this sum
    p = a * b
    a2 = torch.where(p_max - p >= p - p_min, s / 2, low)
    return a2, s - a2


def _twin_test(attempt: Callable, a: list, b: list) -> None:
    a, b = torch.tensor(a, dtype=torch.float64), torch.tensor(b, dtype=torch.float64)
    got = attempt(a.clone(), b.clone())
    assert isinstance(got, tuple) and len(got) == 2, f"return a pair (a2, b2), got {type(got).__name__}"
    a2, b2 = got
    assert all(isinstance(t, torch.Tensor) and t.shape == a.shape for t in (a2, b2)), (
        f"a2 and b2 must be tensors of shape {tuple(a.shape)}")
    a2, b2 = a2.double(), b2.double()
    assert torch.allclose(a2 + b2, a + b, atol=1e-6), (
        f"the pooled model must see the same input: a2 + b2 must equal a + b = {(a + b).tolist()}, got {(a2 + b2).tolist()}")
    assert bool(((a2 >= -1e-6) & (a2 <= 1 + 1e-6) & (b2 >= -1e-6) & (b2 <= 1 + 1e-6)).all()), (
        f"colours live in [0, 1]: got a2 = {a2.tolist()}, b2 = {b2.tolist()}")
    w2, w1 = solution_twin_pair(a, b)
    want = (w2 * w1 - a * b).abs()
    gap = (a2 * b2 - a * b).abs()
    assert torch.allclose(gap, want, atol=1e-6), (
        f"|a2 ⊙ b2 − a ⊙ b| per channel should be {want.tolist()} (the largest the cube allows), got {gap.tolist()}")


_RED, _CYAN, _GREY = [1.0, 0.0, 0.0], [0.0, 1.0, 1.0], [0.5, 0.5, 0.5]
TWIN_CASES = [
    case("red + cyan: the same sum as grey + grey, whose product is ¼ in every channel", _twin_test, [_RED], [_CYAN],
         hint="a product of 0 is as low as it goes; move it up: split each channel's sum evenly"),
    case("grey + grey: split unevenly (0 and 1 per channel)", _twin_test, [_GREY], [_GREY],
         hint="an even split is the largest product for its sum; go to the most uneven split instead"),
    case("sums above 1: the most uneven split is (s − 1, 1), not (0, s)", _twin_test, [[0.8, 0.9, 0.7]],
         [[0.8, 0.9, 0.7]], hint="keep both colours inside [0, 1]: the smaller part is at least s − 1"),
    case("each channel chooses on its own", _twin_test, [[1.0, 0.5, 0.9]], [[0.0, 0.5, 0.2]],
         hint="compare, per channel, the distance to the largest and to the smallest product"),
    case("works on a batch (n, 3)", _twin_test, torch.rand(40, 3, generator=torch.Generator().manual_seed(0)).tolist(),
         torch.rand(40, 3, generator=torch.Generator().manual_seed(1)).tolist(), hint="use tensor operations"),
]


def check_twin_pair(attempt: Callable, *, quiet: bool = False) -> CheckResult:
    """``twin_pair(a, b)`` for ``a, b (n, 3)`` → ``(a2, b2)`` with ``a2 + b2 = a + b`` in the cube and
    ``|a2 ⊙ b2 − a ⊙ b|`` as large as possible in every channel."""
    return check("twin_pair", attempt, TWIN_CASES, quiet=quiet)


# ---- the written-down prediction -----------------------------------------------------------------

MIXING_PREDICTION_KEYS = {
    "baseline": ("as good as the transformer", "transformer at least 3x better", "baseline better"),
    "deepsets": ("at least 3x below the floor", "below the floor by less than 3x", "on or above the floor"),
    "red_after_blocks": ("stays at 0.9 or above", "falls below 0.9"),
}

_FORM = prediction_form(MIXING_PREDICTION_KEYS,
                        hint="baseline: 'as good as the transformer', 'transformer at least 3x better' or "
                             "'baseline better'; deepsets: 'at least 3x below the floor', 'below the floor by "
                             "less than 3x' or 'on or above the floor'; red_after_blocks: 'stays at 0.9 or "
                             "above' or 'falls below 0.9'")


def _measured(x: Any, name: str) -> np.ndarray:
    a = np.asarray(x, float).ravel()
    if not a.size or not np.all(np.isfinite(a)):
        raise ValueError(f"the measurements must be non-empty and finite ({name})")
    return a


def mixing_verdict(baseline_mse: Any, transformer_mse: Any, red_cos_last: Any, deepsets_mse: Any,
                   floor: float) -> dict:
    """What the measurement says: medians over seeds of the final MSEs (baseline over transformer: ≥ 3
    → transformer at least 3x better, < 1 → baseline better, else as good; ``floor`` over DeepSets: ≥ 3
    → at least 3x below the floor, > 1 → below by less, else on or above) and of red's cosine to
    ``e₀`` after the last block (≥ 0.9 → stays)."""
    b, t, c, d = (_measured(x, n) for x, n in ((baseline_mse, "baseline_mse"), (transformer_mse, "transformer_mse"),
                                                (red_cos_last, "red_cos_last"), (deepsets_mse, "deepsets_mse")))
    f = float(_measured(floor, "floor")[0])
    if f <= 0:
        raise ValueError(f"floor must be positive, got {f}")
    ratio = float(np.median(b) / max(float(np.median(t)), 1e-300))
    base = ("transformer at least 3x better" if ratio >= 3 else
            "baseline better" if ratio < 1 else "as good as the transformer")
    under = float(f / max(float(np.median(d)), 1e-300))
    deep = ("at least 3x below the floor" if under >= 3 else
            "below the floor by less than 3x" if under > 1 else "on or above the floor")
    red = "stays at 0.9 or above" if float(np.median(c)) >= 0.9 else "falls below 0.9"
    return {"baseline": base, "deepsets": deep, "red_after_blocks": red, "ratio": ratio, "under_floor": under,
            "red_cos": float(np.median(c))}


def check_mixing_prediction_form(prediction: Any, *, quiet: bool = False) -> CheckResult:
    """Check that ``prediction`` is complete before the runs are read."""
    return check("prediction, written down", prediction, [_FORM], quiet=quiet)


def check_mixing_prediction(prediction: Any, baseline_mse: Any, transformer_mse: Any, red_cos_last: Any, *,
                            deepsets_mse: Any, floor: float, quiet: bool = False) -> CheckResult:
    """Check ``prediction`` against the measurement (see :func:`mixing_verdict`). A wrong prediction is a
    result, not an error: each message says what was measured."""
    v = mixing_verdict(baseline_mse, transformer_mse, red_cos_last, deepsets_mse, floor)
    cases = [
        _FORM,
        prediction_answer("the pooled baseline", "baseline", v["baseline"],
                          f"median final MSE, baseline over transformer: {v['ratio']:.1f}×",
                          hint="the pooled model sees only a + b; see the twin-pair exercise"),
        prediction_answer("the DeepSets model", "deepsets", v["deepsets"],
                          f"the floor over the DeepSets model's median final MSE: {v['under_floor']:.1f}×",
                          hint="a per-token nonlinearity before the mean gives a², b² and (a + b)²: ab follows"),
        prediction_answer("red after the blocks", "red_after_blocks", v["red_after_blocks"],
                          f"median cosine of red's token to e₀ after the last block: {v['red_cos']:.2f}",
                          hint="nothing in the loss holds red on e₀ after the embedding"),
    ]
    return check("mixing prediction", prediction, cases, quiet=quiet)
