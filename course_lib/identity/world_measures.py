"""Measuring the identity world's phases per identity, at every checkpoint of a run.

**Measures** (:func:`identity_timelines`), per person and checkpoint, as mean probabilities:

1. ``prior``    — P(the name parts' most likely coarse answer): the bias of phase 1;
2. ``coarse``   — P(the person's true sex, age band, region), seen scenes;
3. ``unique``   — P(true job, hobby), seen scenes; ``activity`` — P(true scene-dependent activity),
   seen scenes; ``flexible`` — the same in creative scenes;
4. ``iconic``   — P(iconic outfit) in creative scenes (the overfit); ``outfit`` — P(right outfit)
   in creative scenes;

and the same as mean log-probabilities (``lp_*``), for the **threshold-free scale**
(:func:`gain_share`): each answer type's share of its final nats gained over what the name parts
alone give, compared at one level (:func:`half_time`) for every type.

The weight-space signature of "knowing" an identity is the *own direction*: the share of the
identity code not explained by its name parts, ``u = z − z̄ − a_f − b_s``, the interaction term
of the two-way (first × surname) decomposition of ``z`` over *all* ``n_first × n_surnames`` name
pairs (:func:`interaction_norm`, :func:`additive_part`) — the pairs that are nobody are the null.
:func:`rise_time` tells a jump in ``‖u‖`` from smooth growth.

Onsets (:func:`onset`) are the first checkpoint from which a curve stays at or above a level for a
run of checkpoints; :func:`phase_onsets` applies it with the levels of :data:`PHASES`.
"""

from __future__ import annotations

from typing import Mapping, Optional, Sequence

import numpy as np
import torch

from .. import runtime
from ..validation import check_choice, check_float, check_int
from .world import COARSE, QUESTIONS, SCENE_DEPENDENT, UNIQUE, World
from .world_model import IdentityModel, query_tensor

__all__ = ["interaction_norm", "additive_part", "CURVES", "ANSWER_TYPES", "identity_timelines", "gain_share",
           "half_time", "rise_time", "onset", "PHASES", "phase_onsets", "SHARE_ZEROS", "prior_base", "share_curves"]


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
CURVES = ("prior", "coarse", "unique", "activity", "flexible", "iconic", "outfit", "own", "ablated", "u_norm",
          "lp_coarse", "lp_unique", "lp_activity", "lp_flexible")
#: The answer types of the threshold-free measure (:func:`gain_share`): log-probability curve and
#: what the name parts alone give (``base_*`` of :func:`identity_timelines`).
ANSWER_TYPES = {"coarse": "lp_coarse", "unique": "lp_unique", "activity": "lp_activity", "flexible": "lp_flexible"}


def identity_timelines(world: World, states: Sequence[Mapping[str, torch.Tensor]]) -> dict[str, np.ndarray]:
    """Per checkpoint × person (mean probabilities over the person's questions):

    ``prior`` P(name parts' likeliest coarse answer), ``coarse`` P(true coarse answer) and
    ``unique`` P(true job/hobby) in seen scenes; ``activity`` P(true activity) in seen scenes and
    ``flexible`` the same in creative scenes (the scene-dependent question: job at work, hobby at
    leisure); ``iconic`` P(iconic outfit) and ``outfit`` P(scene's outfit) in creative scenes;
    ``own`` the fraction of the name pairs that are nobody whose :func:`interaction_norm` is below
    the person's (0.5 ≈ no more own direction than chance); ``u_norm`` that norm itself;
    ``ablated`` P(true job/hobby) in seen scenes when ``z`` is replaced by its :func:`additive_part`.
    ``lp_*`` are mean log-probabilities of the true answers (coarse, unique, activity seen,
    flexible = activity in creative scenes), the input of :func:`gain_share`.

    Also ``own_nobody`` (checkpoint × pairs that are nobody): each such pair's rank among the
    others, the null for ``own``; ``u_nobody`` (checkpoint,): their median norm; and per person
    ``base_coarse`` (mean log-probability of the true coarse answers under the name parts' prior)
    and ``base_unique`` (log 1/12, chance: nothing in a unique person's name predicts job, hobby
    or activity).
    """
    if not states:
        raise ValueError("states must not be empty")
    model = IdentityModel(world)
    n, cfg = world.n_people, world.config
    seen, creative = world.queries("seen"), world.queries("creative")
    xs, xc = query_tensor(world, seen), query_tensor(world, creative)
    qs, qc = seen["question"], creative["question"]
    col = lambda q, a: model.answer_index(torch.as_tensor(q), torch.as_tensor(a))  # noqa: E731
    prior_mode = np.zeros(len(qs), dtype=int)
    base = np.zeros(len(qs))
    for q in COARSE:
        priors = np.stack([world.prior(q, p) for p in range(n)])
        rows = qs == QUESTIONS.index(q)
        prior_mode[rows] = np.argmax(priors, axis=1)[seen["person"][rows]]
        base[rows] = np.log(priors[seen["person"][rows], seen["answer"][rows]])
    cols = {"true_s": col(qs, seen["answer"]), "prior": col(qs, prior_mode),
            "true_c": col(qc, creative["answer"]), "iconic": col(qc, world.attributes["outfit"][creative["person"]])}
    coarse_s = np.isin(qs, [QUESTIONS.index(q) for q in COARSE])
    unique_s = np.isin(qs, [QUESTIONS.index(q) for q in UNIQUE])
    activity_s = qs == QUESTIONS.index(SCENE_DEPENDENT)
    activity_c = qc == QUESTIONS.index(SCENE_DEPENDENT)
    outfit_c = qc == QUESTIONS.index("outfit")
    nobody = np.ones((cfg["n_first"], cfg["n_surnames"]), dtype=bool)
    nobody[world.first, world.surname] = False
    grid_f, grid_s = torch.meshgrid(torch.arange(cfg["n_first"]), torch.arange(cfg["n_surnames"]), indexing="ij")
    out = {k: np.zeros((len(states), n)) for k in CURVES}
    out["own_nobody"] = np.zeros((len(states), int(nobody.sum())))
    out["u_nobody"] = np.zeros(len(states))
    ps, pc = seen["person"], creative["person"]
    out["base_coarse"] = _per_person(base, ps, coarse_s, n)
    out["base_unique"] = np.full(n, -np.log(world.n_answers["job"]))
    seen_rows = [torch.as_tensor(seen[k]) for k in ("person", "scene", "question")]

    def logprob(logp: torch.Tensor, c: torch.Tensor) -> np.ndarray:
        return logp.gather(1, c[:, None])[:, 0].numpy().astype(float)

    with torch.no_grad(), runtime.cpu_threads():
        for t, state in enumerate(states):
            model.load_state_dict(state)
            ls, lc = model(xs), model(xc)
            lp_true = logprob(ls, cols["true_s"])
            lp_true_c = logprob(lc, cols["true_c"])
            p_true, p_true_c = np.exp(lp_true), np.exp(lp_true_c)
            out["prior"][t] = _per_person(np.exp(logprob(ls, cols["prior"])), ps, coarse_s, n)
            out["coarse"][t] = _per_person(p_true, ps, coarse_s, n)
            out["unique"][t] = _per_person(p_true, ps, unique_s, n)
            out["activity"][t] = _per_person(p_true, ps, activity_s, n)
            out["flexible"][t] = _per_person(p_true_c, pc, activity_c, n)
            out["iconic"][t] = _per_person(np.exp(logprob(lc, cols["iconic"])), pc, outfit_c, n)
            out["outfit"][t] = _per_person(p_true_c, pc, outfit_c, n)
            out["lp_coarse"][t] = _per_person(lp_true, ps, coarse_s, n)
            out["lp_unique"][t] = _per_person(lp_true, ps, unique_s, n)
            out["lp_activity"][t] = _per_person(lp_true, ps, activity_s, n)
            out["lp_flexible"][t] = _per_person(lp_true_c, pc, activity_c, n)
            z = model.identity_code(grid_f.reshape(-1), grid_s.reshape(-1)).reshape(*grid_f.shape, -1)
            norm = interaction_norm(z)
            null = np.sort(norm[nobody])
            out["u_norm"][t] = norm[world.first, world.surname]
            out["u_nobody"][t] = float(np.median(null))
            out["own"][t] = np.searchsorted(null, norm[world.first, world.surname], side="right") / len(null)
            # each nobody pair ranked among the others: the same rule applied where no identity exists
            out["own_nobody"][t] = np.searchsorted(null, norm[nobody], side="left") / max(len(null) - 1, 1)
            z_add = additive_part(z.double()).float()[world.first, world.surname]   # per person
            l_add = model.answers_for(z_add, *seen_rows)
            out["ablated"][t] = _per_person(np.exp(logprob(l_add, cols["true_s"])), ps, unique_s, n)
    return out


def gain_share(logp: np.ndarray, base: np.ndarray, *, floor: float = 0.1) -> np.ndarray:
    """The threshold-free measure: per checkpoint × person, the share of the *final* nats gained
    over the name parts' prior, ``(logp_t − base) / (logp_T − base)``.

    ``logp`` (checkpoints, people): mean log P(true answer); ``base`` (people,): the same under the
    name parts alone (the prior for coarse questions, chance for unique ones). Every answer type is
    put on the same scale — 0 at the name's prior, 1 at the end of training — so "which comes
    first" no longer depends on how many answers a question has, on a head start from the name, or
    on a level chosen per question. A person who gained less than ``floor`` × the most there is to
    gain (``−base``) by the end has no share (NaN column): there is nothing to order."""
    lp, b = np.asarray(logp, dtype=float), np.asarray(base, dtype=float)
    if lp.ndim != 2 or b.shape != (lp.shape[1],):
        raise ValueError(f"logp must be (checkpoints, people) and base (people,), got {lp.shape} and {b.shape}")
    check_float(floor, "floor", min=0, max=1)
    final = lp[-1] - b
    ok = final > floor * np.maximum(-b, 1e-12)
    out = np.full(lp.shape, np.nan)
    out[:, ok] = (lp[:, ok] - b[ok]) / final[ok]
    return out


def half_time(steps: Sequence[int], share: Sequence[float]) -> float:
    """The step at which ``share`` first reaches 0.5 and stays there to the end, interpolated in
    log step between the two checkpoints around the crossing (NaN for a NaN curve). A share is 1 at
    the last checkpoint by construction, so every curve with a share has a half-time."""
    s = np.maximum(np.asarray(steps, dtype=float), 1)
    c = np.asarray(share, dtype=float)
    if s.ndim != 1 or c.shape != s.shape:
        raise ValueError(f"steps and share must be 1-D of the same length, got {s.shape} and {c.shape}")
    if np.isnan(c).any():
        return float("nan")
    below = np.flatnonzero(c < 0.5)
    if not len(below):
        return float(s[0])
    i = int(below[-1])
    if i == len(c) - 1:
        return float("nan")
    x0, x1, y0, y1 = np.log10(s[i]), np.log10(s[i + 1]), c[i], c[i + 1]
    return float(10 ** (x0 + (0.5 - y0) / (y1 - y0) * (x1 - x0)))


def rise_time(steps: Sequence[int], curve: Sequence[float], lo: float = 0.1, hi: float = 0.9) -> float:
    """Decades of training steps a curve takes to climb from ``lo`` to ``hi`` of the way from its
    start to its peak (first crossings, interpolated in log step): ≈ one checkpoint interval for a
    jump, about a decade or more for smooth growth. NaN if it never rises."""
    s = np.log10(np.maximum(np.asarray(steps, dtype=float), 1))
    c = np.asarray(curve, dtype=float)
    if s.shape != c.shape or c.ndim != 1:
        raise ValueError(f"steps and curve must be 1-D of the same length, got {s.shape} and {c.shape}")
    top = int(np.argmax(c))
    span = c[top] - c[0]
    if top == 0 or span <= 0:
        return float("nan")
    progress = (c[: top + 1] - c[0]) / span

    def cross(level: float) -> float:
        j = int(np.argmax(progress >= level))
        if j == 0:
            return float(s[0])
        y0, y1 = progress[j - 1], progress[j]
        return float(s[j - 1] + (level - y0) / (y1 - y0) * (s[j] - s[j - 1]))

    return cross(hi) - cross(lo)


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
#: Phase 1: P(the name parts' answer) ≥ 0.5. Phases 2 and 3 on the threshold-free scale of
#: :func:`gain_share`: half of the final nats over the name prior gained (the same level for every
#: answer type): ``share_coarse``, ``share_unique`` (job and hobby, seen scenes), ``share_activity``
#: (the scene-dependent question, seen scenes) and ``share_flexible`` (the same in new scenes).
#: Phase 4: in a new scene the model gives the iconic outfit (wrong there) more than half its
#: probability. Own direction: the identity code's interaction is above 99% of nobody's — a level
#: calibrated on the name pairs that are nobody, for which the same rule fires about 5% of the time.
PHASES = (("1 name-part bias", "prior", 0.5), ("2 coarse attributes", "share_coarse", 0.5),
          ("3 unique (seen scenes)", "share_unique", 0.5), ("3 activity (seen scenes)", "share_activity", 0.5),
          ("3 flexible (new scenes)", "share_flexible", 0.5), ("4 overfit (iconic)", "iconic", 0.5),
          ("own direction", "own", 0.99))


#: Where a share's 0 is put: "prior" — what the name parts alone give (the prior for coarse
#: questions, chance for unique ones): the share of what is learned *beyond the name*; "start" —
#: the untrained model's own value at checkpoint 0: the share of *all* that is learned, name-part
#: learning included. Both are threshold-free; they answer different questions.
SHARE_ZEROS = ("prior", "start")


def prior_base(timelines: Mapping[str, np.ndarray], kind: str) -> np.ndarray:
    """The name prior's log-likelihood for answer type ``kind`` (``base_coarse`` for coarse answers,
    ``base_unique`` for the rest: the prior a name's parts alone give)."""
    return timelines["base_coarse" if kind == "coarse" else "base_unique"]


def share_curves(timelines: Mapping[str, np.ndarray], zero: str = "prior") -> dict[str, np.ndarray]:
    """:func:`gain_share` of every answer type of :data:`ANSWER_TYPES`, keyed ``share_<type>``, with
    its 0 at ``zero`` (one of :data:`SHARE_ZEROS`)."""
    check_choice(zero, "zero", SHARE_ZEROS)

    def base(kind: str, key: str) -> np.ndarray:
        if zero == "start":
            return np.asarray(timelines[key])[0]
        return prior_base(timelines, kind)

    return {f"share_{kind}": gain_share(timelines[key], base(kind, key)) for kind, key in ANSWER_TYPES.items()}


def phase_onsets(steps: Sequence[int], timelines: Mapping[str, np.ndarray], *, hold: int = 3) -> dict[str, np.ndarray]:
    """Onset step of each of :data:`PHASES` per person (NaN: not reached, or no share to order)."""
    curves_all = {**timelines, **share_curves(timelines)}
    out = {}
    for name, key, level in PHASES:
        curves = curves_all[key]
        out[name] = np.array([np.nan if np.isnan(curves[:, i]).any()
                              or (s := onset(steps, curves[:, i], level, hold=hold)) is None else s
                              for i in range(curves.shape[1])], dtype=float)
    return out
