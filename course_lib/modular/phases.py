"""The three phases of grokking, found in the measured curves by a documented rule.

* :class:`PhaseBoundaries` — the steps at which memorisation, circuit formation and clean-up end;
* :func:`detect_phases` — those steps from a run's curves (train, test, excluded and restricted
  loss, weight norm), each rule relative to the run's own curves or a loss level in nats.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from ..validation import check_float

__all__ = ["PhaseBoundaries", "detect_phases"]


@dataclass(frozen=True)
class PhaseBoundaries:
    """Steps at which the three phases end (``None``: not reached within the run).

    memorisation: 0 → ``memorisation_end``; circuit formation: → ``circuit_formation_end`` (the
    key-frequency circuit alone answers held-out pairs); clean-up: → ``cleanup_end`` (the test
    loss collapses — the visible grokking — and weight decay prunes the memorisation).
    """

    memorisation_end: Optional[int]
    circuit_formation_end: Optional[int]
    cleanup_end: Optional[int]

    NAMES = ("memorisation", "circuit formation", "clean-up")

    def as_dict(self) -> dict[str, Optional[int]]:
        return {"memorisation_end": self.memorisation_end,
                "circuit_formation_end": self.circuit_formation_end,
                "cleanup_end": self.cleanup_end}

    def intervals(self) -> list[tuple[str, int, Optional[int]]]:
        """``(phase name, start step, end step)`` for each phase that has started."""
        ends = [self.memorisation_end, self.circuit_formation_end, self.cleanup_end]
        out, start = [], 0
        for name, end in zip(self.NAMES, ends):
            out.append((name, start, end))
            if end is None:
                break
            start = end
        return out


def _curve(values: object, name: str, n: Optional[int]) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1 or not len(arr):
        raise ValueError(f"{name} must be a non-empty 1-D sequence, got shape {arr.shape}")
    if n is not None and len(arr) != n:
        raise ValueError(f"{name} has {len(arr)} values but steps has {n}; all curves must match")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf")
    return arr


def detect_phases(steps: Sequence[int], train_loss: Sequence[float], test_loss: Sequence[float],
                  excluded_loss: Sequence[float], restricted_loss: Sequence[float],
                  weight_norm: Sequence[float], *, fit_loss: float = 0.1,
                  circuit_loss: float = 0.1, grok_loss: float = 0.1,
                  norm_fraction: float = 0.25) -> PhaseBoundaries:
    """Phase boundaries from the measured curves (one value per checkpoint step).

    The rule (thresholds are keyword arguments; losses are cross-entropies in nats):

    1. **memorisation ends** where the excluded loss is lowest, searched from the first checkpoint
       with ``train_loss ≤ fit_loss`` (the training pairs are fitted: mean log-probability of the
       right answer ≥ −0.1) up to the end of circuit formation. Until then training performance
       does not depend on the key frequencies (memorisation); from there on it increasingly
       does — the paper's sign that circuit formation has begun. (If the circuit never forms,
       memorisation ends at the fitting point.)
    2. **circuit formation ends** at the first checkpoint after fitting with
       ``restricted_loss ≤ circuit_loss``: the key-frequency circuit *alone* now answers the
       held-out pairs. Test loss is still high here — memorisation still adds noise on top;
    3. **clean-up ends** at the first later checkpoint ``j`` where ``test_loss ≤ grok_loss`` (the
       model has grokked) and from which on the weight norm no longer falls fast: its relative
       fall rate ``r_i = ln(W_i / W_{i+1}) / (s_{i+1} − s_i)`` stays below ``norm_fraction`` × its
       peak rate after circuit formation (the clean-up's sharp fall) on every interval after ``j``.
       Weight decay has then removed the memorising weights; what remains is a slow drift.

    Each rule is relative to the run's own curves or a loss level in nats, so none needs a
    learning-rate-dependent constant. A boundary that is not reached is ``None`` (and so are the
    later ones); found boundaries strictly increase.
    """
    steps_arr = np.asarray(steps)
    if steps_arr.ndim != 1 or len(steps_arr) < 2:
        raise ValueError("steps must be a 1-D sequence of at least two checkpoint steps")
    if not np.all(np.isfinite(steps_arr)) or np.any(np.diff(steps_arr) <= 0):
        raise ValueError("steps must be finite and strictly increasing")
    n = len(steps_arr)
    train = _curve(train_loss, "train_loss", n)
    test = _curve(test_loss, "test_loss", n)
    excluded = _curve(excluded_loss, "excluded_loss", n)
    restricted = _curve(restricted_loss, "restricted_loss", n)
    norm = _curve(weight_norm, "weight_norm", n)
    if np.any(norm <= 0):
        raise ValueError("weight_norm must be positive")
    fit_loss, circuit_loss, grok_loss = (check_float(v, name, min=0, inclusive="neither") for v, name in (
        (fit_loss, "fit_loss"), (circuit_loss, "circuit_loss"), (grok_loss, "grok_loss")))
    norm_fraction = check_float(norm_fraction, "norm_fraction", min=0, max=1, inclusive="neither")

    def first(mask: np.ndarray, start: int) -> Optional[int]:
        hits = np.flatnonzero(mask[start:])
        return None if not len(hits) else start + int(hits[0])

    i_fit = first(train <= fit_loss, 0)
    i_circuit = None if i_fit is None else first(restricted <= circuit_loss, i_fit + 1)
    if i_fit is None or i_circuit is None:
        i_mem = i_fit
    else:
        i_mem = i_fit + int(np.argmin(excluded[i_fit:i_circuit]))
    i_clean = None
    if i_circuit is not None:
        rate = np.log(norm[:-1] / norm[1:]) / np.diff(steps_arr)   # interval i: s_i → s_{i+1}
        peak = rate[i_circuit:].max()                               # the clean-up's fall
        if peak > 0:
            fast = np.flatnonzero(rate > norm_fraction * peak)
            settled_from = int(fast[-1]) + 1 if len(fast) else 0   # no fast interval after this
            grokked = first(test <= grok_loss, i_circuit + 1)
            if grokked is not None:
                j = max(settled_from, grokked)
                i_clean = j if j < n - 1 else None     # at least one calm interval must follow
    to_step = lambda i: None if i is None else int(steps_arr[i])  # noqa: E731
    return PhaseBoundaries(to_step(i_mem), to_step(i_circuit), to_step(i_clean))
