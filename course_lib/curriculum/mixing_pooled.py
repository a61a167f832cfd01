"""The no-attention baselines for notebook 2.6: what does the mixing rule need?

:class:`PooledMixer` embeds each colour token with the same kind of linear map as the transformer
(plus the role embedding), **averages the two tokens first**, and reads the mix out of that average
with a GELU MLP — no attention, nothing that lets one token see the other before pooling. Its input to
the read-out is therefore a function of ``a + b`` alone (the role vectors add a constant), so it can
learn the RGB average exactly but not the product ``a ⊙ b``: pairs with the same sum and different
products get the same answer. :func:`mean_pool_floor` estimates the lowest MSE *any* function of
``a + b`` can reach on the training distribution (nearest-neighbour regression on the sum), the floor
this baseline cannot go below however long it trains.

With ``token_hidden > 0`` the linear embedding becomes a per-token GELU MLP ``3 → token_hidden → d``
and the same model is a **DeepSets** network (Zaheer et al. 2017): still no attention, the tokens
still meet only in the mean, but each is transformed *nonlinearly* before pooling. That is enough for
the product, since ``ab = ½[(a + b)² − a² − b²]`` and ``a²``, ``b²`` are per-token features. The two
baselines differ in that one factor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np
import torch
from torch import nn

from .. import runtime
from ..cache import cached
from ..validation import check_int
from ..widgets import progress as progress_bar
from .mixing import DEFAULTS, MIXING_SETTINGS, _pairs, mix, mixing_pairs

__all__ = ["PooledMixer", "PooledRun", "train_pooled", "cached_pooled", "pooled_sweep", "mean_pool_floor",
           "DEEPSETS_TOKEN_HIDDEN"]

#: Width of the per-token MLP of the DeepSets baseline (``pooled_sweep(token_hidden=…)``).
DEEPSETS_TOKEN_HIDDEN = 32


class PooledMixer(nn.Module):
    """Token embedding + role, mean over the two tokens, then a GELU MLP read-out.
    ``forward(pairs (n, 2, 3)) → (n, 3)``. The embedding is linear (``token_hidden = 0``, the pooled
    baseline) or a per-token MLP ``3 → token_hidden → d`` (the DeepSets baseline)."""

    def __init__(self, d: int = 12, hidden: int = 48, token_hidden: int = 0):
        super().__init__()
        check_int(d, "d", min=1)
        check_int(hidden, "hidden", min=1)
        check_int(token_hidden, "token_hidden", min=0)
        self.d, self.token_hidden = d, token_hidden
        self.colour = (nn.Linear(3, d) if token_hidden == 0 else
                       nn.Sequential(nn.Linear(3, token_hidden), nn.GELU(), nn.Linear(token_hidden, d)))
        self.role = nn.Parameter(torch.zeros(2, d))
        self.readout = nn.Sequential(nn.Linear(d, hidden), nn.GELU(), nn.Linear(hidden, hidden), nn.GELU(),
                                     nn.Linear(hidden, 3))

    def forward(self, pairs: torch.Tensor) -> torch.Tensor:
        h = self.colour(_pairs(pairs)) + self.role
        return self.readout(h.mean(dim=1))


@dataclass
class PooledRun:
    """One trained baseline: its settings, final weights and mixing-MSE curve (``steps``, ``mse``)."""

    config: dict
    state: dict
    steps: np.ndarray
    mse: np.ndarray

    def model(self) -> PooledMixer:
        m = PooledMixer(self.config["d"], self.config["hidden"], self.config.get("token_hidden", 0))
        m.load_state_dict(self.state)
        return m.eval()


def train_pooled(seed: int = 0, profile: Optional[str] = None, **overrides) -> PooledRun:
    """Train one :class:`PooledMixer` exactly as :func:`~.mixing.train_mixer` trains the transformer
    (same pairs, batch, steps, Adam with the same cosine-decayed learning rate), with no anchor terms.
    ``overrides``: ``d``, ``hidden``, ``token_hidden`` (0: linear embedding; > 0: DeepSets), ``lr``,
    ``steps``, ``batch``."""
    base = runtime.by_profile(MIXING_SETTINGS, profile)
    cfg = {"d": DEFAULTS["d"], "hidden": 48, "token_hidden": 0, "lr": DEFAULTS["lr"], "steps": base["steps"],
           "batch": base["batch"]}
    unknown = set(overrides) - set(cfg)
    if unknown:
        raise ValueError(f"unknown setting(s): {sorted(unknown)}")
    cfg.update(overrides)
    check_int(cfg["steps"], "steps", min=1)
    with runtime.seeded(seed) as g:     # the module's initial weights are global draws
        model = PooledMixer(cfg["d"], cfg["hidden"], cfg["token_hidden"])
    opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * t / cfg["steps"])))
    mse = []
    with runtime.cpu_threads():  # one thread, as for the transformer
        for _ in range(cfg["steps"]):
            pairs = mixing_pairs(cfg["batch"], g)
            loss = ((model(pairs) - mix(pairs[:, 0], pairs[:, 1])) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            mse.append(float(loss.detach()))
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    return PooledRun(config={**cfg, "seed": seed}, state=state, steps=np.arange(1, cfg["steps"] + 1),
                     mse=np.asarray(mse))


def cached_pooled(seed: int = 0, profile: Optional[str] = None, **overrides) -> PooledRun:
    """:func:`train_pooled` through the course cache (key: seed, profile settings, overrides)."""
    cfg = {**runtime.by_profile(MIXING_SETTINGS, profile), **overrides, "seed": seed, "version": 1}
    return cached("curriculum-pooled-mixer", cfg, lambda: train_pooled(seed, profile, **overrides))


def pooled_sweep(profile: Optional[str] = None, seeds: Optional[int] = None, progress: bool = True,
                 **overrides) -> list[PooledRun]:
    """One cached baseline per seed ``0 … seeds−1`` (default: the profile's ``seeds``)."""
    n = runtime.by_profile(MIXING_SETTINGS, profile)["seeds"] if seeds is None else check_int(seeds, "seeds", min=1)
    return [cached_pooled(s, profile, **overrides)
            for s in progress_bar(range(n), desc="pooled baselines", disable=not progress)]


def mean_pool_floor(n_reference: int = 40000, n_query: int = 3000, k: int = 30, seed: int = 0) -> float:
    """Estimated lowest MSE of any function of ``a + b`` at predicting ``a ⊙ b`` on the training
    distribution: each query pair is answered with the mean product of its ``k`` nearest reference
    pairs by sum (the conditional mean, up to a small smoothing bias). For the RGB average, whose
    answer *is* a function of the sum, the same estimate is its smoothing bias alone."""
    n_reference = check_int(n_reference, "n_reference", min=2)
    n_query = check_int(n_query, "n_query", min=1)
    k = check_int(k, "k", min=1, max=n_reference)
    g = torch.Generator().manual_seed(int(seed))
    ref, qry = mixing_pairs(n_reference, g).double(), mixing_pairs(n_query, g).double()
    y_ref, y_q = ref[:, 0] * ref[:, 1], qry[:, 0] * qry[:, 1]
    err = []
    for chunk in torch.split(torch.arange(n_query), 500):
        d = torch.cdist(qry[chunk].sum(1), ref.sum(1))
        idx = d.topk(k, largest=False).indices
        err.append(((y_ref[idx].mean(1) - y_q[chunk]) ** 2).mean(1))
    return float(torch.cat(err).mean())
