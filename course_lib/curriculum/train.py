"""The trainer of Chapter 2's colour autoencoders: scheduled losses on changing data.

Every colour-autoencoder experiment of Chapter 2 (notebooks 2.1–2.5; the mixing transformer of 2.6
has its own trainer in :mod:`.mixing`) trains a :class:`~course_lib.color.ColorAutoencoder` (any
``latent_dim``, normalised or not, ReLU or GELU) with Adam on colours whose *content* may change
with the step (curriculum phases, a data-fraction parameter), on the loss

    loss(step) = MSE(recon, x) + Σ_name  weight_name(step) · term_name(z, x, recon, info)

where the weights and the learning rate come from a schedule. The loop itself is the colour
family's one loop, :func:`course_lib.color.trainer.fit`; this module supplies the batch and the
loss of each step. :func:`train_run` trains one model; :func:`train_sweep` trains many seeds at once
(a :class:`~course_lib.color.StackedColorAutoencoder`); :func:`cached_run` and :func:`cached_sweep`
go through :mod:`course_lib.cache`. The records are :mod:`.runs`' classes; the terms are
:mod:`.terms`'.

Ingredients
-----------
``data``
    RGB colours in [0, 1]: a tensor/array ``(N, 3)`` used at every step, or a callable
    ``data(step, values) -> (N, 3)`` called before every step with the schedule's ``values`` at
    that step (so a ``"phase"`` or ``"data_fraction"`` parameter of the schedule can choose the
    data). Return the *same* tensor object while the data does not change: it is validated only
    when it changes. See :mod:`course_lib.curriculum.data` for the curriculum's phases.
``terms``
    ``{name: term}`` (see :mod:`.terms`); each term's weight is the schedule parameter with the
    same name.
``schedule``
    Where ``lr`` and each term's weight come from, asked ``schedule.values(step)`` every step:
    a :class:`~course_lib.curriculum.Dopesheet`, a
    :class:`~course_lib.curriculum.ReactiveSchedule` (fed metrics every ``react_every`` steps:
    ``"loss"``, ``"recon"``, each term's raw value, and whatever ``metrics_fn(model, step)``
    returns), any object with ``values(step) -> dict``, or a plain dict of constants. If it has no
    ``"lr"`` parameter the ``lr`` argument is used. Every term must have a weight.
``checkpoint_steps``
    Steps (0 = before training, ``steps`` = after the last update) at which the run records the
    probe set's latents and reconstructions and the weights (for ``model_at``): a count (evenly
    spaced) or the steps themselves.

One model or many seeds
-----------------------
:func:`train_sweep` gives seed ``s`` exactly ``train_run(seed=s)``'s initial weights (a test checks
the two agree). Its batched matmuls sum in a different order from one model's ``nn.Linear``, so a
seed of a sweep matches its single run to float tolerance, not bit for bit: that is why
:func:`train_run` keeps the single model (its cached runs and the notebooks' claims were made with
it). A sweep needs one schedule and one data stream shared by every seed (a reactive schedule
reacts to *one* model: use :func:`train_run` per seed). Measured here (2 busy CPU cores, one
thread, 16 seeds, 3-D GELU bottleneck, 360 colours, unitarity + planarity): one step for all 16
seeds takes ≈ 1.25 ms with the stacked matmuls, ≈ 1.6 ms with ``torch.vmap`` over
``torch.func.functional_call``, and ≈ 9 ms as 16 separate :func:`train_run` steps.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping, Optional, Sequence, Union

import numpy as np
import torch

from .. import cache
from ..checkpoints import as_checkpoint_steps, even_steps
from ..color.model import ACTIVATIONS, ColorAutoencoder, StackedColorAutoencoder
from ..color.trainer import fit, mse_per_model
from ..runtime import check_seeds, seeded
from ..validation import check_choice, check_float, check_int
from .runs import FORMAT, CurriculumRun, CurriculumSweep, ProbeCheckpoints
from .terms import Term, check_terms, term_values

__all__ = ["train_run", "train_sweep", "train_runs", "cached_run", "cached_sweep", "cached_runs"]

DataSource = Union[torch.Tensor, np.ndarray, Callable[[int, dict], Any]]


# --------------------------------------------------------------------------- checks
def _check_model_args(latent_dim: Any, hidden: Any, normalize: Any, activation: Any) -> None:
    check_int(latent_dim, "latent_dim", min=2)  # two dims at least, to hold a wheel
    check_int(hidden, "hidden", min=1)
    if not isinstance(normalize, (bool, np.bool_)):
        raise TypeError(f"normalize must be True or False, got {normalize!r}")
    check_choice(activation, "activation", sorted(ACTIVATIONS))


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


class _Constant:
    def __init__(self, values: Mapping[str, Any]):
        self._values = {}
        for k, v in values.items():
            if not isinstance(k, str):
                raise TypeError(f"schedule: parameter names must be strings, got {k!r}")
            self._values[k] = check_float(v, f"schedule[{k!r}]")

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


def _checkpoints(checkpoint_steps: Any, steps: int) -> np.ndarray:
    if checkpoint_steps is None:
        return even_steps(steps, min(steps + 1, 41))
    if isinstance(checkpoint_steps, (int, np.integer)) and not isinstance(checkpoint_steps, bool):
        return even_steps(steps, check_int(checkpoint_steps, "checkpoint_steps", min=2))
    return as_checkpoint_steps(checkpoint_steps, "checkpoint_steps", last=steps)


class _Data:
    """Resolves the data source at each step, validating only when it changes."""

    def __init__(self, data: Any):
        if data is None:
            raise ValueError("data is required: RGB (N, 3) or a callable data(step, values)")
        self.fn = data if callable(data) and not isinstance(data, (torch.Tensor, np.ndarray)) else None
        self.fixed = None if self.fn else _as_rgb(data, "data")
        self._last_obj: Any = data if self.fn is None else None
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
    check_float(lr, "lr", min=0, inclusive="neither")
    if batch_size is not None:
        check_int(batch_size, "batch_size", min=1)
    check_int(react_every, "react_every", min=1)


# --------------------------------------------------------------------------- the scheduled loss
def _train(model: torch.nn.Module, n_models: Optional[int], data: DataSource, *, steps: int,
           terms: Mapping[str, Term], schedule: Any, lr: float, batch_size: Optional[int], probe: Any,
           checkpoint_steps: Any, gen: torch.Generator, react_every: int = 1,
           metrics_fn: Optional[Callable] = None, masks: Mapping[str, torch.Tensor] = None,
           device: torch.device = torch.device("cpu"), progress: bool = True, desc: str = "training") -> dict:
    """Train ``model`` (one :class:`ColorAutoencoder`, ``n_models`` None, or a stack of
    ``n_models``) on the scheduled loss with :func:`~course_lib.color.trainer.fit`; return the
    record's pieces."""
    source = _Data(data)
    snaps = _checkpoints(checkpoint_steps, steps)
    values0 = _schedule_values(schedule, 0, lr, terms)
    probe_x = (_as_rgb(probe, "probe") if probe is not None else source(0, values0)).to(device)
    reactive = callable(getattr(schedule, "update", None))
    masks = masks or {}
    S = 1 if n_models is None else n_models
    names = ["loss", "recon", *terms]
    losses = {n: torch.empty(S, steps, device=device) for n in names}
    used: dict[str, list[float]] = {}
    n_data = np.empty(steps, dtype=np.int64)
    metrics_log: dict[str, list[float]] = {}
    checkpoint = ProbeCheckpoints(model, probe_x)
    batch_state: dict = {}
    cached_x: dict = {}
    now: dict = {}

    def batch_at(step: int) -> tuple[torch.Tensor, float]:
        values = values0 if step == 0 else _schedule_values(schedule, step, lr, terms)
        for k, v in values.items():
            used.setdefault(k, [float("nan")] * step).append(v)
        x_cpu = source(step, values)
        if cached_x.get("src") is not x_cpu:
            cached_x.update(src=x_cpu, dev=x_cpu.to(device))
        x = cached_x["dev"]
        idx = _batch_indices(len(x), batch_size, gen, batch_state)
        n_data[step] = len(x)
        now.update(values=values, phase=_phase_of(schedule, values))
        return (x if idx is None else x[idx.to(device)]), values["lr"]

    def loss(m: torch.nn.Module, xb: torch.Tensor, step: int) -> tuple[torch.Tensor, dict]:
        recon, z = m(xb)
        mse = mse_per_model(recon, xb)
        raw = term_values(terms, z, xb, recon, step, now["values"], now["phase"], n_models)
        total = mse
        for name, value in raw.items():
            total = total + now["values"][name] * value
        return total, dict(raw, recon=mse)

    def after_update(step: int, total: torch.Tensor, parts: dict) -> None:
        with torch.no_grad():
            for k, m in masks.items():
                model.get_parameter(k).mul_(m)
            losses["loss"][:, step] = total
            for name, value in parts.items():
                losses[name][:, step] = value.detach()
        if reactive and step % react_every == 0:
            feed = {n: float(losses[n][0, step]) for n in names}
            if metrics_fn is not None:
                extra = {k: float(v) for k, v in metrics_fn(model, step).items()}
                for k, v in extra.items():
                    metrics_log.setdefault(k, []).append(v)
                metrics_log.setdefault("step", []).append(float(step))
                feed.update(extra)
            schedule.update(step, feed)

    fit(model, steps=steps, batch_at=batch_at, loss=loss, lr=lr, checkpoints=snaps, on_checkpoint=checkpoint,
        after_update=after_update, fused=device.type in ("cpu", "cuda"), n_models=S,
        share_threads=n_models is not None, desc=desc, progress=progress)
    return dict(
        losses={k: v.cpu().numpy().astype(np.float32) for k, v in losses.items()},
        values={k: np.asarray(v, dtype=np.float64) for k, v in used.items()},
        n_data=n_data, checkpoint_steps=snaps, probe_rgb=probe_x.cpu().numpy().copy(),
        probe_latents=np.stack(checkpoint.latents), probe_recon=np.stack(checkpoint.recons),
        states=checkpoint.states, metrics={k: np.asarray(v) for k, v in metrics_log.items()})


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
    checkpoint_steps: Any = None,
    react_every: int = 1,
    metrics_fn: Optional[Callable[[ColorAutoencoder, int], Mapping[str, float]]] = None,
    progress: bool = True,
    config: Optional[Mapping[str, Any]] = None,
) -> CurriculumRun:
    """Train one :class:`ColorAutoencoder` for ``steps`` Adam updates (see the module docstring).

    ``seed`` fixes the initial weights (``seed_everything(seed)`` then the model) and the
    minibatch order. ``probe`` (P, 3) RGB (default: the data at step 0) is what the checkpoints
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
    terms = check_terms(terms)
    schedule = _check_schedule(schedule)
    with seeded(seed) as gen:     # the initial weights are global draws right after seeding
        model = ColorAutoencoder(latent_dim=latent_dim, hidden=hidden, normalize=bool(normalize),
                                 activation=activation)
    out = _train(model, None, data, steps=steps, terms=terms, schedule=schedule, lr=float(lr),
                 batch_size=batch_size, probe=probe, checkpoint_steps=checkpoint_steps, gen=gen,
                 react_every=int(react_every), metrics_fn=metrics_fn, progress=progress,
                 desc=f"training (seed {seed})")
    cfg = {"steps": steps, "lr": float(lr), "seed": int(seed), "latent_dim": int(latent_dim),
           "hidden": int(hidden), "normalize": bool(normalize), "activation": activation,
           "batch_size": batch_size, "terms": list(terms), "react_every": int(react_every),
           "extra": dict(config or {})}
    out["losses"] = {k: v[0] for k, v in out["losses"].items()}
    return CurriculumRun(config=cfg, advanced_at=list(getattr(schedule, "advanced_at", []) or []), **out)


# --------------------------------------------------------------------------- many seeds
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
    checkpoint_steps: Any = None,
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
    terms = check_terms(terms)
    schedule = _check_schedule(schedule)
    if callable(getattr(schedule, "update", None)):
        raise TypeError("train_sweep shares one schedule between seeds, so it cannot react to "
                        "metrics: train each seed with train_run and its own ReactiveSchedule")
    dev = torch.device("cpu" if device is None else device)
    model = StackedColorAutoencoder.from_seeds(seeds, latent_dim=int(latent_dim), hidden=int(hidden),
                                               normalize=bool(normalize), activation=activation)
    if init_states is not None:
        model.load_state_dict(_check_init_states(init_states, model.state_dict()))
    model.to(dev)
    params = dict(model.named_parameters())
    keep = _check_masks(masks, params)
    with torch.no_grad():
        for k, m in keep.items():
            params[k].mul_(m)
    out = _train(model, len(seeds), data, steps=steps, terms=terms, schedule=schedule, lr=float(lr),
                 batch_size=batch_size, probe=probe, checkpoint_steps=checkpoint_steps,
                 gen=torch.Generator().manual_seed(seeds[0]), masks=keep, device=dev, progress=progress,
                 desc=f"training {len(seeds)} seeds")
    out.pop("metrics")
    cfg = {"steps": steps, "lr": float(lr), "latent_dim": int(latent_dim), "hidden": int(hidden),
           "normalize": bool(normalize), "activation": activation, "batch_size": batch_size,
           "terms": list(terms), "extra": dict(config or {}),
           "masked": sorted(keep), "fine_tuned": init_states is not None}
    return CurriculumSweep(config=cfg, seeds=np.asarray(seeds), **out)


# --------------------------------------------------------------------------- many seeds, own schedules
def _per_seed(value: Any, n: int, name: str) -> list:
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError(f"{name} must hold one entry per seed ({n}), got {len(value)}")
        return list(value)
    return [value] * n


def _schedule_list(schedules: Any, n: int) -> list:
    """One schedule per seed: a list (a single schedule is refused, it would be shared)."""
    if isinstance(schedules, Mapping) or not isinstance(schedules, Sequence):
        raise TypeError("schedules must be a list with one schedule per seed")
    return _per_seed(list(schedules), n, "schedules")


def train_runs(
    seeds: Sequence[int],
    data: Union[DataSource, Sequence[DataSource]],
    schedules: Sequence[Any],
    *,
    steps: int,
    terms: Optional[Mapping[str, Term]] = None,
    lr: float = 1e-2,
    latent_dim: int = 3,
    hidden: int = 16,
    normalize: bool = False,
    activation: str = "gelu",
    probe: Any = None,
    checkpoint_steps: Any = None,
    react_every: int = 1,
    progress: bool = True,
    config: Optional[Mapping[str, Any]] = None,
) -> list[CurriculumRun]:
    """:func:`train_run` for every seed in ``seeds``, each with its **own** schedule — reactive ones
    included — trained at once as one stack (full batch only).

    ``schedules`` holds one schedule per seed (fresh ones: a reactive schedule keeps state), and
    ``data`` one source for every seed or a list with one per seed; each model's source is asked with
    that model's schedule values, so models in different phases see different data. Every step the
    models are grouped by their data and schedule values: a group shares one batched forward pass
    (all models at once once they agree), its terms see exactly its values, and each model takes its
    own learning rate (:func:`~course_lib.color.trainer.fit`). A reactive schedule is fed its own
    model's metrics every ``react_every`` steps (``"loss"``, ``"recon"`` and each term's raw value).

    Seed ``s`` starts from ``train_run(seed=s)``'s weights and follows the same schedule logic, so its
    record is that run's up to floating-point summation order (batched matmuls; a test checks the
    two agree); it does not depend on which other seeds are trained beside it. Returns one
    :class:`~.runs.CurriculumRun` per seed, in the order of ``seeds``.
    """
    seeds = check_seeds(seeds)
    S = len(seeds)
    _check_model_args(latent_dim, hidden, normalize, activation)
    _common(steps, lr, None, react_every)
    steps, react_every, lr = int(steps), int(react_every), float(lr)
    terms = check_terms(terms)
    schedules = [_check_schedule(sch) for sch in _schedule_list(schedules, S)]
    if len({id(sch) for sch in schedules}) != S:
        raise ValueError("schedules must be distinct objects, one per seed (a schedule keeps state)")
    sources = [_Data(d) for d in _per_seed(data, S, "data")]
    snaps = _checkpoints(checkpoint_steps, steps)
    reactive = [callable(getattr(sch, "update", None)) for sch in schedules]
    model = StackedColorAutoencoder.from_seeds(seeds, latent_dim=int(latent_dim), hidden=int(hidden),
                                               normalize=bool(normalize), activation=activation)
    params = dict(model.named_parameters())
    values0 = [_schedule_values(sch, 0, lr, terms) for sch in schedules]
    probe_x = _as_rgb(probe, "probe") if probe is not None else sources[0](0, values0[0])
    names = ["loss", "recon", *terms]
    losses = {n: torch.empty(S, steps) for n in names}
    used: list[dict[str, list[float]]] = [{} for _ in range(S)]
    n_data = np.empty((S, steps), dtype=np.int64)
    checkpoint = ProbeCheckpoints(model, probe_x)
    now: dict = {}

    def batch_at(step: int) -> tuple[list, torch.Tensor]:
        groups: dict[tuple, list[int]] = {}
        batches, rates, infos = {}, [], {}
        for i, (sch, source) in enumerate(zip(schedules, sources)):
            values = values0[i] if step == 0 else _schedule_values(sch, step, lr, terms)
            for k, v in values.items():
                used[i].setdefault(k, [float("nan")] * step).append(v)
            x = source(step, values)
            n_data[i, step] = len(x)
            phase = _phase_of(sch, values)
            # the object the source gave (its validated copy is the source's own): one per data set
            key = (id(source._last_obj), phase, tuple(sorted(values.items())))
            groups.setdefault(key, []).append(i)
            batches[key], infos[key] = x, (values, phase)
            rates.append(values["lr"])
        now["groups"] = [(torch.tensor(idx), batches[key], *infos[key]) for key, idx in groups.items()]
        return [(idx, x) for idx, x, _, _ in now["groups"]], torch.tensor(rates, dtype=torch.float32)

    def loss(m: torch.nn.Module, groups: list, step: int) -> tuple[torch.Tensor, dict]:
        totals, parts, order = [], [], []
        for idx, x, values, phase in now["groups"]:
            if len(idx) == S:
                recon, z = m(x)
            else:
                recon, z = torch.func.functional_call(m, {k: p[idx] for k, p in params.items()}, (x,))
            mse = mse_per_model(recon, x)
            raw = term_values(terms, z, x, recon, step, values, phase, len(idx))
            total = mse
            for name, value in raw.items():
                total = total + values[name] * value
            totals.append(total)
            parts.append(dict(raw, recon=mse))
            order.append(idx)
        if len(totals) == 1:
            return totals[0], parts[0]
        where = torch.argsort(torch.cat(order))  # back to the order of the seeds
        return (torch.cat(totals)[where],
                {k: torch.cat([p[k] for p in parts])[where] for k in parts[0]})

    def after_update(step: int, total: torch.Tensor, parts: dict) -> None:
        with torch.no_grad():
            losses["loss"][:, step] = total
            for name, value in parts.items():
                losses[name][:, step] = value.detach()
        if any(reactive) and step % react_every == 0:
            feed = {n: losses[n][:, step].tolist() for n in names}
            for i, sch in enumerate(schedules):
                if reactive[i]:
                    sch.update(step, {n: feed[n][i] for n in names})

    fit(model, steps=steps, batch_at=batch_at, loss=loss, lr=lr, checkpoints=snaps, on_checkpoint=checkpoint,
        after_update=after_update, fused=True, n_models=S, share_threads=True,
        desc=f"training {S} seeds", progress=progress)
    out = []
    for i, seed in enumerate(seeds):
        cfg = {"steps": steps, "lr": lr, "seed": int(seed), "latent_dim": int(latent_dim),
               "hidden": int(hidden), "normalize": bool(normalize), "activation": activation,
               "batch_size": None, "terms": list(terms), "react_every": react_every,
               "extra": dict(config or {})}
        out.append(CurriculumRun(
            config=cfg, advanced_at=list(getattr(schedules[i], "advanced_at", []) or []),
            losses={k: v[i].numpy().astype(np.float32) for k, v in losses.items()},
            values={k: np.asarray(v, dtype=np.float64) for k, v in used[i].items()},
            n_data=n_data[i].copy(), checkpoint_steps=snaps, probe_rgb=probe_x.numpy().copy(),
            **checkpoint.of_models(i)))
    return out


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
    config = {"key": dict(key), "args": plain, "format": FORMAT}
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


def cached_sweep(name: str, key: Mapping[str, Any], seeds: Sequence[int], *,
                 only_if_cached: bool = False, **kwargs: Any) -> Optional[CurriculumSweep]:
    """:func:`train_sweep` through :mod:`course_lib.cache` (``key`` as in :func:`cached_run`).
    With ``only_if_cached``: the cached sweep, or None (nothing trained) when there is none."""
    seeds = check_seeds(seeds)
    plain = {k: v for k, v in kwargs.items() if k not in ("progress", "device")}
    config = _cache_config(name, key, dict(plain, seeds=seeds))
    if only_if_cached and not cache.entry_path(name, config).exists():
        return None
    return cache.cached(name, config, lambda: train_sweep(seeds, **kwargs))


def cached_runs(name: str, key: Mapping[str, Any], seeds: Sequence[int], data: Union[DataSource, Sequence[DataSource]],
                schedules: Sequence[Any], **kwargs: Any) -> list[CurriculumRun]:
    """:func:`train_runs` through :mod:`course_lib.cache`, one entry per seed (``key`` as in
    :func:`cached_run`; the entries are marked as stacked runs, apart from :func:`cached_run`'s).
    Seeds already cached are loaded; the others are trained together. A seed's run does not depend on
    the seeds trained beside it, so a later call with more seeds reuses the first ones."""
    seeds = check_seeds(seeds)
    data = _per_seed(data, len(seeds), "data")
    schedules = _schedule_list(schedules, len(seeds))
    plain = {k: v for k, v in kwargs.items() if k != "progress"}
    configs = [_cache_config(name, dict(key, trainer="stacked"), dict(plain, seed=s)) for s in seeds]
    todo = [i for i, c in enumerate(configs) if not cache.entry_path(name, c).exists()]
    trained = {}
    if todo:
        runs = train_runs([seeds[i] for i in todo], [data[i] for i in todo], [schedules[i] for i in todo], **kwargs)
        trained = dict(zip(todo, runs))

    def compute(i: int) -> CurriculumRun:  # an entry that exists but cannot be read: train it alone
        return trained[i] if i in trained else train_runs([seeds[i]], [data[i]], [schedules[i]], **kwargs)[0]

    return [cache.cached(name, c, lambda i=i: compute(i)) for i, c in enumerate(configs)]
