"""Training the bottleneck autoencoder, with snapshots to watch the wheel form.

:func:`train_bottleneck` is the plain recipe (Adam, full batch, MSE on the training colours) and
records, at evenly spaced epochs, where the whole probe wheel (held-out band included) lands in
latent space. :func:`cached_bottleneck` does the same through the course cache.
:func:`training_sweep` answers "how often, and when, does the wheel form?" by training many seeds
at once as one batch of independent models, measured at checkpoints along the way: each seed gets
exactly the initial weights and the updates that :func:`train_bottleneck` would give it (Adam is
elementwise, so one Adam over stacked weights is many independent Adams).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import torch
from .. import cache
from ..runtime import by_profile, check_seeds, cpu_threads, seed_everything
from ..validation import check_float, check_int
from ..widgets import progress as progress_bar
from .data import ColorData, bottleneck_dataset, in_band, probe_wheel
from .metrics import hue_order_score, transition_epochs, wheel_report
from .model import ColorAutoencoder

__all__ = [
    "PROFILE_SETTINGS",
    "TrainingRun",
    "train_bottleneck",
    "cached_bottleneck",
    "settings",
    "snapshot_schedule",
    "SweepHistory",
    "training_sweep",
    "cached_training_sweep",
    "default_checkpoints",
]

#: Per-profile settings for the chapter (see ``course_lib.runtime`` for the profiles).
#: ``epochs``/``n_snapshots``: the single watched training run; ``sweep_seeds``/``sweep_epochs``:
#: the checkpointed sweep (:func:`training_sweep`), trained once per condition to ``sweep_epochs``
#: and measured along the way, so every shorter training length comes from the same runs.
#: Measured on 2 busy CPU cores (one thread): ≈ 0.1 ms per seed per epoch, so 64 seeds × 4,000
#: epochs ≈ 15–45 s per condition, 32 × 2,000 ≈ 4–12 s. The wheels form within ~1,000 epochs and
#: the longer runs show what happens after; ``quick`` stops at 2,000 epochs and 32 seeds. The
#: watched run is the same in every profile (the notebook's claims about it are exact).
PROFILE_SETTINGS: dict[str, dict[str, int]] = {
    "quick": {"epochs": 1000, "n_snapshots": 51, "sweep_seeds": 32, "sweep_epochs": 2000},
    "standard": {"epochs": 1000, "n_snapshots": 51, "sweep_seeds": 64, "sweep_epochs": 4000},
    "full": {"epochs": 1000, "n_snapshots": 51, "sweep_seeds": 256, "sweep_epochs": 8000},
}


def settings(profile: str | None = None) -> dict[str, int]:
    """This chapter's settings for ``profile`` (default: the active ``COURSE_PROFILE``)."""
    return dict(by_profile(PROFILE_SETTINGS, profile))


@dataclass
class TrainingRun:
    """Everything one training run leaves behind (numpy arrays and CPU tensors: cache-friendly).

    ``losses[i]`` is the full-batch training MSE after ``i`` updates (computed in the forward
    pass of update ``i + 1``); ``final_mse`` is the MSE after the last update.
    ``probe_latents[k]`` are the latents of :func:`probe_wheel` after ``snapshot_epochs[k]``
    updates (epoch 0 = the untrained model), and ``probe_recon_mse[k]`` their reconstruction MSE.
    """

    config: dict[str, Any]
    state_dict: dict[str, torch.Tensor]
    losses: np.ndarray
    snapshot_epochs: np.ndarray
    probe_latents: np.ndarray
    probe_recon_mse: np.ndarray
    final_mse: float = float("nan")
    probe_hue: np.ndarray = field(default_factory=lambda: probe_wheel().hue)
    #: ``probe_recon[k]``: the probe wheel's reconstructions (P, 3) at snapshot k.
    probe_recon: np.ndarray | None = None
    #: ``strip[k]``: what the decoder makes of 360 latent angles (0°, 1°, …) at snapshot k, (360, 3):
    #: on the unit circle when normalised, else on the circle through the trained latents
    #: (their mean distance around their mean).
    strip: np.ndarray | None = None
    #: ``states[k]``: the model's state_dict after ``snapshot_epochs[k]`` updates (what
    #: :meth:`model_at` rebuilds; Chapter 5 measures the learning coefficient there). ``None`` in
    #: runs recorded before states were kept.
    states: list[dict[str, torch.Tensor]] | None = None

    def report(self, index: int = -1) -> dict[str, Any]:
        """:func:`~course_lib.color.metrics.wheel_report` at snapshot ``index``, plus the
        output-space MSE of the trained hues and of the held-out band (S = V = 1)."""
        out = {k: v.item() if np.ndim(v) == 0 else v
               for k, v in wheel_report(self.probe_hue, self.probe_latents[index]).items()}
        if self.probe_recon is not None:
            band = in_band(self.probe_hue)
            truth = probe_wheel().rgb
            err = np.mean((self.probe_recon[index] - truth) ** 2, axis=-1)
            out["trained_mse"] = float(err[~band].mean())
            out["band_mse"] = float(err[band].mean())
        return out

    def model(self) -> ColorAutoencoder:
        """Rebuild the trained :class:`ColorAutoencoder` (CPU, eval mode)."""
        return self._rebuild(self.state_dict)

    def _rebuild(self, state: dict[str, torch.Tensor]) -> ColorAutoencoder:
        cfg = self.config
        model = ColorAutoencoder(
            latent_dim=cfg["latent_dim"],
            hidden=cfg["hidden"],
            normalize=cfg["normalize"],
            activation=cfg.get("activation", "relu"),
        )
        model.load_state_dict(state)
        return model.eval()

    @property
    def snapshot_steps(self) -> np.ndarray:
        """The snapshot epochs (full-batch: one update per epoch), the name other chapters' runs use."""
        return self.snapshot_epochs

    def model_at(self, step: int) -> ColorAutoencoder:
        """The model after ``step`` updates (one of :attr:`snapshot_epochs`), on the CPU in eval mode."""
        if isinstance(step, bool) or not isinstance(step, (int, np.integer)):
            raise TypeError(f"step must be an int (a snapshot epoch), got {type(step).__name__}")
        hits = np.flatnonzero(self.snapshot_epochs == int(step))
        if not len(hits):
            raise ValueError(f"step {step} is not a snapshot epoch; snapshots are "
                             f"{', '.join(map(str, self.snapshot_epochs[:4]))}, … {int(self.snapshot_epochs[-1])}")
        if self.states is None:
            raise ValueError("this run was recorded without per-snapshot states; retrain it "
                             "(cached_bottleneck records them)")
        return self._rebuild(self.states[int(hits[0])])

    def hue_order(self, index: int = -1) -> float:
        """:func:`hue_order_score` of the probe wheel at snapshot ``index``."""
        return hue_order_score(self.probe_hue, self.probe_latents[index])


def snapshot_schedule(epochs: int, n_snapshots: int) -> np.ndarray:
    """``n_snapshots`` evenly spaced epochs from 0 to ``epochs`` (both included, no repeats)."""
    if n_snapshots < 2:
        raise ValueError(f"n_snapshots must be at least 2 (before and after training), got {n_snapshots}")
    return np.unique(np.rint(np.linspace(0, epochs, n_snapshots)).astype(np.int64))


def _check_common(normalize: Any, epochs: Any, lr: Any, latent_dim: Any, hidden: Any) -> None:
    if not isinstance(normalize, (bool, np.bool_)):
        raise TypeError(f"normalize must be True or False, got {normalize!r}")
    for name, value in (("epochs", epochs), ("latent_dim", latent_dim), ("hidden", hidden)):
        check_int(value, name, min=1)
    check_float(lr, "lr", min=0, inclusive="neither")
    if latent_dim < 2:
        raise ValueError(f"latent_dim must be at least 2 to hold a wheel, got {latent_dim}")


def _mse(recon: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return torch.mean((recon - target) ** 2)


def train_bottleneck(
    *,
    normalize: bool = True,
    epochs: int = 500,
    lr: float = 1e-3,
    seed: int = 0,
    latent_dim: int = 2,
    hidden: int = 16,
    n_snapshots: int = 50,
    data: ColorData | None = None,
    progress: bool = True,
) -> TrainingRun:
    """Train one bottleneck autoencoder (Adam, full batch, MSE) and record snapshots.

    Trains on ``data.train_rgb`` (default: :func:`bottleneck_dataset`, band held out) on the
    CPU — for a model this small the CPU beats a GPU's launch overhead. The same ``seed`` gives
    the same run.
    """
    _check_common(normalize, epochs, lr, latent_dim, hidden)
    if isinstance(n_snapshots, bool) or not isinstance(n_snapshots, (int, np.integer)):
        raise ValueError(f"n_snapshots must be an int ≥ 2, got {n_snapshots!r}")
    if data is None:
        data = bottleneck_dataset()
    elif not isinstance(data, ColorData):
        raise TypeError(f"data must be a ColorData (e.g. bottleneck_dataset()), got {type(data).__name__}")
    x = data.train_rgb
    if len(x) == 0:
        raise ValueError("data has no training samples (every colour is held out)")
    probe = probe_wheel()
    schedule = snapshot_schedule(int(epochs), int(n_snapshots))
    config = {
        "normalize": bool(normalize),
        "epochs": int(epochs),
        "lr": float(lr),
        "seed": int(seed),
        "latent_dim": int(latent_dim),
        "hidden": int(hidden),
        "n_snapshots": int(n_snapshots),
        "activation": "relu",
    }

    with cpu_threads():
        return _train_one(x, probe, schedule, config, progress)


def _train_one(
    x: torch.Tensor, probe: ColorData, schedule: np.ndarray, config: dict[str, Any], progress: bool
) -> TrainingRun:
    """The training loop of :func:`train_bottleneck` (arguments already checked)."""
    epochs, seed = config["epochs"], config["seed"]
    probe_x = torch.as_tensor(probe.rgb, dtype=torch.float32)
    seed_everything(seed)
    model = ColorAutoencoder(latent_dim=config["latent_dim"], hidden=config["hidden"],
                             normalize=config["normalize"])
    optimizer = torch.optim.Adam(model.parameters(), lr=config["lr"])

    losses = np.empty(epochs)
    latents, probe_mse, recons, strips, states = [], [], [], [], []
    seen = torch.as_tensor(~probe.held_out)
    take = set(schedule.tolist())
    bar = progress_bar(total=epochs, desc=f"training (normalize={config['normalize']}, seed={seed})",
               disable=not progress, leave=True)
    for epoch in range(epochs + 1):
        if epoch in take:
            with torch.no_grad():
                recon, z = model(probe_x)
            latents.append(z.numpy().copy())
            probe_mse.append(float(_mse(recon, probe_x)))
            recons.append(recon.numpy().copy())
            strips.append(_strip(model, z[seen]).numpy())
            states.append({k: v.detach().cpu().clone() for k, v in model.state_dict().items()})
        if epoch == epochs:
            break
        recon, _ = model(x)
        loss = _mse(recon, x)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses[epoch] = loss.item()
        bar.update(1)
    bar.close()
    with torch.no_grad():
        final_mse = float(_mse(model(x)[0], x))

    return TrainingRun(
        config=config,
        state_dict={k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
        losses=losses,
        snapshot_epochs=schedule,
        probe_latents=np.stack(latents).astype(np.float32),
        probe_recon_mse=np.asarray(probe_mse),
        final_mse=final_mse,
        probe_hue=probe.hue.copy(),
        probe_recon=np.stack(recons).astype(np.float32),
        strip=np.stack(strips).astype(np.float32),
        states=states,
    )


def _strip(model: ColorAutoencoder, z_trained: torch.Tensor) -> torch.Tensor:
    """The decoded colour strip of :attr:`TrainingRun.strip` for ``model`` now."""
    if model.normalize:
        return model.decode_circle(360)
    center = z_trained[:, :2].mean(dim=0)
    radius = float((z_trained[:, :2] - center).norm(dim=-1).mean().clamp_min(1e-6))
    return model.decode_circle(360, radius=radius, center=(float(center[0]), float(center[1])))


def cached_bottleneck(
    *,
    normalize: bool = True,
    epochs: int = 500,
    lr: float = 1e-3,
    seed: int = 0,
    latent_dim: int = 2,
    hidden: int = 16,
    n_snapshots: int = 50,
    progress: bool = True,
) -> TrainingRun:
    """:func:`train_bottleneck` on the default data, through ``course_lib.cache`` ("color-bottleneck")."""
    kwargs = dict(normalize=bool(normalize), epochs=int(epochs), lr=float(lr), seed=int(seed),
                  latent_dim=int(latent_dim), hidden=int(hidden), n_snapshots=int(n_snapshots))
    _check_common(normalize, epochs, lr, latent_dim, hidden)
    # "records": what a run stores; entries cached before strips and reconstructions were recorded
    # have no such key, so they are recomputed rather than loaded without them
    config = dict(kwargs, data="bottleneck_dataset()", records="latents+recon+strip+states")
    return cache.cached("color-bottleneck", config,
                        lambda: train_bottleneck(**kwargs, progress=progress))


# --------------------------------------------------------------------------- one sweep, every length
#
# ``training_sweep`` trains every seed once, to the longest length, and measures every seed at
# checkpoint epochs along the way: the rate
# at 500, 1,000, 2,000 and 4,000 epochs then comes from the same runs, and each seed's history says
# *when* its wheel formed. The ensemble is written out as batched matrix products (one weight
# tensor per layer with a leading seed axis), which is several times faster on a CPU than
# ``torch.vmap`` over ``functional_call`` for models this small and gives the same numbers.

#: Default checkpoint spacing: every 10 epochs up to 1,000 (where the wheels form), then every 50.
def default_checkpoints(epochs: int) -> np.ndarray:
    """Checkpoint epochs for :func:`training_sweep`: 0, 10, …, 1000, 1050, …, ``epochs``."""
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise ValueError(f"epochs must be a positive int, got {epochs!r}")
    fine = np.arange(0, min(epochs, 1000) + 1, 10)
    coarse = np.arange(1000, epochs + 1, 50)
    return np.unique(np.r_[fine, coarse, epochs]).astype(np.int64)


@dataclass
class SweepHistory:
    """Many seeds trained once, measured at checkpoints (numpy arrays: cache-friendly).

    ``losses[s, t]``: training MSE of seed ``seeds[s]`` after ``t`` updates (as in
    :class:`TrainingRun`). ``metrics[name][k, s]``: :func:`~course_lib.color.metrics.wheel_report`'s
    ``name`` for seed ``s`` after ``checkpoint_epochs[k]`` updates, plus ``train_mse``,
    ``trained_mse`` and ``band_mse`` (output-space MSE of the probe wheel's trained hues and of the
    held-out band, S = V = 1). ``latents[e]``: probe latents (S, P, d) at the few epochs in
    ``latent_epochs``. ``final_state[name]``: every seed's final weights, stacked on dim 0.
    """

    config: dict[str, Any]
    seeds: np.ndarray
    checkpoint_epochs: np.ndarray
    losses: np.ndarray
    metrics: dict[str, np.ndarray]
    latents: dict[int, np.ndarray]
    final_state: dict[str, torch.Tensor]
    probe_hue: np.ndarray = field(default_factory=lambda: probe_wheel().hue)

    @property
    def n_seeds(self) -> int:
        return len(self.seeds)

    def index(self, epoch: int) -> int:
        """Position of checkpoint ``epoch`` (a ``ValueError`` if it is not one)."""
        hits = np.flatnonzero(self.checkpoint_epochs == epoch)
        if isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)) or not len(hits):
            raise ValueError(f"epoch must be one of the checkpoint epochs (0 … {self.checkpoint_epochs[-1]}), "
                             f"got {epoch!r}")
        return int(hits[0])

    def at(self, name: str, epoch: int) -> np.ndarray:
        """Metric ``name`` for every seed at checkpoint ``epoch``, shape (S,)."""
        if name not in self.metrics:
            raise ValueError(f"name must be one of {sorted(self.metrics)}, got {name!r}")
        return self.metrics[name][self.index(epoch)]

    def count(self, name: str, epoch: int) -> tuple[int, int]:
        """``(successes, n)`` of a yes/no metric at ``epoch``, ready for ``course_lib.stats``."""
        flags = self.at(name, epoch)
        return int(np.sum(flags.astype(bool))), int(len(flags))

    def transitions(self, name: str = "trained_wheel", threshold: float = 0.5) -> np.ndarray:
        """Each seed's transition epoch for metric ``name`` (NaN: never, or not for good)."""
        if name not in self.metrics:
            raise ValueError(f"name must be one of {sorted(self.metrics)}, got {name!r}")
        return transition_epochs(self.checkpoint_epochs, self.metrics[name].T, threshold)

    def model(self, seed: int) -> ColorAutoencoder:
        """Rebuild seed ``seed``'s final model (CPU, eval mode)."""
        hits = np.flatnonzero(self.seeds == seed)
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not len(hits):
            raise ValueError(f"seed must be one of this sweep's seeds, got {seed!r}")
        cfg = self.config
        model = ColorAutoencoder(latent_dim=cfg["latent_dim"], hidden=cfg["hidden"],
                                 normalize=cfg["normalize"])
        model.load_state_dict({k: v[int(hits[0])].clone() for k, v in self.final_state.items()})
        return model.eval()


_LAYERS = ("encoder.0", "encoder.2", "decoder.0", "decoder.2")


def _stacked_init(seeds: list[int], latent_dim: int, hidden: int, normalize: bool) -> dict[str, torch.Tensor]:
    """Every seed's initial weights (exactly ``train_bottleneck(seed=s)``'s), stacked on dim 0."""
    states = []
    for s in seeds:
        seed_everything(s)
        states.append(ColorAutoencoder(latent_dim=latent_dim, hidden=hidden, normalize=normalize).state_dict())
    return {k: torch.stack([st[k] for st in states]).clone() for k in states[0]}


def _batched_forward(p: dict[str, torch.Tensor], x: torch.Tensor, normalize: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """All seeds' (reconstruction, z) for shared inputs ``x`` (N, 3): shapes (S, N, 3), (S, N, d)."""
    def linear(inp: torch.Tensor, name: str) -> torch.Tensor:
        w, b = p[f"{name}.weight"], p[f"{name}.bias"]
        if inp.ndim == 2:
            return torch.matmul(inp, w.transpose(1, 2)) + b[:, None, :]
        return torch.baddbmm(b[:, None, :], inp, w.transpose(1, 2))

    z = linear(torch.relu(linear(x, "encoder.0")), "encoder.2")
    if normalize:
        z = z / z.norm(dim=-1, keepdim=True).clamp_min(1e-8)
    recon = torch.sigmoid(linear(torch.relu(linear(z, "decoder.0")), "decoder.2"))
    return recon, z


def training_sweep(
    seeds: Sequence[int],
    *,
    normalize: bool,
    epochs: int,
    checkpoints: Sequence[int] | None = None,
    latent_epochs: Sequence[int] | None = None,
    lr: float = 1e-3,
    latent_dim: int = 2,
    hidden: int = 16,
    progress: bool = True,
    device: str | torch.device | None = None,
) -> SweepHistory:
    """Train one model per seed (all at once, full batch, Adam) for ``epochs`` and measure every
    seed at each of ``checkpoints`` (default :func:`default_checkpoints`).

    Each seed gets exactly the initial weights and updates ``train_bottleneck(seed=s)`` would
    give it (Adam is elementwise, so one Adam over stacked weights is many independent Adams).
    Probe latents are kept at ``latent_epochs`` (default: 0, 500, 1000, 2000, 4000 and the last
    epoch, those within range). ``device`` (default CPU) may be a GPU for large sweeps.
    """
    seeds = check_seeds(seeds)
    _check_common(normalize, epochs, lr, latent_dim, hidden)
    epochs = int(epochs)
    if checkpoints is None:
        schedule = default_checkpoints(epochs)
    else:
        if isinstance(checkpoints, (str, bytes)) or not hasattr(checkpoints, "__iter__"):
            raise TypeError("checkpoints must be a sequence of ints")
        schedule = np.asarray(list(checkpoints))
        if schedule.ndim != 1 or len(schedule) == 0 or not np.issubdtype(schedule.dtype, np.integer):
            raise ValueError("checkpoints must be a non-empty sequence of ints")
        if np.any(np.diff(schedule) <= 0) or schedule[0] < 0 or schedule[-1] > epochs:
            raise ValueError(f"checkpoints must increase strictly and lie in [0, epochs={epochs}]")
        schedule = schedule.astype(np.int64)
    if latent_epochs is None:
        latent_epochs = [e for e in (0, 500, 1000, 2000, 4000, epochs) if e in set(schedule.tolist())]
    keep = sorted(set(int(e) for e in latent_epochs))
    missing = [e for e in keep if e not in set(schedule.tolist())]
    if missing:
        raise ValueError(f"latent_epochs must be checkpoint epochs; {missing} are not")
    device = torch.device("cpu" if device is None else device)
    x = bottleneck_dataset().train_rgb.to(device)
    probe = probe_wheel()
    probe_x = torch.as_tensor(probe.rgb, dtype=torch.float32, device=device)
    band = torch.as_tensor(probe.held_out, device=device)
    config = {"normalize": bool(normalize), "epochs": epochs, "lr": float(lr), "latent_dim": int(latent_dim),
              "hidden": int(hidden), "checkpoints": schedule.tolist(), "latent_epochs": keep}

    params = {k: v.to(device).requires_grad_(True)
              for k, v in _stacked_init(seeds, int(latent_dim), int(hidden), bool(normalize)).items()}
    optimizer = torch.optim.Adam(list(params.values()), lr=float(lr))
    losses = torch.empty(len(seeds), epochs, device=device)
    take = set(schedule.tolist())
    zs, mses = [], []
    latents: dict[int, np.ndarray] = {}
    with cpu_threads():
        bar = progress_bar(total=epochs, desc=f"training {len(seeds)} seeds (normalize={bool(normalize)})",
                           disable=not progress, leave=True)
        for epoch in range(epochs + 1):
            if epoch in take:
                with torch.no_grad():
                    recon_p, z_p = _batched_forward(params, probe_x, bool(normalize))
                    err = ((recon_p - probe_x) ** 2).mean(dim=-1)  # (S, P)
                    train_now = ((_batched_forward(params, x, bool(normalize))[0] - x) ** 2).mean(dim=(1, 2))
                    mses.append(torch.stack([train_now, err[:, ~band].mean(-1), err[:, band].mean(-1)]).cpu().numpy())
                zs.append(z_p.cpu().numpy().astype(np.float32))
                if epoch in keep:
                    latents[epoch] = zs[-1]
            if epoch == epochs:
                break
            recon, _ = _batched_forward(params, x, bool(normalize))
            per_model = ((recon - x) ** 2).mean(dim=(1, 2))
            optimizer.zero_grad()
            per_model.sum().backward()  # each model gets exactly its own gradient
            optimizer.step()
            losses[:, epoch] = per_model.detach()
            bar.update(1)
        bar.close()

    z_all = np.stack(zs)  # (K, S, P, d)
    metrics = {k: np.asarray(v) for k, v in wheel_report(probe.hue, z_all).items()}
    mse = np.stack(mses)  # (K, 3, S)
    metrics.update(train_mse=mse[:, 0], trained_mse=mse[:, 1], band_mse=mse[:, 2])
    return SweepHistory(
        config=config,
        seeds=np.asarray(seeds),
        checkpoint_epochs=schedule,
        losses=losses.cpu().numpy().astype(np.float32),
        metrics=metrics,
        latents=latents,
        final_state={k: v.detach().cpu().clone() for k, v in params.items()},
        probe_hue=probe.hue.copy(),
    )


def cached_training_sweep(
    seeds: Sequence[int],
    *,
    normalize: bool,
    epochs: int,
    lr: float = 1e-3,
    latent_dim: int = 2,
    hidden: int = 16,
    progress: bool = True,
) -> SweepHistory:
    """:func:`training_sweep` with the default checkpoints, through ``course_lib.cache``
    ("color-training-sweep")."""
    seeds = check_seeds(seeds)
    _check_common(normalize, epochs, lr, latent_dim, hidden)
    kwargs = dict(normalize=bool(normalize), epochs=int(epochs), lr=float(lr),
                  latent_dim=int(latent_dim), hidden=int(hidden))
    return cache.cached("color-training-sweep", dict(kwargs, seeds=seeds),
                        lambda: training_sweep(seeds, **kwargs, progress=progress))
