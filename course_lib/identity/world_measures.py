"""Measuring the identity world's phases per identity, at every checkpoint of a run.

**Measures** (:func:`identity_timelines`), per person and checkpoint, as mean probabilities:

1. ``prior``    — P(the name parts' most likely coarse answer): the bias of phase 1;
2. ``coarse``   — P(the person's true sex, age band, region), seen scenes;
3. ``unique``   — P(true job, hobby), seen scenes; ``flexible`` — the same in creative scenes;
4. ``iconic``   — P(iconic outfit) in creative scenes (the overfit); ``outfit`` — P(right outfit)
   in creative scenes.

and the weight-space signature of "knowing" an identity, the *own direction*: the share of the
identity code not explained by its name parts, ``‖u(f,s)‖² / ‖z(f,s) − z̄‖²`` with
``u = z − z̄ − a_f − b_s`` the interaction term of the two-way (first × surname) decomposition of
``z`` over *all* ``n_first × n_surnames`` name pairs (:func:`interaction_norm`,
:func:`additive_part`) — the pairs that are nobody are the null.

Onsets (:func:`onset`) are the first checkpoint from which a curve stays at or above a level for a
run of checkpoints; :func:`phase_onsets` applies it with the levels of :data:`PHASES`.
"""

from __future__ import annotations

from typing import Mapping, Optional, Sequence

import numpy as np
import torch

from .. import runtime
from ..validation import check_int
from .world import COARSE, QUESTIONS, UNIQUE, World
from .world_model import IdentityModel, query_tensor

__all__ = ["interaction_norm", "additive_part", "CURVES", "identity_timelines", "onset", "PHASES",
           "phase_onsets"]


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
    xs, xc = query_tensor(world, seen), query_tensor(world, creative)
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
