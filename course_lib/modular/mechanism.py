"""The Fourier mechanism, measured per checkpoint, and the honest (mirror-unseen) losses.

Nanda et al. (2023) state the grokked model's algorithm: its logits are close to
``Σ_w α_w cos(w(a + b − c))`` over the key frequencies w, and each MLP neuron reads mostly one
frequency. These functions measure both, at every checkpoint, so the mechanism is shown rather
than stated; and they measure the losses on the test pairs whose mirror ``(b, a)`` was not
trained on, and what the excluded loss is made of.

* :func:`cos_form_fraction` — the share of the logits' variance (over pairs and answers, each
  pair's mean over answers removed: softmax ignores it) that the best fit
  ``Σ_w α_w cos(w(a + b − c))`` explains;
* :func:`neuron_frequency_fraction` — for each MLP neuron, the share of its activation variance
  over the p² inputs (a, b) explained by its best single frequency k (the 2-D Fourier terms
  built from ``cos k, sin k`` of a and of b: linear in each, and their products);
* :func:`confident_wrong_share` — the share of pairs on which a wrong answer gets more than
  ``threshold`` probability;
* :func:`unseen_losses` — the test and restricted losses on the mirror-unseen test pairs and the
  phases detected on them (cached, cheap);
* :func:`mechanism_measures` — all of them at every checkpoint of a
  :class:`~.run.GrokkingRun` (cached), with the phases detected again on the mirror-unseen
  curves (:class:`MechanismMeasures`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Optional

import numpy as np
import torch

from ..cache import cached
from ..validation import check_float
from ..widgets import progress as progress_bar
from .data import check_prime, mirror_split
from .measures import _check_freqs, fourier_basis, key_frequency_logits
from .model import ModularTransformer, cross_entropy
from .phases import PhaseBoundaries, detect_phases
from .training import fixed_threads

__all__ = ["cos_form_fraction", "neuron_frequency_fraction", "confident_wrong_share", "excluded_rank",
           "MechanismMeasures", "mechanism_measures", "unseen_losses", "neuron_checkpoints",
           "first_step_at", "NEURON_POINTS", "excluded_peak", "half_way_step", "formation_order"]

#: Bump when a change here changes what a cached entry contains.
_MECHANISM_VERSION = 3


def _check_logits(logits: object, name: str = "logits") -> torch.Tensor:
    if not isinstance(logits, torch.Tensor) or not logits.dtype.is_floating_point:
        raise TypeError(f"{name} must be a float tensor (p², p) over all pairs a·p + b")
    if logits.ndim != 2 or logits.shape[0] != logits.shape[1] ** 2:
        raise ValueError(f"{name} must have shape (p², p) over all pairs, got {tuple(logits.shape)}")
    check_prime(logits.shape[1], f"{name}.shape[1] (p)")
    if not bool(torch.isfinite(logits).all()):
        raise ValueError(f"{name} contain NaN or inf")
    return logits.detach().double()


def cos_form_fraction(logits: torch.Tensor, freqs: Iterable[int]) -> tuple[float, np.ndarray]:
    """``(fraction, alphas)``: how much of ``logits`` (p², p) the form ``Σ_w α_w cos(w(a+b−c))`` explains.

    Each pair's mean over the p answers is removed first (softmax does not see it). The functions
    ``cos(2πk(a+b−c)/p)`` of (a, b, c) for distinct k are orthogonal with squared norm p³/2 and sum
    to zero over c, so the least-squares ``α_k = ⟨L, cos_k⟩ / (p³/2)`` and the explained share is
    ``Σ_k ⟨L, cos_k⟩² / (p³/2) / ‖L‖²`` (0 for constant logits). ``freqs``: frequencies k in
    1 … (p−1)/2, e.g. the run's key frequencies (all of them: the best any function of a+b−c alone
    of this cosine form can do).
    """
    L = _check_logits(logits)
    p = L.shape[1]
    ks = _check_freqs(freqs, p)
    L = L - L.mean(dim=1, keepdim=True)
    total = float(L.pow(2).sum())
    if not ks or total == 0.0:
        return 0.0, np.zeros(len(ks))
    x = torch.arange(p, dtype=torch.float64)
    s = (x[:, None] + x[None, :]).reshape(-1)                   # a + b for pair a·p + b
    w = 2 * math.pi * torch.tensor(ks, dtype=torch.float64)[:, None] / p   # (K, 1)
    # ⟨L, cos(w(s − c))⟩ = Σ_pairs cos(ws)·(L cos(wc)) + sin(ws)·(L sin(wc))
    cos_c, sin_c = torch.cos(w * x), torch.sin(w * x)           # (K, p)
    inner = (torch.cos(w * s) * (cos_c @ L.T) + torch.sin(w * s) * (sin_c @ L.T)).sum(dim=1)
    norm2 = p ** 3 / 2
    return float(inner.pow(2).sum() / norm2 / total), (inner / norm2).numpy()


def neuron_frequency_fraction(activations: torch.Tensor, *,
                              dtype: torch.dtype = torch.float64) -> tuple[np.ndarray, np.ndarray]:
    """``(fraction, best_k)`` per neuron for ``activations`` (p², n) over all pairs ``a·p + b``.

    With ``C = F A Fᵀ`` the 2-D Fourier coefficients of a neuron's activations ``A (p, p)``
    (:func:`~.measures.fourier_basis` F on a and on b), frequency k explains the terms built from
    the constant and ``cos k, sin k`` on each axis — ``cos(ka)``, ``sin(kb)``, ``cos(ka)·sin(kb)``, …
    (8 coefficients, the constant excluded). ``fraction[n]`` is the largest share of the neuron's
    variance ``‖A − mean‖²`` one frequency explains, ``best_k[n]`` that k (a dead, constant neuron:
    fraction 0, best_k 0). ``dtype``: the precision of the transform (float32 is twice as fast
    and accurate to ~1e-6 here).
    """
    if not isinstance(activations, torch.Tensor) or not activations.dtype.is_floating_point:
        raise TypeError("activations must be a float tensor (p², n_neurons)")
    if activations.ndim != 2:
        raise ValueError(f"activations must have shape (p², n_neurons), got {tuple(activations.shape)}")
    p = math.isqrt(activations.shape[0])
    if p * p != activations.shape[0]:
        raise ValueError(f"activations' first axis must be p² (all pairs), got {activations.shape[0]}")
    p = check_prime(p, "p (√ of activations' first axis)")
    if not bool(torch.isfinite(activations).all()):
        raise ValueError("activations contain NaN or inf")
    n = activations.shape[1]
    if dtype not in (torch.float32, torch.float64):
        raise ValueError(f"dtype must be torch.float32 or torch.float64, got {dtype}")
    A = activations.detach().to(dtype).reshape(p, p, n)
    A = A - A.mean(dim=(0, 1), keepdim=True)
    total = A.pow(2).sum(dim=(0, 1))                             # (n,)
    F = fourier_basis(p, dtype)
    G = (F @ A.reshape(p, p * n)).reshape(p, p, n)               # transform over a
    K = (p - 1) // 2
    cs = F[1:].reshape(K, 2, p)                                  # (K, 2, p): cos k, sin k rows
    lin_a = G[1:, :, :].sum(dim=1) / math.sqrt(p)                # C[i, 0]: a-only terms, (p−1, n)
    lin_b = torch.einsum("jb,bn->jn", F[1:], G[0])               # C[0, j]: b-only terms, (p−1, n)
    Gk = G[1:].reshape(K, 2, p, n)                               # rows cos k, sin k of a
    prod = torch.einsum("kipn,kjp->kijn", Gk, cs)                # C[(k,i), (k,j)], (K, 2, 2, n)
    energy = (lin_a.pow(2).reshape(K, 2, n).sum(1) + lin_b.pow(2).reshape(K, 2, n).sum(1)
              + prod.pow(2).sum(dim=(1, 2)))                     # (K, n)
    safe = torch.where(total > 0, total, torch.ones_like(total))
    share = torch.where(total > 0, energy / safe, torch.zeros_like(energy))
    best = share.argmax(dim=0)
    fraction = share.max(dim=0).values
    best_k = torch.where(total > 0, best + 1, torch.zeros_like(best))
    return fraction.double().numpy(), best_k.numpy()


def confident_wrong_share(logits: torch.Tensor, labels: torch.Tensor, threshold: float = 0.9) -> float:
    """Share of rows of ``logits`` (batch, p) on which one wrong answer gets more than ``threshold``
    probability (the right answer then gets less than ``1 − threshold``)."""
    if not isinstance(logits, torch.Tensor) or logits.ndim != 2 or not logits.dtype.is_floating_point:
        raise TypeError("logits must be a float tensor (batch, p)")
    if not isinstance(labels, torch.Tensor) or labels.shape != (logits.shape[0],):
        raise ValueError(f"labels must be a tensor ({logits.shape[0]},), one answer per row")
    if not len(labels):
        raise ValueError("logits must hold at least one row")
    threshold = check_float(threshold, "threshold", min=0, max=1, inclusive="neither")
    probs = torch.softmax(logits.detach().double(), dim=-1)
    wrong = probs.clone()
    wrong[torch.arange(len(labels)), labels.long()] = 0.0
    return float((wrong.max(dim=-1).values > threshold).double().mean())


@dataclass
class MechanismMeasures:
    """Per-checkpoint measures of one run (one entry per ``steps``; neuron arrays (n, d_mlp)).

    * ``test_loss_unseen``, ``restricted_loss_unseen``: the test and restricted losses on the
      test pairs whose mirror is not a training pair (the run's ``test_loss`` and
      ``restricted_loss`` use all test pairs);
    * ``cos_fraction``: :func:`cos_form_fraction` of the logits over the key frequencies;
      ``cos_fraction_all``: over all (p−1)/2 frequencies (a ceiling for any such cosine form);
    * ``neuron_fraction``, ``neuron_best_k`` (m, d_mlp): :func:`neuron_frequency_fraction` of the
      MLP neurons at the checkpoints ``neuron_steps`` (m): about :data:`NEURON_POINTS` of them,
      evenly spaced, and the last (the transform costs ~p³·d_mlp per checkpoint);
    * what the excluded loss (the excluded logits on the training pairs) is made of:
      ``excluded_confident_wrong`` and ``excluded_majority_wrong``, :func:`confident_wrong_share`
      at thresholds 0.9 and 0.5; ``excluded_worse_than_uniform``, the share of pairs whose right
      answer gets less than 1/p (a uniform guess's probability); ``excluded_logit_range``, the
      median over pairs of max − min of the excluded logits (nats: how sharp its softmax can be);
    * ``phases_unseen``: :func:`~.phases.detect_phases` on the mirror-unseen test and restricted losses.
    """

    steps: np.ndarray
    test_loss_unseen: np.ndarray
    restricted_loss_unseen: np.ndarray
    cos_fraction: np.ndarray
    cos_fraction_all: np.ndarray
    neuron_steps: np.ndarray
    neuron_fraction: np.ndarray
    neuron_best_k: np.ndarray
    excluded_confident_wrong: np.ndarray
    excluded_majority_wrong: np.ndarray
    excluded_worse_than_uniform: np.ndarray
    excluded_logit_range: np.ndarray
    phases_unseen: PhaseBoundaries

    def index(self, step: int) -> int:
        """The checkpoint index of ``step`` (ValueError if it is not a checkpoint)."""
        hits = np.flatnonzero(self.steps == step)
        if not len(hits):
            raise ValueError(f"step {step} is not a checkpoint")
        return int(hits[0])


_ARRAYS = ("test_loss_unseen", "restricted_loss_unseen", "cos_fraction", "cos_fraction_all",
           "neuron_steps", "neuron_fraction", "neuron_best_k", "excluded_confident_wrong",
           "excluded_majority_wrong", "excluded_worse_than_uniform", "excluded_logit_range")

#: About how many checkpoints the neuron spectra are measured at: every checkpoint of the course's
#: runs (91 in quick, 61 in standard; 0.02 s / 0.16 s each), so "the neurons lag the logits" is read
#: at the logits' own resolution, not every fifth checkpoint.
NEURON_POINTS = 200


def neuron_checkpoints(n: int, points: int = NEURON_POINTS) -> np.ndarray:
    """Indices of about ``points`` evenly spaced checkpoints out of ``n``, always the first and last."""
    stride = max(1, math.ceil((n - 1) / max(points - 1, 1)))
    return np.unique(np.r_[np.arange(0, n, stride), n - 1])


def _check_run(run: Any) -> Any:
    from .run import GrokkingRun  # noqa: PLC0415 - run imports nothing from here; avoid a cycle
    if not isinstance(run, GrokkingRun):
        raise TypeError(f"run must be a GrokkingRun, got {type(run).__name__}")
    return run


def _run_key(run: Any) -> dict[str, Any]:
    return {**run.config, "key_frequencies": list(run.key_frequencies),
            "mechanism_version": _MECHANISM_VERSION}


def _each_checkpoint(run: Any, progress: bool, desc: str):
    """Yield ``(index, model, logits, mlp_logits)`` for every checkpoint of ``run`` (no grad)."""
    cfg, pairs = run.config, run.data.pairs
    model = ModularTransformer(run.p, cfg["d_model"], cfg["n_heads"], cfg["d_mlp"])
    with torch.no_grad():
        for i, state in enumerate(progress_bar(run.states, desc=desc, disable=not progress)):
            model.load_state_dict(state)
            yield (i, model, *model.logits_and_mlp_part(pairs))


def _threads(run: Any, compute: Any, *args: Any) -> Any:
    """``compute(run, *args)`` on the run's ``threads`` (quick: one). Its small passes only wait on
    each other on two threads of a busy 2-core machine: the mechanism measures of one quick run took
    135 s there, against 3 s on one thread."""
    with fixed_threads(run.config.get("threads"), torch.device("cpu")):
        return compute(run, *args)


def _compute_unseen(run: Any, progress: bool) -> dict[str, np.ndarray]:
    data = run.data
    test = ~data.is_train
    _, unseen = mirror_split(data)
    labels = data.labels[test][unseen]
    out: dict[str, list] = {"test_loss_unseen": [], "restricted_loss_unseen": []}
    for _, _, logits, mlp_logits in _each_checkpoint(run, progress, "mirror-unseen losses"):
        restricted, _ = key_frequency_logits(logits, run.key_frequencies, mlp_logits)
        out["test_loss_unseen"].append(float(cross_entropy(logits[test][unseen], labels)))
        out["restricted_loss_unseen"].append(float(cross_entropy(restricted[test][unseen], labels)))
    return {k: np.asarray(v) for k, v in out.items()}


def unseen_losses(run: Any, *, progress: bool = False) -> tuple[np.ndarray, np.ndarray, PhaseBoundaries]:
    """``(test_loss_unseen, restricted_loss_unseen, phases_unseen)`` of a
    :class:`~.run.GrokkingRun` (cached; one forward pass per checkpoint): the test and restricted
    losses on the mirror-unseen test pairs, and :func:`~.phases.detect_phases` run on them in place
    of the all-test-pairs curves."""
    run = _check_run(run)
    raw = cached("identity-grokking-unseen", _run_key(run), lambda: _threads(run, _compute_unseen, progress))
    test, restricted = np.asarray(raw["test_loss_unseen"]), np.asarray(raw["restricted_loss_unseen"])
    phases = detect_phases(run.checkpoint_steps, run.train_loss, test, run.excluded_loss,
                           restricted, run.weight_norm)
    return test, restricted, phases


_MECH_ARRAYS = tuple(k for k in _ARRAYS if k not in ("test_loss_unseen", "restricted_loss_unseen"))


def _compute(run: Any, progress: bool) -> dict[str, np.ndarray]:
    data, freqs = run.data, run.key_frequencies
    all_k = tuple(range(1, (run.p - 1) // 2 + 1))
    train_labels = data.labels[data.is_train]
    rows = torch.arange(len(train_labels))
    out: dict[str, list] = {k: [] for k in _MECH_ARRAYS}
    neuron_at = set(neuron_checkpoints(len(run.states)).tolist())
    for i, model, logits, mlp_logits in _each_checkpoint(run, progress, "mechanism"):
        _, excluded = key_frequency_logits(logits, freqs, mlp_logits)
        out["cos_fraction"].append(cos_form_fraction(logits, freqs)[0])
        out["cos_fraction_all"].append(cos_form_fraction(logits, all_k)[0])
        ex = excluded[data.is_train]
        out["excluded_confident_wrong"].append(confident_wrong_share(ex, train_labels, 0.9))
        out["excluded_majority_wrong"].append(confident_wrong_share(ex, train_labels, 0.5))
        right = torch.softmax(ex.double(), -1)[rows, train_labels]
        out["excluded_worse_than_uniform"].append(float((right < 1.0 / run.p).double().mean()))
        out["excluded_logit_range"].append(float((ex.max(-1).values - ex.min(-1).values).median()))
        if i in neuron_at:
            frac, best = neuron_frequency_fraction(model.mlp_activations(data.pairs), dtype=torch.float32)
            out["neuron_steps"].append(int(run.checkpoint_steps[i]))
            out["neuron_fraction"].append(frac.astype(np.float32))
            out["neuron_best_k"].append(best.astype(np.int16))
    return {k: np.asarray(v) for k, v in out.items()}


def mechanism_measures(run: Any, *, progress: bool = False) -> MechanismMeasures:
    """:class:`MechanismMeasures` of ``run`` (a :class:`~.run.GrokkingRun`) at every checkpoint, cached.

    Keyed by the run's config, seed and key frequencies (entries of their own: the run's cache
    entry is untouched).
    """
    run = _check_run(run)
    test, restricted, phases = unseen_losses(run, progress=progress)
    raw = cached("identity-grokking-mechanism", _run_key(run), lambda: _threads(run, _compute, progress))
    return MechanismMeasures(steps=np.asarray(run.checkpoint_steps), test_loss_unseen=test,
                             restricted_loss_unseen=restricted,
                             **{k: np.asarray(raw[k]) for k in _MECH_ARRAYS}, phases_unseen=phases)


def excluded_peak(run: Any) -> dict[str, float]:
    """The excluded loss at its peak checkpoint of ``run`` and what it is made of there, from one
    forward pass (cheap, uncached): ``loss``, ``step``, ``ratio`` (loss / ln p),
    ``worse_than_uniform`` (share of training pairs whose right answer gets less than 1/p),
    ``right_z`` (mean over pairs of the right answer's z-score within its row of excluded
    logits, (ℓ_y − mean ℓ) / std ℓ), ``wrong_above`` (mean share of the p − 1 wrong answers
    whose logit is above the right answer's) and ``random_label_loss`` (the expected loss if
    the right answer were a uniformly random label, mean over rows of logsumexp ℓ − mean ℓ)."""
    return _threads(_check_run(run), _excluded_peak)


def _excluded_peak(run: Any) -> dict[str, float]:
    i = int(np.argmax(run.excluded_loss))
    cfg, data = run.config, run.data
    model = ModularTransformer(run.p, cfg["d_model"], cfg["n_heads"], cfg["d_mlp"])
    model.load_state_dict(run.states[i])
    with torch.no_grad():
        logits, mlp_logits = model.logits_and_mlp_part(data.pairs)
        _, excluded = key_frequency_logits(logits, run.key_frequencies, mlp_logits)
        labels = data.labels[data.is_train]
        right = torch.softmax(excluded[data.is_train].double(), -1)[torch.arange(len(labels)), labels]
        loss = float(run.excluded_loss[i])
        out = {"loss": loss, "step": int(run.checkpoint_steps[i]), "ratio": loss / math.log(run.p),
               "worse_than_uniform": float((right < 1.0 / run.p).double().mean())}
        out.update(excluded_rank(excluded[data.is_train], labels))
        # Two mechanism numbers the notebook quotes, at one checkpoint each: the cos form's share at
        # circuit formation's end and the median neuron's best-frequency share at the last step.
        if run.phases.circuit_formation_end is not None:
            model.load_state_dict(run.states[run.checkpoint_index(run.phases.circuit_formation_end)])
            out["cos_at_circuit_end"] = cos_form_fraction(model(data.pairs), run.key_frequencies)[0]
        model.load_state_dict(run.states[-1])
        frac, _ = neuron_frequency_fraction(model.mlp_activations(data.pairs), dtype=torch.float32)
        out["final_neuron_share"] = float(np.median(frac))
    return out


def excluded_rank(logits: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
    """Where the right answer sits within each row of ``logits`` (n, p): ``right_z``, the mean
    of (ℓ_y − mean ℓ) / std ℓ; ``wrong_above``, the mean share of the p − 1 wrong answers with
    a larger logit; ``random_label_loss``, the mean of logsumexp ℓ − mean ℓ, the cross-entropy
    a uniformly random label would cost (by Jensen it exceeds ln p when the rows are spread)."""
    if logits.ndim != 2 or labels.shape != (logits.shape[0],) or logits.shape[1] < 2:
        raise ValueError(f"logits must be (n, p ≥ 2) and labels (n,), got "
                         f"{tuple(logits.shape)} and {tuple(labels.shape)}")
    x = logits.double()
    right = x[torch.arange(len(labels)), labels]
    z = (right - x.mean(-1)) / x.std(-1)
    above = (x > right[:, None]).double().sum(-1) / (x.shape[1] - 1)
    rand = torch.logsumexp(x, -1) - x.mean(-1)
    return {"right_z": float(z.mean()), "wrong_above": float(above.mean()),
            "random_label_loss": float(rand.mean())}


def half_way_step(steps: np.ndarray, values: np.ndarray) -> Optional[int]:
    """First step at which ``values`` has covered half of its way from the first to the last entry,
    ``v − v[0] ≥ (v[-1] − v[0]) / 2`` (None if it never rises). Used to compare when the logits'
    cos form and the median neuron's best-frequency share form, each from its own starting level
    (a random neuron already has ~10 % in one frequency; random logits ~0 % in the cos form)."""
    steps, values = np.asarray(steps), np.asarray(values, dtype=float)
    if steps.shape != values.shape or steps.ndim != 1 or not len(steps):
        raise ValueError("steps and values must be 1-D of the same, non-zero length")
    rise = values[-1] - values[0]
    if not rise > 0:
        return None
    return int(steps[np.flatnonzero(values - values[0] >= rise / 2)[0]])


def first_step_at(steps: np.ndarray, values: np.ndarray, level: float, *, above: bool = True,
                  start: Optional[int] = None) -> Optional[int]:
    """First step (from ``start``, a step, on) at which ``values`` is above (or below) ``level``."""
    steps, values = np.asarray(steps), np.asarray(values, dtype=float)
    if steps.shape != values.shape or steps.ndim != 1:
        raise ValueError("steps and values must be 1-D of the same length")
    level = check_float(level, "level")
    mask = values > level if above else values < level
    if start is not None:
        mask &= steps >= start
    hits = np.flatnonzero(mask)
    return int(steps[hits[0]]) if len(hits) else None


def formation_order(run: Any, mech: MechanismMeasures) -> dict[str, float]:
    """When the mechanism's two parts form, in one run: ``cos_half`` and ``neuron_half``, the
    :func:`half_way_step` of the logits' cos form share and of the median neuron's best-frequency
    share; ``lag`` = neuron_half − cos_half (steps; > 0: the neurons lag the logits); ``cos_at_grok``,
    the cos form's share at the first step with honest accuracy ≥ 95 % (NaN if never)."""
    cos_half = half_way_step(mech.steps, mech.cos_fraction)
    neuron_half = half_way_step(mech.neuron_steps, np.median(mech.neuron_fraction, axis=1))
    grok = run.grok_step(0.95)
    nan = float("nan")
    return {"cos_half": nan if cos_half is None else float(cos_half),
            "neuron_half": nan if neuron_half is None else float(neuron_half),
            "lag": nan if None in (cos_half, neuron_half) else float(neuron_half - cos_half),
            "cos_at_grok": nan if grok is None else float(mech.cos_fraction[mech.index(grok)])}
