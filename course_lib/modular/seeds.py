"""The phase boundaries over several seeds: how much of "step 380" is this seed, and how much grokking.

Nanda et al. trained five seeds; one run's phase boundaries are one draw. :func:`phases_over_seeds`
loads (or trains, cached) the reference run for each seed of the profile (:data:`GROKKING_SEEDS`),
detects the phases on the all-test-pairs curves and on the mirror-unseen ones
(:func:`~.mechanism.unseen_losses`), and :meth:`SeedPhases.summary` reports each boundary's mean, a
Student-t interval for the mean, the range and n.

* :data:`GROKKING_SEEDS` — the seeds per profile (one place);
* :class:`SeedPhases`, :func:`phases_over_seeds` — the boundaries per seed and their summary.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Sequence

import numpy as np

from .. import runtime
from ..stats import t_interval
from ..validation import check_float, check_seed
from .mechanism import excluded_peak, formation_order, mechanism_measures, unseen_losses
from .phases import PhaseBoundaries
from .run import modular_addition_run

__all__ = ["GROKKING_SEEDS", "SEED_RUN_PROFILE", "SEED_RUN_STEPS", "SeedPhases", "phases_over_seeds",
           "seed_run_settings", "BOUNDARY_NAMES"]

#: Seeds whose phases the notebook reports, per profile (the paper trained 5 seeds).
GROKKING_SEEDS: dict[str, tuple[int, ...]] = {
    "quick": (0, 1, 2),
    "standard": (0, 1, 2, 3, 4),
    "full": (0, 1, 2, 3, 4),
}

#: Which run size each profile's seeds use: ``standard`` reports its five seeds at ``quick``'s size
#: (p = 53, 20–25 s each on one core) — five paper-size runs (p = 113, about 3 min each on one core)
#: take about 15 CPU minutes, beyond the 5-minute budget; ``full`` (a GPU) uses its own, the paper's size.
SEED_RUN_PROFILE: dict[str, str] = {"quick": "quick", "standard": "quick", "full": "full"}

#: How long the seeds other than 0 train, per profile (``None``: the run size's own ``steps``). In
#: ``quick`` seed 0 is the notebook's main run (1,800 steps, cached and shared); seeds 1–2 stop at
#: 1,400 steps, past their clean-up (which ends at 1,300–1,380): a cold ``quick`` run saves 800 of
#: its training steps. The first 1,400 steps of a 1,800-step run are a 1,400-step run (the learning
#: rate is constant after the warm-up), so only what is read at the last step differs.
SEED_RUN_STEPS: dict[str, Optional[int]] = {"quick": 1400, "standard": None, "full": None}

#: The boundaries, in order, as named in :class:`~.phases.PhaseBoundaries`, plus the grokking step.
BOUNDARY_NAMES = ("memorisation_end", "circuit_formation_end", "cleanup_end", "grok_step")


def _row(phases: PhaseBoundaries, grok: Optional[int]) -> list[float]:
    values = [phases.memorisation_end, phases.circuit_formation_end, phases.cleanup_end, grok]
    return [np.nan if v is None else float(v) for v in values]


@dataclass(frozen=True)
class SeedPhases:
    """Boundaries per seed: ``all_pairs`` and ``unseen`` are (n_seeds, 4) arrays over
    :data:`BOUNDARY_NAMES` (NaN: not reached), from the curves over all test pairs and over the
    mirror-unseen test pairs; the grok step (honest accuracy ≥ 95 %) is the same in both.
    ``last_step``: the longest run's final checkpoint; ``last_steps``: each seed's (a boundary not
    reached by then is NaN)."""

    seeds: tuple[int, ...]
    p: int
    all_pairs: np.ndarray
    unseen: np.ndarray
    last_step: Optional[int] = None
    checkpoint_every: Optional[int] = None
    #: Per seed, :func:`~.mechanism.excluded_peak` (loss, step, ratio to ln p, worse_than_uniform).
    excluded: Optional[tuple[dict[str, float], ...]] = None
    #: Circuit-formation end under other restricted-loss thresholds: (n_seeds, len(THRESHOLDS))
    #: first steps after memorisation at which the restricted loss is below each level (NaN: never).
    circuit_end_by_threshold: Optional[np.ndarray] = None
    #: Per seed, :func:`~.mechanism.formation_order` (cos_half, neuron_half, lag, cos_at_grok).
    formation: Optional[tuple[dict[str, float], ...]] = None
    #: Per seed, the run's final checkpoint step (runs may differ in length: :data:`SEED_RUN_STEPS`).
    last_steps: Optional[tuple[int, ...]] = None

    def summary(self, which: str = "all_pairs", level: float = 0.95) -> dict[str, dict[str, float]]:
        """Per boundary: ``n`` (seeds that reached it), ``mean``, ``lo``/``hi`` (a ``level``
        Student-t interval for the mean over seeds; NaN with n < 2), ``min``, ``max``."""
        if which not in ("all_pairs", "unseen"):
            raise ValueError(f"which must be 'all_pairs' or 'unseen', got {which!r}")
        level = check_float(level, "level", min=0, max=1, inclusive="neither")
        table = getattr(self, which)
        out = {}
        for j, name in enumerate(BOUNDARY_NAMES):
            x = table[:, j][np.isfinite(table[:, j])]
            lo, hi = t_interval(x, level) if len(x) >= 2 else (np.nan, np.nan)
            out[name] = {"n": len(x), "mean": float(x.mean()) if len(x) else np.nan, "lo": lo, "hi": hi,
                         "min": float(x.min()) if len(x) else np.nan,
                         "max": float(x.max()) if len(x) else np.nan}
        return out

    def shift(self) -> np.ndarray:
        """``unseen − all_pairs`` per seed and boundary (steps; 0 where the phases do not move)."""
        return self.unseen - self.all_pairs


def seed_run_settings(seed: int, profile: Optional[str] = None) -> tuple[str, dict[str, Any]]:
    """``(run size, overrides)`` of ``seed``'s run in :func:`phases_over_seeds` for ``profile``:
    the size :data:`SEED_RUN_PROFILE` gives and, for seeds other than 0, the length
    :data:`SEED_RUN_STEPS` gives (``{"steps": …}``; empty where the size's own length is used)."""
    steps = runtime.by_profile(SEED_RUN_STEPS, profile)
    later = {"steps": steps} if steps is not None and check_seed(seed) != 0 else {}
    return runtime.by_profile(SEED_RUN_PROFILE, profile), later


def phases_over_seeds(seeds: Optional[Sequence[int]] = None, profile: Optional[str] = None, *,
                      progress: bool = False, **overrides: Any) -> SeedPhases:
    """The phase boundaries of :func:`~.run.modular_addition_run` for each of ``seeds`` (default:
    the profile's :data:`GROKKING_SEEDS`, run at the size :data:`SEED_RUN_PROFILE` gives and, for the
    seeds other than 0, for :data:`SEED_RUN_STEPS`), cached per seed. ``overrides`` go to every run."""
    lengths_of: Optional[str] = None          # the profile whose seed lengths apply (seeds not given)
    if seeds is None:
        seeds = runtime.by_profile(GROKKING_SEEDS, profile)
        if "steps" not in overrides:
            lengths_of = runtime.get_profile() if profile is None else profile
        profile = runtime.by_profile(SEED_RUN_PROFILE, profile)
    if isinstance(seeds, (str, bytes)) or not hasattr(seeds, "__iter__"):
        raise TypeError(f"seeds must be a sequence of ints, got {type(seeds).__name__}")
    seeds = tuple(check_seed(s) for s in seeds)
    if not seeds:
        raise ValueError("seeds must not be empty")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct, got {seeds}")
    rows_all, rows_unseen, p, peaks, by_threshold, formation, lasts = [], [], None, [], [], [], []
    for seed in seeds:
        length = seed_run_settings(seed, lengths_of)[1] if lengths_of else {}
        run = modular_addition_run(seed=seed, profile=profile, progress=progress, **overrides, **length)
        _, _, unseen = unseen_losses(run, progress=progress)
        grok = run.grok_step(0.95)
        rows_all.append(_row(run.phases, grok))
        rows_unseen.append(_row(unseen, grok))
        p = run.p
        lasts.append(int(run.checkpoint_steps[-1]))
        every = int(run.checkpoint_steps[1] - run.checkpoint_steps[0])
        peaks.append(excluded_peak(run))
        by_threshold.append(circuit_end_thresholds(run))
        formation.append(formation_order(run, mechanism_measures(run, progress=progress)))
    return SeedPhases(seeds, int(p), np.array(rows_all), np.array(rows_unseen), max(lasts), every,
                      tuple(peaks), np.array(by_threshold), tuple(formation), tuple(lasts))


#: Restricted-loss levels (nats) for :func:`circuit_end_thresholds`; the phase rule uses 0.1.
THRESHOLDS = (0.03, 0.1, 0.3, 1.0)


def circuit_end_thresholds(run: Any, levels: Sequence[float] = THRESHOLDS) -> list[float]:
    """For each level, the first checkpoint step after memorisation's end at which the
    restricted loss is at or below it (NaN: never) — how far circuit formation's end moves with the
    threshold the phase rule uses."""
    steps, loss = np.asarray(run.checkpoint_steps), np.asarray(run.restricted_loss)
    start = run.phases.memorisation_end or 0
    out = []
    for level in levels:
        hit = np.flatnonzero((steps > start) & (loss <= level))
        out.append(float(steps[hit[0]]) if len(hit) else np.nan)
    return out
