"""Stage boundaries of an LLC trajectory, by a rule stated in advance.

* :func:`detect_boundaries` — the boundaries of one curve; :func:`align_boundaries` — how far each
  behavioural phase boundary is from the nearest one; :func:`boundary_spread` — a boundary's
  uncertainty from the chains (the same rule on every chain's own curve).

The boundary rule (:func:`detect_boundaries`). The LLC curve is smoothed by a centred moving average
over ``smooth`` checkpoints; each interval between checkpoints gets a *normalised slope*

    s_i = (ŷ_{i+1} − ŷ_i) / (max ŷ − min ŷ)  ×  (step_last − step_first) / (step_{i+1} − step_i),

the slope in units of "the curve's whole range over the whole run" (a straight line from its
minimum to its maximum across the run has s = 1). An interval is *rising* if s_i > ``flat``,
*falling* if s_i < −``flat`` and *flat* otherwise; runs of fewer than ``min_run`` intervals are
merged into the run before them (noise). A boundary is a checkpoint where the class changes: a
*peak* (rising → falling), a *trough* (falling → rising), *settles* (rising/falling → flat), or
*starts rising* / *starts falling* (flat → rising/falling). These are the stages of Hoogland et al.
(2024): the LLC's slope changes sign, or it stops (or starts) moving.

The slope is per interval, so checkpoint noise weighs more the denser the checkpoints: with a few
dozen checkpoints and chains whose spread is a few percent of the curve's range, ``smooth=3`` and
``flat=0.4`` hold; denser or noisier curves need a wider ``smooth``. A boundary's uncertainty from
the chains is :func:`boundary_spread` (the same rule on every chain's own curve).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional, Sequence

import numpy as np

from ..validation import check_float, check_int
from .transitions import LLCTrajectory

__all__ = ["Boundary", "detect_boundaries", "smooth_curve", "normalised_slopes", "align_boundaries",
           "boundary_spread"]


@dataclass(frozen=True)
class Boundary:
    """A stage boundary of an LLC curve: at ``step`` (checkpoint ``index``), of ``kind``
    ("peak", "trough", "settles", "starts rising", "starts falling")."""

    step: int
    index: int
    kind: str


def _curve_pair(steps: Any, values: Any) -> tuple[np.ndarray, np.ndarray]:
    s = np.asarray(steps, dtype=float)
    y = np.asarray(values, dtype=float)
    if s.ndim != 1 or y.ndim != 1 or len(s) != len(y):
        raise ValueError(f"steps and values must be 1-D of the same length, got {s.shape} and {y.shape}")
    if len(s) < 3:
        raise ValueError(f"need at least 3 checkpoints to find boundaries, got {len(s)}")
    if not (np.all(np.isfinite(s)) and np.all(np.isfinite(y))):
        raise ValueError("steps and values must be finite (no NaN or inf)")
    if np.any(np.diff(s) <= 0):
        raise ValueError("steps must increase strictly")
    return s, y


def smooth_curve(values: Any, window: int = 3) -> np.ndarray:
    """Centred moving average over ``window`` checkpoints (odd; the window shrinks at the ends)."""
    y = np.asarray(values, dtype=float)
    window = check_int(window, "window", min=1)
    if window % 2 == 0:
        raise ValueError(f"window must be a positive odd int, got {window}")
    h = window // 2
    return np.array([y[max(0, i - h): i + h + 1].mean() for i in range(len(y))])


def normalised_slopes(steps: Any, values: Any) -> np.ndarray:
    """The slopes s_i of the module docstring: 1 = the curve's whole range over the whole run."""
    s, y = np.asarray(steps, dtype=float), np.asarray(values, dtype=float)
    span = float(y.max() - y.min())
    if span == 0:
        return np.zeros(len(y) - 1)
    return np.diff(y) / span * (s[-1] - s[0]) / np.diff(s)


_KINDS = {("up", "down"): "peak", ("down", "up"): "trough", ("up", "flat"): "settles",
          ("down", "flat"): "settles", ("flat", "up"): "starts rising", ("flat", "down"): "starts falling"}


def detect_boundaries(steps: Any, values: Any, *, smooth: int = 3, flat: float = 0.4,
                      min_run: int = 2) -> list[Boundary]:
    """Stage boundaries of an LLC curve by the rule in the module docstring.

    ``steps`` (K,) increasing checkpoint steps, ``values`` (K,) λ̂ there. ``smooth``: the moving
    average's window (checkpoints, odd); ``flat``: the normalised slope below which an interval is
    flat; ``min_run``: the shortest run of intervals that counts as a stage of its own.
    """
    s, y = _curve_pair(steps, values)
    flat = check_float(flat, "flat", min=0, inclusive="neither")
    min_run = check_int(min_run, "min_run", min=1)
    slope = normalised_slopes(s, smooth_curve(y, smooth))
    labels = np.where(slope > flat, "up", np.where(slope < -flat, "down", "flat"))
    runs: list[list[Any]] = []          # [label, first interval, length]
    for i, lab in enumerate(labels):
        if runs and runs[-1][0] == lab:
            runs[-1][2] += 1
        else:
            runs.append([lab, i, 1])
    merged: list[list[Any]] = []
    for r in runs:                      # a run shorter than min_run joins the run before it
        if merged and (r[2] < min_run or merged[-1][0] == r[0]):
            merged[-1][2] += r[2]
        else:
            merged.append(list(r))
    if len(merged) > 1 and merged[0][2] < min_run:    # a short first run joins the next one
        merged[1][1], merged[1][2] = merged[0][1], merged[1][2] + merged[0][2]
        merged = merged[1:]
    out = []
    for prev, cur in zip(merged, merged[1:]):
        if prev[0] == cur[0]:
            continue
        index = int(cur[1])             # interval cur[1] starts at checkpoint cur[1]
        out.append(Boundary(step=int(s[index]), index=index, kind=_KINDS[(prev[0], cur[0])]))
    return out


def align_boundaries(boundaries: Sequence[Boundary], phases: Mapping[str, Optional[int]],
                     steps: Any) -> list[dict[str, Any]]:
    """For each behavioural phase boundary (``phases``: name → step, ``None`` skipped), the
    nearest LLC boundary: ``{"phase", "phase_step", "llc_step", "kind", "distance_steps",
    "distance_checkpoints"}`` (``llc_step`` ``None`` when the curve has no boundary).
    ``steps``: the LLC curve's checkpoint steps (distances in checkpoints count those between)."""
    s = np.asarray(steps, dtype=float)
    if s.ndim != 1 or not len(s):
        raise ValueError("steps must be a non-empty 1-D sequence")
    if not isinstance(phases, Mapping):
        raise TypeError("phases must be a mapping name → step")
    rows = []
    for name, step in phases.items():
        if step is None:
            continue
        row = {"phase": name, "phase_step": int(step), "llc_step": None, "kind": None,
               "distance_steps": None, "distance_checkpoints": None}
        if boundaries:
            best = min(boundaries, key=lambda b: abs(b.step - step))
            where = int(np.argmin(np.abs(s - step)))
            row.update(llc_step=best.step, kind=best.kind, distance_steps=int(best.step - step),
                       distance_checkpoints=int(best.index - where))
        rows.append(row)
    return rows


def boundary_spread(trajectory: LLCTrajectory, near: int, kind: Optional[str] = None,
                    **rule: Any) -> np.ndarray:
    """Where each chain alone puts the boundary nearest ``near`` (steps, one per chain; NaN where
    a chain's curve has none of that ``kind``). The spread of these is the boundary's uncertainty
    from the chains: :func:`detect_boundaries` (with ``rule``) run on every chain's own λ̂ curve."""
    if not isinstance(trajectory, LLCTrajectory):
        raise TypeError(f"trajectory must be an LLCTrajectory, got {type(trajectory).__name__}")
    out = []
    for c in range(trajectory.num_chains):
        found = [b for b in detect_boundaries(trajectory.steps, trajectory.per_chain[:, c], **rule)
                 if kind is None or b.kind == kind]
        out.append(min((b.step for b in found), key=lambda s: abs(s - near)) if found else np.nan)
    return np.asarray(out, dtype=float)
