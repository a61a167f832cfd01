"""The course's own training runs, seen the way the learning coefficient needs them.

Chapter 5 measures the local learning coefficient (LLC) along the training runs of chapters 1–3.
For each run the estimator needs, at every checkpoint: the model there, the loss it was trained
with, and the data it was trained on. Each adapter below imports the chapter's public run function
(and its cache), and returns a :class:`CourseRun` holding exactly that, plus the chapter's own
behavioural measurements per checkpoint (``probes``) and its behavioural phase boundaries
(``phases``), which the LLC's stage boundaries are compared against.

* :func:`grokking_run` — Chapter 3's modular-addition transformer
  (:func:`course_lib.modular.modular_addition_run`): cross-entropy on the **training pairs**;
  probes: train/test loss and accuracy, restricted/excluded loss, weight norm; phases: the end of
  memorisation, circuit formation and clean-up, and the grokking step (honest test accuracy ≥ 95 %).
* :func:`colour_run` — Chapter 1's bottleneck autoencoder (:func:`course_lib.color.cached_bottleneck`,
  the watched run of notebook 1.2): reconstruction MSE on the training colours; probes: the hue-order
  score of the probe wheel and the losses; phase: the epoch from which the trained hues form a wheel.
* :func:`anchored_colour_run` — Chapter 2's anchored colour model
  (:func:`course_lib.curriculum.anchored_run`): the loss of that step (MSE + the anchor and
  separation terms at their scheduled weights) on the curriculum's data **at that step**; probes:
  red's cosine with the anchor, hue evenness, losses, data size; phases: the step from which red is
  anchored, the first update on more than the 36 pure hues, and the first on all the data.

Every model returned by ``model_at`` is vmap-friendly (the estimator runs its chains with
``torch.vmap``). Chapter 3's transformer validates its token ids with a data-dependent ``if``,
which ``vmap`` cannot trace when each chain draws its own minibatch; :func:`grokking_run` therefore
checks the training pairs once, here, and hands out the same model with only the shape checks
(:class:`_CheckedOnceTransformer`; same parameters, same forward).

Parameter groups (``groups``, names as in ``model.named_parameters()``) are what the
weight-refined LLC samples; data subsets (``subsets``, boolean masks over the training rows) are
what the data-refined LLC is measured on — only training data: the posterior is the training loss's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional

import numpy as np
import torch
from torch import nn

from ..checkpoints import checkpoint_index
from ..validation import check_seed

__all__ = ["CourseRun", "grokking_run", "colour_run", "anchored_colour_run", "COURSE_RUNS"]

LossFn = Callable[[nn.Module, tuple], torch.Tensor]


@dataclass
class CourseRun:
    """One chapter's training run, ready for the LLC at each checkpoint.

    ``checkpoint_steps`` (K,): the checkpoint steps (updates; full-batch epochs for Chapter 1), the
    checkpoint protocol's array (:mod:`course_lib.checkpoints`).
    ``model_at(step)``: the model there (CPU, eval mode). ``loss_fn(model, batch)``: the scalar mean
    training loss of a batch tuple. ``data_at(step)``: the training data at that step (a tuple of
    tensors sharing dim 0; the same at every step except in Chapter 2's curriculum).
    ``probes[name]`` (K,): the chapter's behavioural measurements at each checkpoint.
    ``phases[name]``: behavioural phase boundaries (steps; ``None``: not reached).
    ``groups[name]``: parameter names of a weight-refined group; ``subsets[name]``: boolean mask
    over the final training data's rows. ``key``: a JSON-able identity of the run (cache keys).
    ``source``: the chapter's own run object. ``unit``: what a step is called in figures.
    """

    name: str
    title: str
    checkpoint_steps: np.ndarray
    model_at: Callable[[int], nn.Module]
    loss_fn: LossFn
    data_at: Callable[[int], tuple[torch.Tensor, ...]]
    probes: dict[str, np.ndarray]
    phases: dict[str, Optional[int]]
    groups: dict[str, list[str]]
    subsets: dict[str, torch.Tensor]
    key: dict[str, Any]
    source: Any = field(repr=False, default=None)
    unit: str = "step"

    @property
    def data(self) -> tuple[torch.Tensor, ...]:
        """The training data at the last checkpoint."""
        return self.data_at(self.final_step)

    @property
    def final_step(self) -> int:
        return int(self.checkpoint_steps[-1])

    def checkpoint_index(self, step: int) -> int:
        """Position of checkpoint ``step`` in :attr:`checkpoint_steps` (TypeError for a non-int,
        ValueError naming the nearest checkpoints if no checkpoint was saved there)."""
        return checkpoint_index(self.checkpoint_steps, step)

    def nearest_step(self, step: float) -> int:
        """The checkpoint step closest to ``step``."""
        return int(self.checkpoint_steps[int(np.argmin(np.abs(self.checkpoint_steps - float(step))))])

    def group_size(self, name: str) -> int:
        """How many parameters weight-refined group ``name`` samples: a group's λ̂ grows with its
        size, so drops are compared per parameter as well."""
        if name not in self.groups:
            raise ValueError(f"group must be one of {sorted(self.groups)}, got {name!r}")
        wanted = set(self.groups[name])
        return int(sum(p.numel() for n, p in self.model_at(self.final_step).named_parameters() if n in wanted))

    def subset(self, name: str, step: Optional[int] = None) -> tuple[torch.Tensor, ...]:
        """The training rows of subset ``name`` (at ``step``; default the last checkpoint)."""
        if name not in self.subsets:
            raise ValueError(f"subset must be one of {sorted(self.subsets)}, got {name!r}")
        data = self.data_at(self.final_step if step is None else step)
        mask = self.subsets[name]
        if len(mask) != len(data[0]):
            raise ValueError(f"subset {name!r} is defined on the final data ({len(mask)} rows), "
                             f"not on step {step}'s ({len(data[0])} rows)")
        return tuple(t[mask] for t in data)

    def probe_at(self, name: str, step: int) -> float:
        if name not in self.probes:
            raise ValueError(f"probe must be one of {sorted(self.probes)}, got {name!r}")
        return float(self.probes[name][self.checkpoint_index(step)])


# --------------------------------------------------------------------------- Chapter 3: grokking
def _grokking_classes():
    from ..modular.model import ModularTransformer

    class _CheckedOnceTransformer(ModularTransformer):
        """Chapter 3's transformer whose token ids were range-checked once, up front.

        ``ModularTransformer._check_pairs`` tests ``0 ≤ pair < p`` with a Python ``if`` on tensor
        values, which ``torch.vmap`` cannot trace over per-chain minibatches. The adapter checks
        its training pairs once; this subclass keeps the type and shape checks only.
        """

        def _check_pairs(self, pairs: torch.Tensor) -> torch.Tensor:
            if not isinstance(pairs, torch.Tensor) or pairs.ndim != 2 or pairs.shape[1] != 2:
                raise ValueError("pairs must be a tensor of shape (batch, 2)")
            return pairs.long()

    return _CheckedOnceTransformer


#: Weight-refined groups of Chapter 3's transformer.
GROKKING_GROUPS: dict[str, list[str]] = {
    "embedding": ["W_E", "W_pos"],
    "attention": ["W_Q", "W_K", "W_V", "W_O"],
    "MLP": ["W_in", "b_in", "W_out", "b_out"],
    "unembedding": ["W_U"],
}


def grokking_run(seed: int = 0, profile: Optional[str] = None, *, progress: bool = True,
                 **overrides: Any) -> CourseRun:
    """Chapter 3's grokking run (:func:`course_lib.modular.modular_addition_run`, cached) for the LLC.

    Loss: the cross-entropy the model was trained with (the run's ``loss_fn``), on its **training
    pairs**. ``overrides`` pass through (e.g. ``steps=200`` in a test). Data subsets: training pairs whose mirror
    ``(b, a)`` is also trained on, and those whose mirror is held out.
    """
    from ..modular import modular_addition_run

    seed = check_seed(seed)
    run = modular_addition_run(seed=seed, profile=profile, progress=progress, **overrides)
    cls = _grokking_classes()
    cfg = run.config
    data = run.data
    pairs, labels = data.train_pairs, data.train_labels
    if pairs.numel() and bool(((pairs < 0) | (pairs >= run.p)).any()):  # once, for every chain
        raise ValueError("training pairs out of range")
    train = (pairs, labels)
    p = run.p
    mirror = pairs[:, 1] * p + pairs[:, 0]
    mirror_trained = data.is_train[mirror] & (pairs[:, 0] != pairs[:, 1])

    def model_at(step: int) -> nn.Module:
        source = run.model_at(step)
        model = cls(cfg["p"], cfg["d_model"], cfg["n_heads"], cfg["d_mlp"])
        model.load_state_dict(source.state_dict())
        return model.eval()

    probes = {k: np.asarray(getattr(run, k), dtype=float) for k in (
        "train_loss", "test_loss", "train_acc", "test_acc", "restricted_loss", "excluded_loss",
        "weight_norm")}
    phases: dict[str, Optional[int]] = dict(run.phases.as_dict())
    phases["grokked"] = run.grok_step(0.95)
    # "identity.…": the run's name when these LLC results were first cached (kept: same computation)
    key = {"run": "identity.modular_addition_run", "seed": seed,
           "config": {k: v for k, v in cfg.items() if k != "seed"}}
    return CourseRun(
        name="grokking", title="Chapter 3: grokking modular addition",
        checkpoint_steps=run.checkpoint_steps, model_at=model_at, loss_fn=run.loss_fn,
        data_at=lambda step: train, probes=probes, phases=phases,
        groups={k: list(v) for k, v in GROKKING_GROUPS.items()},
        subsets={"mirror also trained": mirror_trained, "mirror held out": ~mirror_trained},
        key=key, source=run, unit="step")


# --------------------------------------------------------------------------- Chapter 1: the wheel
COLOUR_GROUPS: dict[str, list[str]] = {
    "encoder": ["encoder.0.weight", "encoder.0.bias", "encoder.2.weight", "encoder.2.bias"],
    "decoder": ["decoder.0.weight", "decoder.0.bias", "decoder.2.weight", "decoder.2.bias"],
}

#: Hue bands of the trained colours for the data-refined LLC (degrees; the 150°–240° band is held out).
HUE_BANDS: dict[str, tuple[float, float]] = {
    "reds (300°–60°)": (300.0, 60.0),
    "yellows–greens (60°–150°)": (60.0, 150.0),
    "blues–magentas (240°–300°)": (240.0, 300.0),
}


def _band_masks(hue_deg: np.ndarray) -> dict[str, torch.Tensor]:
    out = {}
    for name, (lo, hi) in HUE_BANDS.items():
        inside = (hue_deg >= lo) | (hue_deg < hi) if lo > hi else (hue_deg >= lo) & (hue_deg < hi)
        out[name] = torch.as_tensor(inside)
    return out


def colour_run(seed: int = 0, profile: Optional[str] = None, *, progress: bool = True) -> CourseRun:
    """Chapter 1's watched bottleneck run (notebook 1.2: normalised, the profile's epochs and
    checkpoints; :func:`course_lib.color.cached_bottleneck`) for the LLC.

    Loss: reconstruction MSE on the training colours (the held-out band excluded). A step is one
    full-batch epoch. Phase ``wheel_formed``: the first checkpoint from which the trained hues form a
    wheel for good (Chapter 1's ``trained_wheel`` verdict).
    """
    from ..color.data import bottleneck_dataset
    from ..color.metrics import transition_epoch, wheel_report
    from ..color.train import cached_bottleneck, settings

    seed = check_seed(seed)
    cfg = settings(profile)
    run = cached_bottleneck(normalize=True, epochs=cfg["epochs"], n_snapshots=cfg["n_snapshots"],
                            seed=seed, progress=progress)
    dataset = bottleneck_dataset()
    x = dataset.train_rgb
    hue = np.mod(dataset.hsv[~dataset.held_out, 0], 1.0) * 360.0
    epochs = run.checkpoint_steps
    losses = np.append(run.losses, run.final_mse)          # loss after t updates, t = 0 … epochs
    report = wheel_report(run.probe_hue, run.probe_latents)
    trained_wheel = np.asarray(report["trained_wheel"], dtype=float)
    probes = {
        "hue_order": np.array([run.hue_order(k) for k in range(len(epochs))]),
        "train_loss": losses[epochs],
        "probe_mse": np.asarray(run.probe_recon_mse, dtype=float),
        "trained_wheel": trained_wheel,
    }
    phases = {"wheel_formed": transition_epoch(epochs, trained_wheel, 0.5)}
    key = {"run": "color.cached_bottleneck", "seed": seed, "config": dict(run.config)}
    return CourseRun(
        name="colour", title="Chapter 1: the colour bottleneck",
        checkpoint_steps=epochs, model_at=run.model_at, loss_fn=run.loss_fn, data_at=lambda step: (x,),
        probes=probes, phases=phases, groups={k: list(v) for k, v in COLOUR_GROUPS.items()},
        subsets=_band_masks(hue), key=key, source=run, unit="epoch")


# --------------------------------------------------------------------------- Chapter 2: anchoring
def anchored_colour_run(seed: int = 0, profile: Optional[str] = None,
                        schedule: str = "smooth") -> CourseRun:
    """Chapter 2's anchored colour model (:func:`course_lib.curriculum.anchored_run`) for the LLC.

    Loss: what the model was trained with at that step — MSE plus the anchor and separation terms
    at their (constant) scheduled weights — on the curriculum's colours **at that step** (the data
    widen from the 36 pure hues to the whole HSV grid). Phases: the updates at which the data
    first widen beyond the 36 pure hues (``data first widen``) and first hold all of them (``all
    data``), and ``red anchored``, the first checkpoint from which pure red's cosine with the anchor
    stays ≥ 0.95.
    """
    from ..color.metrics import transition_epoch
    from ..curriculum import anchored_run
    from ..curriculum.anchoring import HYPER, anchored_data, hue_evenness

    seed = check_seed(seed)
    anchored = anchored_run(seed=seed, profile=profile, schedule=schedule)
    record = anchored.run
    steps = anchored.checkpoint_steps
    for name, weight in (("anchor", HYPER["anchor"]), ("separation", HYPER["separation"])):
        used = np.asarray(record.values[name])
        if not np.allclose(used, weight):
            raise ValueError(f"the {name} weight changes during training; the LLC loss assumes "
                             f"it is the constant {weight}")
    spread = np.asarray(record.values["spread"], dtype=float)

    def data_at(step: int) -> tuple[torch.Tensor, ...]:
        t = min(int(step), len(spread) - 1)
        return (anchored_data(t, {"spread": float(spread[t])}),)

    z = np.asarray(record.probe_latents)            # (K, P, d): 36 pure hues first
    anchor = anchored.anchor.numpy()
    red = z[:, 0]
    red_cos = red @ anchor / np.maximum(np.linalg.norm(red, axis=1) * np.linalg.norm(anchor), 1e-12)
    losses = record.losses
    last = len(losses["loss"]) - 1
    at = np.minimum(steps, last)
    probes = {
        "red_cos": red_cos,
        "evenness": np.array([hue_evenness(zk[:36]) for zk in z]),
        "train_loss": np.asarray(losses["loss"])[at].astype(float),
        "recon_loss": np.asarray(losses["recon"])[at].astype(float),
        "probe_mse": record.probe_mse(),
        "n_data": np.asarray(record.n_data)[at].astype(float),
    }
    n_data = np.asarray(record.n_data)
    phases: dict[str, Optional[int]] = {
        "red anchored": transition_epoch(steps, red_cos, 0.95),
        "data first widen": int(np.flatnonzero(n_data > n_data[0])[0]) if (n_data > n_data[0]).any() else None,
        "all data": int(np.flatnonzero(n_data == n_data.max())[0]),
    }
    key = {"run": "curriculum.anchored_run", "seed": seed, "schedule": schedule,
           "config": dict(record.config)}
    final = data_at(int(steps[-1]))[0].numpy()
    from ..color.spaces import rgb_to_hsv
    hue = np.mod(rgb_to_hsv(final)[:, 0], 1.0) * 360.0
    return CourseRun(
        name="anchored", title="Chapter 2: the anchored colour model",
        checkpoint_steps=steps, model_at=anchored.model_at, loss_fn=anchored.loss_fn, data_at=data_at,
        probes=probes, phases=phases, groups={k: list(v) for k, v in COLOUR_GROUPS.items()},
        subsets=_band_masks(hue), key=key, source=anchored, unit="step")


#: The adapters by run name.
COURSE_RUNS: Mapping[str, Callable[..., CourseRun]] = {
    "grokking": grokking_run, "colour": colour_run, "anchored": anchored_colour_run,
}
