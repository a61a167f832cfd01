"""The curriculum's data: what the model sees in each phase, and the phased schedule that drives it.

The curriculum of notebook 2.1 (after the ex-preppy colour experiments; see research/color.md)
shows a 3-D bottleneck the colour wheel in stages:

=====  ================================  =========  ============  =============
phase  data (S = 1 throughout)           length     unitarity w   planarity w
=====  ================================  =========  ============  =============
1      12 hues (every 30°), V = 1         2000/12000  0.02          0.1
2      360 hues (every 1°), V = 1         2000/12000  0.02          0.1
3      360 hues × V ∈ {0.9, 1}            3000/12000  0.05          0.02
4      360 hues × V ∈ {0.8, 0.9, 1}       2000/12000  0.1           0.005
5      360 hues × 10 values 0.2 … 1       3000/12000  0.1           0
=====  ================================  =========  ============  =============

Every phase starts with a linear learning-rate warm-up over its first 10 % (PyTorch's ``LinearLR``:
from ``start_factor × lr`` up to ``lr``, base lr 0.01). :class:`Curriculum` is both halves of a
run for :func:`course_lib.curriculum.train.train_run`: a schedule (``values(step)`` → ``lr``,
``unit``, ``planar``, ``phase``) and a data source (``data(step, values)`` → the phase's colours),
scaled to any total number of steps. ``Curriculum.flat(...)`` is the control: the same steps,
learning rate and weights, but the last phase's data from the first step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

import numpy as np
import torch

from ..color.data import hue_wheel
from ..color.spaces import hsv_to_rgb
from ..validation import check_float, check_fraction, check_int

__all__ = [
    "Phase",
    "PHASES",
    "phase_hsv",
    "phase_rgb",
    "Curriculum",
    "CurriculumProbe",
    "curriculum_probe",
]


@dataclass(frozen=True)
class Phase:
    """One phase of the curriculum: ``n_hues`` hues at S = 1 and each of ``values`` (V); its share
    of the training (``length``, relative) and its regulariser weights."""

    name: str
    n_hues: int
    values: tuple[float, ...]
    length: float
    unit: float
    planar: float


#: The research note's phase table (lengths in the source's epochs; only their ratios are used).
PHASES: tuple[Phase, ...] = (
    Phase("12 hues", 12, (1.0,), 2000, 0.02, 0.1),
    Phase("360 hues", 360, (1.0,), 2000, 0.02, 0.1),
    Phase("V ∈ {0.9, 1}", 360, (0.9, 1.0), 3000, 0.05, 0.02),
    Phase("V ∈ {0.8, 0.9, 1}", 360, (0.8, 0.9, 1.0), 2000, 0.1, 0.005),
    Phase("V = 0.2 … 1", 360, tuple(np.round(np.linspace(0.2, 1.0, 10), 6).tolist()), 3000, 0.1, 0.0),
)


def _check_phase(phase: Phase) -> Phase:
    if not isinstance(phase, Phase):
        raise TypeError(f"phase must be a Phase, got {type(phase).__name__}")
    return phase


def phase_hsv(phase: Phase) -> np.ndarray:
    """The phase's colours as HSV (n_hues · len(values), 3): every hue at every value, S = 1."""
    _check_phase(phase)
    return np.concatenate([hue_wheel(phase.n_hues, 1.0, v) for v in phase.values])


def phase_rgb(phase: Phase) -> torch.Tensor:
    """The phase's colours as an RGB float32 tensor (N, 3)."""
    return torch.as_tensor(hsv_to_rgb(phase_hsv(phase)), dtype=torch.float32)


class Curriculum:
    """The phased curriculum as a schedule *and* a data source, over ``total_steps`` updates.

    >>> cur = Curriculum(1200)
    >>> cur.starts.tolist()
    [0, 200, 400, 700, 900]
    >>> cur.values(200)["phase"], cur.values(200)["lr"]  # a new phase restarts the warm-up
    (1.0, 0.0033333333333333335)

    Phase ``i`` runs over steps ``starts[i] … starts[i+1] − 1``, its length proportional to
    ``phases[i].length``. ``values(step)``: ``lr`` (linear warm-up from ``start_factor·lr`` over
    the first ``warmup`` fraction of the phase), ``unit``, ``planar`` and ``phase`` (0-based).
    ``data(step, values)``: the phase's RGB tensor (the same object for the whole phase). With
    ``flat=True`` every step gets the *last* phase's data (the control without a curriculum); the
    schedule is unchanged.
    """

    def __init__(self, total_steps: int, phases: Sequence[Phase] = PHASES, *, lr: float = 0.01,
                 warmup: float = 0.1, start_factor: float = 1 / 3, flat: bool = False):
        self.total_steps = check_int(total_steps, "total_steps", min=1)
        if isinstance(phases, (str, bytes, Mapping)) or not isinstance(phases, Sequence) or not phases:
            raise ValueError("phases must be a non-empty sequence of Phase")
        self.phases = tuple(_check_phase(p) for p in phases)
        if total_steps < len(self.phases):
            raise ValueError(f"total_steps must be at least the number of phases ({len(self.phases)}), "
                             f"got {total_steps}")
        check_float(lr, "lr", min=0, inclusive="neither")
        self.lr = float(lr)
        self.warmup = check_fraction(warmup, "warmup")
        self.start_factor = check_fraction(start_factor, "start_factor", inclusive="right")
        if not isinstance(flat, (bool, np.bool_)):
            raise TypeError(f"flat must be True or False, got {flat!r}")
        self.flat = bool(flat)
        lengths = np.array([p.length for p in self.phases], dtype=np.float64)
        if not np.all(lengths > 0):
            raise ValueError("every phase must have a positive length")
        cum = np.rint(np.concatenate([[0.0], np.cumsum(lengths)]) / lengths.sum() * total_steps)
        self.starts = cum[:-1].astype(np.int64)
        self.ends = cum[1:].astype(np.int64)
        if np.any(self.ends <= self.starts):
            raise ValueError(f"total_steps={total_steps} is too short: a phase would get no steps")
        self._data = [phase_rgb(p) for p in self.phases]

    @classmethod
    def control(cls, total_steps: int, **kwargs) -> "Curriculum":
        """The same schedule, but all of the last phase's data from the first step."""
        return cls(total_steps, flat=True, **kwargs)

    def phase_at(self, step: int) -> int:
        """Which phase (0-based) ``step`` is in; steps past the end belong to the last phase."""
        step = check_float(step, "step", min=0, allow_inf=True)
        return int(np.searchsorted(self.starts, step, side="right") - 1)

    def values(self, step: int) -> dict[str, float]:
        i = self.phase_at(step)
        start, end = int(self.starts[i]), int(self.ends[i])
        ramp = max(1, int(round(self.warmup * (end - start))))
        progress = min(1.0, (float(step) - start) / ramp) if self.warmup > 0 else 1.0
        factor = self.start_factor + (1.0 - self.start_factor) * progress
        phase = self.phases[i]
        return {"lr": self.lr * factor, "unit": phase.unit, "planar": phase.planar, "phase": float(i)}

    def curve(self, name: str, steps: Sequence[int]) -> np.ndarray:
        """Values of ``name`` at ``steps`` (for plots)."""
        return np.array([self.values(int(s))[name] for s in np.asarray(steps).ravel()])

    def data(self, step: int, values: Optional[Mapping[str, float]] = None) -> torch.Tensor:
        """The colours for ``step``: the current phase's (or the last phase's when flat)."""
        return self._data[-1] if self.flat else self._data[self.phase_at(step)]

    def describe(self) -> dict:
        """A JSON-able description (for cache keys)."""
        return {"total_steps": self.total_steps, "lr": self.lr, "warmup": self.warmup,
                "start_factor": self.start_factor, "flat": self.flat,
                "phases": [[p.name, p.n_hues, list(p.values), p.length, p.unit, p.planar]
                           for p in self.phases]}

    def __repr__(self) -> str:
        return (f"Curriculum({self.total_steps} steps, phases start at {self.starts.tolist()}"
                f"{', flat' if self.flat else ''})")


@dataclass(frozen=True)
class CurriculumProbe:
    """The colours every snapshot records: ``n_hues`` hues at S = 1 and each of ``values``.
    ``hsv``/``rgb`` (P, 3); ``hue``/``value`` (P,); ``wheel`` is the mask of the V = 1 ring."""

    hsv: np.ndarray
    rgb: np.ndarray

    @property
    def hue(self) -> np.ndarray:
        return self.hsv[:, 0]

    @property
    def value(self) -> np.ndarray:
        return self.hsv[:, 2]

    @property
    def wheel(self) -> np.ndarray:
        return np.isclose(self.hsv[:, 2], 1.0)

    @property
    def tensor(self) -> torch.Tensor:
        return torch.as_tensor(self.rgb, dtype=torch.float32)


def curriculum_probe(n_hues: int = 72, values: Sequence[float] = (0.2, 0.4, 0.6, 0.8, 1.0)) -> CurriculumProbe:
    """Hues every 360/``n_hues``° at S = 1 and each brightness in ``values`` (default 72 × 5)."""
    n_hues = check_int(n_hues, "n_hues", min=1)
    if n_hues < 4:
        raise ValueError(f"n_hues must be ≥ 4 to form a loop, got {n_hues}")
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise TypeError("values must be a sequence of numbers in [0, 1]")
    vals = [check_fraction(v, f"values[{i}]") for i, v in enumerate(values)]
    if not vals:
        raise ValueError("values must not be empty")
    hsv = np.concatenate([hue_wheel(n_hues, 1.0, v) for v in vals])
    return CurriculumProbe(hsv=hsv, rgb=hsv_to_rgb(hsv))
