"""Hyperparameter schedules that run to a plan: keyframe tables and retargetable transitions.

Every schedule answers one question — *what is this hyperparameter's value at training step s?* —
so a training loop can ask ``schedule.values(step)`` for the learning rate, each regulariser's
weight and the data fraction, whatever kind of schedule drives them. The easings between values
are :mod:`.easings`'; schedules that react to a metric are :mod:`.reactive`'s.

* :class:`Dopesheet` — a table of :class:`Keyframe`\\ s (step → {parameter: target}) that drives
  any number of parameters; between two keyframes that set a parameter it follows the later
  keyframe's easing, before the first it holds the first target, after the last the last.
* :class:`Transition` — one parameter moving to a target that can be **retargeted mid-flight**;
  the new segment starts from the current value, velocity and acceleration (a quintic Hermite
  segment, see :meth:`Transition.retarget`), so nothing jumps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping, Union

import numpy as np

from .easings import EASINGS, ArrayLike, Number, as_real, ease_derivatives, get_easing, steps_array

__all__ = ["Keyframe", "Dopesheet", "Transition"]


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
        object.__setattr__(self, "step", as_real(self.step, "step"))
        if not isinstance(self.targets, Mapping):
            raise TypeError(f"targets must be a mapping parameter → value, "
                            f"got {type(self.targets).__name__}")
        targets = {}
        for name, value in self.targets.items():
            if not isinstance(name, str):
                raise TypeError(f"targets: parameter names must be strings, got {name!r}")
            targets[name] = as_real(value, f"targets[{name!r}]")
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
        for s in sorted(table, key=lambda s: as_real(s, "table step")):
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
        s = steps_array(steps)
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
        return float(self.curve(name, as_real(step, "step")))

    def values(self, step: Number) -> dict[str, float]:
        """Every parameter's value at ``step``."""
        s = as_real(step, "step")
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
            e, de, dde = ease_derivatives(self.easing, tau)
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
        start, target = as_real(start, "start"), as_real(target, "target")
        start_step = as_real(start_step, "start_step")
        duration = as_real(duration, "duration")
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
        s = steps_array(steps)
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
        s = as_real(step, "step")
        last = self.segments[-1]
        if s >= last.s0 + last.duration:  # arrived: what _evaluate gives, without the arrays
            return float(last.target)
        return float(self._evaluate(s)[0])

    def velocity(self, step: Number) -> float:
        """d value / d step at ``step`` (one-sided at a jump of the step easing: 0)."""
        return float(self._evaluate(as_real(step, "step"))[1])

    def acceleration(self, step: Number) -> float:
        """d² value / d step² at ``step``."""
        return float(self._evaluate(as_real(step, "step"))[2])

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
        target = as_real(target, "target")
        s = as_real(step, "step")
        if s < self.segments[-1].s0:
            raise ValueError(f"step {s} is before the current segment's start "
                             f"{self.segments[-1].s0}: retarget only forward in time")
        T = self.duration if duration is None else as_real(duration, "duration")
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
