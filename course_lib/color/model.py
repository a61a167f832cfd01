"""The bottleneck autoencoder: RGB → 2-D latent (optionally on the unit circle) → RGB.

    encoder: Linear(3, hidden) – act – Linear(hidden, latent_dim) – [L2Normalize]
    decoder: Linear(latent_dim, hidden) – act – Linear(hidden, 3) – Sigmoid

With ``normalize=True`` every latent is forced onto the unit circle, so the only thing the
encoder can choose is an *angle*. Hue is itself an angle; without the constraint the latents may
spread over the plane, and the loop they form need not go round the origin (see notebook 1.2).
"""

from __future__ import annotations

import torch
from torch import nn

from ..validation import check_float, check_int

__all__ = ["L2Normalize", "ColorAutoencoder", "ACTIVATIONS"]

#: Activations the autoencoder accepts by name.
ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "tanh": nn.Tanh,
    "silu": nn.SiLU,
}


class L2Normalize(nn.Module):
    """Project onto the unit sphere along the last dim: z / max(‖z‖, eps).

    ``eps`` keeps the zero vector finite (it maps to 0 instead of NaN).
    """

    def __init__(self, eps: float = 1e-8) -> None:
        super().__init__()
        if not eps > 0:
            raise ValueError(f"eps must be positive, got {eps}")
        self.eps = float(eps)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return z / z.norm(dim=-1, keepdim=True).clamp_min(self.eps)

    def extra_repr(self) -> str:
        return f"eps={self.eps:g}"


def _check_rgb(rgb: object) -> torch.Tensor:
    if not isinstance(rgb, torch.Tensor):
        raise TypeError(
            f"rgb must be a torch tensor of shape [..., 3], got {type(rgb).__name__}"
            " (use torch.as_tensor(x, dtype=torch.float32))"
        )
    if rgb.ndim == 0 or rgb.shape[-1] != 3:
        raise ValueError(f"rgb must have shape [..., 3], got {tuple(rgb.shape)}")
    return rgb


class ColorAutoencoder(nn.Module):
    """RGB autoencoder with a ``latent_dim``-wide bottleneck (see the module docstring)."""

    def __init__(
        self,
        latent_dim: int = 2,
        hidden: int = 16,
        normalize: bool = True,
        activation: str = "relu",
    ) -> None:
        super().__init__()
        for name, value in (("latent_dim", latent_dim), ("hidden", hidden)):
            check_int(value, name, min=1)
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
        self.latent_dim = latent_dim
        self.hidden = hidden
        self.normalize = bool(normalize)
        self.activation = activation
        act = ACTIVATIONS[activation]
        self.encoder = nn.Sequential(
            nn.Linear(3, hidden),
            act(),
            nn.Linear(hidden, latent_dim),
            L2Normalize() if self.normalize else nn.Identity(),
        )
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, hidden),
            act(),
            nn.Linear(hidden, 3),
            nn.Sigmoid(),
        )

    def encode(self, rgb: torch.Tensor) -> torch.Tensor:
        """RGB [..., 3] → latent [..., latent_dim] (unit norm when ``normalize``)."""
        return self.encoder(_check_rgb(rgb))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Latent [..., latent_dim] → RGB [..., 3] in (0, 1)."""
        if not isinstance(z, torch.Tensor) or z.ndim == 0 or z.shape[-1] != self.latent_dim:
            shape = tuple(z.shape) if isinstance(z, torch.Tensor) else type(z).__name__
            raise ValueError(f"z must be a tensor of shape [..., {self.latent_dim}], got {shape}")
        return self.decoder(z)

    def decode_circle(
        self, n: int = 360, radius: float = 1.0, center: tuple[float, float] = (0.0, 0.0)
    ) -> torch.Tensor:
        """What the decoder makes of a circle in the latent plane: RGB (n, 3) at angles
        0°, 360/n°, … on the circle of ``radius`` around ``center`` (first two latent dims; any
        further dims are 0). For a normalised model the unit circle is every code it can use."""
        n = check_int(n, "n", min=2)
        radius = check_float(radius, "radius", min=0, inclusive="neither")
        try:
            cx, cy = (float(c) for c in center)
        except (TypeError, ValueError):
            raise ValueError(f"center must be a pair of numbers, got {center!r}") from None
        t = torch.arange(n, dtype=torch.float32) * (2 * torch.pi / n)
        z = torch.zeros(n, self.latent_dim)
        z[:, 0] = cx + radius * torch.cos(t)
        z[:, 1] = cy + radius * torch.sin(t)
        with torch.no_grad():
            return self.decoder(z)

    def forward(self, rgb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(reconstruction, z)``."""
        z = self.encode(rgb)
        return self.decoder(z), z
