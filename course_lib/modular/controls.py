"""The weight-decay control of the grokking run: the same run with weight decay 0 (notebook 3.3).

The claim "weight decay drives the clean-up, and with it grokking" needs an arm that differs in that
one factor. :func:`weight_decay_control` trains the seed's run again with ``weight_decay = 0`` and
nothing else changed — the same model size, data split, initial weights (the seed), learning rate,
warm-up and full batch — for ``steps`` steps, and measures at every checkpoint the training loss,
the honest (mirror-unseen) test loss and accuracy and the weight norm. Its twin is the seed's cached
reference run (weight decay 1), read at the same checkpoints: AdamW's update at step t depends on
nothing after t (the learning rate is constant after the warm-up), so the first ``steps`` steps of
the longer reference run *are* a run of length ``steps``.

* :func:`weight_decay_control` → :class:`WeightDecayControl` (cached per seed and length).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import numpy as np
import torch

from .. import runtime
from ..cache import cached
from ..validation import check_int, check_seed
from .data import ModularAdditionData, mirror_split
from .mechanism import unseen_losses
from .model import ModularTransformer, cross_entropy
from .run import modular_addition_run
from .seeds import SEED_RUN_PROFILE
from .training import GROKKING_SETTINGS, check_config, fixed_threads, train_modular_addition

__all__ = ["WeightDecayControl", "weight_decay_control", "control_run", "CONTROL_STEPS", "CONTROL_SEEDS"]

#: Length of the control runs (steps): every quick-size seed 0–2 groks (honest accuracy ≥ 95 %)
#: by step 880 with weight decay 1.
CONTROL_STEPS = 1000

#: The seeds notebook 3.3 runs the control for, per profile (``quick``: one, for its 1-minute budget).
CONTROL_SEEDS: dict[str, tuple[int, ...]] = {"quick": (0,), "standard": (0, 1, 2), "full": (0, 1, 2)}

_VERSION = 1


@dataclass(frozen=True)
class WeightDecayControl:
    """Both arms at the same checkpoints ``steps``: ``arms[label]`` maps ``"train_loss"``,
    ``"test_loss"`` (mirror-unseen test pairs), ``"test_acc"`` (the same pairs) and
    ``"weight_norm"`` (Σ θ²) to arrays; labels ``"weight decay 1"`` and ``"weight decay 0"``."""

    seed: int
    p: int
    steps: np.ndarray
    arms: dict

    def at(self, label: str, key: str, step: int) -> float:
        """One arm's measure at checkpoint ``step``."""
        hits = np.flatnonzero(self.steps == step)
        if label not in self.arms or not len(hits):
            raise ValueError(f"label must be one of {list(self.arms)} and step a checkpoint, got {label!r}, {step}")
        return float(self.arms[label][key][hits[0]])


def _measure(states: list, data: ModularAdditionData, cfg: dict[str, Any]) -> dict[str, np.ndarray]:
    model = ModularTransformer(cfg["p"], cfg["d_model"], cfg["n_heads"], cfg["d_mlp"])
    _, unseen = mirror_split(data)
    test = ~data.is_train
    pairs, labels = data.pairs, data.labels
    out: dict[str, list] = {"train_loss": [], "test_loss": [], "test_acc": [], "weight_norm": []}
    with torch.no_grad():
        for state in states:
            model.load_state_dict(state)
            logits = model(pairs)
            honest, honest_labels = logits[test][unseen], labels[test][unseen]
            out["train_loss"].append(float(cross_entropy(logits[data.is_train], labels[data.is_train])))
            out["test_loss"].append(float(cross_entropy(honest, honest_labels)))
            out["test_acc"].append(float((honest.argmax(-1) == honest_labels).double().mean()))
            out["weight_norm"].append(float(sum(v.double().pow(2).sum() for v in state.values())))
    return {k: np.asarray(v) for k, v in out.items()}


def _compute(cfg: dict[str, Any], seed: int) -> dict[str, Any]:
    trained = train_modular_addition(cfg, seed, progress=False)
    data = ModularAdditionData.from_mask(cfg["p"], trained["is_train"])
    with fixed_threads(cfg["threads"], torch.device("cpu")):
        measures = _measure(trained["states"], data, cfg)
    return {"steps": trained["steps"], "measures": measures, "train_mask": trained["is_train"]}


def control_run(seed: int, steps: int, size: str) -> dict[str, Any]:
    """The weight-decay-0 arm alone (plain data, cached): run size ``size`` (a key of
    :data:`~.training.GROKKING_SETTINGS`), weight decay 0, ``steps`` steps (at least one checkpoint
    interval). :func:`weight_decay_control` pairs it with the reference run."""
    seed = check_seed(seed)
    if size not in GROKKING_SETTINGS:
        raise ValueError(f"size must be one of {sorted(GROKKING_SETTINGS)}, got {size!r}")
    every = int(GROKKING_SETTINGS[size]["checkpoint_every"])
    steps = check_int(steps, "steps", min=every)
    cfg = check_config({**GROKKING_SETTINGS[size], "weight_decay": 0.0, "steps": steps})
    return cached("identity-grokking-wd0", {**cfg, "seed": seed, "version": _VERSION},
                  lambda: _compute(cfg, seed))


def weight_decay_control(seed: int = 0, steps: int = CONTROL_STEPS,
                         profile: Optional[str] = None) -> WeightDecayControl:
    """The seed's reference run (weight decay 1, at the size the profile's seeds use,
    :data:`~.seeds.SEED_RUN_PROFILE`) and the same run with weight decay 0, both over their first
    ``steps`` steps (the control is trained for that long and cached; the reference is loaded)."""
    seed = check_seed(seed)
    size = runtime.by_profile(SEED_RUN_PROFILE, profile)
    reference = modular_addition_run(seed=seed, profile=size, progress=False)
    steps = check_int(steps, "steps", max=int(reference.checkpoint_steps[-1]))
    raw = control_run(seed, steps, size)
    if not np.array_equal(np.asarray(raw["train_mask"], dtype=bool), reference.train_mask):
        raise RuntimeError("the control's data split differs from the reference run's")
    ctrl_steps = np.asarray(raw["steps"])
    keep = np.isin(reference.checkpoint_steps, ctrl_steps)
    if not np.array_equal(reference.checkpoint_steps[keep], ctrl_steps):
        raise RuntimeError("the control's checkpoints are not the reference run's")
    test_unseen, _, _ = unseen_losses(reference)
    ref = {"train_loss": reference.train_loss[keep], "test_loss": test_unseen[keep],
           "test_acc": reference.test_acc[keep], "weight_norm": reference.weight_norm[keep]}
    control = {k: np.asarray(v) for k, v in raw["measures"].items()}
    return WeightDecayControl(seed=seed, p=reference.p, steps=ctrl_steps,
                              arms={"weight decay 1": ref, "weight decay 0": control})
