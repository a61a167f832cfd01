"""Colour spaces: RGB ↔ HSV for numpy arrays and torch tensors.

HSV describes a colour by its **hue** (the angle around the colour wheel, here as a fraction of a
turn in [0, 1) with red = 0, yellow = 1/6, green = 1/3, cyan = 1/2, blue = 2/3, magenta = 5/6),
its **saturation** (0 = grey, 1 = pure colour) and its **value** (0 = black, 1 = brightest).
Hue is *cyclic*: 0.999 is next to 0.0. That circle is what the chapter's autoencoder has to find.

Both functions accept anything of shape ``[..., 3]`` and return the same type, float dtype, device
and shape, so they work on a single colour, a batch, or an image. Both are loop-free.
"""

from __future__ import annotations

from typing import TypeVar, Union

import numpy as np
import torch

__all__ = ["hsv_to_rgb", "rgb_to_hsv", "NAMED_HUES", "HUE_NAMES"]

ArrayOrTensor = TypeVar("ArrayOrTensor", np.ndarray, torch.Tensor)

#: Slack allowed outside [0, 1] for values that are "in range up to rounding"; they are clipped.
RANGE_SLACK = 1e-6

#: Twelve named hues, one every 30°, as fractions of a turn (red = 0).
NAMED_HUES: dict[str, float] = {
    "red": 0 / 360,
    "orange": 30 / 360,
    "yellow": 60 / 360,
    "chartreuse": 90 / 360,
    "green": 120 / 360,
    "spring green": 150 / 360,
    "cyan": 180 / 360,
    "azure": 210 / 360,
    "blue": 240 / 360,
    "violet": 270 / 360,
    "magenta": 300 / 360,
    "rose": 330 / 360,
}

#: The names of :data:`NAMED_HUES` in order around the wheel.
HUE_NAMES: tuple[str, ...] = tuple(NAMED_HUES)


def _validated(x: object, name: str = "x") -> Union[np.ndarray, torch.Tensor]:
    """Check type, shape and range; return a float array/tensor clipped to [0, 1]."""
    if isinstance(x, torch.Tensor):
        if not (x.dtype.is_floating_point):
            if x.dtype.is_complex:
                raise TypeError(f"{name} must be a real tensor, got dtype {x.dtype}")
            x = x.to(torch.get_default_dtype())
        values = x.detach()
        finite_ok = bool(torch.isfinite(values).all()) if x.numel() else True
        low = float(values.min()) if x.numel() else 0.0
        high = float(values.max()) if x.numel() else 1.0
    elif isinstance(x, np.ndarray):
        if x.dtype.kind in "biu":
            x = x.astype(np.float64)
        elif x.dtype.kind != "f":
            raise TypeError(f"{name} must be a real float array, got dtype {x.dtype}")
        finite_ok = bool(np.isfinite(x).all())
        low = float(x.min()) if x.size else 0.0
        high = float(x.max()) if x.size else 1.0
    else:
        hint = " (pass np.asarray(x))" if isinstance(x, (list, tuple)) else ""
        raise TypeError(
            f"{name} must be a numpy array or torch tensor, got {type(x).__name__}{hint}"
        )
    if x.ndim == 0 or x.shape[-1] != 3:
        raise ValueError(f"{name} must have shape [..., 3], got {tuple(x.shape)}")
    if not finite_ok:
        raise ValueError(f"{name} contains NaN or inf")
    if low < -RANGE_SLACK or high > 1 + RANGE_SLACK:
        raise ValueError(f"{name} must lie in [0, 1], got values in [{low:.4g}, {high:.4g}]")
    return x.clip(0.0, 1.0)


def hsv_to_rgb(x: ArrayOrTensor) -> ArrayOrTensor:
    """HSV → RGB, with hue as a fraction of a turn (1.0 wraps to red).

    Uses the smooth "k formula" rather than the six-case table, so torch autograd flows through
    it: for each channel n ∈ {5, 3, 1} (r, g, b),

        k = (n + 6·h) mod 6,   channel = v − v·s·max(0, min(k, 4 − k, 1)).
    """
    x = _validated(x, "x")
    h, s, v = x[..., 0], x[..., 1], x[..., 2]
    channels = []
    for n in (5.0, 3.0, 1.0):  # three channels, not a loop over samples
        if isinstance(x, torch.Tensor):
            k = torch.remainder(n + 6.0 * h, 6.0)
            ramp = torch.clamp(torch.minimum(k, 4.0 - k), 0.0, 1.0)
        else:
            k = np.mod(n + 6.0 * h, 6.0)
            ramp = np.clip(np.minimum(k, 4.0 - k), 0.0, 1.0)
        channels.append(v - v * s * ramp)
    if isinstance(x, torch.Tensor):
        return torch.stack(channels, dim=-1)
    return np.stack(channels, axis=-1).astype(x.dtype, copy=False)


def rgb_to_hsv(x: ArrayOrTensor) -> ArrayOrTensor:
    """RGB → HSV, hue in [0, 1) with red = 0; greys (max == min) get hue 0 and saturation 0.

    With M = max(r, g, b), m = min(r, g, b) and chroma C = M − m: v = M, s = C / M (0 for black),
    and the hue is the position on the hexagon, h = (1/6)·{(g − b)/C mod 6 if M = r;
    (b − r)/C + 2 if M = g; (r − g)/C + 4 if M = b} (same tie order as :mod:`colorsys`).
    """
    x = _validated(x, "x")
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    if isinstance(x, torch.Tensor):
        big = torch.amax(x, dim=-1)
        small = torch.amin(x, dim=-1)
        where, mod = torch.where, torch.remainder
    else:
        big = np.max(x, axis=-1)
        small = np.min(x, axis=-1)
        where, mod = np.where, np.mod
    chroma = big - small
    grey = chroma <= 0
    safe_c = where(grey, 1.0, chroma)  # avoid 0/0; the result is masked below
    safe_v = where(big <= 0, 1.0, big)
    saturation = where(big <= 0, 0.0, chroma / safe_v)
    from_r = mod((g - b) / safe_c, 6.0)
    from_g = (b - r) / safe_c + 2.0
    from_b = (r - g) / safe_c + 4.0
    hexant = where(big == r, from_r, where(big == g, from_g, from_b))
    hue = where(grey, 0.0, hexant / 6.0)
    hue = where(hue >= 1.0, hue - 1.0, hue)  # tiny negatives mod 1 can round up to exactly 1.0
    if isinstance(x, torch.Tensor):
        return torch.stack([hue, saturation, big], dim=-1)
    return np.stack([hue, saturation, big], axis=-1).astype(x.dtype, copy=False)
