"""Checkers (and reference solutions) for the exercises of notebooks 2.1 and 2.2 (2.5's are in
:mod:`.deletion_exercises`).

* :func:`check_cone_profile` — per brightness level, the radius of the hue ring in dims 0–1
  (around its own centre) and its mean height along dim 2: is the latent cloud a cone?
* :func:`check_roundness` — how round is a ring: its second principal spread over its first?
* (2.1's checked prediction of the plain run lives in :mod:`.layout_exercises`.)
* :func:`check_plateau_step` — when would a plateau trigger fire on a loss curve?
* :func:`check_phase_sheet` — a dopesheet that holds each phase's value and eases between them
  with minimum jerk over a given width after each boundary.

As in :mod:`course_lib.color.training_exercises`, each checker runs :class:`Case` s and reports
the first failure with a hint; it never raises because of the attempt, and while the attempt runs
the course's own implementation of the same thing refuses to answer.
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Sequence

import numpy as np

from ..exercises import CheckResult, assert_close, case, check, forbid
from .schedules import Dopesheet, Keyframe

__all__ = [
    "check_cone_profile",
    "check_roundness",
    "check_plateau_step",
    "check_phase_sheet",
    "solution_cone_profile",
    "solution_roundness",
    "solution_plateau_step",
    "solution_phase_sheet",
]


# --------------------------------------------------------------------------- reference solutions
def solution_cone_profile(z: np.ndarray, value: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each distinct brightness ``v`` (ascending): the mean distance of its latents from their
    own centre in dims 0–1 (the ring's radius), and their mean coordinate along dim 2 (height)."""
    z = np.asarray(z, dtype=float)
    value = np.asarray(value, dtype=float)
    levels = np.unique(value)
    radius, height = [], []
    for v in levels:
        ring = z[value == v]
        centre = ring[:, :2].mean(axis=0)
        radius.append(np.linalg.norm(ring[:, :2] - centre, axis=1).mean())
        height.append(ring[:, 2].mean())
    return levels, np.array(radius), np.array(height)


def solution_roundness(z: np.ndarray) -> float:
    """How round a ring is: its second principal spread over its first (singular values of the
    centred points), 1 for a circle (or a regular hexagon), → 0 as it flattens onto a line."""
    z = np.asarray(z, dtype=float)
    s = np.linalg.svd(z - z.mean(axis=0), compute_uv=False)
    return float(s[1] / s[0])


def solution_plateau_step(losses: Sequence[float], window: int, min_rel_improvement: float) -> Optional[int]:
    """Index of the loss at which a plateau trigger fires (``window`` non-improving values in a row,
    improving meaning below ``best − min_rel_improvement·|best|``), or None if it never does."""
    best, flat = None, 0
    for i, x in enumerate(losses):
        if best is None:
            best = x
            continue
        if x < best - min_rel_improvement * abs(best):
            best, flat = x, 0
        else:
            flat += 1
        if flat >= window:
            return i
    return None


def solution_phase_sheet(name: str, boundaries: Sequence[int], values: Sequence[float],
                         width: int) -> Dopesheet:
    """Hold ``values[i]`` through phase i; after each boundary ease to the next value over
    ``width`` steps with minimum jerk."""
    frames = [Keyframe(0, {name: values[0]})]
    for b, before, after in zip(boundaries, values[:-1], values[1:]):
        frames.append(Keyframe(b, {name: before}, easing="step"))
        frames.append(Keyframe(b + width, {name: after}, easing="minimum_jerk"))
    return Dopesheet(frames)


# --------------------------------------------------------------------------- helpers
def _cone(levels=(0.2, 0.6, 1.0), n=36, centre=(0.0, 0.0), shuffle=False, d=3, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n) / n * 2 * np.pi
    zs, vs = [], []
    for v in levels:
        ring = np.zeros((n, d))
        ring[:, 0] = centre[0] + v * np.cos(t)
        ring[:, 1] = centre[1] + v * np.sin(t)
        ring[:, 2] = -(1 - v)
        if d > 3:
            ring[:, 3:] = rng.normal(size=(n, d - 3))
        zs.append(ring)
        vs.append(np.full(n, v))
    z, value = np.concatenate(zs), np.concatenate(vs)
    if shuffle:
        order = rng.permutation(len(z))
        z, value = z[order], value[order]
    return z, value


# --------------------------------------------------------------------------- cone profile
_CONE_FORBID = ["course_lib.curriculum.exercises:solution_cone_profile"]


def _run_cone(attempt, z, value):
    with forbid(_CONE_FORBID):
        out = attempt(z, value)
    assert isinstance(out, tuple) and len(out) == 3, "return three arrays: (levels, radius, height)"
    return out


def _cone_simple(attempt):
    z, value = _cone()
    levels, radius, height = _run_cone(attempt, z, value)
    assert_close(levels, [0.2, 0.6, 1.0], "levels")
    assert_close(radius, [0.2, 0.6, 1.0], "radius")
    assert_close(height, [-0.8, -0.4, 0.0], "height")


def _cone_shuffled(attempt):
    z, value = _cone(levels=(1.0, 0.2, 0.6))  # listed brightest first
    levels, radius, height = _run_cone(attempt, z, value)
    assert_close(levels, [0.2, 0.6, 1.0], "levels (ascending)")
    assert_close(radius, [0.2, 0.6, 1.0], "radius, level by level")


def _cone_offset(attempt):
    z, value = _cone(centre=(0.7, -0.4))
    _, radius, _ = _run_cone(attempt, z, value)
    assert_close(radius, [0.2, 0.6, 1.0], "radius of rings centred at (0.7, −0.4)")


def _cone_tall(attempt):
    z, value = _cone()
    z[:, 2] -= 3.0  # far below: the radius must not see dim 2
    _, radius, height = _run_cone(attempt, z, value)
    assert_close(radius, [0.2, 0.6, 1.0], "radius (dims 0–1 only)")
    assert_close(height, [-3.8, -3.4, -3.0], "height")


def _cone_uneven(attempt):
    # one ring's points bunched on one side: mean and median distances differ
    z, value = _cone(levels=(1.0,), n=8)
    z = np.vstack([z, z[:2] * 0.5])
    value = np.concatenate([value, [1.0, 1.0]])
    levels, radius, height = _run_cone(attempt, z, value)
    _, want_r, want_h = solution_cone_profile(z, value)
    assert_close(radius, want_r, "radius (the mean distance, about the mean of the ring's points)")
    assert_close(height, want_h, "height")


def _cone_wide(attempt):
    z, value = _cone(d=5)
    _, radius, height = _run_cone(attempt, z, value)
    assert_close(radius, [0.2, 0.6, 1.0], "radius of a 5-D latent (dims 0–1 only)")
    assert_close(height, [-0.8, -0.4, 0.0], "height (dim 2 only)")


def check_cone_profile(attempt: Callable[..., Any], *, quiet: bool = False) -> CheckResult:
    """Check ``attempt(z, value)`` → ``(levels, radius, height)``, see
    :func:`solution_cone_profile`."""
    cases = [
        case("a cone of three rings", _cone_simple,
             hint="levels = np.unique(value); one radius and height per level"),
        case("points in any order", _cone_shuffled, hint="select each level's points with value == v"),
        case("rings away from the origin", _cone_offset,
             hint="measure each ring's radius from its own centre (the mean of its points in dims 0–1)"),
        case("far along dim 2", _cone_tall, hint="the radius uses dims 0 and 1 only, the height dim 2 only"),
        case("unevenly spaced points", _cone_uneven, hint="the radius is the mean distance (not the median)"),
        case("a 5-D latent", _cone_wide, hint="use z[:, :2] and z[:, 2], not the last columns"),
    ]
    return check("cone_profile", attempt, cases, quiet=quiet)


# --------------------------------------------------------------------------- roundness
_ROUND_FORBID = ["course_lib.curriculum.exercises:solution_roundness"]


def _ellipse(n=72, a=1.0, b=1.0, tilt=0.0, centre=(0.0, 0.0, 0.0)):
    t = np.arange(n) / n * 2 * np.pi
    z = np.stack([a * np.cos(t), b * np.sin(t) * np.cos(tilt), b * np.sin(t) * np.sin(tilt)], axis=1)
    return z + np.asarray(centre)


def _roundness(attempt, z):
    with forbid(_ROUND_FORBID):
        out = attempt(z)
    assert np.ndim(out) == 0, f"return one number, got shape {np.shape(out)}"
    return float(out)


def _rd_circle(attempt):
    assert_close(_roundness(attempt, _ellipse()), 1.0, "a circle in dims 0–1 (latent of 3 dims)")


def _rd_ellipse(attempt):
    assert_close(_roundness(attempt, _ellipse(b=0.3)), 0.3, "an ellipse with axes 1 and 0.3")


def _rd_offset(attempt):
    assert_close(_roundness(attempt, _ellipse(b=0.5, centre=(2.0, 1.0, 0.5))), 0.5,
           "an ellipse (axes 1, 0.5) centred away from the origin")


def _rd_tilted(attempt):
    assert_close(_roundness(attempt, _ellipse(b=0.4, tilt=1.2)), 0.4,
                 "an ellipse (axes 1, 0.4) tilted out of dims 0–1")


def _rd_upright(attempt):
    z = _ellipse(a=0.25, b=1.0)
    assert_close(_roundness(attempt, z), 0.25, "an ellipse whose long axis is dim 1 (smaller spread over larger)")


def check_roundness(attempt: Callable[..., Any], *, quiet: bool = False) -> CheckResult:
    """Check ``attempt(z)`` → the ring's second principal spread over its first (1 = round)."""
    cases = [
        case("a circle", _rd_circle,
             hint="the two largest singular values of the centred points; a circle's are equal"),
        case("an ellipse", _rd_ellipse,
             hint="singular values are spreads (∝ std), not variances: no squaring"),
        case("away from the origin", _rd_offset, hint="subtract the mean before the SVD"),
        case("tilted out of dims 0–1", _rd_tilted, hint="use the ring's own principal axes, not dims 0 and 1"),
        case("long axis along dim 1", _rd_upright, hint="divide the second-largest spread by the largest"),
    ]
    return check("roundness", attempt, cases, quiet=quiet)


# --------------------------------------------------------------------------- plateau step
_PLATEAU_FORBID = ["course_lib.curriculum.reactive:PlateauTrigger.update",
                   "course_lib.curriculum.exercises:solution_plateau_step"]


def _plateau(attempt, losses, window, rel):
    with forbid(_PLATEAU_FORBID):
        return attempt(list(losses), window, rel)


def _pl_constant(attempt):
    got = _plateau(attempt, [1.0] * 10, 3, 0.01)
    assert got == 3, f"a constant loss, window 3: the first value only sets the best; expected 3, got {got}"


def _pl_improving(attempt):
    losses = [1.0, 0.5, 0.25, 0.2, 0.2, 0.2, 0.2]
    got = _plateau(attempt, losses, 2, 0.1)
    assert got == 5, f"0.2 beats 0.25 by 20 %, then two flat values: expected 5, got {got}"


def _pl_relative(attempt):
    losses = [100.0, 99.5, 99.2, 99.1, 99.0]
    got = _plateau(attempt, losses, 3, 0.01)
    assert got == 3, f"drops of under 1 on a best of 100 are below 1 % of it: expected 3, got {got}"


def _pl_best_not_last(attempt):
    # a slow creep: each value beats the previous by about 1.5 % (< 2 %), but every second one
    # beats the best so far by more than 2 %
    losses = [1.0, 0.985, 0.97, 0.955, 0.94]
    got = _plateau(attempt, losses, 3, 0.02)
    assert got is None, (f"compare with the best so far, not the previous value: 0.97 beats 1.0 by 3 %, "
                         f"resetting the count; expected None, got {got}")


def _pl_reset(attempt):
    losses = [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5]
    got = _plateau(attempt, losses, 3, 0.01)
    assert got == 6, f"an improvement resets the count: expected 6, got {got}"


def _pl_never(attempt):
    losses = [1.0 * 0.5 ** i for i in range(10)]
    got = _plateau(attempt, losses, 2, 0.1)
    assert got is None, f"a loss that keeps halving never plateaus: expected None, got {got}"


def _pl_max_window(attempt):
    got = _plateau(attempt, [1.0, 1.0, 1.0], 3, 0.0)
    assert got is None, f"3 values give only 2 flat steps, short of window 3: expected None, got {got}"


def check_plateau_step(attempt: Callable[..., Any], *, quiet: bool = False) -> CheckResult:
    """Check ``attempt(losses, window, min_rel_improvement)`` → index at which a plateau trigger
    fires, or None (the rule of :class:`~course_lib.curriculum.PlateauTrigger`)."""
    cases = [
        case("a constant loss", _pl_constant,
             hint="the first value sets the best; each later non-improving value is one flat step"),
        case("improving, then flat", _pl_improving, hint="an improvement must beat best − rel·|best|"),
        case("tiny improvements", _pl_relative, hint="the margin is relative to the best: rel·|best|"),
        case("a steady creep", _pl_best_not_last, hint="keep the best value; compare each new value with it"),
        case("an improvement mid-plateau", _pl_reset, hint="reset the flat count to 0 when the loss improves"),
        case("never flat", _pl_never, hint="return None when it never fires"),
        case("too short to fire", _pl_max_window, hint="fire when the count reaches window, not window − 1"),
    ]
    return check("plateau_step", attempt, cases, quiet=quiet)


# --------------------------------------------------------------------------- phase dopesheet
_SHEET_FORBID = ["course_lib.curriculum.exercises:solution_phase_sheet"]


def _sheet(attempt, boundaries, values, width):
    with forbid(_SHEET_FORBID):
        sheet = attempt("w", list(boundaries), list(values), width)
    assert isinstance(sheet, Dopesheet), f"return a Dopesheet, got {type(sheet).__name__}"
    assert "w" in sheet.parameters, f"the sheet must set the parameter named by `name` ('w'), sets {sheet.parameters}"
    return sheet


def _sh_holds(attempt):
    sheet = _sheet(attempt, [100, 300], [0.1, 0.02, 0.0], 40)
    for s, want in ((0, 0.1), (50, 0.1), (100, 0.1), (140, 0.02), (250, 0.02), (300, 0.02), (340, 0.0), (900, 0.0)):
        got = sheet.value("w", s)
        assert abs(got - want) < 1e-9, f"at step {s} expected {want} (holding the phase's value), got {got:.4g}"


def _sh_shape(attempt):
    sheet = _sheet(attempt, [100], [0.0, 1.0], 40)
    for t in (0.25, 0.5, 0.75):
        s = 100 + 40 * t
        want = 10 * t ** 3 - 15 * t ** 4 + 6 * t ** 5
        got = sheet.value("w", s)
        assert abs(got - want) < 1e-9, (f"at step {s:g}, {t:.0%} of the way through the transition, "
                                        f"minimum jerk gives {want:.4f}; got {got:.4f}")


def _sh_smooth(attempt):
    sheet = _sheet(attempt, [100, 300], [0.1, 0.02, 0.0], 40)
    s = np.arange(0, 400, 0.5)
    y = sheet.curve("w", s)
    v = np.diff(y) / 0.5
    assert np.max(np.abs(np.diff(v))) < 2e-4, "the velocity jumps somewhere: use minimum-jerk easing, starting from rest"


def _sh_starts_at_boundary(attempt):
    sheet = _sheet(attempt, [200], [1.0, 3.0], 50)
    assert abs(sheet.value("w", 199) - 1.0) < 1e-9 and abs(sheet.value("w", 200) - 1.0) < 1e-9, \
        "the transition starts at the boundary (not centred on it): at step 200 the value is still 1.0"
    assert abs(sheet.value("w", 250) - 3.0) < 1e-9, "… and arrives width steps later: 3.0 at step 250"


def check_phase_sheet(attempt: Callable[..., Any], *, quiet: bool = False) -> CheckResult:
    """Check ``attempt(name, boundaries, values, width)`` → a :class:`Dopesheet` (see
    :func:`solution_phase_sheet`)."""
    cases = [
        case("each phase holds its value", _sh_holds,
             hint="two keyframes per boundary: hold the old value *at* the boundary, arrive width steps later"),
        case("the transition's shape", _sh_shape, hint="the arriving keyframe's easing is 'minimum_jerk'"),
        case("no kicks", _sh_smooth, hint="a step or linear easing makes the velocity jump"),
        case("starts at the boundary", _sh_starts_at_boundary, hint="keyframes at b and b + width"),
    ]
    return check("phase_sheet", attempt, cases, quiet=quiet)
