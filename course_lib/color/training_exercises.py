"""Checkers (and reference solutions) for the exercises of notebook 1.2, "the bottleneck".

* :func:`check_normalize` — the L2-normalising bottleneck, right values *and* right gradients;
* :func:`check_arc_is_wheel` — does an arc of latent angles wrap round the origin, in order?
  (vectorised over any batch of arcs);
* :func:`check_transition_epoch` — the first checkpoint from which a score *stays* above a
  threshold;
* :func:`check_centred_timing` — predict, then measure, when the loop forms round its *own*
  centre with and without normalisation: the summary function and the reader's predictions.

Each checker runs :class:`course_lib.exercises.Case` s against the reader's attempt and reports the
first failure with a hint; it never raises because of the attempt. While the attempt runs, the
course's own implementations of the same thing raise instead of answering, so an attempt that just
calls them is told so — the exercise is to write it.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch

from ..exercises import CheckResult, assert_no_python_loop, case, check, forbid

__all__ = [
    "check_normalize",
    "check_arc_is_wheel",
    "check_transition_epoch",
    "solution_normalize",
    "solution_arc_is_wheel",
    "solution_transition_epoch",
    "check_centred_timing",
    "solution_centred_timing",
    "PREDICTION_QUESTIONS",
]


# --------------------------------------------------------------------------- reference solutions


def solution_normalize(z: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Every row onto the unit sphere: z / max(‖z‖, eps) along the last dim, differentiably."""
    return z / z.norm(dim=-1, keepdim=True).clamp_min(eps)


def solution_arc_is_wheel(angles: np.ndarray, min_order: float = 0.95) -> np.ndarray:
    """Angles (radians, ``[..., T]``) of an arc of hues in hue order → bool ``[...]``: do the steps
    turn one way (≥ ``min_order`` of them) and does the arc turn more than half but less than a
    full circle round the origin?"""
    steps = np.diff(angles, axis=-1)
    steps = np.mod(steps + np.pi, 2 * np.pi) - np.pi  # wrap each step to [−π, π)
    sweep = steps.sum(axis=-1)
    direction = np.where(sweep >= 0, 1.0, -1.0)[..., None]
    order = np.mean(steps * direction > 0, axis=-1)
    return (order >= min_order) & (np.abs(sweep) > np.pi) & (np.abs(sweep) < 2 * np.pi)


def solution_transition_epoch(epochs: np.ndarray, scores: np.ndarray, threshold: float) -> int | None:
    """First checkpoint epoch from which every later score is ≥ ``threshold``; None if none."""
    ok = np.asarray(scores, dtype=float) >= threshold
    if not ok[-1]:
        return None
    below = np.flatnonzero(~ok)
    first = 0 if len(below) == 0 else below[-1] + 1  # the checkpoint after the last one below
    return int(epochs[first])


# --------------------------------------------------------------------------- "write it yourself"
# While an attempt runs, the course functions below refuse to answer (course_lib.exercises.forbid).

_NORMALIZE_OWN = (
    "course_lib.color.model:L2Normalize.forward",
    "course_lib.color.training_exercises:solution_normalize",
)
_ARC_OWN = (
    "course_lib.color.metrics:arc_sweep",
    "course_lib.color.metrics:wheel_report",
    "course_lib.color.metrics:is_wheel",
    "course_lib.color.metrics:winding_number",
    "course_lib.color.metrics:hue_order_score",
    "course_lib.color.training_exercises:solution_arc_is_wheel",
)
_TRANSITION_OWN = (
    "course_lib.color.metrics:transition_epoch",
    "course_lib.color.metrics:transition_epochs",
    "course_lib.color.train:SweepHistory.transitions",
    "course_lib.color.training_exercises:solution_transition_epoch",
)


# --------------------------------------------------------------------------- normalize


def _normalized(attempt: Callable, z: torch.Tensor) -> torch.Tensor:
    with forbid(_NORMALIZE_OWN):
        out = attempt(z)
    assert out is not None, "your function returned None — did you forget `return`?"
    assert isinstance(out, torch.Tensor), f"expected a torch tensor, got {type(out).__name__}"
    assert out.shape == z.shape, f"expected shape {tuple(z.shape)}, got {tuple(out.shape)}"
    return out


def _case_values(attempt: Callable) -> None:
    z = torch.tensor([[3.0, 4.0], [-1.0, 0.0], [0.0, 0.5], [2.0, -2.0]])
    before = z.clone()
    out = _normalized(attempt, z)
    assert torch.equal(z, before), "your function changed its input in place — return a new tensor"
    want = solution_normalize(before)
    assert torch.allclose(out, want, atol=1e-6), (
        f"rows {before.tolist()} should become {np.round(want.numpy(), 3).tolist()}, "
        f"got {np.round(out.detach().numpy(), 3).tolist()}")


def _case_per_row(attempt: Callable) -> None:
    z = torch.tensor([[10.0, 0.0], [0.0, 0.1]])  # very different lengths: one norm for all fails
    out = _normalized(attempt, z)
    lengths = out.detach().norm(dim=-1)
    assert torch.allclose(lengths, torch.ones(2), atol=1e-6), (
        f"each row must have length 1; got lengths {lengths.tolist()} (normalise each row by its own "
        "length, along the last dimension)")


def _case_batch_dims(attempt: Callable) -> None:
    g = torch.Generator().manual_seed(0)
    z = torch.randn(4, 5, 3, generator=g)
    out = _normalized(attempt, z)
    assert torch.allclose(out, solution_normalize(z), atol=1e-6), (
        "wrong values for a (4, 5, 3) batch: take the norm over the last dimension (dim=-1) and keep "
        "it (keepdim=True) so it broadcasts")


def _case_zero(attempt: Callable) -> None:
    z = torch.tensor([[0.0, 0.0], [1.0, 1.0]], requires_grad=True)
    out = _normalized(attempt, z)
    assert torch.isfinite(out).all(), "the all-zero row became NaN or inf: guard the division (eps)"
    out.sum().backward()
    assert z.grad is not None and torch.isfinite(z.grad).all(), (
        "the gradient at the all-zero row is NaN or inf: clamp the norm (clamp_min(eps)) before dividing")


def _case_gradient(attempt: Callable) -> None:
    g = torch.Generator().manual_seed(1)
    z0 = torch.randn(6, 2, generator=g)
    weights = torch.randn(6, 2, generator=g)
    z = z0.clone().requires_grad_(True)
    out = _normalized(attempt, z)
    assert out.requires_grad, (
        "the output does not depend on the input differentiably (no gradient flows): did you use "
        ".detach(), .numpy() or torch.no_grad()?")
    (grad,) = torch.autograd.grad((out * weights).sum(), z)
    ref = z0.clone().requires_grad_(True)
    (want,) = torch.autograd.grad((solution_normalize(ref) * weights).sum(), ref)
    assert torch.allclose(grad, want, atol=1e-5), (
        "right values but wrong gradients: the norm must stay in the computation graph (a detached "
        "norm, or one computed with torch.no_grad() or from .item()/.numpy(), changes what the encoder "
        "learns: it no longer feels that only the direction matters)")


def check_normalize(attempt: Callable[[torch.Tensor], torch.Tensor], *, quiet: bool = False) -> CheckResult:
    """Check an L2-normalising function ``attempt(z) -> z / max(‖z‖, eps)`` (last dim)."""
    cases = [
        case("each row separately", _case_per_row, hint="the norm of each row, not of the whole tensor"),
        case("values", _case_values, hint="z / z.norm(dim=-1, keepdim=True)"),
        case("any batch shape", _case_batch_dims, hint="dim=-1 and keepdim=True"),
        case("gradients", _case_gradient, hint="keep the norm in the graph: no .detach() or no_grad"),
        case("all-zero row", _case_zero, hint="divide by z.norm(...).clamp_min(eps)"),
    ]
    return check("normalize", attempt, cases, quiet=quiet)


# --------------------------------------------------------------------------- arc_is_wheel


def _arc(start_deg: float, sweep_deg: float, n: int = 270) -> np.ndarray:
    return np.radians(start_deg + np.linspace(0.0, sweep_deg, n))


def _wrapped(theta: np.ndarray) -> np.ndarray:
    return np.arctan2(np.sin(theta), np.cos(theta))  # what atan2 of a latent gives: (−π, π]


def _verdicts(attempt: Callable, angles: np.ndarray, **kwargs: Any) -> np.ndarray:
    with forbid(_ARC_OWN):
        out = attempt(angles.copy(), **kwargs)
    assert out is not None, "your function returned None — did you forget `return`?"
    out = np.asarray(out)
    want_shape = angles.shape[:-1]
    assert out.shape == want_shape, (
        f"for angles of shape {angles.shape} expected one verdict per arc, shape {want_shape}; "
        f"got {out.shape}")
    assert out.dtype == np.bool_, f"expected a bool array (True/False per arc), got dtype {out.dtype}"
    return out


def _one(attempt: Callable, arc: np.ndarray, **kwargs: Any) -> bool:
    return bool(_verdicts(attempt, arc[None, :], **kwargs)[0])


def _case_plain(attempt: Callable) -> None:
    assert _one(attempt, _wrapped(_arc(-130, 270))), "an ordered arc turning 270° counter-clockwise is a wheel"


def _case_branch_cut(attempt: Callable) -> None:
    arc = _wrapped(_arc(120, 270))  # crosses ±180°, where atan2 jumps by 360°
    assert _one(attempt, arc), (
        "an ordered 270° arc that passes through 180° (where atan2 jumps from +π to −π) was not "
        "recognised: wrap every step into [−π, π) before adding them up")


def _case_clockwise(attempt: Callable) -> None:
    assert _one(attempt, _wrapped(_arc(30, -270))), (
        "an ordered arc turning 270° *clockwise* is a wheel too: the direction is arbitrary (use the "
        "size of the total turn, and order relative to its sign)")


def _case_misses_origin(attempt: Callable) -> None:
    assert not _one(attempt, _wrapped(_arc(-40, 150))), (
        "an ordered arc that turns only 150° round the origin does not go round it: closed across the "
        "gap, it would leave the origin outside")
    assert _one(attempt, _wrapped(_arc(-40, 200))), "an ordered arc turning 200° goes more than half way round: a wheel"


def _case_double(attempt: Callable) -> None:
    assert not _one(attempt, _wrapped(_arc(0, 600, n=400))), (
        "an arc that goes round 600° (more than once) is not a wheel: the total turn must stay under 360°")


def _case_folded(attempt: Callable) -> None:
    there = _arc(0, 200, n=135)
    folded = np.r_[there, there[::-1][1:]]  # out and back: every hue's neighbour lands on it
    assert not _one(attempt, _wrapped(folded)), (
        "an arc that goes 200° out and folds back is not a wheel (half its steps turn the wrong way): "
        "compare the fraction of steps turning the dominant way with min_order")
    rng = np.random.default_rng(3)
    noisy = _arc(0, 270) + rng.normal(0, 0.002, 270)
    noisy[::50] -= 0.03  # a few small backward steps, well under 5% of them
    assert _one(attempt, _wrapped(noisy)), (
        "an arc with a few small backward steps (≥ 95% of steps forward) still counts as a wheel")


def _case_min_order(attempt: Callable) -> None:
    rng = np.random.default_rng(4)
    steps = np.full(269, np.radians(1.1))
    back = rng.choice(269, size=27, replace=False)  # 10% of the steps go back a little
    steps[back] = -np.radians(0.2)
    arc = _wrapped(np.r_[0.0, np.cumsum(steps)])
    assert _one(attempt, arc, min_order=0.85), "with min_order=0.85 an arc 90% in order is a wheel"
    assert not _one(attempt, arc, min_order=0.95), "with min_order=0.95 an arc 90% in order is not"


def _case_batch(attempt: Callable) -> None:
    arcs = [_arc(10, 270), _arc(0, 150), _arc(200, -300), _arc(0, 600)]
    batch = _wrapped(np.stack(arcs)).reshape(2, 2, -1)
    got = _verdicts(attempt, batch)
    want = np.array([[True, False], [True, False]])
    assert np.array_equal(got, want), f"for a (2, 2, 270) batch expected {want.tolist()}, got {got.tolist()}"


def _rotated_arcs(n: int) -> tuple[np.ndarray]:
    return (_wrapped(np.stack([_arc(s, 270) for s in np.linspace(0, 350, n)])),)


def _case_vectorised(attempt: Callable) -> None:
    with forbid(_ARC_OWN):
        out = np.asarray(attempt(*_rotated_arcs(50)))
        assert out.shape == (50,) and out.all(), "50 rotated copies of a 270° arc should all be wheels"
        assert_no_python_loop(attempt, _rotated_arcs, small=10, large=400, slack=200, what="arcs")


def check_arc_is_wheel(attempt: Callable[..., np.ndarray], *, quiet: bool = False) -> CheckResult:
    """Check ``attempt(angles, min_order=0.95)``: angles ``[..., T]`` → bool ``[...]``."""
    cases = [
        case("an ordered 270° arc", _case_plain, hint="sum the steps between neighbouring angles"),
        case("an arc across ±180°", _case_branch_cut, hint="wrap each step: (d + π) mod 2π − π"),
        case("clockwise", _case_clockwise, hint="use abs(total turn); count steps with the total's sign"),
        case("an arc that misses the origin", _case_misses_origin, hint="a wheel turns more than 180°"),
        case("a double wrap", _case_double, hint="and less than 360°"),
        case("folds and noise", _case_folded, hint="fraction of steps turning the dominant way ≥ min_order"),
        case("min_order", _case_min_order, hint="use the min_order argument"),
        case("a batch of arcs", _case_batch, hint="work along the last axis: axis=-1"),
        case("vectorised", _case_vectorised, hint="no Python loop over the arcs"),
    ]
    return check("arc_is_wheel", attempt, cases, quiet=quiet)


# --------------------------------------------------------------------------- transition_epoch


def _transition(attempt: Callable, epochs: Any, scores: Any, threshold: float) -> Any:
    e, s = np.array(epochs), np.array(scores)
    with forbid(_TRANSITION_OWN):
        out = attempt(e, s, threshold)
    assert np.array_equal(e, epochs) and np.array_equal(s, scores), "your function changed its inputs"
    return out


def _expect(attempt: Callable, epochs: Any, scores: Any, threshold: float, want: int | None, why: str) -> None:
    got = _transition(attempt, epochs, scores, threshold)
    if want is None:
        assert got is None, f"{why}: expected None, got {got!r}"
        return
    assert got is not None and not isinstance(got, (bool, np.bool_)) and isinstance(got, (int, np.integer)), (
        f"{why}: expected the epoch {want} (an int), got {got!r}")
    assert int(got) == want, f"{why}: expected epoch {want}, got {int(got)}"


_EPOCHS = [0, 50, 100, 150, 200, 250, 300]


def _case_simple(attempt: Callable) -> None:
    _expect(attempt, _EPOCHS, [0.3, 0.5, 0.7, 0.96, 0.97, 0.99, 1.0], 0.95, 150,
            "scores cross 0.95 at the 4th checkpoint and stay (the answer is an epoch, not an index)")


def _case_stays(attempt: Callable) -> None:
    _expect(attempt, _EPOCHS, [0.3, 0.96, 0.8, 0.6, 0.97, 0.98, 0.99], 0.95, 200,
            "scores touch 0.95 at epoch 50, fall back, and reach it for good at epoch 200 (the first "
            "crossing is not the transition)")


def _case_boundary(attempt: Callable) -> None:
    _expect(attempt, _EPOCHS, [0.1, 0.2, 0.95, 0.95, 0.95, 0.95, 0.95], 0.95, 100,
            "a score exactly at the threshold counts (≥, not >)")


def _case_from_start(attempt: Callable) -> None:
    _expect(attempt, _EPOCHS, [0.99] * 7, 0.95, 0,
            "above the threshold from the first checkpoint on: the transition is the first epoch")


def _case_last_only(attempt: Callable) -> None:
    _expect(attempt, _EPOCHS, [0.1, 0.96, 0.1, 0.96, 0.1, 0.1, 0.96], 0.95, 300,
            "only the last checkpoint stays above: the transition is the last epoch")


def _case_never(attempt: Callable) -> None:
    _expect(attempt, _EPOCHS, [0.1, 0.96, 0.99, 0.97, 0.98, 0.99, 0.5], 0.95, None,
            "the score ends below the threshold: no transition (None), however long it was above before")
    _expect(attempt, _EPOCHS, [0.1] * 7, 0.95, None, "never above the threshold: None")


def _case_verdicts(attempt: Callable) -> None:
    _expect(attempt, [0, 10, 20, 30, 40], [False, True, False, True, True], 0.5, 30,
            "yes/no verdicts (True = 1) with threshold 0.5")


def check_transition_epoch(attempt: Callable[..., int | None], *, quiet: bool = False) -> CheckResult:
    """Check ``attempt(epochs, scores, threshold)`` → first checkpoint epoch from which
    ``scores`` stay ≥ ``threshold``, or None."""
    cases = [
        case("a clean transition", _case_simple, hint="return epochs[k], not k"),
        case("a false start", _case_stays,
             hint="find the last checkpoint below the threshold; the next one is it"),
        case("exactly at the threshold", _case_boundary, hint="use >= threshold"),
        case("above from the start", _case_from_start, hint="no checkpoint below: epochs[0]"),
        case("above only at the end", _case_last_only, hint="mind the off-by-one at the end"),
        case("never for good", _case_never, hint="if the last score is below the threshold, return None"),
        case("yes/no verdicts", _case_verdicts, hint="True >= 0.5 holds: booleans work like 1 and 0"),
    ]
    return check("transition_epoch", attempt, cases, quiet=quiet)


# --------------------------------------------------------------------------- predict, then measure: the loop's own timing

#: What the reader predicts before measuring (Exercise 4 of notebook 1.2).
PREDICTION_QUESTIONS = {
    "median_ratio": "median epoch at which the loop forms round its own centre, without normalisation "
                    "divided by with it (2.0 = twice as late without)",
    "ordered_at_start": "share of un-normalised seeds (0–1) whose trained hues already form an ordered "
                        "loop round its own centre at epoch 0, before any training",
}
#: A prediction counts as right within this factor (timing) and this distance (share). 1.3 keeps
#: "no later" (≈ 0.86 measured → 0.66–1.12) and rejects "a quarter later" (1.25).
RATIO_FACTOR = 1.3
SHARE_TOLERANCE = 0.1
_TIMING_OWN = ("course_lib.color.metrics:transition_summary", "course_lib.color.metrics:format_transitions")


def solution_centred_timing(history: Any) -> dict[str, float]:
    """Reference: median, quartiles and never-count of the centre-invariant transition epochs."""
    t = history.transitions("loop_wheel")
    done = t[np.isfinite(t)]
    q1, q2, q3 = np.percentile(done, [25, 50, 75])
    return {"median": float(q2), "q1": float(q1), "q3": float(q3), "never": int(np.isnan(t).sum()), "n": len(t)}


class _PlantedHistory:
    """A stand-in for a SweepHistory whose transition epochs are planted, one array per metric."""

    def __init__(self, **by_metric: list[float]) -> None:
        self._t = {k: np.asarray(v, dtype=np.float64) for k, v in by_metric.items()}
        self.seeds = np.arange(len(next(iter(self._t.values()))))
        self.n_seeds = len(self.seeds)

    def transitions(self, name: str = "trained_wheel", threshold: float = 0.5) -> np.ndarray:
        if name not in self._t:
            raise KeyError(f"this test history has no metric {name!r}")
        return self._t[name].copy()


def _timing(attempt: Callable, history: Any) -> dict[str, float]:
    with forbid(_TIMING_OWN):
        out = attempt(history)
    assert isinstance(out, dict), f"return a dict with keys median, q1, q3, never, n; got {type(out).__name__}"
    missing = [k for k in ("median", "q1", "q3", "never", "n") if k not in out]
    assert not missing, f"your dict lacks {missing}"
    return out


_LOOP = [10, 20, 30, 40, np.nan, 60, 70, 80, 90]          # one seed never forms its loop
_ORIGIN = [100, 200, 300, np.nan, np.nan, 600, 700, 800, 900]


def _case_keys(attempt: Callable) -> None:
    _timing(attempt, _PlantedHistory(loop_wheel=_LOOP, trained_wheel=_ORIGIN))


def _case_loop_metric(attempt: Callable) -> None:
    out = _timing(attempt, _PlantedHistory(loop_wheel=_LOOP, trained_wheel=_ORIGIN))
    med = float(out["median"])
    origin = np.nanmedian(np.asarray(_ORIGIN, dtype=float))
    assert med != origin, (
        f"median {med:g} is the origin-based timing (trained_wheel): score the loop round its own centre")


def _case_median(attempt: Callable) -> None:
    out = _timing(attempt, _PlantedHistory(loop_wheel=_LOOP, trained_wheel=_ORIGIN))
    assert np.isfinite(float(out["median"])), "median is NaN: leave out the seeds that never formed their loop"
    assert float(out["median"]) == 50, f"median over the 8 seeds that formed is 50, got {out['median']}"


def _case_quartiles(attempt: Callable) -> None:
    out = _timing(attempt, _PlantedHistory(loop_wheel=_LOOP, trained_wheel=_ORIGIN))
    got = (float(out["q1"]), float(out["q3"]))
    assert np.allclose(got, (27.5, 72.5)), f"quartiles of the 8 seeds that formed are 27.5 and 72.5, got {got}"


def _case_timing_never(attempt: Callable) -> None:
    out = _timing(attempt, _PlantedHistory(loop_wheel=_LOOP, trained_wheel=_ORIGIN))
    assert int(out["never"]) == 1 and int(out["n"]) == 9, (
        f"1 of 9 seeds never forms its loop; you report never={out['never']}, n={out['n']}")
    out = _timing(attempt, _PlantedHistory(loop_wheel=[0, 0, 10, 10], trained_wheel=[0, 0, 10, 10]))
    assert int(out["never"]) == 0 and float(out["median"]) == 5, (
        "every seed formed its loop (two already at epoch 0, which is a transition, not a missing one): "
        f"never 0 and median 5 expected, got {out['never']} and {out['median']}")


def _prediction(prediction: Any, key: str) -> float:
    assert isinstance(prediction, dict), "prediction must be a dict (fill in the one given)"
    value = prediction.get(key)
    assert value is not None, f"predict {key!r} first: {PREDICTION_QUESTIONS[key]}"
    assert isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool) \
        and np.isfinite(value), f"prediction[{key!r}] must be a number, got {value!r}"
    return float(value)


def _case_predicted(attempt: Callable, prediction: Any) -> None:
    for key in PREDICTION_QUESTIONS:
        _prediction(prediction, key)
    assert 0 < _prediction(prediction, "median_ratio"), "median_ratio is a ratio of epochs: above 0"
    assert 0 <= _prediction(prediction, "ordered_at_start") <= 1, "ordered_at_start is a share, from 0 to 1"


def _case_ratio(attempt: Callable, prediction: Any, with_norm: Any, without: Any) -> None:
    want = solution_centred_timing(without)["median"] / solution_centred_timing(with_norm)["median"]
    got = _prediction(prediction, "median_ratio")
    assert want / RATIO_FACTOR <= got <= want * RATIO_FACTOR, (
        f"you predicted the loop forms {got:.2f}x as late without normalisation; measured: {want:.2f}x "
        f"(medians {solution_centred_timing(without)['median']:.0f} and "
        f"{solution_centred_timing(with_norm)['median']:.0f} epochs)")


def _case_start(attempt: Callable, prediction: Any, with_norm: Any, without: Any) -> None:
    k, n = without.count("loop_wheel", int(without.checkpoint_steps[0]))
    got = _prediction(prediction, "ordered_at_start")
    assert abs(got - k / n) <= SHARE_TOLERANCE, (
        f"you predicted {got:.0%} of un-normalised seeds start as ordered loops; measured: {k}/{n} = {k / n:.0%}")


def check_centred_timing(attempt: Callable[[Any], dict], prediction: Any, with_norm: Any, without: Any,
                         *, quiet: bool = False) -> CheckResult:
    """Check ``attempt(history)`` → ``{"median", "q1", "q3", "never", "n"}`` of the centre-invariant
    transition epochs (metric ``loop_wheel``), then the reader's ``prediction`` against the two
    sweeps ``with_norm`` and ``without``."""
    cases = [
        case("a dict with median, q1, q3, never, n", _case_keys, hint="return {'median': ..., 'q1': ..., ...}"),
        case("the loop round its own centre", _case_loop_metric,
             hint="history.transitions('loop_wheel'), not the default 'trained_wheel'"),
        case("seeds that never form are left out of the median", _case_median,
             hint="np.median of an array with NaN is NaN: keep t[np.isfinite(t)]"),
        case("quartiles", _case_quartiles, hint="np.percentile(done, [25, 75]) over the seeds that formed"),
        case("never counted, epoch 0 is not 'never'", _case_timing_never,
             hint="never = number of NaN; a transition at epoch 0 is 0.0, which is falsy but finite"),
        case("a prediction for each question", _case_predicted, prediction,
             hint="fill in both entries of `prediction` with numbers before you measure"),
        case("your prediction of the timing", _case_ratio, prediction, with_norm, without,
             hint="this checks the prediction against the measurement: read the measured value, then "
                  "explain it in the cell below — don't just copy it in"),
        case("your prediction of epoch 0", _case_start, prediction, with_norm, without,
             hint="an ordered loop anywhere in the plane needs no training to be centred: what does a "
                  "random piecewise-linear map do to a circle?"),
    ]
    return check("centred_timing", attempt, cases, quiet=quiet)
