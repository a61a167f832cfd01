"""Components as concepts: susceptibility modes of Chapter 3's grokking transformer, read against
its key frequencies.

The question (notebook 5.5). 3.3 found that the grokked transformer computes (a + b) mod p with a
few *key frequencies* k: its embedding writes cos(2πka/p), sin(2πka/p), and most MLP neurons fire
at one k. If the susceptibility device (:func:`~.observables.susceptibilities`) sees concepts, the
(pairs × components) matrix χ(x, C) should have modes that *are* those frequencies: a mode's loading
over the pairs x = (a, b), read as a function of s = (a + b) mod p, should oscillate at a key
frequency.

What is measured, all on ``estimate_llc``'s weight-restricted chains (one per component, never a
second sampler):

* **components** (:func:`component_model`): each attention head (its W_Q, W_K, W_V, W_O slices),
  the MLP neurons grouped by the key frequency each one fires at in the final checkpoint
  (:func:`~course_lib.modular.mechanism.neuron_frequency_fraction`; the rest in one "other" group),
  the same neurons in **size-matched random groups** (the control that differs only in how neurons
  are grouped), the embedding (W_E, W_pos) and the unembedding (W_U). A head or a neuron group is a
  slice of a weight tensor; :class:`ComponentTransformer` re-parametrises the model so that every
  slice is its own parameter — the same function (tested), so a component is a list of names;
* **the matrix** χ (training pairs × components): the probes are the run's training pairs only
  (the data the chains' loss is built on; held-out pairs are not probed), at a few checkpoints
  (:func:`component_chi`, cached);
* **the gate** (:func:`column_reliability`): each component's column estimated from two halves
  of the chains, correlated over the pairs. At 5.5's mode budget (4 chains × 20–50 reads) it is
  ≈ 0 for every component — no per-pair signal, so no mode can be read there;
* **modes**: the SVD of χ with each component's column scaled to unit norm (heads and embeddings
  differ by orders of magnitude in size; unscaled, the largest column *is* the first mode);
* **is a mode a frequency?** (:func:`mode_spectrum`): the loading u over pairs averaged within each
  residue class s = (a + b) mod p, its Fourier power per k = 1 … (p−1)/2, the peak k* found by code,
  and two numbers: the *peak share* (power at k* / all non-constant power) and the *sum share*
  (how much of u's variance is a function of a + b at all). The control: the same statistics of u
  with the pair labels shuffled (:func:`shuffle_null`) — a mode "is frequency k*" when k* is one of
  3.3's key frequencies and its peak share beats the shuffled 99th percentile. The comparator
  for the rate of such modes is the same criterion applied to noise-only matrices with the
  chains' own noise (:func:`sign_contrasts`: balanced ± sums of chains, the half-difference
  (χ_A − χ_B)/2 first), not the key frequencies' share of all k;
* **own columns with power** (:func:`column_study`): at the final checkpoint, five components
  (every key-frequency neuron group, the size-matched random group of the largest, the embedding)
  × 8 chains × more draws, on one or more independent chain sets (sampler seeds; ``standard``
  affords one), each read by its
  own column's spectrum in a + b from each half of a set's chains; a column "agrees on k" in a
  set when both halves peak at k and both beat the noise-only control pooled over the sets
  (:func:`pooled_contrast_null`), and it counts only as often as it replicates over the sets.
  The gate there is taken on ranks, over every balanced split of the chains
  (:func:`split_half_spread`); every column is read against the per-pair loss at the
  checkpoint's weights (:func:`per_pair_loss`), also with that profile projected out
  (:func:`project_out`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..validation import check_int, check_seed

__all__ = ["ComponentTransformer", "neuron_groups", "random_groups", "component_model",
           "ComponentSetup", "per_pair_cross_entropy", "mode_spectrum", "ModeSpectrum",
           "residue_means", "shuffle_null", "svd_modes", "Modes", "balanced_splits",
           "split_half_spread", "key_share_halves", "pooled_contrast_null", "per_pair_loss",
           "project_out", "MIN_CONTRASTS", "chain_mean_chi", "signed_chain_mean",
           "SECOND_SEED_RECORD", "EPSILON_RECORD",
           "column_study", "ColumnStudy"]


# --------------------------------------------------------------------- the re-parametrised model
class ComponentTransformer(nn.Module):
    """Chapter 3's :class:`~course_lib.modular.model.ModularTransformer`, with every head and every
    cell of a neuron partition held as its own parameters — the same function, so that a component
    (a head, a group of neurons) is a list of parameter names that ``estimate_llc(params=…)`` can
    sample while holding the rest at w*.

    Parameters: ``W_E, W_pos, W_U, b_out`` as in the source; ``h{i}_Q, h{i}_K, h{i}_V`` (d, d_head)
    and ``h{i}_O`` (d_head, d) for head i; ``n{j}_in`` (d, m_j), ``n{j}_b`` (m_j,), ``n{j}_out``
    (m_j, d) for cell j of ``cells`` (index arrays that partition the d_mlp neurons). The MLP is a
    sum over neurons, so their order does not matter. ``forward`` checks shapes only (the token
    range is checked once by the caller), so ``torch.vmap`` can run chains over per-chain batches.
    """

    def __init__(self, source: nn.Module, cells: Sequence[Sequence[int]]) -> None:
        super().__init__()
        for name in ("W_E", "W_pos", "W_Q", "W_K", "W_V", "W_O", "W_in", "b_in", "W_out", "b_out", "W_U"):
            if not isinstance(getattr(source, name, None), torch.Tensor):
                raise TypeError(f"source must be a ModularTransformer (it has no {name})")
        self.p, self.n_heads, self.d_head = int(source.p), int(source.n_heads), int(source.d_head)
        d_mlp = int(source.d_mlp)
        cells = [np.asarray(c, dtype=np.int64).reshape(-1) for c in cells]
        if not cells or any(len(c) == 0 for c in cells):
            raise ValueError("cells must be a non-empty list of non-empty neuron index lists")
        flat = np.concatenate(cells)
        if len(flat) != d_mlp or not np.array_equal(np.sort(flat), np.arange(d_mlp)):
            raise ValueError(f"cells must partition the {d_mlp} MLP neurons (each exactly once)")
        self.cells = [c.tolist() for c in cells]

        def copy(t: torch.Tensor) -> nn.Parameter:
            return nn.Parameter(t.detach().clone())

        for name in ("W_E", "W_pos", "W_U", "b_out"):
            setattr(self, name, copy(getattr(source, name)))
        for i in range(self.n_heads):
            for part in "QKVO":
                setattr(self, f"h{i}_{part}", copy(getattr(source, f"W_{part}")[i]))
        for j, c in enumerate(cells):
            idx = torch.as_tensor(c)
            setattr(self, f"n{j}_in", copy(source.W_in[:, idx]))
            setattr(self, f"n{j}_b", copy(source.b_in[idx]))
            setattr(self, f"n{j}_out", copy(source.W_out[idx]))

    def head_names(self, i: int) -> list[str]:
        return [f"h{i}_{part}" for part in "QKVO"]

    def cell_names(self, j: int) -> list[str]:
        return [f"n{j}_in", f"n{j}_b", f"n{j}_out"]

    def _stack(self, part: str) -> torch.Tensor:
        return torch.stack([getattr(self, f"h{i}_{part}") for i in range(self.n_heads)])

    def forward(self, pairs: torch.Tensor) -> torch.Tensor:
        """Logits (batch, p) at the ``=`` position: the source's table-based forward."""
        if not isinstance(pairs, torch.Tensor) or pairs.ndim != 2 or pairs.shape[1] != 2:
            raise ValueError("pairs must be a tensor of shape (batch, 2)")
        pairs = pairs.long()
        p, scale = self.p, 1.0 / math.sqrt(self.d_head)
        W_Q, W_K, W_V, W_O = (self._stack(x) for x in "QKVO")
        x_eq = self.W_E[p] + self.W_pos[2]
        tokens = self.W_E[:p]
        x_ab = torch.stack([tokens + self.W_pos[0], tokens + self.W_pos[1]])
        q = torch.einsum("d,hde->he", x_eq, W_Q) * scale
        k_ab = torch.einsum("ptd,hde->pthe", x_ab, W_K)
        k_eq = torch.einsum("d,hde->he", x_eq, W_K)
        score_ab = torch.einsum("pthe,he->pth", k_ab, q)
        score_eq = (k_eq * q).sum(-1)
        v_ab = torch.einsum("ptd,hde->pthe", x_ab, W_V)
        v_eq = torch.einsum("d,hde->he", x_eq, W_V)
        a, b = pairs[:, 0], pairs[:, 1]
        scores = torch.stack([score_ab[0, a], score_ab[1, b], score_eq.expand(len(pairs), -1)], dim=1)
        w = torch.softmax(scores, dim=1)[..., None]
        z = w[:, 0] * v_ab[0, a] + w[:, 1] * v_ab[1, b] + w[:, 2] * v_eq
        resid = x_eq + z.flatten(1) @ W_O.flatten(0, 1)
        mlp = self.b_out
        for j in range(len(self.cells)):
            act = F.relu(resid @ getattr(self, f"n{j}_in") + getattr(self, f"n{j}_b"))
            mlp = mlp + act @ getattr(self, f"n{j}_out")
        return (resid + mlp) @ self.W_U


def per_pair_cross_entropy(model: nn.Module, batch: tuple) -> torch.Tensor:
    """ℓ_x for every pair of the batch ``(pairs, labels)``: (batch,) cross-entropies."""
    pairs, labels = batch
    return F.cross_entropy(model(pairs).float(), labels.long(), reduction="none")


def mean_cross_entropy(model: nn.Module, batch: tuple) -> torch.Tensor:
    """The training loss of Chapter 3 (mean cross-entropy of a batch ``(pairs, labels)``)."""
    return per_pair_cross_entropy(model, batch).mean()


# --------------------------------------------------------------------------- neuron groupings
def neuron_groups(best_k: Any, key_freqs: Sequence[int]) -> dict[str, np.ndarray]:
    """Neurons grouped by the key frequency they fire at: ``{"k=…": indices}`` for every key
    frequency with at least one neuron, and ``"other"`` for the rest (neurons whose best
    frequency is not key, and dead ones, ``best_k = 0``). ``best_k`` (d_mlp,) is
    :func:`~course_lib.modular.mechanism.neuron_frequency_fraction`'s second output."""
    best = np.asarray(best_k)
    if best.ndim != 1 or best.size == 0 or not np.issubdtype(best.dtype, np.integer):
        raise ValueError(f"best_k must be a non-empty 1-D integer array (one k per neuron), got "
                         f"shape {best.shape} dtype {best.dtype}")
    keys = [check_int(k, "key_freqs entry", min=1) for k in key_freqs]
    if len(set(keys)) != len(keys):
        raise ValueError(f"key_freqs must be distinct, got {list(key_freqs)}")
    out = {f"k={k}": np.flatnonzero(best == k) for k in sorted(keys)}
    out = {name: idx for name, idx in out.items() if len(idx)}
    rest = np.flatnonzero(~np.isin(best, keys))
    if len(rest):
        out["other"] = rest
    return out


def random_groups(groups: Mapping[str, np.ndarray], seed: int = 0) -> dict[str, np.ndarray]:
    """Size-matched random groups: the same neurons, shuffled among groups of the same sizes
    (``"random j"`` has as many neurons as the j-th group of ``groups``)."""
    seed = check_seed(seed)
    sizes = [len(v) for v in groups.values()]
    if not sizes or min(sizes) == 0:
        raise ValueError("groups must be non-empty and hold no empty group")
    neurons = np.concatenate(list(groups.values()))
    perm = np.random.default_rng(seed).permutation(neurons)
    cuts = np.cumsum(sizes)[:-1]
    return {f"random {j}": np.sort(part) for j, part in enumerate(np.split(perm, cuts))}


@dataclass
class ComponentSetup:
    """A :class:`ComponentTransformer` and its components (name → parameter names), with the
    frequency and random neuron groups they were built from (name → neuron indices)."""

    model: ComponentTransformer
    components: dict[str, list[str]]
    freq_groups: dict[str, np.ndarray]
    random_groups: dict[str, np.ndarray]
    kinds: dict[str, str]          # component → "head" | "frequency group" | "random group" | …

    def n_weights(self, name: str) -> int:
        """How many scalar weights component ``name`` holds."""
        if name not in self.components:
            raise ValueError(f"{name!r} is not a component ({sorted(self.components)})")
        named = dict(self.model.named_parameters())
        return int(sum(named[p].numel() for p in self.components[name]))


def component_model(source: nn.Module, freq_groups: Mapping[str, np.ndarray],
                    rand_groups: Mapping[str, np.ndarray]) -> ComponentSetup:
    """Split ``source`` into components: heads, frequency groups, random groups, embedding and
    unembedding. The neuron partition is the common refinement of the two groupings (cells: the
    neurons that share a frequency group and a random group), so that each group is a union of
    cells and both groupings live in one model."""
    for label, groups in (("freq_groups", freq_groups), ("rand_groups", rand_groups)):
        if not isinstance(groups, Mapping) or not groups:
            raise ValueError(f"{label} must be a non-empty mapping name -> neuron indices")
        for name, idx in groups.items():
            if len(np.asarray(idx)) == 0:
                raise ValueError(f"{label}[{name!r}] selects no neurons: a component must hold at "
                                 "least one")
    d_mlp = int(source.d_mlp)
    label_f, label_r = np.full(d_mlp, -1), np.full(d_mlp, -1)
    for lab, groups, what in ((label_f, freq_groups, "freq_groups"), (label_r, rand_groups, "rand_groups")):
        for j, idx in enumerate(groups.values()):
            idx = np.asarray(idx, dtype=np.int64)
            if np.any(lab[idx] >= 0):
                raise ValueError(f"{what} overlap: a neuron is in two groups")
            lab[idx] = j
        if np.any(lab < 0):
            raise ValueError(f"{what} must cover all {d_mlp} neurons")
    cell_of = {}
    cells: list[list[int]] = []
    for n in range(d_mlp):
        key = (int(label_f[n]), int(label_r[n]))
        if key not in cell_of:
            cell_of[key] = len(cells)
            cells.append([])
        cells[cell_of[key]].append(n)
    model = ComponentTransformer(source, cells)
    components: dict[str, list[str]] = {}
    kinds: dict[str, str] = {}
    for i in range(model.n_heads):
        components[f"head {i}"] = model.head_names(i)
        kinds[f"head {i}"] = "head"
    for which, groups, kind in ((0, freq_groups, "frequency group"), (1, rand_groups, "random group")):
        for j, name in enumerate(groups):
            names = [n for (f, r), c in cell_of.items() if (f, r)[which] == j for n in model.cell_names(c)]
            label = f"neurons {name}"
            components[label] = names
            kinds[label] = kind
    components["embedding"] = ["W_E", "W_pos"]
    components["unembedding"] = ["W_U"]
    kinds["embedding"], kinds["unembedding"] = "embedding", "unembedding"
    return ComponentSetup(model, components, {k: np.asarray(v) for k, v in freq_groups.items()},
                          {k: np.asarray(v) for k, v in rand_groups.items()}, kinds)


# --------------------------------------------------------------------------- modes and spectra
def _check_matrix(chi: Any, name: str = "chi") -> np.ndarray:
    m = np.asarray(chi, dtype=float)
    if m.ndim != 2 or min(m.shape) < 1:
        raise ValueError(f"{name} must be a 2-D (pairs × components) matrix, got shape {m.shape}")
    if not np.all(np.isfinite(m)):
        raise ValueError(f"{name} holds NaN or infinite values (a diverged chain?)")
    return m


@dataclass
class Modes:
    """SVD of the column-normalised susceptibility matrix: χ̃ = χ / ‖χ_C‖ per column = U S Vᵀ.

    ``loadings`` (pairs, r): U's columns (a mode's loading over pairs); ``weights`` (r, components):
    Vᵀ's rows (how much each component carries the mode); ``singular`` (r,); ``share`` (r,): S²
    / ΣS², the variance of χ̃ each mode holds. Sign: each mode's largest-|weight| component is
    positive (an SVD fixes a mode only up to sign)."""

    loadings: np.ndarray
    weights: np.ndarray
    singular: np.ndarray
    share: np.ndarray
    components: list[str]


def svd_modes(chi: Any, components: Sequence[str], rank: Optional[int] = None) -> Modes:
    """The top ``rank`` (default all) modes of ``chi`` (pairs × components), each component's column
    scaled to unit norm first (a component with χ ≡ 0 is an error: it responds to nothing)."""
    m = _check_matrix(chi)
    components = list(components)
    if len(components) != m.shape[1]:
        raise ValueError(f"components has {len(components)} names for {m.shape[1]} columns of chi")
    norms = np.linalg.norm(m, axis=0)
    if np.any(norms == 0):
        raise ValueError(f"component(s) {[c for c, n in zip(components, norms) if n == 0]} have χ ≡ 0")
    U, S, Vt = np.linalg.svd(m / norms, full_matrices=False)
    r = len(S) if rank is None else check_int(rank, "rank", min=1, max=len(S))
    U, S, Vt = U[:, :r], S[:r], Vt[:r]
    sign = np.sign(Vt[np.arange(r), np.abs(Vt).argmax(axis=1)])
    sign[sign == 0] = 1.0
    full = (np.linalg.svd(m / norms, compute_uv=False) ** 2).sum()
    return Modes(U * sign, Vt * sign[:, None], S, S ** 2 / full, components)


def residue_means(values: Any, pairs: Any, p: int) -> np.ndarray:
    """The mean of ``values`` (one per pair) over the pairs of each residue class s = (a + b) mod p:
    (p,). Every class must hold at least one pair."""
    p = check_int(p, "p", min=3)
    v = np.asarray(values, dtype=float)
    pr = np.asarray(pairs)
    if pr.ndim != 2 or pr.shape[1] != 2:
        raise ValueError(f"pairs must have shape (n, 2), got {pr.shape}")
    if v.shape != (len(pr),):
        raise ValueError(f"values must have one entry per pair, shape ({len(pr)},), got {v.shape}")
    if not np.all(np.isfinite(v)):
        raise ValueError("values hold NaN or infinite entries")
    s = (pr[:, 0] + pr[:, 1]) % p
    counts = np.bincount(s, minlength=p)
    if np.any(counts == 0):
        raise ValueError(f"residue class(es) {np.flatnonzero(counts == 0).tolist()} hold no pair")
    return np.bincount(s, weights=v, minlength=p) / counts


@dataclass
class ModeSpectrum:
    """How much a loading over pairs is a wave in s = (a + b) mod p.

    ``power`` ((p−1)/2,): Fourier power of the residue means at k = 1 … (p−1)/2; ``peak``: the k
    with the most; ``peak_share``: its share of all non-constant power; ``sum_share``: the fraction
    of the loading's variance over pairs that its residue means explain (0: no dependence on a + b
    at all; 1: a function of a + b alone)."""

    power: np.ndarray
    peak: int
    peak_share: float
    sum_share: float


#: How a pair (a, b) is read as one number in Z_p: its sum (the answer), or one operand alone.
READINGS = {"a + b": (1, 1), "a": (1, 0), "b": (0, 1)}


def _reading(pairs: Any, by: str) -> np.ndarray:
    if by not in READINGS:
        raise ValueError(f"by must be one of {list(READINGS)}, got {by!r}")
    ca, cb = READINGS[by]
    pr = np.asarray(pairs)
    return ca * pr[:, 0] + cb * pr[:, 1]


def mode_spectrum(loading: Any, pairs: Any, p: int, by: str = "a + b") -> ModeSpectrum:
    """:class:`ModeSpectrum` of one loading (one value per pair), read as a function of
    s = (a + b) mod p (default), or of a or b alone (``by="a"``, ``"b"``)."""
    pr = np.asarray(pairs)
    if pr.ndim != 2 or pr.shape[1] != 2:
        raise ValueError(f"pairs must have shape (n, 2), got {pr.shape}")
    pairs = np.stack([_reading(pr, by), np.zeros(len(pr), dtype=np.int64)], axis=1)
    r = residue_means(loading, pairs, p)
    v = np.asarray(loading, dtype=float)
    coeff = np.fft.rfft(r - r.mean())[1:(p - 1) // 2 + 1]
    power = np.abs(coeff) ** 2
    total = power.sum()
    s = pairs[:, 0] % p
    var = ((v - v.mean()) ** 2).sum()
    explained = ((r[s] - v.mean()) ** 2).sum()
    peak = int(np.argmax(power)) + 1
    return ModeSpectrum(power, peak, float(power[peak - 1] / total) if total > 0 else 0.0,
                        float(explained / var) if var > 0 else 0.0)


def shuffle_null(loading: Any, pairs: Any, p: int, *, shuffles: int = 200, seed: int = 0,
                 by: str = "a + b") -> np.ndarray:
    """The control for :func:`mode_spectrum`: (shuffles, 2) of [peak_share, sum_share] with the
    loading's values permuted over the pairs (the pair labels shuffled, the values kept)."""
    shuffles = check_int(shuffles, "shuffles", min=1)
    rng = np.random.default_rng(check_seed(seed))
    v = np.asarray(loading, dtype=float)
    out = np.empty((shuffles, 2))
    for i in range(shuffles):
        spec = mode_spectrum(rng.permutation(v), pairs, p, by)
        out[i] = spec.peak_share, spec.sum_share
    return out


def split_half_reliability(chain_chi: Any, components: Sequence[str], rank: int) -> np.ndarray:
    """Is a mode signal or chain noise? The modes of the first half of the chains against those of
    the second: for each of the top ``rank`` modes of the first half, the largest |correlation| of
    its loading with any of the second half's top ``rank`` loadings, (rank,). Pure noise gives
    values near those of two random vectors (~ √(2 log(rank) / pairs)); a mode both halves see
    gives values near 1. Needs ≥ 2 chains."""
    c = np.asarray(chain_chi, dtype=float)
    if c.ndim != 3 or c.shape[0] < 2:
        raise ValueError(f"chain_chi must be (chains ≥ 2, pairs, components), got shape {c.shape}")
    half = c.shape[0] // 2
    a = svd_modes(c[:half].mean(0), components, rank).loadings
    b = svd_modes(c[half:].mean(0), components, rank).loadings
    corr = np.abs(a.T @ b) / np.outer(np.linalg.norm(a, axis=0), np.linalg.norm(b, axis=0))
    return corr.max(axis=1)


# --------------------------------------------------------------- is there per-pair signal at all?
def _check_chain_chi(chain_chi: Any, min_chains: int = 2) -> np.ndarray:
    c = np.asarray(chain_chi, dtype=float)
    if c.ndim != 3 or c.shape[0] < min_chains or min(c.shape) < 1:
        raise ValueError(f"chain_chi must be (chains ≥ {min_chains}, pairs, components), got shape "
                         f"{c.shape}")
    if not np.all(np.isfinite(c)):
        raise ValueError("chain_chi holds NaN or infinite values (a diverged chain?)")
    return c


def _corr_columns(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a - a.mean(0)
    b = b - b.mean(0)
    den = np.sqrt((a ** 2).sum(0) * (b ** 2).sum(0))
    return np.where(den > 0, (a * b).sum(0) / np.where(den > 0, den, 1.0), 0.0)


def _class_means(m: np.ndarray, pairs: Any, p: int) -> np.ndarray:
    return np.stack([residue_means(m[:, j], pairs, p) for j in range(m.shape[1])], axis=1)


def column_reliability(chain_chi: Any, pairs: Any = None, p: Optional[int] = None, *,
                       chains_per_half: Optional[int] = None) -> np.ndarray:
    """The gate before any mode or column is read: per component, the Pearson correlation over
    the pairs between χ estimated from the first half of the chains and from the second half,
    (components,). Zero: the column holds no per-pair signal the chains can reproduce (only
    noise); one: every pair's value reproduces. With ``pairs`` and ``p``, the correlation of the
    two halves' class means over s = (a + b) mod p instead (the values a spectrum in a + b is read
    from). ``chains_per_half`` = m < chains/2 compares disjoint blocks of m chains (chains 0…m−1
    against m…2m−1, the next two blocks, …) and averages over the block pairs: the reliability
    of a budget of m chains."""
    c = _check_chain_chi(chain_chi)
    n = c.shape[0]
    m = n // 2 if chains_per_half is None else check_int(chains_per_half, "chains_per_half", min=1,
                                                         max=n // 2)
    if (pairs is None) != (p is None):
        raise ValueError("pass both pairs and p (class means over a + b), or neither (entries)")
    rs = []
    for start in range(0, n - 2 * m + 1, 2 * m):
        a = c[start:start + m].mean(0)
        b = c[start + m:start + 2 * m].mean(0)
        if pairs is not None:
            a, b = _class_means(a, pairs, p), _class_means(b, pairs, p)
        rs.append(_corr_columns(a, b))
    return np.mean(rs, axis=0)


def spearman_brown(r: Any, factor: Any) -> np.ndarray:
    """Reliability of an average of ``factor`` × as many independent reads, from reliability
    ``r`` (Spearman–Brown): f r / (1 + (f − 1) r). A reliability ≤ 0 stays where it is."""
    r = np.asarray(r, dtype=float)
    f = np.asarray(factor, dtype=float)
    if np.any(f <= 0) or np.any(r > 1) or np.any(r < -1):
        raise ValueError("factor must be > 0 and r within [-1, 1]")
    return np.where(r > 0, f * r / (1 + (f - 1) * np.clip(r, 0, 1)), r)


def budget_to_reach(r: float, budget: float, target: float = 0.5) -> float:
    """The budget (in ``budget``'s units: reads, chains) at which Spearman–Brown puts the
    reliability at ``target``, from reliability ``r`` measured at ``budget``:
    budget · target (1 − r) / (r (1 − target)); ``inf`` for r ≤ 0 (no signal to extrapolate)."""
    if not 0 < target < 1:
        raise ValueError(f"target must be in (0, 1), got {target!r}")
    if not budget > 0:
        raise ValueError(f"budget must be > 0, got {budget!r}")
    r = float(r)
    if r <= 0:
        return math.inf
    return float(budget * target * (1 - r) / (min(r, 1 - 1e-12) * (1 - target)))


def signed_chain_mean(chain_chi: Any, signs: Any) -> np.ndarray:
    """Σ_c s_c χ_c / n over the n chains of ``chain_chi`` (chains, pairs, components) with
    ``signs`` s_c = ±1, one per chain: (pairs, components). All + is the real matrix
    (:func:`chain_mean_chi`); balanced signs give a noise-only :func:`sign_contrasts` matrix."""
    c = _check_chain_chi(chain_chi, min_chains=1)
    s = np.asarray(signs, dtype=float)
    if s.shape != (c.shape[0],) or not np.all(np.abs(s) == 1):
        raise ValueError(f"signs must be {c.shape[0]} values of ±1 (one per chain), got {s!r}")
    return np.tensordot(s, c, axes=1) / c.shape[0]


def chain_mean_chi(chain_chi: Any) -> np.ndarray:
    """The real matrix that every reading compares with :func:`sign_contrasts`: the mean of the
    chains' own χ (pairs, components), i.e. the all-plus signed mean. The pooled ``chi`` of
    :func:`~.observables.susceptibilities` also holds a between-chain term (the chains' means
    differ), which no contrast holds, so it is not exchangeable with them; this one is, for an
    even number of chains (:func:`sign_contrasts` refuses an odd one: a contrast would average
    n − 1 chains and the mean n, so the scale-aware readings would be off by √(n / (n − 1)))."""
    c = _check_chain_chi(chain_chi, min_chains=1)
    return signed_chain_mean(c, np.ones(c.shape[0]))


def _check_even_chains(c: np.ndarray) -> np.ndarray:
    if c.shape[0] % 2:
        raise ValueError(f"chain_chi must hold an even number of chains to be read against "
                         f"sign contrasts (the mean and every contrast over the same chains), "
                         f"got {c.shape[0]}")
    return c


def sign_contrasts(chain_chi: Any) -> np.ndarray:
    """Noise-only matrices with the chains' own noise: :func:`signed_chain_mean` with balanced
    signs s_c = ±1 (half +, half −), each distinct split once (chain 0 always +),
    (contrasts, pairs, components). The signal, the same in every chain, cancels exactly; the
    first is the half-difference (χ_A − χ_B)/2 of the two halves. An odd number of chains is
    refused (:func:`chain_mean_chi` would average one chain more than every contrast).
    Compare them with :func:`chain_mean_chi` (the all-plus mean), never with a pooled χ."""
    from itertools import combinations

    c = _check_even_chains(_check_chain_chi(chain_chi))
    n = c.shape[0]
    out = []
    for plus in combinations(range(1, n), n // 2 - 1):
        s = -np.ones(n)
        s[[0, *plus]] = 1.0
        out.append(signed_chain_mean(c[:n], s))
    return np.stack(out)


@dataclass
class ColumnReading:
    """One component's own χ column read as a wave in a + b: the pooled estimate's spectrum
    (``peak``, ``peak_share``), the same from each half of the chains (``half_peaks``,
    ``half_shares``, ``half_power``), the noise-only control (``null_q``: the
    :data:`NULL_QUANTILE` of the peak share over :func:`sign_contrasts`, ``null_n`` of them;
    with 35 contrasts that is close to their largest), and the gate
    (``reliability``: entries; ``class_reliability``: class means over a + b)."""

    component: str
    peak: int
    peak_share: float
    power: np.ndarray
    half_peaks: tuple[int, int]
    half_shares: tuple[float, float]
    half_power: tuple[np.ndarray, np.ndarray]
    null_q: float
    null_n: int
    reliability: float
    class_reliability: float

    @property
    def has_control(self) -> bool:
        """Whether the control rests on enough contrasts (:data:`MIN_CONTRASTS`) for its
        :data:`NULL_QUANTILE` to be more than the largest of a handful."""
        return self.null_n >= MIN_CONTRASTS

    @property
    def agrees(self) -> bool:
        """Both halves peak at the same k, and both peaks beat the noise-only control (never
        without a control: fewer than :data:`MIN_CONTRASTS` contrasts)."""
        return (self.has_control and self.half_peaks[0] == self.half_peaks[1]
                and min(self.half_shares) > self.null_q)


def read_columns(chain_chi: Any, components: Sequence[str], pairs: Any, p: int, *,
                 null: Optional[tuple[Any, int]] = None) -> list[ColumnReading]:
    """:class:`ColumnReading` of every column of ``chain_chi`` (chains ≥ 4, pairs, components).
    The control: this set's own :func:`sign_contrasts`, or ``null`` = (per-component quantile,
    number of contrasts) pooled over several sets (:func:`pooled_contrast_null`)."""
    c = _check_even_chains(_check_chain_chi(chain_chi, min_chains=4))
    components = list(components)
    if len(components) != c.shape[2]:
        raise ValueError(f"components has {len(components)} names for {c.shape[2]} columns")
    if null is not None:
        q = np.asarray(null[0], dtype=float)
        if q.shape != (c.shape[2],) or not np.all(np.isfinite(q)):
            raise ValueError(f"null must be (one finite quantile per component, shape "
                             f"({c.shape[2]},), count), got shape {q.shape}")
        null_n = check_int(null[1], "null count", min=1)
    half = c.shape[0] // 2
    noise = sign_contrasts(c) if null is None else []
    rel = column_reliability(c)
    crel = column_reliability(c, pairs, p)
    out = []
    for j, name in enumerate(components):
        pooled = mode_spectrum(c[:, :, j].mean(0), pairs, p)
        halves = [mode_spectrum(c[sl, :, j].mean(0), pairs, p)
                  for sl in (slice(0, half), slice(half, 2 * half))]
        if null is None:
            shares = [mode_spectrum(m[:, j], pairs, p).peak_share for m in noise]
            q_j, n_j = float(np.quantile(shares, NULL_QUANTILE)), len(shares)
        else:
            q_j, n_j = float(q[j]), null_n
        out.append(ColumnReading(name, pooled.peak, pooled.peak_share, pooled.power,
                                 (halves[0].peak, halves[1].peak),
                                 (halves[0].peak_share, halves[1].peak_share),
                                 (halves[0].power, halves[1].power), q_j, n_j,
                                 float(rel[j]), float(crel[j])))
    return out

# --------------------------------------------------------------------------- the study (5.5)
#: Per-profile settings of notebook 5.5. Chapter 3's p = 53 run (its ``quick`` profile) in every
#: CPU profile, as in 5.3. The sampler is 5.3's for this run (γ = 100, batch 128) at ε = 3 × 10⁻⁴,
#: the smallest of 5.3's candidates. Measured on 2 loaded cores: one weight-restricted chain step
#: with the per-pair pass over the 1,124 training pairs costs ≈ 5.4 ms (≈ 2.5 ms reading every 3rd
#: draw); 12 components × 4 chains × 50 steps ≈ 7 s of CPU per checkpoint (quick: ≈ 60 s for the
#: whole notebook from a cold cache, training included). ``steps``: checkpoints,
#: by step or by 3.3's phase names ("final": the last checkpoint).
COMPONENT_SETTINGS: dict[str, dict[str, Any]] = {
    "quick": {"run_profile": "quick", "seeds": [0],
              "steps": ["memorisation_end", "grokked", "final"],
              "sampler": {"num_chains": 4, "num_burnin": 10, "num_draws": 40, "observe_every": 2},
              "rank": 3, "shuffles": 150},
}
#: ``standard`` reads the same (cached) mode matrices as ``quick``: at 20–50 reads per chain no
#: column of the matrix reproduces (:func:`column_reliability` ≈ 0), so more checkpoints and seeds
#: at that budget buy nothing; ``standard`` spends its budget on :data:`COLUMN_SETTINGS` instead.
COMPONENT_SETTINGS["standard"] = {**COMPONENT_SETTINGS["quick"], "shuffles": 400}
COMPONENT_SETTINGS["full"] = COMPONENT_SETTINGS["standard"]
_SAMPLER = {"epsilon": 3e-4, "gamma": 100.0, "batch_size": 128, "seed": 0}
_CACHE_VERSION = 1
#: a mode's verdict is read against this quantile of its shuffled-pairs control
NULL_QUANTILE = 0.99
#: a column's noise-only control needs at least this many sign contrasts: with 3 (a set of 4
#: chains) the 99th percentile is their largest, and a noise column beats it often
MIN_CONTRASTS = 20


def all_pairs(p: int) -> torch.Tensor:
    """Every pair (a, b), row a·p + b: (p², 2)."""
    a = torch.arange(check_int(p, "p", min=2))
    return torch.stack(torch.meshgrid(a, a, indexing="ij"), -1).reshape(-1, 2)


def grouping(run: Any) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray]:
    """(frequency groups, size-matched random groups, each neuron's best k) of a
    :func:`~.course_models.grokking_run`, from its **final** checkpoint: every neuron's best
    frequency over all p² pairs (:func:`~course_lib.modular.mechanism.neuron_frequency_fraction`),
    grouped by 3.3's key frequencies (``run.source.key_frequencies``). Held fixed over checkpoints."""
    from ..modular.mechanism import neuron_frequency_fraction

    model = run.model_at(run.final_step)
    with torch.no_grad():
        acts = model.mlp_activations(all_pairs(run.source.p))
    _, best = neuron_frequency_fraction(acts)
    freq = neuron_groups(best, run.source.key_frequencies)
    return freq, random_groups(freq, seed=0), best


def resolve_step(run: Any, step: Any) -> int:
    """A checkpoint step from a step, a phase name of 3.3 (nearest checkpoint) or ``"final"``."""
    if step == "final":
        return run.final_step
    if isinstance(step, str):
        if run.phases.get(step) is None:
            raise ValueError(f"{step!r} is not a reached phase of this run ({sorted(run.phases)})")
        return run.nearest_step(run.phases[step])
    run.checkpoint_index(step)
    return int(step)


def _chi_at(seed: int, step: int, run_profile: str, sampler: Mapping[str, Any],
            only: Optional[Sequence[str]] = None) -> dict[str, Any]:
    import time
    from .course_models import grokking_run
    from .observables import susceptibilities

    run = grokking_run(seed, run_profile, progress=False)
    freq, rand, _ = grouping(run)
    setup = component_model(run.model_at(step), freq, rand)
    comps = setup.components if only is None else {c: setup.components[c] for c in only}
    from ..runtime import cpu_threads

    start = time.process_time()
    with cpu_threads():     # tiny steps: a second thread only synchronises (3–7× the CPU)
        sus = susceptibilities(setup.model, mean_cross_entropy, per_pair_cross_entropy,
                               run.data, comps, **{**_SAMPLER, **sampler})
    return {"chi": sus.chi, "chain_chi": sus.chain_chi, "components": list(comps),
            "kinds": {c: setup.kinds[c] for c in comps},
            "wrllc": {k: r.mean for k, r in sus.llc.items()},
            "cpu_seconds": time.process_time() - start, "memory_bytes": sus.memory_bytes}


def component_chi(seed: int, step: int, *, run_profile: str = "quick",
                  sampler: Optional[Mapping[str, Any]] = None) -> dict[str, Any]:
    """The (training pairs × components) susceptibility matrix of Chapter 3's run ``seed`` at
    checkpoint ``step``, cached (``course_lib.cache``, "slt-components-chi"): ``chi``,
    ``chain_chi`` (chains, pairs, components), ``components``, ``kinds``, ``wrllc`` (each
    component's own weight-restricted LLC, from the same chains), ``cpu_seconds``."""
    from ..cache import cached
    from .course_models import grokking_run

    seed = check_seed(seed)
    sampler = dict(COMPONENT_SETTINGS["quick"]["sampler"] if sampler is None else sampler)
    run = grokking_run(seed, run_profile, progress=False)
    step = resolve_step(run, step)
    config = {"run": run.key, "step": step, "sampler": {**_SAMPLER, **sampler},
              "version": _CACHE_VERSION}
    return cached("slt-components-chi", config, lambda: _chi_at(seed, step, run_profile, sampler))


@dataclass
class CheckpointModes:
    """The modes of one checkpoint's matrix and their readings. ``spectra[by][i]``: mode i read as
    a function of ``by`` (:data:`READINGS`); ``null_q[by]`` (rank, 2): the shuffled-pairs
    :data:`NULL_QUANTILE` of [peak_share, sum_share]; ``is_key[i]``: mode i peaks at a key
    frequency *and* its peak share beats the control (read by a + b); ``reliability``: split-half
    of the modes (:func:`split_half_reliability`); ``column_reliability``: split-half of each
    component's column over the pairs (:func:`column_reliability`, the gate);
    ``null_hits``/``null_modes``: the same ``is_key`` criterion applied to the modes of the
    noise-only matrices (:func:`sign_contrasts`) — the hit rate of noise;
    ``freq_weight``/``rand_weight``: the top modes' summed squared weight on the frequency groups
    and on the random groups."""

    step: int
    modes: Modes
    spectra: dict[str, list[ModeSpectrum]]
    null_q: dict[str, np.ndarray]
    is_key: np.ndarray
    reliability: np.ndarray
    column_reliability: np.ndarray
    null_hits: int
    null_modes: int
    freq_weight: float
    rand_weight: float
    wrllc: dict[str, float]
    cpu_seconds: float


def _key_modes(chi: np.ndarray, comps: Sequence[str], pairs: Any, p: int, keys: set,
               rank: int, shuffles: int, seed: int, readings: Sequence[str] = tuple(READINGS)):
    modes = svd_modes(chi, comps, rank)
    spectra, null_q = {}, {}
    for by in readings:
        spectra[by] = [mode_spectrum(modes.loadings[:, i], pairs, p, by) for i in range(rank)]
        null_q[by] = np.array([np.quantile(shuffle_null(modes.loadings[:, i], pairs, p,
                                                        shuffles=shuffles, seed=seed + i, by=by),
                                           NULL_QUANTILE, axis=0) for i in range(rank)])
    is_key = np.array([s.peak in keys and s.peak_share > null_q["a + b"][i, 0]
                       for i, s in enumerate(spectra["a + b"])])
    return modes, spectra, null_q, is_key


def read_modes(chi_entry: Mapping[str, Any], pairs: Any, p: int, key_freqs: Sequence[int], *,
               step: int, rank: int, shuffles: int, seed: int = 0) -> CheckpointModes:
    """Modes of one :func:`component_chi` entry and everything the notebook reads off them: the
    real matrix is :func:`chain_mean_chi` of its ``chain_chi`` (not its pooled ``chi``), the
    estimator its noise-only :func:`sign_contrasts` match."""
    comps = list(chi_entry["components"])
    keys = set(int(k) for k in key_freqs)
    _check_even_chains(_check_chain_chi(chi_entry["chain_chi"]))
    chi = chain_mean_chi(chi_entry["chain_chi"])     # the estimator the contrasts match
    modes, spectra, null_q, is_key = _key_modes(chi, comps, pairs, p, keys, rank, shuffles, seed)
    null_hits = null_n = 0
    for noise in sign_contrasts(chi_entry["chain_chi"]):
        hit = _key_modes(noise, comps, pairs, p, keys, rank, shuffles, seed, ("a + b",))[3]
        null_hits, null_n = null_hits + int(hit.sum()), null_n + len(hit)
    kinds = chi_entry["kinds"]
    w2 = (modes.weights ** 2).sum(0)
    freq_w = float(sum(w for c, w in zip(comps, w2) if kinds[c] == "frequency group"))
    rand_w = float(sum(w for c, w in zip(comps, w2) if kinds[c] == "random group"))
    rel = split_half_reliability(chi_entry["chain_chi"], comps, rank)
    col_rel = column_reliability(chi_entry["chain_chi"])
    return CheckpointModes(step, modes, spectra, null_q, is_key, rel, col_rel, null_hits, null_n,
                           freq_w, rand_w, dict(chi_entry["wrllc"]),
                           float(chi_entry["cpu_seconds"]))


@dataclass
class SeedStudy:
    """One training seed: 3.3's run (loss curves, phases, key frequencies), the neuron groups and
    the modes at each checkpoint studied."""

    seed: int
    p: int
    key_freqs: tuple[int, ...]
    phases: dict[str, Optional[int]]
    curve_steps: np.ndarray
    train_loss: np.ndarray
    test_loss: np.ndarray
    group_sizes: dict[str, int]
    checkpoints: list[CheckpointModes]
    pairs: np.ndarray              # (n, 2) the training pairs: the rows of every matrix

    @property
    def steps(self) -> list[int]:
        return [c.step for c in self.checkpoints]

    def at(self, step: int) -> CheckpointModes:
        for c in self.checkpoints:
            if c.step == step:
                return c
        raise ValueError(f"step must be one of {self.steps}, got {step!r}")

    def appearance(self) -> dict[int, Optional[int]]:
        """For each key frequency k: the first studied checkpoint at which a top mode is k
        (peaks at k and beats its control), or None."""
        out: dict[int, Optional[int]] = {}
        for k in self.key_freqs:
            out[k] = next((c.step for c in self.checkpoints
                           if any(ok and s.peak == k for ok, s in zip(c.is_key, c.spectra["a + b"]))),
                          None)
        return out


@dataclass
class ComponentStudy:
    profile: str
    settings: dict[str, Any]
    seeds: list[SeedStudy]

    def key_mode_count(self) -> tuple[int, int]:
        """(modes that are a key frequency, modes read) over every seed, checkpoint and top mode."""
        hits = sum(int(c.is_key.sum()) for s in self.seeds for c in s.checkpoints)
        n = sum(len(c.is_key) for s in self.seeds for c in s.checkpoints)
        return hits, n

    def top_peak_at_key(self) -> tuple[int, int]:
        """(top modes whose highest Fourier peak in a + b is a key frequency, whatever its height
        against the control; top modes read), one top mode per seed and checkpoint: where the peak
        *lands*, a weaker reading than :meth:`key_mode_count`'s."""
        hits = sum(int(c.spectra["a + b"][0].peak in s.key_freqs) for s in self.seeds for c in s.checkpoints)
        return hits, sum(len(s.checkpoints) for s in self.seeds)

    def dependence_count(self, by: str = "a + b") -> tuple[int, int]:
        """(modes whose loading depends on ``by`` more than its shuffled control — sum share above
        the :data:`NULL_QUANTILE` — , modes read), over every seed, checkpoint and top mode. Read
        by a + b and by one operand, the two counts compare the answer with the inputs."""
        if by not in READINGS:
            raise ValueError(f"by must be one of {list(READINGS)}, got {by!r}")
        hits = sum(int(sp.sum_share > c.null_q[by][i, 1]) for s in self.seeds for c in s.checkpoints
                   for i, sp in enumerate(c.spectra[by]))
        n = sum(len(c.spectra[by]) for s in self.seeds for c in s.checkpoints)
        return hits, n

    def null_key_count(self) -> tuple[int, int]:
        """(noise-only modes counted as a key frequency, noise-only modes read): the
        :meth:`key_mode_count` criterion applied to the modes of every checkpoint's
        :func:`sign_contrasts` — what noise with the chains' own structure scores. The
        comparator for :meth:`key_mode_count` (not the key frequencies' share of all k: a hit
        must also beat the shuffled control)."""
        return (sum(c.null_hits for s in self.seeds for c in s.checkpoints),
                sum(c.null_modes for s in self.seeds for c in s.checkpoints))

    def cpu_seconds(self) -> float:
        return float(sum(c.cpu_seconds for s in self.seeds for c in s.checkpoints))


def component_study(profile: Optional[str] = None) -> ComponentStudy:
    """Everything notebook 5.5 shows, for ``profile`` (default: the active one): per seed, 3.3's
    run and the modes at each studied checkpoint (matrices cached one by one)."""
    from ..runtime import by_profile, get_profile, run_concurrently
    from .course_models import grokking_run

    profile = get_profile() if profile is None else profile
    cfg = by_profile(COMPONENT_SETTINGS, profile)
    seeds = []
    for seed in cfg["seeds"]:
        run = grokking_run(seed, cfg["run_profile"], progress=False)
        freq, rand, _ = grouping(run)
        pairs = run.data[0].numpy()
        steps = list(dict.fromkeys(resolve_step(run, s) for s in cfg["steps"]))
        # one checkpoint's chains per core (each job on one thread: the same numbers as one by one)
        entries = run_concurrently(
            [lambda step=step: component_chi(seed, step, run_profile=cfg["run_profile"],
                                             sampler=cfg["sampler"]) for step in steps],
            desc="sampling the checkpoints", progress=False)
        cps = [read_modes(entry, pairs, run.source.p, run.source.key_frequencies,
                          step=step, rank=cfg["rank"], shuffles=cfg["shuffles"])
               for step, entry in zip(steps, entries)]
        src = run.source
        sizes = {**{f"neurons {k}": len(v) for k, v in freq.items()},
                 **{f"neurons {k}": len(v) for k, v in rand.items()}}
        seeds.append(SeedStudy(seed, src.p, tuple(src.key_frequencies), dict(run.phases),
                               np.asarray(src.checkpoint_steps), np.asarray(src.train_loss),
                               np.asarray(src.test_loss), sizes, cps, pairs))
    return ComponentStudy(profile, cfg, seeds)


# ------------------------------------------------------- the measurement with power: own columns
#: Per-profile settings of the column measurement (5.5's second half): the final checkpoint of
#: seed 0, five components only — every key-frequency neuron group, the size-matched random group
#: of the largest (the control that differs only in how the neurons are grouped) and the
#: embedding — so that the budget goes into chains and draws. ``sampler_seeds``: independent chain
#: sets at the same budget (a reading counts only as often as it replicates over them). 8 chains
#: give two halves of 4 and 35 balanced sign contrasts per set; the noise-only control pools the
#: contrasts of every set. ``quick`` cannot afford more draws: it reads the same five columns from
#: the mode matrix of the final checkpoint (4 chains × 20 reads, one set, ``from_modes``) —
#: underpowered, stated as such, never read as a result. ``standard``: one set (sampler seed 0)
#: × 8 chains × 500 reads per chain (1,600 steps), the budget at which the rank gate passes.
#: Measured: 113 s of sampling CPU for the five columns on a loaded 2-core machine. A second
#: set (sampler seed 1, same budget) gave the same verdicts when it was run (the gate passed,
#: no frequency group agreed above the control, the embedding agreed on 16) but doubles the
#: cost, past the 5-minute budget of 5.5; add it to ``sampler_seeds`` to repeat it.
COLUMN_SETTINGS: dict[str, dict[str, Any]] = {
    "quick": {"run_profile": "quick", "seed": 0, "step": "final", "from_modes": True,
              "sampler_seeds": [0], "sampler": COMPONENT_SETTINGS["quick"]["sampler"]},
    "standard": {"run_profile": "quick", "seed": 0, "step": "final", "from_modes": False,
                 "sampler_seeds": [0],
                 "sampler": {"num_chains": 8, "num_burnin": 100, "num_draws": 1500,
                             "observe_every": 3}},
}
COLUMN_SETTINGS["full"] = COLUMN_SETTINGS["standard"]

#: The column study (:func:`column_study`) on a **second training seed**: Chapter 3's quick
#: run with seed 1, at ``standard``'s budget (8 chains × 500 reads per chain) on **three chain
#: sets** (sampler seeds 0–2), each column's halves read against the noise-only control pooled
#: over the three sets' 105 sign contrasts (:func:`pooled_contrast_null`). Measured for round h's
#: review (2026-12-05, an AVX-512 CPU, native kernels; 304 s of sampling CPU for the three sets,
#: 96–107 s each, on a loaded machine) — past 5.5's five-minute budget, so 5.5 prints it.
#: ``tests/test_slt_components.py`` re-runs it (slow) where the CPU trains this network (its
#: groups' sizes). ``null_q``: each column's pooled control; ``columns``: per column, one tuple
#: per set — (rank split-half median over the 35 splits, both halves' peaks, the pooled peak,
#: whether both halves agree above the pooled control).
SECOND_SEED_RECORD: dict[str, Any] = {
    "seed": 1, "key_freqs": (4, 19, 25),
    "group_sizes": {"k=4": 81, "k=19": 60, "k=25": 115},
    "random": "neurons random 2", "baseline_peak": 14,
    "sampler_seeds": (0, 1, 2), "null_n": 105,
    "null_q": {"neurons k=4": 0.35, "neurons k=19": 0.40, "neurons k=25": 0.33,
               "neurons random 2": 0.36, "embedding": 0.33},
    "columns": {
        "neurons k=4": ((0.44, (12, 4), 4, False), (0.52, (4, 4), 4, False),
                        (0.55, (4, 4), 4, False)),
        "neurons k=19": ((0.41, (19, 19), 19, False), (0.54, (4, 4), 4, False),
                         (0.50, (19, 19), 19, False)),
        "neurons k=25": ((0.56, (25, 25), 25, True), (0.55, (4, 25), 4, False),
                         (0.51, (25, 25), 25, False)),
        "neurons random 2": ((0.59, (4, 4), 4, False), (0.65, (4, 4), 4, True),
                             (0.57, (4, 4), 4, False)),
        "embedding": ((0.30, (25, 4), 25, False), (0.26, (19, 4), 25, False),
                      (0.31, (25, 25), 25, False)),
    },
}


#: The column study on training seed 0 at two step sizes, ε = 3 × 10⁻⁴ (5.5's) and 1 × 10⁻³ (the
#: step 5.3 rejected, where the full network's chains diverge; these restricted chains run, but
#: the embedding's wrLLC rises 20-fold), at ``standard``'s budget on one chain set (sampler seed 0), each column
#: against its own 35-contrast control, on the seed-0 network an AVX-512 CPU trains (native
#: kernels; measured for round h's review, 2026-12-05: 129 s and 114 s of sampling CPU).
#: ``tests/test_slt_components.py`` re-runs it (slow) where the CPU trains this network (its
#: groups' sizes). Per ε, per column: (both halves' peaks, the pooled peak, whether both halves
#: agree above the control, the column's own wrLLC to two significant figures).
EPSILON_RECORD: dict[str, Any] = {
    "seed": 0, "key_freqs": (12, 16, 19),
    "group_sizes": {"k=12": 41, "k=16": 125, "k=19": 90},
    "random": "neurons random 1",
    "columns": {
        3e-4: {"neurons k=12": ((4, 12), 16, False, 0.049),
               "neurons k=16": ((12, 16), 16, False, 0.25),
               "neurons k=19": ((6, 16), 16, False, 0.15),
               "neurons random 1": ((19, 19), 19, False, 0.39),
               "embedding": ((16, 16), 16, True, 3.8)},
        1e-3: {"neurons k=12": ((12, 12), 12, False, 0.064),
               "neurons k=16": ((16, 16), 16, False, 0.3),
               "neurons k=19": ((16, 16), 16, False, 0.17),
               "neurons random 1": ((19, 12), 12, False, 0.46),
               "embedding": ((16, 16), 16, False, 79.0)},
    },
}


def column_components(freq_groups: Mapping[str, np.ndarray]) -> tuple[str, ...]:
    """(every key-frequency group "k=…" in the order given, the size-matched random group of the
    largest, the embedding), as component names of :func:`component_model` (random group j
    matches group j of ``freq_groups``; an "other" group is not read)."""
    names = list(freq_groups)
    keyed = [n for n in names if n.startswith("k=")]
    if not keyed:
        raise ValueError("freq_groups must hold at least one key-frequency group 'k=…'")
    j = int(np.argmax([len(freq_groups[n]) if n in keyed else -1 for n in names]))
    return (*(f"neurons {n}" for n in keyed), f"neurons random {j}", "embedding")


def column_chi(seed: int, step: Any, components: Sequence[str], *, run_profile: str = "quick",
               sampler: Mapping[str, Any]) -> dict[str, Any]:
    """Like :func:`component_chi`, for the listed components only (cached,
    "slt-components-columns"); ``sampler["seed"]`` picks the chain set."""
    from ..cache import cached
    from .course_models import grokking_run

    seed = check_seed(seed)
    run = grokking_run(seed, run_profile, progress=False)
    step = resolve_step(run, step)
    components = [str(c) for c in components]
    if not components:
        raise ValueError("components must name at least one component")
    config = {"run": run.key, "step": step, "sampler": {**_SAMPLER, **sampler},
              "components": components, "version": _CACHE_VERSION}
    return cached("slt-components-columns", config,
                  lambda: _chi_at(seed, step, run_profile, dict(sampler), components))


def balanced_splits(n_chains: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Every split of ``n_chains`` chains into two halves of n/2 (chain 0 always in the first),
    in :func:`sign_contrasts`' order: C(n − 1, n/2 − 1) of them (35 for 8 chains). The first is
    (first half, second half). An odd last chain is dropped here (split-halves only compare
    halves); the readers that score against sign contrasts — :func:`sign_contrasts`,
    :func:`read_columns`, :func:`read_modes` — refuse an odd count instead."""
    from itertools import combinations

    n = check_int(n_chains, "n_chains", min=2)
    n -= n % 2
    out = []
    for plus in combinations(range(1, n), n // 2 - 1):
        a = np.array([0, *plus])
        out.append((a, np.setdiff1d(np.arange(n), a)))
    return out


def _rank_columns(m: np.ndarray) -> np.ndarray:
    from ..stats import rank

    return np.stack([rank(m[:, j]) for j in range(m.shape[1])], axis=1)


#: how a split-half correlation is taken: over the values (Pearson) or their ranks (Spearman)
SPLIT_METHODS = ("spearman", "pearson")


def split_half_spread(chain_chi: Any, *, method: str = "spearman") -> np.ndarray:
    """The gate, with its spread: for every balanced split of the chains
    (:func:`balanced_splits`), the correlation over the pairs between each component's column
    from one half and from the other, (splits, components). ``method="spearman"`` correlates the
    ranks — robust to the handful of pairs whose rare loss excursions dominate χ's squared norm;
    ``"pearson"`` the values (what :func:`column_reliability` gives for the first split)."""
    if method not in SPLIT_METHODS:
        raise ValueError(f"method must be one of {list(SPLIT_METHODS)}, got {method!r}")
    c = _check_chain_chi(chain_chi)
    if c.shape[1] < 3:
        raise ValueError(f"chain_chi must hold at least 3 pairs, got {c.shape[1]}")
    out = []
    for a_idx, b_idx in balanced_splits(c.shape[0]):
        a, b = c[a_idx].mean(0), c[b_idx].mean(0)
        if method == "spearman":
            a, b = _rank_columns(a), _rank_columns(b)
        out.append(_corr_columns(a, b))
    return np.stack(out)


def key_share_halves(chain_chi: Any, pairs: Any, p: int, ks: Sequence[int]) -> np.ndarray:
    """Each column's power share at each frequency of ``ks``, read from each half of every
    balanced split of the chains (:func:`balanced_splits`): (2 · splits, components, len(ks)).
    Its spread is how far one set's shares move between halves of its own chains."""
    c = _check_chain_chi(chain_chi, min_chains=2)
    ks = [check_int(k, "k", min=1, max=(int(p) - 1) // 2) for k in ks]
    out = []
    for split in balanced_splits(c.shape[0]):
        for half in split:
            row = []
            for j in range(c.shape[2]):
                sp = mode_spectrum(c[half, :, j].mean(0), pairs, p)
                row.append(sp.power[np.asarray(ks) - 1] / sp.power.sum())
            out.append(row)
    return np.asarray(out, dtype=float)


def pooled_contrast_null(chain_chi_sets: Sequence[Any], pairs: Any,
                         p: int) -> tuple[np.ndarray, int]:
    """The noise-only control pooled over chain sets: per component, the :data:`NULL_QUANTILE`
    of the peak share in a + b over the :func:`sign_contrasts` of *every* set, (components,),
    and how many contrasts it pools. One set's 35 contrasts are strongly correlated (their 99 %
    is close to their maximum and moves by ±0.1 from set to set); pooling steadies it."""
    if isinstance(chain_chi_sets, np.ndarray) or not len(chain_chi_sets):
        raise ValueError("chain_chi_sets must be a non-empty list of (chains, pairs, "
                         "components) arrays")
    sets = [_check_chain_chi(c) for c in chain_chi_sets]
    if len({c.shape[1:] for c in sets}) != 1:
        raise ValueError("chain_chi_sets must share (pairs, components): got "
                         f"{[c.shape for c in sets]}")
    shares = [[mode_spectrum(m[:, j], pairs, p).peak_share for j in range(m.shape[1])]
              for c in sets for m in sign_contrasts(c)]
    return np.quantile(np.asarray(shares), NULL_QUANTILE, axis=0), len(shares)


def per_pair_loss(model: nn.Module, data: tuple) -> np.ndarray:
    """ℓ_x at the given weights for every pair of ``data = (pairs, labels)``: (pairs,)."""
    with torch.no_grad():
        return per_pair_cross_entropy(model, data).double().numpy()


def project_out(values: Any, baseline: Any, pairs: Any, p: int) -> np.ndarray:
    """``values`` (one per pair) with the part of their a + b profile shaped like
    ``baseline``'s removed: values − β (baseline − mean baseline), β the least-squares slope of
    the class means of ``values`` over s = (a + b) mod p on those of ``baseline``. The class
    means of the result are orthogonal to the baseline's (both centred)."""
    v = np.asarray(values, dtype=float)
    x = np.asarray(baseline, dtype=float)
    if x.shape != v.shape:
        raise ValueError(f"baseline must have the shape of values {v.shape}, got {x.shape}")
    rv, rx = residue_means(v, pairs, p), residue_means(x, pairs, p)
    xc = rx - rx.mean()
    if not (xc @ xc) > 0:
        raise ValueError("baseline is constant over the classes of a + b: nothing to project out")
    beta = float(xc @ (rv - rv.mean()) / (xc @ xc))
    return v - beta * (x - x.mean())


@dataclass
class ColumnStudy:
    """The column measurement over ``sampler_seeds`` (independent chain sets, same budget).

    ``readings[i][j]``: chain set i, component j (:class:`ColumnReading`; its halves read against
    the pooled control ``null_q``, ``null_n`` contrasts); ``rank_reliability`` /
    ``pearson_reliability`` (sets, splits, components): the split-half correlation over the pairs
    for every balanced split (:func:`split_half_spread`); ``baseline``: the spectrum in a + b of
    the per-pair loss at the checkpoint's own weights (what every column is read against);
    ``baseline_corr`` (sets, components): the correlation of each pooled column's class means
    with the baseline's; ``residual[i][j]``: the pooled column's spectrum with the baseline's
    profile projected out (:func:`project_out`); ``own_k``: each frequency group's k;
    ``cpu_seconds``: sampling CPU of all sets (``quick``: that of the mode matrix);
    ``key_share_halves`` (sets, 2 · splits, components, key frequencies): each column's power
    share at each key frequency from each half of every balanced split (:func:`key_share_halves`),
    the spread of one set's between-group table."""

    profile: str
    settings: dict[str, Any]
    seed: int
    step: int
    p: int
    key_freqs: tuple[int, ...]
    components: list[str]
    own_k: dict[str, int]
    sampler_seeds: list[int]
    readings: list[list[ColumnReading]]
    null_q: np.ndarray
    null_n: int
    rank_reliability: np.ndarray
    pearson_reliability: np.ndarray
    baseline: ModeSpectrum
    baseline_corr: np.ndarray
    residual: list[list[ModeSpectrum]]
    chains: int
    reads_per_chain: int
    cpu_seconds: float
    #: each column's spectrum from the chains of every set pooled (None: not computed)
    all_chains: Optional[list[ModeSpectrum]] = None
    key_share_halves: Optional[np.ndarray] = None
    #: (sets, components): each component's own weight-restricted LLC, nβ E[φ_C], from its
    #: chains (how strongly sampling it moves the loss); None: not recorded
    wrllc: Optional[np.ndarray] = None

    def _index(self, component: str) -> int:
        if component not in self.components:
            raise ValueError(f"component must be one of {self.components}, got {component!r}")
        return self.components.index(component)

    def reading(self, component: str, set_index: int = 0) -> ColumnReading:
        """Chain set ``set_index``'s reading of ``component``."""
        return self.readings[check_int(set_index, "set_index", min=0,
                                       max=len(self.readings) - 1)][self._index(component)]

    def passes(self, component: str) -> tuple[int, int]:
        """(chain sets in which both halves agree on a peak and beat the pooled control, sets)."""
        j = self._index(component)
        return sum(int(r[j].agrees) for r in self.readings), len(self.readings)

    def own_passes(self, component: str) -> tuple[int, int]:
        """Like :meth:`passes`, counting only agreement at the group's own frequency."""
        j, k = self._index(component), self.own_k.get(component)
        return (sum(int(r[j].agrees and r[j].half_peaks[0] == k) for r in self.readings),
                len(self.readings))

    def pooled_peaks(self, component: str) -> list[int]:
        """Per chain set, where the column from all its chains peaks in a + b."""
        j = self._index(component)
        return [r[j].peak for r in self.readings]

    def residual_peaks(self, component: str) -> list[int]:
        """Per chain set, where the pooled column peaks once the baseline is projected out."""
        j = self._index(component)
        return [r[j].peak for r in self.residual]


def column_study(profile: Optional[str] = None, *, seed: Optional[int] = None,
                 sampler_seeds: Optional[Sequence[int]] = None,
                 components: Optional[Sequence[str]] = None,
                 epsilon: Optional[float] = None) -> ColumnStudy:
    """Everything the second half of notebook 5.5 shows, for ``profile`` (default: active).
    The same budget with one factor changed: ``seed``, another training seed of Chapter 3's
    run; ``sampler_seeds``, other chain sets; ``components``, other components of
    :func:`component_model` than :func:`column_components` (each sampled on its own, cached
    one by one: a component's chains do not depend on which others are read); ``epsilon``,
    another SGLD step size."""
    from ..runtime import by_profile, get_profile
    from .course_models import grokking_run

    profile = get_profile() if profile is None else profile
    cfg = dict(by_profile(COLUMN_SETTINGS, profile))
    if seed is not None:
        cfg["seed"] = check_seed(seed)
    if sampler_seeds is not None:
        if isinstance(sampler_seeds, (str, bytes)) or not len(sampler_seeds):
            raise ValueError("sampler_seeds must be a non-empty list of seeds")
        cfg["sampler_seeds"] = [check_seed(s) for s in sampler_seeds]
    if epsilon is not None:
        if not (isinstance(epsilon, (int, float)) and math.isfinite(epsilon) and epsilon > 0):
            raise ValueError(f"epsilon must be a finite step size > 0, got {epsilon!r}")
        cfg["sampler"] = {**cfg["sampler"], "epsilon": float(epsilon)}
    single = components is not None
    if single and (isinstance(components, str) or not len(components)):
        raise ValueError("components must be a non-empty list of component names")
    if (single or epsilon is not None) and cfg.get("from_modes"):
        raise ValueError(f"profile {profile!r} reads the modes' matrix: its components and "
                         "step size are that matrix's")
    run = grokking_run(cfg["seed"], cfg["run_profile"], progress=False)
    step = resolve_step(run, cfg["step"])
    freq, _, _ = grouping(run)
    comps = [str(c) for c in components] if single else list(column_components(freq))
    sets, cpu, wrllc = [], 0.0, []
    for sseed in cfg["sampler_seeds"]:
        sampler = {**cfg["sampler"], "seed": int(sseed)}
        if single:
            parts = [column_chi(cfg["seed"], cfg["step"], [c], run_profile=cfg["run_profile"],
                                sampler=sampler) for c in comps]
            entry = {"chain_chi": np.concatenate([np.asarray(e["chain_chi"]) for e in parts],
                                                 axis=2),
                     "cpu_seconds": sum(float(e["cpu_seconds"]) for e in parts),
                     "wrllc": {c: e["wrllc"][c] for c, e in zip(comps, parts)}}
            sets.append(entry["chain_chi"])
        elif cfg.get("from_modes"):
            entry = component_chi(cfg["seed"], cfg["step"], run_profile=cfg["run_profile"],
                                  sampler=sampler)
            keep = [list(entry["components"]).index(c) for c in comps]
            sets.append(np.asarray(entry["chain_chi"])[:, :, keep])
        else:
            entry = column_chi(cfg["seed"], cfg["step"], comps, run_profile=cfg["run_profile"],
                               sampler=sampler)
            sets.append(np.asarray(entry["chain_chi"]))
        cpu += float(entry["cpu_seconds"])
        wrllc.append([float(entry["wrllc"][c]) for c in comps])
    pairs, p = run.data[0].numpy(), run.source.p
    null_q, null_n = pooled_contrast_null(sets, pairs, p)
    readings = [read_columns(c, comps, pairs, p, null=(null_q, null_n)) for c in sets]
    loss = per_pair_loss(run.model_at(step), run.data)
    base = mode_spectrum(loss, pairs, p)
    rx = residue_means(loss, pairs, p)
    bcorr = np.array([[float(np.corrcoef(residue_means(c[:, :, j].mean(0), pairs, p), rx)[0, 1])
                       for j in range(len(comps))] for c in sets])
    residual = [[mode_spectrum(project_out(c[:, :, j].mean(0), loss, pairs, p), pairs, p)
                 for j in range(len(comps))] for c in sets]
    s = cfg["sampler"]
    own_k = {f"neurons {n}": int(n.split("=")[1]) for n in freq
             if n.startswith("k=") and f"neurons {n}" in comps}
    return ColumnStudy(profile, cfg, cfg["seed"], step, p, tuple(run.source.key_frequencies),
                       comps, own_k, [int(x) for x in cfg["sampler_seeds"]], readings, null_q,
                       null_n, np.stack([split_half_spread(c) for c in sets]),
                       np.stack([split_half_spread(c, method="pearson") for c in sets]),
                       base, bcorr, residual, int(sets[0].shape[0]),
                       -(-s["num_draws"] // s["observe_every"]), cpu,
                       [mode_spectrum(np.concatenate(sets)[:, :, j].mean(0), pairs, p)
                        for j in range(len(comps))],
                       np.stack([key_share_halves(c, pairs, p, run.source.key_frequencies)
                                 for c in sets]), np.asarray(wrllc))
