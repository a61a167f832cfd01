"""Exercise checkers for notebook 5.3.

* ``chain_interval(per_chain, level) -> (lo, hi)``: a ``level`` interval for the mean of a few
  chains' λ̂ — mean ± t_{(1+level)/2, C−1} × std/√C (std with ddof 1), ``ValueError`` for fewer than
  2 chains. ``stats.t_quantile`` may be used; ``stats.t_interval`` may not.
* ``trend_signs(trajectory, level) -> list[int]``: for each interval between consecutive checkpoints
  of an :class:`~course_lib.slt.transitions.LLCTrajectory`, +1 if λ̂ rises by more than the
  ``level`` t half-width of the difference, t_{(1+level)/2, ν} × √(sem_k² + sem_{k+1}²) with Welch's ν
  (2(C−1) for equal errors), −1 if it falls by more, 0 otherwise.
* ``gamma_prediction`` — a written-down prediction of what a larger γ does to the trajectory
  (:data:`GAMMA_PREDICTION_KEYS`), checked for its form where it is written and against the sweep
  afterwards (:func:`check_gamma_prediction`).
* ``biggest_drop`` — which parameter group's LLC falls most through grokking (below).

``biggest_drop(trajectories, start, end) -> (name, drop)``: ``trajectories`` maps a parameter
group's name to its weight-refined :class:`~course_lib.slt.transitions.LLCTrajectory`. The drop of a
group is λ̂(start) − λ̂(end). Return the group with the largest drop and that drop — but only if
its lead over the runner-up is larger than twice the standard error of the difference of the two
drops, √(Σ sem²) over the four estimates involved (sem = std / √chains, the trajectories'
``sem``); otherwise return ``(None, largest drop)``: the data do not single out a group.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping, Optional

import numpy as np

from ..exercises import CheckResult, case, check, forbid, prediction_answer, prediction_form
from ..stats import t_quantile, welch_df
from .transitions import LLCTrajectory

__all__ = ["solution_biggest_drop", "check_biggest_drop", "BIGGEST_DROP_CASES",
           "solution_chain_interval", "check_chain_interval", "CHAIN_INTERVAL_CASES",
           "solution_trend_signs", "check_trend_signs", "TREND_SIGNS_CASES",
           "GAMMA_PREDICTION_KEYS", "gamma_verdict", "check_gamma_prediction_form", "check_gamma_prediction"]


def _point(t: LLCTrajectory, step: int) -> tuple[float, float]:
    i = int(np.flatnonzero(t.steps == step)[0])
    return float(t.mean[i]), float(t.sem[i])


def solution_biggest_drop(trajectories: Mapping[str, LLCTrajectory], start: int,
                          end: int) -> tuple[Optional[str], float]:
    drops, noise = {}, {}
    for name, t in trajectories.items():
        (a, sa), (b, sb) = _point(t, start), _point(t, end)
        drops[name], noise[name] = a - b, sa ** 2 + sb ** 2
    order = sorted(drops, key=drops.get, reverse=True)
    best = order[0]
    if len(order) == 1:
        return best, drops[best]
    second = order[1]
    margin = 2 * math.sqrt(noise[best] + noise[second])
    return (best if drops[best] - drops[second] > margin else None), drops[best]


def _traj(values: list[float], stds: list[float], chains: int = 4,
          steps: Optional[tuple[int, ...]] = None) -> LLCTrajectory:
    mean, std = np.asarray(values, float), np.asarray(stds, float)
    if steps is None:
        steps = tuple(100 + 400 * k for k in range(len(mean)))
    per = np.repeat(mean[:, None], chains, axis=1)   # only the shape (chains) matters here
    return LLCTrajectory(run="synthetic", steps=np.asarray(steps), mean=mean, std=std, per_chain=per,
                         init_loss=np.zeros(len(steps)), settings={})


def _compare(attempt: Callable, trajs: Mapping[str, LLCTrajectory], start: int, end: int, what: str) -> None:
    want_name, want_drop = solution_biggest_drop(trajs, start, end)
    got = attempt(trajs, start, end)
    assert isinstance(got, tuple) and len(got) == 2, f"return a pair (name, drop), got {got!r}"
    name, drop = got
    assert name == want_name, f"{what}: expected the group {want_name!r}, got {name!r}"
    assert isinstance(drop, (int, float, np.floating)) and math.isclose(float(drop), want_drop, rel_tol=1e-6, abs_tol=1e-9), (
        f"{what}: the largest drop λ̂(start) − λ̂(end) is {want_drop:.4g}, got {drop!r}")


def _case_clear(attempt: Callable) -> None:
    trajs = {"a": _traj([50, 30, 10], [1, 1, 1]), "b": _traj([80, 40, 20], [1, 1, 1]),
             "c": _traj([20, 19, 18], [1, 1, 1])}
    _compare(attempt, trajs, 100, 900, "b falls by 60, a by 40")


def _case_sign(attempt: Callable) -> None:
    trajs = {"rises": _traj([10, 40, 70], [1, 1, 1]), "falls": _traj([60, 40, 30], [1, 1, 1])}
    _compare(attempt, trajs, 100, 900, "a drop is λ̂(start) − λ̂(end): a group that rises has a negative drop")


def _case_absolute(attempt: Callable) -> None:
    # "small" falls by 99 % (10 → 0.1), "big" by 50 % (200 → 100): the drop is absolute
    trajs = {"small": _traj([10, 5, 0.1], [0.1, 0.1, 0.1]), "big": _traj([200, 150, 100], [1, 1, 1])}
    _compare(attempt, trajs, 100, 900, "compare drops in λ̂, not relative drops")


def _case_steps(attempt: Callable) -> None:
    # between 500 and 900 "late" falls most; over the whole run "early" does
    trajs = {"early": _traj([100, 20, 15], [1, 1, 1]), "late": _traj([60, 55, 5], [1, 1, 1])}
    _compare(attempt, trajs, 500, 900, "measure between the start and end steps you are given")


def _case_noise(attempt: Callable) -> None:
    # drops 30 and 27 with sem 2 per estimate: the lead of 3 is below 2·√(4·2²) = 8
    trajs = {"a": _traj([50, 30, 20], [4, 4, 4]), "b": _traj([47, 30, 20], [4, 4, 4])}
    _compare(attempt, trajs, 100, 900, "a lead of 3 with four estimates of sem 2 each is within the noise")


def _case_sem(attempt: Callable) -> None:
    # sem = std / √chains: std 4 with 16 chains is sem 1; lead 6 > 2·√(4·1²) = 4 counts
    trajs = {"a": _traj([56, 30, 20], [4, 4, 4], chains=16), "b": _traj([50, 30, 20], [4, 4, 4], chains=16)}
    _compare(attempt, trajs, 100, 900, "the standard error is std / √chains (use each trajectory's .sem)")


def _case_single(attempt: Callable) -> None:
    _compare(attempt, {"only": _traj([5, 4, 3], [1, 1, 1])}, 100, 900, "one group: it is the biggest drop")


BIGGEST_DROP_CASES = [
    case("a clear winner", _case_clear, hint="drop = λ̂(start) − λ̂(end); take the largest"),
    case("rises are not drops", _case_sign, hint="start minus end, not end minus start"),
    case("absolute, not relative", _case_absolute, hint="compare λ̂(start) − λ̂(end) itself"),
    case("the steps asked for", _case_steps, hint="index each trajectory at `start` and `end` (t.steps)"),
    case("within the noise", _case_noise,
         hint="return (None, drop) when the lead ≤ 2·√(sum of the four sem²)"),
    case("standard errors", _case_sem, hint="sem = std / √chains: t.sem"),
    case("a single group", _case_single, hint="with no runner-up there is nothing to be within the noise of"),
]


def check_biggest_drop(attempt: Any, *, quiet: bool = False) -> CheckResult:
    """Check ``biggest_drop(trajectories, start, end) -> (name or None, drop)``."""
    return check("biggest_drop", attempt, BIGGEST_DROP_CASES, quiet=quiet)


# --------------------------------------------------------------------------- chain_interval
def solution_chain_interval(per_chain: Any, level: float = 0.95) -> tuple[float, float]:
    x = np.asarray(per_chain, dtype=float)
    if x.ndim != 1 or len(x) < 2:
        raise ValueError("per_chain needs at least 2 chains' estimates")
    half = t_quantile(0.5 + level / 2, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x))
    return float(x.mean() - half), float(x.mean() + half)


_FORBIDDEN = ["course_lib.stats:t_interval"]


def _interval_compare(attempt: Callable, per_chain: list[float], level: float, what: str) -> None:
    want = solution_chain_interval(per_chain, level)
    with forbid(_FORBIDDEN):
        got = attempt(np.asarray(per_chain, dtype=float), level)
    assert isinstance(got, (tuple, list)) and len(got) == 2, f"return a pair (lo, hi), got {got!r}"
    lo, hi = (float(v) for v in got)
    assert math.isclose(lo, want[0], rel_tol=1e-6, abs_tol=1e-9) and math.isclose(hi, want[1], rel_tol=1e-6, abs_tol=1e-9), (
        f"{what}: expected ({want[0]:.4g}, {want[1]:.4g}), got ({lo:.4g}, {hi:.4g})")


def _ci_three(attempt: Callable) -> None:
    _interval_compare(attempt, [10.0, 12.0, 14.0], 0.95,
                      "3 chains at 10, 12, 14: the mean ± t(0.975, 2 df) = 4.30 standard errors")


def _ci_level(attempt: Callable) -> None:
    _interval_compare(attempt, [3.0, 5.0, 4.0, 6.0], 0.80, "an 80 % interval from 4 chains")


def _ci_many(attempt: Callable) -> None:
    _interval_compare(attempt, list(np.linspace(-1, 1, 9) ** 3 + 7), 0.95, "9 chains")


def _ci_one(attempt: Callable) -> None:
    try:
        with forbid(_FORBIDDEN):
            got = attempt(np.asarray([4.0]), 0.95)
    except ValueError:
        return
    raise AssertionError(f"one chain has no spread to make an interval from: raise ValueError, got {got!r}")


CHAIN_INTERVAL_CASES = [
    case("three chains", _ci_three, hint="mean ± t_quantile((1 + level)/2, C − 1) × std(ddof=1)/√C"),
    case("any level", _ci_level, hint="the quantile is (1 + level)/2: half the rest lies on each side"),
    case("more chains", _ci_many, hint="degrees of freedom: chains − 1; the standard error is std/√C"),
    case("one chain", _ci_one, hint="with one chain there is no spread: raise ValueError"),
]


def check_chain_interval(attempt: Any, *, quiet: bool = False) -> CheckResult:
    """Check ``chain_interval(per_chain, level) -> (lo, hi)``."""
    return check("chain_interval", attempt, CHAIN_INTERVAL_CASES, quiet=quiet)


# --------------------------------------------------------------------------- trend_signs
def solution_trend_signs(trajectory: LLCTrajectory, level: float = 0.95) -> list[int]:
    t = trajectory
    C = t.num_chains
    signs = []
    for k in range(len(t.steps) - 1):
        change = t.mean[k + 1] - t.mean[k]
        q = t_quantile(0.5 + level / 2, welch_df(t.sem[k], t.sem[k + 1], C, C))
        noise = q * math.sqrt(t.sem[k] ** 2 + t.sem[k + 1] ** 2)
        signs.append(1 if change > noise else -1 if change < -noise else 0)
    return signs


def _signs_compare(attempt: Callable, t: LLCTrajectory, level: float, what: str) -> None:
    want = solution_trend_signs(t, level)
    got = attempt(t, level)
    got = [int(v) for v in got] if isinstance(got, (list, tuple, np.ndarray)) else got
    assert isinstance(got, list) and len(got) == len(want), (
        f"return one sign per interval between checkpoints ({len(want)} here), got {got!r}")
    assert got == want, f"{what}: expected {want}, got {got}"


def _ts_clear(attempt: Callable) -> None:
    _signs_compare(attempt, _traj([10, 80, 30, 5], [1, 1, 1, 1], steps=(20, 80, 700, 1800)), 0.95,
                   "a clear rise, then two clear falls")


def _ts_t_not_z(attempt: Callable) -> None:
    # 3 chains, sem 1 each: the change of 3.5 exceeds 2·√2 = 2.8 (±2 s.e.) but not t(0.975, 4)·√2 = 3.9
    _signs_compare(attempt, _traj([10, 13.5, 6], [math.sqrt(3)] * 3, chains=3), 0.95,
                   "with 3 chains a rise of 3.5 against standard errors of 1 is within the noise")


def _ts_sem(attempt: Callable) -> None:
    # std 4 with 16 chains: sem 1; a change of 5 exceeds t(0.975, 30)·√2 = 2.9
    _signs_compare(attempt, _traj([20, 25, 20], [4, 4, 4], chains=16), 0.95,
                   "the noise is the standard error std/√chains, not the std")


def _ts_level(attempt: Callable) -> None:
    # 4 chains, sem 1: a change of 3 exceeds t(0.9, 6)·√2 = 2.03 at level 0.8, not t(0.975, 6)·√2 = 3.46
    _signs_compare(attempt, _traj([10, 13, 10], [2, 2, 2], chains=4), 0.8,
                   "at level 0.8 the quantile is t(0.9, 2(C − 1))")


def _ts_df(attempt: Callable) -> None:
    # 3 chains, sem 1: a change of 4.5 exceeds t(0.975, 4)·√2 = 3.93 but not t(0.975, 2)·√2 = 6.1
    _signs_compare(attempt, _traj([10, 5.5, 5.5], [math.sqrt(3)] * 3, chains=3), 0.95,
                   "the difference of two means of C chains each (equal errors) has 2(C − 1) degrees of freedom")


def _ts_unequal(attempt: Callable) -> None:
    # the noise of a difference adds both standard errors in quadrature
    _signs_compare(attempt, _traj([10, 7, 20], [0.2, 4, 0.2], chains=4), 0.95,
                   "the noise of λ̂(k+1) − λ̂(k) is √(sem_k² + sem_(k+1)²), both checkpoints' errors")


TREND_SIGNS_CASES = [
    case("rise then fall", _ts_clear, hint="sign of λ̂[k+1] − λ̂[k] where it exceeds the noise; 0 otherwise"),
    case("t, not ± 2 s.e.", _ts_t_not_z, hint="the half-width is t_quantile((1 + level)/2, 2(C − 1)) × √(sem² + sem²)"),
    case("standard errors", _ts_sem, hint="use trajectory.sem (std/√chains), not trajectory.std"),
    case("the level", _ts_level, hint="the quantile is (1 + level)/2"),
    case("degrees of freedom", _ts_df, hint="two means of C chains with equal errors: 2(C − 1) degrees of "
         "freedom (Welch–Satterthwaite in general: stats.welch_df)"),
    case("both errors", _ts_unequal, hint="√(sem_k² + sem_(k+1)²)"),
]


def check_trend_signs(attempt: Any, *, quiet: bool = False) -> CheckResult:
    """Check ``trend_signs(trajectory, level) -> [+1 / 0 / −1 per interval]``."""
    return check("trend_signs", attempt, TREND_SIGNS_CASES, quiet=quiet)


# --------------------------------------------------------------------------- predicting the γ sweep
#: What the reader predicts about going from the smallest γ swept to the largest, and the answers:
#: ``direction`` — λ̂ at every checkpoint goes "down", "up", or "mixed"; ``same_factor`` — True if
#: λ̂(largest γ)/λ̂(smallest γ) is within a factor 2 at every checkpoint; ``ordering_survives`` —
#: True if ``solution_trend_signs`` gives the same signs at every γ.
GAMMA_PREDICTION_KEYS = {"direction": ("down", "up", "mixed"), "same_factor": (True, False),
                         "ordering_survives": (True, False)}


def gamma_verdict(sweep: Any) -> dict[str, Any]:
    """What a :class:`~course_lib.slt.sensitivity.GammaSweep` measured, in the prediction's terms."""
    gammas = np.asarray(sweep.gammas, dtype=float)
    low, high = sweep.mean[int(np.argmin(gammas))], sweep.mean[int(np.argmax(gammas))]
    direction = "down" if np.all(high < low) else "up" if np.all(high > low) else "mixed"
    positive = bool(np.all(low > 0) and np.all(high > 0))
    factors = high / low if positive else np.array([np.nan])
    same = positive and float(np.max(factors) / np.min(factors)) < 2.0
    signs = [solution_trend_signs(t) for t in sweep.trajectories]
    return {"direction": direction, "same_factor": bool(same),
            "ordering_survives": all(sg == signs[0] for sg in signs)}


_GP_FORM = prediction_form(GAMMA_PREDICTION_KEYS,
                           hint="direction: 'down', 'up' or 'mixed'; same_factor and ordering_survives: True or False")


def check_gamma_prediction_form(prediction: Any, *, quiet: bool = False) -> CheckResult:
    """Check that ``prediction`` is complete before the sweep is read (the answer is checked
    against the measurement by :func:`check_gamma_prediction`)."""
    return check("prediction, written down", prediction, [_GP_FORM], quiet=quiet)


def check_gamma_prediction(prediction: Any, sweep: Any, *, quiet: bool = False) -> CheckResult:
    """Check ``prediction`` against what ``sweep`` (a GammaSweep) measured. A wrong prediction is a
    result, not an error: each message says what was measured."""
    verdict = gamma_verdict(sweep)
    gammas = np.asarray(sweep.gammas, dtype=float)
    low, high = sweep.mean[int(np.argmin(gammas))], sweep.mean[int(np.argmax(gammas))]
    factors = ", ".join(f"{h / l:.2g}" if l > 0 else "n/a" for h, l in zip(high, low))
    cases = [
        _GP_FORM,
        prediction_answer("direction", "direction", verdict["direction"],
                          f"λ̂ at γ = {gammas.max():g} over λ̂ at γ = {gammas.min():g}, per checkpoint: {factors}",
                          hint="a stronger pull towards w* keeps the chains where the loss is lower"),
        prediction_answer("same factor everywhere", "same_factor", verdict["same_factor"],
                          f"per-checkpoint factors {factors}; 'same' means within a factor 2",
                          hint="where the loss is flat the localisation sets the chains' spread; where it is stiff, the loss does"),
        prediction_answer("rise-then-fall survives", "ordering_survives", verdict["ordering_survives"],
                          "signs per γ: " + "; ".join(f"γ = {g:g}: {solution_trend_signs(t)}"
                                                      for g, t in zip(gammas, sweep.trajectories)),
                          hint="compare trend_signs at each γ"),
    ]
    return check("γ prediction", prediction, cases, quiet=quiet)
