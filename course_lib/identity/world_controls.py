"""Matched controls for notebook 3.4's claims, computed from a :class:`~.world_run.WorldRun`'s checkpoints.

* :func:`answer_curves` — P(each answer) to one coarse question, per checkpoint and person;
* :func:`phase1_matched` — phase 1 ("the name's answer first, then the truth") against the same rule
  applied to a random *other* wrong answer (the matched null), and the averaged preference
  P(name's answer) − mean P(other wrong answers) per checkpoint;
* :func:`ablation_control` — removing each person's own direction ``u`` against removing a random
  direction of the same length;
* :func:`activity_half_times` — half-times of the seen-scene activity split by scene weight: the
  non-signature seen scenes (the weight-matched side of the seen → new-scene lag) and two of them
  apart (a placebo: two seen scenes of one person);
* :func:`own_direction_fit` — the own-direction ranks with the additive part fitted on the untrained
  pairs that are nobody only (:func:`additive_fit`, :func:`cross_fitted_additive`) instead of on
  every pair; :func:`other_u_control` — do a person's answers need *their own* ``u``, or would another
  person's do?
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from .. import runtime
from ..validation import check_choice, check_float, check_int, check_seed
from .world import COARSE, QUESTIONS, UNIQUE
from .world_measures import additive_part, gain_share, half_time
from .world_model import IdentityModel

__all__ = ["answer_curves", "phase1_matched", "ablation_control", "activity_half_times", "OWN_FITS", "additive_fit",
           "cross_fitted_additive", "own_direction_fit", "other_u_control"]


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


def _final_model_on_seen(run):
    """The final checkpoint's model, the seen-scene queries, their (person, scene, question) rows,
    which of them ask a unique question, and each query's true-answer column."""
    model = IdentityModel(run.world)
    model.load_state_dict(run.states[-1])
    model.eval()
    seen = run.world.queries("seen")
    rows = [torch.as_tensor(seen[k]) for k in ("person", "scene", "question")]
    uq = np.isin(seen["question"], [QUESTIONS.index(q) for q in UNIQUE])
    col = model.answer_index(torch.as_tensor(seen["question"]), torch.as_tensor(seen["answer"]))
    return model, seen, rows, uq, col


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
    model, seen, rows, uq, col = _final_model_on_seen(run)
    nf, ns = w.config["n_first"], w.config["n_surnames"]
    gf, gs = torch.meshgrid(torch.arange(nf), torch.arange(ns), indexing="ij")
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


# --------------------------------------------------------------------------- the own direction's fit
#: How the additive (name-parts) part of the identity code is fitted (:func:`own_direction_fit`):
#: ``"all"`` — on every name pair, people included (the row and column means of
#: :func:`~.world_measures.additive_part`); ``"nobody"`` — on the untrained pairs that are nobody
#: only, cross-fitted so that every pair, the null's included, is scored out of sample.
OWN_FITS = ("all", "nobody")


def additive_fit(codes: torch.Tensor | np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Least-squares additive fit ``z(f, s) ≈ c + a_f + b_s`` over the name pairs where ``mask`` is
    true, evaluated on the whole grid: (n_first, n_surnames, d). On the full grid it equals
    :func:`~.world_measures.additive_part` (row and column means); on a part of it, it is the
    minimum-norm least-squares solution (a row or column with no pair in ``mask`` gets no effect
    of its own)."""
    z = np.asarray(codes, dtype=float)
    m = np.asarray(mask)
    if z.ndim != 3 or z.shape[0] < 2 or z.shape[1] < 2:
        raise ValueError(f"codes must be (n_first ≥ 2, n_surnames ≥ 2, d), got {z.shape}")
    if m.shape != z.shape[:2] or m.dtype != bool:
        raise ValueError(f"mask must be a boolean array of shape {z.shape[:2]}, got {m.dtype} {m.shape}")
    if not np.isfinite(z).all():
        raise ValueError("codes contain NaN or inf")
    nf, ns = z.shape[:2]
    f, s = np.nonzero(m)
    if len(f) < 1 + (nf - 1) + (ns - 1):
        raise ValueError(f"mask must select at least n_first + n_surnames − 1 = {nf + ns - 1} pairs, got {len(f)}")
    design = np.zeros((len(f), 1 + nf + ns))
    design[:, 0] = 1
    design[np.arange(len(f)), 1 + f] = 1
    design[np.arange(len(f)), 1 + nf + s] = 1
    beta = np.linalg.lstsq(design, z[f, s], rcond=None)[0]
    return beta[0] + beta[1:1 + nf][:, None] + beta[1 + nf:][None]


def cross_fitted_additive(codes: torch.Tensor | np.ndarray, mask: np.ndarray, *, folds: int = 5,
                          seed: int = 0) -> np.ndarray:
    """:func:`additive_fit` on ``mask``'s pairs, each pair of the grid predicted by a fit that
    leaves out its own fold (pairs are assigned to ``folds`` folds at random): a pair in ``mask``
    is then scored out of sample, exactly like a pair outside it. An in-sample fit would make the
    fitted pairs' residuals smaller than everyone else's and bias any comparison with them."""
    z = np.asarray(codes, dtype=float)
    check_int(folds, "folds", min=2)
    check_seed(seed)
    if z.ndim != 3:
        raise ValueError(f"codes must be (n_first, n_surnames, d), got {z.shape}")
    fold = np.random.default_rng(seed).integers(0, folds, z.shape[:2])
    out = np.zeros_like(z)
    for k in range(folds):
        here = fold == k
        if here.any():
            out[here] = additive_fit(z, np.asarray(mask, dtype=bool) & ~here)[here]
    return out


def _nobody_mask(world) -> np.ndarray:
    nobody = np.ones((world.config["n_first"], world.config["n_surnames"]), dtype=bool)
    nobody[world.first, world.surname] = False
    return nobody


def _codes(model: IdentityModel, nf: int, ns: int) -> np.ndarray:
    gf, gs = torch.meshgrid(torch.arange(nf), torch.arange(ns), indexing="ij")
    return model.identity_code(gf.reshape(-1), gs.reshape(-1)).reshape(nf, ns, -1).double().numpy()


def _additive_grid(z: np.ndarray, fit: str, nobody: np.ndarray, folds: int, seed: int) -> np.ndarray:
    if fit == "all":
        return additive_part(torch.as_tensor(z)).numpy()
    return cross_fitted_additive(z, nobody, folds=folds, seed=seed)


def own_direction_fit(run, fit: str = "nobody", *, folds: int = 5, seed: int = 0) -> dict[str, np.ndarray]:
    """The own-direction ranks of every checkpoint with the additive part fitted as ``fit`` says
    (:data:`OWN_FITS`): ``own`` (checkpoints, people) — the share of the pairs that are nobody whose
    ``‖u‖`` is below the person's; ``own_nobody`` (checkpoints, pairs that are nobody) — each such
    pair ranked among the others (the chance rule); ``u_norm``, ``u_nobody`` — the people's
    ``‖u‖`` and the nobody pairs' median. With ``fit="all"`` these are the run's own timelines'
    numbers (remembered on the run)."""
    check_choice(fit, "fit", OWN_FITS)
    key = ("own fit", fit, folds, seed)
    if key in run._memo:
        return run._memo[key]
    w = run.world
    nf, ns = w.config["n_first"], w.config["n_surnames"]
    nobody = _nobody_mask(w)
    model = IdentityModel(w)
    n_t = len(run.states)
    out = {"own": np.zeros((n_t, w.n_people)), "own_nobody": np.zeros((n_t, int(nobody.sum()))),
           "u_norm": np.zeros((n_t, w.n_people)), "u_nobody": np.zeros(n_t)}
    with torch.no_grad(), runtime.cpu_threads():
        for t, state in enumerate(run.states):
            model.load_state_dict(state)
            z = _codes(model, nf, ns)
            norm = np.linalg.norm(z - _additive_grid(z, fit, nobody, folds, seed), axis=-1)
            null = np.sort(norm[nobody])
            out["u_norm"][t] = norm[w.first, w.surname]
            out["u_nobody"][t] = float(np.median(null))
            out["own"][t] = np.searchsorted(null, out["u_norm"][t], side="right") / len(null)
            out["own_nobody"][t] = np.searchsorted(null, norm[nobody], side="left") / max(len(null) - 1, 1)
    run._memo[key] = out
    return out


def other_u_control(run, fit: str = "nobody", *, n_draws: int = 10, margin: float = 0.1, folds: int = 5,
                    seed: int = 0) -> dict[str, np.ndarray]:
    """Do a person's answers need *their own* direction ``u``, or would anyone's do? At the final
    checkpoint, P(true job/hobby) per person (seen scenes) from the full code ``z = add + u``
    (``"full"``), from the additive part alone (``"additive"``, fitted as ``fit`` says), and from
    the additive part plus **another person's** ``u`` (``"other"``: a random other person of the
    same world and the same half, mean over ``n_draws`` draws). ``"needs own"``: the full code
    beats the additive part by more than ``margin``; ``"other helps"``: the share of draws in which
    another person's ``u`` does — the floor that ``"needs own"`` must beat (a ``u`` that only
    pushed codes off the additive fit would help whoever's it was)."""
    check_choice(fit, "fit", OWN_FITS)
    check_int(n_draws, "n_draws", min=1)
    check_float(margin, "margin", min=0, max=1)
    check_seed(seed)
    key = ("other u", fit, n_draws, margin, folds, seed)
    if key in run._memo:
        return run._memo[key]
    w = run.world
    model, seen, rows, uq, col = _final_model_on_seen(run)
    count = np.bincount(seen["person"][uq], minlength=w.n_people)
    rng = np.random.default_rng(seed)
    with torch.no_grad(), runtime.cpu_threads():
        z = _codes(model, w.config["n_first"], w.config["n_surnames"])
        add = _additive_grid(z, fit, _nobody_mask(w), folds, seed)[w.first, w.surname]
        u = z[w.first, w.surname] - add

        def p_true(codes: np.ndarray) -> np.ndarray:
            lp = model.answers_for(torch.as_tensor(codes).float(), *rows).gather(1, col[:, None])[:, 0].exp()
            return np.bincount(seen["person"][uq], lp.numpy()[uq], w.n_people) / np.maximum(count, 1)

        full, alone = p_true(add + u), p_true(add)
        others = [p_true(add + u[_derangement(w.compositional, rng)]) for _ in range(n_draws)]
    out = {"full": full, "additive": alone, "other": np.mean(others, axis=0),
           "needs own": full - alone > margin,
           "other helps": np.mean([o - alone > margin for o in others], axis=0)}
    run._memo[key] = out
    return out


def _derangement(groups: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random permutation of the indices that maps every index to *another* index of its own
    group (``groups``: a label per index; each group needs at least two members)."""
    g = np.asarray(groups)
    perm = np.arange(len(g))
    for label in np.unique(g):
        idx = np.flatnonzero(g == label)
        if len(idx) < 2:
            raise ValueError(f"every group needs at least two members, group {label!r} has {len(idx)}")
        shift = rng.permutation(idx)
        # a random cyclic order: each member takes the next one's index (never its own)
        perm[shift] = np.roll(shift, -1)
    return perm
