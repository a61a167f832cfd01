"""The trainer of Chapter 2's colour autoencoders: scheduled losses, changing data, snapshots,
``model_at(step)``.

Every colour-autoencoder experiment of Chapter 2 (notebooks 2.1–2.5; the mixing transformer of 2.6
has its own trainer in :mod:`.mixing`) is the same loop with different ingredients: a
:class:`~course_lib.color.ColorAutoencoder` (any ``latent_dim``, normalised or not, ReLU or GELU)
trained with Adam on colours whose *content* may change with the step (curriculum phases, a
data-fraction parameter), on the loss

    loss(step) = MSE(recon, x) + Σ_name  weight_name(step) · term_name(z, x, recon, info)

where the weights and the learning rate come from a schedule. :func:`train_run` trains one model;
:func:`train_sweep` trains many seeds at once (stacked weights, see below); :func:`cached_run` and
:func:`cached_sweep` go through :mod:`course_lib.cache`.

Ingredients
-----------
``data``
    RGB colours in [0, 1]: a tensor/array ``(N, 3)`` used at every step, or a callable
    ``data(step, values) -> (N, 3)`` called before every step with the schedule's ``values`` at
    that step (so a ``"phase"`` or ``"data_fraction"`` parameter of the schedule can choose the
    data). Return the *same* tensor object while the data does not change: it is validated only
    when it changes. See :mod:`course_lib.curriculum.data` for the curriculum's phases.
``terms``
    ``{name: term}``, each ``term(z, x, recon, info) -> scalar tensor`` for **one** model:
    ``z`` (N, d) latents, ``x`` (N, 3) the step's batch, ``recon`` (N, 3), ``info`` a
    :class:`StepInfo` (step, the schedule values, the phase). Its weight is the schedule
    parameter with the same name. A term with an attribute ``batched = True`` also accepts
    ``z`` (S, N, d) and ``recon`` (S, N, 3) and returns (S,): :func:`train_sweep` then calls it once
    instead of once per seed (:func:`unitarity_term` and :func:`planarity_term` are batched).
    Names ``"lr"``, ``"recon"``, ``"loss"`` and ``"phase"`` are reserved.
``schedule``
    Where ``lr`` and each term's weight come from, asked ``schedule.values(step)`` every step:
    a :class:`~course_lib.curriculum.Dopesheet`, a
    :class:`~course_lib.curriculum.ReactiveSchedule` (fed metrics every ``react_every`` steps:
    ``"loss"``, ``"recon"``, each term's raw value, and whatever ``metrics_fn(model, step)``
    returns), any object with ``values(step) -> dict``, or a plain dict of constants. If it has no
    ``"lr"`` parameter the ``lr`` argument is used. Every term must have a weight.
``snapshot_steps``
    Steps (0 = before training, ``steps`` = after the last update) at which the run records the
    probe set's latents and reconstructions and the weights (for :meth:`CurriculumRun.model_at`).

What comes back (:class:`CurriculumRun`) is numpy arrays and CPU tensors only, so it pickles into
the cache: ``losses[name][t]`` (``"loss"``, ``"recon"`` and each raw term, at update ``t``),
``values[name][t]`` (each schedule value actually used at update ``t``), ``snapshot_steps``,
``probe_latents`` (K, P, d), ``probe_recon`` (K, P, 3), ``states`` (one state_dict per snapshot),
``advanced_at`` (a reactive schedule's phase advances) and ``model_at(step)``.

Many seeds at once
------------------
:func:`train_sweep` stacks every seed's weights along a leading axis and runs one batched forward
(``baddbmm``), one backward of the summed per-seed losses and one Adam over the stacked tensors —
Adam is elementwise, so that is exactly S independent Adams, and seed ``s`` gets the initial
weights ``train_run(seed=s)`` would (a test checks the two agree). It needs one schedule and one
data stream shared by every seed (a reactive schedule reacts to *one* model: use
:func:`train_run` per seed). Measured here (2 busy CPU cores, one thread, 16 seeds, 3-D GELU
bottleneck, 360 colours, unitarity + planarity): one step for all 16 seeds takes ≈ 1.25 ms with
the stacked matmuls, ≈ 1.6 ms with ``torch.vmap`` over ``torch.func.functional_call`` (and vmap
cannot run terms that validate their inputs with Python ``if`` statements), and ≈ 9 ms as 16 separate
:func:`train_run` steps (≈ 0.55 ms each, mostly Python overhead).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional, Sequence, Union

import numpy as np
import torch

from .. import cache
from ..color.model import ACTIVATIONS, ColorAutoencoder
from ..runtime import check_seeds, cpu_threads, seed_everything
from ..validation import check_int
from ..widgets import progress as progress_bar

__all__ = [
    "StepInfo",
    "CurriculumRun",
    "CurriculumSweep",
    "train_run",
    "train_sweep",
    "cached_run",
    "cached_sweep",
    "unitarity_term",
    "planarity_term",
    "even_steps",
]

RESERVED = ("lr", "recon", "loss", "phase")

Term = Callable[..., torch.Tensor]
DataSource = Union[torch.Tensor, np.ndarray, Callable[[int, dict], Any]]


@dataclass
class StepInfo:
    """What a loss term may want to know about the current step.

    ``values``: every schedule value at this step; ``phase``: the schedule's phase (a reactive
    schedule's ``phase``, else ``values.get("phase")``, else None); ``seed_index``: which seed of
    a sweep the term is computing for (None in :func:`train_run` and for batched terms)."""

    step: int
    values: dict[str, float]
    phase: Optional[int] = None
    seed_index: Optional[int] = None


# --------------------------------------------------------------------------- built-in terms
def unitarity_term(z: torch.Tensor, x: torch.Tensor = None, recon: torch.Tensor = None,
                   info: StepInfo = None) -> torch.Tensor:
    """:func:`~course_lib.curriculum.unitarity` as a term: mean (‖z‖ − 1)² over the batch.
    Batched: z (..., N, d) → shape (...)."""
    return ((torch.linalg.vector_norm(z, dim=-1) - 1.0) ** 2).mean(dim=-1)


unitarity_term.batched = True  # type: ignore[attr-defined]


def planarity_term(keep: int = 2) -> Term:
    """:func:`~course_lib.curriculum.planarity` as a term: mean energy in dims ``keep`` and up.
    Batched: z (..., N, d) → shape (...)."""
    keep = check_int(keep, "keep", min=0)

    def planar(z: torch.Tensor, x: torch.Tensor = None, recon: torch.Tensor = None,
               info: StepInfo = None) -> torch.Tensor:
        return (z[..., keep:] ** 2).sum(dim=-1).mean(dim=-1)

    planar.batched = True  # type: ignore[attr-defined]
    planar.keep = keep  # type: ignore[attr-defined]
    return planar


def even_steps(steps: int, n: int) -> np.ndarray:
    """``n`` evenly spaced steps from 0 to ``steps`` (both included, no repeats)."""
    check_int(steps, "steps", min=1)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n must be an int ≥ 2 (before and after training), got {n!r}")
    return np.unique(np.rint(np.linspace(0, steps, n)).astype(np.int64))


# --------------------------------------------------------------------------- run records
def _rebuild(config: Mapping[str, Any], state: Mapping[str, torch.Tensor]) -> ColorAutoencoder:
    model = ColorAutoencoder(latent_dim=config["latent_dim"], hidden=config["hidden"],
                             normalize=config["normalize"], activation=config["activation"])
    model.load_state_dict({k: v.clone() for k, v in state.items()})
    return model.eval()


def _snapshot_index(snapshot_steps: np.ndarray, step: Any) -> int:
    if isinstance(step, bool) or not isinstance(step, (int, np.integer)):
        raise TypeError(f"step must be an int, got {type(step).__name__}")
    hits = np.flatnonzero(snapshot_steps == int(step))
    if not len(hits):
        raise ValueError(f"step must be one of the snapshot steps {snapshot_steps.tolist()[:8]}"
                         f"{' …' if len(snapshot_steps) > 8 else ''} (0 … {int(snapshot_steps[-1])}), "
                         f"got {step}")
    return int(hits[0])


@dataclass
class CurriculumRun:
    """One trained model and its history (numpy arrays and CPU tensors: cache-friendly).

    ``losses[name][t]``: ``"loss"`` (the total), ``"recon"`` (MSE) and each raw, unweighted term
    at update ``t`` (t = 0 … steps−1, measured in update t's forward pass). ``values[name][t]``:
    each schedule value used for update ``t`` (``"lr"`` included). ``n_data[t]``: how many colours
    the data held at update ``t``. At each of ``snapshot_steps[k]`` (after that many updates):
    ``probe_latents[k]`` (P, d), ``probe_recon[k]`` (P, 3) and ``states[k]`` (a state_dict).
    ``advanced_at``: the steps at which a reactive schedule advanced (empty otherwise).
    """

    config: dict[str, Any]
    losses: dict[str, np.ndarray]
    values: dict[str, np.ndarray]
    n_data: np.ndarray
    snapshot_steps: np.ndarray
    probe_rgb: np.ndarray
    probe_latents: np.ndarray
    probe_recon: np.ndarray
    states: list[dict[str, torch.Tensor]]
    advanced_at: list[float] = field(default_factory=list)
    metrics: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def steps(self) -> int:
        return int(self.config["steps"])

    def model_at(self, step: int) -> ColorAutoencoder:
        """The model after ``step`` updates (a snapshot step), rebuilt on the CPU in eval mode."""
        return _rebuild(self.config, self.states[_snapshot_index(self.snapshot_steps, step)])

    def model(self) -> ColorAutoencoder:
        """The final model."""
        return _rebuild(self.config, self.states[-1])

    def latents_at(self, step: int) -> np.ndarray:
        """Probe latents (P, d) after ``step`` updates (a snapshot step)."""
        return self.probe_latents[_snapshot_index(self.snapshot_steps, step)]

    def probe_mse(self) -> np.ndarray:
        """Reconstruction MSE of the probe set at every snapshot, shape (K,)."""
        return np.mean((self.probe_recon - self.probe_rgb[None]) ** 2, axis=(1, 2))


@dataclass
class CurriculumSweep:
    """Many seeds trained at once (see :func:`train_sweep`); arrays carry a seed axis.

    ``losses[name]`` (S, steps); ``values[name]`` (steps,) (shared by every seed);
    ``probe_latents`` (K, S, P, d) and ``probe_recon`` (K, S, P, 3) at ``snapshot_steps``;
    ``states[k][param]`` stacked (S, …).
    """

    config: dict[str, Any]
    seeds: np.ndarray
    losses: dict[str, np.ndarray]
    values: dict[str, np.ndarray]
    n_data: np.ndarray
    snapshot_steps: np.ndarray
    probe_rgb: np.ndarray
    probe_latents: np.ndarray
    probe_recon: np.ndarray
    states: list[dict[str, torch.Tensor]]

    @property
    def n_seeds(self) -> int:
        return len(self.seeds)

    def _seed_index(self, seed: Any) -> int:
        hits = np.flatnonzero(self.seeds == seed) if isinstance(seed, (int, np.integer)) \
            and not isinstance(seed, bool) else []
        if not len(hits):
            raise ValueError(f"seed must be one of this sweep's seeds {self.seeds.tolist()}, got {seed!r}")
        return int(hits[0])

    def model_at(self, step: int, seed: int) -> ColorAutoencoder:
        """Seed ``seed``'s model after ``step`` updates (a snapshot step), CPU, eval mode."""
        k = _snapshot_index(self.snapshot_steps, step)
        s = self._seed_index(seed)
        return _rebuild(self.config, {n: v[s] for n, v in self.states[k].items()})

    def latents_at(self, step: int) -> np.ndarray:
        """Every seed's probe latents (S, P, d) after ``step`` updates (a snapshot step)."""
        return self.probe_latents[_snapshot_index(self.snapshot_steps, step)]

    def probe_mse(self) -> np.ndarray:
        """Probe reconstruction MSE, shape (K, S)."""
        return np.mean((self.probe_recon - self.probe_rgb[None, None]) ** 2, axis=(2, 3))


# --------------------------------------------------------------------------- validation
def _check_model_args(latent_dim: Any, hidden: Any, normalize: Any, activation: Any) -> None:
    check_int(latent_dim, "latent_dim", min=1)
    check_int(hidden, "hidden", min=1)
    if latent_dim < 2:
        raise ValueError(f"latent_dim must be ≥ 2 to hold a wheel, got {latent_dim}")
    if not isinstance(normalize, (bool, np.bool_)):
        raise TypeError(f"normalize must be True or False, got {normalize!r}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")


def _as_rgb(value: Any, name: str) -> torch.Tensor:
    if isinstance(value, np.ndarray):
        value = torch.as_tensor(value, dtype=torch.float32)
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a tensor or array of shape (N, 3), got {type(value).__name__}")
    if value.ndim != 2 or value.shape[1] != 3:
        raise ValueError(f"{name} must have shape (N, 3), got {tuple(value.shape)}")
    if value.shape[0] == 0:
        raise ValueError(f"{name} is empty: it must hold at least one colour")
    if not value.is_floating_point():
        raise TypeError(f"{name} must be floating point RGB in [0, 1], got {value.dtype}")
    if not bool(torch.isfinite(value).all()):
        raise ValueError(f"{name} contains NaN or inf")
    if bool(((value < -1e-6) | (value > 1 + 1e-6)).any()):
        raise ValueError(f"{name} must be RGB in [0, 1]")
    return value.detach().float()


def _check_terms(terms: Any) -> dict[str, Term]:
    if terms is None:
        return {}
    if not isinstance(terms, Mapping):
        raise TypeError("terms must be a dict name → term(z, x, recon, info)")
    out = {}
    for name, term in terms.items():
        if not isinstance(name, str) or not name:
            raise TypeError(f"terms: names must be non-empty strings, got {name!r}")
        if name in RESERVED:
            raise ValueError(f"terms: {name!r} is reserved ({', '.join(RESERVED)}); rename the term")
        if not callable(term):
            raise TypeError(f"terms[{name!r}] must be callable term(z, x, recon, info)")
        out[name] = term
    return out


class _Constant:
    def __init__(self, values: Mapping[str, Any]):
        self._values = {}
        for k, v in values.items():
            if not isinstance(k, str):
                raise TypeError(f"schedule: parameter names must be strings, got {k!r}")
            if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) \
                    or not math.isfinite(float(v)):
                raise ValueError(f"schedule[{k!r}] must be a finite number, got {v!r}")
            self._values[k] = float(v)

    def values(self, step: float) -> dict[str, float]:
        return dict(self._values)


def _check_schedule(schedule: Any) -> Any:
    if schedule is None:
        return _Constant({})
    if isinstance(schedule, Mapping):
        return _Constant(schedule)
    if not callable(getattr(schedule, "values", None)):
        raise TypeError("schedule must be a Dopesheet, a ReactiveSchedule, an object with "
                        f"values(step) -> dict, or a dict of constants; got {type(schedule).__name__}")
    return schedule


def _schedule_values(schedule: Any, step: int, lr: float, terms: Mapping[str, Term]) -> dict[str, float]:
    raw = schedule.values(step)
    values = {k: float(v) for k, v in raw.items()}
    values.setdefault("lr", lr)
    for k, v in values.items():
        if not math.isfinite(v):
            raise ValueError(f"schedule value {k!r} at step {step} is {v}")
    if values["lr"] < 0:
        raise ValueError(f"schedule: lr must be ≥ 0, got {values['lr']} at step {step}")
    missing = [name for name in terms if name not in values]
    if missing:
        raise ValueError(f"schedule gives no weight for terms {missing} at step {step}: add a parameter "
                         f"with the term's name (it has {sorted(values)})")
    return values


def _phase_of(schedule: Any, values: Mapping[str, float]) -> Optional[int]:
    phase = getattr(schedule, "phase", None)
    if isinstance(phase, (int, np.integer)) and not isinstance(phase, bool):
        return int(phase)
    if "phase" in values:
        return int(round(values["phase"]))
    return None


def _snapshots(snapshot_steps: Any, steps: int) -> np.ndarray:
    if snapshot_steps is None:
        return even_steps(steps, min(steps + 1, 41))
    if isinstance(snapshot_steps, (int, np.integer)) and not isinstance(snapshot_steps, bool):
        return even_steps(steps, int(snapshot_steps))
    if isinstance(snapshot_steps, (str, bytes)) or not hasattr(snapshot_steps, "__iter__"):
        raise TypeError("snapshot_steps must be a count or a sequence of steps")
    arr = np.asarray(list(snapshot_steps))
    if arr.ndim != 1 or len(arr) == 0 or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError("snapshot_steps must be a non-empty sequence of ints")
    if arr.min() < 0 or arr.max() > steps:
        raise ValueError(f"snapshot_steps must lie in [0, steps={steps}], got {arr.min()} … {arr.max()}")
    return np.unique(arr.astype(np.int64))


class _Data:
    """Resolves the data source at each step, validating only when it changes."""

    def __init__(self, data: Any):
        if data is None:
            raise ValueError("data is required: RGB (N, 3) or a callable data(step, values)")
        self.fn = data if callable(data) and not isinstance(data, (torch.Tensor, np.ndarray)) else None
        self.fixed = None if self.fn else _as_rgb(data, "data")
        self._last_obj: Any = None
        self._last: Optional[torch.Tensor] = None

    def __call__(self, step: int, values: Mapping[str, float]) -> torch.Tensor:
        if self.fixed is not None:
            return self.fixed
        obj = self.fn(step, dict(values))
        if obj is not self._last_obj:
            self._last = _as_rgb(obj, f"data(step={step})")
            self._last_obj = obj
        return self._last  # type: ignore[return-value]


def _batch_indices(n: int, batch_size: Optional[int], gen: torch.Generator,
                   state: dict) -> Optional[torch.Tensor]:
    """Minibatch indices: passes through a fresh permutation (a new one when ``n`` changes)."""
    if batch_size is None or batch_size >= n:
        return None
    if state.get("n") != n or state["pos"] + batch_size > n:
        state.update(n=n, perm=torch.randperm(n, generator=gen), pos=0)
    idx = state["perm"][state["pos"]:state["pos"] + batch_size]
    state["pos"] += batch_size
    return idx


def _common(steps: Any, lr: Any, batch_size: Any, react_every: Any) -> None:
    check_int(steps, "steps", min=1)
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not 0 < lr < float("inf"):
        raise ValueError(f"lr must be a positive number, got {lr!r}")
    if batch_size is not None:
        check_int(batch_size, "batch_size", min=1)
    check_int(react_every, "react_every", min=1)


def _check_loss(value: torch.Tensor, step: int) -> None:
    if not bool(torch.isfinite(value).all()):
        raise FloatingPointError(
            f"the loss became NaN or inf at step {step}: lower the learning rate or the regulariser "
            "weights (a term may be dividing by a vanishing norm)")


# --------------------------------------------------------------------------- one model
def train_run(
    data: DataSource,
    *,
    steps: int,
    terms: Optional[Mapping[str, Term]] = None,
    schedule: Any = None,
    lr: float = 1e-2,
    seed: int = 0,
    latent_dim: int = 3,
    hidden: int = 16,
    normalize: bool = False,
    activation: str = "gelu",
    batch_size: Optional[int] = None,
    probe: Any = None,
    snapshot_steps: Any = None,
    react_every: int = 1,
    metrics_fn: Optional[Callable[[ColorAutoencoder, int], Mapping[str, float]]] = None,
    progress: bool = True,
    config: Optional[Mapping[str, Any]] = None,
) -> CurriculumRun:
    """Train one :class:`ColorAutoencoder` for ``steps`` Adam updates (see the module docstring).

    ``seed`` fixes the initial weights (``seed_everything(seed)`` then the model) and the
    minibatch order. ``probe`` (P, 3) RGB (default: the data at step 0) is what the snapshots
    record. A :class:`~course_lib.curriculum.ReactiveSchedule` is fed every ``react_every``
    steps with the metrics of that step's forward pass (plus ``metrics_fn(model, step)``); pass a
    fresh one per run — it keeps state. ``config`` (JSON-able) is stored in the record as
    ``config["extra"]``.
    """
    _check_model_args(latent_dim, hidden, normalize, activation)
    _common(steps, lr, batch_size, react_every)
    if metrics_fn is not None and not callable(metrics_fn):
        raise TypeError("metrics_fn must be callable metrics_fn(model, step) -> dict")
    steps = int(steps)
    terms = _check_terms(terms)
    schedule = _check_schedule(schedule)
    source = _Data(data)
    snaps = _snapshots(snapshot_steps, steps)
    values0 = _schedule_values(schedule, 0, float(lr), terms)
    probe_x = _as_rgb(probe, "probe") if probe is not None else source(0, values0)

    gen = seed_everything(seed)
    model = ColorAutoencoder(latent_dim=latent_dim, hidden=hidden, normalize=bool(normalize),
                             activation=activation)
    # fused: one kernel for all parameters (CPU and CUDA); 35 % faster per step on these tiny models
    optimizer = torch.optim.Adam(model.parameters(), lr=float(lr), fused=True)
    reactive = callable(getattr(schedule, "update", None))

    names = ["loss", "recon", *terms]
    losses = {n: np.empty(steps, dtype=np.float32) for n in names}
    used: dict[str, list[float]] = {}
    n_data = np.empty(steps, dtype=np.int64)
    metrics_log: dict[str, list[float]] = {}
    latents, recons, states = [], [], []
    take = set(snaps.tolist())
    batch_state: dict = {}

    def snapshot() -> None:
        with torch.no_grad():
            recon_p, z_p = model(probe_x)
        latents.append(z_p.numpy().copy())
        recons.append(recon_p.numpy().copy())
        states.append({k: v.detach().clone() for k, v in model.state_dict().items()})

    with cpu_threads():
        bar = progress_bar(total=steps, desc=f"training (seed {seed})", disable=not progress)
        for step in range(steps + 1):
            if step in take:
                snapshot()
            if step == steps:
                break
            values = values0 if step == 0 else _schedule_values(schedule, step, float(lr), terms)
            for k, v in values.items():
                used.setdefault(k, [float("nan")] * step).append(v)
            x = source(step, values)
            idx = _batch_indices(len(x), batch_size, gen, batch_state)
            xb = x if idx is None else x[idx]
            n_data[step] = len(x)
            info = StepInfo(step=step, values=values, phase=_phase_of(schedule, values))
            recon, z = model(xb)
            mse = torch.mean((recon - xb) ** 2)
            total = mse
            raw = {}
            for name, term in terms.items():
                value = term(z, xb, recon, info)
                raw[name] = value
                total = total + values[name] * value
            _check_loss(total, step)
            for group in optimizer.param_groups:
                group["lr"] = values["lr"]
            optimizer.zero_grad()
            total.backward()
            optimizer.step()
            losses["loss"][step] = total.item()
            losses["recon"][step] = mse.item()
            for name, value in raw.items():
                losses[name][step] = value.item()
            if reactive and step % int(react_every) == 0:
                feed = {n: float(losses[n][step]) for n in names}
                if metrics_fn is not None:
                    extra = {k: float(v) for k, v in metrics_fn(model, step).items()}
                    for k, v in extra.items():
                        metrics_log.setdefault(k, []).append(v)
                    metrics_log.setdefault("step", []).append(float(step))
                    feed.update(extra)
                schedule.update(step, feed)
            bar.update(1)
        bar.close()

    cfg = {"steps": steps, "lr": float(lr), "seed": int(seed), "latent_dim": int(latent_dim),
           "hidden": int(hidden), "normalize": bool(normalize), "activation": activation,
           "batch_size": batch_size, "terms": list(terms), "react_every": int(react_every),
           "extra": dict(config or {})}
    return CurriculumRun(
        config=cfg,
        losses=losses,
        values={k: np.asarray(v, dtype=np.float64) for k, v in used.items()},
        n_data=n_data,
        snapshot_steps=snaps,
        probe_rgb=probe_x.numpy().copy(),
        probe_latents=np.stack(latents).astype(np.float32),
        probe_recon=np.stack(recons).astype(np.float32),
        states=states,
        advanced_at=list(getattr(schedule, "advanced_at", []) or []),
        metrics={k: np.asarray(v) for k, v in metrics_log.items()},
    )


# --------------------------------------------------------------------------- many seeds
_LAYERS = ("encoder.0", "encoder.2", "decoder.0", "decoder.2")


def _stacked_init(seeds: Sequence[int], latent_dim: int, hidden: int, normalize: bool,
                  activation: str) -> dict[str, torch.Tensor]:
    states = []
    for s in seeds:
        seed_everything(s)
        states.append(ColorAutoencoder(latent_dim=latent_dim, hidden=hidden, normalize=normalize,
                                       activation=activation).state_dict())
    return {k: torch.stack([st[k] for st in states]).clone() for k in states[0]}


def batched_forward(params: Mapping[str, torch.Tensor], x: torch.Tensor, normalize: bool,
                    activation: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Every seed's ``(recon, z)`` for a shared batch ``x`` (N, 3): shapes (S, N, 3), (S, N, d);
    ``params`` are :class:`ColorAutoencoder` state_dict entries stacked on dim 0."""
    act = ACTIVATIONS[activation]()

    def linear(inp: torch.Tensor, name: str) -> torch.Tensor:
        w, b = params[f"{name}.weight"], params[f"{name}.bias"]
        if inp.ndim == 2:
            return torch.matmul(inp, w.transpose(1, 2)) + b[:, None, :]
        return torch.baddbmm(b[:, None, :], inp, w.transpose(1, 2))

    z = linear(act(linear(x, "encoder.0")), "encoder.2")
    if normalize:
        z = z / z.norm(dim=-1, keepdim=True).clamp_min(1e-8)
    recon = torch.sigmoid(linear(act(linear(z, "decoder.0")), "decoder.2"))
    return recon, z


def _check_init_states(init_states: Any, fresh: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    if not isinstance(init_states, Mapping):
        raise TypeError("init_states must be a dict of stacked state_dict entries (S, …)")
    if set(init_states) != set(fresh):
        raise ValueError(f"init_states must have exactly the model's entries {sorted(fresh)}, "
                         f"got {sorted(init_states)}")
    out = {}
    for k, v in fresh.items():
        given = init_states[k]
        if not isinstance(given, torch.Tensor) or tuple(given.shape) != tuple(v.shape):
            raise ValueError(f"init_states[{k!r}] must have shape {tuple(v.shape)}, "
                             f"got {tuple(getattr(given, 'shape', ()))}")
        if not bool(torch.isfinite(given).all()):
            raise ValueError(f"init_states[{k!r}] contains NaN or inf")
        out[k] = given.detach().clone().to(v.dtype)
    return out


def _check_masks(masks: Any, params: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    if masks is None:
        return {}
    if not isinstance(masks, Mapping):
        raise TypeError("masks must be a dict parameter name → 0/1 tensor")
    out = {}
    for k, m in masks.items():
        if k not in params:
            raise ValueError(f"masks: unknown parameter {k!r}; expected some of {sorted(params)}")
        if not isinstance(m, torch.Tensor):
            raise TypeError(f"masks[{k!r}] must be a tensor")
        try:
            torch.broadcast_shapes(m.shape, params[k].shape)
        except RuntimeError:
            raise ValueError(f"masks[{k!r}] of shape {tuple(m.shape)} does not broadcast to "
                             f"{tuple(params[k].shape)}") from None
        out[k] = m.to(params[k].device, params[k].dtype)
    return out


def train_sweep(
    seeds: Sequence[int],
    data: DataSource,
    *,
    steps: int,
    terms: Optional[Mapping[str, Term]] = None,
    schedule: Any = None,
    lr: float = 1e-2,
    latent_dim: int = 3,
    hidden: int = 16,
    normalize: bool = False,
    activation: str = "gelu",
    batch_size: Optional[int] = None,
    probe: Any = None,
    snapshot_steps: Any = None,
    progress: bool = True,
    device: Union[str, torch.device, None] = None,
    config: Optional[Mapping[str, Any]] = None,
    init_states: Optional[Mapping[str, torch.Tensor]] = None,
    masks: Optional[Mapping[str, torch.Tensor]] = None,
) -> CurriculumSweep:
    """:func:`train_run` for every seed in ``seeds`` at once (stacked weights, one Adam).

    Same arguments as :func:`train_run`, except that the schedule and the data (and the
    minibatch order, drawn from the first seed) are shared by every seed, and a reactive schedule
    is refused (it would react to one model on behalf of all). Seed ``s`` starts from exactly
    ``train_run(seed=s)``'s weights. ``device`` (default CPU) may be a GPU for large sweeps.

    Fine-tuning: ``init_states`` (state_dict entries stacked (S, …), e.g. a sweep's ``states[k]``)
    replaces the seeded initial weights; ``masks`` (some of those names → 0/1 tensors broadcastable
    to the stacked parameter) are multiplied into the weights at the start and after every update,
    so masked entries stay exactly 0 (pruning).
    """
    seeds = check_seeds(seeds)
    _check_model_args(latent_dim, hidden, normalize, activation)
    _common(steps, lr, batch_size, 1)
    steps = int(steps)
    terms = _check_terms(terms)
    schedule = _check_schedule(schedule)
    if callable(getattr(schedule, "update", None)):
        raise TypeError("train_sweep shares one schedule between seeds, so it cannot react to "
                        "metrics: train each seed with train_run and its own ReactiveSchedule")
    source = _Data(data)
    snaps = _snapshots(snapshot_steps, steps)
    dev = torch.device("cpu" if device is None else device)
    values0 = _schedule_values(schedule, 0, float(lr), terms)
    probe_x = (_as_rgb(probe, "probe") if probe is not None else source(0, values0)).to(dev)

    fresh = _stacked_init(seeds, int(latent_dim), int(hidden), bool(normalize), activation)
    if init_states is not None:
        fresh = _check_init_states(init_states, fresh)
    params = {k: v.to(dev).requires_grad_(True) for k, v in fresh.items()}
    keep = _check_masks(masks, params)
    with torch.no_grad():
        for k, m in keep.items():
            params[k].mul_(m)
    optimizer = torch.optim.Adam(list(params.values()), lr=float(lr), fused=dev.type in ("cpu", "cuda"))
    gen = torch.Generator().manual_seed(seeds[0])
    S = len(seeds)
    names = ["loss", "recon", *terms]
    losses = {n: torch.empty(S, steps, device=dev) for n in names}
    used: dict[str, list[float]] = {}
    n_data = np.empty(steps, dtype=np.int64)
    latents, recons, states = [], [], []
    take = set(snaps.tolist())
    batch_state: dict = {}
    cached_x: dict = {}

    with cpu_threads() as fit_threads:
        bar = progress_bar(total=steps, desc=f"training {S} seeds", disable=not progress)
        for step in range(steps + 1):
            if step in take:
                with torch.no_grad():
                    recon_p, z_p = batched_forward(params, probe_x, bool(normalize), activation)
                latents.append(z_p.cpu().numpy().astype(np.float32))
                recons.append(recon_p.cpu().numpy().astype(np.float32))
                states.append({k: v.detach().cpu().clone() for k, v in params.items()})
            if step == steps:
                break
            values = values0 if step == 0 else _schedule_values(schedule, step, float(lr), terms)
            for k, v in values.items():
                used.setdefault(k, [float("nan")] * step).append(v)
            x_cpu = source(step, values)
            if cached_x.get("src") is not x_cpu:
                cached_x.update(src=x_cpu, dev=x_cpu.to(dev))
            x = cached_x["dev"]
            idx = _batch_indices(len(x), batch_size, gen, batch_state)
            xb = x if idx is None else x[idx.to(dev)]
            fit_threads(S * len(xb))
            n_data[step] = len(x)
            phase = _phase_of(schedule, values)
            recon, z = batched_forward(params, xb, bool(normalize), activation)
            mse = ((recon - xb) ** 2).mean(dim=(1, 2))  # (S,)
            total = mse
            raw = {}
            for name, term in terms.items():
                if getattr(term, "batched", False):
                    value = term(z, xb, recon, StepInfo(step, values, phase))
                else:
                    value = torch.stack([term(z[s], xb, recon[s], StepInfo(step, values, phase, s))
                                         for s in range(S)])
                if value.shape != (S,):
                    raise ValueError(f"term {name!r} returned shape {tuple(value.shape)}; "
                                     f"expected a scalar per model ({S},)")
                raw[name] = value
                total = total + values[name] * value
            _check_loss(total, step)
            for group in optimizer.param_groups:
                group["lr"] = values["lr"]
            optimizer.zero_grad()
            total.sum().backward()  # each seed gets exactly its own gradient
            optimizer.step()
            if keep:
                with torch.no_grad():
                    for k, m in keep.items():
                        params[k].mul_(m)
            with torch.no_grad():
                losses["loss"][:, step] = total
                losses["recon"][:, step] = mse
                for name, value in raw.items():
                    losses[name][:, step] = value
            bar.update(1)
        bar.close()

    cfg = {"steps": steps, "lr": float(lr), "latent_dim": int(latent_dim), "hidden": int(hidden),
           "normalize": bool(normalize), "activation": activation, "batch_size": batch_size,
           "terms": list(terms), "extra": dict(config or {}),
           "masked": sorted(keep), "fine_tuned": init_states is not None}
    return CurriculumSweep(
        config=cfg,
        seeds=np.asarray(seeds),
        losses={k: v.cpu().numpy().astype(np.float32) for k, v in losses.items()},
        values={k: np.asarray(v, dtype=np.float64) for k, v in used.items()},
        n_data=n_data,
        snapshot_steps=snaps,
        probe_rgb=probe_x.cpu().numpy().copy(),
        probe_latents=np.stack(latents),
        probe_recon=np.stack(recons),
        states=states,
    )


# --------------------------------------------------------------------------- cached
def _cache_config(name: str, key: Mapping[str, Any], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(key, Mapping):
        raise TypeError("key must be a JSON-serialisable dict describing what the arguments that are "
                        "not plain values (data, terms, schedule, probe, metrics_fn) do")
    plain = {}
    for k, v in kwargs.items():
        if isinstance(v, np.ndarray):
            v = v.tolist()
        if v is None or isinstance(v, (bool, int, float, str)):
            plain[k] = v
        elif isinstance(v, (list, tuple)) and all(isinstance(i, (bool, int, float, str, np.integer))
                                                  for i in v):
            plain[k] = [int(i) if isinstance(i, np.integer) else i for i in v]
    config = {"key": dict(key), "args": plain}
    cache.config_key(name, config)  # raises a clear TypeError if key is not JSON-able
    return config


def cached_run(name: str, key: Mapping[str, Any], **kwargs: Any) -> CurriculumRun:
    """:func:`train_run` through :mod:`course_lib.cache` under ``name``.

    Callables and tensors (data, terms, schedule, probe, metrics_fn) cannot be hashed reliably,
    so ``key`` — a JSON-serialisable dict — must describe them (e.g. ``{"curriculum": "phases-v1",
    "terms": ["unit", "planar"]}``); plain arguments (steps, seed, lr, …) join the key
    automatically. Change ``key`` whenever what those callables do changes.
    """
    config = _cache_config(name, key, {k: v for k, v in kwargs.items() if k != "progress"})
    return cache.cached(name, config, lambda: train_run(**kwargs))


def cached_sweep(name: str, key: Mapping[str, Any], seeds: Sequence[int],
                 **kwargs: Any) -> CurriculumSweep:
    """:func:`train_sweep` through :mod:`course_lib.cache` (``key`` as in :func:`cached_run`)."""
    seeds = check_seeds(seeds)
    plain = {k: v for k, v in kwargs.items() if k not in ("progress", "device")}
    config = _cache_config(name, key, dict(plain, seeds=seeds))
    return cache.cached(name, config, lambda: train_sweep(seeds, **kwargs))
