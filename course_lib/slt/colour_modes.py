"""Colour modes: susceptibility modes of the colour autoencoders of Chapters 1 and 2, read
against hue.

Two questions (notebook 5.6), on ``estimate_llc``'s weight-restricted chains (one chain set per
component, the same device as 5.4 and 5.5 — never a second sampler):

* **a wheel?** Rows of the (colours × components) susceptibility matrix χ are the 36 pure hues
  (every 10°, S = V = 1). If the device sees the wheel Chapter 1 found in the latents, the hues'
  loadings on the top two SVD modes should trace a loop ordered by hue. Measured by the fit of
  each loading to a first harmonic of hue, u(h) ≈ a + b cos h + c sin h (pooled R² over the two
  modes, :func:`harmonic_r2`), and by Chapter 1's hue-order score and winding number of the 36
  points in the mode plane around their mean (:func:`wheel_stats`);
  each read against **its own chains' noise** (:func:`noise_calibrated_wheel`): the same readings
  of every balanced sign contrast of the 8 chains (35 noise-only matrices, expectation 0), and
  the share of them at or above the real R². Raw R² of different checkpoints are not comparable:
  their noise floors differ;
* **a red mode?** Does one of the top modes of Chapter 2's anchored model concentrate on the hues
  within ±25° of red (:func:`hue_concentration`), where the unanchored control — the same recipe,
  seeds and data with the anchor's weight 0 (:func:`~course_lib.curriculum.anchor_control.\
unanchored_sweep`) — has none?

**Components** (:func:`colour_components`): each hidden layer's 16 neurons (a neuron = its
incoming weights and bias and its outgoing weights), in groups of 4 by **preferred hue** (the
circular mean of the hue, weighted by the neuron's activation over the 36 pure hues at the final
checkpoint; sorted and cut into equal groups), and the same neurons in **size-matched random
groups** (the control that differs only in how neurons are grouped). :class:`ComponentAutoencoder`
holds every neuron's slices as their own parameters — the same function (tested) — so a
component is a list of parameter names.

**Observable.** ℓ_x is the reconstruction error of colour x (:func:`per_colour_mse`), the same
for every model; the posterior is each model's own training loss (for Chapter 2 that includes the
anchor and separation terms). So φ_C (the mean of ℓ over the training colours, minus its value at
w*) is the reconstruction part of the loss — for Chapter 1, the whole loss.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Optional, Sequence

import numpy as np
import torch
from torch import nn

from ..validation import check_int, check_seed
from .components import resolve_step

__all__ = ["ComponentAutoencoder", "per_colour_mse", "probe_hues", "preferred_hues",
           "hue_groups", "neuron_grouping", "colour_components", "ColourSetup", "GROUPINGS",
           "harmonic_r2", "wheel_stats",
           "WheelStats", "wheel_null", "hue_concentration", "concentration_profile",
           "red_share", "RED_WIDTH", "half_difference", "noise_only_wheel", "live_columns",
           "NoiseCalibration", "noise_calibrated_wheel", "noise_split_half", "CalibrationRow",
           "DEAD_REL", "silent_components", "colour_silent", "noise_ratio", "beat_rate",
           "first_harmonic_sv", "WheelTest2D", "wheel_test_2d"]

#: A component whose χ column has norm below this share of the median column norm is dead
#: (a neuron group that never fires: its column is round-off) and is left out of the SVD.
DEAD_REL = 1e-3

#: Half-width (degrees) of the red band a "red mode" concentrates on.
RED_WIDTH = 25.0


# --------------------------------------------------------------------- the re-parametrised model
def _check_cells(cells: Sequence[Sequence[int]], hidden: int, name: str) -> list[np.ndarray]:
    out = [np.asarray(c, dtype=np.int64).reshape(-1) for c in cells]
    if not out or any(len(c) == 0 for c in out):
        raise ValueError(f"{name} must be a non-empty list of non-empty neuron index lists "
                         "(a component mask that selects nothing)")
    flat = np.concatenate(out)
    if len(flat) != hidden or not np.array_equal(np.sort(flat), np.arange(hidden)):
        raise ValueError(f"{name} must partition the {hidden} hidden neurons (each exactly once)")
    return out


class ComponentAutoencoder(nn.Module):
    """Chapter 1's :class:`~course_lib.color.model.ColorAutoencoder` (any activation, latent size
    and normalisation) with each cell of a partition of each hidden layer's neurons held as its
    own parameters — the same function (an MLP layer is a sum over its neurons, so their order
    does not matter).

    Encoder cell j: ``e{j}_in`` (m_j, 3), ``e{j}_b`` (m_j,), ``e{j}_out`` (d, m_j); decoder cell
    j: ``d{j}_in`` (m_j, d), ``d{j}_b`` (m_j,), ``d{j}_out`` (3, m_j); the output biases
    ``enc_bias`` (d,) and ``dec_bias`` (3,). ``forward(x)`` returns ``(reconstruction, z)`` like
    the source, so the source's loss functions apply unchanged. Default cells: one per neuron.
    """

    def __init__(self, source: nn.Module, enc_cells: Optional[Sequence[Sequence[int]]] = None,
                 dec_cells: Optional[Sequence[Sequence[int]]] = None) -> None:
        super().__init__()
        try:
            e0, act, e2, norm = (source.encoder[i] for i in range(4))
            d0, d2 = source.decoder[0], source.decoder[2]
        except (AttributeError, IndexError, TypeError):
            raise TypeError("source must be a ColorAutoencoder (encoder and decoder "
                            "Sequentials)") from None
        if not all(isinstance(m, nn.Linear) for m in (e0, e2, d0, d2)):
            raise TypeError("source must be a ColorAutoencoder (Linear layers at 0 and 2)")
        self.hidden, self.latent_dim = e0.out_features, e2.out_features
        self.act, self.norm = act, norm
        single = [[i] for i in range(self.hidden)]
        self.cells = {
            "e": _check_cells(single if enc_cells is None else enc_cells, self.hidden,
                              "enc_cells"),
            "d": _check_cells(single if dec_cells is None else dec_cells, self.hidden,
                              "dec_cells")}

        def copy(t: torch.Tensor) -> nn.Parameter:
            return nn.Parameter(t.detach().clone())

        for p, first, second in (("e", e0, e2), ("d", d0, d2)):
            for j, c in enumerate(self.cells[p]):
                idx = torch.as_tensor(c)
                setattr(self, f"{p}{j}_in", copy(first.weight[idx]))
                setattr(self, f"{p}{j}_b", copy(first.bias[idx]))
                setattr(self, f"{p}{j}_out", copy(second.weight[:, idx]))
        self.enc_bias = copy(e2.bias)
        self.dec_bias = copy(d2.bias)

    def cell_names(self, layer: str, j: int) -> list[str]:
        """Parameter names of cell ``j`` of ``layer`` ("encoder" or "decoder")."""
        if layer not in ("encoder", "decoder"):
            raise ValueError(f"layer must be 'encoder' or 'decoder', got {layer!r}")
        p = layer[0]
        check_int(j, "j", min=0, max=len(self.cells[p]) - 1)
        return [f"{p}{j}_in", f"{p}{j}_b", f"{p}{j}_out"]

    def _layer(self, p: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        n = len(self.cells[p])
        if n == 1:
            return getattr(self, f"{p}0_in"), getattr(self, f"{p}0_b"), getattr(self, f"{p}0_out")
        return (torch.cat([getattr(self, f"{p}{j}_in") for j in range(n)]),
                torch.cat([getattr(self, f"{p}{j}_b") for j in range(n)]),
                torch.cat([getattr(self, f"{p}{j}_out") for j in range(n)], dim=1))

    def hidden_activations(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(encoder, decoder) hidden activations of colours (n, 3), each (n, hidden), columns
        in the source's neuron order."""
        out = []
        z = None
        for p in ("e", "d"):
            w, b, o = self._layer(p)
            h = self.act((x if p == "e" else z) @ w.T + b)
            if p == "e":
                z = self.norm(h @ o.T + self.enc_bias)
            order = np.argsort(np.concatenate(self.cells[p]))
            out.append(h[:, torch.as_tensor(order)])
        return out[0], out[1]

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if not isinstance(x, torch.Tensor) or x.ndim < 1 or x.shape[-1] != 3:
            raise ValueError("x must be a tensor of shape (n, 3)")
        w, b, o = self._layer("e")
        z = self.norm(self.act(x @ w.T + b) @ o.T + self.enc_bias)
        w, b, o = self._layer("d")
        recon = torch.sigmoid(self.act(z @ w.T + b) @ o.T + self.dec_bias)
        return recon, z


def per_colour_mse(model: nn.Module, batch: tuple) -> torch.Tensor:
    """ℓ_x: each colour's reconstruction error (mean over R, G, B), (batch,)."""
    (x,) = batch
    recon, _ = model(x)
    return ((recon - x) ** 2).mean(dim=-1)


def probe_hues(n: int = 36) -> tuple[torch.Tensor, np.ndarray]:
    """The probes: ``n`` pure hues (S = V = 1) every 360/n degrees, as (RGB (n, 3), hue in
    degrees (n,)); hue 0 is red."""
    from ..color.data import hue_wheel
    from ..color.spaces import hsv_to_rgb

    hsv = hue_wheel(check_int(n, "n", min=3))
    return (torch.tensor(hsv_to_rgb(hsv), dtype=torch.float32),
            np.round(hsv[:, 0] * 360.0, 9))


# --------------------------------------------------------------------------- neuron groupings
def preferred_hues(acts: Any, hue_deg: Any) -> np.ndarray:
    """Each neuron's preferred hue (degrees in [0, 360)): the circular mean of the probes' hues
    weighted by the neuron's activation above its minimum over the probes; NaN for a neuron whose
    activation does not vary (dead, or constant)."""
    a = np.asarray(acts, dtype=float)
    h = np.asarray(hue_deg, dtype=float)
    if a.ndim != 2 or h.ndim != 1 or a.shape[0] != h.shape[0]:
        raise ValueError(f"acts must be (probes, neurons) and hue_deg (probes,), got shapes "
                         f"{a.shape} and {h.shape}")
    w = a - a.min(axis=0)
    rad = np.radians(h)[:, None]
    c, s = (w * np.cos(rad)).sum(0), (w * np.sin(rad)).sum(0)
    out = np.mod(np.degrees(np.arctan2(s, c)), 360.0)
    out[out >= 360.0] = 0.0                       # np.mod(−0.0…01, 360) rounds to 360
    out[w.sum(0) <= 1e-9 * max(1.0, np.abs(a).max())] = np.nan
    return out


def hue_groups(pref: Any, n_groups: int) -> list[np.ndarray]:
    """Neurons sorted by preferred hue (NaN last) and cut into ``n_groups`` equal groups."""
    p = np.asarray(pref, dtype=float)
    n_groups = check_int(n_groups, "n_groups", min=1)
    if p.ndim != 1 or len(p) % n_groups:
        raise ValueError(f"pref must be 1-D with a length divisible by n_groups={n_groups}, "
                         f"got shape {p.shape}")
    order = np.argsort(np.where(np.isnan(p), np.inf, p), kind="stable")
    return [np.sort(g) for g in np.split(order, n_groups)]


@dataclass
class ColourSetup:
    """A :class:`ComponentAutoencoder` whose cells are one grouping's neuron groups, its
    components (name → parameter names), each component's layer and neuron indices, and each
    neuron's preferred hue per layer (degrees; NaN: dead)."""

    model: ComponentAutoencoder
    grouping: str                         # "hue" | "random"
    components: dict[str, list[str]]
    layers: dict[str, str]
    groups: dict[str, np.ndarray]
    preferred: dict[str, np.ndarray]


GROUPINGS = ("hue", "random")


def neuron_grouping(grouping_model: nn.Module, grouping: str = "hue", *, n_groups: int = 4,
                    seed: int = 0) -> tuple[dict[str, dict[str, np.ndarray]],
                                            dict[str, np.ndarray]]:
    """Per hidden layer, ``n_groups`` equal groups of neurons — by preferred hue on
    ``grouping_model`` (``"hue"``) or the same sizes at random (``"random"``, seeded: the control
    that differs only in the grouping) — as {layer: {name: indices}}, and the preferred hues."""
    from .components import random_groups

    if grouping not in GROUPINGS:
        raise ValueError(f"grouping must be one of {GROUPINGS}, got {grouping!r}")
    seed = check_seed(seed)
    ref = ComponentAutoencoder(grouping_model)
    rgb, hue = probe_hues()
    with torch.no_grad():
        acts = dict(zip(("encoder", "decoder"), ref.hidden_activations(rgb)))
    out, prefs = {}, {}
    for k, layer in enumerate(("encoder", "decoder")):
        pref = preferred_hues(acts[layer].numpy(), hue)
        prefs[layer] = pref
        named = {}
        for g in hue_groups(pref, n_groups):
            ph = pref[g][~np.isnan(pref[g])]
            label = f"{layer} {ph.min():.0f}–{ph.max():.0f}°" if len(ph) else f"{layer} dead"
            if 0 < len(ph) < len(g):
                label += f" (+{len(g) - len(ph)} dead)"
            named[label] = g
        if grouping == "random":
            named = {f"{layer} {name}": idx
                     for name, idx in random_groups(named, seed=seed + k).items()}
        out[layer] = named
    return out, prefs


def colour_components(source: nn.Module, grouping_model: Optional[nn.Module] = None,
                      grouping: str = "hue", *, n_groups: int = 4,
                      seed: int = 0) -> ColourSetup:
    """Split ``source`` into neuron-group components, ``n_groups`` per hidden layer
    (:func:`neuron_grouping` measured on ``grouping_model``, default ``source`` — pass the final
    checkpoint to hold the grouping fixed over training)."""
    groups, prefs = neuron_grouping(source if grouping_model is None else grouping_model,
                                    grouping, n_groups=n_groups, seed=seed)
    model = ComponentAutoencoder(source, list(groups["encoder"].values()),
                                 list(groups["decoder"].values()))
    components, layers, idx = {}, {}, {}
    for layer, named in groups.items():
        for j, (name, g) in enumerate(named.items()):
            components[name] = model.cell_names(layer, j)
            layers[name], idx[name] = layer, np.asarray(g)
    return ColourSetup(model, grouping, components, layers, idx, prefs)


# --------------------------------------------------------------------------- wheel statistics
def _loadings_hue(loadings: Any, hue_deg: Any, min_cols: int = 1) -> tuple[np.ndarray, np.ndarray]:
    u = np.asarray(loadings, dtype=float)
    h = np.asarray(hue_deg, dtype=float)
    if u.ndim == 1:
        u = u[:, None]
    if u.ndim != 2 or h.ndim != 1 or u.shape[0] != h.shape[0] or u.shape[1] < min_cols:
        raise ValueError(f"loadings must be (colours, ≥{min_cols} modes) and hue_deg (colours,), "
                         f"got shapes {np.shape(loadings)} and {h.shape}")
    if u.shape[0] < 4:
        raise ValueError(f"need at least 4 colours, got {u.shape[0]}")
    if not (np.all(np.isfinite(u)) and np.all(np.isfinite(h))):
        raise ValueError("loadings and hue_deg must be finite")
    return u, h


def harmonic_r2(loadings: Any, hue_deg: Any) -> float:
    """Pooled R² of a first-harmonic fit u(h) ≈ a + b cos h + c sin h of each column of
    ``loadings`` (colours × modes): 1 − Σ residual² / Σ (u − ū)² over all columns. A wheel —
    two modes that are cos and sin of hue — gives 1; loadings unrelated to hue give ≈ 2/(n − 1)."""
    u, h = _loadings_hue(loadings, hue_deg)
    rad = np.radians(h)
    X = np.stack([np.ones_like(rad), np.cos(rad), np.sin(rad)], axis=1)
    coef, *_ = np.linalg.lstsq(X, u, rcond=None)
    res = ((u - X @ coef) ** 2).sum()
    tot = ((u - u.mean(0)) ** 2).sum()
    return float(1.0 - res / tot) if tot > 0 else 0.0


@dataclass
class WheelStats:
    """The wheel readings of two modes' loadings over hue: pooled first-harmonic ``r2``,
    Chapter 1's ``order`` score and ``winding`` number around the points' mean."""

    r2: float
    order: float
    winding: int


def wheel_stats(loadings: Any, hue_deg: Any) -> WheelStats:
    """:class:`WheelStats` of the first two columns of ``loadings`` (colours × ≥ 2 modes)."""
    from ..color.metrics import hue_order_score, winding_number

    u, h = _loadings_hue(loadings, hue_deg, min_cols=2)
    u2, hue = u[:, :2], np.mod(h / 360.0, 1.0)
    return WheelStats(harmonic_r2(u2, h), hue_order_score(hue, u2, center="mean"),
                      winding_number(hue, u2, center="mean"))


def wheel_null(loadings: Any, hue_deg: Any, *, shuffles: int = 200, seed: int = 0) -> np.ndarray:
    """The shuffled-hue control of :func:`wheel_stats`: (shuffles, 2) of [r2, order] with the
    colours' hue labels permuted (rows of the two loadings kept together)."""
    u, h = _loadings_hue(loadings, hue_deg, min_cols=2)
    shuffles = check_int(shuffles, "shuffles", min=1)
    rng = np.random.default_rng(check_seed(seed))
    out = np.empty((shuffles, 2))
    for i in range(shuffles):
        s = wheel_stats(u[:, :2], rng.permutation(h))
        out[i] = s.r2, s.order
    return out


# --------------------------------------------------------------------------- a red mode?
def _band(hue_deg: np.ndarray, centre: float, width: float) -> np.ndarray:
    d = np.abs(np.mod(hue_deg - centre + 180.0, 360.0) - 180.0)
    return d <= width + 1e-9


def hue_concentration(loading: Any, hue_deg: Any, centre: float = 0.0,
                      width: float = RED_WIDTH) -> float:
    """Share of a mode's squared loading on the hues within ±``width`` degrees of ``centre``,
    after removing the loading's mean over hues (a uniform offset is not "about" any hue):
    Σ_band (u − ū)² / Σ (u − ū)². A mode spread evenly gives the band's share of the hues
    (5/36 ≈ 0.14 for ±25° at 10° steps); a mode that lives on red alone approaches 1."""
    u, h = _loadings_hue(loading, hue_deg)
    if u.shape[1] != 1:
        raise ValueError(f"loading must be one mode (colours,), got shape {np.shape(loading)}")
    if not (0 < float(width) < 180):
        raise ValueError(f"width must be in (0, 180) degrees, got {width}")
    v = (u[:, 0] - u[:, 0].mean()) ** 2
    tot = v.sum()
    if tot <= 0:
        raise ValueError("loading is constant over hue: no concentration is defined")
    return float(v[_band(h, float(centre), float(width))].sum() / tot)


def concentration_profile(loadings: Any, hue_deg: Any, width: float = RED_WIDTH) -> np.ndarray:
    """For each probe hue as centre (columns) and each mode (rows): :func:`hue_concentration`,
    (modes, colours). Red's column against the others is the specificity control: is the mode
    concentrated on *red*, or on whichever hue some mode happens to favour?"""
    u, h = _loadings_hue(loadings, hue_deg)
    return np.array([[hue_concentration(u[:, m], h, c, width) for c in h]
                     for m in range(u.shape[1])])


def red_share(loadings: Any, hue_deg: Any, width: float = RED_WIDTH) -> tuple[float, int]:
    """(the largest red concentration over the modes, the mode that holds it)."""
    prof = concentration_profile(loadings, hue_deg, width)
    h = np.asarray(hue_deg, dtype=float)
    red = int(np.argmin(np.abs(np.mod(h + 180.0, 360.0) - 180.0)))
    m = int(np.argmax(prof[:, red]))
    return float(prof[m, red]), m


# --------------------------------------------------------------------------- the study (5.6)
#: Per-profile settings of notebook 5.6. Chapter 1's watched bottleneck (``colour_run``: seeds,
#: checkpoints by epoch or phase name, both groupings) and Chapter 2's anchored recipe against its
#: unanchored control (the two arms of the same seeds, final checkpoint, quick-profile training
#: in every CPU profile). ``rank``: modes read; ``shuffles``: draws of the shuffled-hue control.
#: The bottleneck's chains: 8 per component (35 balanced sign contrasts for the noise
#: calibration), repeated with each of ``sampler_seeds`` at ``calibration_steps`` (at the final
#: checkpoint with each of ``final_sampler_seeds``), the random grouping with each of its
#: ``partitions``. The bottleneck drops a group where it is silent on the training colours
#: (:func:`colour_silent`) and by no other rule.
COLOUR_SETTINGS: dict[str, dict[str, Any]] = {
    "quick": {"colour": {"seeds": [0], "steps": [0, "wheel_formed", "final"],
                         "sampler": {"num_chains": 8, "num_burnin": 20, "num_draws": 80,
                                     "observe_every": 2},
                         "sampler_seeds": [0], "calibration_steps": [0, "final"],
                         "final_sampler_seeds": [0], "partitions": [0]},
              "anchored": {"run_profile": "quick", "seeds": [0],
                           "sampler": {"num_chains": 4, "num_burnin": 20, "num_draws": 40,
                                       "observe_every": 2}},
              "rank": 3, "shuffles": 200},
    "standard": {"colour": {"seeds": [0, 1], "steps": [0, 100, "wheel_formed", 500, "final"],
                            "sampler": {"num_chains": 8, "num_burnin": 20, "num_draws": 80,
                                        "observe_every": 2},
                            "sampler_seeds": [0, 1], "calibration_steps": [0, "final"],
                            "final_sampler_seeds": [0, 1, 2, 3, 4, 5], "partitions": [0, 1]},
                 "anchored": {"run_profile": "quick", "seeds": [0, 1, 2],
                              "sampler": {"num_chains": 4, "num_burnin": 40, "num_draws": 80,
                                          "observe_every": 2}},
                 "rank": 3, "shuffles": 400},
}
COLOUR_SETTINGS["full"] = COLOUR_SETTINGS["standard"]
#: SGLD settings per model (5.3's γ; ε from 5.3's candidates: its plateau value for the
#: bottleneck, the smaller candidate for the anchored model).
SAMPLERS: dict[str, dict[str, Any]] = {
    "colour": {"epsilon": 1e-3, "gamma": 100.0, "batch_size": None, "seed": 0},
    "anchored": {"epsilon": 1e-4, "gamma": 100.0, "batch_size": None, "seed": 0},
}
ARMS = ("anchored", "unanchored")
_CACHE_VERSION = 1


def _unanchored_loss(model: nn.Module, batch: tuple) -> torch.Tensor:
    """The unanchored arm's training loss: reconstruction MSE plus the separation term at its
    weight (the anchored recipe's loss with the anchor's weight 0)."""
    from ..color.trainer import mse_per_model
    from ..curriculum.anchoring import HYPER, anchored_terms

    (x,) = batch
    recon, z = model(x)
    return mse_per_model(recon, x) + HYPER["separation"] * anchored_terms()["separation"](
        z, x, recon, None)


def _arm_sweep(arm: str, seeds: Sequence[int], run_profile: str) -> Any:
    from ..curriculum import anchor_control, anchoring

    if arm == "anchored":
        return anchoring.anchored_sweep(seeds=list(seeds), profile=run_profile)
    if arm == "unanchored":
        return anchor_control.unanchored_sweep(seeds=list(seeds), profile=run_profile)
    raise ValueError(f"arm must be one of {ARMS}, got {arm!r}")


def _sample(model: nn.Module, loss_fn: Any, data: tuple, components: Mapping[str, list[str]],
            sampler: Mapping[str, Any]) -> dict[str, Any]:
    import time

    from ..runtime import cpu_threads
    from .observables import susceptibilities

    rgb, _ = probe_hues()
    start = time.process_time()
    with cpu_threads():
        sus = susceptibilities(model, loss_fn, per_colour_mse, data, components, (rgb,),
                               **sampler)
    return {"chi": sus.chi, "chain_chi": sus.chain_chi, "components": list(components),
            "wrllc": {k: r.mean for k, r in sus.llc.items()},
            "cpu_seconds": time.process_time() - start, "memory_bytes": sus.memory_bytes}


def colour_chi(seed: int, step: Any, grouping: str = "hue", *,
               sampler: Optional[Mapping[str, Any]] = None, partition: int = 0
               ) -> dict[str, Any]:
    """The (36 pure hues × 8 neuron groups) susceptibility matrix of Chapter 1's watched run
    ``seed`` at checkpoint ``step`` (an epoch, a phase name or "final"), neuron groups from the
    final checkpoint; cached ("slt-colour-modes-chi"). ``partition``: the seed of the random
    grouping (:func:`neuron_grouping`; 0 for "hue"). Keys as :func:`anchored_chi`'s, plus
    ``step``."""
    from ..cache import cached
    from .course_models import colour_run

    seed = check_seed(seed)
    partition = check_seed(partition)
    if grouping not in GROUPINGS:
        raise ValueError(f"grouping must be one of {GROUPINGS}, got {grouping!r}")
    if grouping == "hue" and partition:
        raise ValueError("partition applies to the random grouping only")
    sampler = {**SAMPLERS["colour"],
               **(COLOUR_SETTINGS["quick"]["colour"]["sampler"] if sampler is None else sampler)}
    run = colour_run(seed, "quick", progress=False)
    step = resolve_step(run, step)

    def compute() -> dict[str, Any]:
        setup = colour_components(run.model_at(step), run.model_at(run.final_step), grouping,
                                  seed=partition)
        out = _sample(setup.model, run.loss_fn, run.data, setup.components, sampler)
        return {**out, "layers": setup.layers, "step": step}

    config = {"run": run.key, "step": step, "grouping": grouping, "sampler": sampler,
              "version": _CACHE_VERSION}
    if partition:  # partition 0 keeps the key it always had
        config["partition"] = partition
    return cached("slt-colour-modes-chi", config, compute)


def anchored_chi(arm: str, seed: int, seeds: Sequence[int], *, run_profile: str = "quick",
                 sampler: Optional[Mapping[str, Any]] = None) -> dict[str, Any]:
    """The (36 pure hues × 8 neuron groups by preferred hue) susceptibility matrix of seed
    ``seed`` of Chapter 2's ``arm`` ("anchored" or "unanchored", the sweep over ``seeds``) at its
    final checkpoint, on each arm's own training loss and final data; cached. ``chi``,
    ``chain_chi`` (chains, 36, 8), ``components``, ``layers``, ``wrllc``, ``cpu_seconds``."""
    from ..cache import cached
    from ..curriculum.anchoring import AnchoredRun, anchored_data

    seed = check_seed(seed)
    seeds = [check_seed(s) for s in seeds]
    if seed not in seeds:
        raise ValueError(f"seed {seed} is not one of the sweep's seeds {seeds}")
    sampler = {**SAMPLERS["anchored"],
               **(COLOUR_SETTINGS["quick"]["anchored"]["sampler"] if sampler is None
                  else sampler)}
    sweep = _arm_sweep(arm, seeds, run_profile)
    last = int(sweep.checkpoint_steps[-1])

    def compute() -> dict[str, Any]:
        src = sweep.model_at(last, seed)
        setup = colour_components(src, src, "hue")
        loss = AnchoredRun.loss_fn if arm == "anchored" else _unanchored_loss
        data = (anchored_data(last, {"spread": 1.0}),)
        out = _sample(setup.model, loss, data, setup.components, sampler)
        return {**out, "layers": setup.layers, "step": last}

    config = {"arm": arm, "seed": seed, "seeds": seeds, "run_profile": run_profile,
              "sampler": sampler, "version": _CACHE_VERSION}
    return cached("slt-colour-modes-chi", config, compute)


@dataclass
class ModeReading:
    """One matrix's modes and what 5.6 reads off them: the wheel (``wheel``; the shuffled-hue
    control's 99th percentile of [r2, order] in ``null_q``), the split-half ``reliability`` of the
    top modes, ``red`` (the largest red concentration over the top modes) with red's ``red_rank``
    among the 36 hue centres on that mode (0: no hue beats red), and ``peak_hue`` / ``peak_conc``
    (each top mode's most concentrated hue band). Dead components (:func:`live_columns`) are
    left out of the SVD (``dropped``); ``noise``: the wheel against the chains' own noise
    (:func:`noise_calibrated_wheel`; None with fewer than 8 chains), ``noise_reliability``: the
    same split-half test on two noise-only matrices (:func:`noise_split_half`; None likewise)."""

    model: str                     # "colour" | "anchored" | "unanchored"
    seed: int
    step: int
    grouping: str
    modes: Any
    wheel: WheelStats
    null_q: np.ndarray
    reliability: np.ndarray
    red: float
    red_rank: int
    peak_hue: np.ndarray
    peak_conc: np.ndarray
    wrllc: dict[str, float]
    cpu_seconds: float
    dropped: list[str]
    noise: Optional["NoiseCalibration"] = None
    noise_reliability: Optional[np.ndarray] = None

    @property
    def beats_null(self) -> bool:
        """Both wheel readings above the shuffled-hue control's 99th percentile."""
        return bool(self.wheel.r2 > self.null_q[0] and self.wheel.order > self.null_q[1])


def live_columns(chi: Any, components: Sequence[str], rel: float = DEAD_REL) -> np.ndarray:
    """Boolean mask of the live columns of ``chi`` (probes × components): norm at least ``rel``
    × the median column norm. A dead neuron group's column is round-off, which the SVD's
    column scaling would blow up to full weight."""
    m = np.asarray(chi, dtype=float)
    if m.ndim != 2 or m.shape[1] < 1:
        raise ValueError(f"chi must be (probes, components), got shape {m.shape}")
    if len(list(components)) != m.shape[1]:
        raise ValueError(f"components has {len(list(components))} names for {m.shape[1]} "
                         "columns of chi")
    if not np.all(np.isfinite(m)):
        raise ValueError("chi holds NaN or infinite values")
    if not 0 < float(rel) < 1:
        raise ValueError(f"rel must be in (0, 1), got {rel}")
    norms = np.linalg.norm(m, axis=0)
    med = np.median(norms)
    if med <= 0:
        raise ValueError("chi: the median column is zero (no live components)")
    return norms >= float(rel) * med


def _live(entry: Mapping[str, Any], silent: Sequence[str] = (), roundoff: bool = True
          ) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    """(chi, chain_chi, components) of ``entry`` without its dead columns (``silent`` names and,
    with ``roundoff``, :func:`live_columns`' round-off columns), and the names dropped. ``chi``
    is the chains' mean (:func:`~.components.chain_mean_chi`), never the entry's pooled ``chi``."""
    from .components import chain_mean_chi

    comps = list(entry["components"])
    unknown = set(silent) - set(comps)
    if unknown:
        raise ValueError(f"silent names {sorted(unknown)} are not components of the entry")
    cc = np.asarray(entry["chain_chi"], dtype=float)
    chi = chain_mean_chi(cc)     # the estimator the sign contrasts match (not the pooled chi)
    keep = np.array([c not in set(silent) for c in comps])
    if roundoff:
        keep &= live_columns(chi, comps)
    if not keep.any():
        raise ValueError("every component is silent or dead: nothing left to read")
    return (chi[:, keep], cc[:, :, keep],
            [c for c, k in zip(comps, keep) if k], [c for c, k in zip(comps, keep) if not k])


def silent_components(setup: ColourSetup, x: Any) -> list[str]:
    """Components of ``setup`` none of whose neurons is active (activation ≠ 0) on any row of
    ``x`` (colours, 3), e.g. the training colours: a ReLU group that never fires. Its weights do
    not enter the loss, so its χ column is round-off, which the SVD's column scaling would
    blow up to full weight."""
    xt = torch.as_tensor(np.asarray(x, dtype=np.float32))
    if xt.ndim != 2 or xt.shape[1] != 3 or xt.shape[0] < 1:
        raise ValueError(f"x must be (colours ≥ 1, 3), got shape {tuple(xt.shape)}")
    with torch.no_grad():
        acts = dict(zip(("encoder", "decoder"), setup.model.hidden_activations(xt)))
    return [name for name, idx in setup.groups.items()
            if not bool((acts[setup.layers[name]][:, torch.as_tensor(idx)] != 0).any())]


def colour_silent(seed: int, step: Any, grouping: str = "hue", *, partition: int = 0
                  ) -> list[str]:
    """:func:`silent_components` of Chapter 1's run ``seed`` at checkpoint ``step`` (groups from
    the final checkpoint, as in :func:`colour_chi`; ``partition``: the random grouping's seed)
    on its training colours."""
    from .course_models import colour_run

    run = colour_run(check_seed(seed), "quick", progress=False)
    step = resolve_step(run, step)
    setup = colour_components(run.model_at(step), run.model_at(run.final_step), grouping,
                              seed=check_seed(partition))
    return silent_components(setup, run.data[0])


@dataclass
class NoiseCalibration:
    """A matrix's wheel read against its own chains' noise: the real ``r2`` / ``order`` and the
    same readings of every balanced sign contrast of the chains (``noise_r2`` / ``noise_order``,
    :func:`~course_lib.slt.components.sign_contrasts`: 35 with 8 chains), whose expectation is 0
    and whose noise is the estimate's. ``ratio``: :func:`noise_ratio` of the matrix (≈ 1 for
    pure noise; well above 1, the real matrix is mostly signal and its R² is the signal's)."""

    r2: float
    order: float
    noise_r2: np.ndarray
    noise_order: np.ndarray
    ratio: float = float("nan")

    @property
    def n(self) -> int:
        return int(len(self.noise_r2))

    @property
    def share(self) -> float:
        """Share of the noise-only matrices with R² at or above the real one (0: the real wheel
        beats every one; as a sign-flip p-value that counts the real matrix, (1 + n·share) /
        (n + 1), so share 0 means p ≤ 1/36 with 35 contrasts)."""
        return float(np.mean(self.noise_r2 >= self.r2))

    @property
    def order_share(self) -> float:
        return float(np.mean(self.noise_order >= self.order))

    def quantiles(self) -> tuple[float, float, float]:
        """(median, 99th percentile, max) of the noise-only R²."""
        q = self.noise_r2
        return float(np.median(q)), float(np.quantile(q, 0.99)), float(q.max())

    @property
    def margin(self) -> float:
        """Real R² minus the largest noise-only R² (> 0: beats them all)."""
        return float(self.r2 - self.noise_r2.max())


def noise_ratio(chi: Any, contrasts: Any) -> float:
    """‖χ‖_F / median over the contrasts of ‖contrast‖_F: the matrix's size in units of its
    own noise (each sign contrast has the estimate's noise and no signal). ≈ 1 when χ is pure
    noise; r ≫ 1 means χ is mostly signal, so a noise share near 1 then says the *noise* draws
    the same shape, not that the signal lacks it (the test has no power there)."""
    m = np.asarray(chi, dtype=float)
    c = np.asarray(contrasts, dtype=float)
    if m.ndim != 2 or m.size == 0:
        raise ValueError(f"chi must be a non-empty (probes, components) matrix, got shape "
                         f"{m.shape}")
    if c.ndim != 3 or c.shape[0] < 1 or c.shape[1:] != m.shape:
        raise ValueError(f"contrasts must be (n ≥ 1, {m.shape[0]}, {m.shape[1]}) like chi, got "
                         f"shape {c.shape}")
    if not (np.all(np.isfinite(m)) and np.all(np.isfinite(c))):
        raise ValueError("chi and contrasts must be finite")
    med = float(np.median(np.linalg.norm(c.reshape(len(c), -1), axis=1)))
    if med <= 0:
        raise ValueError("contrasts: the median contrast is zero (no noise to compare with)")
    return float(np.linalg.norm(m) / med)


def beat_rate(rows: Sequence["CalibrationRow"]) -> tuple[int, int, float, float]:
    """(k, n, Wilson 95 % low, high): how many of the calibration ``rows`` (cells) have a wheel
    that beats all of its noise-only matrices (noise share 0)."""
    from ..stats import wilson_interval

    rows = list(rows)
    if not rows or not all(isinstance(r, CalibrationRow) for r in rows):
        raise ValueError("rows must be a non-empty list of CalibrationRow")
    k = sum(r.cal.share == 0 for r in rows)
    low, high = wilson_interval(k, len(rows))
    return k, len(rows), float(low), float(high)


def first_harmonic_sv(m: Any, hue_deg: Any, weights: Any) -> np.ndarray:
    """(σ₁, σ₂): the two singular values of the first-harmonic part of ``m`` (probes ×
    components): each column centred, divided by its ``weights`` entry, and projected on the
    centred (cos h, sin h) of the probe hues. A wheel is two-dimensional: it needs σ₂ too."""
    m = np.asarray(m, dtype=float)
    h = np.radians(np.asarray(hue_deg, dtype=float).reshape(-1))
    w = np.asarray(weights, dtype=float).reshape(-1)
    if m.ndim != 2 or m.shape[0] != h.size or m.shape[0] < 3:
        raise ValueError(f"m must be (probes ≥ 3, components) with one row per hue_deg, got "
                         f"shape {m.shape} and {h.size} hues")
    if w.shape != (m.shape[1],) or not np.all(w > 0):
        raise ValueError(f"weights must be {m.shape[1]} positive numbers, got {w.shape}")
    x = np.stack([np.cos(h), np.sin(h)], 1)
    x = x - x.mean(0)
    proj = x @ np.linalg.pinv(x)
    sv = np.linalg.svd(proj @ ((m - m.mean(0)) / w), compute_uv=False)
    return np.pad(sv[:2], (0, max(0, 2 - sv.size)))


@dataclass
class WheelTest2D:
    """The scale-aware wheel test of one matrix: ``sv`` (σ₁, σ₂) of χ's first-harmonic part
    (:func:`first_harmonic_sv`, columns weighted by χ's own column norms) and ``noise_sv``
    (n, 2) of every balanced sign contrast with the same weights, so the noise keeps its
    scale; ``share``: the first-harmonic share of χ's centred energy (unweighted)."""

    sv: np.ndarray
    noise_sv: np.ndarray
    share: float

    @property
    def n(self) -> int:
        return int(len(self.noise_sv))

    @property
    def p(self) -> np.ndarray:
        """Sign-flip p-values of σ₁ and σ₂: (1 + #contrasts ≥ it) / (n + 1)."""
        return (1 + (self.noise_sv >= self.sv).sum(0)) / (self.n + 1)

    @property
    def noise_share(self) -> float:
        """Share of the contrasts whose σ₂ is at or above the real one (0: beats them all)."""
        return float(np.mean(self.noise_sv[:, 1] >= self.sv[1]))

    @property
    def beats(self) -> bool:
        """σ₂ beats every contrast's (a two-dimensional wheel beyond noise; σ₂ ≤ σ₁)."""
        return self.noise_share == 0.0


def wheel_test_2d(entry: Mapping[str, Any], *, min_chains: int = 8,
                  silent: Sequence[str] = (), roundoff: bool = True) -> WheelTest2D:
    """:class:`WheelTest2D` of a :func:`colour_chi` entry against its balanced sign contrasts
    (the estimate's noise; dead columns dropped as in :func:`noise_calibrated_wheel`). Unlike
    the R² of the top modes, σ keeps the noise's scale, so a matrix whose noise is shaped like
    its signal can still beat it."""
    from .components import sign_contrasts

    min_chains = check_int(min_chains, "min_chains", min=2)
    chi, cc, _, _ = _live(entry, silent, roundoff)
    if cc.ndim != 3 or cc.shape[0] < min_chains:
        raise ValueError(f"chain_chi must hold ≥ {min_chains} chains, got shape {cc.shape}")
    _, hue = probe_hues(cc.shape[1])
    w = np.linalg.norm(chi, axis=0)
    w = np.where(w > 0, w, 1.0)
    sv = first_harmonic_sv(chi, hue, w)
    noise = np.stack([first_harmonic_sv(m, hue, w) for m in sign_contrasts(cc)])
    h = np.radians(hue)
    x = np.stack([np.cos(h), np.sin(h)], 1)
    x = x - x.mean(0)
    mc = chi - chi.mean(0)
    share = float(((x @ np.linalg.pinv(x) @ mc) ** 2).sum() / (mc ** 2).sum())
    return WheelTest2D(sv, noise, share)


def noise_calibrated_wheel(entry: Mapping[str, Any], *, rank: int = 3, min_chains: int = 8,
                           silent: Sequence[str] = (), roundoff: bool = True
                           ) -> NoiseCalibration:
    """The wheel of a :func:`colour_chi` entry's χ and of each balanced sign contrast of its
    chains (the estimate's noise, no signal), read the same way (dead columns dropped, SVD,
    :func:`wheel_stats` of the top two modes; ``silent``: components to leave out, as
    :func:`silent_components` finds them). Needs ≥ ``min_chains`` chains: with 4 there are 3
    contrasts, too few to place a reading among. ``roundoff=False``: drop the ``silent`` names
    only (the bottleneck's rule, the same for every sampler seed of a checkpoint)."""
    from .components import sign_contrasts, svd_modes

    min_chains = check_int(min_chains, "min_chains", min=2)
    chi, cc, comps, _ = _live(entry, silent, roundoff)
    if cc.ndim != 3 or cc.shape[0] < min_chains:
        raise ValueError(f"chain_chi must hold ≥ {min_chains} chains, got shape {cc.shape}")
    _, hue = probe_hues(cc.shape[1])
    real = wheel_stats(svd_modes(chi, comps, rank).loadings, hue)
    contrasts = sign_contrasts(cc)
    noise = [wheel_stats(svd_modes(m, comps, rank).loadings, hue) for m in contrasts]
    return NoiseCalibration(real.r2, real.order, np.array([w.r2 for w in noise]),
                            np.array([w.order for w in noise]),
                            noise_ratio(chi, np.asarray(contrasts)))


def noise_split_half(chain_chi: Any, components: Sequence[str], rank: int) -> np.ndarray:
    """:func:`~course_lib.slt.components.split_half_reliability` of two independent noise-only
    matrices: each half of the chains turned into its own half-difference (first quarter − second
    quarter, third − fourth). What smooth noise alone scores on the split-half test. Needs a
    number of chains divisible by 4."""
    from .components import split_half_reliability

    c = np.asarray(chain_chi, dtype=float)
    if c.ndim != 3 or c.shape[0] < 4 or c.shape[0] % 4:
        raise ValueError(f"chain_chi must be (chains, probes, components) with a number of "
                         f"chains divisible by 4, got shape {c.shape}")
    q = c.shape[0] // 4
    pseudo = np.stack([c[:q].mean(0) - c[q:2 * q].mean(0),
                       c[2 * q:3 * q].mean(0) - c[3 * q:].mean(0)]) / 2
    return split_half_reliability(pseudo, components, rank)


def read_colour_modes(entry: Mapping[str, Any], model: str, seed: int, grouping: str, *,
                      rank: int, shuffles: int, silent: Sequence[str] = (),
                      roundoff: bool = True) -> ModeReading:
    """:class:`ModeReading` of one :func:`colour_chi` / :func:`anchored_chi` entry (``silent``
    and, with ``roundoff``, round-off components left out)."""
    from .components import split_half_reliability, svd_modes

    _, hue = probe_hues()
    chi, cc, comps, dropped = _live(entry, silent, roundoff)
    modes = svd_modes(chi, comps, rank)
    wheel = wheel_stats(modes.loadings, hue)
    null_q = np.quantile(wheel_null(modes.loadings, hue, shuffles=shuffles, seed=seed), 0.99,
                         axis=0)
    rel = split_half_reliability(cc, comps, rank)
    prof = concentration_profile(modes.loadings, hue)
    red, m = red_share(modes.loadings, hue)
    red_rank = int((prof[m] > prof[m, 0] + 1e-12).sum())
    enough = cc.shape[0] >= 8 and cc.shape[0] % 4 == 0
    noise = (noise_calibrated_wheel(entry, rank=rank, silent=silent, roundoff=roundoff)
             if enough else None)
    noise_rel = noise_split_half(cc, comps, rank) if enough else None
    return ModeReading(model, seed, int(entry["step"]), grouping, modes, wheel, null_q, rel, red,
                       red_rank, hue[prof.argmax(1)], prof.max(1), dict(entry["wrllc"]),
                       float(entry["cpu_seconds"]), dropped, noise, noise_rel)


def half_difference(chain_chi: Any) -> np.ndarray:
    """The noise-only control of a susceptibility matrix: (first half of the chains' χ − second
    half's) / chains, from ``chain_chi`` (chains, probes, components) with an even number ≥ 2 of
    chains. Its expectation is exactly 0, and its noise has the same structure as the estimate's
    (smooth in the probe where ℓ_x is): a reading that this matrix also passes is not evidence of
    signal."""
    from .components import sign_contrasts

    if np.ndim(chain_chi) == 3 and np.shape(chain_chi)[0] % 2:
        raise ValueError(f"chain_chi must hold an even number of chains (no chain left out), got "
                         f"shape {np.shape(chain_chi)}")
    return sign_contrasts(chain_chi)[0]   # the first balanced contrast is the half-difference


def noise_only_wheel(entry: Mapping[str, Any], *, rank: int = 3, shuffles: int = 200,
                     seed: int = 0, silent: Sequence[str] = (), roundoff: bool = True
                     ) -> tuple[WheelStats, np.ndarray]:
    """The wheel readings of :func:`half_difference` of a :func:`colour_chi` entry, read exactly
    as :func:`read_colour_modes` reads χ (dead columns dropped): ``(WheelStats, shuffled-hue
    99th percentiles (R², order))``."""
    from .components import svd_modes

    _, cc, comps, _ = _live(entry, silent, roundoff)
    _, hue = probe_hues(cc.shape[1])
    modes = svd_modes(half_difference(cc), comps, rank)
    null_q = np.quantile(wheel_null(modes.loadings, hue, shuffles=shuffles, seed=seed), 0.99,
                         axis=0)
    return wheel_stats(modes.loadings, hue), null_q


@dataclass
class CalibrationRow:
    """One matrix of the noise calibration: training ``seed``, ``sampler_seed``, checkpoint,
    grouping, its :class:`NoiseCalibration` and, for the random grouping, which random
    ``partition`` (the ``seed`` of :func:`neuron_grouping`)."""

    seed: int
    sampler_seed: int
    step: int
    grouping: str
    cal: NoiseCalibration
    partition: int = 0
    #: the scale-aware two-dimensional test of the same matrix (:func:`wheel_test_2d`)
    wheel2d: Optional["WheelTest2D"] = None


@dataclass
class ColourModeStudy:
    """Everything notebook 5.6 shows: ``readings`` of every matrix, the phases of Chapter 1's
    runs, and the wheel readings of the probe colours' own RGB (``input_wheel``: the baseline
    a smooth response to the inputs inherits)."""

    profile: str
    settings: dict[str, Any]
    readings: list[ModeReading]
    phases: dict[int, dict[str, Optional[int]]]
    input_wheel: WheelStats
    calibration: list[CalibrationRow]

    def cells(self, step: int, grouping: str) -> list[CalibrationRow]:
        """The calibration rows at ``step`` ("final" or 0 resolve per seed) and ``grouping``,
        one per (training seed, sampler seed)."""
        out = []
        for row in self.calibration:
            last = max(r.step for r in self.calibration if r.seed == row.seed)
            want = last if step == "final" else step
            if row.step == want and row.grouping == grouping:
                out.append(row)
        if not out:
            raise ValueError(f"no calibration row for step={step!r}, grouping={grouping!r}")
        return out

    def select(self, model: str, grouping: Optional[str] = None, seed: Optional[int] = None,
               step: Optional[int] = None) -> list[ModeReading]:
        out = [r for r in self.readings if r.model == model
               and (grouping is None or r.grouping == grouping)
               and (seed is None or r.seed == seed) and (step is None or r.step == step)]
        if not out:
            raise ValueError(f"no reading for model={model!r}, grouping={grouping!r}, "
                             f"seed={seed!r}, step={step!r}")
        return out

    def cpu_seconds(self) -> float:
        return float(sum(r.cpu_seconds for r in self.readings))

    def rate(self, step: Any, grouping: str) -> tuple[int, int, float, float]:
        """:func:`beat_rate` of :meth:`cells` (every partition of the random grouping)."""
        return beat_rate(self.cells(step, grouping))

    def rate2d(self, step: Any, grouping: str) -> tuple[int, int, float, float]:
        """(k, n, Wilson 95 % low, high): cells of :meth:`cells` whose σ₂ beats all their
        sign contrasts (:attr:`WheelTest2D.beats`)."""
        from ..stats import wilson_interval

        rows = self.cells(step, grouping)
        k = sum(bool(r.wheel2d is not None and r.wheel2d.beats) for r in rows)
        low, high = wilson_interval(k, len(rows))
        return k, len(rows), float(low), float(high)


def input_wheel() -> WheelStats:
    """:func:`wheel_stats` of the probe hues' own RGB, projected on its top two principal axes."""
    rgb, hue = probe_hues()
    x = rgb.numpy().astype(float)
    x = x - x.mean(0)
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    return wheel_stats(x @ vt[:2].T, hue)


def colour_mode_study(profile: Optional[str] = None) -> ColourModeStudy:
    """Notebook 5.6's matrices and readings for ``profile`` (default: the active one)."""
    from ..runtime import by_profile, get_profile
    from .course_models import colour_run

    profile = get_profile() if profile is None else profile
    cfg = by_profile(COLOUR_SETTINGS, profile)
    rank, shuffles = cfg["rank"], cfg["shuffles"]
    readings, phases = [], {}
    c = cfg["colour"]
    for seed in c["seeds"]:
        run = colour_run(seed, "quick", progress=False)
        phases[seed] = dict(run.phases)
        for step in dict.fromkeys(resolve_step(run, s) for s in c["steps"]):
            for grouping in GROUPINGS:
                entry = colour_chi(seed, step, grouping, sampler=c["sampler"])
                readings.append(read_colour_modes(entry, "colour", seed, grouping, rank=rank,
                                                  shuffles=shuffles, roundoff=False,
                                                  silent=colour_silent(seed, step, grouping)))
    calibration = []
    for seed in c["seeds"]:
        run = colour_run(seed, "quick", progress=False)
        for step in dict.fromkeys(resolve_step(run, s) for s in c["calibration_steps"]):
            sseeds = c["final_sampler_seeds"] if step == run.final_step else c["sampler_seeds"]
            for grouping, part in [("hue", 0)] + [("random", p) for p in c["partitions"]]:
                silent = colour_silent(seed, step, grouping, partition=part)
                for ss in sseeds:
                    entry = colour_chi(seed, step, grouping, partition=part,
                                       sampler={**c["sampler"], "seed": ss})
                    cal = noise_calibrated_wheel(entry, rank=rank, silent=silent,
                                                 roundoff=False)
                    w2 = wheel_test_2d(entry, silent=silent, roundoff=False)
                    calibration.append(CalibrationRow(seed, ss, step, grouping, cal, part,
                                                      w2))
    a = cfg["anchored"]
    for arm in ARMS:
        for seed in a["seeds"]:
            entry = anchored_chi(arm, seed, a["seeds"], run_profile=a["run_profile"],
                                 sampler=a["sampler"])
            readings.append(read_colour_modes(entry, arm, seed, "hue", rank=rank,
                                              shuffles=shuffles))
    return ColourModeStudy(profile, cfg, readings, phases, input_wheel(), calibration)
