"""Did a wheel form? Numbers that answer it from latents alone.

All functions take numpy arrays (``hue`` of shape (N,), ``z`` of shape (N, d≥2)) and look only at
the angle of the first two latent dims around the origin. Walking around the hue circle in order,
a wheel's latent angle moves steadily one way and comes back to the start after one full turn:

* :func:`hue_order_score` — fraction of steps that go the dominant way (1.0 = perfectly ordered);
* :func:`winding_number` — how many times the latents go round the origin (±1 for a wheel);
* :func:`band_gap` — where the largest empty arc is, and whether held-out hues fall into it.
"""

from __future__ import annotations

import numpy as np
from ..stats import format_rate
from ..validation import check_fraction

from .data import HELD_OUT_BAND, in_band

__all__ = [
    "latent_angles",
    "hue_order_score",
    "winding_number",
    "is_wheel",
    "band_gap",
    "wrap_angle",
    "arc_sweep",
    "wheel_report",
    "transition_epoch",
    "transition_epochs",
    "transition_summary",
    "format_transitions",
]


def wrap_angle(theta: np.ndarray) -> np.ndarray:
    """Wrap angles (radians) to (−π, π]."""
    wrapped = np.mod(theta + np.pi, 2 * np.pi) - np.pi  # in [−π, π)
    return np.where(wrapped <= -np.pi, wrapped + 2 * np.pi, wrapped)


def _as_latents(z: object, name: str = "z") -> np.ndarray:
    if hasattr(z, "detach"):  # a torch tensor: accept it, the caller means the numbers
        z = z.detach().cpu().numpy()
    if not isinstance(z, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(z).__name__}")
    if z.ndim < 1 or z.shape[-1] < 2:
        raise ValueError(f"{name} must have shape [..., d] with d ≥ 2, got {z.shape}")
    z = z.astype(np.float64, copy=False)
    if not np.isfinite(z).all():
        raise ValueError(f"{name} contains NaN or inf")
    return z


def _as_pair(hue: object, z: object, min_n: int = 2) -> tuple[np.ndarray, np.ndarray]:
    if hasattr(hue, "detach"):
        hue = hue.detach().cpu().numpy()
    if not isinstance(hue, np.ndarray):
        raise TypeError(f"hue must be a numpy array, got {type(hue).__name__}")
    z = _as_latents(z)
    if hue.ndim != 1 or z.ndim != 2 or len(hue) != len(z):
        raise ValueError(f"hue must have shape (N,) and z shape (N, d); got {hue.shape} and {z.shape}")
    hue = hue.astype(np.float64, copy=False)
    if not np.isfinite(hue).all():
        raise ValueError("hue contains NaN or inf")
    if len(hue) < min_n:
        raise ValueError(f"need at least {min_n} samples, got {len(hue)}")
    return np.mod(hue, 1.0), z


def latent_angles(z: np.ndarray) -> np.ndarray:
    """Angle atan2(z₁, z₀) of the first two latent dims, in (−π, π], shape ``z.shape[:-1]``."""
    z = _as_latents(z)
    return np.arctan2(z[..., 1], z[..., 0])


def _centered(z: np.ndarray, center: str) -> np.ndarray:
    if center == "origin":
        return z
    if center == "mean":
        return z - z.mean(axis=0, keepdims=True)
    raise ValueError(f"center must be 'origin' or 'mean', got {center!r}")


def _ordered_steps(hue: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Wrapped angle steps between hue-consecutive latents, around the whole cycle.

    Samples sharing a hue (e.g. the same hue at two brightnesses) are merged first by the
    circular mean of their angles, so duplicates do not add meaningless zero-length steps.
    """
    unique_hue, inverse = np.unique(np.round(hue, 12), return_inverse=True)
    angles = latent_angles(z)
    if len(unique_hue) < len(hue):
        cos = np.bincount(inverse, np.cos(angles), minlength=len(unique_hue))
        sin = np.bincount(inverse, np.sin(angles), minlength=len(unique_hue))
        angles = np.arctan2(sin, cos)
    else:
        angles = angles[np.argsort(hue, kind="stable")]
    if len(angles) < 2:
        raise ValueError("need at least 2 distinct hues")
    return wrap_angle(np.diff(np.append(angles, angles[0])))


def hue_order_score(hue: np.ndarray, z: np.ndarray, center: str = "origin") -> float:
    """Fraction of hue-consecutive latent steps that turn in the dominant direction, in [0, 1].

    Sort samples by hue, step around the cycle (last → first included), wrap each angular step
    to (−π, π], and count how many have the majority sign. 1.0: the latent circle visits the
    hues in order; ≈ 0.5: no order at all.

    Angles are taken around the origin (``center="origin"``: "hue is the latent's angle"), or
    around the latents' own mean (``center="mean"``: "the latents form an ordered loop anywhere").
    """
    hue, z = _as_pair(hue, z)
    steps = _ordered_steps(hue, _centered(z, center))
    positive = int(np.sum(steps > 0))
    negative = int(np.sum(steps < 0))
    return max(positive, negative) / len(steps)


def winding_number(hue: np.ndarray, z: np.ndarray, center: str = "origin") -> int:
    """How many times the latents circle the origin as hue goes once round: Σ steps / 2π.

    +1 (counter-clockwise) or −1 (clockwise) for a wheel, 0 for a blob or an arc, 2 for a
    curve that wraps twice. ``center`` as in :func:`hue_order_score`.
    """
    hue, z = _as_pair(hue, z)
    steps = _ordered_steps(hue, _centered(z, center))
    return int(np.rint(np.sum(steps) / (2 * np.pi)))


def is_wheel(
    hue: np.ndarray, z: np.ndarray, min_score: float = 0.95, center: str = "origin"
) -> bool:
    """A wheel: winds exactly once (either way) and ``hue_order_score ≥ min_score``."""
    check_fraction(min_score, "min_score")
    return (
        abs(winding_number(hue, z, center)) == 1
        and hue_order_score(hue, z, center) >= min_score
    )


def band_gap(
    hue: np.ndarray, z: np.ndarray, band: tuple[float, float] = HELD_OUT_BAND
) -> dict[str, float]:
    """Find the largest empty arc among the latents of hues *outside* ``band``.

    Returns ``largest_gap_deg`` (width of that arc, degrees), ``band_inside_gap`` (fraction of
    in-band latents whose angle lies inside the arc; NaN if no in-band samples were given) and
    ``gap_center_hue`` (the hue half-way between the two outside hues that bound the arc).
    A model that learned a wheel while never seeing the band leaves a wide gap whose centre hue
    is near the band's centre, and puts the band's hues (when probed) inside it.
    """
    hue, z = _as_pair(hue, z)
    inside = in_band(hue, band)
    outside = ~inside
    if outside.sum() < 2:
        raise ValueError("need at least 2 samples outside the band to measure a gap")
    out_angles = latent_angles(z[outside])
    out_hues = hue[outside]
    order = np.argsort(out_angles, kind="stable")
    sorted_angles, sorted_hues = out_angles[order], out_hues[order]
    # counter-clockwise gap from each sorted angle to the next (the last wraps round to the first)
    gaps = np.mod(np.roll(sorted_angles, -1) - sorted_angles, 2 * np.pi)
    if len(gaps) and np.all(gaps == 0):
        gaps[-1] = 2 * np.pi  # every latent at one angle: the rest of the circle is empty
    i = int(np.argmax(gaps))
    start, width = sorted_angles[i], gaps[i]
    hue_a, hue_b = sorted_hues[i], sorted_hues[(i + 1) % len(sorted_hues)]
    d = np.mod(hue_b - hue_a + 0.5, 1.0) - 0.5  # shortest signed hue difference
    center = float(np.mod(hue_a + d / 2, 1.0))
    if inside.any():
        offset = np.mod(latent_angles(z[inside]) - start, 2 * np.pi)
        fraction = float(np.mean((offset > 0) & (offset < width)))
    else:
        fraction = float("nan")
    return {
        "largest_gap_deg": float(np.degrees(width)),
        "band_inside_gap": fraction,
        "gap_center_hue": center,
    }


# --------------------------------------------------------------------------- the trained arc
#
# With the band held out, the *training* hues form an arc of the hue circle (241° → 360° → 149°),
# not a loop. Nothing forces an arc to go round the origin, so "the trained hues wrap round the
# origin" is a finding, and "the band lands in the gap, in order" is a separate finding about
# generalisation. The functions below measure the two separately, for one model or for a whole
# batch of models at once (leading batch dimensions of ``z``).


def _arc_order(band: tuple[float, float], hue: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the trained hues in arc order (from just after the band round to just before
    it) and of the band's hues in hue order."""
    lo, hi = band
    inside = in_band(hue, band)
    start = np.mod(hue - hi, 1.0)  # 0 at the band's upper edge, increasing along the arc
    trained = np.flatnonzero(~inside)
    trained = trained[np.argsort(start[trained], kind="stable")]
    band_idx = np.flatnonzero(inside)
    band_idx = band_idx[np.argsort(np.mod(hue[band_idx] - lo, 1.0), kind="stable")]
    return trained, band_idx


def arc_sweep(angles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For latent angles (radians, ``[..., T]``) of an *arc* of hues taken in hue order, return
    ``(sweep, order)``: the signed total turn Σ wrap(θ[t+1] − θ[t]) (radians, no closing step),
    and the fraction of steps that turn the dominant way (sign of the sweep)."""
    angles = np.asarray(angles, dtype=np.float64)
    if angles.ndim < 1 or angles.shape[-1] < 2:
        raise ValueError(f"angles must have shape [..., T] with T ≥ 2, got {angles.shape}")
    steps = wrap_angle(np.diff(angles, axis=-1))
    sweep = steps.sum(axis=-1)
    direction = np.where(sweep >= 0, 1.0, -1.0)[..., None]
    order = np.mean(steps * direction > 0, axis=-1)
    return sweep, order


def wheel_report(
    hue: np.ndarray,
    z: np.ndarray,
    band: tuple[float, float] = HELD_OUT_BAND,
    min_score: float = 0.95,
) -> dict[str, np.ndarray]:
    """Measure a probe wheel's latents as *trained arc* + *held-out band*, for one model or many.

    ``hue`` (P,) distinct hues (e.g. :func:`~course_lib.color.data.probe_wheel`'s), ``z`` of
    shape ``(..., P, d)``; every value returned has shape ``z.shape[:-2]``. Angles are taken
    around the origin ("hue is the latent angle"); the ``loop_*`` entries take them around the
    trained latents' own mean instead ("an ordered loop anywhere").

    * ``trained_order`` — fraction of steps along the trained arc (241° → 149° for the default
      band) that turn the arc's dominant way;
    * ``trained_sweep_deg`` — the arc's signed total turn around the origin;
    * ``trained_wheel`` — the trained arc is ordered (≥ ``min_score``) and turns between 180°
      and 360°: closed across the gap by the short way it winds exactly once round the origin;
    * ``loop_wheel`` — the same test around the trained latents' mean (a loop that may miss the
      origin);
    * ``gap_deg`` — the angle left between the arc's two ends, 360° − |sweep| (NaN unless
      ``trained_wheel``): the room the model left for the band;
    * ``band_inside`` — fraction of the band's latents that lie in that gap;
    * ``band_order`` — fraction of steps along 149° → band → 241° that turn the arc's way;
    * ``band_placed`` — ``trained_wheel`` and both band fractions ≥ ``min_score``;
    * ``probe_wheel`` — the whole probe wheel winds once in order (:func:`is_wheel`'s verdict).
    """
    check_fraction(min_score, "min_score")
    if hasattr(hue, "detach"):
        hue = hue.detach().cpu().numpy()
    if not isinstance(hue, np.ndarray) or hue.ndim != 1:
        raise ValueError("hue must be a 1-D numpy array")
    z = _as_latents(z)
    if z.ndim < 2 or z.shape[-2] != len(hue):
        raise ValueError(f"z must have shape (..., {len(hue)}, d), got {z.shape}")
    hue = np.mod(hue.astype(np.float64), 1.0)
    if len(np.unique(np.round(hue, 12))) != len(hue):
        raise ValueError("hue must hold distinct hues (one probe colour per hue)")
    trained, band_idx = _arc_order(tuple(band), hue)
    if len(trained) < 3:
        raise ValueError("need at least 3 hues outside the band")
    out: dict[str, np.ndarray] = {}

    def arc_stats(zz: np.ndarray, prefix: str) -> tuple[np.ndarray, np.ndarray]:
        theta = np.arctan2(zz[..., 1], zz[..., 0])
        sweep, order = arc_sweep(theta[..., trained])
        wheel = (order >= min_score) & (np.abs(sweep) > np.pi) & (np.abs(sweep) < 2 * np.pi)
        out[f"{prefix}order"] = order
        out[f"{prefix}sweep_deg"] = np.degrees(sweep)
        out[f"{prefix}wheel"] = wheel
        return theta, sweep

    theta, sweep = arc_stats(z, "trained_")
    centre = z[..., trained, :2].mean(axis=-2, keepdims=True)
    arc_stats(z[..., :2] - centre, "loop_")
    gap = 2 * np.pi - np.abs(sweep)
    out["gap_deg"] = np.where(out["trained_wheel"], np.degrees(gap), np.nan)
    direction = np.where(sweep >= 0, 1.0, -1.0)
    if len(band_idx):
        path = np.concatenate([trained[-1:], band_idx, trained[:1]])
        steps = wrap_angle(np.diff(theta[..., path], axis=-1)) * direction[..., None]
        out["band_order"] = np.mean(steps > 0, axis=-1)
        # how far each band latent has travelled from the arc's end, the arc's way round
        travelled = np.mod((theta[..., band_idx] - theta[..., trained[-1:]]) * direction[..., None],
                           2 * np.pi)
        out["band_inside"] = np.mean((travelled > 0) & (travelled < gap[..., None]), axis=-1)
    else:
        out["band_order"] = np.full(sweep.shape, np.nan)
        out["band_inside"] = np.full(sweep.shape, np.nan)
    out["band_placed"] = (out["trained_wheel"] & (out["band_order"] >= min_score)
                          & (out["band_inside"] >= min_score))
    # the whole probe wheel, in hue order, closing step included (same verdict as is_wheel)
    all_idx = np.argsort(hue, kind="stable")
    steps = wrap_angle(np.diff(theta[..., np.r_[all_idx, all_idx[:1]]], axis=-1))
    winding = np.rint(steps.sum(axis=-1) / (2 * np.pi)).astype(int)
    score = np.maximum(np.mean(steps > 0, axis=-1), np.mean(steps < 0, axis=-1))
    out["probe_winding"] = winding
    out["probe_order"] = score
    out["probe_wheel"] = (np.abs(winding) == 1) & (score >= min_score)
    return out


# --------------------------------------------------------------------------- when did it happen?


def _check_series(epochs: object, scores: object) -> tuple[np.ndarray, np.ndarray]:
    if hasattr(scores, "detach"):
        scores = scores.detach().cpu().numpy()
    epochs = np.asarray(epochs)
    scores = np.asarray(scores)
    if epochs.ndim != 1 or len(epochs) == 0:
        raise ValueError(f"epochs must be a non-empty 1-D array, got shape {epochs.shape}")
    if not np.issubdtype(epochs.dtype, np.number) or not np.issubdtype(scores.dtype, np.number) \
            and scores.dtype != np.bool_:
        raise TypeError("epochs and scores must be numeric arrays")
    if scores.ndim < 1 or scores.shape[-1] != len(epochs):
        raise ValueError(f"scores must have shape (..., {len(epochs)}) to match epochs, got {scores.shape}")
    if np.any(np.diff(epochs) <= 0):
        raise ValueError("epochs must be strictly increasing")
    if np.isnan(scores.astype(np.float64)).any():
        raise ValueError("scores contains NaN")
    return epochs, scores


def transition_epochs(epochs: np.ndarray, scores: np.ndarray, threshold: float) -> np.ndarray:
    """:func:`transition_epoch` for many series at once: ``scores`` (..., K) → float array (...),
    NaN where the score does not end at or above ``threshold``."""
    epochs, scores = _check_series(epochs, scores)
    ok = scores.astype(np.float64) >= threshold
    # stays[k]: every score from checkpoint k on is at or above the threshold
    stays = np.flip(np.logical_and.accumulate(np.flip(ok, axis=-1), axis=-1), axis=-1)
    first = np.argmax(stays, axis=-1)
    return np.where(stays[..., -1], epochs[first].astype(np.float64), np.nan)


def transition_epoch(epochs: np.ndarray, scores: np.ndarray, threshold: float) -> int | None:
    """The first checkpoint epoch from which the score *stays* at or above ``threshold``.

    ``epochs`` (K,) increasing checkpoint epochs, ``scores`` (K,) the score at each (a number
    or a bool verdict; True counts as 1). A score that reaches the threshold and falls back does
    not count until it reaches it for good. ``None`` if the last score is below the threshold.

    >>> transition_epoch(np.array([0, 10, 20, 30]), np.array([0.2, 0.96, 0.9, 0.97]), 0.95)
    30
    """
    epochs, scores = _check_series(epochs, scores)
    if scores.ndim != 1:
        raise ValueError(f"scores must be 1-D like epochs, got shape {scores.shape}")
    value = transition_epochs(epochs, scores, threshold)
    return None if np.isnan(value) else int(epochs[np.searchsorted(epochs, value)])


def transition_summary(t: np.ndarray) -> dict[str, float]:
    """Summary of many seeds' transition epochs ``t`` (NaN: never, or not for good), as
    :meth:`~course_lib.color.SweepHistory.transitions` returns them.

    ``n`` seeds, ``never`` of them without a transition; ``median``, ``q1``, ``q3`` (quartiles)
    over the seeds that have one (NaN if none do).

    >>> transition_summary(np.array([100.0, 200.0, np.nan, 300.0, 400.0]))["median"]
    250.0
    """
    t = np.asarray(t, dtype=np.float64).ravel()
    if len(t) == 0:
        raise ValueError("t must hold at least one seed's transition epoch")
    done = t[np.isfinite(t)]
    q1, q2, q3 = np.percentile(done, [25, 50, 75]) if len(done) else (np.nan,) * 3
    return {"n": int(len(t)), "never": int(len(t) - len(done)),
            "median": float(q2), "q1": float(q1), "q3": float(q3)}


def format_transitions(t: np.ndarray) -> str:
    """``"median 140 (IQR 100–175) of 63 that formed; never: 1/64 = 2% (95% CI 0–8%)"``."""
    s = transition_summary(t)
    formed = s["n"] - s["never"]
    head = (f"median {s['median']:.0f} (IQR {s['q1']:.0f}–{s['q3']:.0f}) of {formed} that formed"
            if formed else "none formed")
    return f"{head}; never: {format_rate(s['never'], s['n'])}"
