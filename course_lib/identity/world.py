"""A world of identities: people whose names carry biases, and a model that learns who they are.

Seed 000 predicts four phases when a network learns a named identity: (1) the identity is
overridden by biases from its name parts, (2) coarse attributes stabilise, (3) the unique identity
is learned and applies flexibly in new scenes, (4) the identity is overfit to narrow constraints of
its training data. This module builds the smallest world in which each phase has a number.

**The world** (:func:`make_world`). ``n_people`` people, each a distinct (first name, surname)
pair drawn from ``n_first`` real first names × ``n_surnames`` invented surnames.

* *coarse attributes* come from the name parts, with the real strengths of part 1: **sex** is drawn
  with the first name's SSA female fraction, **age band** (0–24, 25–44, 45–64, 65+ in 2017) with the
  share of the name's living bearers in each band (:func:`~.names.name_stats`), independently of
  sex; **region** (one of 4) is the surname's home region with probability ``region_strength``,
  otherwise one of the other three.
* *unique attributes* — **job** and **hobby** (12 values each) — are uniform and independent of
  the name: nothing but the identity itself predicts them.
* *scenes*: every question is asked "in" one of ``n_scenes`` scenes. A person is seen in training in
  ``seen_scenes`` of them; the rest are their **creative contexts**, never shown with that person
  (other people are seen there). One seen scene is the person's *signature* scene, holding
  ``signature_share`` of their examples (the photo everybody has seen).
* **outfit** depends on the scene: in scene ``c`` people wear outfit ``c``, except that in their
  signature scene a person wears their *iconic* outfit. In a creative scene the right answer is
  the scene's outfit; answering the iconic one there is the overfit of phase 4 ("Mona Lisa is
  always in that pose").
* *fame*: person ``i`` of fame rank ``r`` has training weight ``∝ r^(−zipf)`` (celebrities to
  ordinary names, ``max/min = n_people^zipf``).

**The model** (:class:`IdentityModel`): the identity code ``z = MLP([e_first ; e_surname])``
(``d_identity`` numbers, the only path from the name to the answers), then
``logits = MLP([z ; e_scene ; e_question])``, masked to the question's answers. It is trained
full-batch on the weighted seen examples (:func:`train_world_model`) with SGD (momentum 0.9), the
optimizer of every profile in :data:`WORLD_SETTINGS`; ``optimizer="adamw"`` is the alternative.

**Measures** (:func:`identity_timelines`), per person and checkpoint, as mean probabilities:

1. ``prior``    — P(the name parts' most likely coarse answer): the bias of phase 1;
2. ``coarse``   — P(the person's true sex, age band, region), seen scenes;
3. ``unique``   — P(true job, hobby), seen scenes; ``flexible`` — the same in creative scenes;
4. ``iconic``   — P(iconic outfit) in creative scenes (the overfit); ``outfit`` — P(right outfit)
   in creative scenes.

and the weight-space signature of "knowing" an identity, :func:`own_direction`: the share of the
identity code not explained by its name parts, ``‖u(f,s)‖² / ‖z(f,s) − z̄‖²`` with
``u = z − z̄ − a_f − b_s`` the interaction term of the two-way (first × surname) decomposition of
``z`` over *all* ``n_first × n_surnames`` name pairs — the pairs that are nobody are the null.

Onsets (:func:`onset`) are the first checkpoint from which a curve stays at or above a level for a
run of checkpoints.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .. import runtime
from ..cache import cached
from ..stats import rank, spearman  # noqa: F401  (spearman is re-exported for notebook 3.4)
from ..widgets import progress as progress_bar
from ..validation import check_choice, check_float, check_fraction, check_int, check_seed
from .names import name_stats

__all__ = [
    "WORLD_SETTINGS", "FIRST_NAMES", "AGE_BANDS", "QUESTIONS", "World", "make_world", "IdentityModel",
    "checkpoint_steps", "train_world_model", "interaction_norm", "additive_part", "CURVES",
    "identity_timelines", "onset", "PHASES", "phase_onsets", "WorldRun", "identity_world_run",
]

_CACHE_VERSION = 2      # the training
_MEASURES_VERSION = 1   # the curves measured on its checkpoints

#: Real first names spanning sex ratio and era (their statistics are read from the SSA records), in an
#: order that puts names used for both sexes (Leslie, Jordan, Taylor, Casey, Jessie) in every profile.
FIRST_NAMES = ("Mary", "James", "Leslie", "Linda", "Robert", "Jordan", "Dorothy", "Michael", "Taylor",
               "Jennifer", "Walter", "Casey", "Ashley", "Gary", "Jessie", "Emma", "Liam", "Kelly", "Betty",
               "Donald", "Madison", "Noah", "Frances", "Jason", "Barbara", "Tyler", "Susan", "Ethan", "Vicki",
               "Aiden", "Olivia", "Harper")
#: Age bands (in the SSA data's reference year, 2017): lower edges of 0–24, 25–44, 45–64, 65+.
AGE_BANDS = (0, 25, 45, 65)
REGIONS = ("north", "south", "east", "west")
#: Questions, their number of answers and their kind.
QUESTIONS = ("sex", "age", "region", "job", "hobby", "outfit")
COARSE = ("sex", "age", "region")
UNIQUE = ("job", "hobby")
N_JOBS = N_HOBBIES = 12
_SYLLABLES = ("var", "mo", "tes", "ka", "lin", "dor", "bru", "sel", "qua", "fen", "ri", "ta", "om",
              "pel", "zu", "nar", "gi", "vos", "el", "ham")

WORLD_SETTINGS: dict[str, dict[str, Any]] = {
    "quick": dict(n_first=16, n_surnames=16, n_people=96, n_scenes=6, seen_scenes=4, zipf=1.0,
                  region_strength=0.8, signature_share=0.5, d_name=24, d_hidden=96, d_identity=24,
                  d_context=12, d_head=96, optimizer="sgd", lr=0.5, weight_decay=1e-3, steps=700,
                  n_checkpoints=34, seeds=(0, 1, 2)),
    "standard": dict(n_first=24, n_surnames=24, n_people=192, n_scenes=6, seen_scenes=4, zipf=1.0,
                     region_strength=0.8, signature_share=0.5, d_name=32, d_hidden=128,
                     d_identity=32, d_context=16, d_head=128, optimizer="sgd", lr=0.5, weight_decay=1e-3,
                     steps=2000, n_checkpoints=60, seeds=(0, 1, 2, 3, 4)),
    "full": dict(n_first=32, n_surnames=32, n_people=384, n_scenes=6, seen_scenes=4, zipf=1.0,
                 region_strength=0.8, signature_share=0.5, d_name=48, d_hidden=192, d_identity=48,
                 d_context=16, d_head=192, optimizer="sgd", lr=0.5, weight_decay=1e-3,
                 steps=6000, n_checkpoints=80, seeds=tuple(range(10))),
}


# --------------------------------------------------------------------------- validation
def _check_config(config: Mapping[str, Any]) -> dict[str, Any]:
    cfg = dict(config)
    missing = set(WORLD_SETTINGS["standard"]) - set(cfg)
    if missing:
        raise ValueError(f"config is missing {sorted(missing)}")
    check_int(cfg["n_first"], "n_first", min=2, max=len(FIRST_NAMES))
    check_int(cfg["n_surnames"], "n_surnames", min=2, max=len(_SYLLABLES) ** 2)
    check_int(cfg["n_people"], "n_people", min=2, max=cfg["n_first"] * cfg["n_surnames"] // 2)
    check_int(cfg["n_scenes"], "n_scenes", min=2, max=32)
    check_int(cfg["seen_scenes"], "seen_scenes", min=1, max=cfg["n_scenes"] - 1)
    check_fraction(cfg["region_strength"], "region_strength")
    check_fraction(cfg["signature_share"], "signature_share", inclusive="neither")
    check_float(cfg["zipf"], "zipf", min=0, max=3)
    for key in ("d_name", "d_hidden", "d_identity", "d_context", "d_head", "steps", "n_checkpoints"):
        check_int(cfg[key], key, min=1)
    check_choice(cfg["optimizer"], "optimizer", ("sgd", "adamw"))
    check_float(cfg["lr"], "lr", min=0, inclusive="neither")
    check_float(cfg["weight_decay"], "weight_decay", min=0)
    cfg["seeds"] = tuple(runtime.check_seeds(cfg["seeds"]))
    return cfg


# --------------------------------------------------------------------------- the world
def _age_band_probs(stats) -> np.ndarray:
    """Share of a name's living bearers in each :data:`AGE_BANDS` band (SSA × life tables)."""
    edges = list(AGE_BANDS) + [10_000]
    alive = stats.alive_by_age
    shares = np.array([alive[(stats.ages >= lo) & (stats.ages < hi)].sum()
                       for lo, hi in zip(edges[:-1], edges[1:])])
    return shares / shares.sum()


def _band(i: int) -> str:
    edges = list(AGE_BANDS) + [None]
    lo, hi = edges[i], edges[i + 1]
    return f"{lo}+" if hi is None else f"{lo}–{hi - 1}"


def _surnames(n: int, rng: np.random.Generator) -> list[str]:
    """``n`` distinct invented two-syllable surnames (no real surname data ship offline)."""
    pairs = [(a, b) for a in _SYLLABLES for b in _SYLLABLES if a != b]
    pick = rng.choice(len(pairs), size=n, replace=False)
    return [(pairs[i][0] + pairs[i][1]).capitalize() for i in pick]


@dataclass
class World:
    """People, their attributes and the questions about them (all arrays indexed by person)."""

    config: dict[str, Any]
    first_names: list[str]
    surnames: list[str]
    female_fraction: np.ndarray      #: (n_first,) P(female | first name), from the SSA records
    age_probs: np.ndarray            #: (n_first, 4) P(age band | first name), from the SSA records
    home_region: np.ndarray          #: (n_surnames,) the surname's home region
    first: np.ndarray                #: (n_people,) first-name index
    surname: np.ndarray              #: (n_people,) surname index
    attributes: dict[str, np.ndarray]  #: question → (n_people,) true answer (outfit: iconic one)
    fame: np.ndarray                 #: (n_people,) training weight, sums to n_people
    signature: np.ndarray            #: (n_people,) signature scene
    seen: np.ndarray                 #: (n_people, n_scenes) bool: scene seen with the person

    @property
    def n_people(self) -> int:
        return len(self.first)

    @property
    def n_answers(self) -> dict[str, int]:
        return {"sex": 2, "age": len(AGE_BANDS), "region": len(REGIONS), "job": N_JOBS,
                "hobby": N_HOBBIES, "outfit": self.config["n_scenes"]}

    def name(self, person: int) -> str:
        person = self.check_person(person)
        return f"{self.first_names[self.first[person]]} {self.surnames[self.surname[person]]}"

    def check_person(self, person: object) -> int:
        """``person`` as an index, or a clear error (an int in range, or a full name)."""
        if isinstance(person, str):
            names = [self.name(i) for i in range(self.n_people)]
            key = " ".join(person.split()).lower()
            for i, n in enumerate(names):
                if n.lower() == key:
                    return i
            raise KeyError(f"{person!r} is nobody in this world; e.g. {names[0]!r}, {names[1]!r}")
        return check_int(person, "person", min=0, max=self.n_people - 1)

    def prior(self, question: str, person: int) -> np.ndarray:
        """The name parts' distribution over the answers of a coarse ``question`` for ``person``."""
        if question not in COARSE:
            raise ValueError(f"question must be one of {COARSE}, got {question!r}")
        person = self.check_person(person)
        if question == "sex":
            f = self.female_fraction[self.first[person]]
            return np.array([f, 1 - f])
        if question == "age":
            return self.age_probs[self.first[person]].copy()
        strength = self.config["region_strength"]
        out = np.full(len(REGIONS), (1 - strength) / (len(REGIONS) - 1))
        out[self.home_region[self.surname[person]]] = strength
        return out

    def answer(self, question: str, person: int, scene: int) -> int:
        """The right answer to ``question`` about ``person`` in ``scene``."""
        if question == "outfit":
            return int(self.attributes["outfit"][person]) if scene == self.signature[person] else int(scene)
        return int(self.attributes[question][person])

    def table(self, people: Sequence[int]) -> Any:
        """A pandas DataFrame describing ``people``: name, fame rank, each coarse attribute with what
        the name parts suggest in brackets, job and hobby, the scenes seen (signature in brackets)
        and the iconic outfit."""
        import pandas as pd

        rank = np.argsort(np.argsort(-self.fame)) + 1
        rows = []
        for p in (self.check_person(q) for q in people):
            f = self.first[p]
            rows.append({
                "name": self.name(p), "fame rank": int(rank[p]),
                "sex (name % female)": f"{('female', 'male')[self.attributes['sex'][p]]} "
                                       f"({self.female_fraction[f]:.0%})",
                "age (name's likeliest)": f"{_band(self.attributes['age'][p])} "
                                          f"({_band(int(np.argmax(self.age_probs[f])))})",
                "region (surname's home)": f"{REGIONS[self.attributes['region'][p]]} "
                                           f"({REGIONS[self.home_region[self.surname[p]]]})",
                "job, hobby": f"{self.attributes['job'][p]}, {self.attributes['hobby'][p]}",
                "scenes seen (signature)": f"{' '.join(str(c) for c in np.flatnonzero(self.seen[p]))} "
                                           f"({self.signature[p]})",
                "iconic outfit": int(self.attributes["outfit"][p]),
            })
        return pd.DataFrame(rows).set_index("name")

    def queries(self, which: str = "seen") -> dict[str, np.ndarray]:
        """Every (person, scene, question) of ``which`` ∈ {"seen", "creative"} with its answer and
        training weight: ``{"person", "scene", "question", "answer", "weight"}``. A person's seen
        weight is their fame, ``signature_share`` of it in the signature scene and the rest spread
        evenly over the other seen scenes (split evenly over the questions)."""
        if which not in ("seen", "creative"):
            raise ValueError(f"which must be 'seen' or 'creative', got {which!r}")
        mask = self.seen if which == "seen" else ~self.seen
        people, scenes = np.nonzero(mask)
        share = self.config["signature_share"]
        others = self.config["seen_scenes"] - 1
        per_scene = np.where(scenes == self.signature[people], share,
                             (1 - share) / max(others, 1))
        rows = {"person": [], "scene": [], "question": [], "answer": [], "weight": []}
        for q, question in enumerate(QUESTIONS):
            rows["person"].append(people)
            rows["scene"].append(scenes)
            rows["question"].append(np.full(len(people), q))
            rows["answer"].append(np.array([self.answer(question, p, s) for p, s in zip(people, scenes)]))
            rows["weight"].append(self.fame[people] * per_scene / len(QUESTIONS))
        return {k: np.concatenate(v) for k, v in rows.items()}


def make_world(config: Mapping[str, Any] | None = None, seed: int = 0, *,
               profile: Optional[str] = None) -> World:
    """Draw a world (``config`` defaults to the profile's :data:`WORLD_SETTINGS`)."""
    cfg = _check_config(config if config is not None else runtime.by_profile(WORLD_SETTINGS, profile))
    seed = check_seed(seed)
    rng = np.random.default_rng(seed)
    first_names = list(FIRST_NAMES[: cfg["n_first"]])
    stats = [name_stats(n) for n in first_names]
    female = np.array([s.female_fraction for s in stats])
    ages = np.stack([_age_band_probs(s) for s in stats])
    surnames = _surnames(cfg["n_surnames"], rng)
    home = rng.integers(0, len(REGIONS), cfg["n_surnames"])
    grid = rng.choice(cfg["n_first"] * cfg["n_surnames"], size=cfg["n_people"], replace=False)
    first, surname = grid // cfg["n_surnames"], grid % cfg["n_surnames"]
    n = cfg["n_people"]
    sex = (rng.random(n) >= female[first]).astype(int)                   # 0 = female, 1 = male
    age = np.array([rng.choice(len(AGE_BANDS), p=ages[f]) for f in first])
    at_home = rng.random(n) < cfg["region_strength"]
    away = (home[surname] + rng.integers(1, len(REGIONS), n)) % len(REGIONS)
    region = np.where(at_home, home[surname], away)
    n_scenes = cfg["n_scenes"]
    seen = np.zeros((n, n_scenes), dtype=bool)
    for i in range(n):
        seen[i, rng.choice(n_scenes, size=cfg["seen_scenes"], replace=False)] = True
    signature = np.array([rng.choice(np.flatnonzero(row)) for row in seen])
    iconic = (signature + rng.integers(1, n_scenes, n)) % n_scenes         # never the scene's own
    rank = rng.permutation(n) + 1
    fame = rank.astype(float) ** (-cfg["zipf"])
    fame *= n / fame.sum()
    attributes = {"sex": sex, "age": age, "region": region, "job": rng.integers(0, N_JOBS, n),
                  "hobby": rng.integers(0, N_HOBBIES, n), "outfit": iconic}
    return World(config=cfg, first_names=first_names, surnames=surnames, female_fraction=female,
                 age_probs=ages, home_region=home, first=first, surname=surname,
                 attributes=attributes, fame=fame, signature=signature, seen=seen)


# --------------------------------------------------------------------------- the model
class IdentityModel(nn.Module):
    """Name → identity code ``z`` → answers. ``forward(queries)`` takes a LongTensor (batch, 4) of
    (first, surname, scene, question) and returns log-probabilities (batch, A) over all answers,
    ``-inf`` outside the question's own answers."""

    def __init__(self, world: World, generator: Optional[torch.Generator] = None) -> None:
        super().__init__()
        cfg = world.config
        sizes = [world.n_answers[q] for q in QUESTIONS]
        offsets = np.cumsum([0] + sizes)
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


def _query_tensor(world: World, q: Mapping[str, np.ndarray]) -> torch.Tensor:
    p = q["person"]
    return torch.as_tensor(np.stack([world.first[p], world.surname[p], q["scene"], q["question"]], 1),
                           dtype=torch.long)


def _state_copy(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def checkpoint_steps(steps: int, count: int) -> np.ndarray:
    """``count`` checkpoint steps spaced evenly in log(step) from 1 to ``steps`` (distinct ints)."""
    return np.unique(np.round(np.geomspace(1, steps, count)).astype(int))


def train_world_model(world: World, seed: int = 0, *, progress: bool = True) -> dict[str, Any]:
    """Full batch on the weighted seen queries (weighted mean cross-entropy), with SGD (momentum
    0.9) or AdamW; a state copy at step 0 and at about ``n_checkpoints`` log-spaced steps
    (:func:`checkpoint_steps`). Returns ``{"steps", "states", "train_loss", "seconds"}``
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
    target = model.answer_index(torch.as_tensor(seen["question"]), torch.as_tensor(seen["answer"]))
    weight = torch.as_tensor(seen["weight"] / seen["weight"].sum(), dtype=torch.float32)
    if cfg["optimizer"] == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=cfg["lr"], momentum=0.9, weight_decay=cfg["weight_decay"])
    else:
        opt = torch.optim.AdamW(model.parameters(), lr=cfg["lr"], weight_decay=cfg["weight_decay"])
    keep = set(checkpoint_steps(cfg["steps"], cfg["n_checkpoints"]).tolist())
    steps, states = [0], [_state_copy(model)]
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
                states.append(_state_copy(model))
    return {"steps": np.array(steps), "states": states, "train_loss": curve,
            "seconds": time.perf_counter() - start}


# --------------------------------------------------------------------------- measures
def interaction_norm(codes: torch.Tensor | np.ndarray) -> np.ndarray:
    """``‖u(f, s)‖`` for every name pair: the part of its identity code its name parts do not explain.

    ``codes``: (n_first, n_surnames, d) — ``z`` for every pair. Two-way decomposition
    ``z = z̄ + a_f + b_s + u`` with ``a_f``, ``b_s`` the row and column means minus the grand mean
    ``z̄`` (the least-squares additive fit on the full grid). Returns (n_first, n_surnames).
    """
    z = torch.as_tensor(codes, dtype=torch.float64)
    if z.dim() != 3 or z.shape[0] < 2 or z.shape[1] < 2:
        raise ValueError(f"codes must be (n_first ≥ 2, n_surnames ≥ 2, d), got {tuple(z.shape)}")
    if not torch.isfinite(z).all():
        raise ValueError("codes contain NaN or inf")
    return additive_part(z).sub(z).neg().norm(dim=-1).numpy()


def additive_part(z: torch.Tensor) -> torch.Tensor:
    """``z̄ + a_f + b_s``: the best identity code made of name parts alone (same shape as ``z``)."""
    grand = z.mean(dim=(0, 1), keepdim=True)
    return z.mean(dim=1, keepdim=True) + z.mean(dim=0, keepdim=True) - grand


def _per_person(values: np.ndarray, person: np.ndarray, rows: np.ndarray, n: int) -> np.ndarray:
    """Mean of ``values[rows]`` per person."""
    total = np.bincount(person[rows], weights=values[rows], minlength=n)
    count = np.bincount(person[rows], minlength=n)
    return total / np.maximum(count, 1)


#: Per-person curves of :func:`identity_timelines`, in phase order.
CURVES = ("prior", "coarse", "unique", "flexible", "iconic", "outfit", "own", "ablated")


def identity_timelines(world: World, states: Sequence[Mapping[str, torch.Tensor]]) -> dict[str, np.ndarray]:
    """Per checkpoint × person (mean probabilities over the person's questions):

    ``prior`` P(name parts' likeliest coarse answer), ``coarse`` P(true coarse answer) and
    ``unique`` P(true job/hobby) in seen scenes; ``flexible`` P(true job/hobby), ``iconic``
    P(iconic outfit) and ``outfit`` P(scene's outfit) in creative scenes; ``own`` the fraction of
    the name pairs that are nobody whose :func:`interaction_norm` is below the person's (0.5 ≈ no
    more own direction than chance); ``ablated`` P(true job/hobby) in seen scenes when ``z`` is
    replaced by its :func:`additive_part` (what the identity is worth without its own direction).
    Also ``own_nobody`` (checkpoint × pairs that are nobody): each such pair's rank among the
    others, the null for ``own``.
    """
    if not states:
        raise ValueError("states must not be empty")
    model = IdentityModel(world)
    n, cfg = world.n_people, world.config
    seen, creative = world.queries("seen"), world.queries("creative")
    xs, xc = _query_tensor(world, seen), _query_tensor(world, creative)
    qs, qc = seen["question"], creative["question"]
    col = lambda q, a: model.answer_index(torch.as_tensor(q), torch.as_tensor(a))  # noqa: E731
    prior_mode = np.zeros(len(qs), dtype=int)
    for q in COARSE:
        modes = np.array([np.argmax(world.prior(q, p)) for p in range(n)])
        rows = qs == QUESTIONS.index(q)
        prior_mode[rows] = modes[seen["person"][rows]]
    cols = {"true_s": col(qs, seen["answer"]), "prior": col(qs, prior_mode),
            "true_c": col(qc, creative["answer"]), "iconic": col(qc, world.attributes["outfit"][creative["person"]])}
    coarse_s = np.isin(qs, [QUESTIONS.index(q) for q in COARSE])
    unique_s = np.isin(qs, [QUESTIONS.index(q) for q in UNIQUE])
    unique_c = np.isin(qc, [QUESTIONS.index(q) for q in UNIQUE])
    outfit_c = qc == QUESTIONS.index("outfit")
    nobody = np.ones((cfg["n_first"], cfg["n_surnames"]), dtype=bool)
    nobody[world.first, world.surname] = False
    grid_f, grid_s = torch.meshgrid(torch.arange(cfg["n_first"]), torch.arange(cfg["n_surnames"]), indexing="ij")
    out = {k: np.zeros((len(states), n)) for k in CURVES}
    out["own_nobody"] = np.zeros((len(states), int(nobody.sum())))
    ps, pc = seen["person"], creative["person"]
    seen_rows = [torch.as_tensor(seen[k]) for k in ("person", "scene", "question")]

    def prob(logp: torch.Tensor, c: torch.Tensor) -> np.ndarray:
        return logp.gather(1, c[:, None])[:, 0].exp().numpy()

    with torch.no_grad(), runtime.cpu_threads():
        for t, state in enumerate(states):
            model.load_state_dict(state)
            ls, lc = model(xs), model(xc)
            p_true = prob(ls, cols["true_s"])
            out["prior"][t] = _per_person(prob(ls, cols["prior"]), ps, coarse_s, n)
            out["coarse"][t] = _per_person(p_true, ps, coarse_s, n)
            out["unique"][t] = _per_person(p_true, ps, unique_s, n)
            p_true_c = prob(lc, cols["true_c"])
            out["flexible"][t] = _per_person(p_true_c, pc, unique_c, n)
            out["iconic"][t] = _per_person(prob(lc, cols["iconic"]), pc, outfit_c, n)
            out["outfit"][t] = _per_person(p_true_c, pc, outfit_c, n)
            z = model.identity_code(grid_f.reshape(-1), grid_s.reshape(-1)).reshape(*grid_f.shape, -1)
            norm = interaction_norm(z)
            null = np.sort(norm[nobody])
            out["own"][t] = np.searchsorted(null, norm[world.first, world.surname], side="right") / len(null)
            # each nobody pair ranked among the others: the same rule applied where no identity exists
            out["own_nobody"][t] = np.searchsorted(null, norm[nobody], side="left") / max(len(null) - 1, 1)
            z_add = additive_part(z.double()).float()[world.first, world.surname]   # per person
            l_add = model.answers_for(z_add, *seen_rows)
            out["ablated"][t] = _per_person(prob(l_add, cols["true_s"]), ps, unique_s, n)
    return out


def onset(steps: Sequence[int], curve: Sequence[float], level: float, *, hold: int = 3) -> Optional[int]:
    """The first step from which ``curve`` stays ≥ ``level`` for ``hold`` consecutive checkpoints
    (near the end of the run, every remaining one), after it has been below ``level`` at least
    once: a curve that starts above the level (a chance draw at initialisation) has no onset until
    it has dipped and come back. ``None`` if never."""
    s = np.asarray(steps)
    c = np.asarray(curve, dtype=float)
    if s.ndim != 1 or c.shape != s.shape or len(s) == 0:
        raise ValueError(f"steps and curve must be 1-D of the same length, got {s.shape} and {c.shape}")
    if np.any(np.diff(s) <= 0):
        raise ValueError("steps must be strictly increasing")
    if np.any(np.isnan(c)):
        raise ValueError("curve contains NaN")
    check_int(hold, "hold", min=1)
    above = c >= level
    below = np.flatnonzero(~above)
    if not len(below):
        return None
    for i in range(int(below[0]) + 1, len(c)):
        if above[i: i + hold].all():
            return int(s[i])
    return None


#: Phase onsets: (name, curve, level): the first checkpoint from which the curve holds ≥ level.
#: Phase 4: in a new scene the model gives the iconic outfit (wrong there) more than half its
#: probability. Own direction: the identity code's interaction is above 99% of nobody's — a level
#: calibrated on the name pairs that are nobody, for which the same rule fires about 5% of the time.
PHASES = (("1 name-part bias", "prior", 0.5), ("2 coarse attributes", "coarse", 0.9),
          ("3 unique & flexible", "flexible", 0.5), ("4 overfit (iconic)", "iconic", 0.5),
          ("own direction", "own", 0.99))


def phase_onsets(steps: Sequence[int], timelines: Mapping[str, np.ndarray], *, hold: int = 3) -> dict[str, np.ndarray]:
    """Onset step of each of :data:`PHASES` per person (NaN: not reached)."""
    out = {}
    for name, key, level in PHASES:
        curves = timelines[key]
        out[name] = np.array([np.nan if (s := onset(steps, curves[:, i], level, hold=hold)) is None else s
                              for i in range(curves.shape[1])], dtype=float)
    return out


# --------------------------------------------------------------------------- the cached run
@dataclass
class WorldRun:
    """One world, one trained model: per-checkpoint curves per person and the checkpoints."""

    config: dict[str, Any]
    seed: int
    world: World
    step: np.ndarray                       #: checkpoint steps (log-spaced)
    train_loss: np.ndarray                 #: weighted training loss at every step
    timelines: dict[str, np.ndarray]       #: :func:`identity_timelines`
    states: list = field(repr=False)
    timings: dict = field(default_factory=dict)
    _memo: dict = field(default_factory=dict, repr=False)   # onsets and question curves, computed once

    @property
    def snapshot_steps(self) -> np.ndarray:
        return self.step

    def onsets(self) -> dict[str, np.ndarray]:
        """:func:`phase_onsets` of this run (computed once; a copy of each array is returned)."""
        if "onsets" not in self._memo:
            self._memo["onsets"] = phase_onsets(self.step, self.timelines)
        return {k: v.copy() for k, v in self._memo["onsets"].items()}

    def index_of(self, step: int) -> int:
        step = check_int(step, "step", min=0)
        hits = np.flatnonzero(self.step == step)
        if not len(hits):
            raise ValueError(f"step {step} is not a checkpoint; checkpoints: {self.step.tolist()}")
        return int(hits[0])

    def model_at(self, step: int) -> IdentityModel:
        """The model at checkpoint ``step`` (a fresh module, eval mode)."""
        model = IdentityModel(self.world)
        model.load_state_dict(self.states[self.index_of(step)])
        return model.eval()

    def question_curve(self, question: str, people: Sequence[int], answer: str = "true") -> np.ndarray:
        """(checkpoints, len(people)): P(answer) to one coarse ``question`` about each of ``people``,
        averaged over their seen scenes; ``answer`` is ``"true"`` or ``"prior"`` (the name parts'
        likeliest answer). Both answers are computed in one pass and remembered."""
        if question not in COARSE:
            raise ValueError(f"question must be one of {COARSE}, got {question!r}")
        if answer not in ("true", "prior"):
            raise ValueError(f"answer must be 'true' or 'prior', got {answer!r}")
        w = self.world
        people = tuple(w.check_person(p) for p in people)
        key = ("question", question, people)
        if key not in self._memo:
            self._memo[key] = self._compute_question_curves(question, list(people))
        return self._memo[key][answer]

    def _compute_question_curves(self, question: str, people: list[int]) -> dict[str, np.ndarray]:
        w = self.world
        empty = np.zeros((len(self.step), len(people)))
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
        out = {a: np.zeros((len(self.step), len(people))) for a in targets}
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
        if key not in self.timelines:
            raise ValueError(f"key must be one of {sorted(self.timelines)}, got {key!r}")
        return self.timelines[key][:, self.world.check_person(person)]


def _settings(profile: Optional[str], overrides: Mapping[str, Any]) -> dict[str, Any]:
    settings = runtime.by_profile(WORLD_SETTINGS, profile)
    unknown = set(overrides) - set(settings)
    if unknown:
        raise ValueError(f"unknown setting(s) {sorted(unknown)}; known: {sorted(settings)}")
    return _check_config({**settings, **overrides})


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
    cfg = _settings(profile, overrides)
    key = {**{k: v for k, v in cfg.items() if k != "seeds"}, "seed": seed, "version": _CACHE_VERSION}
    raw = cached("identity-world", key, lambda: _train(cfg, seed, progress))
    world = make_world(cfg, seed)
    measured = cached("identity-world-measures", {**key, "measures": _MEASURES_VERSION},
                      lambda: _measure(world, raw["states"]))
    return WorldRun(config=cfg, seed=seed, world=world, step=np.asarray(raw["steps"]),
                    train_loss=np.asarray(raw["train_loss"]), timelines=measured["timelines"],
                    states=raw["states"],
                    timings={"train_s": raw["timings"]["train_s"], "measures_s": measured["measures_s"]})


# --------------------------------------------------------------------------- across worlds
def stratified_shuffle(values: Sequence[float], strata: Sequence[int], rng: np.random.Generator) -> np.ndarray:
    """``values`` permuted at random *within* each stratum (each stratum keeps its own values)."""
    v, s = np.asarray(values), np.asarray(strata)
    if v.shape != s.shape or v.ndim != 1:
        raise ValueError(f"values and strata must be 1-D of the same length, got {v.shape} and {s.shape}")
    out = v.copy()
    for label in np.unique(s):
        idx = np.flatnonzero(s == label)
        out[idx] = v[rng.permutation(idx)]
    return out


def fame_strata(fame: np.ndarray, n_bins: int = 5) -> np.ndarray:
    """Quantile bin (0 = least famous … n_bins − 1) of each person's fame."""
    edges = np.quantile(fame, np.linspace(0, 1, n_bins + 1)[1:-1])
    return np.searchsorted(edges, fame, side="right")


@dataclass
class Coincidence:
    """Do two onsets coincide across identities beyond what fame alone explains?"""

    n: int                    #: identities with both onsets
    raw_rho: float            #: Spearman correlation of the two onsets (fame included)
    rho: float                #: Spearman correlation of what fame does not explain (see below)
    null_rho: np.ndarray      #: ``rho`` after shuffling one onset's residuals within world × fame bin
    lag: float                #: median log10(onset_b / onset_a): < 0, b comes first
    lag_interval: tuple[float, float]  #: bootstrap 95% interval of ``lag``

    @property
    def p_value(self) -> float:
        """One-sided: share of shuffles with a correlation at least the observed (add-one)."""
        return float((1 + np.sum(self.null_rho >= self.rho)) / (1 + len(self.null_rho)))

    @property
    def null_interval(self) -> tuple[float, float]:
        return tuple(float(x) for x in np.percentile(self.null_rho, [2.5, 97.5]))


def fame_residual(onsets: np.ndarray, fame: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """``log10(onset)`` minus its least-squares fit on ``1, log fame, (log fame)²`` within each group
    (world): what the person's fame does not predict about when they reach the onset."""
    x, f = np.log10(onsets), np.log10(fame)
    out = np.empty_like(x)
    for g in np.unique(groups):
        idx = np.flatnonzero(groups == g)
        design = np.stack([np.ones(len(idx)), f[idx], f[idx] ** 2], axis=1)
        coef, *_ = np.linalg.lstsq(design, x[idx], rcond=None)
        out[idx] = x[idx] - design @ coef
    return out


def onset_coincidence(a: Sequence[float], b: Sequence[float], fame: Sequence[float],
                      groups: Sequence[int] | None = None, *, n_shuffles: int = 2000,
                      seed: int = 0) -> Coincidence:
    """Do onsets ``a`` and ``b`` (steps; NaN = never, dropped) coincide beyond fame?

    Famous identities do *everything* earlier, so a raw correlation of two onsets mostly measures
    fame. Instead: take each onset's :func:`fame_residual` within its group (world), correlate the
    residuals (Spearman), and compare with shuffles of ``b``'s residuals within group × fame
    quintile. ``lag`` is the median of ``log10(b / a)`` with a bootstrap interval."""
    a, b, fame = (np.asarray(x, dtype=float) for x in (a, b, fame))
    groups = np.zeros(len(a), dtype=int) if groups is None else np.asarray(groups)
    if not a.shape == b.shape == fame.shape == groups.shape or a.ndim != 1:
        raise ValueError("a, b, fame and groups must be 1-D of the same length")
    if np.any(~np.isfinite(fame)) or np.any(fame <= 0):
        raise ValueError("fame must be positive and finite")
    check_int(n_shuffles, "n_shuffles", min=10)
    keep = np.isfinite(a) & np.isfinite(b) & (a > 0) & (b > 0)
    if keep.sum() < 8:
        raise ValueError(f"need at least 8 identities with both onsets, got {int(keep.sum())}")
    a, b, fame, groups = a[keep], b[keep], fame[keep], groups[keep]
    ra, rb = fame_residual(a, fame, groups), fame_residual(b, fame, groups)
    strata = np.zeros(len(a), dtype=int)
    for k, g in enumerate(np.unique(groups)):
        idx = groups == g
        strata[idx] = k * 10 + fame_strata(fame[idx], min(5, int(idx.sum())))
    rng = np.random.default_rng(seed)
    rho = spearman(ra, rb)
    null = np.array([spearman(ra, stratified_shuffle(rb, strata, rng)) for _ in range(n_shuffles)])
    lags = np.log10(b / a)
    boot = [np.median(rng.choice(lags, len(lags))) for _ in range(1000)]
    return Coincidence(n=int(keep.sum()), raw_rho=spearman(a, b), rho=rho, null_rho=null,
                       lag=float(np.median(lags)),
                       lag_interval=tuple(float(x) for x in np.percentile(boot, [2.5, 97.5])))


#: Fame tiers reported in the notebook: share of people by fame rank.
TIERS = (("celebrities (top 10%)", 0.0, 0.1), ("middle (10–50%)", 0.1, 0.5), ("ordinary (bottom half)", 0.5, 1.0))


def fame_tier(fame: np.ndarray) -> np.ndarray:
    """Index into :data:`TIERS` of each person, by fame rank within the world."""
    order = np.argsort(-np.asarray(fame), kind="stable")
    position = np.empty(len(order))
    position[order] = np.arange(len(order)) / len(order)
    return np.array([next(i for i, (_, lo, hi) in enumerate(TIERS) if lo <= p < hi) for p in position])


@dataclass
class WorldStudy:
    """The identity world over several seeds: one row per person of every world."""

    runs: list[WorldRun]
    people: Any  #: pandas DataFrame: seed, person, name, fame, tier, one onset column per phase, …
    _coincidences: dict = field(default_factory=dict, repr=False)

    def reach_table(self) -> Any:
        """Per phase × tier: how many identities reached the phase (Wilson 95% interval) and the
        median onset step among them; plus the same rule on the name pairs that are nobody."""
        import pandas as pd
        from ..stats import format_rate

        rows = []
        for name, _, _ in PHASES:
            row = {"phase": name}
            for t, (tier, _, _) in enumerate(TIERS):
                on = self.people.loc[self.people["tier"] == t, name].to_numpy()
                hit = np.isfinite(on)
                med = f", median step {np.median(on[hit]):.0f}" if hit.any() else ""
                row[tier] = format_rate(int(hit.sum()), len(on)) + med
            rows.append(row)
        nobody = np.concatenate([r.timelines["own_nobody"] for r in self.runs], axis=1)
        steps = self.runs[0].step
        hit = sum(onset(steps, nobody[:, j], PHASES[-1][2]) is not None for j in range(nobody.shape[1]))
        rows.append({"phase": "own direction, name pairs that are nobody (chance)",
                     **{tier: format_rate(int(hit), nobody.shape[1]) if t == 0 else ""
                        for t, (tier, _, _) in enumerate(TIERS)}})
        return pd.DataFrame(rows).set_index("phase")

    def coincidence(self, a: str = "3 unique & flexible", b: str = "own direction", **kwargs: Any) -> Coincidence:
        """:func:`onset_coincidence` of two onset columns over every world's people (remembered)."""
        key = (a, b, tuple(sorted(kwargs.items())))
        if key not in self._coincidences:
            p = self.people
            self._coincidences[key] = onset_coincidence(p[a].to_numpy(), p[b].to_numpy(), p["fame"].to_numpy(),
                                                        p["seed"].to_numpy(), **kwargs)
        return self._coincidences[key]


    def coincidence_table(self, b: str = "own direction", **kwargs: Any) -> Any:
        """:meth:`coincidence` of ``b`` with each phase: is it tied to phase 3 in particular?"""
        import pandas as pd

        rows = []
        for name, _, _ in PHASES:
            if name == b:
                continue
            c = self.coincidence(name, b, **kwargs)
            lo, hi = c.null_interval
            llo, lhi = c.lag_interval
            rows.append({"phase": name, "identities": c.n, "raw ρ": round(c.raw_rho, 2),
                         "ρ beyond fame": round(c.rho, 2), "shuffled 95% range": f"{lo:.2f} to {hi:.2f}",
                         "p (one-sided)": round(c.p_value, 4),
                         "median lag (decades)": f"{c.lag:+.2f} [{llo:+.2f}, {lhi:+.2f}]"})
        return pd.DataFrame(rows).set_index("phase")


def world_study(profile: Optional[str] = None, *, seeds: Optional[Sequence[int]] = None,
                progress: bool = True, **overrides: Any) -> WorldStudy:
    """:func:`identity_world_run` for every seed of the profile (or ``seeds``), pooled per person."""
    import pandas as pd

    cfg = _settings(profile, overrides)
    seeds = cfg["seeds"] if seeds is None else runtime.check_seeds(seeds)
    runs, frames = [], []
    for seed in progress_bar(seeds, desc="worlds", disable=not progress):
        run = identity_world_run(seed, profile, progress=False, **overrides)
        runs.append(run)
        w, tl = run.world, run.timelines
        frame = {"seed": seed, "person": np.arange(w.n_people),
                 "name": [w.name(i) for i in range(w.n_people)], "fame": w.fame,
                 "tier": fame_tier(w.fame),
                 **run.onsets(),
                 "own peak": tl["own"].max(axis=0), "own final": tl["own"][-1],
                 "unique final": tl["unique"][-1], "ablated final": tl["ablated"][-1]}
        frames.append(pd.DataFrame(frame))
    return WorldStudy(runs=runs, people=pd.concat(frames, ignore_index=True))
