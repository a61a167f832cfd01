"""The experiments of notebooks 2.1 and 2.2, built on :mod:`.train` and :mod:`.data`.

* :func:`watched_run` — one model trained through the phased curriculum, snapshotted densely
  (the scrubber of notebook 2.1).
* :func:`crumpling_sweep` — many seeds trained at once under one of the four :data:`ARMS`: the
  data in phases or all at once, crossed with the loss weights in phases or the last phase's
  weights throughout (the same steps and learning-rate warm-ups in every arm). Each arm differs
  from its neighbours in exactly one factor, so the curriculum's effect can be split into what
  the data order does and what the weight schedule does. :func:`arm_sweeps` trains all four.
* :func:`ring_crumpling` — how crumpled the bright (V = 1) hue ring is, seen three ways: in the
  plane the planarity term assigns to hue (dims 0–1), in the ring's own best-fit plane, or in
  all three dimensions. The dims 0–1 view only means something for an arm that was *asked* to
  use dims 0–1 (planarity on); for the others it is a random projection.
* :func:`ring_layout` — where the cone lies: the share of the bright ring's variance in dims 0–1
  and |cos| between the brightness axis (dark ring's centre − bright ring's centre) and e₂.
  :func:`ring_frame` is the change of basis that gets that layout for free after training (the
  ring's principal axes → dims 0–1, its normal → dim 2).
* :func:`fisher_exact` and :func:`difference_interval` — the two-arm tests for rates over seeds
  (two-sided Fisher exact p; Newcombe's interval for a difference of two proportions), and
  :func:`rank_sum` for a continuous score (Mann–Whitney).
* :class:`ReactiveCurriculum` and :func:`reactive_runs` — the same phases, advanced when the
  reconstruction loss falls below a threshold (or plateaus) instead of at fixed steps, compared
  seed by seed with :func:`fixed_runs` by :func:`compare_reactive` (notebook 2.2), and both
  against the plain run of notebook 2.1 (:func:`plain_finals`: all data and the last phase's
  weights from step 1, the baseline every curriculum has to beat).

Settings per profile live in :data:`PROFILE_SETTINGS`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from typing import Any, Mapping, Optional, Sequence

import numpy as np

from ..runtime import by_profile
from ..stats import difference_interval, fisher_exact, rank_sum
from .crumpling import crumpling
from .data import PHASES, Curriculum, CurriculumProbe, Phase, curriculum_probe, phase_rgb
from ..checkpoints import even_steps
from ..validation import check_choice, check_float, check_fraction, check_int
from .reactive import PlateauTrigger, ReactiveSchedule, ThresholdTrigger
from .runs import CurriculumRun, CurriculumSweep
from .terms import planarity_term, unitarity_term
from .train import cached_run, cached_runs, cached_sweep

__all__ = [
    "PROFILE_SETTINGS",
    "settings",
    "threshold_check",
    "curriculum_terms",
    "watched_run",
    "ARMS",
    "Arm",
    "arm_curriculum",
    "crumpling_sweep",
    "arm_sweeps",
    "KEY_ARMS",
    "study_sweeps",
    "ring_crumpling",
    "VIEWS",
    "ring_layout",
    "ring_frame",
    "fisher_exact",
    "difference_interval",
    "rank_sum",
    "ArmComparison",
    "compare_arms",
    "ReactiveCurriculum",
    "reactive_runs",
    "fixed_runs",
    "plain_curves",
    "plain_finals",
    "ReactiveComparison",
    "compare_reactive",
    "ReactiveStudy",
    "reactive_study",
]

#: Per-profile settings. ``watched_steps``: length of the watched run (the same in quick and
#: standard, so the notebook's claims about it are exact); ``steps``: length of the main sweep and
#: the reactive comparison (the source trained 12,000 epochs); ``sweep_seeds``: seeds per arm;
#: ``lengths``: every training length the sweep is repeated at (the training-length dependence);
#: ``sweep_seeds`` applies to every one of the four :data:`ARMS`; ``key_seeds``: seeds for the two
#: arms the headline compares (:data:`KEY_ARMS`, the curriculum and the plain run) at the shortest
#: length, where a seed is cheapest (≈ 0.7 s and 1.4 s of CPU per seed at 1,200 steps);
#: ``reactive_seeds``: seeds for the reactive-vs-fixed comparison of notebook 2.2, run at every one
#: of ``lengths`` (:func:`reactive_study`); ``check_seeds``: seeds for the checked prediction of
#: notebook 2.2 (the threshold rule against the fixed schedule at the shortest length, paired t-test on
#: the log ratio of final errors; :func:`threshold_check`), the first ``reactive_seeds`` shared;
#: ``frame_every`` / ``slider_every``: the scrubbers of notebook 2.1 / 2.2 show every k-th frame (a frame costs
#: 0.4–0.7 s to draw on 2 cores). Measured (CPU time, one thread): a 12-seed sweep of 1,200 steps
#: takes ≈ 8 s with the data in phases (small early phases) and ≈ 17 s with all 3,600 colours from
#: the start, so the four arms cost ≈ 50 s per 12 seeds and 1,200 steps (linear in seeds): quick
#: runs 8 seeds per arm to stay within its minute, standard 12 at both lengths (≈ 4 min).
PROFILE_SETTINGS: dict[str, dict[str, Any]] = {
    "quick": {"watched_steps": 1200, "steps": 1200, "sweep_seeds": 8, "key_seeds": 8, "lengths": (1200,),
              "n_snapshots": 31, "reactive_seeds": 4, "slider_every": 3, "frame_every": 8,
              "check_seeds": 4},
    "standard": {"watched_steps": 1200, "steps": 4000, "sweep_seeds": 12, "key_seeds": 32, "lengths": (1200, 4000),
                 "n_snapshots": 31, "reactive_seeds": 8, "slider_every": 1, "frame_every": 1,
                 "check_seeds": 16},
    "full": {"watched_steps": 12000, "steps": 12000, "sweep_seeds": 128, "key_seeds": 128, "lengths": (1200, 4000, 12000),
             "n_snapshots": 61, "reactive_seeds": 64, "slider_every": 1, "frame_every": 1,
             "check_seeds": 64},
}


def settings(profile: Optional[str] = None) -> dict[str, Any]:
    """This part of the chapter's settings for ``profile`` (default: ``COURSE_PROFILE``)."""
    return dict(by_profile(PROFILE_SETTINGS, profile))


def curriculum_terms() -> dict[str, Any]:
    """The curriculum's loss terms: ``unit`` (unitarity) and ``planar`` (energy in dims 2+)."""
    return {"unit": unitarity_term, "planar": planarity_term(2)}


_KEY_VERSION = "curriculum-v1"

# --------------------------------------------------------------------------- crumpling views
VIEWS = ("plane", "own", "3d")


def ring_crumpling(probe: CurriculumProbe, latents: np.ndarray, view: str = "plane") -> np.ndarray:
    """Crumpling of the bright hue ring (the probe's V = 1 colours) for latents (..., P, d).

    ``view="plane"``: the ring seen in dims 0–1, the plane the planarity term asks hue to use —
    a clean wheel lying elsewhere (tilted into dim 2) also scores high here; ``"own"``: the ring
    projected onto its own best-fit plane (top two principal axes), so only its shape counts;
    ``"3d"``: the ring in all dimensions (bending out of any plane counts). Returns ``latents``'
    leading shape.
    """
    if not isinstance(probe, CurriculumProbe):
        raise TypeError(f"probe must be a CurriculumProbe, got {type(probe).__name__}")
    z = np.asarray(latents, dtype=np.float64)
    if z.ndim < 2 or z.shape[-2] != len(probe.hsv):
        raise ValueError(f"latents must have shape (..., {len(probe.hsv)}, d), got {z.shape}")
    check_choice(view, "view", VIEWS)
    ring = z[..., probe.wheel, :]
    hue = probe.hue[probe.wheel]
    if view == "plane":
        return np.asarray(crumpling(hue, ring[..., :2]))
    if view == "3d":
        return np.asarray(crumpling(hue, ring))
    centred = ring - ring.mean(axis=-2, keepdims=True)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)  # (..., d, d)
    own = np.einsum("...pd,...kd->...pk", centred, vt[..., :2, :])
    return np.asarray(crumpling(hue, own))


# --------------------------------------------------------------------------- layout
def _check_latents(probe: CurriculumProbe, latents: np.ndarray) -> np.ndarray:
    if not isinstance(probe, CurriculumProbe):
        raise TypeError(f"probe must be a CurriculumProbe, got {type(probe).__name__}")
    z = np.asarray(latents, dtype=np.float64)
    if z.ndim < 2 or z.shape[-2] != len(probe.hsv) or z.shape[-1] < 3:
        raise ValueError(f"latents must have shape (..., {len(probe.hsv)}, d ≥ 3), got {z.shape}")
    if not np.isfinite(z).all():
        raise ValueError("latents contain NaN or inf")
    return z


def _brightness_axis(probe: CurriculumProbe, z: np.ndarray) -> np.ndarray:
    """Centre of the darkest probe ring minus centre of the brightest, (..., d)."""
    dark, bright = probe.value == probe.value.min(), probe.value == probe.value.max()
    return z[..., dark, :].mean(axis=-2) - z[..., bright, :].mean(axis=-2)


def ring_layout(probe: CurriculumProbe, latents: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where the cone lies in latent space, for latents (..., P, d ≥ 3) of the probe.

    Returns ``(share, axis)``, each of ``latents``' leading shape: ``share`` — the fraction of the
    bright ring's variance in dims 0–1 (1: the ring lies in dims 0–1, as the planarity term asks;
    a round ring in a random plane of 3-D scores (1 + n₂²)/2, 2/3 on average, n its normal);
    ``axis`` — |cos| between the brightness axis (centre of the darkest ring − centre of the
    brightest) and e₂ (1: brightness along dim 2). Both are about the *basis*, not the shape: a
    rotation of the latents (:func:`ring_frame`) changes them and changes nothing the decoder
    computes from a rotated-back code.
    """
    z = _check_latents(probe, latents)
    ring = z[..., probe.wheel, :]
    var = ring.var(axis=-2)
    share = var[..., :2].sum(axis=-1) / np.maximum(var.sum(axis=-1), 1e-300)
    d = _brightness_axis(probe, z)
    axis = np.abs(d[..., 2]) / np.maximum(np.linalg.norm(d, axis=-1), 1e-300)
    return share, axis


def ring_frame(probe: CurriculumProbe, latents: np.ndarray) -> np.ndarray:
    """The latents in the bright ring's own frame: a rotation (one per model) taking the ring's
    first two principal axes to dims 0–1 and its normal to dim 2, signed so the dark rings lie at
    positive dim 2 (and the frame stays right-handed in 3-D). A change of basis after training —
    it needs no planarity term and no curriculum. ``latents`` (..., P, d ≥ 3) → same shape."""
    z = _check_latents(probe, latents)
    ring = z[..., probe.wheel, :]
    centred = ring - ring.mean(axis=-2, keepdims=True)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)  # (..., d, d): rows = principal axes
    rot = vt.copy()
    d = _brightness_axis(probe, z)
    flip = np.einsum("...d,...d->...", rot[..., 2, :], d) < 0
    rot[..., 2, :] = np.where(flip[..., None], -rot[..., 2, :], rot[..., 2, :])
    if z.shape[-1] == 3:
        left = np.linalg.det(rot) < 0
        rot[..., 1, :] = np.where(left[..., None], -rot[..., 1, :], rot[..., 1, :])
    return np.einsum("...pd,...kd->...pk", z, rot)


# --------------------------------------------------------------------------- two-arm tests
# (fisher_exact, difference_interval and rank_sum live in course_lib.stats)


@dataclass(frozen=True)
class ArmComparison:
    """Two arms' scores per seed (e.g. crumpling), compared as rates above ``threshold`` and as
    continuous values. ``k_a/n_a`` against ``k_b/n_b``; ``p``: two-sided Fisher exact;
    ``difference``: 95 % Newcombe interval for rate_a − rate_b; ``auc``, ``p_rank``: Mann–Whitney
    (chance a seed of a scores higher than one of b, and its two-sided p)."""

    k_a: int
    n_a: int
    k_b: int
    n_b: int
    p: float
    difference: tuple
    median_a: float
    median_b: float
    auc: float
    p_rank: float

    def row(self) -> str:
        lo, hi = self.difference
        return (f"{self.k_a:>2}/{self.n_a:<2} vs {self.k_b:>2}/{self.n_b:<2}  Fisher p {self.p:4.2f}  "
                f"difference {100 * lo:+4.0f} to {100 * hi:+4.0f} points | medians {self.median_a:.2f} vs "
                f"{self.median_b:.2f}, rank-sum p {self.p_rank:4.2f}")


def compare_arms(a: Sequence[float], b: Sequence[float], threshold: float = 0.2) -> ArmComparison:
    """:class:`ArmComparison` of the per-seed scores ``a`` and ``b`` (any n each)."""
    check_float(threshold, "threshold")
    x, y = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
    auc, p_rank = rank_sum(x, y)
    k_a, k_b = int((x > threshold).sum()), int((y > threshold).sum())
    return ArmComparison(k_a, len(x), k_b, len(y), fisher_exact(k_a, len(x), k_b, len(y)),
                         difference_interval(k_a, len(x), k_b, len(y)), float(np.median(x)),
                         float(np.median(y)), auc, p_rank)


# --------------------------------------------------------------------------- runs
def watched_run(seed: int = 0, steps: Optional[int] = None, profile: Optional[str] = None,
                progress: bool = True) -> CurriculumRun:
    """One model through the curriculum (cached), snapshotted evenly and at every phase boundary."""
    cfg = settings(profile)
    steps = int(cfg["watched_steps"] if steps is None else steps)
    cur = Curriculum(steps)
    probe = curriculum_probe()
    snaps = np.unique(np.r_[even_steps(steps, cfg["n_snapshots"]), cur.starts, cur.ends - 1, steps])
    return cached_run("curriculum-watched", {"v": _KEY_VERSION, "curriculum": cur.describe(),
                                             "probe": "curriculum_probe()"},
                      data=cur.data, schedule=cur, terms=curriculum_terms(), steps=steps, seed=int(seed),
                      probe=probe.tensor, checkpoint_steps=snaps, progress=progress)


@dataclass(frozen=True)
class Arm:
    """One arm of the sweep: ``data`` ("phased": the curriculum's colours phase by phase, "all":
    the last phase's 3,600 colours from the first step) and ``weights`` ("phased": the curriculum's
    unitarity and planarity weights phase by phase, "final": the last phase's weights — unitarity
    0.1, planarity 0 — throughout). The learning rate and its warm-ups are the same in every arm."""

    data: str
    weights: str


#: The 2 × 2 design. "curriculum" is the recipe; "all data, phased weights" is the old control
#: (data order only differs, but the planarity penalty then meets the dark colours); "phased data,
#: final weights" differs from the curriculum in the weights only; "all data, final weights" is a
#: plain run with the curriculum's own final loss — the baseline the curriculum has to beat.
ARMS: dict[str, Arm] = {
    "curriculum": Arm("phased", "phased"),
    "all data, phased weights": Arm("all", "phased"),
    "phased data, final weights": Arm("phased", "final"),
    "all data, final weights": Arm("all", "final"),
}


def arm_curriculum(steps: int, arm: Arm) -> Curriculum:
    """The :class:`Curriculum` (schedule and data source) of ``arm`` over ``steps`` updates."""
    if not isinstance(arm, Arm):
        raise TypeError(f"arm must be an Arm, got {type(arm).__name__}")
    check_choice(arm.data, "arm.data", ("phased", "all"))
    check_choice(arm.weights, "arm.weights", ("phased", "final"))
    phases = PHASES
    if arm.weights == "final":
        last = PHASES[-1]
        phases = tuple(replace(p, unit=last.unit, planar=last.planar) for p in PHASES)
    return Curriculum(int(steps), phases, flat=arm.data == "all")


def crumpling_sweep(steps: int, seeds: Sequence[int], *, curriculum: bool = True, arm: Optional[Arm] = None,
                    n_snapshots: int = 21, progress: bool = True,
                    only_if_cached: bool = False) -> Optional[CurriculumSweep]:
    """Every seed trained ``steps`` updates under ``arm`` (cached). Without ``arm``:
    ``curriculum=True`` is ``ARMS["curriculum"]``, ``False`` the old control
    ``ARMS["all data, phased weights"]``. ``only_if_cached``: None instead of training."""
    if arm is None:
        arm = ARMS["curriculum"] if curriculum else ARMS["all data, phased weights"]
    cur = arm_curriculum(int(steps), arm)
    probe = curriculum_probe()
    snaps = np.unique(np.r_[even_steps(int(steps), n_snapshots), Curriculum(int(steps)).ends - 1])
    return cached_sweep("curriculum-sweep", {"v": _KEY_VERSION, "curriculum": cur.describe(),
                                             "probe": "curriculum_probe()"},
                        list(seeds), data=cur.data, schedule=cur, terms=curriculum_terms(),
                        steps=int(steps), probe=probe.tensor, checkpoint_steps=snaps, progress=progress,
                        only_if_cached=only_if_cached)


#: The two arms the headline compares: the recipe and the plain run with its final loss.
KEY_ARMS = ("curriculum", "all data, final weights")


def arm_sweeps(steps: int, seeds: Sequence[int], *, key_seeds: Optional[Sequence[int]] = None,
               progress: bool = True) -> dict[str, CurriculumSweep]:
    """:func:`crumpling_sweep` for every arm of :data:`ARMS`, same steps (label → sweep): ``seeds``
    for every arm, or ``key_seeds`` (more of them) for the two :data:`KEY_ARMS`."""
    return {label: crumpling_sweep(steps, key_seeds if key_seeds is not None and label in KEY_ARMS else seeds,
                                   arm=arm, progress=progress) for label, arm in ARMS.items()}


def study_sweeps(profile: Optional[str] = None, *, progress: bool = True) -> dict[int, dict[str, CurriculumSweep]]:
    """The 2.1 sweeps of ``profile``: length → :func:`arm_sweeps`, with ``key_seeds`` seeds for the
    :data:`KEY_ARMS` at the shortest length and ``sweep_seeds`` otherwise."""
    cfg = settings(profile)
    seeds = range(cfg["sweep_seeds"])
    key = range(max(cfg["key_seeds"], cfg["sweep_seeds"]))
    return {length: arm_sweeps(length, seeds, key_seeds=key if i == 0 else None, progress=progress)
            for i, length in enumerate(cfg["lengths"])}


# --------------------------------------------------------------------------- reactive curriculum
@functools.lru_cache(maxsize=8)
def _phase_data(phases: tuple[Phase, ...]) -> tuple:
    """Each phase's colours, one tensor per phase shared by every :class:`ReactiveCurriculum` (a
    stack of reactive runs groups its models by the data object they see)."""
    return tuple(phase_rgb(p) for p in phases)


class ReactiveCurriculum:
    """The curriculum's phases, advanced by a metric instead of at fixed steps.

    A :class:`~course_lib.curriculum.ReactiveSchedule` over the phases' weights and index (easing
    ``"step"``: the new data and weights arrive one step after the trigger fires), fed the
    reconstruction loss; the learning rate restarts its linear warm-up (``warmup_steps``, from
    ``start_factor·lr``) at every advance, as the fixed curriculum's does at every phase. A phase
    is judged only after ``min_phase_steps``; the trigger is a :class:`PlateauTrigger` on
    ``"recon"`` with ``window`` flat updates and ``min_rel_improvement``. Pass it to
    :func:`~course_lib.curriculum.train.train_run` as both ``data`` (:meth:`data`) and
    ``schedule``, with ``react_every`` setting how often the trigger is fed.
    """

    def __init__(self, *, trigger: str = "threshold", window: int = 5, min_rel_improvement: float = 0.1,
                 threshold: float = 2e-3, patience: int = 3,
                 min_phase_steps: int = 50, warmup_steps: int = 20, lr: float = 0.01,
                 start_factor: float = 1 / 3, phases: Sequence[Phase] = PHASES, metric: str = "recon"):
        self.phases = tuple(phases)
        self.lr = check_float(lr, "lr", min=0, inclusive="neither")
        self.start_factor = check_fraction(start_factor, "start_factor", inclusive="right")
        check_int(warmup_steps, "warmup_steps", min=1)
        self.warmup_steps = int(warmup_steps)
        if trigger == "plateau":
            trig: Any = PlateauTrigger(window=window, min_rel_improvement=min_rel_improvement,
                                       metric_name=metric)
            self.params = {"trigger": trigger, "window": int(window),
                           "min_rel_improvement": float(min_rel_improvement)}
        elif trigger == "threshold":
            trig = ThresholdTrigger(metric, threshold, direction="below", patience=patience)
            self.params = {"trigger": trigger, "threshold": float(threshold), "patience": int(patience)}
        else:
            raise ValueError(f"trigger must be 'plateau' or 'threshold', got {trigger!r}")
        self.params.update({"min_phase_steps": int(min_phase_steps), "warmup_steps": int(warmup_steps),
                            "lr": self.lr, "start_factor": self.start_factor, "metric": metric})
        self.schedule = ReactiveSchedule(
            [{"phase": float(i), "unit": p.unit, "planar": p.planar} for i, p in enumerate(self.phases)],
            trig, duration=1, easing="step", min_phase_steps=min_phase_steps)
        self._data = _phase_data(self.phases)  # shared: models in one phase see one tensor

    @property
    def advanced_at(self) -> list[float]:
        return self.schedule.advanced_at

    @property
    def phase(self) -> int:
        return self.schedule.phase

    def values(self, step: float) -> dict[str, float]:
        values = self.schedule.values(step)
        began = ([0.0] + [s + 1 for s in self.advanced_at])[-1]  # the data changes one step later
        progress = min(1.0, max(0.0, (float(step) - began) / self.warmup_steps))
        values["lr"] = self.lr * (self.start_factor + (1 - self.start_factor) * progress)
        return values

    def update(self, step: float, metrics: Mapping[str, float]) -> bool:
        return self.schedule.update(step, metrics)

    def data(self, step: int, values: Mapping[str, float]):
        return self._data[int(round(values["phase"]))]

    def describe(self) -> dict:
        return dict(self.params, phases=[p.name for p in self.phases])


def reactive_runs(seeds: Sequence[int], steps: int, *, react_every: int = 10,
                  n_snapshots: int = 41, progress: bool = True, **reactive: Any) -> list[CurriculumRun]:
    """Every seed with its own :class:`ReactiveCurriculum`, trained together as one stack
    (:func:`~.train.train_runs`; each seed is its :func:`~.train.train_run` up to float summation
    order) and cached per seed, so seeds trained before are not trained again."""
    seeds = [int(s) for s in seeds]
    curricula = [ReactiveCurriculum(**reactive) for _ in seeds]
    probe = curriculum_probe()
    return cached_runs("curriculum-reactive", {"v": _KEY_VERSION, "reactive": curricula[0].describe(),
                                               "probe": "curriculum_probe()"},
                       seeds, [c.data for c in curricula], curricula, terms=curriculum_terms(),
                       steps=int(steps), probe=probe.tensor, react_every=int(react_every),
                       checkpoint_steps=even_steps(int(steps), n_snapshots), progress=progress)


def fixed_runs(seeds: Sequence[int], steps: int, *, n_snapshots: int = 41,
               progress: bool = True) -> CurriculumSweep:
    """The fixed curriculum for the same seeds, snapshotted like :func:`reactive_runs`."""
    cur = Curriculum(int(steps))
    probe = curriculum_probe()
    return cached_sweep("curriculum-fixed", {"v": _KEY_VERSION, "curriculum": cur.describe(),
                                             "probe": "curriculum_probe()"},
                        list(seeds), data=cur.data, schedule=cur, terms=curriculum_terms(),
                        steps=int(steps), probe=probe.tensor,
                        checkpoint_steps=even_steps(int(steps), n_snapshots), progress=progress)


def plain_curves(steps: int, seeds: Sequence[int], *, profile: Optional[str] = None,
                 progress: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The plain run — :data:`ARMS` ``"all data, final weights"``, notebook 2.1's baseline — for
    each of ``seeds``, trained ``steps`` updates: (snapshot steps (K,), probe MSE (K, S)).

    The runs are those of the sweep notebook 2.1 trains at that length in ``profile`` (seeds
    0…n−1, see :func:`study_sweeps`) whenever it holds every one of ``seeds`` — trained here if 2.1
    has not run yet, so the two notebooks share one sweep and 2.2's numbers do not depend on which
    ran first. (A seed trained in a sweep of another size starts from the same weights but sums some
    gradients in another order — a bias gradient's reduction depends on the stack's size — and ends
    ≈ 0.1 % away in the final error: enough to move a borderline p-value.) Other seeds or lengths
    are trained for ``seeds`` alone and cached."""
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("seeds must name at least one seed")
    steps = check_int(steps, "steps", min=1)
    cfg = settings(profile)
    plain = ARMS["all data, final weights"]
    sweep = None
    if steps in cfg["lengths"]:
        n = cfg["sweep_seeds"]
        if steps == cfg["lengths"][0]:
            n = max(n, cfg["key_seeds"])
        if set(seeds) <= set(range(n)):
            pool = list(range(n))
            sweep = crumpling_sweep(steps, pool, arm=plain, progress=progress)
    if sweep is None:
        pool = seeds
        sweep = crumpling_sweep(steps, pool, arm=plain, progress=progress)
    columns = [pool.index(s) for s in seeds]
    return np.asarray(sweep.checkpoint_steps), np.asarray(sweep.probe_mse())[:, columns]


def plain_finals(steps: int, seeds: Sequence[int], *, profile: Optional[str] = None,
                 progress: bool = True) -> np.ndarray:
    """The plain run's final probe MSE for each of ``seeds`` (shape (S,)): :func:`plain_curves`'
    last snapshot (step ``steps``)."""
    return plain_curves(steps, seeds, profile=profile, progress=progress)[1][-1].astype(float)


@dataclass
class ReactiveComparison:
    """Reactive runs against the fixed schedule, seed by seed (arrays of shape (S,)).

    ``final_fixed`` / ``final_reactive``: probe MSE after the last step; ``reach_step``: the first
    snapshot step at which the reactive run's probe MSE is at or below the *same seed's* fixed final
    MSE (NaN: never); ``last_phase_step``: the step the reactive run entered the last phase (NaN:
    never), against ``fixed_last_phase`` for the fixed schedule; ``final_plain``: the plain run's
    final probe MSE for the same seeds (:func:`plain_finals`), when it was asked for."""

    seeds: np.ndarray
    final_fixed: np.ndarray
    final_reactive: np.ndarray
    reach_step: np.ndarray
    last_phase_step: np.ndarray
    fixed_last_phase: int
    steps: int
    final_plain: Optional[np.ndarray] = None

    def reached(self) -> tuple[int, int]:
        """``(k, n)``: runs that matched the fixed schedule's final error before the end."""
        return int(np.sum(np.isfinite(self.reach_step) & (self.reach_step < self.steps))), len(self.seeds)

    def lower(self) -> tuple[int, int]:
        """``(k, n)``: runs whose final error is below the fixed schedule's (same seed)."""
        return int(np.sum(self.final_reactive < self.final_fixed)), len(self.seeds)


def compare_reactive(fixed: CurriculumSweep, runs: Sequence[CurriculumRun],
                     final_plain: Optional[Sequence[float]] = None) -> ReactiveComparison:
    """Line up :func:`reactive_runs` with :func:`fixed_runs` for the same seeds and snapshots
    (and, if given, the plain run's final probe MSE per seed, same order)."""
    if not isinstance(fixed, CurriculumSweep):
        raise TypeError(f"fixed must be a CurriculumSweep, got {type(fixed).__name__}")
    runs = list(runs)
    if len(runs) != fixed.n_seeds:
        raise ValueError(f"runs must hold one run per seed of fixed ({fixed.n_seeds}), got {len(runs)}")
    for i, r in enumerate(runs):
        if not isinstance(r, CurriculumRun):
            raise TypeError(f"runs[{i}] must be a CurriculumRun, got {type(r).__name__}")
        if r.config["seed"] != int(fixed.seeds[i]) or not np.array_equal(r.checkpoint_steps, fixed.checkpoint_steps):
            raise ValueError(f"runs[{i}] must be seed {int(fixed.seeds[i])} with the same snapshot steps")
    if final_plain is not None:
        final_plain = np.asarray(final_plain, dtype=float)
        if final_plain.shape != (fixed.n_seeds,) or not np.all(np.isfinite(final_plain)):
            raise ValueError(f"final_plain must hold one finite error per seed ({fixed.n_seeds},), "
                             f"got shape {final_plain.shape}")
    fixed_mse = fixed.probe_mse()  # (K, S)
    steps = fixed.checkpoint_steps
    final_fixed = fixed_mse[-1]
    reach, last_phase, final_r = [], [], []
    for i, r in enumerate(runs):
        mse = r.probe_mse()
        final_r.append(mse[-1])
        hits = np.flatnonzero(mse <= final_fixed[i])
        reach.append(float(steps[hits[0]]) if len(hits) else np.nan)
        n_phases = len(PHASES)
        last_phase.append(float(r.advanced_at[n_phases - 2]) + 1 if len(r.advanced_at) >= n_phases - 1 else np.nan)
    return ReactiveComparison(
        seeds=np.asarray(fixed.seeds), final_fixed=np.asarray(final_fixed), final_reactive=np.asarray(final_r),
        reach_step=np.asarray(reach), last_phase_step=np.asarray(last_phase),
        fixed_last_phase=int(Curriculum(fixed.config["steps"]).starts[-1]), steps=int(fixed.config["steps"]),
        final_plain=final_plain)


@dataclass
class ReactiveStudy:
    """The fixed schedule and both reactive rules, trained for the same seeds and ``steps``, and
    the plain run of those seeds (:func:`plain_curves`: ``plain_steps`` (K,), ``plain_mse`` (K, S))."""

    steps: int
    fixed: CurriculumSweep
    runs: dict            # rule ("threshold", "plateau") → list of CurriculumRun
    comparisons: dict     # rule → ReactiveComparison
    plain_steps: np.ndarray
    plain_mse: np.ndarray


def threshold_check(steps: int, seeds: Sequence[int], *, progress: bool = True) -> ReactiveComparison:
    """The threshold rule against the fixed schedule and the plain run for ``seeds`` (``steps``
    each), lined up by :func:`compare_reactive`: what notebook 2.2's checked prediction is scored
    on. The reactive runs are cached per seed, so seeds shared with :func:`reactive_study` are not
    trained again."""
    fixed = fixed_runs(seeds, steps, progress=progress)
    return compare_reactive(fixed, reactive_runs(seeds, steps, trigger="threshold", progress=progress),
                            plain_finals(steps, seeds, progress=progress))


def reactive_study(steps: int, seeds: Sequence[int], *, progress: bool = True) -> ReactiveStudy:
    """:func:`fixed_runs` and :func:`reactive_runs` for both triggers, lined up by
    :func:`compare_reactive` with the plain run (:func:`plain_curves`) of the same seeds."""
    fixed = fixed_runs(seeds, steps, progress=progress)
    runs = {rule: reactive_runs(seeds, steps, trigger=rule, progress=progress) for rule in ("threshold", "plateau")}
    plain_steps, plain_mse = plain_curves(steps, seeds, progress=progress)
    return ReactiveStudy(steps=int(steps), fixed=fixed, runs=runs,
                         comparisons={rule: compare_reactive(fixed, r, plain_mse[-1])
                                      for rule, r in runs.items()},
                         plain_steps=plain_steps, plain_mse=plain_mse)
