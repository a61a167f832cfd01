"""Hyperparameter schedules: easings, keyframe tables, retargetable transitions, reactive phases.

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

* :class:`Dopesheet` — a table of :class:`Keyframe`\\ s (step → {parameter: target}) that drives
  any number of parameters; between two keyframes that set a parameter it follows the later
  keyframe's easing, before the first it holds the first target, after the last the last.
* :class:`Transition` — one parameter moving to a target that can be **retargeted mid-flight**;
  the new segment starts from the current value, velocity and acceleration (a quintic Hermite
  segment, see :meth:`Transition.retarget`), so nothing jumps.
* :class:`PlateauTrigger`, :class:`ThresholdTrigger`, :class:`ReactiveSchedule` — phases that
  advance when a metric stops improving or crosses a threshold, rather than at fixed steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Iterable, Mapping, Sequence, Union

import numpy as np

__all__ = [
    "EASINGS",
    "step",
    "linear",
    "cosine",
    "minimum_jerk",
    "get_easing",
    "Keyframe",
    "Dopesheet",
    "Transition",
    "PlateauTrigger",
    "ThresholdTrigger",
    "ReactiveSchedule",
]

Number = Union[int, float]
ArrayLike = Union[float, int, np.ndarray, Sequence[float]]


# --------------------------------------------------------------------------- checks
def _real(x: object, name: str) -> float:
    """A finite real number, or a TypeError/ValueError naming ``name``."""
    if isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating)):
        if hasattr(x, "item") and getattr(x, "ndim", None) == 0:  # a 0-d tensor or array
            x = x.item()
        else:
            raise TypeError(f"{name} must be a real number, got {type(x).__name__}")
    value = float(x)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def _steps_array(steps: object, name: str = "steps") -> np.ndarray:
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
    if name not in EASINGS:
        raise ValueError(f"unknown easing {name!r}; choose one of {sorted(EASINGS)}")
    return EASINGS[name]


def _ease_derivatives(name: str, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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


# --------------------------------------------------------------------------- the dopesheet
@dataclass(frozen=True)
class Keyframe:
    """At ``step``, each parameter in ``targets`` arrives at its value.

    ``easing`` is how it travels there from the previous keyframe that set it: one easing name for
    all parameters, or a dict parameter → easing name (parameters missing from the dict use
    ``"minimum_jerk"``).
    """

    step: float
    targets: Mapping[str, float]
    easing: Union[str, Mapping[str, str]] = "minimum_jerk"

    def __post_init__(self) -> None:
        object.__setattr__(self, "step", _real(self.step, "step"))
        if not isinstance(self.targets, Mapping):
            raise TypeError(f"targets must be a mapping parameter → value, "
                            f"got {type(self.targets).__name__}")
        targets = {}
        for name, value in self.targets.items():
            if not isinstance(name, str):
                raise TypeError(f"targets: parameter names must be strings, got {name!r}")
            targets[name] = _real(value, f"targets[{name!r}]")
        object.__setattr__(self, "targets", targets)
        if isinstance(self.easing, Mapping):
            unknown = set(self.easing) - set(targets)
            if unknown:
                raise ValueError(f"easing names parameters this keyframe does not set: "
                                 f"{sorted(unknown)}")
            for name in self.easing.values():
                get_easing(name)
            object.__setattr__(self, "easing", dict(self.easing))
        else:
            get_easing(self.easing)

    def easing_for(self, name: str) -> str:
        """The easing ``name`` uses to arrive at this keyframe."""
        if isinstance(self.easing, dict):
            return self.easing.get(name, "minimum_jerk")
        return self.easing


class Dopesheet:
    """A keyframe table driving several hyperparameters over training steps.

    >>> sheet = Dopesheet([Keyframe(0, {"lr": 0.0, "planar": 0.1}),
    ...                    Keyframe(100, {"lr": 0.01}, easing="linear"),
    ...                    Keyframe(1000, {"planar": 0.0})])
    >>> sheet.values(500)
    {'lr': 0.01, 'planar': 0.05}
    >>> sheet.value("lr", 50)
    0.005

    A parameter follows only the keyframes that set it: between two of them (steps ``s₀ < s₁``,
    values ``v₀, v₁``) its value is ``v₀ + (v₁ − v₀)·e((s − s₀)/(s₁ − s₀))`` with ``e`` the
    easing of the keyframe at ``s₁``; before its first keyframe it holds the first value, after its
    last keyframe the last. So every parameter passes exactly through each of its keyframes.
    """

    def __init__(self, keyframes: Iterable[Keyframe]):
        if isinstance(keyframes, (str, bytes, Mapping)) or not isinstance(keyframes, Iterable):
            raise TypeError("keyframes must be a sequence of Keyframe "
                            "(use Dopesheet.from_table for a dict step → targets)")
        frames = list(keyframes)
        if not frames:
            raise ValueError("keyframes is empty: a dopesheet needs at least one keyframe")
        for i, frame in enumerate(frames):
            if not isinstance(frame, Keyframe):
                raise TypeError(f"keyframes[{i}] must be a Keyframe, got {type(frame).__name__}")
        steps = [f.step for f in frames]
        for a, b in zip(steps, steps[1:]):
            if not b > a:
                raise ValueError(f"keyframes: steps must be strictly increasing, got {a} then {b}")
        self.keyframes: tuple[Keyframe, ...] = tuple(frames)
        tracks: dict[str, list[tuple[float, float, str]]] = {}
        for frame in frames:
            for name, value in frame.targets.items():
                tracks.setdefault(name, []).append((frame.step, value, frame.easing_for(name)))
        if not tracks:
            raise ValueError("keyframes set no parameters: the dopesheet is empty")
        self._tracks = {
            name: (np.array([t[0] for t in track]), np.array([t[1] for t in track]),
                   [t[2] for t in track])
            for name, track in tracks.items()
        }

    @classmethod
    def from_table(cls, table: Mapping[Number, Mapping[str, float]],
                   easing: Union[str, Mapping[str, str]] = "minimum_jerk") -> "Dopesheet":
        """Build from ``{step: {parameter: target}}`` with one easing (or a dict per parameter)
        for every keyframe; steps are sorted."""
        if not isinstance(table, Mapping):
            raise TypeError(f"table must be a dict step → {{parameter: target}}, "
                            f"got {type(table).__name__}")
        frames = []
        for s in sorted(table, key=lambda s: _real(s, "table step")):
            targets = table[s]
            ease = ({k: v for k, v in easing.items() if k in targets}
                    if isinstance(easing, Mapping) else easing)
            frames.append(Keyframe(s, targets, ease))
        return cls(frames)

    @property
    def parameters(self) -> tuple[str, ...]:
        """The parameters the keyframes set, in order of first appearance."""
        return tuple(self._tracks)

    @property
    def steps(self) -> tuple[float, ...]:
        """The keyframes' steps."""
        return tuple(f.step for f in self.keyframes)

    def _track(self, name: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
        if not isinstance(name, str):
            raise TypeError(f"name must be a parameter name (str), got {type(name).__name__}")
        if name not in self._tracks:
            raise ValueError(f"unknown parameter name {name!r}; this dopesheet sets "
                             f"{sorted(self._tracks)}")
        return self._tracks[name]

    def curve(self, name: str, steps: ArrayLike) -> np.ndarray:
        """Values of ``name`` at every step in ``steps`` (any shape), vectorised — for plots."""
        key_steps, key_values, easings = self._track(name)
        s = _steps_array(steps)
        out = np.full(s.shape, key_values[0])
        # segment i runs from keyframe i to i+1 (i = 0 … K−2)
        seg = np.searchsorted(key_steps, s, side="right") - 1
        out = np.where(s >= key_steps[-1], key_values[-1], out)
        for i in range(len(key_steps) - 1):
            inside = seg == i
            if not inside.any():
                continue
            t = (s[inside] - key_steps[i]) / (key_steps[i + 1] - key_steps[i])
            e = np.asarray(EASINGS[easings[i + 1]](np.clip(t, 0.0, 1.0)))
            out[inside] = key_values[i] + (key_values[i + 1] - key_values[i]) * e
        return out

    def value(self, name: str, step: Number) -> float:
        """The value of parameter ``name`` at ``step``."""
        return float(self.curve(name, _real(step, "step")))

    def values(self, step: Number) -> dict[str, float]:
        """Every parameter's value at ``step``."""
        s = _real(step, "step")
        return {name: float(self.curve(name, s)) for name in self._tracks}

    def __repr__(self) -> str:
        return f"Dopesheet({len(self.keyframes)} keyframes, parameters={list(self._tracks)})"


# ----------------------------------------------------------------------- retargetable transitions
@dataclass(frozen=True)
class _Segment:
    """One piece of a transition, from ``start`` (step ``s0``) to ``target`` over ``duration``.

    Either an eased segment (``coeffs is None``): x(τ) = start + (target − start)·e(τ), or a
    quintic in τ = (s − s0)/duration with coefficients ``coeffs`` (c₀ … c₅).
    """

    s0: float
    duration: float
    start: float
    target: float
    easing: str
    coeffs: Union[tuple[float, ...], None] = None

    def evaluate(self, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Value, velocity and acceleration (per step, per step²) at steps ``s``."""
        T = self.duration  # > 0, checked by Transition
        tau = np.clip((s - self.s0) / T, 0.0, 1.0)
        if self.coeffs is None:
            e, de, dde = _ease_derivatives(self.easing, tau)
            delta = self.target - self.start
            x, v, a = self.start + delta * e, delta * de / T, delta * dde / T ** 2
        else:
            c = self.coeffs
            x = c[0] + tau * (c[1] + tau * (c[2] + tau * (c[3] + tau * (c[4] + tau * c[5]))))
            v = (c[1] + tau * (2 * c[2] + tau * (3 * c[3] + tau * (4 * c[4] + tau * 5 * c[5])))) / T
            a = (2 * c[2] + tau * (6 * c[3] + tau * (12 * c[4] + tau * 20 * c[5]))) / T ** 2
        before, after = s < self.s0, s >= self.s0 + T
        x = np.where(after, self.target, np.where(before, self.start, x))
        v = np.where(before | after, 0.0, v)
        a = np.where(before | after, 0.0, a)
        return x, v, a


def _hermite_coefficients(x0: float, v0: float, a0: float, x1: float,
                          duration: float) -> tuple[float, ...]:
    """Quintic c₀…c₅ in τ ∈ [0, 1] from (x0, v0, a0) to (x1, 0, 0); v0, a0 per step (see
    :meth:`Transition.retarget`)."""
    V, A, D = v0 * duration, a0 * duration ** 2, x1 - x0
    return (x0, V, A / 2, 10 * D - 6 * V - 1.5 * A, -15 * D + 8 * V + 1.5 * A,
            6 * D - 3 * V - 0.5 * A)


class Transition:
    """One parameter moving from ``start`` to ``target`` over ``duration`` steps from
    ``start_step``, along ``easing``; :meth:`retarget` changes the target mid-flight.

    Before ``start_step`` the value is ``start``; once a segment ends it holds its target. Every
    segment is kept, so :meth:`curve` plots the whole history, retargets included.
    """

    def __init__(self, start: float, target: float, start_step: Number = 0,
                 duration: Number = 1, easing: str = "minimum_jerk"):
        start, target = _real(start, "start"), _real(target, "target")
        start_step = _real(start_step, "start_step")
        duration = _real(duration, "duration")
        if duration <= 0:
            raise ValueError(f"duration must be > 0, got {duration}")
        get_easing(easing)
        self.duration = duration
        self.segments: list[_Segment] = [_Segment(start_step, duration, start, target, easing)]

    @classmethod
    def constant(cls, value: float, start_step: Number = 0) -> "Transition":
        """A parameter at rest at ``value`` (a transition that has already arrived)."""
        return cls(value, value, start_step, 1)

    @property
    def target(self) -> float:
        """Where the parameter is heading now."""
        return self.segments[-1].target

    @property
    def end_step(self) -> float:
        """The step at which the current segment arrives."""
        seg = self.segments[-1]
        return seg.s0 + seg.duration

    @property
    def retargeted_at(self) -> list[float]:
        """Steps at which a new segment started (every retarget)."""
        return [seg.s0 for seg in self.segments[1:]]

    def _evaluate(self, steps: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        s = _steps_array(steps)
        starts = np.array([seg.s0 for seg in self.segments])
        which = np.clip(np.searchsorted(starts, s, side="right") - 1, 0, None)
        x, v, a = (np.empty(s.shape) for _ in range(3))
        for i, seg in enumerate(self.segments):
            inside = which == i
            if inside.any():
                x[inside], v[inside], a[inside] = seg.evaluate(s[inside])
        return x, v, a

    def curve(self, steps: ArrayLike) -> np.ndarray:
        """Values at ``steps`` (any shape), vectorised."""
        return self._evaluate(steps)[0]

    def value(self, step: Number) -> float:
        """The value at ``step``."""
        return float(self._evaluate(_real(step, "step"))[0])

    def velocity(self, step: Number) -> float:
        """d value / d step at ``step`` (one-sided at a jump of the step easing: 0)."""
        return float(self._evaluate(_real(step, "step"))[1])

    def acceleration(self, step: Number) -> float:
        """d² value / d step² at ``step``."""
        return float(self._evaluate(_real(step, "step"))[2])

    def retarget(self, target: float, step: Number, duration: Union[Number, None] = None,
                 easing: Union[str, None] = None) -> "Transition":
        """From ``step`` on, head for ``target``, arriving ``duration`` steps later (default: the
        transition's duration); returns ``self``.

        The new segment starts where the parameter *is*: value x₀, velocity v₀ and acceleration
        a₀ at ``step``. In progress τ = (s − step)/T ∈ [0, 1] it is the quintic

            x(τ) = c₀ + c₁τ + c₂τ² + c₃τ³ + c₄τ⁴ + c₅τ⁵

        meeting six conditions: x(0) = x₀, x'(0) = V, x''(0) = A at the start (with V = v₀T and
        A = a₀T², the velocity and acceleration in units of τ) and x(1) = x₁, x'(1) = x''(1) = 0 at
        the target. The first three give c₀ = x₀, c₁ = V, c₂ = A/2; with D = x₁ − x₀ the last three
        are a 3×3 linear system whose solution is

            c₃ = 10D − 6V − 3A/2,   c₄ = −15D + 8V + 3A/2,   c₅ = 6D − 3V − A/2.

        This is the minimum-jerk trajectory with these boundary conditions (the quintic is the
        Euler–Lagrange solution of min ∫ x'''² dτ); with V = A = 0 it is exactly
        x₀ + D·(10τ³ − 15τ⁴ + 6τ⁵). Value, velocity and acceleration are therefore continuous
        at the retarget, and the parameter arrives at rest. Carrying momentum into a reversal
        means it may overshoot x₀ before turning back: that is the price of continuous velocity.

        If the parameter is at rest (v₀ = a₀ = 0) the new segment simply uses ``easing``
        (default: the first segment's easing), e.g. a discrete ``step``.
        """
        target = _real(target, "target")
        s = _real(step, "step")
        if s < self.segments[-1].s0:
            raise ValueError(f"step {s} is before the current segment's start "
                             f"{self.segments[-1].s0}: retarget only forward in time")
        T = self.duration if duration is None else _real(duration, "duration")
        if T <= 0:
            raise ValueError(f"duration must be > 0, got {T}")
        easing = self.segments[0].easing if easing is None else easing
        get_easing(easing)
        if s == self.segments[-1].s0 and len(self.segments) > 1:
            self.segments.pop()  # replaced before it moved: start from the state before it
        if s == self.segments[-1].s0:
            last = self.segments[-1]
            x0, v0, a0 = last.start, 0.0, 0.0
            self.segments.pop()
        else:
            x0, v0, a0 = (float(u) for u in self.segments[-1].evaluate(np.asarray(s)))
        if v0 == 0.0 and a0 == 0.0:
            segment = _Segment(s, T, x0, target, easing)
        else:
            segment = _Segment(s, T, x0, target, "quintic",
                               _hermite_coefficients(x0, v0, a0, target, T))
        self.segments.append(segment)
        return self

    def __repr__(self) -> str:
        return (f"Transition(target={self.target}, end_step={self.end_step}, "
                f"{len(self.segments)} segment(s))")


# --------------------------------------------------------------------------- reactive triggers
class PlateauTrigger:
    """Fires when a metric has stopped improving.

    Fed one value per :meth:`update`; keeps the best value so far. A value *improves* on the best
    when it beats it by at least ``min_rel_improvement`` of its size — for ``mode="min"``:
    ``value < best − min_rel_improvement·|best|`` (``"max"``: ``value > best + …``). Each update
    that does not improve counts as one flat step; the trigger fires on the update that makes
    ``window`` flat steps in a row (so a constant metric fires on its ``window + 1``-th value).
    It keeps firing until :meth:`reset` (a :class:`ReactiveSchedule` resets it when it advances).
    """

    def __init__(self, window: int, min_rel_improvement: float = 1e-3,
                 metric_name: str = "loss", mode: str = "min"):
        if isinstance(window, bool) or not isinstance(window, (int, np.integer)):
            raise TypeError(f"window must be an int, got {type(window).__name__}")
        if window < 1:
            raise ValueError(f"window must be ≥ 1, got {window}")
        rel = _real(min_rel_improvement, "min_rel_improvement")
        if rel < 0:
            raise ValueError(f"min_rel_improvement must be ≥ 0, got {rel}")
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        if not isinstance(metric_name, str):
            raise TypeError(f"metric_name must be a string, got {type(metric_name).__name__}")
        self.window, self.min_rel_improvement = int(window), rel
        self.metric_name, self.mode = metric_name, mode
        self.reset()

    def reset(self) -> None:
        """Forget the best value and the flat-step count."""
        self.best: Union[float, None] = None
        self.flat_steps = 0

    def update(self, value: float) -> bool:
        """Feed the next metric value; True when the plateau is reached."""
        value = _real(value, "value")
        if self.best is None:
            self.best = value
            return False
        margin = self.min_rel_improvement * abs(self.best)
        improved = (value < self.best - margin) if self.mode == "min" else \
            (value > self.best + margin)
        if improved:
            self.best, self.flat_steps = value, 0
        else:
            self.flat_steps += 1
        return self.flat_steps >= self.window

    def __repr__(self) -> str:
        return (f"PlateauTrigger(window={self.window}, min_rel_improvement="
                f"{self.min_rel_improvement}, metric_name={self.metric_name!r}, "
                f"mode={self.mode!r})")


class ThresholdTrigger:
    """Fires when a metric is beyond a threshold: ``direction="below"`` fires while
    ``value < threshold`` (a loss falling under a target), ``"above"`` while ``value > threshold``
    (an accuracy or hue-order score rising over one), after ``patience`` such values in a row."""

    def __init__(self, metric_name: str, threshold: float, direction: str = "below",
                 patience: int = 1):
        if not isinstance(metric_name, str):
            raise TypeError(f"metric_name must be a string, got {type(metric_name).__name__}")
        self.threshold = _real(threshold, "threshold")
        if direction not in ("below", "above"):
            raise ValueError(f"direction must be 'below' or 'above', got {direction!r}")
        if isinstance(patience, bool) or not isinstance(patience, (int, np.integer)):
            raise TypeError(f"patience must be an int, got {type(patience).__name__}")
        if patience < 1:
            raise ValueError(f"patience must be ≥ 1, got {patience}")
        self.metric_name, self.direction, self.patience = metric_name, direction, int(patience)
        self.reset()

    def reset(self) -> None:
        """Forget the run of values beyond the threshold."""
        self.count = 0

    def update(self, value: float) -> bool:
        """Feed the next metric value; True when the threshold has been passed ``patience`` times
        in a row."""
        value = _real(value, "value")
        beyond = value < self.threshold if self.direction == "below" else value > self.threshold
        self.count = self.count + 1 if beyond else 0
        return self.count >= self.patience

    def __repr__(self) -> str:
        return (f"ThresholdTrigger({self.metric_name!r}, {self.threshold}, "
                f"direction={self.direction!r}, patience={self.patience})")


Trigger = Union[PlateauTrigger, ThresholdTrigger]


class ReactiveSchedule:
    """A curriculum whose phases advance when a metric says so, not at fixed steps.

    ``phases`` is a list of ``{parameter: target}``; the first must set every parameter (later
    phases may leave some unchanged). ``trigger`` is one trigger used for every advance, or a list
    with one trigger per advance (``len(phases) − 1``). Feed metrics with :meth:`update`; when the
    current trigger fires at step ``s`` the schedule moves to the next phase, each parameter
    starting a :class:`Transition` to its new target from its *current* value (retargeting, so an
    advance during an unfinished transition stays smooth), arriving ``duration`` steps later.
    :attr:`advanced_at` records the steps. Triggers are reset at every advance.

    ``min_phase_steps``: metrics reported less than this many steps after the phase began are not
    fed to the trigger, so a phase is judged only once it has settled (and a shared threshold
    trigger, still satisfied, does not race through the phases on consecutive updates). With
    ``easing="step"`` a parameter holds for ``duration`` steps after the trigger, then jumps.
    """

    def __init__(self, phases: Sequence[Mapping[str, float]],
                 trigger: Union[Trigger, Sequence[Trigger]],
                 duration: Number = 100, easing: str = "minimum_jerk", start_step: Number = 0,
                 min_phase_steps: Number = 0):
        if isinstance(phases, Mapping) or not isinstance(phases, Sequence):
            raise TypeError("phases must be a list of {parameter: target} dicts")
        if len(phases) == 0:
            raise ValueError("phases is empty: a reactive schedule needs at least one phase")
        for i, phase in enumerate(phases):
            if not isinstance(phase, Mapping):
                raise TypeError(f"phases[{i}] must be a dict parameter → target, "
                                f"got {type(phase).__name__}")
        first = phases[0]
        if not first:
            raise ValueError("phases[0] sets no parameters")
        for i, phase in enumerate(phases[1:], start=1):
            unknown = set(phase) - set(first)
            if unknown:
                raise ValueError(f"phases[{i}] sets parameters phases[0] does not: "
                                 f"{sorted(unknown)}")
            for name, value in phase.items():
                _real(value, f"phases[{i}][{name!r}]")
        many = isinstance(trigger, Sequence) and not isinstance(trigger, str)
        triggers = list(trigger) if many else \
            [trigger] * max(1, len(phases) - 1)
        if len(triggers) != max(1, len(phases) - 1):
            raise ValueError(f"trigger: need one trigger, or one per advance "
                             f"({len(phases) - 1}), got {len(triggers)}")
        for i, trig in enumerate(triggers):
            if not isinstance(trig, (PlateauTrigger, ThresholdTrigger)):
                raise TypeError(f"trigger[{i}] must be a PlateauTrigger or ThresholdTrigger, "
                                f"got {type(trig).__name__}")
        self.duration = _real(duration, "duration")
        if self.duration <= 0:
            raise ValueError(f"duration must be > 0, got {self.duration}")
        get_easing(easing)
        self.easing = easing
        self.phases = [dict(p) for p in phases]
        self.triggers = triggers
        start = _real(start_step, "start_step")
        self.min_phase_steps = _real(min_phase_steps, "min_phase_steps")
        if self.min_phase_steps < 0:
            raise ValueError(f"min_phase_steps must be ≥ 0, got {self.min_phase_steps}")
        self._phase_start = start
        self.transitions = {name: Transition(_real(v, f"phases[0][{name!r}]"),
                                             float(v), start, self.duration, easing)
                            for name, v in first.items()}
        self.phase = 0
        self.advanced_at: list[float] = []
        self._last_step: Union[float, None] = None
        for trig in triggers:
            trig.reset()

    @property
    def parameters(self) -> tuple[str, ...]:
        return tuple(self.transitions)

    @property
    def finished(self) -> bool:
        """True once the last phase has been reached (later updates never advance)."""
        return self.phase == len(self.phases) - 1

    def advance(self, step: Number) -> None:
        """Move to the next phase at ``step`` now (what a firing trigger does)."""
        s = _real(step, "step")
        if self.finished:
            raise ValueError("already in the last phase: nothing to advance to")
        self.phase += 1
        for name, target in self.phases[self.phase].items():
            self.transitions[name].retarget(float(target), s, self.duration, self.easing)
        self.advanced_at.append(s)
        self._phase_start = s
        for trig in self.triggers:
            trig.reset()

    def update(self, step: Number, metrics: Union[Mapping[str, float], float]) -> bool:
        """Feed the metrics measured at ``step`` (a dict name → value, or a bare number for the
        trigger's own metric); advance and return True if the current trigger fires."""
        s = _real(step, "step")
        if self._last_step is not None and s < self._last_step:
            raise ValueError(f"step must not go backwards: got {s} after {self._last_step}")
        self._last_step = s
        if self.finished or s - self._phase_start < self.min_phase_steps:
            return False
        trig = self.triggers[min(self.phase, len(self.triggers) - 1)]
        if isinstance(metrics, Mapping):
            if trig.metric_name not in metrics:
                raise ValueError(f"metrics lacks {trig.metric_name!r}, which the trigger "
                                 f"watches; got {sorted(metrics)}")
            value = metrics[trig.metric_name]
        else:
            value = metrics
        if trig.update(_real(value, f"metrics[{trig.metric_name!r}]")):
            self.advance(s)
            return True
        return False

    def value(self, name: str, step: Number) -> float:
        """The value of parameter ``name`` at ``step``."""
        if not isinstance(name, str) or name not in self.transitions:
            raise ValueError(f"unknown parameter name {name!r}; this schedule sets "
                             f"{sorted(self.transitions)}")
        return self.transitions[name].value(step)

    def values(self, step: Number) -> dict[str, float]:
        """Every parameter's value at ``step``."""
        return {name: t.value(step) for name, t in self.transitions.items()}

    def curve(self, name: str, steps: ArrayLike) -> np.ndarray:
        """Values of ``name`` at ``steps`` as they happened (advances so far included)."""
        if not isinstance(name, str) or name not in self.transitions:
            raise ValueError(f"unknown parameter name {name!r}; this schedule sets "
                             f"{sorted(self.transitions)}")
        return self.transitions[name].curve(steps)

    def __repr__(self) -> str:
        return (f"ReactiveSchedule(phase {self.phase + 1}/{len(self.phases)}, "
                f"advanced_at={self.advanced_at})")
