"""Grokking, the reference run: modular addition with a one-layer transformer (chapter 3).

The model sees ``a b =`` and must answer ``(a + b) mod p``. Trained on a fraction of the p² pairs
with strong weight decay it first memorises the training pairs (test loss stays high), then, long
after the training loss is near zero, suddenly generalises: it *groks*. Nanda, Chan, Lieberum,
Smith & Steinhardt, "Progress measures for grokking via mechanistic interpretability" (ICLR 2023)
reverse-engineered the algorithm it finds: the embedding writes a few Fourier modes
``cos(w a), sin(w a)`` (the *key frequencies* ``w = 2πk/p``), attention and the MLP multiply them
into ``cos(w(a + b)), sin(w(a + b))``, and the unembedding reads out ``cos(w(a + b − c))``, which
peaks at the right answer ``c``. Their progress measures, computed here over saved checkpoints,
show three phases — memorisation, circuit formation, clean-up — under a test loss that looks
like a single sudden jump.

* :func:`modular_addition_data` — all p² pairs with labels and a seeded train/test split;
  :func:`mirror_split` — which test pairs are answered by memorising their mirror ``(b, a)``.
* :class:`ModularTransformer` — Nanda's model: token + position embeddings, one attention layer,
  one ReLU MLP, no LayerNorm, logits read at the ``=`` position.
* :func:`train_modular_addition` — full-batch AdamW with checkpoints (plain data).
* :func:`fourier_basis`, :func:`embedding_spectrum`, :func:`key_frequencies`,
  :func:`key_frequency_logits`, :func:`progress_measures` — the measures.
* :func:`detect_phases` — phase boundaries from the measured curves, by a documented rule.
* :func:`modular_addition_run` — the cached reference run (a :class:`GrokkingRun`).

**Mirror pairs.** Addition commutes, so a test pair ``(a, b)`` whose mirror ``(b, a)`` is a
training pair can be answered by memorisation. ``test_acc`` therefore counts only the test pairs
whose mirror is *not* in the training set (``a == b`` pairs are their own mirror, never seen, so
they count as unseen); ``test_acc_all`` and ``test_acc_mirror_seen`` are reported beside it.

**Speed.** Only the ``=`` position's output is read, and the ``=`` token and its position are the
same in every input, so the one query that matters is a constant. Keys, values and the attention
scores of each of the p number tokens at positions 0 and 1 are computed once per step as small
tables and gathered per pair (:meth:`ModularTransformer.forward`), instead of running full
attention over all three positions (:meth:`ModularTransformer.forward_all_positions`, the
textbook form, which gives the same logits). ``benchmarks/grokking_speed.py`` measures the gain.
``torch.compile`` was slower on CPU and is not used.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Mapping, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .. import runtime
from ..cache import cached
from ..validation import check_float, check_fraction, check_int, check_seed
from ..widgets import progress as progress_bar

__all__ = [
    "GROKKING_SETTINGS", "ModularAdditionData", "modular_addition_data", "mirror_split", "is_prime",
    "ModularTransformer", "cross_entropy", "train_modular_addition", "fourier_basis",
    "embedding_spectrum", "key_frequencies", "key_frequency_logits", "progress_measures",
    "PhaseBoundaries", "detect_phases", "GrokkingRun", "modular_addition_run",
]

#: Per-profile settings (one place). ``steps`` full-batch AdamW steps, a checkpoint every
#: ``checkpoint_every`` steps; ``warmup`` steps of linear learning-rate warm-up (as in the paper);
#: ``threads``: CPU threads while training and measuring (``None``: torch's setting). ``standard``
#: is the paper's model and data with a 3× larger learning rate (1e-3 takes hours on a CPU);
#: ``full`` is the paper's run (for a GPU). ``quick`` is a smaller model on p = 53 that groks in
#: ~700–1100 steps; on one thread because two gained only 1.2× there (12 against 15 ms/step) but
#: were 7× slower while another process shared the two cores — and because the result depends on
#: the thread count (summation order), so a fixed count makes it the same on every machine.
GROKKING_SETTINGS: dict[str, dict[str, Any]] = {
    "quick": {"p": 53, "train_fraction": 0.4, "d_model": 64, "n_heads": 4, "d_mlp": 256,
              "lr": 5e-3, "weight_decay": 1.0, "betas": (0.9, 0.98), "warmup": 10,
              "steps": 1800, "checkpoint_every": 20, "threads": 1},
    "standard": {"p": 113, "train_fraction": 0.3, "d_model": 128, "n_heads": 4, "d_mlp": 512,
                 "lr": 3e-3, "weight_decay": 1.0, "betas": (0.9, 0.98), "warmup": 10,
                 "steps": 3000, "checkpoint_every": 50, "threads": None},
    "full": {"p": 113, "train_fraction": 0.3, "d_model": 128, "n_heads": 4, "d_mlp": 512,
             "lr": 1e-3, "weight_decay": 1.0, "betas": (0.9, 0.98), "warmup": 10,
             "steps": 30000, "checkpoint_every": 100, "threads": None},
}

#: Bump when a change to this module changes what a cached run contains.
_CACHE_VERSION = 1


def is_prime(n: int) -> bool:
    """Whether ``n`` is a prime number (trial division; p is small here)."""
    n = check_int(n, "n")
    if n < 2:
        return False
    return all(n % d for d in range(2, math.isqrt(n) + 1))


def _prime(p: object) -> int:
    p = check_int(p, "p")
    if p < 3 or not is_prime(p):
        raise ValueError(f"p must be an odd prime (≥ 3) so that Z_p is a field and the Fourier "
                         f"basis pairs up cleanly, got {p}")
    return p


# --------------------------------------------------------------------------- data
@dataclass(frozen=True)
class ModularAdditionData:
    """All p² pairs ``(a, b)``, pair ``i = a·p + b``, with label ``(a + b) mod p`` and a split.

    ``pairs (p², 2)`` and ``labels (p²,)`` are LongTensors; ``is_train (p²,)`` a bool tensor.
    """

    p: int
    pairs: torch.Tensor
    labels: torch.Tensor
    is_train: torch.Tensor

    @classmethod
    def from_mask(cls, p: int, is_train: Any) -> "ModularAdditionData":
        """Rebuild the data from ``p`` and a stored train mask (p²,)."""
        p = _prime(p)
        mask = torch.as_tensor(np.asarray(is_train), dtype=torch.bool)
        if mask.shape != (p * p,):
            raise ValueError(f"is_train must have shape ({p * p},), got {tuple(mask.shape)}")
        a, b = torch.div(torch.arange(p * p), p, rounding_mode="floor"), torch.arange(p * p) % p
        return cls(p, torch.stack([a, b], dim=1), (a + b) % p, mask)

    @property
    def train_pairs(self) -> torch.Tensor:
        return self.pairs[self.is_train]

    @property
    def train_labels(self) -> torch.Tensor:
        return self.labels[self.is_train]

    @property
    def test_pairs(self) -> torch.Tensor:
        return self.pairs[~self.is_train]

    @property
    def test_labels(self) -> torch.Tensor:
        return self.labels[~self.is_train]


def modular_addition_data(p: int, train_fraction: float, seed: int = 0) -> ModularAdditionData:
    """All p² pairs of Z_p with labels ``(a + b) mod p``; a random ``train_fraction`` of them is train.

    The split is a seeded permutation of the pairs (ordered pairs, as in the paper, so a pair and
    its mirror fall on either side independently; see :func:`mirror_split`).
    """
    p = _prime(p)
    train_fraction = check_fraction(train_fraction, "train_fraction", inclusive="neither")
    seed = check_seed(seed)
    n = p * p
    n_train = int(round(train_fraction * n))
    if not 0 < n_train < n:
        raise ValueError(f"train_fraction={train_fraction} leaves an empty train or test set "
                         f"for p={p} ({n} pairs)")
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    mask = torch.zeros(n, dtype=torch.bool)
    mask[order[:n_train]] = True
    return ModularAdditionData.from_mask(p, mask)


def mirror_split(data: ModularAdditionData) -> tuple[torch.Tensor, torch.Tensor]:
    """Boolean masks over ``data.test_pairs``: (mirror-seen, mirror-unseen).

    *Mirror-seen*: ``(b, a)`` is a training pair, so memorisation plus commutativity answers
    ``(a, b)`` without any algorithm. *Mirror-unseen*: every other test pair — ``a ≠ b`` with
    ``(b, a)`` also in the test set, and the diagonal ``a == b`` (its own mirror, which is a test
    pair, hence never seen). The two masks partition the test set.
    """
    if not isinstance(data, ModularAdditionData):
        raise TypeError(f"data must be ModularAdditionData, got {type(data).__name__}")
    p = data.p
    test = data.test_pairs
    mirror_index = test[:, 1] * p + test[:, 0]
    seen = data.is_train[mirror_index]
    return seen, ~seen


# --------------------------------------------------------------------------- the model
class ModularTransformer(nn.Module):
    """Nanda et al.'s one-layer transformer for ``a b =`` → logits over ``(a + b) mod p``.

    Tokens 0…p−1 are numbers, token p is ``=``. Residual stream at position i:
    ``x_i = W_E[tok_i] + W_pos[i]``; one attention layer (``n_heads`` heads of width
    ``d_head = d_model / n_heads``, causal, no biases) adds ``Σ_h softmax(q_h·k_h/√d_head) v_h W_O[h]``
    with ``q_h = x W_Q[h]`` etc.; one ReLU MLP adds ``ReLU(x W_in + b_in) W_out + b_out``; no
    LayerNorm; logits ``x W_U`` at the ``=`` position. Initialisation as in the paper: weights
    ``N(0, 1/d_model)``, ``W_U`` ``N(0, 1/p)``, biases zero.

    ``forward(pairs (batch, 2) LongTensor) → logits (batch, p)``.
    """

    def __init__(self, p: int, d_model: int = 128, n_heads: int = 4, d_mlp: int = 512,
                 generator: Optional[torch.Generator] = None):
        super().__init__()
        self.p = _prime(p)
        d_model, n_heads, d_mlp = (check_int(d_model, "d_model", min=1), check_int(n_heads, "n_heads", min=1),
                                   check_int(d_mlp, "d_mlp", min=1))
        if d_model % n_heads:
            raise ValueError(f"d_model ({d_model}) must be divisible by n_heads ({n_heads})")
        self.d_model, self.n_heads, self.d_mlp = d_model, n_heads, d_mlp
        self.d_head = d_model // n_heads

        def normal(*shape: int, scale: float) -> nn.Parameter:
            return nn.Parameter(torch.randn(*shape, generator=generator) * scale)

        s = 1.0 / math.sqrt(d_model)
        self.W_E = normal(p + 1, d_model, scale=s)
        self.W_pos = normal(3, d_model, scale=s)
        self.W_Q = normal(n_heads, d_model, self.d_head, scale=s)
        self.W_K = normal(n_heads, d_model, self.d_head, scale=s)
        self.W_V = normal(n_heads, d_model, self.d_head, scale=s)
        self.W_O = normal(n_heads, self.d_head, d_model, scale=s)
        self.W_in = normal(d_model, d_mlp, scale=s)
        self.b_in = nn.Parameter(torch.zeros(d_mlp))
        self.W_out = normal(d_mlp, d_model, scale=s)
        self.b_out = nn.Parameter(torch.zeros(d_model))
        self.W_U = normal(d_model, p, scale=1.0 / math.sqrt(p))

    # -- input checks --------------------------------------------------------------------------
    def _check_pairs(self, pairs: object) -> torch.Tensor:
        if not isinstance(pairs, torch.Tensor):
            raise TypeError(f"pairs must be a torch LongTensor of shape (batch, 2), got {type(pairs).__name__}")
        if pairs.dtype not in (torch.int64, torch.int32, torch.int16, torch.uint8, torch.int8):
            raise TypeError(f"pairs must be an integer tensor (token ids), got dtype {pairs.dtype}")
        if pairs.ndim != 2 or pairs.shape[1] != 2:
            raise ValueError(f"pairs must have shape (batch, 2), got {tuple(pairs.shape)}")
        if pairs.numel() and bool(((pairs < 0) | (pairs >= self.p)).any()):
            raise ValueError(f"pairs must hold numbers in [0, {self.p - 1}]")
        return pairs.long()

    # -- the fast forward ----------------------------------------------------------------------
    def _attention_out(self, pairs: torch.Tensor) -> torch.Tensor:
        """Attention's output at the ``=`` position, (batch, d_model), from per-token tables."""
        p, scale = self.p, 1.0 / math.sqrt(self.d_head)
        x_eq = self.W_E[p] + self.W_pos[2]                        # (d,): the same for every input
        tokens = self.W_E[:p]                                      # (p, d)
        x_ab = torch.stack([tokens + self.W_pos[0], tokens + self.W_pos[1]])   # (2, p, d)
        q = torch.einsum("d,hde->he", x_eq, self.W_Q) * scale      # (h, e): the one query
        k_ab = torch.einsum("ptd,hde->pthe", x_ab, self.W_K)       # (2, p, h, e) keys per token
        k_eq = torch.einsum("d,hde->he", x_eq, self.W_K)
        score_ab = torch.einsum("pthe,he->pth", k_ab, q)           # (2, p, h) score tables
        score_eq = (k_eq * q).sum(-1)                              # (h,)
        v_ab = torch.einsum("ptd,hde->pthe", x_ab, self.W_V)       # (2, p, h, e) value tables
        v_eq = torch.einsum("d,hde->he", x_eq, self.W_V)
        a, b = pairs[:, 0], pairs[:, 1]
        scores = torch.stack([score_ab[0, a], score_ab[1, b],
                              score_eq.expand(len(pairs), -1)], dim=1)      # (batch, 3, h)
        w = torch.softmax(scores, dim=1)[..., None]                # (batch, 3, h, 1)
        z = w[:, 0] * v_ab[0, a] + w[:, 1] * v_ab[1, b] + w[:, 2] * v_eq     # (batch, h, e)
        return z.flatten(1) @ self.W_O.flatten(0, 1)               # heads concatenated → W_O

    def _mlp(self, resid: torch.Tensor) -> torch.Tensor:
        return torch.addmm(self.b_out, F.relu(torch.addmm(self.b_in, resid, self.W_in)), self.W_out)

    def forward(self, pairs: torch.Tensor) -> torch.Tensor:
        """Logits (batch, p) at the ``=`` position (attention computed for that query only)."""
        pairs = self._check_pairs(pairs)
        resid = self.W_E[self.p] + self.W_pos[2] + self._attention_out(pairs)
        return (resid + self._mlp(resid)) @ self.W_U

    def logits_and_mlp_part(self, pairs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(logits, mlp_logits)``: the logits and the MLP output's own share ``mlp(x) W_U``.

        The progress measures ablate Fourier components of the MLP's contribution to the logits.
        """
        pairs = self._check_pairs(pairs)
        resid = self.W_E[self.p] + self.W_pos[2] + self._attention_out(pairs)
        mlp_logits = self._mlp(resid) @ self.W_U
        return resid @ self.W_U + mlp_logits, mlp_logits

    # -- the textbook forward ------------------------------------------------------------------
    def forward_all_positions(self, pairs: torch.Tensor) -> torch.Tensor:
        """The same logits from causal attention over all three positions (the plain way).

        Kept as the reference :meth:`forward` is tested against, and as the baseline of
        ``benchmarks/grokking_speed.py``.
        """
        pairs = self._check_pairs(pairs)
        n = len(pairs)
        tokens = torch.cat([pairs, torch.full((n, 1), self.p, dtype=torch.long, device=pairs.device)], 1)
        x = self.W_E[tokens] + self.W_pos                           # (batch, 3, d)
        q = torch.einsum("btd,hde->bhte", x, self.W_Q)
        k = torch.einsum("btd,hde->bhte", x, self.W_K)
        v = torch.einsum("btd,hde->bhte", x, self.W_V)
        att = q @ k.transpose(-1, -2) / math.sqrt(self.d_head)     # (batch, h, 3, 3)
        causal = torch.ones(3, 3, dtype=torch.bool, device=pairs.device).tril()
        att = torch.softmax(att.masked_fill(~causal, float("-inf")), dim=-1)
        x = x + torch.einsum("bhte,hed->btd", att @ v, self.W_O)
        x = x + F.relu(x @ self.W_in + self.b_in) @ self.W_out + self.b_out
        return x[:, -1] @ self.W_U


def cross_entropy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy with the log-softmax in float64.

    In float32, log-softmax of a confidently right prediction is quantised to multiples of ~1.2e-7
    (the spacing of floats near 1), so tiny losses and their gradients are noise; the paper used
    float64 for this reason. Its cost is negligible (logits are only (batch, p)).
    """
    return F.cross_entropy(logits.double(), labels)


# --------------------------------------------------------------------------- training
_INT_KEYS = ("p", "d_model", "n_heads", "d_mlp", "warmup", "steps", "checkpoint_every")
_FLOAT_KEYS = ("train_fraction", "lr", "weight_decay")


def _check_config(config: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(config, Mapping):
        raise TypeError(f"config must be a mapping, got {type(config).__name__}")
    missing = [k for k in (*_INT_KEYS, *_FLOAT_KEYS, "betas") if k not in config]
    if missing:
        raise ValueError(f"config is missing {missing}")
    cfg = dict(config)
    _prime(cfg["p"])
    for key in _INT_KEYS:
        check_int(cfg[key], key, min=0 if key == "warmup" else 1)
    check_fraction(cfg["train_fraction"], "train_fraction", inclusive="neither")
    check_float(cfg["lr"], "lr", min=0, inclusive="neither")
    check_float(cfg["weight_decay"], "weight_decay", min=0)
    betas = cfg["betas"]
    if len(tuple(betas)) != 2 or not all(0 <= float(b) < 1 for b in betas):
        raise ValueError(f"betas must be two numbers in [0, 1), got {betas!r}")
    cfg["betas"] = [float(b) for b in betas]  # JSON-friendly (the cache key)
    cfg["threads"] = None if cfg.get("threads") is None else check_int(cfg["threads"], "threads", min=1)
    return cfg


@contextlib.contextmanager
def _cpu_threads(n: Optional[int], device: torch.device) -> Iterator[None]:
    """Run torch on ``n`` CPU threads inside the block (nothing to do for ``None`` or a GPU)."""
    if n is None or device.type != "cpu":
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _state_copy(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}


def train_modular_addition(config: Mapping[str, Any], seed: int = 0, *, progress: bool = True,
                           device: Optional[torch.device] = None) -> dict[str, Any]:
    """Train one :class:`ModularTransformer` full-batch with AdamW; return plain data.

    Loss: :func:`cross_entropy` on all training pairs each step; AdamW (``lr``, ``betas``,
    decoupled ``weight_decay``) after ``warmup`` steps of linear warm-up, on ``threads`` CPU
    threads if set. A state-dict copy is kept at step 0, every ``checkpoint_every`` steps and at
    the end. Returns
    ``{"steps", "states", "train_loss_per_step", "is_train", "train_seconds"}``.
    """
    cfg = _check_config(config)
    seed = check_seed(seed)
    device = runtime.get_device() if device is None else torch.device(device)
    generator = runtime.seed_everything(seed)
    data = modular_addition_data(cfg["p"], cfg["train_fraction"], seed)
    model = ModularTransformer(cfg["p"], cfg["d_model"], cfg["n_heads"], cfg["d_mlp"],
                               generator=generator).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg["lr"], betas=tuple(cfg["betas"]),
                            weight_decay=cfg["weight_decay"])
    warmup = max(cfg["warmup"], 1)
    schedule = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warmup))
    x, y = data.train_pairs.to(device), data.train_labels.to(device)
    n_steps, every = cfg["steps"], cfg["checkpoint_every"]
    curve = torch.empty(n_steps, dtype=torch.float64, device=device)  # no per-step sync on GPU
    steps, states = [0], [_state_copy(model)]
    start = time.perf_counter()
    with _cpu_threads(cfg["threads"], device):
        for step in progress_bar(range(1, n_steps + 1), desc="grokking", disable=not progress):
            loss = cross_entropy(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            schedule.step()
            curve[step - 1] = loss.detach()
            if step % every == 0 or step == n_steps:
                steps.append(step)
                states.append(_state_copy(model))
    return {"steps": np.array(steps), "states": states, "train_loss_per_step": curve.cpu().numpy(),
            "is_train": data.is_train.numpy(), "train_seconds": time.perf_counter() - start}


# --------------------------------------------------------------------------- Fourier measures
def fourier_basis(p: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Orthonormal Fourier basis of functions on Z_p, rows (p, p).

    Row 0 is the constant ``1/√p``; rows ``2k−1, 2k`` are ``√(2/p)·cos(2πkx/p)`` and
    ``√(2/p)·sin(2πkx/p)`` for ``k = 1 … (p−1)/2``. For odd p these p functions are orthonormal, so
    ``fourier_basis(p) @ f`` are the Fourier coefficients of ``f``.
    """
    p = _prime(p)
    x = torch.arange(p, dtype=torch.float64)
    k = torch.arange(1, (p - 1) // 2 + 1, dtype=torch.float64)[:, None]
    angle = 2 * math.pi * k * x / p
    waves = torch.stack([torch.cos(angle), torch.sin(angle)], dim=1).reshape(p - 1, p)
    basis = torch.cat([torch.full((1, p), 1 / math.sqrt(p), dtype=torch.float64),
                       math.sqrt(2 / p) * waves])
    return basis.to(dtype)


def _number_embedding(source: object) -> torch.Tensor:
    """W_E restricted to the p number tokens, (p, d) or stacked (n, p, d), as float64."""
    if isinstance(source, ModularTransformer):
        return source.W_E.detach()[: source.p].double()
    if isinstance(source, Mapping):
        if "W_E" not in source or "W_U" not in source:
            raise ValueError("a state dict must hold 'W_E' and 'W_U' (a ModularTransformer's)")
        p = source["W_U"].shape[-1]
        return torch.as_tensor(source["W_E"]).detach()[..., :p, :].double()
    if isinstance(source, torch.Tensor):
        if source.ndim not in (2, 3) or not source.dtype.is_floating_point:
            raise ValueError("an embedding must be a float tensor (p, d) or (n, p, d) of the p "
                             f"number tokens, got {tuple(source.shape)} {source.dtype}")
        if not bool(torch.isfinite(source).all()):
            raise ValueError("the embedding contains NaN or inf")
        return source.detach().double()
    raise TypeError("expected a ModularTransformer, its state dict, or an embedding tensor (p, d); "
                    f"got {type(source).__name__}")


def embedding_spectrum(source: object) -> np.ndarray:
    """Norm of the embedding's Fourier component per frequency ``k = 1 … (p−1)/2``.

    ``‖(F W_E)[cos k]‖² + ‖(F W_E)[sin k]‖²`` under the square root, with ``F`` the
    :func:`fourier_basis` and ``W_E`` the p number tokens' embeddings; ``source`` is a model, a
    state dict, an embedding (p, d), or a stack (n, p, d) (then the result is (n, (p−1)/2)).
    """
    emb = _number_embedding(source)
    p = emb.shape[-2]
    coeff = torch.einsum("fx,...xd->...fd", fourier_basis(_prime(p)), emb)
    power = coeff[..., 1:, :].pow(2).sum(-1)                    # drop the constant
    power = power.reshape(*power.shape[:-1], (p - 1) // 2, 2).sum(-1)
    return power.sqrt().numpy()


def key_frequencies(source: object, *, factor: float = 3.0) -> tuple[int, ...]:
    """The frequencies k the embedding concentrates on (the paper's *key frequencies*).

    Rule: the share of the embedding's non-constant Fourier energy at frequency k,
    ``s_k = n_k² / Σ_j n_j²`` (``n`` = :func:`embedding_spectrum`), is compared with the share
    every frequency would get if the energy were spread evenly, ``1/K`` with ``K = (p−1)/2``; k is
    key when ``s_k > factor / K``. A random embedding (at initialisation) has ``s_k ≈ 1/K`` with
    small spread and yields none; a grokked one has a handful of frequencies each holding several
    times its even share (at most ``K / factor`` frequencies can pass). Sorted ascending.
    """
    if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not factor > 1:
        raise ValueError(f"factor must be a number > 1, got {factor!r}")
    norms = embedding_spectrum(source)
    if norms.ndim != 1:
        raise ValueError("key_frequencies takes one embedding (p, d), not a stack")
    energy = norms ** 2
    total = energy.sum()
    if total <= 0:
        return ()
    share = energy / total
    return tuple(int(k) + 1 for k in np.flatnonzero(share > factor / len(share)))


def _sum_directions(p: int, freqs: Sequence[int], dtype: torch.dtype, device: Any) -> torch.Tensor:
    """Orthonormal rows ``cos(w(a+b))``, ``sin(w(a+b))`` over the p² pairs, (2·len(freqs), p²)."""
    a = torch.arange(p, dtype=torch.float64)
    s = (a[:, None] + a[None, :]).reshape(-1)                   # a + b for pair a·p + b
    w = 2 * math.pi * torch.tensor(list(freqs), dtype=torch.float64)[:, None] / p
    rows = torch.cat([torch.cos(w * s), torch.sin(w * s)]) * (math.sqrt(2) / p)
    return rows.to(dtype=dtype, device=device)


def _check_freqs(freqs: Iterable[int], p: int) -> tuple[int, ...]:
    out = tuple(check_int(k, "key_freqs entry") for k in freqs)
    bad = [k for k in out if not 1 <= k <= (p - 1) // 2]
    if bad:
        raise ValueError(f"key_freqs must lie in 1 … {(p - 1) // 2} for p={p}, got {bad}")
    if len(set(out)) != len(out):
        raise ValueError(f"key_freqs must be distinct, got {out}")
    return out


def key_frequency_logits(logits: torch.Tensor, key_freqs: Iterable[int],
                         mlp_logits: Optional[torch.Tensor] = None) -> tuple[torch.Tensor, torch.Tensor]:
    """``(restricted, excluded)`` logits over all p² pairs (pair ``a·p + b``), each (p², p).

    Following the paper (and its released code), the MLP's contribution to the logits is split
    over the input pairs: for each output c, its projection ``P`` onto the functions of (a, b)
    ``cos(w(a+b)), sin(w(a+b))`` for the key frequencies w is the key-frequency part (the paper
    projects the MLP neurons' activations; the projection acts on the pair axis, so it commutes
    with the linear map ``W_out W_U`` to the logits and both give the same result).

    * restricted = ``P·mlp_logits + mean over pairs of logits``: the key frequencies plus a
      constant bias per output, everything else ablated;
    * excluded = ``logits − P·mlp_logits``: the model with only the key frequencies removed.

    ``mlp_logits`` defaults to ``logits`` (treat all of the logits as the MLP's).
    """
    if not isinstance(logits, torch.Tensor) or not logits.dtype.is_floating_point:
        raise TypeError("logits must be a float tensor (p², p)")
    if logits.ndim != 2 or logits.shape[0] != logits.shape[1] ** 2:
        raise ValueError(f"logits must have shape (p², p) over all pairs, got {tuple(logits.shape)}")
    p = _prime(logits.shape[1])
    if not bool(torch.isfinite(logits).all()):
        raise ValueError("logits contain NaN or inf")
    part = logits if mlp_logits is None else mlp_logits
    if not isinstance(part, torch.Tensor) or part.shape != logits.shape:
        raise ValueError(f"mlp_logits must match logits' shape {tuple(logits.shape)}")
    freqs = _check_freqs(key_freqs, p)
    dtype = torch.float64
    logits, part = logits.to(dtype), part.to(dtype)
    if freqs:
        B = _sum_directions(p, freqs, dtype, logits.device)
        key_part = B.T @ (B @ part)
    else:
        key_part = torch.zeros_like(part)
    restricted = key_part + logits.mean(dim=0, keepdim=True)
    excluded = logits - key_part
    return restricted, excluded


def _accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    return float((logits.argmax(-1) == labels).double().mean()) if len(labels) else float("nan")


def progress_measures(states: Sequence[Mapping[str, torch.Tensor]], data: ModularAdditionData,
                      key_freqs: Iterable[int], *, device: Optional[torch.device] = None,
                      progress: bool = False) -> dict[str, np.ndarray]:
    """The paper's progress measures and the losses/accuracies at every checkpoint.

    Each checkpoint runs once on all p² pairs. Returned arrays (one entry per state):

    * ``train_loss``, ``test_loss``; ``train_acc``; ``test_acc`` (mirror-unseen test pairs),
      ``test_acc_all``, ``test_acc_mirror_seen`` (see :func:`mirror_split`);
    * ``restricted_loss``: cross-entropy of the restricted logits (:func:`key_frequency_logits`)
      on the **test** pairs — how well the key-frequency circuit alone generalises;
    * ``excluded_loss``: cross-entropy of the excluded logits on the **training** pairs — how
      much the training performance relies on the key frequencies (rises as the circuit forms);
    * ``weight_norm``: the total squared weight norm ``Σ θ²`` over all parameters;
    * ``embedding_spectrum`` (n, (p−1)/2): :func:`embedding_spectrum` per checkpoint.
    """
    if not isinstance(data, ModularAdditionData):
        raise TypeError(f"data must be ModularAdditionData, got {type(data).__name__}")
    if not len(states):
        raise ValueError("states must not be empty")
    freqs = _check_freqs(key_freqs, data.p)
    device = torch.device("cpu") if device is None else torch.device(device)
    first = states[0]
    d_model, p = first["W_E"].shape[1], data.p
    n_heads, d_mlp = first["W_Q"].shape[0], first["W_in"].shape[1]
    model = ModularTransformer(p, d_model, n_heads, d_mlp).to(device)
    pairs, labels = data.pairs.to(device), data.labels.to(device)
    train, test = data.is_train.to(device), ~data.is_train.to(device)
    seen, unseen = (m.to(device) for m in mirror_split(data))
    names = ("train_loss", "test_loss", "train_acc", "test_acc", "test_acc_all",
             "test_acc_mirror_seen", "restricted_loss", "excluded_loss", "weight_norm")
    out: dict[str, list[float]] = {k: [] for k in names}
    with torch.no_grad():
        for state in progress_bar(states, desc="progress measures", disable=not progress):
            model.load_state_dict(state)
            logits, mlp_logits = model.logits_and_mlp_part(pairs)
            restricted, excluded = key_frequency_logits(logits, freqs, mlp_logits)
            test_logits, test_labels = logits[test], labels[test]
            out["train_loss"].append(float(cross_entropy(logits[train], labels[train])))
            out["test_loss"].append(float(cross_entropy(test_logits, test_labels)))
            out["train_acc"].append(_accuracy(logits[train], labels[train]))
            out["test_acc"].append(_accuracy(test_logits[unseen], test_labels[unseen]))
            out["test_acc_all"].append(_accuracy(test_logits, test_labels))
            out["test_acc_mirror_seen"].append(_accuracy(test_logits[seen], test_labels[seen]))
            out["restricted_loss"].append(float(cross_entropy(restricted[test], test_labels)))
            out["excluded_loss"].append(float(cross_entropy(excluded[train], labels[train])))
            out["weight_norm"].append(float(sum(v.double().pow(2).sum() for v in state.values())))
    result = {k: np.array(v) for k, v in out.items()}
    result["embedding_spectrum"] = embedding_spectrum(torch.stack([s["W_E"][:p] for s in states]))
    return result


# --------------------------------------------------------------------------- phases
@dataclass(frozen=True)
class PhaseBoundaries:
    """Steps at which the three phases end (``None``: not reached within the run).

    memorisation: 0 → ``memorisation_end``; circuit formation: → ``circuit_formation_end`` (the
    key-frequency circuit alone answers held-out pairs); clean-up: → ``cleanup_end`` (the test
    loss collapses — the visible grokking — and weight decay prunes the memorisation).
    """

    memorisation_end: Optional[int]
    circuit_formation_end: Optional[int]
    cleanup_end: Optional[int]

    NAMES = ("memorisation", "circuit formation", "clean-up")

    def as_dict(self) -> dict[str, Optional[int]]:
        return {"memorisation_end": self.memorisation_end,
                "circuit_formation_end": self.circuit_formation_end,
                "cleanup_end": self.cleanup_end}

    def intervals(self) -> list[tuple[str, int, Optional[int]]]:
        """``(phase name, start step, end step)`` for each phase that has started."""
        ends = [self.memorisation_end, self.circuit_formation_end, self.cleanup_end]
        out, start = [], 0
        for name, end in zip(self.NAMES, ends):
            out.append((name, start, end))
            if end is None:
                break
            start = end
        return out


def _curve(values: object, name: str, n: Optional[int]) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1 or not len(arr):
        raise ValueError(f"{name} must be a non-empty 1-D sequence, got shape {arr.shape}")
    if n is not None and len(arr) != n:
        raise ValueError(f"{name} has {len(arr)} values but steps has {n}; all curves must match")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf")
    return arr


def detect_phases(steps: Sequence[int], train_loss: Sequence[float], test_loss: Sequence[float],
                  excluded_loss: Sequence[float], restricted_loss: Sequence[float],
                  weight_norm: Sequence[float], *, fit_loss: float = 0.1,
                  circuit_loss: float = 0.1, grok_loss: float = 0.1,
                  norm_fraction: float = 0.25) -> PhaseBoundaries:
    """Phase boundaries from the measured curves (one value per checkpoint step).

    The rule (thresholds are keyword arguments; losses are cross-entropies in nats):

    1. **memorisation ends** where the excluded loss is lowest, searched from the first checkpoint
       with ``train_loss ≤ fit_loss`` (the training pairs are fitted: mean log-probability of the
       right answer ≥ −0.1) up to the end of circuit formation. Until then training performance
       does not depend on the key frequencies (memorisation); from there on it increasingly
       does — the paper's sign that circuit formation has begun. (If the circuit never forms,
       memorisation ends at the fitting point.)
    2. **circuit formation ends** at the first checkpoint after fitting with
       ``restricted_loss ≤ circuit_loss``: the key-frequency circuit *alone* now answers the
       held-out pairs. Test loss is still high here — memorisation still adds noise on top;
    3. **clean-up ends** at the first later checkpoint ``j`` where ``test_loss ≤ grok_loss`` (the
       model has grokked) and from which on the weight norm no longer falls fast: its relative
       fall rate ``r_i = ln(W_i / W_{i+1}) / (s_{i+1} − s_i)`` stays below ``norm_fraction`` × its
       peak rate after circuit formation (the clean-up's sharp fall) on every interval after ``j``.
       Weight decay has then removed the memorising weights; what remains is a slow drift.

    Each rule is relative to the run's own curves or a loss level in nats, so none needs a
    learning-rate-dependent constant. A boundary that is not reached is ``None`` (and so are the
    later ones); found boundaries strictly increase.
    """
    steps_arr = np.asarray(steps)
    if steps_arr.ndim != 1 or len(steps_arr) < 2:
        raise ValueError("steps must be a 1-D sequence of at least two checkpoint steps")
    if not np.all(np.isfinite(steps_arr)) or np.any(np.diff(steps_arr) <= 0):
        raise ValueError("steps must be finite and strictly increasing")
    n = len(steps_arr)
    train = _curve(train_loss, "train_loss", n)
    test = _curve(test_loss, "test_loss", n)
    excluded = _curve(excluded_loss, "excluded_loss", n)
    restricted = _curve(restricted_loss, "restricted_loss", n)
    norm = _curve(weight_norm, "weight_norm", n)
    if np.any(norm <= 0):
        raise ValueError("weight_norm must be positive")
    for name, value in (("fit_loss", fit_loss), ("circuit_loss", circuit_loss),
                        ("grok_loss", grok_loss), ("norm_fraction", norm_fraction)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(f"{name} must be a positive number, got {value!r}")
    if not norm_fraction < 1:
        raise ValueError(f"norm_fraction must be < 1, got {norm_fraction}")

    def first(mask: np.ndarray, start: int) -> Optional[int]:
        hits = np.flatnonzero(mask[start:])
        return None if not len(hits) else start + int(hits[0])

    i_fit = first(train <= fit_loss, 0)
    i_circuit = None if i_fit is None else first(restricted <= circuit_loss, i_fit + 1)
    if i_fit is None or i_circuit is None:
        i_mem = i_fit
    else:
        i_mem = i_fit + int(np.argmin(excluded[i_fit:i_circuit]))
    i_clean = None
    if i_circuit is not None:
        rate = np.log(norm[:-1] / norm[1:]) / np.diff(steps_arr)   # interval i: s_i → s_{i+1}
        peak = rate[i_circuit:].max()                               # the clean-up's fall
        if peak > 0:
            fast = np.flatnonzero(rate > norm_fraction * peak)
            settled_from = int(fast[-1]) + 1 if len(fast) else 0   # no fast interval after this
            grokked = first(test <= grok_loss, i_circuit + 1)
            if grokked is not None:
                j = max(settled_from, grokked)
                i_clean = j if j < n - 1 else None     # at least one calm interval must follow
    to_step = lambda i: None if i is None else int(steps_arr[i])  # noqa: E731
    return PhaseBoundaries(to_step(i_mem), to_step(i_circuit), to_step(i_clean))


# --------------------------------------------------------------------------- the cached run
@dataclass
class GrokkingRun:
    """The grokking reference run: per-checkpoint measures, phases and the checkpoints.

    Arrays have one entry per checkpoint ``step`` (see :func:`progress_measures` for each one's
    definition). ``embedding_spectrum`` (n, (p−1)/2) is the norm of W_E per Fourier frequency
    ``frequencies``; ``train_mask`` (p²,) marks the training pairs (pair ``a·p + b``).
    """

    config: dict[str, Any]
    step: np.ndarray
    train_loss: np.ndarray
    test_loss: np.ndarray
    train_acc: np.ndarray
    test_acc: np.ndarray
    test_acc_all: np.ndarray
    test_acc_mirror_seen: np.ndarray
    restricted_loss: np.ndarray
    excluded_loss: np.ndarray
    weight_norm: np.ndarray
    embedding_spectrum: np.ndarray
    key_frequencies: tuple[int, ...]
    phases: PhaseBoundaries
    train_mask: np.ndarray
    train_loss_per_step: np.ndarray
    states: list[dict[str, torch.Tensor]] = field(repr=False)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def p(self) -> int:
        return int(self.config["p"])

    @property
    def snapshot_steps(self) -> np.ndarray:
        """The checkpoint steps (the name other chapters' runs use)."""
        return self.step

    @property
    def frequencies(self) -> np.ndarray:
        """The frequencies ``k = 1 … (p−1)/2`` of ``embedding_spectrum``'s columns."""
        return np.arange(1, (self.p - 1) // 2 + 1)

    @property
    def data(self) -> ModularAdditionData:
        """All pairs, labels and this run's train/test split."""
        return ModularAdditionData.from_mask(self.p, self.train_mask)

    def mirror_split(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(mirror-seen, mirror-unseen) masks over ``data.test_pairs`` (:func:`mirror_split`)."""
        return mirror_split(self.data)

    def index_of(self, step: int) -> int:
        """Position of checkpoint ``step`` in the arrays; ``ValueError`` if it is not one."""
        if isinstance(step, bool) or not isinstance(step, (int, np.integer)):
            raise TypeError(f"step must be an int, got {type(step).__name__}")
        hits = np.flatnonzero(self.step == int(step))
        if not len(hits):
            every = self.config["checkpoint_every"]
            raise ValueError(f"step {step} is not a checkpoint; checkpoints are 0, {every}, "
                             f"{2 * every}, … {int(self.step[-1])} ({len(self.step)} steps)")
        return int(hits[0])

    def model_at(self, step: int) -> ModularTransformer:
        """The model at checkpoint ``step``, rebuilt on the CPU in eval mode."""
        state = self.states[self.index_of(step)]
        cfg = self.config
        model = ModularTransformer(cfg["p"], cfg["d_model"], cfg["n_heads"], cfg["d_mlp"])
        model.load_state_dict(state)
        return model.eval()

    def model(self) -> ModularTransformer:
        """The final model."""
        return self.model_at(int(self.step[-1]))

    def grok_step(self, accuracy: float = 0.95) -> Optional[int]:
        """First checkpoint whose mirror-unseen test accuracy reaches ``accuracy`` (None: never)."""
        accuracy = check_fraction(accuracy, "accuracy", inclusive="right")
        hits = np.flatnonzero(self.test_acc >= accuracy)
        return int(self.step[hits[0]]) if len(hits) else None


_ARRAYS = ("train_loss", "test_loss", "train_acc", "test_acc", "test_acc_all",
           "test_acc_mirror_seen", "restricted_loss", "excluded_loss", "weight_norm",
           "embedding_spectrum")


def _compute_run(cfg: dict[str, Any], seed: int, progress: bool) -> dict[str, Any]:
    """Train and measure; return plain data (what the cache stores; phases are found on load)."""
    trained = train_modular_addition(cfg, seed, progress=progress)
    start = time.perf_counter()
    data = ModularAdditionData.from_mask(cfg["p"], trained["is_train"])
    freqs = key_frequencies(trained["states"][-1])
    device = runtime.get_device()
    with _cpu_threads(cfg["threads"], device):
        measures = progress_measures(trained["states"], data, freqs, device=device, progress=progress)
    return {"config": cfg, "step": trained["steps"], "measures": measures,
            "key_frequencies": list(freqs),
            "train_mask": trained["is_train"], "train_loss_per_step": trained["train_loss_per_step"],
            "states": trained["states"],
            "timings": {"train_s": trained["train_seconds"],
                        "measures_s": time.perf_counter() - start}}


def modular_addition_run(seed: int = 0, profile: Optional[str] = None, *, progress: bool = True,
                         **overrides: Any) -> GrokkingRun:
    """The grokking reference run for ``seed`` in ``profile`` (cached through ``course_lib.cache``).

    Trains :class:`ModularTransformer` with the profile's :data:`GROKKING_SETTINGS` (``overrides``
    replace single settings, e.g. ``steps=200`` in a test), measures every checkpoint
    (:func:`progress_measures`) with the final checkpoint's :func:`key_frequencies`, and detects
    the phases (:func:`detect_phases`, re-run on every load: cheap, and a changed rule needs no
    retraining). ``progress`` shows a bar while training (hidden in the book build).
    """
    seed = check_seed(seed)
    settings = runtime.by_profile(GROKKING_SETTINGS, profile)
    unknown = set(overrides) - set(settings)
    if unknown:
        raise ValueError(f"unknown setting(s) {sorted(unknown)}; known: {sorted(settings)}")
    cfg = _check_config({**settings, **overrides})
    key = {**cfg, "seed": seed, "version": _CACHE_VERSION}
    raw = cached("identity-grokking", key, lambda: _compute_run(cfg, seed, progress))
    m, step = raw["measures"], np.asarray(raw["step"])
    phases = detect_phases(step, m["train_loss"], m["test_loss"], m["excluded_loss"],
                           m["restricted_loss"], m["weight_norm"])
    return GrokkingRun(config={**raw["config"], "seed": seed}, step=step,
                       **{k: np.asarray(m[k]) for k in _ARRAYS},
                       key_frequencies=tuple(int(k) for k in raw["key_frequencies"]),
                       phases=phases,
                       train_mask=np.asarray(raw["train_mask"], dtype=bool),
                       train_loss_per_step=np.asarray(raw["train_loss_per_step"]),
                       states=raw["states"], timings=dict(raw["timings"]))
