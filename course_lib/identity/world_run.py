"""One identity world and its trained model, cached: :func:`identity_world_run` → :class:`WorldRun`.

The training (:func:`~.world_model.train_world_model`) and the curves measured on its checkpoints
(:func:`~.world_measures.identity_timelines`) are cached apart, so a changed measure needs no
retraining; the world is rebuilt from its seed on load (cheap). :class:`WorldRun` follows the
course's checkpoint protocol (:mod:`course_lib.checkpoints`): ``checkpoint_steps``,
``model_at(step)``, ``model()`` and ``loss_fn(model, batch)`` with :meth:`WorldRun.train_data`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

import numpy as np
import torch

from .. import runtime
from ..cache import cached
from ..checkpoints import CheckpointedRun, as_checkpoint_steps
from ..validation import check_choice, check_seed
from .world import COARSE, QUESTIONS, World, make_world, world_config
from .world_measures import identity_timelines, phase_onsets
from .world_model import IdentityModel, train_world_model, training_batch, world_loss

__all__ = ["WorldRun", "identity_world_run"]

_CACHE_VERSION = 3      # the training (3: activity question, compositional half)
_MEASURES_VERSION = 2   # the curves measured on its checkpoints (2: log-probabilities, ‖u‖)


@dataclass
class WorldRun(CheckpointedRun):
    """One world, one trained model: per-checkpoint curves per person and the checkpoints
    (the course's checkpoint protocol, :mod:`course_lib.checkpoints`)."""

    config: dict[str, Any]
    seed: int
    world: World
    checkpoint_steps: np.ndarray           #: checkpoint steps (0, then log-spaced)
    train_loss: np.ndarray                 #: weighted training loss at every step (entry t: after t updates)
    timelines: dict[str, np.ndarray]       #: :func:`~.world_measures.identity_timelines`
    states: list = field(repr=False)
    timings: dict = field(default_factory=dict)
    _memo: dict = field(default_factory=dict, repr=False)   # onsets and question curves, computed once

    #: The training loss of a batch ``(queries, target, weight)``: :func:`~.world_model.world_loss`.
    loss_fn = staticmethod(world_loss)

    def train_data(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The whole training data as one batch for :attr:`loss_fn` (:func:`~.world_model.training_batch`)."""
        return training_batch(self.world)

    def fit_checkpoint(self, level: float) -> Optional[int]:
        """Index of the first checkpoint whose training loss (at its step) is below ``level``
        (None if none is): where the training pairs are fitted, to read the test curves at."""
        if not np.isfinite(level) or level <= 0:
            raise ValueError(f"level must be a positive number, got {level!r}")
        at = self.train_loss[np.minimum(self.checkpoint_steps, len(self.train_loss) - 1)]
        below = np.flatnonzero(at < level)
        return int(below[0]) if below.size else None

    def onsets(self) -> dict[str, np.ndarray]:
        """:func:`~.world_measures.phase_onsets` of this run (computed once; a copy of each array is returned)."""
        if "onsets" not in self._memo:
            self._memo["onsets"] = phase_onsets(self.checkpoint_steps, self.timelines)
        return {k: v.copy() for k, v in self._memo["onsets"].items()}

    def _model_from(self, index: int) -> IdentityModel:
        """The model at checkpoint ``index`` (a fresh module, eval mode)."""
        model = IdentityModel(self.world)
        model.load_state_dict(self.states[index])
        return model.eval()

    def question_curve(self, question: str, people: Sequence[int], answer: str = "true") -> np.ndarray:
        """(checkpoints, len(people)): P(answer) to one coarse ``question`` about each of ``people``,
        averaged over their seen scenes; ``answer`` is ``"true"`` or ``"prior"`` (the name parts'
        likeliest answer). Both answers are computed in one pass and remembered."""
        check_choice(question, "question", COARSE)
        check_choice(answer, "answer", ("true", "prior"))
        w = self.world
        people = tuple(w.check_person(p) for p in people)
        key = ("question", question, people)
        if key not in self._memo:
            self._memo[key] = self._compute_question_curves(question, list(people))
        return self._memo[key][answer]

    def _compute_question_curves(self, question: str, people: list[int]) -> dict[str, np.ndarray]:
        w = self.world
        empty = np.zeros((len(self.checkpoint_steps), len(people)))
        if not people:
            return {"true": empty, "prior": empty.copy()}
        rows = [(k, p, c) for k, p in enumerate(people) for c in np.flatnonzero(w.seen[p])]
        position = np.array([k for k, _, _ in rows])
        who = np.array([p for _, p, _ in rows])
        q = QUESTIONS.index(question)
        x = torch.as_tensor(np.stack([w.first[who], w.surname[who], [c for _, _, c in rows],
                                      np.full(len(rows), q)], axis=1), dtype=torch.long)
        model = IdentityModel(w)
        targets = {"true": w.attributes[question][who],
                   "prior": np.array([np.argmax(w.prior(question, p)) for p in who])}
        cols = {a: model.answer_index(torch.full((len(rows),), q), torch.as_tensor(t)) for a, t in targets.items()}
        count = np.bincount(position, minlength=len(people))
        out = {a: np.zeros((len(self.checkpoint_steps), len(people))) for a in targets}
        with torch.no_grad(), runtime.cpu_threads():
            for t, state in enumerate(self.states):
                model.load_state_dict(state)
                logp = model(x)
                for a, c in cols.items():
                    prob = logp.gather(1, c[:, None])[:, 0].exp().numpy()
                    out[a][t] = np.bincount(position, prob, len(people)) / count
        return out

    def bias_then_truth(self, question: str, people: Sequence[int], *, margin: float = 0.1) -> np.ndarray:
        """Per person: is phase 1 *seen* — does the model prefer the name parts' answer to
        ``question`` over the true one by more than ``margin`` at some checkpoint, and the true one
        at the end? (:meth:`bias_at_start` is the same preference at initialisation: the null.)"""
        name_p = self.question_curve(question, people, "prior")
        true_p = self.question_curve(question, people, "true")
        return (name_p - true_p > margin).any(axis=0) & (true_p[-1] > name_p[-1])

    def bias_at_start(self, question: str, people: Sequence[int], *, margin: float = 0.1) -> np.ndarray:
        """Per person: does the untrained model already prefer the name's answer by ``margin``?"""
        name_p = self.question_curve(question, people, "prior")
        true_p = self.question_curve(question, people, "true")
        return name_p[0] - true_p[0] > margin

    def curve(self, key: str, person: object) -> np.ndarray:
        """One person's curve over the checkpoints (person: index or full name)."""
        check_choice(key, "key", sorted(self.timelines))
        return self.timelines[key][:, self.world.check_person(person)]


def _train(cfg: dict[str, Any], seed: int, progress: bool) -> dict[str, Any]:
    trained = train_world_model(make_world(cfg, seed), seed, progress=progress)
    return {"steps": trained["steps"], "states": trained["states"], "train_loss": trained["train_loss"],
            "timings": {"train_s": trained["seconds"]}}


def _measure(world: World, states: list) -> dict[str, Any]:
    start = time.perf_counter()
    timelines = identity_timelines(world, states)
    return {"timelines": timelines, "measures_s": time.perf_counter() - start}


def identity_world_run(seed: int = 0, profile: Optional[str] = None, *, progress: bool = True,
                       **overrides: Any) -> WorldRun:
    """World ``seed`` and its trained model in ``profile`` (``overrides`` replace settings, e.g.
    ``optimizer="adamw"``). The training and the measured curves are cached apart (a changed measure
    needs no retraining); the world is rebuilt from its seed on load (cheap)."""
    seed = check_seed(seed)
    cfg = world_config(profile, overrides)
    key = {**{k: v for k, v in cfg.items() if k != "seeds"}, "seed": seed, "version": _CACHE_VERSION}
    raw = cached("identity-world", key, lambda: _train(cfg, seed, progress))
    world = make_world(cfg, seed)
    measured = cached("identity-world-measures", {**key, "measures": _MEASURES_VERSION},
                      lambda: _measure(world, raw["states"]))
    return WorldRun(config=cfg, seed=seed, world=world, checkpoint_steps=as_checkpoint_steps(raw["steps"]),
                    train_loss=np.asarray(raw["train_loss"]), timelines=measured["timelines"],
                    states=raw["states"],
                    timings={"train_s": raw["timings"]["train_s"], "measures_s": measured["measures_s"]})
