"""The LLC along a training run: trajectories, stage boundaries, and what changed at each.

* :func:`choose_epsilon` — the calibration of one run: a sweep of the SGLD step ε at the final
  checkpoint, keeping the largest ε whose chains stay finite and whose loss trace is flat after
  burn-in (:class:`EpsilonSweep`);
* :func:`llc_trajectory` — λ̂ at every (or every k-th) checkpoint of a :class:`~.course_models.CourseRun`
  with one fixed setting (ε, γ, nβ the same at every checkpoint), cached through ``course_lib.cache``;
  with ``params=`` the **weight-refined** LLC of a parameter group, with ``subset=`` the
  **data-refined** LLC on part of the training data (nβ held at the whole run's value);
* :func:`refined_llcs` — both refinements for every group / subset of a run at a few checkpoints;
* :func:`untrained_loss` — the loss of the untrained model, the "chance" level of locality.

Stage boundaries of a trajectory are in :mod:`.boundaries`; what survives a change of γ and the
data-refined LLC beside size-matched random subsets in :mod:`.sensitivity`; intervals from a few
chains (Student's t) in :mod:`course_lib.stats`.

Locality. λ̂ = nβ (E[L] − L(w*)), so E[L] − L(w*) = λ̂ / nβ, in nats for a cross-entropy, is how far
up the loss the chains wander (:attr:`LLCTrajectory.excess_loss`). Compared with the loss of the
untrained model (:func:`untrained_loss`; log p for Chapter 3's p classes) it says whether the chains
stayed in w*'s basin: an estimate whose chains climb most of the way to chance is not local.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Optional, Sequence

import numpy as np
import torch

from .. import cache
from ..runtime import cpu_threads
from ..widgets import progress as progress_bar
from .course_models import CourseRun
from ..stats import t_quantile
from ..validation import check_float, check_fraction, check_int, check_seed
from .estimator import ChainDivergedError, default_nbeta, estimate_llc

__all__ = [
    "PHASE_SETTINGS", "phase_settings", "SAMPLER_KEYS", "sampler_settings", "clamp_batch",
    "resolve_steps", "check_course_run",
    "check_row_mask", "choose_steps", "EpsilonSweep", "choose_epsilon", "LLCTrajectory", "llc_trajectory",
    "RefinedLLCs", "refined_llcs", "untrained_loss", "data_loss",
]

#: Bump when a change here changes what a cached trajectory or sweep contains.
_CACHE_VERSION = 2

#: Per-profile settings of notebook 5.3 (one place; see ``course_lib.runtime`` for the profiles).
#: For each run: which chapter run (``profile`` of Chapter 3's grokking run, ``seeds``), the
#: checkpoints (``steps`` or ``every``), the ε candidates of the calibration sweep, and the sampler
#: setting held fixed along the run (γ, chains, burn-in, draws, batch). Chapter 3's p = 53 run is
#: used in every CPU profile: it groks in ~700 steps and trains in ~17 s; the paper-size p = 113 run
#: trains for ~4 min and costs ~10× more per SGLD step, beyond the 5-minute budget (``full``, on a
#: GPU, uses it). Measured on 2 quiet cores: ≈ 200-250 chain-steps/s for the transformer (batch
#: 128), ≈ 900-1,300 for the colour bottleneck (538 colours, full batch) and ≈ 250-330 for the
#: anchored model on its 3,600 colours. The budgets (quick ≤ 60 s, standard ≤ 5 min for the whole
#: notebook) set the checkpoints and draws: dense where the behaviour changes, sparser after it.
#: The transformer's sweep starts at 3 × 10⁻⁴: smaller steps need several hundred burn-in steps to
#: level off, more than these budgets allow.
_GROK_SAMPLER = {"gamma": 100.0, "batch_size": 128}
_COLOUR_SAMPLER = {"gamma": 100.0, "batch_size": None}
PHASE_SETTINGS: dict[str, dict[str, dict[str, Any]]] = {
    "quick": {
        "grokking": {"profile": "quick", "seeds": [0],
                     "steps": [20, 40, 60, 80, 120, 240, 380, 700, 900, 1360, 1800],
                     "epsilons": [3e-4, 1e-3], "refined_at": ["memorisation_end", "cleanup_end"],
                     "refine_data": False,
                     "gamma_sweep": {"gammas": [100.0, 1000.0], "steps": [40, 80, 700, 1800]},
                     "sampler": {**_GROK_SAMPLER, "num_chains": 3, "num_burnin": 50, "num_draws": 70}},
        "colour": {"every": 5, "epsilons": [3e-4, 1e-3, 3e-3, 1e-2],
                   "sampler": {**_COLOUR_SAMPLER, "num_chains": 4, "num_burnin": 100, "num_draws": 100}},
        "anchored": {"steps": [100, 200, 300, 400, 500, 600, 800, 1000, 1200, 1400, 1700, 2000],
                     "epsilons": [1e-4, 3e-4],
                     "sampler": {**_COLOUR_SAMPLER, "num_chains": 3, "num_burnin": 40, "num_draws": 50}},
    },
    "standard": {
        "grokking": {"profile": "quick", "seeds": [0, 1],
                     "steps": [20, 40, 60, 80, 100, 120, 160, 200, 280, 380, 540, 700, 900, 1100,
                               1360, 1600, 1800],
                     "epsilons": [3e-4, 1e-3],
                     "refined_at": ["memorisation_end", "grokked", "cleanup_end"],
                     "refine_data": True, "data_at": ["memorisation_end", "cleanup_end"],
                     "control_repeats": 6, "control_chains": 2,
                     "gamma_sweep": {"gammas": [100.0, 300.0, 1000.0], "steps": [40, 80, 700, 1800]},
                     "sampler": {**_GROK_SAMPLER, "num_chains": 4, "num_burnin": 60, "num_draws": 100}},
        "colour": {"every": 4, "epsilons": [3e-4, 1e-3, 3e-3, 1e-2],
                   "sampler": {**_COLOUR_SAMPLER, "num_chains": 4, "num_burnin": 100, "num_draws": 150}},
        "anchored": {"steps": list(range(150, 2101, 150)) + [2400, 2700, 3000],
                     "epsilons": [1e-4, 3e-4, 1e-3],
                     "sampler": {**_COLOUR_SAMPLER, "num_chains": 4, "num_burnin": 100, "num_draws": 120}},
    },
    "full": {
        "grokking": {"profile": "standard", "seeds": [0, 1, 2], "every": 1,
                     "epsilons": [3e-5, 1e-4, 3e-4, 1e-3],
                     "refined_at": ["memorisation_end", "circuit_formation_end", "grokked", "cleanup_end"],
                     "refine_data": True, "data_at": ["memorisation_end", "cleanup_end"],
                     "control_repeats": 8, "control_chains": 4,
                     "gamma_sweep": {"gammas": [30.0, 100.0, 300.0, 1000.0],
                                     "steps": ["memorisation_end", "grokked", "cleanup_end"]},
                     "sampler": {**_GROK_SAMPLER, "num_chains": 8, "num_burnin": 300, "num_draws": 500}},
        "colour": {"every": 1, "epsilons": [1e-4, 3e-4, 1e-3, 3e-3, 1e-2],
                   "sampler": {**_COLOUR_SAMPLER, "num_chains": 8, "num_burnin": 300, "num_draws": 500}},
        "anchored": {"every": 1, "epsilons": [3e-5, 1e-4, 3e-4, 1e-3],
                     "sampler": {**_COLOUR_SAMPLER, "num_chains": 8, "num_burnin": 300, "num_draws": 500}},
    },
}


def phase_settings(profile: Optional[str] = None) -> dict[str, dict[str, Any]]:
    """Notebook 5.3's settings for ``profile`` (default: the active one); a deep-enough copy."""
    from ..runtime import by_profile

    return {k: {**v, "sampler": dict(v["sampler"])} for k, v in by_profile(PHASE_SETTINGS, profile).items()}


def resolve_steps(run: CourseRun, steps: Iterable[Any]) -> list[int]:
    """Checkpoint steps from a list of steps and/or phase names (a phase becomes the checkpoint
    nearest it): how the settings name where to measure."""
    out = []
    for s in steps:
        if isinstance(s, str):
            if s not in run.phases or run.phases[s] is None:
                raise ValueError(f"{s!r} is not a reached phase of {run.name} ({sorted(run.phases)})")
            out.append(run.nearest_step(run.phases[s]))
        else:
            run.checkpoint_index(s)
            out.append(int(s))
    return out


#: The SGLD settings a trajectory holds fixed (``estimate_llc`` keywords).
SAMPLER_KEYS = ("epsilon", "gamma", "nbeta", "num_chains", "num_draws", "num_burnin",
                "batch_size", "seed")


def check_course_run(run: Any) -> CourseRun:
    if not isinstance(run, CourseRun):
        raise TypeError(f"run must be a CourseRun (from course_lib.slt.course_models), "
                        f"got {type(run).__name__}")
    return run


def sampler_settings(settings: Mapping[str, Any], run: CourseRun) -> dict[str, Any]:
    """The full, explicit sampler setting (nβ fixed to the whole final data's n / log n)."""
    if not isinstance(settings, Mapping):
        raise TypeError(f"settings must be a mapping of estimate_llc keywords, got {type(settings).__name__}")
    unknown = set(settings) - set(SAMPLER_KEYS)
    if unknown:
        raise ValueError(f"unknown sampler setting(s) {sorted(unknown)}; known: {list(SAMPLER_KEYS)}")
    if "epsilon" not in settings:
        raise ValueError("settings must give epsilon (calibrate it with choose_epsilon)")
    out = {"gamma": 1.0, "nbeta": None, "num_chains": 4, "num_draws": 200, "num_burnin": 100,
           "batch_size": None, "seed": 0, **settings}
    if out["nbeta"] is None:
        out["nbeta"] = default_nbeta(len(run.data[0]))
    for key in ("epsilon", "gamma", "nbeta"):
        out[key] = check_float(out[key], key, min=0, inclusive="left" if key == "gamma" else "neither")
    for key in ("num_chains", "num_draws"):
        out[key] = check_int(out[key], key, min=1)
    out["num_burnin"] = check_int(out["num_burnin"], "num_burnin", min=0)
    out["seed"] = check_seed(out["seed"])
    if out["batch_size"] is not None:
        out["batch_size"] = check_int(out["batch_size"], "batch_size", min=1)
    return out


def clamp_batch(sampler: Mapping[str, Any], n: int) -> dict[str, Any]:
    """``sampler`` with its minibatch no larger than the ``n`` rows it samples from."""
    batch = sampler["batch_size"]
    return {**sampler, "batch_size": None if batch is None else min(batch, n)}


def _mask_digest(mask: torch.Tensor) -> str:
    import hashlib

    rows = np.flatnonzero(np.asarray(mask, dtype=bool)).astype(np.int64)
    return f"{len(mask)}:" + hashlib.sha1(rows.tobytes()).hexdigest()[:16]


def check_row_mask(mask: Any, n: int, name: str) -> torch.Tensor:
    m = torch.as_tensor(mask)
    if m.dtype != torch.bool or m.ndim != 1:
        raise TypeError(f"mask {name!r} must be a 1-D boolean tensor over the training rows, got "
                        f"dtype {m.dtype} and shape {tuple(m.shape)}")
    if len(m) != n:
        raise ValueError(f"mask {name!r} has {len(m)} rows; the final training data has {n}")
    if int(m.sum()) < 2:
        raise ValueError(f"mask {name!r} selects {int(m.sum())} rows; a data-refined LLC needs ≥ 2")
    return m


def _estimate(run: CourseRun, step: int, sampler: Mapping[str, Any], params: Optional[list[str]],
              subset: Optional[str], use_cache: bool = True, *, mask: Optional[torch.Tensor] = None,
              final_data: bool = False):
    """One estimate at ``step``, through ``course_lib.cache`` ("slt-llc-estimate"): a sweep's
    estimate at the final checkpoint with the chosen ε is the same chains as a trajectory's last
    point, and is sampled once. ``mask``: the rows (of the final data) of a subset that is not one
    of ``run.subsets`` (``subset`` is then only its label); ``final_data``: measure the checkpoint on
    the final training data instead of that step's."""
    def compute():
        if mask is not None:
            data = tuple(t[mask] for t in run.data_at(run.final_step))
        elif subset is not None:
            data = run.subset(subset, step)
        else:
            data = run.data_at(run.final_step if final_data else step)
        return estimate_llc(run.model_at(step), run.loss_fn, data, params=params,
                            **clamp_batch(sampler, len(data[0])))

    if not use_cache:
        return compute()
    key = {"kind": "estimate", "run": run.key, "step": int(step), "sampler": dict(sampler),
           "params": params, "subset": subset, "version": _CACHE_VERSION}
    if mask is not None:
        key["rows"] = _mask_digest(mask)
    if final_data and step != run.final_step:
        key["final_data"] = True
    return cache.cached("slt-llc-estimate", key, compute)


# --------------------------------------------------------------------------- calibration
@dataclass
class EpsilonSweep:
    """The ε sweep of one run at one checkpoint (see :func:`choose_epsilon`).

    ``mean[j]``, ``std[j]`` (over chains) and ``drift[j]`` (nβ × (mean loss of the draws' second half
    − first half), averaged over chains) for ``epsilons[j]``; ``stable[j]``: finite, positive λ̂;
    ``flat[j]``: |drift| ≤ ``flat_tol`` × λ̂ + 2 × its standard error over chains; ``plateau[j]``: λ̂ within ``plateau_tol`` of the nearest
    smaller ε that is stable and flat (true when there is none to compare with). ``traces[j]``: (chains, burn-in + draws) loss traces, ``None`` where the chains diverged.
    ``chosen``: the largest ε that is stable, flat and on the plateau (``None``: none).
    """

    run: str
    step: int
    epsilons: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    drift: np.ndarray
    stable: np.ndarray
    flat: np.ndarray
    plateau: np.ndarray
    traces: list[Optional[np.ndarray]]
    num_burnin: int
    init_loss: float
    chosen: Optional[float]
    settings: dict[str, Any] = field(default_factory=dict)

    def table(self) -> str:
        """The sweep as printable rows."""
        rows = [f"{'ε':>9}  {'λ̂':>9}  {'± std':>7}  {'drift':>8}  verdict"]
        for j, e in enumerate(self.epsilons):
            if not self.stable[j]:
                verdict = "diverged" if self.traces[j] is None else "unstable (λ̂ ≤ 0)"
            elif not self.flat[j]:
                verdict = "still drifting"
            else:
                verdict = "flat" if self.plateau[j] else "flat, but off the plateau (inflated)"
            mark = "  ← chosen" if self.chosen is not None and e == self.chosen else ""
            rows.append(f"{e:9.2g}  {self.mean[j]:9.2f}  {self.std[j]:7.2f}  {self.drift[j]:8.2f}  {verdict}{mark}")
        return "\n".join(rows)


def choose_epsilon(run: CourseRun, epsilons: Sequence[float], *, step: Optional[int] = None,
                   flat_tol: float = 0.1, plateau_tol: float = 0.25, use_cache: bool = True,
                   progress: bool = True,
                   **settings: Any) -> EpsilonSweep:
    """Sweep ε at checkpoint ``step`` (default: the last) and pick the largest usable one.

    Usable: every chain finite, λ̂ > 0, the draws' loss trace flat after burn-in — nβ × (mean of
    the draws' second half − first half) is within ``flat_tol`` × λ̂ plus twice its standard error
    over chains (a drift the chains cannot tell from noise is no evidence of drift) —
    and on the plateau: λ̂ within ``plateau_tol`` (relative) of the λ̂ of the nearest smaller ε that
    is itself stable and flat (too large an ε inflates λ̂ while its trace can still look flat).
    ``settings``: the other :data:`SAMPLER_KEYS` (γ, nβ, chains, draws, burn-in, batch size, seed).
    Cached through ``course_lib.cache`` ("slt-epsilon-sweep").
    """
    run = check_course_run(run)
    eps = [float(e) for e in epsilons] if not isinstance(epsilons, (str, bytes)) else []
    if not eps or any(not (math.isfinite(e) and e > 0) for e in eps):
        raise ValueError(f"epsilons must be a non-empty sequence of positive numbers, got {epsilons!r}")
    eps = sorted(set(eps))
    for name, tol in (("flat_tol", flat_tol), ("plateau_tol", plateau_tol)):
        check_fraction(tol, name, inclusive="neither")
    step = run.final_step if step is None else step
    run.checkpoint_index(step)
    sampler = sampler_settings({**settings, "epsilon": eps[0]}, run)
    key = {"kind": "epsilon-sweep", "run": run.key, "step": int(step), "epsilons": eps,
           "flat_tol": float(flat_tol), "plateau_tol": float(plateau_tol), "sampler": {k: v for k, v in sampler.items() if k != "epsilon"},
           "version": _CACHE_VERSION}

    def compute() -> EpsilonSweep:
        mean, std, drift, drift_se, stable, traces = [], [], [], [], [], []
        init = float("nan")
        with cpu_threads():
            for e in progress_bar(eps, desc=f"ε sweep ({run.name})", disable=not progress):
                try:
                    res = _estimate(run, step, {**sampler, "epsilon": e}, None, None, use_cache)
                except ChainDivergedError:
                    mean.append(np.nan), std.append(np.nan), drift.append(np.nan), drift_se.append(np.nan)
                    stable.append(False), traces.append(None)
                    continue
                init = res.init_loss
                half = res.num_draws // 2
                per = res.nbeta * (res.loss_trace[:, half:].mean(1) - res.loss_trace[:, :half].mean(1))
                d = float(per.mean())
                noise = float(per.std(ddof=1) / math.sqrt(len(per))) if len(per) > 1 else 0.0
                mean.append(res.mean), std.append(res.std), drift.append(d), drift_se.append(noise)
                stable.append(bool(np.isfinite(res.mean) and res.mean > 0))
                traces.append(np.concatenate([res.burnin_trace, res.loss_trace], axis=1).astype(np.float32))
        mean_a, drift_a = np.asarray(mean), np.asarray(drift)
        stable_a = np.asarray(stable)
        allowed = flat_tol * np.abs(np.nan_to_num(mean_a)) + 2 * np.nan_to_num(np.asarray(drift_se))
        flat = stable_a & (np.abs(np.nan_to_num(drift_a, nan=np.inf)) <= allowed)
        plateau = np.ones(len(eps), dtype=bool)
        for j in range(1, len(eps)):
            usable = [i for i in range(j) if stable_a[i] and flat[i]]
            if usable:                       # the nearest smaller ε that mixed
                ref = mean_a[usable[-1]]
                plateau[j] = bool(abs(mean_a[j] - ref) <= plateau_tol * abs(ref))
        ok = np.flatnonzero(stable_a & flat & plateau)
        return EpsilonSweep(run=run.name, step=int(step), epsilons=np.asarray(eps), mean=mean_a,
                            std=np.asarray(std), drift=drift_a, stable=stable_a, flat=flat,
                            plateau=plateau,
                            traces=traces, num_burnin=sampler["num_burnin"], init_loss=init,
                            chosen=float(eps[ok[-1]]) if len(ok) else None,
                            settings={k: v for k, v in sampler.items() if k != "epsilon"})

    return cache.cached("slt-epsilon-sweep", key, compute) if use_cache else compute()


# --------------------------------------------------------------------------- trajectories
@dataclass
class LLCTrajectory:
    """λ̂ at checkpoints of one run with one setting (arrays over ``steps``).

    ``mean``/``std`` (K,) over chains; ``per_chain`` (K, C); ``init_loss`` (K,) L_n(w*) there;
    ``params`` the sampled parameter names (``None``: all), ``subset`` the data subset
    (``None``: all training data); ``settings`` the fixed sampler setting; ``seconds`` of sampling;
    ``final_data``: every checkpoint measured on the final training data (not its own step's).
    """

    run: str
    steps: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    per_chain: np.ndarray
    init_loss: np.ndarray
    settings: dict[str, Any]
    params: Optional[list[str]] = None
    subset: Optional[str] = None
    seconds: float = 0.0
    final_data: bool = False

    @property
    def num_chains(self) -> int:
        return int(self.per_chain.shape[1])

    @property
    def sem(self) -> np.ndarray:
        """Standard error of each mean over chains."""
        return self.std / math.sqrt(self.num_chains)

    @property
    def excess_loss(self) -> np.ndarray:
        """E[L] − L(w*) = λ̂ / nβ at each checkpoint (nats for a cross-entropy): how far up the
        loss the chains wander."""
        return self.mean / float(self.settings["nbeta"])

    def index(self, step: int) -> int:
        hits = np.flatnonzero(self.steps == step)
        if not len(hits):
            raise ValueError(f"step {step} is not in this trajectory (steps {self.steps.tolist()})")
        return int(hits[0])

    def at(self, step: int) -> float:
        return float(self.mean[self.index(step)])

    def interval(self, step: int, level: float = 0.95, *, z: Optional[float] = None) -> tuple[float, float]:
        """A ``level`` interval for λ̂ at ``step`` from the chains: Student's t with chains − 1
        degrees of freedom (:func:`t_interval`); ``z=`` gives mean ± z × standard error instead."""
        i = self.index(step)
        if z is not None:
            return float(self.mean[i] - z * self.sem[i]), float(self.mean[i] + z * self.sem[i])
        if self.num_chains < 2:
            raise ValueError("an interval needs at least 2 chains")
        half = t_quantile(0.5 + level / 2, self.num_chains - 1) * self.sem[i]
        return float(self.mean[i] - half), float(self.mean[i] + half)

    def half_width(self, level: float = 0.95) -> np.ndarray:
        """(K,) the half-widths of the t intervals at every checkpoint."""
        return t_quantile(0.5 + level / 2, self.num_chains - 1) * self.sem


def choose_steps(run: CourseRun, steps: Optional[Iterable[int]] = None, every: int = 1,
                 skip_first: bool = False) -> list[int]:
    """The checkpoint steps to measure, sorted: ``steps`` (each must be a checkpoint), else every
    ``every``-th checkpoint plus the last (without the first when ``skip_first``)."""
    every = check_int(every, "every", min=1)
    if steps is None:
        chosen = list(run.checkpoint_steps[::every])
        if run.final_step not in chosen:
            chosen.append(run.final_step)
        if skip_first and len(chosen) > 1 and chosen[0] == run.checkpoint_steps[0]:
            chosen = chosen[1:]
    else:
        if isinstance(steps, (str, bytes)):
            raise TypeError("steps must be a sequence of checkpoint steps")
        chosen = list(steps)
        if not chosen:
            raise ValueError("steps must not be empty")
    for s in chosen:
        run.checkpoint_index(s)
    chosen = sorted(set(int(s) for s in chosen))
    return chosen


def llc_trajectory(run: CourseRun, settings: Mapping[str, Any], *, steps: Optional[Iterable[int]] = None,
                   every: int = 1, skip_first: bool = True, params: Optional[Sequence[str]] = None,
                   group: Optional[str] = None, subset: Optional[str] = None, use_cache: bool = True,
                   progress: bool = True, mask: Optional[torch.Tensor] = None,
                   final_data: bool = False) -> LLCTrajectory:
    """λ̂ at every ``every``-th checkpoint of ``run`` (or at ``steps``), one fixed sampler setting.

    ``settings``: :data:`SAMPLER_KEYS` (``epsilon`` required; ``nbeta`` default: n / log n of the
    final training data, then held fixed — also for a curriculum whose data grow, and for subsets).
    ``skip_first``: leave out the untrained checkpoint (step 0 is not near a minimum of the loss,
    so SGLD slides downhill and λ̂ there is not a learning coefficient). ``params`` or
    ``group`` (a name in ``run.groups``): the weight-refined LLC of those parameters (the rest held
    at w*); ``subset`` (a name in ``run.subsets``): the data-refined LLC on those training rows;
    ``mask`` (a boolean tensor over the final training data's rows, with ``subset`` as its label):
    the same on any other rows. ``final_data``: measure every checkpoint on the **final** training
    data (for a curriculum: the model's change without the data's). Cached through ``course_lib.cache`` ("slt-llc-trajectory").
    """
    run = check_course_run(run)
    sampler = sampler_settings(settings, run)
    if group is not None:
        if params is not None:
            raise ValueError("give params or group, not both")
        if group not in run.groups:
            raise ValueError(f"group must be one of {sorted(run.groups)}, got {group!r}")
        params = run.groups[group]
    if params is not None:
        if isinstance(params, str):
            params = [params]
        params = list(params)
    if not isinstance(final_data, bool):
        raise TypeError(f"final_data must be a bool, got {type(final_data).__name__}")
    if mask is not None:
        if not isinstance(subset, str) or not subset:
            raise ValueError("a mask needs a label: pass subset='name' with it")
        mask = check_row_mask(mask, len(run.data[0]), subset)
        if final_data:
            raise ValueError("a mask is always on the final data; final_data=True adds nothing")
    elif subset is not None and subset not in run.subsets:
        raise ValueError(f"subset must be one of {sorted(run.subsets)}, got {subset!r}")
    if final_data and subset is not None:
        raise ValueError("run.subsets are defined on the final data already; drop final_data")
    chosen = choose_steps(run, steps, every, skip_first)
    key = {"kind": "trajectory", "run": run.key, "steps": chosen, "sampler": sampler,
           "params": params, "subset": subset, "version": _CACHE_VERSION}
    if mask is not None:
        key["rows"] = _mask_digest(mask)
    if final_data:
        key["final_data"] = True

    def compute() -> LLCTrajectory:
        mean, std, per, init = [], [], [], []
        start = time.perf_counter()
        label = run.name + ("" if group is None else f" · {group}") + ("" if subset is None else f" · {subset}")
        with cpu_threads():
            for s in progress_bar(chosen, desc=f"LLC along {label}", disable=not progress):
                res = _estimate(run, s, sampler, params, subset, use_cache, mask=mask,
                                final_data=final_data)
                mean.append(res.mean), std.append(res.std), per.append(res.per_chain)
                init.append(res.init_loss)
        return LLCTrajectory(run=run.name, steps=np.asarray(chosen), mean=np.asarray(mean),
                             std=np.asarray(std), per_chain=np.stack(per), init_loss=np.asarray(init),
                             settings=dict(sampler), params=params, subset=subset,
                             seconds=time.perf_counter() - start, final_data=final_data)

    return cache.cached("slt-llc-trajectory", key, compute) if use_cache else compute()


@dataclass
class RefinedLLCs:
    """Weight- and data-refined LLCs of one run at the same checkpoints.

    ``weight[name]`` / ``data[name]``: an :class:`LLCTrajectory` per parameter group / data subset.
    """

    run: str
    steps: np.ndarray
    weight: dict[str, LLCTrajectory]
    data: dict[str, LLCTrajectory]

    def change(self, kind: str, start: int, end: int) -> dict[str, float]:
        """λ̂(end) − λ̂(start) for every group (``kind="weight"``) or subset (``"data"``)."""
        if kind not in ("weight", "data"):
            raise ValueError(f"kind must be 'weight' or 'data', got {kind!r}")
        table = self.weight if kind == "weight" else self.data
        return {name: t.at(end) - t.at(start) for name, t in table.items()}


def refined_llcs(run: CourseRun, settings: Mapping[str, Any], steps: Iterable[int], *,
                 groups: Optional[Sequence[str]] = None, subsets: Optional[Sequence[str]] = None,
                 use_cache: bool = True, progress: bool = True) -> RefinedLLCs:
    """The weight-refined LLC of each parameter group and the data-refined LLC of each data subset
    at ``steps`` (default: every group in ``run.groups`` and subset in ``run.subsets``; pass ``[]``
    to skip a kind), each with the same fixed setting as :func:`llc_trajectory`."""
    run = check_course_run(run)
    groups = list(run.groups) if groups is None else list(groups)
    subsets = list(run.subsets) if subsets is None else list(subsets)
    steps = list(steps)
    weight = {g: llc_trajectory(run, settings, steps=steps, group=g, use_cache=use_cache,
                                progress=progress) for g in groups}
    data = {s: llc_trajectory(run, settings, steps=steps, subset=s, use_cache=use_cache,
                              progress=progress) for s in subsets}
    return RefinedLLCs(run=run.name, steps=np.asarray(sorted(set(int(s) for s in steps))),
                       weight=weight, data=data)


def untrained_loss(run: CourseRun, step: Optional[int] = None) -> float:
    """The loss of the run's first (untrained) checkpoint on the training data of ``step``
    (default: the last): the "chance" level against which E[L] − L(w*) says whether chains stayed
    local (for Chapter 3's p-way cross-entropy ≈ log p)."""
    run = check_course_run(run)
    step = run.final_step if step is None else step
    run.checkpoint_index(step)
    return data_loss(run, run.model_at(int(run.checkpoint_steps[0])), run.data_at(step))


def data_loss(run: CourseRun, model: torch.nn.Module, data: tuple[torch.Tensor, ...]) -> float:
    """The mean of ``run.loss_fn`` over all of ``data`` (in chunks; no gradients)."""
    with torch.no_grad():
        n, total = len(data[0]), 0.0
        for start in range(0, n, 4096):
            part = tuple(t[start:start + 4096] for t in data)
            total += float(run.loss_fn(model, part)) * len(part[0])
    return total / n
