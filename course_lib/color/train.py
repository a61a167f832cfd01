"""Training the bottleneck autoencoder, with checkpoints to watch the wheel form.

:func:`train_bottleneck` is the plain recipe (Adam, full batch, MSE on the training colours) and
records, at evenly spaced epochs, where the whole probe wheel (held-out band included) lands in
latent space. :func:`cached_bottleneck` does the same through the course cache.
:func:`training_sweep` answers "how often, and when, does the wheel form?" by training many seeds
at once (a :class:`~course_lib.color.StackedColorAutoencoder`), measured at checkpoints along the
way: each seed gets exactly the initial weights and the updates that :func:`train_bottleneck` would
give it (measured: bit-identical losses and latents over notebook 1.2's watched run). Both run the
family's one loop, :func:`course_lib.color.trainer.fit`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn

from .. import cache
from ..checkpoints import CheckpointedRun, as_checkpoint_steps, checkpoint_index, even_steps, state_copy
from ..runtime import by_profile, check_seeds, seeded
from ..validation import check_choice, check_float, check_int
from .data import ColorData, bottleneck_dataset, in_band, probe_wheel
from .metrics import hue_order_score, transition_epochs, wheel_report
from .model import ACTIVATIONS, ColorAutoencoder, StackedColorAutoencoder
from .trainer import fit, mse_per_model

__all__ = [
    "PROFILE_SETTINGS",
    "TrainingRun",
    "train_bottleneck",
    "cached_bottleneck",
    "settings",
    "SweepHistory",
    "training_sweep",
    "cached_training_sweep",
    "default_checkpoints",
]

#: Cache-format tag of this module's records (bump when the pickled classes change shape).
FORMAT = "checkpoints-v1"

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
class TrainingRun(CheckpointedRun):
    """Everything one training run leaves behind (numpy arrays and CPU tensors: cache-friendly).

    ``losses[i]`` is the full-batch training MSE after ``i`` updates (computed in the forward
    pass of update ``i + 1``); ``final_mse`` is the MSE after the last update.
    ``probe_latents[k]`` are the latents of :func:`probe_wheel` after ``checkpoint_steps[k]``
    updates (epoch 0 = the untrained model), and ``probe_recon_mse[k]`` their reconstruction MSE.
    ``states[k]`` is the model's state_dict there (what :meth:`model_at` rebuilds; Chapter 5
    measures the learning coefficient there, with :meth:`loss_fn`).
    """

    config: dict[str, Any]
    state_dict: dict[str, torch.Tensor]
    losses: np.ndarray
    checkpoint_steps: np.ndarray
    probe_latents: np.ndarray
    probe_recon_mse: np.ndarray
    states: list[dict[str, torch.Tensor]]
    final_mse: float = float("nan")
    probe_hue: np.ndarray = field(default_factory=lambda: probe_wheel().hue)
    #: ``probe_recon[k]``: the probe wheel's reconstructions (P, 3) at checkpoint k.
    probe_recon: np.ndarray | None = None
    #: ``strip[k]``: what the decoder makes of 360 latent angles (0°, 1°, …) at checkpoint k, (360, 3):
    #: on the unit circle when normalised, else on the circle through the trained latents
    #: (their mean distance around their mean).
    strip: np.ndarray | None = None

    def report(self, index: int = -1) -> dict[str, Any]:
        """:func:`~course_lib.color.metrics.wheel_report` at checkpoint ``index``, plus the
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

    def _model_from(self, index: int) -> ColorAutoencoder:
        cfg = self.config
        model = ColorAutoencoder(latent_dim=cfg["latent_dim"], hidden=cfg["hidden"], normalize=cfg["normalize"],
                                 activation=cfg.get("activation", "relu"))
        model.load_state_dict(self.states[index])
        return model.eval()

    @staticmethod
    def loss_fn(model: nn.Module, batch: tuple) -> torch.Tensor:
        """The training loss: reconstruction MSE of the batch ``(x,)``."""
        (x,) = batch
        recon, _ = model(x)
        return mse_per_model(recon, x)

    def hue_order(self, index: int = -1) -> float:
        """:func:`hue_order_score` of the probe wheel at checkpoint ``index``."""
        return hue_order_score(self.probe_hue, self.probe_latents[index])


def _check_common(normalize: Any, epochs: Any, lr: Any, latent_dim: Any, hidden: Any) -> None:
    if not isinstance(normalize, (bool, np.bool_)):
        raise TypeError(f"normalize must be True or False, got {normalize!r}")
    check_int(epochs, "epochs", min=1)
    check_int(hidden, "hidden", min=1)
    check_int(latent_dim, "latent_dim", min=2)  # two dims at least, to hold a wheel
    check_float(lr, "lr", min=0, inclusive="neither")


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
    """Train one bottleneck autoencoder (Adam, full batch, MSE) with ``n_snapshots`` evenly spaced
    checkpoints (:func:`course_lib.checkpoints.even_steps`).

    Trains on ``data.train_rgb`` (default: :func:`bottleneck_dataset`, band held out) on the
    CPU — for a model this small the CPU beats a GPU's launch overhead. The same ``seed`` gives
    the same run.
    """
    _check_common(normalize, epochs, lr, latent_dim, hidden)
    check_int(n_snapshots, "n_snapshots", min=2)
    if data is None:
        data = bottleneck_dataset()
    elif not isinstance(data, ColorData):
        raise TypeError(f"data must be a ColorData (e.g. bottleneck_dataset()), got {type(data).__name__}")
    x = data.train_rgb
    if len(x) == 0:
        raise ValueError("data has no training samples (every colour is held out)")
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
    return _train_one(x, probe_wheel(), even_steps(int(epochs), int(n_snapshots)), config, progress)


def _train_one(
    x: torch.Tensor, probe: ColorData, schedule: np.ndarray, config: dict[str, Any], progress: bool
) -> TrainingRun:
    """:func:`train_bottleneck`'s records around :func:`~course_lib.color.trainer.fit`."""
    epochs, seed = config["epochs"], config["seed"]
    probe_x = torch.as_tensor(probe.rgb, dtype=torch.float32)
    with seeded(seed):     # the initial weights are global draws right after seeding
        model = ColorAutoencoder(latent_dim=config["latent_dim"], hidden=config["hidden"],
                                 normalize=config["normalize"])
    losses = np.empty(epochs)
    latents, probe_mse, recons, strips, states = [], [], [], [], []
    seen = torch.as_tensor(~probe.held_out)

    def checkpoint(epoch: int) -> None:
        with torch.no_grad():
            recon, z = model(probe_x)
        latents.append(z.numpy().copy())
        probe_mse.append(float(mse_per_model(recon, probe_x)))
        recons.append(recon.numpy().copy())
        strips.append(_strip(model, z[seen]).numpy())
        states.append(state_copy(model))

    def record(epoch: int, loss: torch.Tensor, parts: Any) -> None:
        losses[epoch] = loss.item()

    fit(model, steps=epochs, batch_at=lambda epoch: (x, config["lr"]),
        loss=lambda m, xb, epoch: (mse_per_model(m(xb)[0], xb), None), lr=config["lr"],
        checkpoints=schedule, on_checkpoint=checkpoint, after_update=record,
        desc=f"training (normalize={config['normalize']}, seed={seed})", progress=progress)
    with torch.no_grad():
        final_mse = float(mse_per_model(model(x)[0], x))

    return TrainingRun(
        config=config,
        state_dict=state_copy(model),
        losses=losses,
        checkpoint_steps=schedule,
        probe_latents=np.stack(latents).astype(np.float32),
        probe_recon_mse=np.asarray(probe_mse),
        states=states,
        final_mse=final_mse,
        probe_hue=probe.hue.copy(),
        probe_recon=np.stack(recons).astype(np.float32),
        strip=np.stack(strips).astype(np.float32),
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
    # "format": the shape of the pickled record (checkpoint protocol); older entries are not found
    config = dict(kwargs, data="bottleneck_dataset()", records="latents+recon+strip+states", format=FORMAT)
    return cache.cached("color-bottleneck", config,
                        lambda: train_bottleneck(**kwargs, progress=progress))


# --------------------------------------------------------------------------- one sweep, every length
#
# ``training_sweep`` trains every seed once, to the longest length, and measures every seed at
# checkpoint epochs along the way: the rate at 500, 1,000, 2,000 and 4,000 epochs then comes from
# the same runs, and each seed's history says *when* its wheel formed.

def default_checkpoints(epochs: int) -> np.ndarray:
    """Checkpoint epochs for :func:`training_sweep`: every 10 epochs up to 1,000 (where the wheels
    form), then every 50: 0, 10, …, 1000, 1050, …, ``epochs``."""
    epochs = check_int(epochs, "epochs", min=1)
    fine = np.arange(0, min(epochs, 1000) + 1, 10)
    coarse = np.arange(1000, epochs + 1, 50)
    return np.unique(np.r_[fine, coarse, epochs]).astype(np.int64)


@dataclass
class SweepHistory:
    """Many seeds trained once, measured at checkpoints (numpy arrays: cache-friendly).

    ``losses[s, t]``: training MSE of seed ``seeds[s]`` after ``t`` updates (as in
    :class:`TrainingRun`). ``metrics[name][k, s]``: :func:`~course_lib.color.metrics.wheel_report`'s
    ``name`` for seed ``s`` after ``checkpoint_steps[k]`` updates, plus ``train_mse``,
    ``trained_mse`` and ``band_mse`` (output-space MSE of the probe wheel's trained hues and of the
    held-out band, S = V = 1). ``latents[e]``: probe latents (S, P, d) at the few epochs in
    ``latent_epochs``. ``final_state[name]``: every seed's final weights, stacked on dim 0.
    """

    config: dict[str, Any]
    seeds: np.ndarray
    checkpoint_steps: np.ndarray
    losses: np.ndarray
    metrics: dict[str, np.ndarray]
    latents: dict[int, np.ndarray]
    final_state: dict[str, torch.Tensor]
    probe_hue: np.ndarray = field(default_factory=lambda: probe_wheel().hue)

    @property
    def n_seeds(self) -> int:
        return len(self.seeds)

    def index(self, epoch: int) -> int:
        """Position of checkpoint ``epoch`` (the protocol's ValueError if it is not one)."""
        return checkpoint_index(self.checkpoint_steps, epoch)

    def _metric(self, name: str) -> np.ndarray:
        return self.metrics[check_choice(name, "name", sorted(self.metrics))]

    def at(self, name: str, epoch: int) -> np.ndarray:
        """Metric ``name`` for every seed at checkpoint ``epoch``, shape (S,)."""
        return self._metric(name)[self.index(epoch)]

    def count(self, name: str, epoch: int) -> tuple[int, int]:
        """``(successes, n)`` of a yes/no metric at ``epoch``, ready for ``course_lib.stats``."""
        flags = self.at(name, epoch)
        return int(np.sum(flags.astype(bool))), int(len(flags))

    def transitions(self, name: str = "trained_wheel", threshold: float = 0.5) -> np.ndarray:
        """Each seed's transition epoch for metric ``name`` (NaN: never, or not for good)."""
        return transition_epochs(self.checkpoint_steps, self._metric(name).T, threshold)

    def model(self, seed: int) -> ColorAutoencoder:
        """Rebuild seed ``seed``'s final model (CPU, eval mode)."""
        check_choice(seed, "seed", [int(s) for s in self.seeds])
        cfg = self.config
        stack = StackedColorAutoencoder(self.final_state, normalize=cfg["normalize"],
                                        activation=cfg.get("activation", "relu"))
        return stack.unstack(int(np.flatnonzero(self.seeds == seed)[0]))


def training_sweep(
    seeds: Sequence[int],
    *,
    normalize: bool,
    epochs: int,
    checkpoint_steps: Sequence[int] | None = None,
    latent_epochs: Sequence[int] | None = None,
    lr: float = 1e-3,
    latent_dim: int = 2,
    hidden: int = 16,
    progress: bool = True,
    device: str | torch.device | None = None,
    activation: str = "relu",
) -> SweepHistory:
    """Train one model per seed (all at once, full batch, Adam) for ``epochs`` and measure every
    seed at each of ``checkpoint_steps`` (default :func:`default_checkpoints`).

    Each seed gets exactly the initial weights and updates ``train_bottleneck(seed=s)`` would
    give it (see :class:`~course_lib.color.StackedColorAutoencoder`). Probe latents are kept at
    ``latent_epochs`` (default: 0, 500, 1000, 2000, 4000 and the last epoch, those within range).
    ``device`` (default CPU) may be a GPU for large sweeps. ``activation`` names the hidden
    layers' nonlinearity (:data:`~course_lib.color.model.ACTIVATIONS`; ``"identity"``: the linear
    control — the same initial weights, since the activation has no parameters).
    """
    seeds = check_seeds(seeds)
    check_choice(activation, "activation", sorted(ACTIVATIONS))
    _check_common(normalize, epochs, lr, latent_dim, hidden)
    epochs = int(epochs)
    if checkpoint_steps is None:
        schedule = default_checkpoints(epochs)
    else:
        schedule = as_checkpoint_steps(checkpoint_steps, last=epochs)
    saved = set(schedule.tolist())
    if latent_epochs is None:
        latent_epochs = [e for e in (0, 500, 1000, 2000, 4000, epochs) if e in saved]
    keep = sorted(set(int(e) for e in latent_epochs))
    missing = [e for e in keep if e not in saved]
    if missing:
        raise ValueError(f"latent_epochs must be checkpoint epochs; {missing} are not")
    device = torch.device("cpu" if device is None else device)
    x = bottleneck_dataset().train_rgb.to(device)
    probe = probe_wheel()
    probe_x = torch.as_tensor(probe.rgb, dtype=torch.float32, device=device)
    band = torch.as_tensor(probe.held_out, device=device)
    config = {"normalize": bool(normalize), "epochs": epochs, "lr": float(lr), "latent_dim": int(latent_dim),
              "hidden": int(hidden), "checkpoints": schedule.tolist(), "latent_epochs": keep,
              "activation": activation}

    model = StackedColorAutoencoder.from_seeds(seeds, latent_dim=int(latent_dim), hidden=int(hidden),
                                               normalize=bool(normalize),
                                               activation=activation).to(device)
    losses = torch.empty(len(seeds), epochs, device=device)
    zs, mses = [], []
    latents: dict[int, np.ndarray] = {}

    def checkpoint(epoch: int) -> None:
        with torch.no_grad():
            recon_p, z_p = model(probe_x)
            err = ((recon_p - probe_x) ** 2).mean(dim=-1)  # (S, P)
            train_now = mse_per_model(model(x)[0], x)
            mses.append(torch.stack([train_now, err[:, ~band].mean(-1), err[:, band].mean(-1)]).cpu().numpy())
        zs.append(z_p.cpu().numpy().astype(np.float32))
        if epoch in keep:
            latents[epoch] = zs[-1]

    def record(epoch: int, per_model: torch.Tensor, parts: Any) -> None:
        losses[:, epoch] = per_model

    fit(model, steps=epochs, batch_at=lambda epoch: (x, float(lr)),
        loss=lambda m, xb, epoch: (mse_per_model(m(xb)[0], xb), None), lr=float(lr),
        checkpoints=schedule, on_checkpoint=checkpoint, after_update=record, n_models=len(seeds),
        desc=f"training {len(seeds)} seeds (normalize={bool(normalize)}, {activation})",
        progress=progress)

    z_all = np.stack(zs)  # (K, S, P, d)
    metrics = {k: np.asarray(v) for k, v in wheel_report(probe.hue, z_all).items()}
    mse = np.stack(mses)  # (K, 3, S)
    metrics.update(train_mse=mse[:, 0], trained_mse=mse[:, 1], band_mse=mse[:, 2])
    return SweepHistory(
        config=config,
        seeds=np.asarray(seeds),
        checkpoint_steps=schedule,
        losses=losses.cpu().numpy().astype(np.float32),
        metrics=metrics,
        latents=latents,
        final_state=state_copy(model),
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
    activation: str = "relu",
) -> SweepHistory:
    """:func:`training_sweep` with the default checkpoints, through ``course_lib.cache``
    ("color-training-sweep"; the ReLU runs keep their old key)."""
    seeds = check_seeds(seeds)
    _check_common(normalize, epochs, lr, latent_dim, hidden)
    check_choice(activation, "activation", sorted(ACTIVATIONS))
    kwargs = dict(normalize=bool(normalize), epochs=int(epochs), lr=float(lr),
                  latent_dim=int(latent_dim), hidden=int(hidden))
    key = dict(kwargs, seeds=seeds, format=FORMAT)
    if activation != "relu":
        key["activation"] = activation
    return cache.cached("color-training-sweep", key,
                        lambda: training_sweep(seeds, **kwargs, progress=progress,
                                               activation=activation))
