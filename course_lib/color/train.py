"""Training the bottleneck autoencoder, with snapshots to watch the wheel form.

:func:`train_bottleneck` is the plain recipe (Adam, full batch, MSE on the training colours) and
records, at evenly spaced epochs, where the whole probe wheel (held-out band included) lands in
latent space. :func:`cached_bottleneck` does the same through the course cache.
:func:`seed_sweep` answers "how often does the wheel form?" by training many seeds at once as one
batch of independent models (``torch.func.stack_module_state`` + ``torch.vmap``): each seed gets
exactly the initial weights and the updates that :func:`train_bottleneck` would give it (Adam is
elementwise, so one Adam over stacked weights is many independent Adams).
"""

from __future__ import annotations

import contextlib
import copy
from dataclasses import dataclass, field
from typing import Any, Iterator, Iterable, Sequence

import numpy as np
import torch
from .. import cache
from ..runtime import by_profile, seed_everything
from ..widgets import progress as progress_bar
from .data import ColorData, bottleneck_dataset, in_band, probe_wheel
from .metrics import hue_order_score, is_wheel, winding_number
from .model import ColorAutoencoder

__all__ = [
    "PROFILE_SETTINGS",
    "TrainingRun",
    "train_bottleneck",
    "cached_bottleneck",
    "seed_sweep",
    "cached_seed_sweep",
    "settings",
    "snapshot_schedule",
    "wheel_verdicts",
]

#: Per-profile settings for the chapter (see ``course_lib.runtime`` for the profiles).
#: ``epochs``/``n_snapshots``: the single watched training run; ``sweep_seeds``/``sweep_epochs``:
#: how many seeds the "how often does the wheel form?" sweep trains, and for how long.
#: Measured on 2 busy CPU cores: one 500-epoch run ≈ 0.6 s (+ ≈ 1.5 s one-off warm-up on the
#: first Adam), a 500-epoch sweep ≈ 3–4 s for 32 seeds, ≈ 8 s for 64, ≈ 30 s for 256. The sweep
#: stays at the recipe's 500 epochs in every profile: the with/without-normalisation contrast is
#: a statement about that recipe (with 2000 epochs the un-normalised runs catch up).
PROFILE_SETTINGS: dict[str, dict[str, int]] = {
    "quick": {"epochs": 500, "n_snapshots": 51, "sweep_seeds": 32, "sweep_epochs": 500},
    "standard": {"epochs": 500, "n_snapshots": 51, "sweep_seeds": 64, "sweep_epochs": 500},
    "full": {"epochs": 2000, "n_snapshots": 101, "sweep_seeds": 256, "sweep_epochs": 500},
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

    def model(self) -> ColorAutoencoder:
        """Rebuild the trained :class:`ColorAutoencoder` (CPU, eval mode)."""
        cfg = self.config
        model = ColorAutoencoder(
            latent_dim=cfg["latent_dim"],
            hidden=cfg["hidden"],
            normalize=cfg["normalize"],
            activation=cfg.get("activation", "relu"),
        )
        model.load_state_dict(self.state_dict)
        return model.eval()

    def hue_order(self, index: int = -1) -> float:
        """:func:`hue_order_score` of the probe wheel at snapshot ``index``."""
        return hue_order_score(self.probe_hue, self.probe_latents[index])

    def summary(self) -> dict[str, Any]:
        """Final hue-order score (whole probe wheel, and seen hues only), winding number, wheel
        verdicts (around the origin, and as a loop anywhere) and training/probe MSE."""
        z = self.probe_latents[-1]
        return {
            **wheel_verdicts(self.probe_hue, z, seen=~in_band(self.probe_hue)),
            "recon_mse": float(self.final_mse),
            "probe_mse": float(self.probe_recon_mse[-1]),
        }


def wheel_verdicts(hue: np.ndarray, z: np.ndarray, seen: np.ndarray) -> dict[str, Any]:
    """How one set of probe latents ``z`` scores: hue order (all hues, and the ``seen`` ones
    only), winding number, wheel around the origin, ordered loop around its own centre."""
    return {
        "hue_order": hue_order_score(hue, z),
        "hue_order_seen": hue_order_score(hue[seen], z[seen]),
        "winding": winding_number(hue, z),
        "is_wheel": is_wheel(hue, z),
        "is_loop": is_wheel(hue, z, center="mean"),
    }


def snapshot_schedule(epochs: int, n_snapshots: int) -> np.ndarray:
    """``n_snapshots`` evenly spaced epochs from 0 to ``epochs`` (both included, no repeats)."""
    if n_snapshots < 2:
        raise ValueError(f"n_snapshots must be at least 2 (before and after training), got {n_snapshots}")
    return np.unique(np.rint(np.linspace(0, epochs, n_snapshots)).astype(np.int64))


def _check_common(normalize: Any, epochs: Any, lr: Any, latent_dim: Any, hidden: Any) -> None:
    if not isinstance(normalize, (bool, np.bool_)):
        raise TypeError(f"normalize must be True or False, got {normalize!r}")
    for name, value in (("epochs", epochs), ("latent_dim", latent_dim), ("hidden", hidden)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not 0 < lr < float("inf"):
        raise ValueError(f"lr must be a positive number, got {lr!r}")
    if latent_dim < 2:
        raise ValueError(f"latent_dim must be at least 2 to hold a wheel, got {latent_dim}")


@contextlib.contextmanager
def _one_cpu_thread() -> Iterator[None]:
    """Run torch on one CPU thread, then restore the setting.

    These models are so small that extra threads only add synchronisation; on a busy 2-core
    machine two spinning threads made training 3–5× slower than one.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


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

    with _one_cpu_thread():
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
    latents, probe_mse = [], []
    take = set(schedule.tolist())
    bar = progress_bar(total=epochs, desc=f"training (normalize={config['normalize']}, seed={seed})",
               disable=not progress, leave=True)
    for epoch in range(epochs + 1):
        if epoch in take:
            with torch.no_grad():
                recon, z = model(probe_x)
            latents.append(z.numpy().copy())
            probe_mse.append(float(_mse(recon, probe_x)))
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
    )


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
    config = dict(kwargs, data="bottleneck_dataset()")
    return cache.cached("color-bottleneck", config,
                        lambda: train_bottleneck(**kwargs, progress=progress))


def _check_seeds(seeds: Iterable[int]) -> list[int]:
    if isinstance(seeds, (int, np.integer)):
        raise TypeError("seeds must be a sequence of ints, e.g. range(20)")
    out = list(seeds)
    if not out:
        raise ValueError("seeds must not be empty")
    for s in out:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)):
            raise TypeError(f"every seed must be an int, got {s!r}")
    if len(set(out)) != len(out):
        raise ValueError("seeds must be distinct")
    return [int(s) for s in out]


def _train_ensemble(
    seeds: list[int],
    x: torch.Tensor,
    probe_x: torch.Tensor,
    *,
    normalize: bool,
    epochs: int,
    lr: float,
    latent_dim: int,
    hidden: int,
    progress: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Train one model per seed as one vmapped ensemble; return (train MSE, probe MSE, probe z)."""
    device = x.device
    models = []
    for s in seeds:  # the same initialisation train_bottleneck(seed=s) uses
        seed_everything(s)
        models.append(ColorAutoencoder(latent_dim=latent_dim, hidden=hidden, normalize=normalize))
    params, buffers = torch.func.stack_module_state(models)
    params = {k: v.detach().to(device).requires_grad_(True) for k, v in params.items()}
    template = copy.deepcopy(models[0]).to("meta")

    def one_model(p: dict, b: dict, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.func.functional_call(template, (p, b), (inputs,))

    ensemble = torch.vmap(one_model, in_dims=(0, 0, None))
    optimizer = torch.optim.Adam(list(params.values()), lr=lr)
    for _ in progress_bar(range(epochs), desc=f"seed sweep ({len(seeds)} seeds, normalize={normalize})",
                  disable=not progress, leave=True):
        recon, _ = ensemble(params, buffers, x)
        # summing the per-model means gives each model exactly its own gradient
        per_model = torch.mean((recon - x) ** 2, dim=(1, 2))
        optimizer.zero_grad()
        per_model.sum().backward()
        optimizer.step()

    with torch.no_grad():
        recon, _ = ensemble(params, buffers, x)
        train_mse = torch.mean((recon - x) ** 2, dim=(1, 2)).cpu().numpy()
        probe_recon, probe_z = ensemble(params, buffers, probe_x)
        probe_mse = torch.mean((probe_recon - probe_x) ** 2, dim=(1, 2)).cpu().numpy()
    return train_mse, probe_mse, probe_z.cpu().numpy()


def seed_sweep(
    seeds: Sequence[int],
    *,
    normalize: bool,
    epochs: int,
    lr: float = 1e-3,
    latent_dim: int = 2,
    hidden: int = 16,
    progress: bool = True,
    device: str | torch.device | None = None,
) -> list[dict[str, Any]]:
    """Train one model per seed (all at once) and say, per seed, whether a wheel formed.

    Returns one dict per seed: ``seed``, ``hue_order`` (:func:`hue_order_score` on the probe
    wheel), ``winding``, ``is_wheel``, ``is_loop`` (an ordered loop around the latents' own
    centre, which need not be the origin), ``hue_order_seen`` (the score on the hues seen in
    training only), ``recon_mse`` (final training MSE), ``probe_mse``
    (MSE on the full wheel, held-out band included) and ``probe_latents`` (P, latent_dim).
    Each seed's result matches ``train_bottleneck(seed=s, ...)`` up to float rounding.
    ``device`` (default CPU) may be a GPU for large sweeps (the ``full`` profile).
    """
    seeds = _check_seeds(seeds)
    _check_common(normalize, epochs, lr, latent_dim, hidden)
    device = torch.device("cpu" if device is None else device)
    x = bottleneck_dataset().train_rgb.to(device)
    probe = probe_wheel()
    probe_x = torch.as_tensor(probe.rgb, dtype=torch.float32, device=device)
    with _one_cpu_thread():
        train_mse, probe_mse, probe_z = _train_ensemble(
            seeds, x, probe_x, normalize=bool(normalize), epochs=int(epochs), lr=float(lr),
            latent_dim=int(latent_dim), hidden=int(hidden), progress=progress,
        )

    hue, seen = probe.hue, ~probe.held_out
    results = []
    for i, s in enumerate(seeds):
        z = probe_z[i]
        results.append({
            "seed": s,
            **wheel_verdicts(hue, z, seen),
            "recon_mse": float(train_mse[i]),
            "probe_mse": float(probe_mse[i]),
            "probe_latents": z.astype(np.float32).copy(),
        })
    return results


def cached_seed_sweep(
    seeds: Sequence[int],
    *,
    normalize: bool,
    epochs: int,
    lr: float = 1e-3,
    latent_dim: int = 2,
    hidden: int = 16,
    progress: bool = True,
) -> list[dict[str, Any]]:
    """:func:`seed_sweep` through ``course_lib.cache`` ("color-seed-sweep")."""
    seeds = _check_seeds(seeds)
    kwargs = dict(normalize=bool(normalize), epochs=int(epochs), lr=float(lr),
                  latent_dim=int(latent_dim), hidden=int(hidden))
    _check_common(normalize, epochs, lr, latent_dim, hidden)
    return cache.cached("color-seed-sweep", dict(kwargs, seeds=seeds),
                        lambda: seed_sweep(seeds, **kwargs, progress=progress))
