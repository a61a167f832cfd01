"""What Chapter 2's trainer leaves behind: one run (:class:`CurriculumRun`) or many seeds trained at
once (:class:`CurriculumSweep`), numpy arrays and CPU tensors only (they pickle into the cache).

Both follow the course's checkpoint protocol (:mod:`course_lib.checkpoints`): ``checkpoint_steps``
(a 1-D int64 array) and ``model_at(step)`` (a sweep's takes the seed too) that raises for a step
that was not saved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import torch

from ..checkpoints import CheckpointedRun, checkpoint_index, state_copy
from ..color.model import ColorAutoencoder
from ..validation import check_choice

__all__ = ["CurriculumRun", "CurriculumSweep", "ProbeCheckpoints", "FORMAT"]

#: Cache-format tag of these records (bump when the pickled classes change shape).
FORMAT = "checkpoints-v1"


class ProbeCheckpoints:
    """A colour trainer's ``on_checkpoint`` that keeps what a record holds: at each checkpoint the
    probe set's latents and reconstructions (float32; models first for a stack) and a copy of the
    weights."""

    def __init__(self, model: torch.nn.Module, probe_x: torch.Tensor) -> None:
        self.model, self.probe_x = model, probe_x
        self.latents: list[np.ndarray] = []
        self.recons: list[np.ndarray] = []
        self.states: list[dict[str, torch.Tensor]] = []

    def __call__(self, step: int) -> None:
        with torch.no_grad():
            recon, z = self.model(self.probe_x)
        self.latents.append(z.cpu().numpy().astype(np.float32))
        self.recons.append(recon.cpu().numpy().astype(np.float32))
        self.states.append(state_copy(self.model))

    def of_models(self, part: Any) -> dict[str, Any]:
        """``probe_latents``, ``probe_recon`` and ``states`` of the stack's models ``part`` (an index
        or a slice of the model axis), as a record's fields."""
        return dict(probe_latents=np.stack([z[part] for z in self.latents]),
                    probe_recon=np.stack([r[part] for r in self.recons]),
                    states=[{k: v[part].clone() for k, v in st.items()} for st in self.states])


def _rebuild(config: Mapping[str, Any], state: Mapping[str, torch.Tensor]) -> ColorAutoencoder:
    model = ColorAutoencoder(latent_dim=config["latent_dim"], hidden=config["hidden"],
                             normalize=config["normalize"], activation=config["activation"])
    model.load_state_dict({k: v.clone() for k, v in state.items()})
    return model.eval()


@dataclass
class _Record:
    """What a run and a sweep both record (see each class for the shapes)."""

    config: dict[str, Any]
    losses: dict[str, np.ndarray]
    values: dict[str, np.ndarray]
    n_data: np.ndarray
    checkpoint_steps: np.ndarray
    probe_rgb: np.ndarray
    probe_latents: np.ndarray
    probe_recon: np.ndarray
    states: list[dict[str, torch.Tensor]]


@dataclass
class CurriculumRun(_Record, CheckpointedRun):
    """One trained model and its history.

    ``losses[name][t]``: ``"loss"`` (the total), ``"recon"`` (MSE) and each raw, unweighted term
    at update ``t`` (t = 0 … steps−1, measured in update t's forward pass). ``values[name][t]``:
    each schedule value used for update ``t`` (``"lr"`` included). ``n_data[t]``: how many colours
    the data held at update ``t``. At each of ``checkpoint_steps[k]`` (after that many updates):
    ``probe_latents[k]`` (P, d), ``probe_recon[k]`` (P, 3) and ``states[k]`` (a state_dict).
    ``advanced_at``: the steps at which a reactive schedule advanced (empty otherwise).
    """

    advanced_at: list[float] = field(default_factory=list)
    metrics: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def steps(self) -> int:
        """How many updates the run made."""
        return int(self.config["steps"])

    def _model_from(self, index: int) -> ColorAutoencoder:
        return _rebuild(self.config, self.states[index])

    def latents_at(self, step: int) -> np.ndarray:
        """Probe latents (P, d) after ``step`` updates (a checkpoint step)."""
        return self.probe_latents[self.checkpoint_index(step)]

    def probe_mse(self) -> np.ndarray:
        """Reconstruction MSE of the probe set at every checkpoint, shape (K,)."""
        return np.mean((self.probe_recon - self.probe_rgb[None]) ** 2, axis=(1, 2))


@dataclass
class CurriculumSweep(_Record):
    """Many seeds trained at once; arrays carry a seed axis.

    ``losses[name]`` (S, steps); ``values[name]`` (steps,) (shared by every seed);
    ``probe_latents`` (K, S, P, d) and ``probe_recon`` (K, S, P, 3) at ``checkpoint_steps``;
    ``states[k][param]`` stacked (S, …).
    """

    seeds: np.ndarray

    @property
    def n_seeds(self) -> int:
        return len(self.seeds)

    def _seed_index(self, seed: Any) -> int:
        check_choice(seed, "seed", [int(s) for s in self.seeds])
        return int(np.flatnonzero(self.seeds == seed)[0])

    def model_at(self, step: int, seed: int) -> ColorAutoencoder:
        """Seed ``seed``'s model after ``step`` updates (a checkpoint step), CPU, eval mode."""
        k = checkpoint_index(self.checkpoint_steps, step)
        s = self._seed_index(seed)
        return _rebuild(self.config, {n: v[s] for n, v in self.states[k].items()})

    def run_of(self, seed: int) -> CurriculumRun:
        """Seed ``seed``'s record as a :class:`CurriculumRun` (its slice of every per-seed array; the
        schedule values and data sizes are shared). No training: a sweep's seed is the run
        :func:`~.train.train_run` would give for that seed, up to floating-point summation order."""
        s = self._seed_index(seed)
        return CurriculumRun(
            config=dict(self.config, seed=int(seed)),
            losses={name: np.asarray(v[s]) for name, v in self.losses.items()},
            values=dict(self.values), n_data=self.n_data, checkpoint_steps=self.checkpoint_steps,
            probe_rgb=self.probe_rgb, probe_latents=self.probe_latents[:, s],
            probe_recon=self.probe_recon[:, s],
            states=[{n: v[s].clone() for n, v in state.items()} for state in self.states])

    def latents_at(self, step: int) -> np.ndarray:
        """Every seed's probe latents (S, P, d) after ``step`` updates (a checkpoint step)."""
        return self.probe_latents[checkpoint_index(self.checkpoint_steps, step)]

    def probe_mse(self) -> np.ndarray:
        """Probe reconstruction MSE, shape (K, S)."""
        return np.mean((self.probe_recon - self.probe_rgb[None, None]) ** 2, axis=(2, 3))
