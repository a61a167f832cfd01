"""The local learning coefficient, estimated by localised SGLD with all chains at once.

Lau et al. (2023) estimate the learning coefficient λ of a trained parameter w* by sampling the
*localised tempered posterior*

    p(w) ∝ exp(−nβ L_n(w) − (γ/2)‖w − w*‖²)

with stochastic-gradient Langevin dynamics (SGLD), one step of which is

    w ← w − (ε/2) [nβ ∇L_B(w) + γ (w − w*)] + N(0, ε I),

and reporting  λ̂ = nβ (E_p[L_n(w)] − L_n(w*)).  Here L_n is the mean loss over all n samples,
L_B the mean over a minibatch B, and the expectation is the average of the minibatch loss over
the draws *after* burn-in.  The defaults follow the paper: nβ = n / log n.

Engineering (why this is fast): the parameters of every chain are one flat tensor ``W`` of shape
(chains, P).  ``torch.func.functional_call`` evaluates the model at any flat parameter vector; ``torch.vmap``
of it gives every chain's loss in one batched forward pass, and one backward pass of their sum
gives every chain's gradient.  The update is four fused in-place tensor operations on ``W``; the
loss trace stays on the device until the end; finiteness is checked every ``check_every`` steps,
not every step.  Many chains cost little more than one as long as the device is not saturated.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable, Optional, Sequence

import numpy as np
import torch
from torch import nn

from ..validation import check_float, check_int, check_seed

LossFn = Callable[[nn.Module, tuple], torch.Tensor]
#: ``observer(draw, W, flat_loss)``: see :func:`estimate_llc`.
Observer = Callable[[int, torch.Tensor, "FlatLoss"], None]


class ChainDivergedError(FloatingPointError):
    """An SGLD chain diverged: its loss or parameters became NaN or infinite, or (whatever the
    dtype) its distance from w* or its loss grew far beyond anything the localised posterior
    allows.  The step size is too large."""


#: A chain has diverged when its squared distance from w* exceeds this many times the largest
#: squared radius the localised posterior can hold (see :func:`divergence_radius2`), or its
#: nβ (L − L_n(w*)) exceeds LOSS_FACTOR × (parameters + 1).  Both are far outside any stationary
#: chain: a finite-step chain on a quadratic inflates the variance by 1/(1 − εa/4), 40× at εa = 3.9.
RADIUS_FACTOR = 1e4
LOSS_FACTOR = 1e6


def relaxation_time(epsilon: float, gamma: float) -> float:
    """Steps for a deviation from w* along a direction held only by the localisation to shrink by
    a factor e: one step multiplies it by (1 − εγ/2), so τ = −1 / log|1 − εγ/2| ≈ 2/(εγ).
    Infinite when γ = 0 or the pull itself is unstable (εγ ≥ 4)."""
    rho = abs(1.0 - epsilon * gamma / 2.0)
    if gamma <= 0 or rho >= 1.0:
        return math.inf
    if rho == 0.0:
        return 0.0
    return -1.0 / math.log(rho)


def relaxed_fraction(num_burnin: int, num_draws: int, epsilon: float, gamma: float) -> float:
    """The fraction of its stationary variance that a direction held only by the localisation has
    reached, averaged over the draws kept: a chain started at w* has variance s²(1 − ρ^{2t}) after t
    steps (ρ = 1 − εγ/2), so over steps b … b + D − 1 the mean is 1 − ρ^{2b}(1 − ρ^{2D}) / (D(1 − ρ²)).
    It sets the time scale of the burn-in bias; it is no bound on λ̂, whose loss may grow faster
    than quadratically along the slow direction."""
    num_burnin = check_int(num_burnin, "num_burnin", min=0)
    num_draws = check_int(num_draws, "num_draws", min=1)
    rho2 = (1.0 - epsilon * gamma / 2.0) ** 2
    if gamma <= 0 or rho2 >= 1.0:
        return 0.0
    return 1.0 - rho2 ** num_burnin * (1.0 - rho2 ** num_draws) / (num_draws * (1.0 - rho2))


def divergence_radius2(w_star: torch.Tensor, *, epsilon: float, gamma: float, steps: int,
                       nbeta: float = 0.0, init_loss: float = 0.0) -> float:
    """The squared distance from w* beyond which a chain counts as diverged.

    A chain of P parameters started at w* cannot legitimately be farther than the largest of: the
    weights' own scale ‖w*‖²; P times the variance a coordinate reaches under the localisation
    alone, 1/(γ(1 − εγ/4)), or, if that is larger, as a free random walk in ``steps`` steps, ε·steps;
    and the radius where the localisation's cost γr²/2 exceeds all the loss there is to gain,
    2 nβ L_n(w*)/γ.  ``RADIUS_FACTOR`` times that is divergence.
    """
    P = int(w_star.numel())
    spread = epsilon * steps
    if gamma > 0 and epsilon * gamma < 4:
        spread = min(spread, 1.0 / (gamma * (1.0 - epsilon * gamma / 4.0)))
    gain = 2.0 * nbeta * abs(init_loss) / gamma if gamma > 0 else 0.0
    scale = float(w_star.double().pow(2).sum()) + P * spread + gain
    return RADIUS_FACTOR * max(scale, 1e-12)


@dataclass(frozen=True)
class LLCResult:
    """What :func:`estimate_llc` measured.

    ``per_chain[c] = nbeta * (loss_trace[c].mean() − init_loss)``; ``mean`` and ``std`` are over
    chains (``std`` with ddof = 1; 0 for one chain).  ``loss_trace[c, t]`` is the minibatch loss of
    chain c at draw t (after burn-in); ``burnin_trace`` the same for the burn-in steps, which are
    never averaged in.  ``init_loss`` is the full-data loss at w*.
    """

    mean: float
    std: float
    per_chain: np.ndarray
    loss_trace: np.ndarray
    burnin_trace: np.ndarray
    init_loss: float
    epsilon: float
    nbeta: float
    gamma: float
    n: int
    batch_size: int
    seed: int
    seconds: float
    num_params: int
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def num_chains(self) -> int:
        return int(self.per_chain.shape[0])

    @property
    def num_draws(self) -> int:
        return int(self.loss_trace.shape[1])

    @property
    def num_burnin(self) -> int:
        return int(self.burnin_trace.shape[1])

    @property
    def sem(self) -> float:
        """Standard error of ``mean`` over chains: std / √chains."""
        return self.std / math.sqrt(self.num_chains)

    @property
    def steps_per_second(self) -> float:
        """SGLD steps per second, all chains counted (chains × (burn-in + draws) / seconds)."""
        steps = self.num_chains * (self.num_draws + self.num_burnin)
        return steps / self.seconds if self.seconds > 0 else float("inf")

    def after(self, num_burnin: int, num_draws: Optional[int] = None) -> "LLCResult":
        """The estimate this run would have given with ``num_burnin`` more steps discarded as
        burn-in and the next ``num_draws`` (default: all the rest) averaged: one long run scores
        every burn-in at once."""
        num_burnin = check_int(num_burnin, "num_burnin", min=0)
        rest = self.num_draws - num_burnin
        num_draws = rest if num_draws is None else check_int(num_draws, "num_draws", min=1)
        if num_draws > rest or rest < 1:
            raise ValueError(f"only {self.num_draws} draws: cannot skip {num_burnin} and keep "
                             f"{num_draws}")
        draws = self.loss_trace[:, num_burnin:num_burnin + num_draws]
        per_chain = self.nbeta * (draws.mean(axis=1) - self.init_loss)
        std = float(per_chain.std(ddof=1)) if self.num_chains > 1 else 0.0
        burnin = np.concatenate([self.burnin_trace, self.loss_trace[:, :num_burnin]], axis=1)
        return replace(self, mean=float(per_chain.mean()), std=std, per_chain=per_chain,
                       loss_trace=draws, burnin_trace=burnin)

    def llc_trace(self) -> np.ndarray:
        """(chains, draws): nβ (running mean of the loss − L_n(w*)) — how each estimate settles."""
        running = np.cumsum(self.loss_trace, axis=1) / np.arange(1, self.num_draws + 1)
        return self.nbeta * (running - self.init_loss)

    def __str__(self) -> str:
        return (f"λ̂ = {self.mean:.3f} ± {self.std:.3f} (std over {self.num_chains} chains; "
                f"ε = {self.epsilon:g}, nβ = {self.nbeta:.4g}, γ = {self.gamma:g}, "
                f"{self.num_burnin} burn-in + {self.num_draws} draws, batch {self.batch_size} "
                f"of n = {self.n}; {self.steps_per_second:,.0f} steps/s)")


# ----------------------------------------------------------------------------------- validation

def check_data(data: Any) -> tuple[torch.Tensor, ...]:
    """``data`` as a non-empty tuple of tensors that share their first dimension."""
    if isinstance(data, torch.Tensor):
        data = (data,)
    if not isinstance(data, (tuple, list)) or not data:
        raise TypeError("data must be a non-empty tuple of tensors sharing dim 0, "
                        f"got {type(data).__name__}")
    if not all(isinstance(t, torch.Tensor) for t in data):
        kinds = [type(t).__name__ for t in data]
        raise TypeError(f"data must hold only tensors, got {kinds}")
    if any(t.dim() == 0 for t in data):
        raise ValueError("data tensors need a sample dimension (dim 0); got a 0-d tensor")
    sizes = {int(t.shape[0]) for t in data}
    if len(sizes) != 1:
        raise ValueError(f"data tensors must share dim 0 (the samples), got sizes {sorted(sizes)}")
    if sizes == {0}:
        raise ValueError("data is empty: it has 0 samples")
    return tuple(data)


def default_nbeta(n: int) -> float:
    """The inverse temperature of Watanabe's WBIC and of Lau et al.: nβ = n / log n."""
    n = check_int(n, "n", min=2)
    return n / math.log(n)


def _selected_names(model: nn.Module, params: Optional[Iterable[str]]) -> list[str]:
    names = [name for name, p in model.named_parameters()]
    if not names:
        raise ValueError("model has no parameters to sample")
    if params is None:
        return names
    if isinstance(params, str):
        params = [params]
    chosen = list(params)
    unknown = [p for p in chosen if p not in names]
    if unknown:
        raise ValueError(f"params names {unknown} that are not parameters of the model; "
                         f"its parameters are {names}")
    if not chosen:
        raise ValueError("params is empty: name at least one parameter to sample")
    return [name for name in names if name in set(chosen)]


# ------------------------------------------------------------------------------ the functional

class _LossOf(nn.Module):
    """``forward(*batch) = loss_fn(model, batch)``: puts a loss function in ``functional_call``'s
    reach, so the model's parameters (prefixed ``model.``) can be swapped for any tensor."""

    def __init__(self, model: nn.Module, loss_fn: LossFn) -> None:
        super().__init__()
        self.model = model
        self.loss_fn = loss_fn

    def forward(self, *batch: torch.Tensor) -> torch.Tensor:
        return self.loss_fn(self.model, tuple(batch))


class FlatLoss:
    """The loss as a function of a flat parameter vector of the selected parameters.

    ``w_star`` (P,) holds the selected parameters at w*; the rest, and the buffers, stay fixed.
    ``__call__(flat, batch)`` is vmap-able over ``flat`` and over the batch.
    """

    def __init__(self, model: nn.Module, loss_fn: LossFn, names: Sequence[str]) -> None:
        self.module = _LossOf(model, loss_fn)
        named = dict(model.named_parameters())
        self.names = list(names)
        self.shapes = [named[n].shape for n in self.names]
        self.numels = [named[n].numel() for n in self.names]
        self.w_star = torch.cat([named[n].detach().reshape(-1) for n in self.names]).clone()
        self.fixed = {f"model.{n}": p.detach() for n, p in named.items() if n not in set(names)}
        self.fixed.update({f"model.{n}": b for n, b in model.named_buffers()})
        # functional_call re-checks for tied weights on every call (a walk over the modules); a
        # model without them can skip that, which is a tenth of a small model's SGLD step.
        aliases = list(model.named_parameters(remove_duplicate=False))
        self.tied = len(aliases) != len(named)

    def unflatten(self, flat: torch.Tensor) -> dict[str, torch.Tensor]:
        pieces = torch.split(flat, self.numels)
        params = {f"model.{n}": piece.view(shape)
                  for n, piece, shape in zip(self.names, pieces, self.shapes)}
        params.update(self.fixed)
        return params

    def __call__(self, flat: torch.Tensor, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
        return torch.func.functional_call(self.module, self.unflatten(flat), batch,
                                          tie_weights=self.tied)


def full_data_loss(loss: FlatLoss, flat: torch.Tensor, data: tuple[torch.Tensor, ...],
                   batch_size: Optional[int] = None) -> float:
    """L_n at ``flat``: the mean loss over every sample (chunked, size-weighted, if batched)."""
    n = int(data[0].shape[0])
    chunk = n if batch_size is None else max(int(batch_size), 1024)
    total = 0.0
    with torch.no_grad():
        for start in range(0, n, chunk):
            part = tuple(t[start:start + chunk] for t in data)
            value = loss(flat, part)
            if value.dim() != 0:
                raise ValueError(f"loss_fn must return a scalar mean loss, got shape "
                                 f"{tuple(value.shape)}")
            total += float(value) * int(part[0].shape[0])
    return total / n


# ----------------------------------------------------------------------------------- sampling

class _Batches:
    """Per-chain minibatches without replacement: each chain walks its own random permutation of
    the data, drawing a fresh one when it runs out (``drop_last`` semantics)."""

    def __init__(self, n: int, batch_size: int, chains: int, generator: torch.Generator,
                 device: torch.device) -> None:
        self.n, self.batch_size, self.chains = n, batch_size, chains
        self.generator, self.device = generator, device
        self.per_epoch = n // batch_size
        self.position = self.per_epoch  # forces a permutation on first use

    def next(self) -> torch.Tensor:
        """(chains, batch_size) sample indices."""
        if self.position == self.per_epoch:
            # one randperm per chain: several times cheaper than argsorting random keys
            self.order = torch.stack([
                torch.randperm(self.n, generator=self.generator, device=self.device)
                for _ in range(self.chains)])
            self.position = 0
        start = self.position * self.batch_size
        self.position += 1
        return self.order[:, start:start + self.batch_size]

    def gather(self, data: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        """The next minibatch of every chain: tensors of shape (chains, batch_size, …).

        ``index_select`` on the flattened indices, then a view: cheaper than advanced indexing
        with a 2-D index tensor."""
        index = self.next()
        flat = index.reshape(-1)
        return tuple(t.index_select(0, flat).view(*index.shape, *t.shape[1:]) for t in data)


def _advice(epsilon: float, gamma: float) -> str:
    return (f"the SGLD step is too large for this model at epsilon={epsilon:g}: try "
            f"epsilon={epsilon / 3:.3g} or smaller (or a larger gamma than {gamma:g} to hold "
            "the chains near w*), and use course_lib.slt.calibrate_epsilon to find a stable range")


def _check_chains(trace: torch.Tensor, upto: int, W: torch.Tensor, epsilon: float, gamma: float,
                  num_burnin: int, *, w_star: torch.Tensor, radius2: float, init_loss: float,
                  nbeta: float) -> None:
    """Raise :class:`ChainDivergedError` if any chain is non-finite or has exploded."""
    bad_loss = ~torch.isfinite(trace[:, :upto])
    bad_params = ~torch.isfinite(W).all(dim=1)
    if bad_loss.any() or bad_params.any():
        chains = sorted(set(torch.nonzero(bad_loss.any(dim=1)).flatten().tolist())
                        | set(torch.nonzero(bad_params).flatten().tolist()))
        first = int(torch.nonzero(bad_loss.any(dim=0)).min()) if bad_loss.any() else upto
        where = "burn-in" if first < num_burnin else "draws"
        raise ChainDivergedError(
            f"chain(s) {chains} of {trace.shape[0]} diverged (non-finite loss or parameters) by "
            f"step {first} ({where}; {num_burnin} burn-in steps): {_advice(epsilon, gamma)}")
    # finite but exploding: float64 can grow for a thousand steps before it overflows
    distance2 = (W - w_star).double().pow(2).sum(dim=1)
    excess = nbeta * (trace[:, :upto].double() - init_loss)
    loss_limit = LOSS_FACTOR * (W.shape[1] + 1)
    far = (distance2 > radius2) | ~torch.isfinite(distance2)
    high = (excess > loss_limit).any(dim=1)
    if far.any() or high.any():
        chains = sorted(set(torch.nonzero(far).flatten().tolist())
                        | set(torch.nonzero(high).flatten().tolist()))
        worst = float(distance2.max().sqrt())
        where = "burn-in" if upto <= num_burnin else "draws"
        raise ChainDivergedError(
            f"chain(s) {chains} of {trace.shape[0]} diverged by step {upto} ({where}): distance "
            f"from w* up to {worst:.3g} (limit {math.sqrt(radius2):.3g}) or nβ(L − L(w*)) above "
            f"{loss_limit:.3g}, far beyond what the localised posterior allows: "
            f"{_advice(epsilon, gamma)}")


def check_sampler_inputs(model: Any, loss_fn: Any, data: Any,
                         nbeta: Optional[float]) -> tuple[tuple[torch.Tensor, ...], int, float]:
    """The model, loss and data every sampler takes, checked: ``(data, n, nβ)`` (nβ = n / log n
    when ``nbeta`` is None)."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not callable(loss_fn):
        raise TypeError("loss_fn must be callable as loss_fn(model, batch_tuple) -> scalar loss")
    data = check_data(data)
    n = int(data[0].shape[0])
    if nbeta is None:
        if n < 2:
            raise ValueError("nbeta=None needs n ≥ 2 samples (nβ = n / log n); pass nbeta")
        nbeta = default_nbeta(n)
    return data, n, check_float(nbeta, "nbeta", min=0, inclusive="neither")


def check_chain_settings(epsilon: Any, gamma: Any, num_chains: Any, num_draws: Any, num_burnin: Any,
                         check_every: Any, seed: Any) -> tuple[float, float, int, int, int, int, int]:
    """The chain settings every sampler shares, checked and converted, in the same order."""
    return (check_float(epsilon, "epsilon", min=0, inclusive="neither"),
            check_float(gamma, "gamma", min=0),
            check_int(num_chains, "num_chains", min=1),
            check_int(num_draws, "num_draws", min=1),
            check_int(num_burnin, "num_burnin", min=0),
            check_int(check_every, "check_every", min=1),
            check_seed(seed))


def llc_result(trace: np.ndarray, num_burnin: int, *, init_loss: float, nbeta: float, epsilon: float,
               gamma: float, settings: dict, **fields: Any) -> LLCResult:
    """λ̂ = nβ (mean loss after burn-in − L_n(w*)) per chain, packed with the traces into an
    :class:`LLCResult` (``fields``: n, batch_size, seed, seconds, num_params)."""
    burnin, draws = trace[:, :num_burnin], trace[:, num_burnin:]
    per_chain = nbeta * (draws.mean(axis=1) - init_loss)
    std = float(per_chain.std(ddof=1)) if len(per_chain) > 1 else 0.0
    return LLCResult(mean=float(per_chain.mean()), std=std, per_chain=per_chain, loss_trace=draws,
                     burnin_trace=burnin, init_loss=init_loss, epsilon=epsilon, nbeta=nbeta,
                     gamma=gamma, **fields,
                     settings=dict(settings, relaxation_time=relaxation_time(epsilon, gamma)))


def estimate_llc(
    model: nn.Module,
    loss_fn: LossFn,
    data: Sequence[torch.Tensor],
    *,
    epsilon: float,
    nbeta: Optional[float] = None,
    gamma: float = 1.0,
    num_chains: int = 4,
    num_draws: int = 1000,
    num_burnin: int = 200,
    batch_size: Optional[int] = None,
    seed: int = 0,
    params: Optional[Iterable[str]] = None,
    vectorize: bool = True,
    check_every: int = 100,
    progress: bool = False,
    preconditioner: Optional[str] = None,
    rmsprop_alpha: float = 0.99,
    rmsprop_eps: float = 0.1,
    observer: Optional[Observer] = None,
) -> LLCResult:
    """Estimate the local learning coefficient of ``model``'s current parameters w*.

    ``data`` is a tuple of tensors sharing dim 0 (n samples); ``loss_fn(model, batch)`` returns the
    scalar mean loss of a batch tuple.  ``epsilon`` is the SGLD step size, ``nbeta`` the inverse
    temperature (None: n / log n), ``gamma`` the localisation strength.  ``batch_size=None`` uses
    the full data every step.  ``params`` (parameter names) samples only those parameters and holds
    the rest at w*: the weight-refined LLC of that group.  ``vectorize=False`` runs the same chains
    (same noise, same batches) one at a time — slower, for models vmap cannot batch, and as a check.

    ``preconditioner="rmsprop"`` is devinterp's RMSProp-preconditioned SGLD: a running mean V of the
    squared loss gradient (decay ``rmsprop_alpha``) sets a per-coordinate factor
    G = 1/(``rmsprop_eps`` + √V) on the drift (ε/2)·G·[nβ∇L + γ(w − w*)] and G on the noise variance
    ε·G.  Where the gradient is small G ≈ 1/``rmsprop_eps`` (10 by default): the effective step there
    is up to ten times ε.

    ``observer(draw, W, flat_loss)``, if given, is called once per draw after burn-in with the
    draw's index (0 … num_draws − 1), the (chains, P) tensor of every chain's sampled parameters at
    that draw (the point whose minibatch loss the trace records; read it, never modify it) and the
    :class:`FlatLoss` that maps a flat parameter vector back onto the model.  It is how
    :mod:`course_lib.slt.observables` accumulates per-sample statistics on these same chains.  It
    draws no random numbers, so the chains and the estimate are the same with or without it.

    Runs on the model's device.  Raises :class:`ChainDivergedError` (with advice on ε) if any
    chain's loss or parameters become NaN/Inf, or a chain explodes while staying finite (its distance
    from w* or its loss far beyond what the localised posterior allows, see
    :func:`divergence_radius2`).  The model itself is not modified.
    """
    data, n, nbeta = check_sampler_inputs(model, loss_fn, data, nbeta)
    epsilon, gamma, num_chains, num_draws, num_burnin, check_every, seed = check_chain_settings(
        epsilon, gamma, num_chains, num_draws, num_burnin, check_every, seed)
    if preconditioner not in (None, "rmsprop"):
        raise ValueError(f"preconditioner must be None or 'rmsprop', got {preconditioner!r}")
    rmsprop_alpha = check_float(rmsprop_alpha, "rmsprop_alpha", min=0, max=1, inclusive="left")
    rmsprop_eps = check_float(rmsprop_eps, "rmsprop_eps", min=0, inclusive="neither")
    if observer is not None and not callable(observer):
        raise TypeError(f"observer must be callable as observer(draw, W, flat_loss) or None, "
                        f"got {type(observer).__name__}")
    if batch_size is not None:
        batch_size = check_int(batch_size, "batch_size", min=1)
        if batch_size > n:
            raise ValueError(f"batch_size must be ≤ the number of samples n = {n}, got {batch_size}")

    names = _selected_names(model, params)
    first = next(model.parameters())
    device, dtype = first.device, first.dtype
    data = tuple(t.to(device) for t in data)
    was_training = model.training
    model.eval()  # no dropout noise inside the chains' losses
    try:
        loss = FlatLoss(model, loss_fn, names)
        init_loss = full_data_loss(loss, loss.w_star, data, batch_size)
        if not math.isfinite(init_loss):
            raise ValueError(f"loss_fn is not finite at w* (L_n(w*) = {init_loss}): the model or "
                             "data is broken before sampling starts")
        start = time.perf_counter()
        trace = _run_chains(loss, data, epsilon=epsilon, nbeta=nbeta, gamma=gamma,
                            chains=num_chains, steps=num_burnin + num_draws,
                            num_burnin=num_burnin, batch_size=batch_size, seed=seed,
                            device=device, dtype=dtype, vectorize=vectorize,
                            check_every=check_every, progress=progress, init_loss=init_loss,
                            rmsprop=(rmsprop_alpha, rmsprop_eps) if preconditioner else None,
                            observer=observer)
        seconds = time.perf_counter() - start
    finally:
        model.train(was_training)

    return llc_result(trace, num_burnin, init_loss=init_loss, epsilon=epsilon, nbeta=nbeta, gamma=gamma,
                      n=n, batch_size=n if batch_size is None else batch_size, seed=seed,
                      seconds=seconds, num_params=int(loss.w_star.numel()),
                      settings={"vectorize": bool(vectorize),
                                "params": None if params is None else names, "device": str(device),
                                "preconditioner": preconditioner})


def _run_chains(loss: FlatLoss, data: tuple[torch.Tensor, ...], *, epsilon: float, nbeta: float,
                gamma: float, chains: int, steps: int, num_burnin: int,
                batch_size: Optional[int], seed: int, device: torch.device, dtype: torch.dtype,
                vectorize: bool, check_every: int, progress: bool, init_loss: float = 0.0,
                rmsprop: Optional[tuple[float, float]] = None,
                observer: Optional[Observer] = None) -> np.ndarray:
    """Run all chains for ``steps`` SGLD steps from w*; return the (chains, steps) loss trace."""
    generator = torch.Generator(device=device)
    generator.manual_seed(seed)
    w_star = loss.w_star.to(device=device, dtype=dtype)
    W = w_star.expand(chains, -1).clone()
    trace = torch.empty(chains, steps, device=device, dtype=dtype)
    n = int(data[0].shape[0])
    batches = None if batch_size is None else _Batches(n, batch_size, chains, generator, device)
    shrink, pull = 1.0 - epsilon * gamma / 2, epsilon * gamma / 2
    drift, diffusion = -epsilon * nbeta / 2, math.sqrt(epsilon)
    # the largest step any coordinate takes: ε, or ε / rmsprop_eps under RMSProp
    widest = epsilon if rmsprop is None else epsilon / rmsprop[1]
    radius2 = divergence_radius2(w_star, epsilon=widest, gamma=gamma, steps=steps, nbeta=nbeta,
                                 init_loss=init_loss)
    square_avg = torch.zeros_like(W) if rmsprop is not None else None

    if vectorize:
        # vmap only the forward pass; one ordinary backward pass through the batched graph gives
        # every chain's gradient, since chain c's loss depends on W[c] alone:
        # ∂(Σ_c L_c)/∂W[c] = ∇L_c(W[c]).  Faster on a CPU than vmapping torch.func.grad.
        in_dims = (0, None) if batches is None else (0, 0)
        forward = torch.vmap(loss, in_dims=in_dims)

        def grads_and_losses(W: torch.Tensor, batch: tuple) -> tuple[torch.Tensor, torch.Tensor]:
            leaf = W.detach().requires_grad_(True)
            values = forward(leaf, batch)
            (grads,) = torch.autograd.grad(values.sum(), leaf)
            return grads, values.detach()
    else:
        def grads_and_losses(W: torch.Tensor, batch: tuple) -> tuple[torch.Tensor, torch.Tensor]:
            grads, values = [], []
            for c in range(chains):
                w = W[c].detach().requires_grad_(True)
                part = batch if batches is None else tuple(t[c] for t in batch)
                value = loss(w, part)
                (grad,) = torch.autograd.grad(value, w)
                grads.append(grad)
                values.append(value.detach())
            return torch.stack(grads), torch.stack(values)

    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=steps, desc=f"SGLD ({chains} chains)", leave=False)
    with torch.enable_grad():
        for t in range(steps):
            if batches is None:
                batch = data
            else:
                batch = batches.gather(data)
            grad, values = grads_and_losses(W, batch)
            trace[:, t] = values
            if observer is not None and t >= num_burnin:
                with torch.no_grad():
                    observer(t - num_burnin, W, loss)
            noise = torch.randn(W.shape, generator=generator, device=device, dtype=dtype)
            with torch.no_grad():
                if square_avg is None:
                    # W ← W − (ε/2)[nβ ∇L + γ(W − w*)] + √ε ξ, written as four in-place updates
                    W.mul_(shrink).add_(w_star, alpha=pull).add_(grad, alpha=drift)
                    W.add_(noise, alpha=diffusion)
                else:
                    # devinterp's RMSProp-SGLD: V ← αV + (1 − α) g², G = 1/(eps + √V),
                    # W ← W − (ε/2) G [nβ g + γ(W − w*)] + √(ε G) ξ
                    alpha, eps = rmsprop
                    square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
                    G = 1.0 / (square_avg.sqrt() + eps)
                    step = grad * nbeta + (W - w_star) * gamma
                    W.addcmul_(G, step, value=-epsilon / 2)
                    W.addcmul_(G.sqrt(), noise, value=diffusion)
            if (t + 1) % check_every == 0 or t + 1 == steps:
                _check_chains(trace, t + 1, W, epsilon, gamma, num_burnin, w_star=w_star,
                              radius2=radius2, init_loss=init_loss, nbeta=nbeta)
                if bar is not None:
                    bar.update((t + 1) - bar.n)
    if bar is not None:
        bar.close()
    return trace.double().cpu().numpy()
