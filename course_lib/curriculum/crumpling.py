"""Is the latent colour wheel a clean flat ring, or crumpled? One number, from Fenchel's theorem.

Walk the latents of a hue wheel in hue order: they trace a closed curve in latent space. Its
**total turning** — the sum of the angles by which the direction of travel turns at each step —
is at least one full turn (2π) for *any* closed curve in any dimension, and exactly 2π only for a
flat convex loop (Fenchel's theorem; it holds for closed polygons too). Every way of crumpling a
wheel adds turning: bending it out of its plane (a saddle or twisted ring), denting it, folding a
stretch of hues back on itself (a hairpin adds about a full turn), winding twice, or collapsing
into a blob (a random walk turns a lot). So with ``turns`` = total turning / 2π ≥ 1,

    crumpling = 1 − 1/turns  ∈ [0, 1)

is 0 for a flat convex wheel (a circle or an ellipse, wherever it sits and however large),
grows as the ring bends out of plane (a saddle ring (cos θ, sin θ, a·cos 2θ) gives ≈ 0.15 at
a = 0.3 and ≈ 0.25 at a = 0.5), is ≥ ½ once the loop turns back on itself (a fold, a double
winding), and approaches 1 for a blob. It is scale- and rotation-free and ignores how unevenly
the hues are spaced along the ring. A latent set collapsed to a single point scores 1.

Raw turning is noise-sensitive (tiny jitter between neighbouring latents turns the path back and
forth), so the loop is first resampled at equal arc length and smoothed with a periodic Gaussian
of width ``smoothing`` × its length (default 3%: jitter of a few % of the radius scores ≲ 0.05,
folds spanning ≳ 10% of the hues survive). Smoothing keeps a flat convex loop flat and convex
(tests: circles, ellipses, unevenly spaced hues, polygons), so a clean wheel still scores 0.

:func:`crumpling_report` adds the planar view from :mod:`course_lib.color.metrics` (hue order and
winding in dims 0–1 around the ring's own centre) and how far the ring leaves that plane.
"""

from __future__ import annotations

from typing import Union

import numpy as np

from ..color.metrics import hue_order_score, winding_number
from ..validation import check_float, check_fraction

__all__ = ["crumpling", "crumpling_report", "total_turning", "DEFAULT_THRESHOLD"]

#: ``crumpling_report``'s verdict: crumpled above this (the tangent makes ≥ 1.25 turns).
DEFAULT_THRESHOLD = 0.2

#: Points the loop is resampled to before smoothing.
RESAMPLE = 360


def _inputs(hue: object, z: object, min_hues: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Validate; return (distinct hues sorted, latents (..., H, d) averaged per hue)."""
    if hasattr(hue, "detach"):
        hue = hue.detach().cpu().numpy()
    if hasattr(z, "detach"):
        z = z.detach().cpu().numpy()
    if not isinstance(hue, np.ndarray):
        raise TypeError(f"hue must be a numpy array or tensor, got {type(hue).__name__}")
    if not isinstance(z, np.ndarray):
        raise TypeError(f"z must be a numpy array or tensor, got {type(z).__name__}")
    if hue.ndim != 1:
        raise ValueError(f"hue must have shape (N,), got {hue.shape}")
    if z.ndim < 2 or z.shape[-2] != len(hue) or z.shape[-1] < 2:
        raise ValueError(f"z must have shape (..., {len(hue)}, d) with d ≥ 2 to match hue, "
                         f"got {z.shape}")
    if not np.issubdtype(hue.dtype, np.number) or not np.issubdtype(z.dtype, np.number):
        raise TypeError("hue and z must be numeric")
    hue, z = hue.astype(np.float64), z.astype(np.float64)
    if not np.isfinite(hue).all():
        raise ValueError("hue contains NaN or inf")
    if not np.isfinite(z).all():
        raise ValueError("z contains NaN or inf")
    unique, inverse = np.unique(np.round(np.mod(hue, 1.0), 12), return_inverse=True)
    if len(unique) < min_hues:
        raise ValueError(f"hue must hold at least {min_hues} distinct hues to form a loop, "
                         f"got {len(unique)}")
    counts = np.bincount(inverse, minlength=len(unique)).astype(np.float64)
    onehot = np.zeros((len(unique), len(hue)))
    onehot[inverse, np.arange(len(hue))] = 1.0 / counts[inverse]
    return unique, np.einsum("hn,...nd->...hd", onehot, z)


def _turning(points: np.ndarray) -> float:
    """Sum of exterior angles of the closed polygon through ``points`` (M, d), zero-length edges
    skipped; inf if fewer than 3 edges have length (a collapsed loop)."""
    edges = np.roll(points, -1, axis=0) - points
    length = np.linalg.norm(edges, axis=1)
    scale = max(float(np.abs(points).max()), 1.0)
    keep = length > 1e-12 * scale
    if keep.sum() < 3:
        return float("inf")
    unit = edges[keep] / length[keep, None]
    cos = np.clip(np.sum(unit * np.roll(unit, -1, axis=0), axis=1), -1.0, 1.0)
    return float(np.arccos(cos).sum())


def _smoothed_loop(loop: np.ndarray, smoothing: float) -> Union[np.ndarray, None]:
    """Resample the closed polygon (H, d) at RESAMPLE equal arc-length points and smooth it with a
    periodic Gaussian of width ``smoothing`` × length; None if it has no length."""
    closed = np.vstack([loop, loop[:1]])
    seg = np.linalg.norm(np.diff(closed, axis=0), axis=1)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    total = cum[-1]
    if not total > 1e-12 * max(float(np.abs(loop).max()), 1.0):
        return None
    if smoothing == 0:
        return loop
    u = np.arange(RESAMPLE) / RESAMPLE * total
    resampled = np.stack([np.interp(u, cum, closed[:, j]) for j in range(loop.shape[1])], axis=1)
    spectrum = np.fft.rfft(resampled, axis=0)
    freq = np.arange(spectrum.shape[0])  # cycles per loop
    spectrum *= np.exp(-0.5 * (2 * np.pi * freq * smoothing) ** 2)[:, None]
    return np.fft.irfft(spectrum, n=RESAMPLE, axis=0)


def _check_smoothing(smoothing: object) -> float:
    smoothing = check_float(smoothing, "smoothing", min=0.0, max=0.25)  # a fraction of the loop's length
    return float(smoothing)


def total_turning(hue: np.ndarray, z: np.ndarray,
                  smoothing: float = 0.03) -> Union[float, np.ndarray]:
    """Total turning of the hue-ordered latent loop, in full turns (≥ 1; inf if collapsed).

    ``hue`` (N,), ``z`` (..., N, d); samples sharing a hue are averaged first. Returns a float,
    or an array of shape ``z.shape[:-2]`` for a batch of models.
    """
    s = _check_smoothing(smoothing)
    _, loops = _inputs(hue, z)
    flat = loops.reshape(-1, *loops.shape[-2:])
    out = np.empty(len(flat))
    for i, loop in enumerate(flat):
        smooth = _smoothed_loop(loop, s)
        out[i] = float("inf") if smooth is None else _turning(smooth) / (2 * np.pi)
    out = np.maximum(out, 1.0)  # Fenchel: anything below is rounding
    return float(out[0]) if loops.ndim == 2 else out.reshape(loops.shape[:-2])


def crumpling(hue: np.ndarray, z: np.ndarray, smoothing: float = 0.03) -> Union[float, np.ndarray]:
    """``1 − 1/turns`` ∈ [0, 1]: 0 for a flat convex wheel, ≥ ½ for a fold, → 1 for a blob (see
    the module docstring). ``hue`` (N,), ``z`` (..., N, d ≥ 2) → float or array ``z.shape[:-2]``."""
    turns = total_turning(hue, z, smoothing)
    return 1.0 - 1.0 / turns if np.ndim(turns) == 0 else 1.0 - 1.0 / np.asarray(turns)


def crumpling_report(hue: np.ndarray, z: np.ndarray, smoothing: float = 0.03,
                     threshold: float = DEFAULT_THRESHOLD) -> dict[str, Union[float, int, bool]]:
    """Crumpling and the planar view of one model's wheel (``z`` of shape (N, d ≥ 2)).

    * ``crumpling``, ``turns`` — as :func:`crumpling` and :func:`total_turning`;
    * ``order``, ``winding`` — hue-order score and winding number in dims 0–1 around the ring's
      own centre (:func:`course_lib.color.hue_order_score`,
      :func:`~course_lib.color.winding_number`);
    * ``out_of_plane`` — RMS spread along dims 2… over RMS spread in dims 0–1 (both about the
      mean): 0 for a ring flat in dims 0–1; NaN if the ring has no spread in dims 0–1;
    * ``crumpled`` — ``crumpling > threshold``.
    """
    check_fraction(threshold, "threshold")
    hues, loops = _inputs(hue, z)
    if loops.ndim != 2:
        raise ValueError(f"z must have shape (N, d) for a report (one model), got {np.shape(z)}")
    c = crumpling(hues, loops, smoothing)
    centred = loops - loops.mean(axis=0)
    in_plane = float(np.sqrt(np.mean(np.sum(centred[:, :2] ** 2, axis=1))))
    off_plane = float(np.sqrt(np.mean(np.sum(centred[:, 2:] ** 2, axis=1))))
    ratio = off_plane / in_plane if in_plane > 1e-12 * max(float(np.abs(loops).max()), 1.0) \
        else float("nan")
    return {
        "crumpling": float(c),
        "turns": float(total_turning(hues, loops, smoothing)),
        "order": hue_order_score(hues, loops, center="mean"),
        "winding": winding_number(hues, loops, center="mean"),
        "out_of_plane": ratio,
        "crumpled": bool(c > threshold),
    }
