"""Matched controls for notebook 3.4's claims, computed from a :class:`~.world_run.WorldRun`'s checkpoints.

* :func:`answer_curves` — P(each answer) to one coarse question, per checkpoint and person;
* :func:`phase1_matched` — phase 1 ("the name's answer first, then the truth") against the same rule
  applied to a random *other* wrong answer (the matched null), and the averaged preference
  P(name's answer) − mean P(other wrong answers) per checkpoint;
* :func:`ablation_control` — removing each person's own direction ``u`` against removing a random
  direction of the same length;
* :func:`activity_half_times` — half-times of the seen-scene activity split by scene weight: the
  non-signature seen scenes (the weight-matched side of the seen → new-scene lag) and two of them
  apart (a placebo: two seen scenes of one person).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from .. import runtime
from ..validation import check_choice, check_int, check_seed
from .world import COARSE, QUESTIONS, UNIQUE
from .world_measures import additive_part, gain_share, half_time
from .world_model import IdentityModel

__all__ = ["answer_curves", "phase1_matched", "ablation_control", "activity_half_times"]


def answer_curves(run, question: str, people: Sequence[int]) -> np.ndarray:
    """(checkpoints, len(people), answers): P(each answer) to the coarse ``question``, averaged over
    each person's seen scenes (remembered on the run)."""
    check_choice(question, "question", COARSE)
    w = run.world
    people = tuple(w.check_person(p) for p in people)
    key = ("answers", question, people)
    if key in run._memo:
        return run._memo[key]
    q, k = QUESTIONS.index(question), w.n_answers[question]
    out = np.zeros((len(run.checkpoint_steps), len(people), k))
    if people:
        rows = [(i, p, c) for i, p in enumerate(people) for c in np.flatnonzero(w.seen[p])]
        pos = np.array([i for i, _, _ in rows])
        x = torch.as_tensor([[w.first[p], w.surname[p], c, q] for _, p, c in rows], dtype=torch.long)
        count = np.bincount(pos, minlength=len(people))[:, None]
        model = IdentityModel(w)
        lo = int(model.offsets[q])
        with torch.no_grad(), runtime.cpu_threads():
            for t, state in enumerate(run.states):
                model.load_state_dict(state)
                prob = model(x)[:, lo:lo + k].exp().numpy()
                out[t] = np.stack([np.bincount(pos, prob[:, a], len(people)) for a in range(k)], 1) / count
    run._memo[key] = out
    return out


def phase1_matched(run, question: str, people: Sequence[int], *, margin: float = 0.1, seed: int = 0) -> dict:
    """Phase 1 for people whose true answer is not their name's likeliest, with its matched null.

    Returns ``{"name": bool array, "other": bool array, "difference": (checkpoints,) array}``:
    ``name`` — the model prefers the name's answer over the truth by more than ``margin`` at some
    checkpoint and the truth at the end; ``other`` — the same rule for one *other* wrong answer
    drawn at random per person (same people, same checkpoints: exceptions are learned late, and
    mid-training they may prefer any wrong answer); ``difference`` — the mean over people of
    P(name's answer) − mean P(the other wrong answers), per checkpoint. Needs ≥ 3 answers
    (``"age"`` or ``"region"``: sex has no other wrong answer)."""
    check_seed(seed)
    w = run.world
    if w.n_answers[question] < 3:
        raise ValueError(f"question must have at least 3 answers for a matched null, got {question!r}")
    people = [w.check_person(p) for p in people]
    probs = answer_curves(run, question, people)
    rng = np.random.default_rng(seed)
    name_hit, other_hit, diffs = [], [], []
    for i, p in enumerate(people):
        true, mode = int(w.attributes[question][p]), int(np.argmax(w.prior(question, p)))
        if true == mode:
            raise ValueError(f"person {p} answers {question!r} as their name predicts: not an exception")
        others = [a for a in range(probs.shape[2]) if a not in (true, mode)]
        rand = int(rng.choice(others))
        pt = probs[:, i, true]
        for wrong, hits in ((mode, name_hit), (rand, other_hit)):
            pw = probs[:, i, wrong]
            hits.append(bool((pw - pt > margin).any() and pt[-1] > pw[-1]))
        diffs.append(probs[:, i, mode] - probs[:, i, others].mean(axis=1))
    n_t = len(run.checkpoint_steps)
    return {"name": np.array(name_hit, dtype=bool), "other": np.array(other_hit, dtype=bool),
            "difference": np.mean(diffs, axis=0) if diffs else np.zeros(n_t), "per_person": np.array(diffs)}


def ablation_control(run, *, n_random: int = 10, seed: int = 0) -> dict[str, np.ndarray]:
    """At the final checkpoint, P(true job/hobby) per person (seen scenes) from the full identity
    code, from its additive part (``u`` removed), and — the matched control — from the code with a
    random direction of the same length ``‖u‖`` removed instead (mean over ``n_random`` draws).
    If ``u`` carries the identity, removing it costs far more than removing any direction that size."""
    check_int(n_random, "n_random", min=1)
    check_seed(seed)
    key = ("ablation", n_random, seed)
    if key in run._memo:
        return run._memo[key]
    w = run.world
    model = IdentityModel(w)
    model.load_state_dict(run.states[-1])
    model.eval()
    nf, ns = w.config["n_first"], w.config["n_surnames"]
    gf, gs = torch.meshgrid(torch.arange(nf), torch.arange(ns), indexing="ij")
    seen = w.queries("seen")
    rows = [torch.as_tensor(seen[k]) for k in ("person", "scene", "question")]
    uq = np.isin(seen["question"], [QUESTIONS.index(q) for q in UNIQUE])
    col = model.answer_index(torch.as_tensor(seen["question"]), torch.as_tensor(seen["answer"]))
    count = np.bincount(seen["person"][uq], minlength=w.n_people)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad(), runtime.cpu_threads():
        z = model.identity_code(gf.reshape(-1), gs.reshape(-1)).reshape(nf, ns, -1).double()
        za = additive_part(z)
        zp, zap = z[w.first, w.surname], za[w.first, w.surname]
        size = (zp - zap).norm(dim=1, keepdim=True)

        def p_true(codes: torch.Tensor) -> np.ndarray:
            lp = model.answers_for(codes.float(), *rows).gather(1, col[:, None])[:, 0].exp().numpy()
            return np.bincount(seen["person"][uq], lp[uq], w.n_people) / np.maximum(count, 1)

        rand = []
        for _ in range(n_random):
            v = torch.randn(zp.shape, generator=gen, dtype=torch.float64)
            rand.append(p_true(zp - v / v.norm(dim=1, keepdim=True) * size))
        out = {"full": p_true(zp), "additive": p_true(zap), "random": np.mean(rand, axis=0)}
    run._memo[key] = out
    return out


def activity_half_times(run) -> dict[str, np.ndarray]:
    """Per person, the half-time (:func:`~.world_measures.half_time` of the share of final nats) of
    the activity answered in seen scenes, split by weight: ``"other seen"`` — the seen scenes that
    are *not* the signature scene (each 1/6 of the person's weight, against 1/2 for the signature);
    ``"placebo a"``, ``"placebo b"`` — two of those scenes apart, for the placebo lag between two
    seen scenes of one person (NaN where undefined)."""
    if "activity split" in run._memo:
        return run._memo["activity split"]
    w, steps = run.world, run.checkpoint_steps
    model = IdentityModel(w)
    seen = w.queries("seen")
    act = seen["question"] == QUESTIONS.index("activity")
    person, scene = seen["person"][act], seen["scene"][act]
    x = torch.as_tensor(np.stack([w.first[person], w.surname[person], scene, seen["question"][act]], 1),
                        dtype=torch.long)
    col = model.answer_index(torch.as_tensor(seen["question"][act]), torch.as_tensor(seen["answer"][act]))
    lp = np.zeros((len(run.states), len(person)))
    with torch.no_grad(), runtime.cpu_threads():
        for t, state in enumerate(run.states):
            model.load_state_dict(state)
            lp[t] = model(x).gather(1, col[:, None])[:, 0].numpy()
    n = w.n_people
    other = scene != w.signature[person]
    # rank of each non-signature row among its person's non-signature rows: 0 → placebo a, 1 → b
    order = np.full(len(person), -1)
    for p in range(n):
        idx = np.flatnonzero(other & (person == p))
        order[idx] = np.arange(len(idx))
    base = np.full(n, -np.log(w.n_answers["activity"]))

    def halves(mask: np.ndarray) -> np.ndarray:
        count = np.bincount(person[mask], minlength=n)
        curve = np.stack([np.bincount(person[mask], lp[t, mask], n) for t in range(len(lp))]) / np.maximum(count, 1)
        share = gain_share(curve, base)
        return np.array([half_time(steps, share[:, i]) if count[i] else np.nan for i in range(n)])

    out = {"other seen": halves(other), "placebo a": halves(order == 0), "placebo b": halves(order == 1)}
    run._memo["activity split"] = out
    return out
