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

from .data import HELD_OUT_BAND, in_band

__all__ = [
    "latent_angles",
    "hue_order_score",
    "winding_number",
    "is_wheel",
    "band_gap",
    "wrap_angle",
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
    if not 0.0 <= min_score <= 1.0:
        raise ValueError(f"min_score must be in [0, 1], got {min_score}")
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
