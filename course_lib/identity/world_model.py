"""The model of the identity world: name → identity code → answers, and its training.

**The model** (:class:`IdentityModel`): the identity code ``z = MLP([e_first ; e_surname])``
(``d_identity`` numbers, the only path from the name to the answers), then
``logits = MLP([z ; e_scene ; e_question])``, masked to the question's answers. It is trained
full-batch on the weighted seen examples (:func:`train_world_model`) with SGD (momentum 0.9), the
optimizer of every profile in :data:`~.world.WORLD_SETTINGS`; ``optimizer="adamw"`` is the
alternative. :func:`world_loss` is that training loss as a function of (model, batch), and
:func:`training_batch` the whole training data as one batch.
"""

from __future__ import annotations

import math
import time
from typing import Any, Mapping, Optional

import numpy as np
import torch
from torch import nn

from .. import runtime
from ..checkpoints import log_spaced_steps, state_copy
from ..widgets import progress as progress_bar
from .world import QUESTIONS, World

__all__ = ["IdentityModel", "query_tensor", "training_batch", "world_loss", "train_world_model"]


class IdentityModel(nn.Module):
    """Name → identity code ``z`` → answers. ``forward(queries)`` takes a LongTensor (batch, 4) of
    (first, surname, scene, question) and returns log-probabilities (batch, A) over all answers,
    ``-inf`` outside the question's own answers."""

    def __init__(self, world: World, generator: Optional[torch.Generator] = None) -> None:
        super().__init__()
        cfg = world.config
        offsets = _answer_offsets(world)
        mask = torch.full((len(QUESTIONS), int(offsets[-1])), float("-inf"))
        for q in range(len(QUESTIONS)):
            mask[q, offsets[q]:offsets[q + 1]] = 0.0
        self.register_buffer("answer_mask", mask)
        self.register_buffer("offsets", torch.tensor(offsets[:-1]))
        self.first = nn.Embedding(cfg["n_first"], cfg["d_name"])
        self.surname = nn.Embedding(cfg["n_surnames"], cfg["d_name"])
        self.identity = nn.Sequential(nn.Linear(2 * cfg["d_name"], cfg["d_hidden"]), nn.ReLU(),
                                      nn.Linear(cfg["d_hidden"], cfg["d_identity"]))
        self.scene = nn.Embedding(cfg["n_scenes"], cfg["d_context"])
        self.question = nn.Embedding(len(QUESTIONS), cfg["d_context"])
        self.head = nn.Sequential(nn.Linear(cfg["d_identity"] + 2 * cfg["d_context"], cfg["d_head"]),
                                  nn.ReLU(), nn.Linear(cfg["d_head"], int(offsets[-1])))
        if generator is not None:
            with torch.no_grad():
                for p in self.parameters():
                    if p.dim() > 1:
                        p.copy_(torch.randn(p.shape, generator=generator) / math.sqrt(p.shape[-1]))
                    else:
                        p.zero_()

    def identity_code(self, first: torch.Tensor, surname: torch.Tensor) -> torch.Tensor:
        """``z`` (batch, d_identity) for name-part indices."""
        return self.identity(torch.cat([self.first(first), self.surname(surname)], dim=-1))

    def forward(self, queries: torch.Tensor) -> torch.Tensor:
        if not isinstance(queries, torch.Tensor) or queries.dim() != 2 or queries.shape[1] != 4:
            raise ValueError("queries must be a LongTensor (batch, 4) of (first, surname, scene, question)")
        z = self.identity_code(queries[:, 0], queries[:, 1])
        h = torch.cat([z, self.scene(queries[:, 2]), self.question(queries[:, 3])], dim=-1)
        return torch.log_softmax(self.head(h) + self.answer_mask[queries[:, 3]], dim=-1)

    def answers_for(self, z: torch.Tensor, person: torch.Tensor, scene: torch.Tensor,
                    question: torch.Tensor) -> torch.Tensor:
        """:meth:`forward` for rows (person, scene, question), given the people's codes ``z``
        (n_people, d_identity). The head's first layer is linear in ``[z; e_scene; e_question]``, so
        its three parts are computed once per person, scene and question and summed per row: the
        same numbers as :meth:`forward`, with the identity MLP and most of the head run once per
        person instead of once per row (``benchmarks/identity_world_speed.py`` measures it)."""
        first = self.head[0]
        dz, dc = z.shape[1], self.scene.embedding_dim
        w_z, w_s, w_q = first.weight[:, :dz], first.weight[:, dz:dz + dc], first.weight[:, dz + dc:]
        pre = ((z @ w_z.T)[person] + (self.scene.weight @ w_s.T)[scene]
               + (self.question.weight @ w_q.T + first.bias)[question])
        logits = self.head[2](self.head[1](pre))
        return torch.log_softmax(logits + self.answer_mask[question], dim=-1)

    def answer_index(self, question: torch.Tensor, answer: torch.Tensor) -> torch.Tensor:
        """Column of ``answer`` (within its question) in the model's output."""
        return self.offsets[question] + answer


def _answer_offsets(world: World) -> np.ndarray:
    """Where each question's answers start among the model's outputs (and their total, last)."""
    return np.cumsum([0] + [world.n_answers[q] for q in QUESTIONS])


def query_tensor(world: World, q: Mapping[str, np.ndarray]) -> torch.Tensor:
    """Rows ``q`` (``person``, ``scene``, ``question`` arrays, as from :meth:`~.world.World.queries`)
    as the LongTensor (n, 4) of (first, surname, scene, question) that :class:`IdentityModel` takes."""
    p = q["person"]
    return torch.as_tensor(np.stack([world.first[p], world.surname[p], q["scene"], q["question"]], 1),
                           dtype=torch.long)


def training_batch(world: World) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The world's whole training data as one batch ``(queries, target, weight)``: every seen
    (person, scene, question) as :func:`query_tensor` rows (n, 4), the output column of its right
    answer (n,), and its training weight (n,), float32, summing to 1."""
    seen = world.queries("seen")
    offsets = torch.as_tensor(_answer_offsets(world)[:-1])
    target = offsets[torch.as_tensor(seen["question"])] + torch.as_tensor(seen["answer"])
    weight = torch.as_tensor(seen["weight"] / seen["weight"].sum(), dtype=torch.float32)
    return query_tensor(world, seen), target, weight


def world_loss(model: IdentityModel, batch: tuple[torch.Tensor, torch.Tensor, torch.Tensor]) -> torch.Tensor:
    """The training loss on a batch ``(queries, target, weight)`` (see :func:`training_batch`): the
    weighted mean of ``−log P(right answer)``, ``Σ w·(−log p) / Σ w``. On the whole training batch
    (weights summing to 1) it is the loss :func:`train_world_model` minimises, computed through
    :meth:`IdentityModel.forward` instead of the factored :meth:`IdentityModel.answers_for` (the same
    numbers up to float rounding)."""
    queries, target, weight = batch
    logp = model(queries).gather(1, target[:, None])[:, 0]
    return -(weight * logp).sum() / weight.sum()


def train_world_model(world: World, seed: int = 0, *, progress: bool = True) -> dict[str, Any]:
    """Full batch on the weighted seen queries (weighted mean cross-entropy), with SGD (momentum
    0.9) or AdamW; a state copy at step 0 and at about ``n_checkpoints`` log-spaced steps
    (:func:`~course_lib.checkpoints.log_spaced_steps`). Returns ``{"steps", "states", "train_loss", "seconds"}``
    (``train_loss``: the weighted loss at every step).

    SGD is the default: its steps scale with the gradient, so within the run the rarest identities
    stay partly learned (the ordinary-name regime). With ``optimizer="adamw"`` every identity ends
    fully learned — notebook 3.4 measures whether fame still orders *when* they are learned."""
    cfg = world.config
    generator = runtime.seed_everything(seed)
    model = IdentityModel(world, generator)
    seen = world.queries("seen")
    first, surname = torch.as_tensor(world.first), torch.as_tensor(world.surname)
    rows = [torch.as_tensor(seen[k]) for k in ("person", "scene", "question")]
    _, target, weight = training_batch(world)
    if cfg["optimizer"] == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=cfg["lr"], momentum=0.9, weight_decay=cfg["weight_decay"])
    else:
        opt = torch.optim.AdamW(model.parameters(), lr=cfg["lr"], weight_decay=cfg["weight_decay"])
    keep = set(log_spaced_steps(cfg["steps"], cfg["n_checkpoints"] + 1)[1:].tolist())
    steps, states = [0], [state_copy(model)]
    curve = np.empty(cfg["steps"])
    start = time.perf_counter()
    with runtime.cpu_threads():
        for step in progress_bar(range(1, cfg["steps"] + 1), desc="identity world", disable=not progress):
            logp = model.answers_for(model.identity_code(first, surname), *rows)
            loss = -(weight * logp.gather(1, target[:, None])[:, 0]).sum()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            curve[step - 1] = float(loss.detach())
            if step in keep:
                steps.append(step)
                states.append(state_copy(model))
    return {"steps": np.array(steps), "states": states, "train_loss": curve,
            "seconds": time.perf_counter() - start}
