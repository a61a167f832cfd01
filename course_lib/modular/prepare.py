"""Every run notebook 3.3 reads, trained up front, one per CPU core.

A cold ``quick`` notebook trains four runs (the main run, seeds 1–2, the weight-decay control:
5,600 steps), ``standard`` nine. Each run is small and sequential: its steps are too small to share
between threads (:func:`course_lib.runtime.cpu_threads`), but two *runs* fill two cores.
:func:`prepare_runs` hands them to :func:`course_lib.runtime.run_concurrently` — each on one torch
thread, so every run, and everything measured from it, is bit-identical to the run trained alone —
and the notebook's cells then load them from the cache. The progress measures of each run (the
mirror-unseen losses, the mechanism measures) are computed in the same job.

* :func:`notebook_jobs` — the runs a profile's notebook reads, longest first, without duplicates;
* :func:`prepare_runs` — trains (or loads) them, several at a time.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from .. import runtime
from .controls import CONTROL_SEEDS, CONTROL_STEPS, control_run
from .mechanism import mechanism_measures
from .run import modular_addition_run
from .seeds import GROKKING_SEEDS, seed_run_settings
from .training import GROKKING_SETTINGS

__all__ = ["notebook_jobs", "prepare_runs"]


def _cost(size: str, steps: int) -> float:
    """A step's work grows with the training pairs times the MLP's width (for ordering only)."""
    cfg = GROKKING_SETTINGS[size]
    return steps * cfg["train_fraction"] * cfg["p"] ** 2 * cfg["d_mlp"]


def _measured_run(seed: int, size: str, overrides: dict[str, Any]) -> Callable[[], None]:
    def job() -> None:
        run = modular_addition_run(seed=seed, profile=size, progress=False, **overrides)
        mechanism_measures(run)               # the mirror-unseen losses included (both cached)
    return job


def notebook_jobs(profile: Optional[str] = None) -> list[tuple[str, float, Callable[[], None]]]:
    """``(label, cost, job)`` for every run notebook 3.3 reads in ``profile`` (default: active):
    the main run (seed 0 at the profile's size), each seed's run (:func:`~.seeds.seed_run_settings`)
    and each weight-decay control (:data:`~.controls.CONTROL_SEEDS`), longest (by ``cost``) first;
    a run that two parts of the notebook share is listed once."""
    profile = runtime.get_profile() if profile is None else profile
    runtime.by_profile(GROKKING_SEEDS, profile)          # checks the profile
    jobs: dict[tuple, tuple[str, float, Callable[[], None]]] = {}

    def add_run(seed: int, size: str, overrides: dict[str, Any]) -> None:
        steps = int(overrides.get("steps", GROKKING_SETTINGS[size]["steps"]))
        jobs.setdefault(("run", seed, size, steps),
                        (f"seed {seed}, {size} size, {steps} steps", _cost(size, steps),
                         _measured_run(seed, size, overrides)))

    add_run(0, profile, {})
    for seed in runtime.by_profile(GROKKING_SEEDS, profile):
        add_run(seed, *seed_run_settings(seed, profile))
    size = seed_run_settings(0, profile)[0]
    for seed in runtime.by_profile(CONTROL_SEEDS, profile):
        jobs.setdefault(("control", seed), (f"seed {seed}, weight decay 0, {CONTROL_STEPS} steps",
                                            _cost(size, CONTROL_STEPS),
                                            lambda s=seed: control_run(s, CONTROL_STEPS, size)))
    return sorted(jobs.values(), key=lambda job: -job[1])


def prepare_runs(profile: Optional[str] = None, *, progress: bool = True,
                 workers: Optional[int] = None) -> list[str]:
    """Train (or load from the cache) every run of :func:`notebook_jobs`, ``workers`` at a time
    (default: one per usable core; :func:`course_lib.runtime.run_concurrently`); return their
    labels. Cached runs only load, so a second call takes seconds."""
    jobs = notebook_jobs(profile)
    runtime.run_concurrently([job for _, _, job in jobs], workers=workers,
                             desc="training the runs", progress=progress)
    return [label for label, _, _ in jobs]
