"""Reactive schedules: phases that advance when a metric stops improving or crosses a threshold,
rather than at fixed steps.

* :class:`PlateauTrigger`, :class:`ThresholdTrigger` — when to advance;
* :class:`ReactiveSchedule` — the phases, each parameter moving to its next target with a
  retargetable :class:`~course_lib.curriculum.schedules.Transition` (nothing jumps).
"""

from __future__ import annotations

from typing import Mapping, Sequence, Union

import numpy as np

from ..validation import check_choice, check_float, check_int
from .easings import ArrayLike, Number, as_real, get_easing
from .schedules import Transition

__all__ = ["PlateauTrigger", "ThresholdTrigger", "ReactiveSchedule"]


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
        check_int(window, "window", min=1)
        rel = check_float(min_rel_improvement, "min_rel_improvement", min=0)
        check_choice(mode, "mode", ("min", "max"))
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
        value = as_real(value, "value")
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
        self.threshold = as_real(threshold, "threshold")
        check_choice(direction, "direction", ("below", "above"))
        check_int(patience, "patience", min=1)
        self.metric_name, self.direction, self.patience = metric_name, direction, int(patience)
        self.reset()

    def reset(self) -> None:
        """Forget the run of values beyond the threshold."""
        self.count = 0

    def update(self, value: float) -> bool:
        """Feed the next metric value; True when the threshold has been passed ``patience`` times
        in a row."""
        value = as_real(value, "value")
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
                as_real(value, f"phases[{i}][{name!r}]")
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
        self.duration = check_float(duration, "duration", min=0, inclusive="neither")
        get_easing(easing)
        self.easing = easing
        self.phases = [dict(p) for p in phases]
        self.triggers = triggers
        start = as_real(start_step, "start_step")
        self.min_phase_steps = check_float(min_phase_steps, "min_phase_steps", min=0)
        self._phase_start = start
        self.transitions = {name: Transition(as_real(v, f"phases[0][{name!r}]"),
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
        s = as_real(step, "step")
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
        s = as_real(step, "step")
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
        if trig.update(as_real(value, f"metrics[{trig.metric_name!r}]")):
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
