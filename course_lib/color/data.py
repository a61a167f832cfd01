"""Colour data sets: hue wheels, HSV grids, RGB cubes, and the bottleneck experiment's data.

The bottleneck experiment trains on fully saturated colours (S = 1) at two brightnesses
(V ∈ {0.9, 1}) with hue in 1° steps, but **holds out a band of hues** (spring green → blue,
150°–240°). If the autoencoder learns a wheel, the held-out band shows up as a gap in the circle
exactly where those hues belong — evidence that the model arranged colours by hue rather than
memorising them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from ..validation import check_float, check_fraction, check_int
from .spaces import hsv_to_rgb

__all__ = [
    "HELD_OUT_BAND",
    "ColorData",
    "hue_wheel",
    "hsv_grid",
    "rgb_cube",
    "in_band",
    "bottleneck_dataset",
    "probe_wheel",
]

#: Hues held out of training in the bottleneck experiment: spring green (150°) → blue (240°), inclusive.
HELD_OUT_BAND: tuple[float, float] = (150 / 360, 240 / 360)

_EPS = 1e-9  # tolerance for "is this hue on the band's edge"


def _check_band(band: object, name: str = "band") -> tuple[float, float]:
    try:
        lo, hi = band  # type: ignore[misc]
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair (lo, hi), got {band!r}") from None
    lo, hi = check_fraction(lo, f"{name}[0]"), check_fraction(hi, f"{name}[1]")
    if not lo < hi:
        raise ValueError(f"{name} must have lo < hi, got {band!r}")
    return lo, hi


def in_band(hue: np.ndarray, band: tuple[float, float] = HELD_OUT_BAND) -> np.ndarray:
    """Boolean mask: which hues lie in ``band`` = (lo, hi), edges included (hue taken mod 1)."""
    lo, hi = _check_band(band)
    hue = np.mod(np.asarray(hue, dtype=np.float64), 1.0)
    return (hue >= lo - _EPS) & (hue <= hi + _EPS)


def hue_wheel(n: int = 360, saturation: float = 1.0, value: float = 1.0) -> np.ndarray:
    """``n`` evenly spaced hues (0, 1/n, …) at fixed S and V, as an (n, 3) HSV array."""
    n = check_int(n, "n", min=1)
    saturation = check_fraction(saturation, "saturation")
    value = check_fraction(value, "value")
    hue = np.arange(n, dtype=np.float64) / n
    return np.stack([hue, np.full(n, saturation), np.full(n, value)], axis=-1)


def hsv_grid(n_hue: int, n_sat: int, n_val: int) -> np.ndarray:
    """A full HSV grid as an (n_hue·n_sat·n_val, 3) array.

    Hue takes ``n_hue`` evenly spaced values in [0, 1) (the circle has no end point);
    saturation and value each take ``linspace(0, 1, n)`` (``[1.0]`` when n = 1).
    """
    n_hue = check_int(n_hue, "n_hue", min=1)
    n_sat = check_int(n_sat, "n_sat", min=1)
    n_val = check_int(n_val, "n_val", min=1)

    def axis(n: int) -> np.ndarray:
        return np.linspace(0.0, 1.0, n) if n > 1 else np.ones(1)

    hue = np.arange(n_hue, dtype=np.float64) / n_hue
    h, s, v = np.meshgrid(hue, axis(n_sat), axis(n_val), indexing="ij")
    return np.stack([h.ravel(), s.ravel(), v.ravel()], axis=-1)


def rgb_cube(n: int) -> np.ndarray:
    """An n×n×n grid over the RGB cube, ``linspace(0, 1, n)`` per channel: (n³, 3) RGB."""
    n = check_int(n, "n", min=1)
    if n < 2:
        raise ValueError(f"n must be at least 2 (a cube needs both corners), got {n}")
    axis = np.linspace(0.0, 1.0, n)
    r, g, b = np.meshgrid(axis, axis, axis, indexing="ij")
    return np.stack([r.ravel(), g.ravel(), b.ravel()], axis=-1)


@dataclass
class ColorData:
    """A set of colours in both spaces, with a mask of which are held out of training.

    ``hsv`` and ``rgb`` are (N, 3) float arrays describing the same colours; ``held_out`` is an
    (N,) bool mask. :attr:`train_rgb` and :attr:`held_out_rgb` are float32 torch tensors ready
    for a model.
    """

    hsv: np.ndarray
    rgb: np.ndarray
    held_out: np.ndarray

    def __post_init__(self) -> None:
        self.hsv = np.asarray(self.hsv, dtype=np.float64)
        self.rgb = np.asarray(self.rgb, dtype=np.float64)
        self.held_out = np.asarray(self.held_out)
        if self.hsv.ndim != 2 or self.hsv.shape[1] != 3:
            raise ValueError(f"hsv must have shape (N, 3), got {self.hsv.shape}")
        if self.rgb.shape != self.hsv.shape:
            raise ValueError(f"rgb must have the same shape as hsv {self.hsv.shape}, got {self.rgb.shape}")
        if self.held_out.dtype != np.bool_ or self.held_out.shape != (len(self.hsv),):
            raise ValueError(
                f"held_out must be a bool array of shape ({len(self.hsv)},), "
                f"got {self.held_out.dtype} {self.held_out.shape}"
            )

    def __len__(self) -> int:
        return len(self.hsv)

    @property
    def hue(self) -> np.ndarray:
        """The hue of every colour, shape (N,)."""
        return self.hsv[:, 0]

    @property
    def train_rgb(self) -> torch.Tensor:
        """RGB of the training colours (not held out), float32 tensor (N_train, 3)."""
        return torch.as_tensor(self.rgb[~self.held_out], dtype=torch.float32)

    @property
    def held_out_rgb(self) -> torch.Tensor:
        """RGB of the held-out colours, float32 tensor (N_held_out, 3)."""
        return torch.as_tensor(self.rgb[self.held_out], dtype=torch.float32)


def bottleneck_dataset(
    step_deg: float = 1.0,
    values: Sequence[float] = (0.9, 1.0),
    band: tuple[float, float] = HELD_OUT_BAND,
) -> ColorData:
    """The bottleneck experiment's colours: hue every ``step_deg`` degrees × ``values``, S = 1.

    Colours whose hue lies in ``band`` (inclusive) are marked held out. With the defaults:
    360 hues × 2 values = 720 colours, of which 91 × 2 = 182 are held out and 538 train.
    """
    step_deg = check_float(step_deg, "step_deg", min=0, max=360, inclusive="right")
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise TypeError(f"values must be a sequence of numbers in [0, 1], got {type(values).__name__}")
    vals = [check_fraction(v, f"values[{i}]") for i, v in enumerate(values)]
    if not vals:
        raise ValueError("values must not be empty")
    band = _check_band(band)
    n_hue = int(round(360.0 / float(step_deg)))
    hue = np.arange(n_hue, dtype=np.float64) * float(step_deg) / 360.0
    hue = hue[hue < 1.0 - _EPS]
    h, v = np.meshgrid(hue, np.asarray(vals), indexing="ij")
    hsv = np.stack([h.ravel(), np.ones(h.size), v.ravel()], axis=-1)
    return ColorData(hsv=hsv, rgb=hsv_to_rgb(hsv), held_out=in_band(hsv[:, 0], band))


def probe_wheel(n: int = 360, band: tuple[float, float] = HELD_OUT_BAND) -> ColorData:
    """The full wheel at S = V = 1, held-out band included (and flagged), to draw what was learned."""
    hsv = hue_wheel(n)
    return ColorData(hsv=hsv, rgb=hsv_to_rgb(hsv), held_out=in_band(hsv[:, 0], band))
