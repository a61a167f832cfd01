"""Checkers (and reference solutions) for the colour chapter's exercises.

* :func:`check_hsv_to_rgb` — write HSV → RGB for an (N, 3) numpy array.
* :func:`check_normalize` — write the L2-normalising bottleneck (a function or ``nn.Module``).

Each checker runs a list of :class:`course_lib.exercises.Case` against the reader's attempt and
reports the first failure with a hint; it never raises because of the attempt.
"""

from __future__ import annotations

import colorsys
from typing import Any, Callable

import numpy as np
import torch

from ..exercises import Case, CheckResult, check

__all__ = [
    "check_hsv_to_rgb",
    "check_normalize",
    "solution_hsv_to_rgb",
    "solution_normalize",
]


# --------------------------------------------------------------------------- reference solutions


def solution_hsv_to_rgb(hsv: np.ndarray) -> np.ndarray:
    """HSV (N, 3) → RGB (N, 3) with the "k formula": no cases, no loops.

    For each channel n = 5 (red), 3 (green), 1 (blue):
    k = (n + 6h) mod 6 and channel = v − v·s·clip(min(k, 4 − k), 0, 1).
    """
    h, s, v = hsv[:, 0], hsv[:, 1], hsv[:, 2]

    def channel(n: float) -> np.ndarray:
        k = (n + 6 * h) % 6  # the "% 6" makes hue 1.0 the same as hue 0.0 (red)
        return v - v * s * np.clip(np.minimum(k, 4 - k), 0, 1)

    return np.stack([channel(5), channel(3), channel(1)], axis=1)


def solution_normalize(z: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Put every latent on the unit circle: z / max(‖z‖, eps) along the last dim."""
    norm = z.norm(dim=-1, keepdim=True)  # keepdim: shape [..., 1] broadcasts against [..., d]
    return z / norm.clamp_min(eps)  # eps: the zero vector stays 0 instead of 0/0 = NaN


# --------------------------------------------------------------------------- hsv_to_rgb checker


def _rgb_of(attempt: Callable, hsv: np.ndarray) -> np.ndarray:
    out = attempt(hsv.copy())
    assert out is not None, "your function returned None — did you forget `return`?"
    if isinstance(out, torch.Tensor):
        out = out.detach().cpu().numpy()
    out = np.asarray(out, dtype=np.float64)
    assert out.shape == hsv.shape, f"expected shape {hsv.shape}, got {out.shape}"
    return out


def _show(hsv_row: np.ndarray) -> str:
    return "(" + ", ".join(f"{x:.3g}" for x in hsv_row) + ")"


def _case_shape(attempt: Callable) -> None:
    hsv = np.array([[0.0, 1.0, 1.0], [0.5, 0.5, 0.5], [0.9, 0.2, 0.7], [0.25, 1.0, 0.3],
                    [0.6, 0.0, 1.0]])
    _rgb_of(attempt, hsv)
    _rgb_of(attempt, hsv[:1])


def _case_primaries(attempt: Callable) -> None:
    hsv = np.array([[0.0, 1.0, 1.0], [1 / 3, 1.0, 1.0], [2 / 3, 1.0, 1.0]])
    want = np.eye(3)
    got = _rgb_of(attempt, hsv)
    for name, g, w in zip(("red", "green", "blue"), got, want):
        assert np.allclose(g, w, atol=1e-6), f"{name} should be {tuple(w)}, got {tuple(np.round(g, 3))}"


def _case_greys(attempt: Callable) -> None:
    values = np.array([0.0, 0.25, 0.5, 1.0])
    hsv = np.stack([np.array([0.0, 0.3, 0.6, 0.9]), np.zeros(4), values], axis=1)
    got = _rgb_of(attempt, hsv)
    for row, g in zip(hsv, got):
        want = np.full(3, row[2])
        assert np.allclose(g, want, atol=1e-6), (
            f"saturation 0 is grey: HSV {_show(row)} should give {tuple(want)}, got {tuple(np.round(g, 3))}"
        )


def _case_random(attempt: Callable) -> None:
    rng = np.random.default_rng(2024)
    hsv = rng.random((200, 3))
    want = np.array([colorsys.hsv_to_rgb(*row) for row in hsv])
    got = _rgb_of(attempt, hsv)
    err = np.abs(got - want).max(axis=1)
    i = int(np.argmax(err))
    assert err[i] < 1e-6, (
        f"HSV {_show(hsv[i])} should give {tuple(np.round(want[i], 3))}, got {tuple(np.round(got[i], 3))}"
    )


def _case_wrap(attempt: Callable) -> None:
    hsv = np.array([[1.0, 1.0, 1.0], [1.0, 0.5, 0.8]])
    want = np.array([colorsys.hsv_to_rgb(0.0, 1.0, 1.0), colorsys.hsv_to_rgb(0.0, 0.5, 0.8)])
    got = _rgb_of(attempt, hsv)
    assert np.allclose(got, want, atol=1e-6), (
        f"hue 1.0 is a full turn, the same as hue 0 (red): HSV (1, 1, 1) should give (1, 0, 0), "
        f"got {tuple(np.round(got[0], 3))}"
    )


HSV_TO_RGB_CASES: list[Case] = [
    Case("returns an (N, 3) array", _case_shape,
         "take an (N, 3) array and return an (N, 3) array — stack the three channels on axis 1"),
    Case("primary colours", _case_primaries,
         "red is hue 0, green 1/3, blue 2/3; check the channel order is (r, g, b)"),
    Case("greys", _case_greys,
         "with saturation 0 every channel equals the value v"),
    Case("matches colorsys on 200 random colours", _case_random,
         "compare one colour by hand with colorsys.hsv_to_rgb(h, s, v)"),
    Case("hue wraps around", _case_wrap,
         "hue is an angle: take it modulo 1 (or k modulo 6) so hue 1.0 is red again"),
]


def check_hsv_to_rgb(attempt: Callable[[np.ndarray], np.ndarray], *, quiet: bool = False) -> CheckResult:
    """Check a reader's ``hsv_to_rgb(hsv: (N, 3) array) -> (N, 3) array``."""
    return check("hsv_to_rgb", attempt, HSV_TO_RGB_CASES, quiet=quiet)


# --------------------------------------------------------------------------- normalize checker


def _normalized(attempt: Callable, z: torch.Tensor) -> torch.Tensor:
    out = attempt(z.clone())
    assert out is not None, "your function returned None — did you forget `return`?"
    assert isinstance(out, torch.Tensor), f"expected a torch tensor, got {type(out).__name__}"
    assert out.shape == z.shape, f"expected the input's shape {tuple(z.shape)}, got {tuple(out.shape)}"
    return out


def _latents(*shape: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(7)
    return torch.randn(*shape, generator=g) * 3


def _case_unit_norm(attempt: Callable) -> None:
    z = _latents(32, 2)
    norms = _normalized(attempt, z).norm(dim=-1)
    worst = float((norms - 1).abs().max())
    assert worst < 1e-5, f"every row should have length 1; one has length {1 + worst:.4f} (or {1 - worst:.4f})"


def _case_direction(attempt: Callable) -> None:
    z = _latents(32, 2)
    out = _normalized(attempt, z)
    cos = torch.nn.functional.cosine_similarity(out, z, dim=-1)
    assert bool((cos > 1 - 1e-5).all()), (
        f"each output must point the same way as its input (cosine similarity 1); lowest is {float(cos.min()):.3f}"
    )


def _case_batch_shape(attempt: Callable) -> None:
    z = _latents(4, 5, 3)
    out = _normalized(attempt, z)
    norms = out.norm(dim=-1)
    assert torch.allclose(norms, torch.ones_like(norms), atol=1e-5), (
        "with input of shape (4, 5, 3) each length-3 vector (the last dim) should have norm 1"
    )


def _case_zero(attempt: Callable) -> None:
    z = torch.tensor([[0.0, 0.0], [3.0, 4.0]])
    out = _normalized(attempt, z)
    assert bool(torch.isfinite(out).all()), f"the zero vector gave {out[0].tolist()}: 0 / 0 is NaN"
    assert torch.allclose(out[1], torch.tensor([0.6, 0.8]), atol=1e-5), "(3, 4) should become (0.6, 0.8)"


def _case_autograd(attempt: Callable) -> None:
    z = _latents(8, 2).requires_grad_(True)
    out = attempt(z)
    assert isinstance(out, torch.Tensor) and out.requires_grad, (
        "the output must stay connected to the input for backprop (use torch ops, not numpy)"
    )
    out[:, 0].sum().backward()
    assert z.grad is not None and bool(torch.isfinite(z.grad).all()), "gradients must be finite"


NORMALIZE_CASES: list[Case] = [
    Case("unit norm", _case_unit_norm, "divide each vector by its own length, z.norm(dim=-1)"),
    Case("direction preserved", _case_direction, "only rescale: do not change the direction"),
    Case("batch shape preserved", _case_batch_shape,
         "normalise along the last dim and keep dims: z.norm(dim=-1, keepdim=True)"),
    Case("zero vector gives no NaN", _case_zero,
         "divide by a norm clamped from below, e.g. norm.clamp_min(1e-8)"),
    Case("works with autograd", _case_autograd, "use torch operations so gradients flow"),
]


def check_normalize(attempt_module_or_fn: Callable[[torch.Tensor], torch.Tensor] | Any,
                    *, quiet: bool = False) -> CheckResult:
    """Check a reader's L2-normalising bottleneck (a function or an ``nn.Module``)."""
    return check("L2 normalisation", attempt_module_or_fn, NORMALIZE_CASES, quiet=quiet)
