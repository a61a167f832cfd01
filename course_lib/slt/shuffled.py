"""A shuffled-components control for 5.5's column measurement: does a component's reading
belong to *its* weights, or would any equally large set of the network's weights read the same?

The construction. The trained network of :func:`~.components.column_study`, unchanged, plus
one offset vector θ with as many entries as a real component C has weights (``like``, e.g. the
embedding), added to that many scalar weights drawn uniformly at random, without replacement,
from **all** of the network's weights (every parameter of the
:class:`~.components.ComponentTransformer`; a few may fall inside C itself). At θ = 0 the
network is the trained one, the same function (tested). The shuffled component is θ alone: a
chain of ``estimate_llc`` that samples those scattered weights and holds the rest at w*, with
the same sampler, settings, sampler seeds and readout (:func:`~.components.read_columns`
against the column's own noise-only control, :func:`~.components.split_half_spread`) as the
real columns. What it sets out to change is which weights form the component — the same
number of them, its membership permuted over the whole network. It changes a second factor
too: scattered weights barely move the loss (their wrLLC, :data:`SHUFFLED_RECORD`, is
hundreds of times below the embedding's), and a column whose φ_C barely moves is mostly noise.
:data:`COUPLING_RECORD` therefore adds a coupling-matched arm: the unembedding, a real
component that moves the loss comparably, read alike on four chain sets.

What it can show: if C's column agrees on a frequency above its control and the shuffled
component's does not, the reading needs C's weights; if the shuffled one reads the same, the
reading is the network's (any large enough set of weights shows it), not C's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional, Sequence

import numpy as np
import torch
from torch import nn

from ..validation import check_int, check_seed
from .components import (ColumnReading, ComponentTransformer, component_model, grouping,
                         mean_cross_entropy, per_pair_cross_entropy, pooled_contrast_null,
                         read_columns, resolve_step, split_half_spread)

__all__ = ["ShuffledComponentTransformer", "shuffled_chi", "SHUFFLED_SETTINGS",
           "SHUFFLED_RECORD", "RECORD_NETWORK", "COUPLING_RECORD", "coupling_readings",
           "ShuffledStudy", "shuffled_study"]


class ShuffledComponentTransformer(nn.Module):
    """A :class:`~.components.ComponentTransformer` plus ``shuffle_offset`` θ (n_weights,),
    initialised at 0, added to ``n_weights`` scalar weights drawn uniformly without replacement
    (``seed``) from all of the base's parameters. The base's parameters keep their names
    (prefixed ``base.``); the shuffled component is ``["shuffle_offset"]``."""

    def __init__(self, base: ComponentTransformer, n_weights: int, seed: int) -> None:
        super().__init__()
        if not isinstance(base, ComponentTransformer):
            raise TypeError("base must be a ComponentTransformer")
        named = list(base.named_parameters())
        total = sum(p.numel() for _, p in named)
        n_weights = check_int(n_weights, "n_weights", min=1, max=total)
        gen = torch.Generator().manual_seed(check_seed(seed))
        picks = torch.randperm(total, generator=gen)[:n_weights].sort().values
        self.base = base
        self.names: list[str] = []
        start = 0
        for name, p in named:
            local = picks[(picks >= start) & (picks < start + p.numel())] - start
            self.register_buffer(f"pos_{len(self.names)}", local)
            self.names.append(name)
            start += p.numel()
        self.shuffle_offset = nn.Parameter(torch.zeros(n_weights, dtype=base.W_U.dtype))

    def positions(self) -> dict[str, torch.Tensor]:
        """Parameter name → the flat indices of its weights in the component."""
        return {n: getattr(self, f"pos_{i}") for i, n in enumerate(self.names)}

    def forward(self, pairs: torch.Tensor) -> torch.Tensor:
        """The base's logits with θ added to the drawn weights."""
        params, at = {}, 0
        for name, local in self.positions().items():
            w = getattr(self.base, name)
            k = int(local.numel())
            if k:
                w = w.reshape(-1).index_add(0, local, self.shuffle_offset[at:at + k]).view_as(w)
                at += k
            params[name] = w
        return torch.func.functional_call(self.base, params, (pairs,))


def _shuffled_chi(seed: int, step: int, like: str, shuffle_seed: int, run_profile: str,
                  sampler: Mapping[str, Any]) -> dict[str, Any]:
    import time

    from ..runtime import cpu_threads
    from .components import _SAMPLER
    from .course_models import grokking_run
    from .observables import susceptibilities

    run = grokking_run(seed, run_profile, progress=False)
    freq, rand, _ = grouping(run)
    setup = component_model(run.model_at(step), freq, rand)
    n = setup.n_weights(like)
    model = ShuffledComponentTransformer(setup.model, n, shuffle_seed)
    inside = sum(int(model.positions()[p].numel()) for p in setup.components[like])
    start = time.process_time()
    with cpu_threads():
        sus = susceptibilities(model, mean_cross_entropy, per_pair_cross_entropy, run.data,
                               {f"shuffled {like}": ["shuffle_offset"]},
                               **{**_SAMPLER, **sampler})
    return {"chi": sus.chi, "chain_chi": sus.chain_chi, "n_weights": n, "inside": inside,
            "wrllc": {c: r.mean for c, r in sus.llc.items()},
            "cpu_seconds": time.process_time() - start}


def shuffled_chi(seed: int, step: Any, like: str = "embedding", *, shuffle_seed: int = 0,
                 run_profile: str = "quick", sampler: Mapping[str, Any]) -> dict[str, Any]:
    """The column of a component as large as ``like`` whose weights are drawn at random from
    the whole network (``shuffle_seed``), on Chapter 3's run ``seed`` at checkpoint ``step``
    (cached, "slt-components-shuffled"): ``chi`` (pairs, 1), ``chain_chi`` (chains, pairs, 1),
    ``n_weights``, ``inside`` (how many of them fall in ``like`` itself), ``wrllc``,
    ``cpu_seconds``."""
    from ..cache import cached
    from .components import _CACHE_VERSION, _SAMPLER
    from .course_models import grokking_run

    seed, shuffle_seed = check_seed(seed), check_seed(shuffle_seed)
    if not isinstance(sampler, Mapping):
        raise ValueError("sampler must be a mapping of estimate_llc settings")
    run = grokking_run(seed, run_profile, progress=False)
    step = resolve_step(run, step)
    config = {"run": run.key, "step": step, "like": str(like), "shuffle_seed": shuffle_seed,
              "sampler": {**_SAMPLER, **sampler}, "version": _CACHE_VERSION}
    return cached("slt-components-shuffled", config,
                  lambda: _shuffled_chi(seed, step, str(like), shuffle_seed, run_profile,
                                        dict(sampler)))


#: Per-profile settings: the column measurement's own run, checkpoint, sampler, budget and
#: chain sets (:data:`~.components.COLUMN_SETTINGS`), one shuffled component as large as
#: ``like`` (the embedding: the one real column that agrees above its control in
#: ``standard``) per ``shuffle_seeds`` entry. ``quick``: three (about 2 s of CPU each; no
#: power, as every quick column). At ``standard``'s budget one shuffle costs about 80 s of CPU
#: (every chain carries its own copy of all the network's weights, since the drawn weights
#: touch nearly every tensor), past 5.5's five-minute budget: ``standard`` reads
#: :data:`SHUFFLED_RECORD` instead, and ``full`` runs the three shuffles live.
SHUFFLED_SETTINGS: dict[str, dict[str, Any]] = {
    "quick": {"like": "embedding", "shuffle_seeds": [0, 1, 2]},
    "standard": {"like": "embedding", "shuffle_seeds": []},
    "full": {"like": "embedding", "shuffle_seeds": [0, 1, 2]},
}

#: The shuffled control at ``standard``'s column budget (8 chains × 500 reads, sampler seed
#: 0), shuffle seeds 0–2, on the seed-0 network an AVX-512 CPU trains (native kernels;
#: measured for round g's review, 2026-12-05, the wrLLC added for round h's;
#: ``tests/test_slt_shuffled.py`` re-runs seed 0, slow): per shuffle seed, (both halves'
#: peaks, the pooled column's peak, whether it agrees above its own 35-contrast control, its
#: rank split-half median over the 35 splits, its own wrLLC nβ E[φ_C] to two significant
#: figures — how strongly sampling it moves the loss).
SHUFFLED_RECORD: dict[int, tuple[tuple[int, int], int, bool, float, float]] = {
    0: ((18, 26), 4, False, 0.14, 0.0088),
    1: ((15, 10), 11, False, 0.16, 0.021), 2: ((4, 13), 14, False, 0.18, 0.0095),
}

#: The seed-0 network the records of this module were measured on (an AVX-512 CPU, native
#: kernels): its frequency groups' sizes. A slow test that re-runs a record checks its exact
#: readings only where the CPU trains this network.
RECORD_NETWORK: dict[str, int] = {"k=12": 41, "k=16": 125, "k=19": 90}

#: The coupling-matched arm. The shuffled components barely move the loss (their wrLLC is
#: hundreds of times below the embedding's), so they differ from the embedding in a second
#: factor, coupling. This record holds the embedding and a real component that moves the
#: loss comparably, the **unembedding** W_U (3,392 weights against the embedding's 3,648),
#: read alike: ``standard``'s column budget on four chain sets (sampler seeds 0–3),
#: each component's halves against the control pooled over the four sets' 140 sign contrasts
#: (:func:`~.components.column_study` with ``components``), on :data:`RECORD_NETWORK`
#: (measured for round h's review, 2026-12-05; 34–41 s of sampling CPU per component and set;
#: ``tests/test_slt_shuffled.py`` re-runs it, slow). ``columns``: per component, per set,
#: (both halves' peaks, the pooled peak, agrees, rank split-half median, wrLLC).
COUPLING_RECORD: dict[str, Any] = {
    "seed": 0, "sampler_seeds": (0, 1, 2, 3), "null_n": 140,
    "null_q": {"embedding": 0.28, "unembedding": 0.27},
    "columns": {
        "embedding": (((16, 16), 16, True, 0.40, 3.80), ((16, 16), 16, True, 0.37, 4.01),
                      ((16, 16), 16, True, 0.40, 3.91), ((16, 16), 16, True, 0.41, 4.03)),
        "unembedding": (((9, 4), 4, False, 0.34, 1.65), ((12, 25), 11, False, 0.38, 1.66),
                        ((10, 24), 22, False, 0.30, 1.66), ((11, 22), 11, False, 0.31, 1.63)),
    },
}


def coupling_readings(study: Any) -> dict[str, tuple]:
    """A :class:`~.components.ColumnStudy`'s readings in :data:`COUPLING_RECORD`'s form: per
    component, per set, (halves' peaks, pooled peak, agrees, rank split-half median to 2
    decimals, wrLLC to 2 decimals)."""
    if getattr(study, "wrllc", None) is None:
        raise ValueError("study must be a ColumnStudy with its wrLLC recorded")
    return {c: tuple((r[j].half_peaks, r[j].peak, r[j].agrees,
                      round(float(np.median(study.rank_reliability[i, :, j])), 2),
                      round(float(study.wrllc[i, j]), 2))
                     for i, r in enumerate(study.readings))
            for j, c in enumerate(study.components)}


@dataclass
class ShuffledStudy:
    """The shuffled control of one profile: per shuffle seed, its column read on each chain
    set of the column measurement (``readings[i][s]``: shuffle i, set s) against the noise-only
    control pooled over that shuffle's sets; ``rank_reliability[i]`` (sets, splits)."""

    profile: str
    like: str
    shuffle_seeds: list[int]
    sampler_seeds: list[int]
    n_weights: int
    inside: list[int]
    readings: list[list[ColumnReading]]
    null_q: list[float]
    null_n: int
    rank_reliability: np.ndarray
    wrllc: list[float]
    cpu_seconds: float

    def passes(self) -> tuple[int, int]:
        """(chain sets × shuffles in which the column agrees on a peak above its control,
        chain sets × shuffles read)."""
        flat = [r for rs in self.readings for r in rs]
        return sum(r.agrees for r in flat), len(flat)

    def peaks(self) -> list[int]:
        """The pooled column's peak k, per shuffle and set."""
        return [r.peak for rs in self.readings for r in rs]


def shuffled_study(profile: Optional[str] = None) -> ShuffledStudy:
    """5.5's shuffled-components control for ``profile`` (default: active)."""
    from ..runtime import by_profile, get_profile
    from .components import COLUMN_SETTINGS
    from .course_models import grokking_run

    profile = get_profile() if profile is None else profile
    cfg = by_profile(COLUMN_SETTINGS, profile)
    scfg = by_profile(SHUFFLED_SETTINGS, profile)
    run = grokking_run(cfg["seed"], cfg["run_profile"], progress=False)
    pairs, p = run.data[0].numpy(), run.source.p
    readings, nulls, rel, inside, wrllc, cpu, null_n = [], [], [], [], [], 0.0, 0
    setup = component_model(run.model_at(resolve_step(run, cfg["step"])), *grouping(run)[:2])
    n = setup.n_weights(scfg["like"])
    for shuffle in scfg["shuffle_seeds"]:
        sets = []
        for sseed in cfg["sampler_seeds"]:
            entry = shuffled_chi(cfg["seed"], cfg["step"], scfg["like"],
                                 shuffle_seed=shuffle, run_profile=cfg["run_profile"],
                                 sampler={**cfg["sampler"], "seed": int(sseed)})
            sets.append(np.asarray(entry["chain_chi"]))
            cpu += float(entry["cpu_seconds"])
            wrllc.append(float(next(iter(entry["wrllc"].values()))))
        inside.append(int(entry["inside"]))
        q, null_n = pooled_contrast_null(sets, pairs, p)
        name = [f"shuffled {scfg['like']}"]
        readings.append([read_columns(c, name, pairs, p, null=(q, null_n))[0] for c in sets])
        nulls.append(float(q[0]))
        rel.append(np.stack([split_half_spread(c)[:, 0] for c in sets]))
    return ShuffledStudy(profile, scfg["like"], [int(s) for s in scfg["shuffle_seeds"]],
                         [int(s) for s in cfg["sampler_seeds"]], n, inside, readings, nulls,
                         null_n, np.stack(rel) if rel else np.zeros((0, 0, 0)), wrllc, cpu)
