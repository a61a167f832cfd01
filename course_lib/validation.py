"""Checks for scalar arguments, shared by every module of ``course_lib``.

One rule everywhere:

- a value of the wrong **type** raises :class:`TypeError`;
- a value of the right type but outside its allowed **range** (or not among the allowed
  choices, or NaN, or infinite where a finite number is wanted) raises :class:`ValueError`;
- ``bool`` is never accepted as a number (``True`` is an ``int`` in Python, but passing it where a
  count is wanted is always a mistake);
- numpy scalars (``np.int64(3)``, ``np.float32(0.5)``) are accepted like their Python twins.

Every message names the argument and what it expects, e.g.
``"num_chains must be an int ≥ 1, got 0"``. Each check returns the value converted to the plain
Python type (``int`` or ``float``), so callers can write ``n = check_int(n, "n", min=1)``.

>>> check_int(3, "n", min=1)
3
>>> check_fraction(0.25, "warmup")
0.25
>>> check_int(True, "n")
Traceback (most recent call last):
...
TypeError: n must be an int, got bool (True)
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any, Collection, Literal, Optional

import numpy as np

__all__ = ["check_int", "check_float", "check_fraction", "check_seed", "check_choice"]

Inclusive = Literal["both", "left", "right", "neither"]
_INCLUSIVE = ("both", "left", "right", "neither")

#: Seeds are drawn from [0, 2**32): the range numpy's and torch's generators all accept.
SEED_MAX = 2**32 - 1


def _is_bool(value: object) -> bool:
    return isinstance(value, (bool, np.bool_))


def _got(value: object) -> str:
    return f"got {type(value).__name__} ({value!r})"


def check_int(value: Any, name: str, *, min: Optional[int] = None, max: Optional[int] = None) -> int:
    """``value`` as a Python ``int`` with ``min ≤ value ≤ max`` (either bound optional, both inclusive).

    TypeError when ``value`` is not an integer (bools and floats such as ``3.0`` included);
    ValueError when it lies outside the range.
    """
    if _is_bool(value) or not isinstance(value, (Integral, np.integer)):
        raise TypeError(f"{name} must be an int, {_got(value)}")
    v = int(value)
    if (min is not None and v < min) or (max is not None and v > max):
        raise ValueError(f"{name} must be {_int_range(min, max)}, got {v}")
    return v


def _int_range(low: Optional[int], high: Optional[int]) -> str:
    if low is not None and high is not None:
        return f"an int in [{low}, {high}]"
    if low == 1 and high is None:
        return "a positive int (≥ 1)"
    if low == 0 and high is None:
        return "a non-negative int (≥ 0)"
    return f"an int ≥ {low}" if low is not None else f"an int ≤ {high}"


def _num(x: float) -> str:
    """A bound as a reader writes it: 0 and 1, not 0.0 and 1.0."""
    x = float(x)
    return str(int(x)) if x.is_integer() and abs(x) < 1e15 else repr(x)


def _float_range(low: Optional[float], high: Optional[float], inclusive: str, finite: bool) -> str:
    left = inclusive in ("both", "left")
    right = inclusive in ("both", "right")
    if low is not None and high is not None:
        return f"in {'[' if left else '('}{_num(low)}, {_num(high)}{']' if right else ')'}"
    number = "finite number" if finite else "number"
    if low == 0 and high is None:
        return f"a positive {number} (> 0)" if not left else f"a non-negative {number} (≥ 0)"
    number = "a " + number
    if low is not None:
        return f"{number} {'≥' if left else '>'} {_num(low)}"
    if high is not None:
        return f"{number} {'≤' if right else '<'} {_num(high)}"
    return number


def check_float(value: Any, name: str, *, min: Optional[float] = None, max: Optional[float] = None,
                inclusive: Inclusive = "both", allow_inf: bool = False) -> float:
    """``value`` as a Python ``float`` in the range given by ``min``, ``max`` and ``inclusive``.

    ``inclusive`` says which bounds belong to the range: ``"both"`` (default), ``"left"`` (``min``
    only), ``"right"`` (``max`` only) or ``"neither"``. Any real number is accepted as input (ints
    and numpy scalars too, not bools): TypeError otherwise. NaN always raises ValueError; so do
    ±inf unless ``allow_inf`` (and the bounds admit them).
    """
    if inclusive not in _INCLUSIVE:
        raise ValueError(f"inclusive must be one of {_INCLUSIVE}, got {inclusive!r}")
    if _is_bool(value) or not isinstance(value, (Real, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, {_got(value)}")
    v = float(value)
    left = inclusive in ("both", "left")
    right = inclusive in ("both", "right")
    too_low = min is not None and (v < min if left else v <= min)
    too_high = max is not None and (v > max if right else v >= max)
    if math.isnan(v) or (math.isinf(v) and not allow_inf) or too_low or too_high:
        raise ValueError(f"{name} must be {_float_range(min, max, inclusive, not allow_inf)}, got {v}")
    return v


def check_fraction(value: Any, name: str, *, inclusive: Inclusive = "both") -> float:
    """``value`` as a ``float`` in [0, 1]; ``inclusive`` as in :func:`check_float` picks which ends
    belong (``"neither"`` for the open interval (0, 1), ``"right"`` for (0, 1], ...)."""
    return check_float(value, name, min=0.0, max=1.0, inclusive=inclusive)


def check_seed(value: Any, name: str = "seed") -> int:
    """A random seed: an int in [0, 2**32 - 1]."""
    return check_int(value, name, min=0, max=SEED_MAX)


def check_choice(value: Any, name: str, choices: Collection[Any]) -> Any:
    """``value`` itself when it is one of ``choices``; ValueError listing them otherwise.

    A value that cannot be compared with the choices (an unhashable one against a set) is a
    wrong value too: ValueError, not TypeError, since every choice is the right type.
    """
    try:
        ok = value in choices
    except TypeError:
        ok = False
    if _is_bool(value) and not any(_is_bool(c) for c in choices):
        ok = False  # True == 1: a bool is not the choice 1
    if not ok:
        listed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {listed}, got {value!r}")
    return value
