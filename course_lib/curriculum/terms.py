"""Loss terms of Chapter 2's trainer: what a term is, the step it sees, and the built-in ones.

A term is ``term(z, x, recon, info) -> scalar tensor`` for **one** model: ``z`` (N, d) latents,
``x`` (N, 3) the step's batch, ``recon`` (N, 3), ``info`` a :class:`StepInfo`. Its weight is the
schedule parameter with the same name (:mod:`.train`). A term with an attribute ``batched = True``
also accepts ``z`` (S, N, d) and ``recon`` (S, N, 3) and returns (S,): a many-seed run then calls it
once instead of once per seed (:func:`unitarity_term` and :func:`planarity_term` are batched).
Names ``"lr"``, ``"recon"``, ``"loss"`` and ``"phase"`` are reserved.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional

import torch

from ..validation import check_int

__all__ = ["StepInfo", "Term", "RESERVED", "unitarity_term", "planarity_term", "check_terms", "term_values"]

RESERVED = ("lr", "recon", "loss", "phase")

Term = Callable[..., torch.Tensor]


@dataclass
class StepInfo:
    """What a loss term may want to know about the current step.

    ``values``: every schedule value at this step; ``phase``: the schedule's phase (a reactive
    schedule's ``phase``, else ``values.get("phase")``, else None); ``seed_index``: which seed of
    a sweep the term is computing for (None for one model and for batched terms)."""

    step: int
    values: dict[str, float]
    phase: Optional[int] = None
    seed_index: Optional[int] = None


def unitarity_term(z: torch.Tensor, x: torch.Tensor = None, recon: torch.Tensor = None,
                   info: StepInfo = None) -> torch.Tensor:
    """:func:`~course_lib.curriculum.unitarity` as a term: mean (‖z‖ − 1)² over the batch.
    Batched: z (..., N, d) → shape (...)."""
    return ((torch.linalg.vector_norm(z, dim=-1) - 1.0) ** 2).mean(dim=-1)


unitarity_term.batched = True  # type: ignore[attr-defined]


def planarity_term(keep: int = 2) -> Term:
    """:func:`~course_lib.curriculum.planarity` as a term: mean energy in dims ``keep`` and up.
    Batched: z (..., N, d) → shape (...)."""
    keep = check_int(keep, "keep", min=0)

    def planar(z: torch.Tensor, x: torch.Tensor = None, recon: torch.Tensor = None,
               info: StepInfo = None) -> torch.Tensor:
        return (z[..., keep:] ** 2).sum(dim=-1).mean(dim=-1)

    planar.batched = True  # type: ignore[attr-defined]
    planar.keep = keep  # type: ignore[attr-defined]
    return planar


def check_terms(terms: Any) -> dict[str, Term]:
    """``terms`` as a dict name → callable (None: no terms); TypeError/ValueError naming the culprit."""
    if terms is None:
        return {}
    if not isinstance(terms, Mapping):
        raise TypeError("terms must be a dict name → term(z, x, recon, info)")
    out = {}
    for name, term in terms.items():
        if not isinstance(name, str) or not name:
            raise TypeError(f"terms: names must be non-empty strings, got {name!r}")
        if name in RESERVED:
            raise ValueError(f"terms: {name!r} is reserved ({', '.join(RESERVED)}); rename the term")
        if not callable(term):
            raise TypeError(f"terms[{name!r}] must be callable term(z, x, recon, info)")
        out[name] = term
    return out


def term_values(terms: Mapping[str, Term], z: torch.Tensor, x: torch.Tensor, recon: torch.Tensor,
                step: int, values: dict[str, float], phase: Optional[int],
                n_models: Optional[int]) -> dict[str, torch.Tensor]:
    """Every term's raw value for one model (``n_models`` None: scalars) or for a stack of
    ``n_models`` (shape (S,) each: batched terms at once, the others seed by seed)."""
    raw = {}
    for name, term in terms.items():
        if n_models is None or getattr(term, "batched", False):
            value = term(z, x, recon, StepInfo(step, values, phase))
        else:
            value = torch.stack([term(z[s], x, recon[s], StepInfo(step, values, phase, s))
                                 for s in range(n_models)])
        if n_models is not None and value.shape != (n_models,):
            raise ValueError(f"term {name!r} returned shape {tuple(value.shape)}; "
                             f"expected a scalar per model ({n_models},)")
        raw[name] = value
    return raw
