"""A tiny colour-mixing transformer with an anchored red direction (notebook 2.6).

The seed's next step: a transformer with the same latent structure as the colour autoencoders,
doing one simple colour operation — mixing two colours.

**The mixing rule** (:func:`mix`) is *subtractive*: ``mix(a, b) = a ⊙ b``, the channel-wise product.
It is white light passing through two colour filters one after the other (each passes a share of
each channel), so it is physically meaningful, defined for every pair, symmetric, and stays in
[0, 1]. Unlike the RGB average it **needs the two tokens to interact**: a model that averages the two
tokens' linear embeddings sees only ``a + b``, and ``a ⊙ b`` is not a function of ``a + b``
(:mod:`.mixing_pooled` trains that baseline and estimates the error floor it cannot go below).

**The model** (:class:`MixingTransformer`): each colour is one token, an RGB vector embedded to d
dimensions by a linear map, plus a learned role embedding (first / second colour). Two
pre-activation blocks (multi-head self-attention, then a GELU MLP, each added to the residual stream;
no LayerNorm) written with ``torch.nn`` primitives; the mix is read out from the mean of the two
tokens' final residual streams. ``residuals(pairs)`` returns the stream at the embedding and after
each block; ``head_from(h, layer)`` runs the rest of the model from the stream after ``layer``
blocks (0 = the embedding) — where :mod:`.mixing_layers` measures and edits it.

**Anchoring**: the residual stream of each token right after embedding (``h0``) is pulled towards a
fixed unit direction ``e₀`` with :func:`~.regularisers.anchor_loss` weighted by the token colour's
:func:`~.regularisers.redness`, and non-red tokens are pushed out of that half-space with
:func:`~.regularisers.anti_anchor` weighted by ``1 − redness``. :func:`suppressed_predict` removes
the anchor component from ``h0`` (:func:`~.intervention.suppress`) before the blocks run.

Why not :mod:`.train`: that trainer builds and trains ``ColorAutoencoder`` models (one colour in,
the same colour out, a single latent); a two-token sequence model with a per-token anchor term does
not fit its model factory or its loss, so a short loop lives here (:func:`train_mixer`). Adam's
learning rate follows a cosine decay to 5 % of its start.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Optional

import numpy as np
import torch
from torch import nn

from .. import runtime
from ..cache import cached
from ..checkpoints import CheckpointedRun, as_checkpoint_steps, state_copy
from ..widgets import progress as progress_bar
from ..color import NAMED_HUES, hsv_to_rgb
from .intervention import suppress
from .regularisers import anchor_loss, anti_anchor, redness
from ..validation import check_choice, check_fraction, check_int

__all__ = [
    "MIXING_SETTINGS", "MixingTransformer", "MixingRun", "mix", "mixing_pairs", "train_mixer",
    "cached_mixer", "mixer_sweep", "red_cosines", "suppressed_predict", "pair_damage",
    "named_mixes", "anchor_success", "anchor_direction", "pair_redness", "probe_colours",
    "MuteReport", "mute_report",
]

#: Per-profile settings (one place). ``seeds`` runs per sweep; ``steps`` Adam steps each.
MIXING_SETTINGS = {
    "quick": {"steps": 500, "seeds": 3, "batch": 256, "snap_every": 50},
    "standard": {"steps": 1500, "seeds": 8, "batch": 256, "snap_every": 100},
    "full": {"steps": 4000, "seeds": 32, "batch": 512, "snap_every": 100},
}

#: Default hyperparameters of the model and loss.
DEFAULTS = {"d": 12, "heads": 2, "layers": 2, "lr": 1e-2, "anchor_weight": 0.5, "anti_weight": 0.5,
            "red_k": 2.0}


def _rgb(x: object, name: str) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch tensor of shape (n, 3), got {type(x).__name__}")
    if not x.dtype.is_floating_point:
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {x.dtype}")
    if x.ndim != 2 or x.shape[1] != 3:
        raise ValueError(f"{name} must have shape (n, 3), got {tuple(x.shape)}")
    if not bool(torch.isfinite(x).all()):
        raise ValueError(f"{name} contains NaN or inf")
    if x.numel() and bool(((x < -1e-6) | (x > 1 + 1e-6)).any()):
        raise ValueError(f"{name} must lie in [0, 1]")
    return x


def _pairs(x: object) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"pairs must be a torch tensor of shape (n, 2, 3), got {type(x).__name__}")
    if not x.dtype.is_floating_point:
        raise TypeError(f"pairs must be a floating-point tensor, got dtype {x.dtype}")
    if x.ndim != 3 or x.shape[1:] != (2, 3):
        raise ValueError(f"pairs must have shape (n, 2, 3), got {tuple(x.shape)}")
    if x.shape[0] == 0:
        raise ValueError("pairs is empty")
    if not bool(torch.isfinite(x).all()):
        raise ValueError("pairs contains NaN or inf")
    if bool(((x < -1e-6) | (x > 1 + 1e-6)).any()):
        raise ValueError("pairs must lie in [0, 1]")
    return x


def mix(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The mixing rule: the channel-wise product ``a ⊙ b`` of ``a, b (n, 3)`` in [0, 1] (subtractive:
    light through two filters)."""
    a, b = _rgb(a, "a"), _rgb(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    return a * b


def mixing_pairs(n: int, generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """``n`` random colour pairs ``(n, 2, 3)``: hue uniform, saturation and value uniform in [0.3, 1].

    Drawn in HSV so every hue (red included) is equally common; uniform RGB would make vivid red rare.
    """
    n = check_int(n, "n", min=1)
    u = torch.rand(int(n), 2, 3, generator=generator)
    hsv = torch.stack([u[..., 0], 0.3 + 0.7 * u[..., 1], 0.3 + 0.7 * u[..., 2]], dim=-1)
    return hsv_to_rgb(hsv).float()


class _Block(nn.Module):
    """Self-attention then a GELU MLP, each added to the residual stream (no LayerNorm)."""

    def __init__(self, d: int, heads: int):
        super().__init__()
        self.heads, self.dh = heads, d // heads
        self.qkv = nn.Linear(d, 3 * d)
        self.out = nn.Linear(d, d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        n, t, d = h.shape
        q, k, v = self.qkv(h).view(n, t, 3, self.heads, self.dh).permute(2, 0, 3, 1, 4)
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(self.dh), dim=-1)
        h = h + self.out((att @ v).transpose(1, 2).reshape(n, t, d))
        return h + self.mlp(h)


class MixingTransformer(nn.Module):
    """Two colour tokens in, their mix out. ``forward(pairs (n, 2, 3)) → (n, 3)``.

    ``embed(pairs)`` gives the residual stream after embedding, ``h0 (n, 2, d)`` (where the anchor
    acts); ``head(h0)`` runs the blocks and the read-out from it.
    """

    def __init__(self, d: int = 12, heads: int = 2, layers: int = 1):
        super().__init__()
        for name, v in (("d", d), ("heads", heads), ("layers", layers)):
            check_int(v, name, min=1)
        if d % heads:
            raise ValueError(f"d ({d}) must be divisible by heads ({heads})")
        self.d = d
        self.colour = nn.Linear(3, d)
        self.role = nn.Parameter(torch.zeros(2, d))
        self.blocks = nn.ModuleList(_Block(d, heads) for _ in range(layers))
        self.readout = nn.Linear(d, 3)

    def embed(self, pairs: torch.Tensor) -> torch.Tensor:
        return self.colour(_pairs(pairs)) + self.role

    def residuals(self, pairs: torch.Tensor) -> list[torch.Tensor]:
        """The residual stream ``(n, 2, d)`` at the embedding and after each block (``layers + 1``)."""
        hs = [self.embed(pairs)]
        for block in self.blocks:
            hs.append(block(hs[-1]))
        return hs

    def head_from(self, h: torch.Tensor, layer: int) -> torch.Tensor:
        """Run the blocks after ``layer`` (0 = from the embedding) and the read-out on ``h (n, 2, d)``."""
        check_int(layer, "layer", min=0, max=len(self.blocks))
        for block in self.blocks[layer:]:
            h = block(h)
        return self.readout(h.mean(dim=1))

    def head(self, h0: torch.Tensor) -> torch.Tensor:
        return self.head_from(h0, 0)

    def forward(self, pairs: torch.Tensor) -> torch.Tensor:
        return self.head(self.embed(pairs))


def anchor_direction(d: int) -> torch.Tensor:
    """The fixed anchor for red: the first basis vector ``e₀`` of the d-dim residual stream."""
    a = torch.zeros(d)
    a[0] = 1.0
    return a


def _losses(model: MixingTransformer, pairs: torch.Tensor, anchor: torch.Tensor, cfg: dict):
    h0 = model.embed(pairs)
    mse = ((model.head(h0) - mix(pairs[:, 0], pairs[:, 1])) ** 2).mean()
    tokens = h0.reshape(-1, model.d)
    red = redness(pairs.reshape(-1, 3), k=cfg["red_k"])
    pull = anchor_loss(tokens, anchor, red) if cfg["anchor_weight"] else torch.zeros(())
    push = anti_anchor(tokens, anchor, 1.0 - red) if cfg["anti_weight"] else torch.zeros(())
    total = mse + cfg["anchor_weight"] * pull + cfg["anti_weight"] * push
    return total, mse, pull, push


@dataclass
class MixingRun(CheckpointedRun):
    """One trained mixer: final weights, loss curves and, at each checkpoint, the red tokens'
    cosine and the weights (checkpoint protocol: ``model_at(step)`` raises for an unsaved step)."""

    config: dict
    state: dict
    steps: np.ndarray                 # logged steps
    mse: np.ndarray                   # mixing MSE per logged step
    anchor: np.ndarray                # anchor loss per logged step
    anti: np.ndarray                  # anti-anchor loss per logged step
    checkpoint_steps: np.ndarray      # checkpoint steps (0, snap_every, 2·snap_every, …, steps)
    checkpoint_cos: np.ndarray        # (checkpoints, probes) cosine of probe tokens' h0 to the anchor
    states: list = field(default_factory=list)

    def _model_from(self, index: int) -> MixingTransformer:
        m = MixingTransformer(self.config["d"], self.config["heads"], self.config["layers"])
        m.load_state_dict(self.states[index])
        return m.eval()

    @property
    def direction(self) -> torch.Tensor:
        return anchor_direction(self.config["d"])


def probe_colours(n: int = 24) -> torch.Tensor:
    """``n`` fully saturated hues ``(n, 3)``, red first: the tokens whose cosine the snapshots record."""
    h = torch.arange(n, dtype=torch.float32) / n
    return hsv_to_rgb(torch.stack([h, torch.ones(n), torch.ones(n)], dim=-1)).float()


def red_cosines(model: MixingTransformer, colours: torch.Tensor, role: int = 0) -> torch.Tensor:
    """Cosine of each colour's token (in ``role`` 0 or 1) after embedding to the anchor ``e₀``."""
    colours = _rgb(colours, "colours")
    check_choice(role, "role", (0, 1))
    with torch.no_grad():
        h0 = model.embed(torch.stack([colours, colours], dim=1))[:, role]
    return h0[:, 0] / torch.linalg.vector_norm(h0, dim=1).clamp_min(1e-12)


def train_mixer(seed: int = 0, profile: Optional[str] = None, **overrides) -> MixingRun:
    """Train one mixer with Adam on fresh random pairs each step (a short loop; see module doc).

    ``overrides`` replace :data:`DEFAULTS` or the profile's settings (e.g. ``anchor_weight=0`` for
    the un-anchored control, ``steps=50`` in tests).
    """
    cfg = {**DEFAULTS, **runtime.by_profile(MIXING_SETTINGS, profile)}
    unknown = set(overrides) - set(cfg)
    if unknown:
        raise ValueError(f"unknown setting(s): {sorted(unknown)}")
    cfg.update(overrides)
    with runtime.seeded(seed) as g:     # the module's initial weights are global draws
        model = MixingTransformer(cfg["d"], cfg["heads"], cfg["layers"])
    anchor = anchor_direction(cfg["d"])
    opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * t / cfg["steps"])))
    probes = probe_colours()
    log, snaps_s, snaps_c, snaps_w = [], [], [], []

    def snapshot(step):
        snaps_s.append(step)
        snaps_c.append(red_cosines(model, probes).numpy())
        snaps_w.append(state_copy(model))

    snapshot(0)
    # one thread: a 256-pair step only synchronises a second one (same weights bit for bit)
    with runtime.cpu_threads():
        for step in range(1, cfg["steps"] + 1):
            pairs = mixing_pairs(cfg["batch"], g)
            total, mse, pull, push = _losses(model, pairs, anchor, cfg)
            opt.zero_grad()
            total.backward()
            opt.step()
            sched.step()
            log.append((step, float(mse.detach()), float(pull.detach()), float(push.detach())))
            if step % cfg["snap_every"] == 0 or step == cfg["steps"]:
                snapshot(step)
    arr = np.array(log)
    return MixingRun(config={**cfg, "seed": seed}, state=snaps_w[-1], steps=arr[:, 0].astype(int),
                     mse=arr[:, 1], anchor=arr[:, 2], anti=arr[:, 3], checkpoint_steps=as_checkpoint_steps(snaps_s),
                     checkpoint_cos=np.stack(snaps_c), states=snaps_w)


def cached_mixer(seed: int = 0, profile: Optional[str] = None, **overrides) -> MixingRun:
    """:func:`train_mixer` through the course cache (key: seed, profile settings, overrides)."""
    cfg = {**DEFAULTS, **runtime.by_profile(MIXING_SETTINGS, profile), **overrides, "seed": seed,
           "version": 2, "format": "checkpoints-v1"}
    return cached("curriculum-mixer", cfg, lambda: train_mixer(seed, profile, **overrides))


def mixer_sweep(profile: Optional[str] = None, seeds: Optional[int] = None, progress: bool = True,
                **overrides) -> list[MixingRun]:
    """One cached run per seed ``0 … seeds−1`` (default: the profile's ``seeds``)."""
    n = runtime.by_profile(MIXING_SETTINGS, profile)["seeds"] if seeds is None else seeds
    return [cached_mixer(s, profile, **overrides) for s in progress_bar(range(n), desc="mixers", disable=not progress)]


def suppressed_predict(model: MixingTransformer, pairs: torch.Tensor,
                       anchor: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Predict the mix with each token's lean along ``anchor`` (default ``e₀``) removed from ``h0``.

    Uses :func:`~.intervention.suppress`: tokens leaning away from the anchor are untouched.
    """
    pairs = _pairs(pairs)
    anchor = anchor_direction(model.d) if anchor is None else anchor
    with torch.no_grad():
        h0 = model.embed(pairs)
        n = h0.shape[0]
        h0 = suppress(h0.reshape(-1, model.d), anchor).reshape(n, 2, model.d)
        return model.head(h0)


def pair_damage(model: MixingTransformer, pairs: torch.Tensor) -> torch.Tensor:
    """Per-pair damage ``(n,)``: squared error of the suppressed prediction minus that of the clean one."""
    pairs = _pairs(pairs)
    target = mix(pairs[:, 0], pairs[:, 1])
    with torch.no_grad():
        clean = ((model(pairs) - target) ** 2).mean(dim=1)
    muted = ((suppressed_predict(model, pairs) - target) ** 2).mean(dim=1)
    return muted - clean


def pair_redness(pairs: torch.Tensor, k: float = 2.0) -> torch.Tensor:
    """The redder of the two colours' :func:`redness` ``(n,)``: how much red a mixture contains."""
    pairs = _pairs(pairs)
    return redness(pairs, k=k).amax(dim=1)


def named_mixes(names: Optional[list] = None) -> tuple[list, torch.Tensor]:
    """All unordered pairs (with repeats) of named pure hues → (labels, pairs (n, 2, 3))."""
    names = list(names or ["red", "orange", "yellow", "green", "cyan", "blue", "magenta"])
    bad = [n for n in names if n not in NAMED_HUES]
    if bad:
        raise ValueError(f"unknown colour name(s) {bad}; choose from {list(NAMED_HUES)}")
    rgb = {n: hsv_to_rgb(torch.tensor([NAMED_HUES[n], 1.0, 1.0])).float() for n in names}
    labels, pairs = [], []
    for i, a in enumerate(names):
        for b in names[i:]:
            labels.append(f"{a} + {b}")
            pairs.append(torch.stack([rgb[a], rgb[b]]))
    return labels, torch.stack(pairs)


def anchor_success(run: MixingRun, threshold: float = 0.9) -> bool:
    """Success: pure red's token (both roles) has cosine ≥ ``threshold`` to the anchor at the end."""
    model = run.model()
    red = torch.tensor([[1.0, 0.0, 0.0]])
    return all(float(red_cosines(model, red, r)[0]) >= threshold for r in (0, 1))


@dataclass
class MuteReport:
    """What muting ``e₀`` does to one mixer on a set of pairs (see :func:`mute_report`).

    ``damage_red`` / ``damage_free``: mean ΔMSE over pairs that contain red (pair redness ≥
    ``red_above``) and over red-free pairs (< ``free_below``, absolute values); ``selectivity``: their
    ratio; ``red_cos``: pure red's token cosine to ``e₀``; ``off_cube``: share of red-containing pairs
    whose muted prediction leaves the colour cube by more than 0.05 in some channel."""

    damage_red: float
    damage_free: float
    selectivity: float
    red_cos: float
    off_cube: float


def mute_report(run: MixingRun, pairs: torch.Tensor, *, red_above: float = 0.5,
                free_below: float = 0.05) -> MuteReport:
    """Measure :func:`suppressed_predict` on ``pairs (n, 2, 3)`` for the final model of ``run``."""
    if not isinstance(run, MixingRun):
        raise TypeError(f"run must be a MixingRun, got {type(run).__name__}")
    check_fraction(free_below, "free_below")
    check_fraction(red_above, "red_above")
    if not free_below < red_above:
        raise ValueError(f"need 0 ≤ free_below < red_above ≤ 1, got {free_below}, {red_above}")
    pairs = _pairs(pairs)
    model = run.model()
    r, d = pair_redness(pairs), pair_damage(model, pairs)
    red, free = r >= red_above, r < free_below
    if not bool(red.any()) or not bool(free.any()):
        raise ValueError("pairs must include both red-containing and red-free pairs")
    muted = suppressed_predict(model, pairs[red])
    off = ((muted < -0.05) | (muted > 1.05)).any(dim=1).float().mean()
    dr, df = float(d[red].mean()), float(d[free].abs().mean())
    return MuteReport(damage_red=dr, damage_free=df, selectivity=dr / max(df, 1e-12),
                      red_cos=float(red_cosines(model, torch.tensor([[1.0, 0.0, 0.0]]))[0]),
                      off_cube=float(off))
