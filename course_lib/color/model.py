"""The bottleneck autoencoder: RGB → 2-D latent (optionally on the unit circle) → RGB.

    encoder: Linear(3, hidden) – act – Linear(hidden, latent_dim) – [L2Normalize]
    decoder: Linear(latent_dim, hidden) – act – Linear(hidden, 3) – Sigmoid

With ``normalize=True`` every latent is forced onto the unit circle, so the only thing the
encoder can choose is an *angle*. Hue is itself an angle; without the constraint the latents may
spread over the plane, and the loop they form need not go round the origin (see notebook 1.2).

:class:`StackedColorAutoencoder` is S such models in one module (every weight with a leading model
axis, one batched matmul per layer): how the course trains many seeds at once
(:mod:`course_lib.color.trainer`). :meth:`StackedColorAutoencoder.from_seeds` gives seed ``s``
exactly the initial weights ``seed_everything(s); ColorAutoencoder(...)`` would.
"""

from __future__ import annotations

import torch
from torch import nn

from ..runtime import GLOBAL_RNG_LOCK
from ..validation import check_choice, check_float, check_int

__all__ = ["L2Normalize", "ColorAutoencoder", "StackedColorAutoencoder", "ACTIVATIONS"]

#: Activations the autoencoder accepts by name.
ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "tanh": nn.Tanh,
    "silu": nn.SiLU,
    # the linear control: the same layers with no nonlinearity (notebook 1.2)
    "identity": nn.Identity,
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
        check_choice(activation, "activation", sorted(ACTIVATIONS))
        self.latent_dim = latent_dim
        self.hidden = hidden
        self.normalize = bool(normalize)
        self.activation = activation
        act = ACTIVATIONS[activation]
        # nn.Linear draws its initial weights from torch's global generator: under the lock that
        # runtime.seeded holds, so that a model built beside a seeded block cannot draw inside it
        with GLOBAL_RNG_LOCK:
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


#: The linear layers of :class:`ColorAutoencoder`, by state_dict prefix.
LAYERS = ("encoder.0", "encoder.2", "decoder.0", "decoder.2")


class _StackedLinear(nn.Module):
    """S linear layers at once: weight (S, out, in), bias (S, out)."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor) -> None:
        super().__init__()
        self.weight = nn.Parameter(weight)
        self.bias = nn.Parameter(bias)

    def forward(self, inp: torch.Tensor) -> torch.Tensor:
        w, b = self.weight, self.bias
        if inp.ndim == 2:  # one input shared by every model
            return torch.matmul(inp, w.transpose(1, 2)) + b[:, None, :]
        return torch.baddbmm(b[:, None, :], inp, w.transpose(1, 2))


class StackedColorAutoencoder(nn.Module):
    """S independent :class:`ColorAutoencoder` s with their weights stacked on a leading axis.

    ``state_dict()`` has the single model's keys (``encoder.0.weight`` …) with shapes (S, …);
    ``forward(x)`` takes a shared batch ``x`` (N, 3) or one per model (S, N, 3) and returns every
    model's ``(reconstruction (S, N, 3), z (S, N, d))``. One backward of the summed per-model
    losses gives each model exactly its own gradient, and Adam is elementwise, so one Adam over
    the stacked weights is S independent Adams. For models this small the batched matmuls are
    several times faster on a CPU than ``torch.vmap`` over ``functional_call``.
    """

    def __init__(self, state: dict[str, torch.Tensor], *, normalize: bool, activation: str = "relu") -> None:
        super().__init__()
        check_choice(activation, "activation", sorted(ACTIVATIONS))
        missing = [f"{layer}.{p}" for layer in LAYERS for p in ("weight", "bias") if f"{layer}.{p}" not in state]
        if missing:
            raise ValueError(f"state is missing {missing}")
        self.normalize = bool(normalize)
        self.activation = activation
        self.act = ACTIVATIONS[activation]()

        def pair(prefix: str) -> nn.ModuleDict:
            return nn.ModuleDict({i: _StackedLinear(state[f"{prefix}.{i}.weight"], state[f"{prefix}.{i}.bias"])
                                  for i in ("0", "2")})

        self.encoder = pair("encoder")
        self.decoder = pair("decoder")
        self.n_models = int(self.encoder["0"].weight.shape[0])
        self.latent_dim = int(self.encoder["2"].weight.shape[1])
        self.hidden = int(self.encoder["0"].weight.shape[1])

    @classmethod
    def from_seeds(cls, seeds: list[int], *, latent_dim: int = 2, hidden: int = 16, normalize: bool = True,
                   activation: str = "relu") -> "StackedColorAutoencoder":
        """One model per seed, seed ``s`` with exactly ``ColorAutoencoder``'s initial weights after
        ``seed_everything(s)`` (drawn inside :func:`~course_lib.runtime.seeded`, so that runs trained at
        once cannot draw from the global generator in between)."""
        from ..runtime import seeded

        states = []
        for s in seeds:
            with seeded(s):
                states.append(ColorAutoencoder(latent_dim=latent_dim, hidden=hidden, normalize=normalize,
                                               activation=activation).state_dict())
        stacked = {k: torch.stack([st[k] for st in states]).clone() for k in states[0]}
        return cls(stacked, normalize=normalize, activation=activation)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Every model's ``(reconstruction, z)`` for ``x`` (N, 3) or (S, N, 3)."""
        enc, dec = self.encoder, self.decoder
        z = enc["2"](self.act(enc["0"](x)))
        if self.normalize:
            z = z / z.norm(dim=-1, keepdim=True).clamp_min(1e-8)
        recon = torch.sigmoid(dec["2"](self.act(dec["0"](z))))
        return recon, z

    def unstack(self, index: int) -> ColorAutoencoder:
        """Model ``index`` as a :class:`ColorAutoencoder` (a copy; CPU, eval mode)."""
        model = ColorAutoencoder(latent_dim=self.latent_dim, hidden=self.hidden, normalize=self.normalize,
                                 activation=self.activation)
        model.load_state_dict({k: v[index].detach().cpu().clone() for k, v in self.state_dict().items()})
        return model.eval()
