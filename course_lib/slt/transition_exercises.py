"""Exercise checker for notebook 5.3: which parameter group's LLC falls most through grokking?

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

from ..exercises import CheckResult, case, check
from .transitions import LLCTrajectory

__all__ = ["solution_biggest_drop", "check_biggest_drop", "BIGGEST_DROP_CASES"]


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
          steps: tuple[int, ...] = (100, 500, 900)) -> LLCTrajectory:
    mean, std = np.asarray(values, float), np.asarray(stds, float)
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
