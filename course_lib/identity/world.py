"""A world of identities: people whose names carry biases (the world itself).

Seed 000 predicts four phases when a network learns a named identity: (1) the identity is
overridden by biases from its name parts, (2) coarse attributes stabilise, (3) the unique identity
is learned and applies flexibly in new scenes, (4) the identity is overfit to narrow constraints of
its training data. The modules ``world*`` build the smallest world in which each phase has a
number: this one draws the world, :mod:`.world_model` learns it, :mod:`.world_measures` measures
the phases, :mod:`.world_run` caches one run and :mod:`.world_stats` pools several worlds.

**The world** (:func:`make_world`). ``n_people`` people, each a distinct (first name, surname)
pair drawn from ``n_first`` real first names × ``n_surnames`` invented surnames.

* *coarse attributes* come from the name parts, with the real strengths of part 1: **sex** is drawn
  with the first name's SSA female fraction, **age band** (0–24, 25–44, 45–64, 65+ in 2017) with the
  share of the name's living bearers in each band (:func:`~.names.name_stats`), independently of
  sex; **region** (one of 4) is the surname's home region with probability ``region_strength``,
  otherwise one of the other three.
* *unique attributes* — **job** and **hobby** (12 values each) — are uniform and independent of
  the name: nothing but the identity itself predicts them.
* **activity** (12 values) depends on the scene: in a *work* scene (even index) it is the person's
  job, in a *leisure* scene (odd index) their hobby. Answering it in a scene never seen with the
  person needs the identity *and* the scene's rule together: flexibility is a skill of its own, not
  a copy of "unique" (job and hobby are the same in every scene).
* *the compositional half* (the control of the own-direction measure): a random
  ``compositional_share`` of the people have attributes determined entirely by their name parts —
  sex, age band and region the name parts' likeliest ones, job a function of the first name, hobby
  and iconic outfit functions of the surname. Nothing about them needs an identity of their own.
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

:data:`WORLD_SETTINGS` holds the settings of every profile (the world, the model and its
training); :func:`world_config` checks a profile's settings with overrides.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional, Sequence

import numpy as np

from .. import runtime
from ..validation import check_choice, check_float, check_fraction, check_int, check_seed
from .names import name_stats

__all__ = ["WORLD_SETTINGS", "FIRST_NAMES", "AGE_BANDS", "REGIONS", "QUESTIONS", "COARSE", "UNIQUE",
           "SCENE_DEPENDENT", "World", "make_world", "world_config", "is_work_scene"]

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
QUESTIONS = ("sex", "age", "region", "job", "hobby", "outfit", "activity")
COARSE = ("sex", "age", "region")
UNIQUE = ("job", "hobby")
#: The scene-dependent question: the job in work scenes (even index), the hobby in leisure scenes.
SCENE_DEPENDENT = "activity"
N_JOBS = N_HOBBIES = 12
_SYLLABLES = ("var", "mo", "tes", "ka", "lin", "dor", "bru", "sel", "qua", "fen", "ri", "ta", "om",
              "pel", "zu", "nar", "gi", "vos", "el", "ham")

WORLD_SETTINGS: dict[str, dict[str, Any]] = {
    "quick": dict(n_first=16, n_surnames=16, n_people=96, n_scenes=6, seen_scenes=4, zipf=1.0,
                  region_strength=0.8, signature_share=0.5, compositional_share=0.5, d_name=24, d_hidden=96, d_identity=24,
                  d_context=12, d_head=96, optimizer="sgd", lr=0.5, weight_decay=1e-3, steps=700,
                  n_checkpoints=34, seeds=(0, 1, 2)),
    "standard": dict(n_first=24, n_surnames=24, n_people=192, n_scenes=6, seen_scenes=4, zipf=1.0,
                     region_strength=0.8, signature_share=0.5, compositional_share=0.5, d_name=32, d_hidden=128,
                     d_identity=32, d_context=16, d_head=128, optimizer="sgd", lr=0.5, weight_decay=1e-3,
                     steps=2000, n_checkpoints=60, seeds=(0, 1, 2, 3, 4)),
    "full": dict(n_first=32, n_surnames=32, n_people=384, n_scenes=6, seen_scenes=4, zipf=1.0,
                 region_strength=0.8, signature_share=0.5, compositional_share=0.5, d_name=48, d_hidden=192, d_identity=48,
                 d_context=16, d_head=192, optimizer="sgd", lr=0.5, weight_decay=1e-3,
                 steps=6000, n_checkpoints=80, seeds=tuple(range(10))),
}



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
    check_fraction(cfg["compositional_share"], "compositional_share")
    check_float(cfg["zipf"], "zipf", min=0, max=3)
    for key in ("d_name", "d_hidden", "d_identity", "d_context", "d_head", "steps", "n_checkpoints"):
        check_int(cfg[key], key, min=1)
    check_choice(cfg["optimizer"], "optimizer", ("sgd", "adamw"))
    check_float(cfg["lr"], "lr", min=0, inclusive="neither")
    check_float(cfg["weight_decay"], "weight_decay", min=0)
    cfg["seeds"] = tuple(runtime.check_seeds(cfg["seeds"]))
    return cfg


def world_config(profile: Optional[str] = None, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The profile's :data:`WORLD_SETTINGS` with ``overrides`` replacing single settings, checked."""
    settings = runtime.by_profile(WORLD_SETTINGS, profile)
    overrides = {} if overrides is None else overrides
    unknown = set(overrides) - set(settings)
    if unknown:
        raise ValueError(f"unknown setting(s) {sorted(unknown)}; known: {sorted(settings)}")
    return _check_config({**settings, **overrides})


def is_work_scene(scene: int | np.ndarray) -> bool | np.ndarray:
    """Whether a scene is a *work* scene (even index: activity = job) or leisure (odd: hobby)."""
    return np.asarray(scene) % 2 == 0


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
    compositional: np.ndarray        #: (n_people,) bool: every attribute set by the name parts

    @property
    def n_people(self) -> int:
        return len(self.first)

    @property
    def n_answers(self) -> dict[str, int]:
        return {"sex": 2, "age": len(AGE_BANDS), "region": len(REGIONS), "job": N_JOBS,
                "hobby": N_HOBBIES, "outfit": self.config["n_scenes"], "activity": N_JOBS}

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
        check_choice(question, "question", COARSE)
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
        if question == SCENE_DEPENDENT:
            return int(self.attributes["job" if is_work_scene(scene) else "hobby"][person])
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
                "kind": "compositional" if self.compositional[p] else "unique",
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
        check_choice(which, "which", ("seen", "creative"))
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
    # the compositional half: every attribute a function of the name parts (drawn last, so that the
    # rest of the world is the same whatever compositional_share is)
    comp = rng.permutation(n) < int(round(cfg["compositional_share"] * n))
    job_of_first, hobby_of_surname = rng.integers(0, N_JOBS, cfg["n_first"]), rng.integers(0, N_HOBBIES, cfg["n_surnames"])
    outfit_of_surname = rng.integers(0, n_scenes, cfg["n_surnames"])
    composed = {"sex": (female[first] < 0.5).astype(int), "age": np.argmax(ages[first], axis=1),
                "region": home[surname], "job": job_of_first[first], "hobby": hobby_of_surname[surname],
                # the iconic outfit is never the signature scene's own: the next one when they clash
                "outfit": np.where(outfit_of_surname[surname] == signature, (signature + 1) % n_scenes,
                                   outfit_of_surname[surname])}
    for key, value in composed.items():
        attributes[key] = np.where(comp, value, attributes[key])
    return World(config=cfg, first_names=first_names, surnames=surnames, female_fraction=female,
                 age_probs=ages, home_region=home, first=first, surname=surname,
                 attributes=attributes, fame=fame, signature=signature, seen=seen, compositional=comp)
