"""Per-sample observables on the chains of :func:`~course_lib.slt.estimator.estimate_llc`.

The localised tempered posterior p(w) ∝ exp(−nβ L_n(w) − (γ/2)‖w − w*‖²) that the LLC estimator
samples carries far more than one number. Three devices read covariances under it, all from the
*same* SGLD chains (``estimate_llc``'s ``observer`` hook — there is no second sampler here):

* the **loss kernel** (Adam et al. 2025, arXiv 2509.26537): K(i, j) = Cov_p(ℓ_i, ℓ_j), the covariance
  of two samples' losses over the posterior, or its correlation. Samples whose losses rise and fall
  together are "the same" to the model;
* the **Bayesian influence function** (Kreer et al. 2025, arXiv 2509.26544):
  BIF(i, q) = −Cov_p(ℓ_i, ℓ_q). Up-weighting training sample i by h changes the posterior by
  exp(−h nβ ℓ_i), so d E_h[ℓ_q] / dh = −nβ Cov_p(ℓ_i, ℓ_q) = nβ · BIF(i, q): a negative BIF means
  more of sample i *lowers* the query's loss (a helpful sample). For a regular model at its
  minimum it reduces, to leading order in 1/nβ, to the classical influence function −∇ℓ_qᵀ H⁻¹ ∇ℓ_i (H the Hessian of
  the summed loss) times n/nβ — with no Hessian to invert;
* **susceptibilities** (Baker et al. 2025, arXiv 2504.18274): χ(x, C) = Cov_p(φ_C, ℓ_x − L), the
  first-order response of a component observable φ_C to shifting the data towards x.

**Which φ_C.** We take devinterp's φ_C (its ``susceptibilities``, App. C.4 of Baker et al.):
φ_C(w) = L_n(w) − L_n(w*) on a chain that samples *only* component C's weights (the rest held at w*)
— the weight-restricted chain of ``estimate_llc(params=C)``. Why this one: it needs no extra
design choice per architecture (any set of parameter names is a component), and its mean is the
weight-refined LLC of C divided by nβ, so the susceptibilities of C sit on the same chains as
C's wrLLC.

**Sign and centring: not devinterp's.** The course reports χ(x, C) = Cov(φ_C, ℓ_x − L), one
restricted run, centred on that run's own means. devinterp 2.0.1 computes
E[φ·L] − E[φ·ℓ_x] − E[φ]·(E_full[L] − E_full[ℓ_x]), i.e. Cov(φ_C, L − ℓ_x) — the *opposite sign* —
with the second term centred on the means of the *unrestricted* run, which adds
E[φ]·(E_C[L − ℓ_x] − E_full[L − ℓ_x]). The papers' χ is −nβ × a covariance of the same sign as
devinterp's. Reading the course's sign: up-weighting x by h changes E[φ_C] by −nβ h χ(x, C), so
χ > 0 means more of x *lowers* φ_C (C fits better). A comparison with devinterp must flip the sign
and reproduce its full-run centring.

**Streaming.** Nothing stores the draws: :class:`CovarianceAccumulator` keeps, per chain, the count,
the means and the co-moment matrix Σ (a − ā)(b − b̄)ᵀ in float64, updated one draw at a time
(Welford's algorithm), and pools the chains with Chan et al.'s formula. Memory is
chains × (d_a d_b + d_a + d_b) × 8 bytes whatever the number of draws
(:meth:`CovarianceAccumulator.nbytes`; plus a 32-draw buffer). That beats storing the D draws
(chains × D × (d_a + d_b) numbers) only when D > d_a d_b / (d_a + d_b) — for the symmetric loss
kernel over n samples, when the draws outnumber the samples. It wins by far for influence on a few
queries and for susceptibilities (d_b = 1); for a big loss kernel with few draws, storing is
cheaper. The forward pass's own memory (chains × chunk samples) is not counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional, Sequence

import numpy as np
import torch
from torch import nn

from ..validation import check_int
from .estimator import FlatLoss, LLCResult, LossFn, check_data, estimate_llc

__all__ = ["CovarianceAccumulator", "PerSampleLoss", "LossCovariance", "Susceptibilities",
           "loss_covariance", "bayesian_influence", "susceptibilities", "loss_kernel"]

#: ``per_sample_loss(model, batch) -> (B,)``: one loss per sample of the batch.
PerSampleLoss = Callable[[nn.Module, tuple], torch.Tensor]


class CovarianceAccumulator:
    """Streaming (cross-)covariance of two vector observables a ∈ ℝ^{d_a}, b ∈ ℝ^{d_b}, per group.

    ``update(a, b)`` takes one draw per group (shape (groups, d_a) and (groups, d_b)); with
    ``dim_b=None`` the accumulator is symmetric (b is a). Welford's update per group,

        ā ← ā + (a − ā)/c,  b̄ ← b̄ + (b − b̄)/c,  M ← M + (a − ā_old)(b − b̄_new)ᵀ,

    is exact in float64 and numerically stable (no E[ab] − E[a]E[b] cancellation). For speed the
    draws are merged ``block`` at a time (Chan et al.'s pairwise form of the same update, one
    batched matrix product per block); a fixed buffer of ``block`` draws is all that is held
    besides the moments. State lives on the device of the first update, in float64; its size
    (:meth:`nbytes`) does not depend on the number of draws.
    """

    def __init__(self, dim_a: int, dim_b: Optional[int] = None, *, groups: int = 1,
                 block: int = 32) -> None:
        self.dim_a = check_int(dim_a, "dim_a", min=1)
        self.symmetric = dim_b is None
        self.dim_b = self.dim_a if dim_b is None else check_int(dim_b, "dim_b", min=1)
        self.groups = check_int(groups, "groups", min=1)
        self.block = check_int(block, "block", min=1)
        self._merged = 0          # draws per group already merged into the moments
        self._fill = 0            # draws per group waiting in the block buffer
        self.mean_a: Optional[torch.Tensor] = None
        self.mean_b: Optional[torch.Tensor] = None
        self.comoment: Optional[torch.Tensor] = None
        self.m2_a: Optional[torch.Tensor] = None   # diagonal second moments (cross case only)
        self.m2_b: Optional[torch.Tensor] = None
        self._buf_a: Optional[torch.Tensor] = None
        self._buf_b: Optional[torch.Tensor] = None

    @property
    def count(self) -> int:
        """Draws per group so far."""
        return self._merged + self._fill

    def _as_draw(self, x: Any, dim: int, name: str) -> torch.Tensor:
        t = torch.as_tensor(x)
        if t.dim() == 1 and self.groups == 1:
            t = t.unsqueeze(0)
        if tuple(t.shape) != (self.groups, dim):
            raise ValueError(f"{name} must have shape (groups, {dim}) = ({self.groups}, {dim}), "
                             f"got {tuple(t.shape)}")
        t = t.detach()
        if not bool(torch.isfinite(t).all()):
            raise ValueError(f"{name} holds NaN or infinite values: a chain has diverged or the "
                             "observable is broken; no covariance can be formed from it")
        return t

    def _allocate(self, device: torch.device) -> None:
        f64 = dict(dtype=torch.float64, device=device)
        self.mean_a = torch.zeros(self.groups, self.dim_a, **f64)
        self.mean_b = self.mean_a if self.symmetric else torch.zeros(self.groups, self.dim_b, **f64)
        self.comoment = torch.zeros(self.groups, self.dim_a, self.dim_b, **f64)
        self._buf_a = torch.zeros(self.groups, self.block, self.dim_a, **f64)
        if not self.symmetric:
            self.m2_a = torch.zeros_like(self.mean_a)
            self.m2_b = torch.zeros_like(self.mean_b)
            self._buf_b = torch.zeros(self.groups, self.block, self.dim_b, **f64)

    def update(self, a: Any, b: Any = None) -> None:
        """Add one draw per group."""
        a = self._as_draw(a, self.dim_a, "a")
        if self.symmetric:
            if b is not None:
                raise ValueError("this accumulator is symmetric (dim_b=None): pass only a")
        else:
            if b is None:
                raise ValueError("this accumulator is a cross-covariance: pass both a and b")
            b = self._as_draw(b, self.dim_b, "b")
        if self.mean_a is None:
            self._allocate(a.device)
        self._buf_a[:, self._fill].copy_(a)
        if not self.symmetric:
            self._buf_b[:, self._fill].copy_(b)
        self._fill += 1
        if self._fill == self.block:
            self._flush()

    def _flush(self) -> None:
        """Merge the buffered block into the moments (Chan et al.): with block means m_B, block
        co-moment M_B and δ = m_B − m_A, M ← M_A + M_B + δ_a δ_bᵀ n_A n_B / n, m ← m_A + δ n_B / n.
        A block of draws costs one batched matrix product instead of one outer product per draw."""
        k = self._fill
        if k == 0:
            return
        n_a, n = self._merged, self._merged + k
        Ba = self._buf_a[:, :k]
        mean_Ba = Ba.mean(dim=1)
        Ca = Ba - mean_Ba.unsqueeze(1)
        da = mean_Ba - self.mean_a
        if self.symmetric:
            Cb, db = Ca, da
        else:
            Bb = self._buf_b[:, :k]
            mean_Bb = Bb.mean(dim=1)
            Cb = Bb - mean_Bb.unsqueeze(1)
            db = mean_Bb - self.mean_b
            self.m2_a.add_(Ca.pow(2).sum(dim=1) + da.pow(2) * (n_a * k / n))
            self.m2_b.add_(Cb.pow(2).sum(dim=1) + db.pow(2) * (n_a * k / n))
        self.comoment.add_(torch.bmm(Ca.transpose(1, 2), Cb))
        self.comoment.add_(da.unsqueeze(2) * db.unsqueeze(1), alpha=n_a * k / n)
        self.mean_a.add_(da, alpha=k / n)
        if not self.symmetric:
            self.mean_b.add_(db, alpha=k / n)
        self._merged, self._fill = n, 0

    def _need(self, ddof: int, total: int) -> None:
        if total - ddof <= 0:
            raise ValueError(f"need more than ddof={ddof} draws to form a covariance, have {total}")

    def covariance(self, ddof: int = 1) -> np.ndarray:
        """The covariance over all draws of all groups pooled, (d_a, d_b): Chan et al.'s merge,
        M = Σ_g M_g + c Σ_g (ā_g − ā)(b̄_g − b̄)ᵀ, divided by (total − ddof)."""
        self._flush()
        total = self.count * self.groups
        self._need(ddof, total)
        mean_a, mean_b = self.mean_a.mean(0), self.mean_b.mean(0)
        between = (self.mean_a - mean_a).T @ (self.mean_b - mean_b) * self.count
        return ((self.comoment.sum(0) + between) / (total - ddof)).cpu().numpy()

    def variances(self, ddof: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """The pooled variances of each coordinate of a and of b (for correlations)."""
        self._flush()
        total = self.count * self.groups
        self._need(ddof, total)
        if self.symmetric:
            v = np.diag(self.covariance(ddof)).copy()
            return v, v

        def pooled(m2: torch.Tensor, mean: torch.Tensor) -> np.ndarray:
            between = ((mean - mean.mean(0)) ** 2).sum(0) * self.count
            return ((m2.sum(0) + between) / (total - ddof)).cpu().numpy()
        return pooled(self.m2_a, self.mean_a), pooled(self.m2_b, self.mean_b)

    def correlation(self, ddof: int = 1) -> np.ndarray:
        """The pooled Pearson correlation matrix (d_a, d_b); ValueError if a coordinate is constant."""
        va, vb = self.variances(ddof)
        if np.any(va <= 0) or np.any(vb <= 0):
            raise ValueError("some coordinate does not vary over the draws (zero variance): its "
                             "correlation is undefined")
        return self.covariance(ddof) / np.sqrt(np.outer(va, vb))

    def group_covariances(self, ddof: int = 1) -> np.ndarray:
        """Each group's own covariance, (groups, d_a, d_b): the chain-to-chain spread."""
        self._flush()
        self._need(ddof, self.count)
        return (self.comoment / (self.count - ddof)).cpu().numpy()

    def means(self) -> tuple[np.ndarray, np.ndarray]:
        """The pooled means of a and b."""
        self._flush()
        if self.mean_a is None:
            raise ValueError("no draws yet")
        return self.mean_a.mean(0).cpu().numpy(), self.mean_b.mean(0).cpu().numpy()

    def nbytes(self) -> int:
        """Bytes of state held (means, co-moments and the block buffer of ``block`` draws):
        8 · groups · (d_a d_b + d_a + block · d_a) when symmetric, plus 8 · groups ·
        (d_a + 2 d_b + block · d_b) for a cross-covariance — independent of the number of draws."""
        per = self.dim_a * self.dim_b + self.dim_a + self.block * self.dim_a
        if not self.symmetric:
            per += self.dim_a + 2 * self.dim_b + self.block * self.dim_b
        return 8 * self.groups * per


# ------------------------------------------------------------------------ evaluating at the draws

class _PerSampleAt:
    """ℓ(W) for every chain at once: (chains, n) per-sample losses of ``data`` at the chains'
    flat parameters, through the same parameter map as the sampler's :class:`FlatLoss`."""

    def __init__(self, model: nn.Module, per_sample_loss: PerSampleLoss, chunk: int) -> None:
        self.model, self.per_sample_loss, self.chunk = model, per_sample_loss, chunk
        self.forward = None

    def __call__(self, W: torch.Tensor, flat_loss: FlatLoss, data: tuple) -> torch.Tensor:
        if self.forward is None:
            inner = FlatLoss(self.model, self.per_sample_loss, flat_loss.names)
            self.forward = torch.vmap(inner, in_dims=(0, None))
        n = int(data[0].shape[0])
        parts = []
        for start in range(0, n, self.chunk):
            part = tuple(t[start:start + self.chunk] for t in data)
            values = self.forward(W, part)
            if values.shape != (W.shape[0], int(part[0].shape[0])):
                raise ValueError("per_sample_loss must return one loss per sample, shape (batch,), "
                                 f"got {tuple(values.shape[1:])} for a batch of {part[0].shape[0]}")
            parts.append(values)
        return torch.cat(parts, dim=1)


def _check_per_sample(per_sample_loss: Any) -> None:
    if not callable(per_sample_loss):
        raise TypeError("per_sample_loss must be callable as per_sample_loss(model, batch) -> "
                        "tensor of shape (batch,)")


def _device_data(model: nn.Module, data: Any, name: str) -> tuple[torch.Tensor, ...]:
    try:
        data = check_data(data)
    except (TypeError, ValueError) as error:
        raise type(error)(f"{name}: {error}") from None
    device = next(model.parameters()).device
    return tuple(t.to(device) for t in data)


@dataclass
class LossCovariance:
    """Cov_p(ℓ_a, ℓ_b) of per-sample losses over the localised posterior, from streaming moments."""

    covariance: np.ndarray          # (n_a, n_b), all chains pooled
    correlation: np.ndarray         # the same as Pearson correlations (NaN for a constant loss)
    chain_covariances: np.ndarray   # (chains, n_a, n_b)
    mean_a: np.ndarray              # E_p[ℓ_a]
    mean_b: np.ndarray
    llc: LLCResult                  # the chains' own LLC estimate (same run)
    memory_bytes: int               # state held by the accumulator
    draws: int                      # draws per chain

    def standard_error(self) -> np.ndarray:
        """Chain-to-chain standard error of :attr:`covariance` (std over chains / √chains)."""
        return _chain_standard_error(self.chain_covariances)


def _chain_standard_error(per_chain: np.ndarray) -> np.ndarray:
    """Standard error of a mean over chains (axis 0): std with ddof 1 / √chains; NaN with one chain."""
    if per_chain.shape[0] < 2:
        return np.full(per_chain.shape[1:], np.nan)
    return per_chain.std(axis=0, ddof=1) / np.sqrt(per_chain.shape[0])


def loss_covariance(model: nn.Module, loss_fn: LossFn, per_sample_loss: PerSampleLoss,
                    data: Sequence[torch.Tensor], probe: Optional[Sequence[torch.Tensor]] = None,
                    *, epsilon: float, chunk: int = 4096, **sampler: Any) -> LossCovariance:
    """Cov_p(ℓ_i, ℓ_j) between the per-sample losses of ``data`` (i) and of ``probe`` (j; default:
    ``data`` itself, the symmetric loss kernel), on ``estimate_llc``'s chains.

    ``loss_fn(model, batch)`` is the scalar mean loss the sampler uses, ``per_sample_loss`` the same
    loss per sample; ``sampler`` goes to :func:`estimate_llc` (nbeta, gamma, num_chains, num_draws,
    num_burnin, batch_size, seed, params, …). Costs one forward pass over data (and probe) per
    chain and draw on top of the sampler. Memory: chains × n_data × n_probe × 8 bytes.
    """
    _check_per_sample(per_sample_loss)
    chunk = check_int(chunk, "chunk", min=1)
    data_d = _device_data(model, data, "data")
    probe_d = None if probe is None else _device_data(model, probe, "probe")
    chains = check_int(sampler.get("num_chains", 4), "num_chains", min=1)
    n = int(data_d[0].shape[0])
    acc = CovarianceAccumulator(n, None if probe_d is None else int(probe_d[0].shape[0]),
                                groups=chains)
    at = _PerSampleAt(model, per_sample_loss, chunk)

    def observe(draw: int, W: torch.Tensor, flat_loss: FlatLoss) -> None:
        a = at(W, flat_loss, data_d)
        if probe_d is None:
            acc.update(a)
        else:
            acc.update(a, at(W, flat_loss, probe_d))

    result = estimate_llc(model, loss_fn, data, epsilon=epsilon, observer=observe, **sampler)
    mean_a, mean_b = acc.means()
    va, vb = acc.variances()
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = acc.covariance() / np.sqrt(np.outer(va, vb))   # NaN where a loss never varies
    return LossCovariance(acc.covariance(), corr, acc.group_covariances(), mean_a,
                          mean_b, result, acc.nbytes(), acc.count)


def loss_kernel(cov: LossCovariance, *, correlation: bool = True) -> np.ndarray:
    """The loss kernel of a symmetric :func:`loss_covariance`: the covariance matrix, or (default)
    its correlation Cov(ℓ_i, ℓ_j)/(σ_i σ_j), which removes each sample's own loss scale."""
    c = cov.covariance
    if c.shape[0] != c.shape[1]:
        raise ValueError(f"loss_kernel needs a symmetric loss covariance (probe=None), got shape "
                         f"{c.shape}")
    return (cov.correlation if correlation else c).copy()


def bayesian_influence(model: nn.Module, loss_fn: LossFn, per_sample_loss: PerSampleLoss,
                       data: Sequence[torch.Tensor], query: Sequence[torch.Tensor], *,
                       epsilon: float, **sampler: Any) -> tuple[np.ndarray, LossCovariance]:
    """BIF(i, q) = −Cov_p(ℓ_i, ℓ_q) for every training sample i of ``data`` and query q of
    ``query``: (n_train, n_query), and the :class:`LossCovariance` it came from.

    Sign: up-weighting sample i by h multiplies the posterior by exp(−h nβ ℓ_i), so E[ℓ_q] changes
    by −h nβ Cov(ℓ_i, ℓ_q) = h nβ BIF(i, q). Losses that move together give BIF < 0: more of i
    lowers the query's loss (a helpful sample), as with the classical −∇ℓ_qᵀ H⁻¹ ∇ℓ_i.
    """
    cov = loss_covariance(model, loss_fn, per_sample_loss, data, query, epsilon=epsilon, **sampler)
    return -cov.covariance, cov


@dataclass
class Susceptibilities:
    """χ(x, C) = Cov_p(φ_C, ℓ_x − L) for probe samples x and components C."""

    chi: np.ndarray                  # (n_probe, n_components)
    components: list[str]
    chain_chi: np.ndarray            # (chains, n_probe, n_components)
    llc: dict[str, LLCResult] = field(default_factory=dict)   # each component's wrLLC run
    memory_bytes: int = 0            # largest accumulator held at once

    def standard_error(self) -> np.ndarray:
        """Chain-to-chain standard error of :attr:`chi` (std over chains / √chains)."""
        return _chain_standard_error(self.chain_chi)


def susceptibilities(model: nn.Module, loss_fn: LossFn, per_sample_loss: PerSampleLoss,
                     data: Sequence[torch.Tensor], components: Mapping[str, Sequence[str]],
                     probe: Optional[Sequence[torch.Tensor]] = None, *, epsilon: float,
                     chunk: int = 4096, observe_every: int = 1, **sampler: Any) -> Susceptibilities:
    """χ(x, C) = Cov_p(φ_C, ℓ_x − L) for every probe sample x (default: the training data) and
    every component C (a name → parameter names mapping), one weight-restricted chain per C.

    φ_C(w) = L_n(w) − L_n(w*) on the chain of ``estimate_llc(params=C)`` (devinterp's φ, but
    χ has the *opposite sign* to devinterp's and our own centring: see the module docstring), L = L_n(w) the full training loss at the same draw. Each draw costs a
    forward pass over data and probe per chain; ``observe_every=k`` reads only every k-th draw
    (draws 0, k, 2k, …; the chains and their LLC are unchanged): consecutive SGLD draws are
    strongly correlated, so thinning the costly per-sample pass loses little. Raises ValueError
    for an empty component or one that names no parameter of the model.
    """
    _check_per_sample(per_sample_loss)
    chunk = check_int(chunk, "chunk", min=1)
    observe_every = check_int(observe_every, "observe_every", min=1)
    if not isinstance(components, Mapping) or not components:
        raise ValueError("components must be a non-empty mapping name -> list of parameter names")
    known = {name for name, _ in model.named_parameters()}
    for cname, names in components.items():
        names = [names] if isinstance(names, str) else list(names)
        if not names:
            raise ValueError(f"component {cname!r} selects no parameters: a component mask must "
                             "name at least one parameter")
        unknown = [p for p in names if p not in known]
        if unknown:
            raise ValueError(f"component {cname!r} names {unknown}, which are not parameters of the "
                             f"model (its parameters: {sorted(known)})")
    data_d = _device_data(model, data, "data")
    probe_d = data_d if probe is None else _device_data(model, probe, "probe")
    chains = check_int(sampler.get("num_chains", 4), "num_chains", min=1)
    if "params" in sampler:
        raise ValueError("pass the weights to sample through components, not params")
    n_probe = int(probe_d[0].shape[0])
    at = _PerSampleAt(model, per_sample_loss, chunk)
    chis, chain_chis, runs, memory = [], [], {}, 0
    for cname, names in components.items():
        names = [names] if isinstance(names, str) else list(names)
        acc = CovarianceAccumulator(1, n_probe, groups=chains)
        at.forward = None  # the parameter map differs per component
        state: dict[str, float] = {}

        def observe(draw: int, W: torch.Tensor, flat_loss: FlatLoss) -> None:
            if draw % observe_every:
                return
            if "init" not in state:
                state["init"] = float(at(flat_loss.w_star.to(W)[None], flat_loss, data_d).mean())
            train = at(W, flat_loss, data_d)
            L = train.mean(dim=1, keepdim=True)                     # (chains, 1)
            probe_losses = train if probe is None else at(W, flat_loss, probe_d)
            acc.update(L - state["init"], probe_losses - L)

        runs[cname] = estimate_llc(model, loss_fn, data, epsilon=epsilon, params=names,
                                   observer=observe, **sampler)
        chis.append(acc.covariance()[0])
        chain_chis.append(acc.group_covariances()[:, 0, :])
        memory = max(memory, acc.nbytes())
    return Susceptibilities(np.stack(chis, axis=1), list(components), np.stack(chain_chis, axis=2),
                            runs, memory)
