"""Easings: how a scheduled hyperparameter travels from one value to the next.

Every schedule answers one question — *what is this hyperparameter's value at training step s?* —
so a training loop can ask ``schedule.values(step)`` for the learning rate, each regulariser's
weight and the data fraction, whatever kind of schedule drives them.

**Easings** map progress ``t ∈ [0, 1]`` to ``e(t) ∈ [0, 1]`` with ``e(0) = 0`` and ``e(1) = 1``:

=================  ====================================  ===========================  =============
easing             e(t)                                  e'(0) = e'(1)                e''(0), e''(1)
=================  ====================================  ===========================  =============
``step``           0 for t < 1, 1 at t = 1               0 (a jump at t = 1)          0
``linear``         t                                     1 (velocity jumps at ends)   0
``cosine``         (1 − cos πt) / 2                      0                            ±π²/2
``minimum_jerk``   10t³ − 15t⁴ + 6t⁵                     0                            0
=================  ====================================  ===========================  =============

All four are monotone non-decreasing, so an eased value never leaves the interval between its start
and its target. ``minimum_jerk`` is the smoothest: velocity *and* acceleration are zero at both
ends, so a hyperparameter eased with it never receives a kick.

The schedules built on them are in :mod:`.schedules` (keyframes, retargetable transitions) and
:mod:`.reactive` (phases that advance on a metric).
"""

from __future__ import annotations

from typing import Callable, Sequence, Union

import numpy as np

from ..validation import check_choice, check_float

__all__ = ["EASINGS", "step", "linear", "cosine", "minimum_jerk", "get_easing", "ease_derivatives",
           "as_real", "steps_array"]

Number = Union[int, float]
ArrayLike = Union[float, int, np.ndarray, Sequence[float]]


# --------------------------------------------------------------------------- checks
def as_real(x: object, name: str) -> float:
    """A finite real number (a 0-d array or tensor too), or a TypeError/ValueError naming ``name``
    (:func:`course_lib.validation.check_float`)."""
    if not isinstance(x, bool) and hasattr(x, "item") and getattr(x, "ndim", None) == 0:
        x = x.item()  # a 0-d tensor or array
    return check_float(x, name)


def steps_array(steps: object, name: str = "steps") -> np.ndarray:
    try:
        arr = np.asarray(steps, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be numbers, got {type(steps).__name__}") from err
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or inf")
    return arr


def _progress(t: ArrayLike) -> np.ndarray:
    arr = np.asarray(t, dtype=np.float64)
    if np.isnan(arr).any():
        raise ValueError("t contains NaN")
    if arr.size and (arr.min() < 0.0 or arr.max() > 1.0):
        raise ValueError(f"t must lie in [0, 1], got values in [{arr.min():.4g}, {arr.max():.4g}]")
    return arr


def _out(arr: np.ndarray) -> Union[float, np.ndarray]:
    return float(arr) if arr.ndim == 0 else arr


# --------------------------------------------------------------------------- easings
def step(t: ArrayLike) -> Union[float, np.ndarray]:
    """Hold, then jump: ``e(t) = 0`` for ``t < 1`` and ``e(1) = 1`` (the discrete curriculum)."""
    return _out(np.where(_progress(t) >= 1.0, 1.0, 0.0))


def linear(t: ArrayLike) -> Union[float, np.ndarray]:
    """``e(t) = t``: constant velocity 1, which jumps from and to 0 at the ends."""
    return _out(_progress(t) + 0.0)


def cosine(t: ArrayLike) -> Union[float, np.ndarray]:
    """``e(t) = (1 − cos πt)/2``: ``e'(t) = (π/2) sin πt`` is 0 at both ends, ``e''`` is not."""
    return _out(np.clip(0.5 - 0.5 * np.cos(np.pi * _progress(t)), 0.0, 1.0))


def minimum_jerk(t: ArrayLike) -> Union[float, np.ndarray]:
    """``e(t) = 10t³ − 15t⁴ + 6t⁵``: ``e'(t) = 30t²(1 − t)²`` and ``e''(t) = 60t(1 − t)(1 − 2t)``,
    both 0 at t = 0 and t = 1. Among all curves from 0 to 1 with zero velocity and acceleration at
    both ends it minimises the integrated squared jerk ∫ e'''(t)² dt (Flash & Hogan, 1985)."""
    t = _progress(t)
    return _out(np.clip(t * t * t * (10.0 + t * (-15.0 + 6.0 * t)), 0.0, 1.0))  # rounding


#: Easing name → function.
EASINGS: dict[str, Callable[[ArrayLike], Union[float, np.ndarray]]] = {
    "step": step,
    "linear": linear,
    "cosine": cosine,
    "minimum_jerk": minimum_jerk,
}


def get_easing(name: str) -> Callable[[ArrayLike], Union[float, np.ndarray]]:
    """The easing called ``name`` (one of :data:`EASINGS`), or a ValueError listing them."""
    if not isinstance(name, str):
        raise TypeError(f"easing must be a string naming one of {sorted(EASINGS)}, "
                        f"got {type(name).__name__}")
    return EASINGS[check_choice(name, "easing", sorted(EASINGS))]


def ease_derivatives(name: str, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """e(t), e'(t), e''(t) for t already in [0, 1] (derivatives w.r.t. t; the step's jump is
    ignored, its derivative is 0)."""
    if name == "step":
        zero = np.zeros_like(t)
        return np.where(t >= 1.0, 1.0, 0.0), zero, zero
    if name == "linear":
        return t + 0.0, np.ones_like(t), np.zeros_like(t)
    if name == "cosine":
        return (0.5 - 0.5 * np.cos(np.pi * t), 0.5 * np.pi * np.sin(np.pi * t),
                0.5 * np.pi ** 2 * np.cos(np.pi * t))
    # minimum_jerk
    return (t ** 3 * (10 - 15 * t + 6 * t ** 2), 30 * t ** 2 * (1 - t) ** 2,
            60 * t * (1 - t) * (1 - 2 * t))
