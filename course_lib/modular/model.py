"""Nanda et al.'s one-layer transformer for modular addition, and the loss it is trained with.

* :class:`ModularTransformer` — token + position embeddings, one attention layer, one ReLU MLP,
  no LayerNorm, logits read at the ``=`` position.
* :func:`cross_entropy` — the mean cross-entropy with the log-softmax in float64.

**Speed.** Only the ``=`` position's output is read, and the ``=`` token and its position are the
same in every input, so the one query that matters is a constant. Keys, values and the attention
scores of each of the p number tokens at positions 0 and 1 are computed once per step as small
tables and gathered per pair (:meth:`ModularTransformer.forward`), instead of running full
attention over all three positions (:meth:`ModularTransformer.forward_all_positions`, the
textbook form, which gives the same logits). ``benchmarks/grokking_speed.py`` measures the gain.
``torch.compile`` was slower on CPU and is not used.
"""

from __future__ import annotations

import math
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from ..validation import check_int
from .data import check_prime

__all__ = ["ModularTransformer", "cross_entropy"]


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
        self.p = check_prime(p)
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

    def mlp_activations(self, pairs: torch.Tensor) -> torch.Tensor:
        """The MLP neurons' activations ``ReLU(x W_in + b_in)`` at the ``=`` position, (batch, d_mlp)."""
        pairs = self._check_pairs(pairs)
        resid = self.W_E[self.p] + self.W_pos[2] + self._attention_out(pairs)
        return F.relu(torch.addmm(self.b_in, resid, self.W_in))

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
