"""Gradient routing on the colour autoencoder: red's gradients go to one latent dimension only.

Gradient routing (Cloud et al., 2024) chooses, per training example, which parameters its
gradient may change; the forward pass is untouched. Here red's examples (:func:`red_set_mask`)
may change only the parameters of latent dimension ``dim`` — the encoder's output row for it
(weight and bias) and the decoder's input column — and every other example's gradient stops at
that dimension: it changes neither those parameters nor anything upstream through ``z_dim``.
After training, :func:`course_lib.curriculum.deletion.delete_dimension` (or the masks of
:func:`~course_lib.curriculum.deletion.deletion_masks`) removes the dimension.

It is implemented with ``detach``: a parameter ``W`` that a group of examples may not change is
used in their forward pass as ``W·m + (W·(1 − m)).detach()`` with the 0/1 mask ``m`` of what they
may change — the value is ``W``, the gradient reaches only the masked-in entries.

* :func:`red_set_mask` — which colours count as red for routing, filtering and unlearning;
* :func:`routed_forward` — a stacked model's ``(recon, z)`` with one group's gradient routing;
* :func:`routed_loss` — the reconstruction MSE with red routed to ``dim`` and the rest kept out;
* :func:`routed_sweep` — many seeds trained at once with routing (same record as
  :func:`~course_lib.curriculum.train.train_sweep`), cached; :func:`routed_sweeps` — the same for
  several ``keep_out`` weights, all trained in one stacked run.

Extra loss terms (``terms``, weighted by the schedule's value of the same name, e.g. notebook 2.3's
separation term) act on the routed codes ``z``, so their gradients obey the same routing: a red
code's term gradient reaches only ``dim``'s own parameters, another colour's stops at ``z_dim``.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Optional, Sequence, Union

import numpy as np
import torch

from .. import cache
from ..color.model import StackedColorAutoencoder
from ..color.spaces import rgb_to_hsv
from ..color.trainer import fit
from ..runtime import check_seeds
from ..validation import check_choice, check_float, check_int
from .runs import FORMAT, CurriculumSweep, ProbeCheckpoints

__all__ = ["red_set_mask", "routing_masks", "routed_forward", "routed_loss", "routed_sweep", "routed_sweeps",
           "ROUTING_VERSION"]

ROUTING_VERSION = "routing-v2"
GROUPS = ("red", "other")


def red_set_mask(rgb: Any) -> torch.Tensor:
    """Which colours are "red" (bool, shape (N,)): hue within 5° of 0°, saturation and value ≥ 0.5.

    On the course's 3,600-colour HSV grid (hue every 10°) that is 25 colours, pure red among them."""
    x = torch.as_tensor(rgb, dtype=torch.float32)
    if x.ndim != 2 or x.shape[1] != 3:
        raise ValueError(f"rgb must have shape (N, 3), got {tuple(x.shape)}")
    if not bool(torch.isfinite(x).all()) or bool(((x < -1e-6) | (x > 1 + 1e-6)).any()):
        raise ValueError("rgb must be finite RGB in [0, 1]")
    hsv = torch.as_tensor(rgb_to_hsv(x.clamp(0, 1).numpy()), dtype=torch.float32)
    hue = hsv[:, 0]
    near = (hue < 5 / 360 + 1e-6) | (hue > 355 / 360 - 1e-6)
    return near & (hsv[:, 1] >= 0.5 - 1e-6) & (hsv[:, 2] >= 0.5 - 1e-6)


def routing_masks(latent_dim: int, hidden: int, dim: int) -> dict[str, torch.Tensor]:
    """0/1 masks of dimension ``dim``'s own parameters: ``encoder.2.weight`` row, ``encoder.2.bias``
    entry, ``decoder.0.weight`` column (shapes of one model; they broadcast over a stack)."""
    latent_dim = check_int(latent_dim, "latent_dim", min=2)
    hidden = check_int(hidden, "hidden", min=1)
    dim = check_int(dim, "dim", min=0, max=latent_dim - 1)
    enc_w, enc_b, dec_w = torch.zeros(latent_dim, hidden), torch.zeros(latent_dim), torch.zeros(hidden, latent_dim)
    enc_w[dim] = 1.0
    enc_b[dim] = 1.0
    dec_w[:, dim] = 1.0
    return {"encoder.2.weight": enc_w, "encoder.2.bias": enc_b, "decoder.0.weight": dec_w}


def _only(w: torch.Tensor, m: Optional[torch.Tensor]) -> torch.Tensor:
    """``w`` whose gradient reaches only where ``m`` is 1 (``m`` None: nowhere)."""
    if m is None:
        return w.detach()
    return w * m + (w * (1.0 - m)).detach()


def _lin(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    if x.ndim == 2:
        return torch.matmul(x, w.transpose(1, 2)) + b[:, None, :]
    return torch.baddbmm(b[:, None, :], x, w.transpose(1, 2))


def routed_forward(model: StackedColorAutoencoder, x: torch.Tensor, dim: int,
                   group: str) -> tuple[torch.Tensor, torch.Tensor]:
    """``model(x)`` — same values — with the gradient routed for ``group``:

    ``"red"``: only dimension ``dim``'s parameters (encoder row, decoder column) receive gradient;
    ``"other"``: every parameter *except* those, and no gradient flows back through ``z_dim``.
    """
    if not isinstance(model, StackedColorAutoencoder):
        raise TypeError(f"model must be a StackedColorAutoencoder, got {type(model).__name__}")
    dim = check_int(dim, "dim", min=0, max=model.latent_dim - 1)
    check_choice(group, "group", GROUPS)
    if not isinstance(x, torch.Tensor) or x.shape[-1] != 3 or x.ndim not in (2, 3):
        raise ValueError(f"x must be a tensor of shape (N, 3) or (S, N, 3), got {getattr(x, 'shape', x)}")
    recon, z, _ = _routed(model, x, dim, group)
    return recon, z


def _routed(model: StackedColorAutoencoder, x: torch.Tensor, dim: int,
            group: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """:func:`routed_forward` without the checks, also returning the encoder's hidden layer ``h``."""
    m = {k: v.to(x.dtype) for k, v in routing_masks(model.latent_dim, model.hidden, dim).items()}
    enc, dec, act = model.encoder, model.decoder, model.act
    if group == "red":
        h = act(_lin(x, enc["0"].weight.detach(), enc["0"].bias.detach()))
        z = _lin(h, _only(enc["2"].weight, m["encoder.2.weight"]), _only(enc["2"].bias, m["encoder.2.bias"]))
    else:
        h = act(enc["0"](x))
        z = _lin(h, _only(enc["2"].weight, 1 - m["encoder.2.weight"]),
                 _only(enc["2"].bias, 1 - m["encoder.2.bias"]))
        keep = torch.ones(model.latent_dim, dtype=x.dtype)
        keep[dim] = 0.0
        z = z * keep + (z * (1 - keep)).detach()           # the gradient stops at z_dim
    if model.normalize:
        z = z / z.norm(dim=-1, keepdim=True).clamp_min(1e-8)
    if group == "red":
        u = _lin(z, _only(dec["0"].weight, m["decoder.0.weight"]), dec["0"].bias.detach())
        recon = torch.sigmoid(_lin(act(u), dec["2"].weight.detach(), dec["2"].bias.detach()))
    else:
        u = _lin(z, _only(dec["0"].weight, 1 - m["decoder.0.weight"]), dec["0"].bias)
        recon = torch.sigmoid(dec["2"](act(u)))
    return recon, z, h


def routed_loss(model: StackedColorAutoencoder, x: torch.Tensor, red: torch.Tensor, dim: int,
                keep_out: Union[float, torch.Tensor] = 0.0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-model training loss over ``x`` (N, 3): the reconstruction MSE — the same value as
    unrouted — with the rows where ``red`` (N,) is True routed to ``dim`` and the others kept out of
    it, plus ``keep_out`` × the others' mean ``z_dim²`` whose gradient reaches *only* ``dim``'s encoder
    row (so the dimension's own parameters learn to stay silent for non-red colours, and nothing else
    learns from that term). ``keep_out`` may be one weight per model (a tensor of shape (S,)).
    Returns ``(loss (S,), mse (S,), z (S, N, d))``."""
    if not isinstance(red, torch.Tensor) or red.dtype != torch.bool or red.shape != (x.shape[0],):
        raise ValueError(f"red must be a bool tensor of shape ({x.shape[0]},)")
    S = model.n_models
    if isinstance(keep_out, torch.Tensor):
        if keep_out.shape not in ((), (S,)) or not bool(torch.isfinite(keep_out).all()) or bool((keep_out < 0).any()):
            raise ValueError(f"keep_out must be a finite weight ≥ 0 or a tensor of {S} of them")
        keep_out = keep_out.to(x.dtype)
        active = bool((keep_out > 0).any())
    else:
        keep_out = check_float(keep_out, "keep_out", min=0)
        active = keep_out > 0
    recon = x.new_zeros(S, x.shape[0], 3)
    z = x.new_zeros(S, x.shape[0], model.latent_dim)
    dim = check_int(dim, "dim", min=0, max=model.latent_dim - 1)
    h_other = None
    for group, rows in (("red", red), ("other", ~red)):
        if bool(rows.any()):
            r, zz, h = _routed(model, x[rows], dim, group)
            recon = _put(recon, rows, r)
            z = _put(z, rows, zz)
            if group == "other":
                h_other = h
    mse = ((recon - x) ** 2).mean(dim=(-2, -1))
    loss = mse
    if active and bool((~red).any()):
        loss = mse + keep_out * (_own_code(model, h_other.detach(), dim) ** 2).mean(dim=-1)
    return loss, mse, z


def _own_code(model: StackedColorAutoencoder, h: torch.Tensor, dim: int) -> torch.Tensor:
    """``z_dim`` (S, N) of the colours whose (detached) hidden layer is ``h`` (S, N, hidden), as
    :func:`routed_forward` gives it for group ``"red"`` — the gradient reaches only ``dim``'s encoder row
    and bias — without running the decoder (the keep-out term needs only the code)."""
    enc = model.encoder
    with torch.no_grad():
        raw = _lin(h, enc["2"].weight, enc["2"].bias)
    own = torch.matmul(h, enc["2"].weight[:, dim, :, None])[..., 0] + enc["2"].bias[:, dim, None]   # (S, N)
    if not model.normalize:
        return own
    rest = (raw ** 2).sum(-1) - raw[..., dim] ** 2
    return own / (own ** 2 + rest).sqrt().clamp_min(1e-8)



def _put(full: torch.Tensor, rows: torch.Tensor, part: torch.Tensor) -> torch.Tensor:
    out = full.clone()
    out[:, rows] = part
    return out


def routed_sweep(seeds: Sequence[int], *, data: Callable[[int, dict], torch.Tensor], schedule: Any, steps: int,
                 dim: int, key: dict, keep_out: float = 0.0, terms: Optional[Mapping[str, Callable]] = None,
                 latent_dim: int = 5, hidden: int = 16, activation: str = "gelu",
                 probe: Optional[torch.Tensor] = None, checkpoint_steps: Sequence[int] = (),
                 progress: bool = True) -> CurriculumSweep:
    """Every seed trained ``steps`` full-batch Adam updates on :func:`routed_loss` (red:
    :func:`red_set_mask` of each step's data), normalised bottleneck; ``data(step, values)`` and
    ``schedule.values(step)["lr"]`` as in :func:`~course_lib.curriculum.train.train_sweep`; each
    entry of ``terms`` (batched ``term(z, x)`` → (S,)) is added with weight ``values[name]`` and is
    logged under its name. Seed ``s`` starts from ``train_sweep``'s initial weights for ``s``.
    Cached under ``key`` (a JSON-able description of ``data``, ``schedule`` and ``probe``)."""
    keep_out = check_float(keep_out, "keep_out", min=0)
    return routed_sweeps(seeds, data=data, schedule=schedule, steps=steps, dim=dim, key=key, keep_outs=[keep_out],
                         terms=terms, latent_dim=latent_dim, hidden=hidden, activation=activation, probe=probe,
                         checkpoint_steps=checkpoint_steps, progress=progress)[keep_out]


def routed_sweeps(seeds: Sequence[int], *, data: Callable[[int, dict], torch.Tensor], schedule: Any, steps: int,
                  dim: int, key: dict, keep_outs: Sequence[float], terms: Optional[Mapping[str, Callable]] = None,
                  latent_dim: int = 5, hidden: int = 16, activation: str = "gelu",
                  probe: Optional[torch.Tensor] = None, checkpoint_steps: Sequence[int] = (),
                  progress: bool = True) -> dict[float, CurriculumSweep]:
    """:func:`routed_sweep` for every weight in ``keep_outs`` — ``{keep_out: sweep}`` — trained as one
    stack of ``len(keep_outs) × len(seeds)`` models (each model's loss and gradient are its own, so
    the result is the same as separate runs, at a fraction of the cost). Cached as a whole."""
    seeds = check_seeds(seeds)
    steps = check_int(steps, "steps", min=1)
    if isinstance(keep_outs, (int, float)) or not len(keep_outs):
        raise ValueError("keep_outs must be a non-empty sequence of weights ≥ 0")
    kos = [check_float(k, "keep_outs", min=0) for k in keep_outs]
    if len(set(kos)) != len(kos):
        raise ValueError("keep_outs must be distinct")
    terms = dict(terms or {})
    for name, f in terms.items():
        if name in ("loss", "recon", "lr") or not callable(f):
            raise ValueError(f"terms must map new names to callables, got {name!r}")
    snaps = np.asarray(sorted(set(int(s) for s in checkpoint_steps) | {0, steps}), dtype=np.int64)
    if snaps[0] < 0 or snaps[-1] > steps:
        raise ValueError(f"checkpoint_steps must lie in [0, {steps}]")
    if not callable(data) or not callable(getattr(schedule, "values", None)):
        raise TypeError("data must be callable data(step, values) and schedule have values(step)")
    config = {"key": dict(key), "v": ROUTING_VERSION, "format": FORMAT, "seeds": seeds, "steps": steps,
              "dim": int(dim), "keep_outs": kos, "terms": sorted(terms), "latent_dim": int(latent_dim),
              "hidden": int(hidden), "activation": activation, "snaps": snaps.tolist()}

    def compute() -> dict[float, CurriculumSweep]:
        one = StackedColorAutoencoder.from_seeds(seeds, latent_dim=latent_dim, hidden=hidden, normalize=True,
                                                 activation=activation)
        K, S = len(kos), len(seeds)
        stacked = {k: torch.cat([v.detach()] * K).clone() for k, v in one.state_dict().items()}
        model = StackedColorAutoencoder(stacked, normalize=True, activation=activation)
        weight = torch.tensor(kos, dtype=torch.float32).repeat_interleave(S)       # model k·S + s: kos[k], seed s
        probe_x = probe if probe is not None else data(0, schedule.values(0))
        logs = {name: torch.empty(K * S, steps) for name in ("loss", "recon", *terms)}
        n_data = np.empty(steps, dtype=np.int64)
        lrs: list[float] = []
        values_log: dict[str, list[float]] = {name: [] for name in terms}
        checkpoint = ProbeCheckpoints(model, probe_x)
        memo: dict = {}

        def batch_at(step: int):
            values = schedule.values(step)
            x = data(step, values)
            if memo.get("x") is not x:
                memo.update(x=x, red=red_set_mask(x))
            memo["values"] = values
            n_data[step] = len(x)
            lrs.append(float(values["lr"]))
            for name in terms:
                values_log[name].append(float(values.get(name, 0.0)))
            return x, float(values["lr"])

        def loss(m, xb, step):
            total, mse, z = routed_loss(m, xb, memo["red"], dim, weight)
            parts = {"recon": mse}
            for name, f in terms.items():
                raw = f(z, xb)
                parts[name] = raw
                w = float(memo["values"].get(name, 0.0))
                if w:
                    total = total + w * raw
            return total, parts

        def after(step, total, parts):
            logs["loss"][:, step] = total.detach()
            for name, v in parts.items():
                logs[name][:, step] = v.detach()

        fit(model, steps=steps, batch_at=batch_at, loss=loss, lr=float(schedule.values(0)["lr"]), checkpoints=snaps,
            on_checkpoint=checkpoint, after_update=after, n_models=K * S, share_threads=True,
            desc=f"routing {K}×{S} models", progress=progress)
        out = {}
        for k, ko in enumerate(kos):
            part = slice(k * S, (k + 1) * S)
            cfg = {"steps": steps, "lr": lrs[0], "latent_dim": int(latent_dim), "hidden": int(hidden),
                   "normalize": True, "activation": activation, "batch_size": None, "terms": sorted(terms),
                   "extra": {"routed_dim": int(dim), "keep_out": ko}, "masked": [], "fine_tuned": False}
            out[ko] = CurriculumSweep(
                config=cfg, seeds=np.asarray(seeds),
                losses={name: v[part].numpy().astype(np.float32) for name, v in logs.items()},
                values={"lr": np.asarray(lrs), **{n: np.asarray(v) for n, v in values_log.items()}},
                n_data=n_data.copy(), checkpoint_steps=snaps, probe_rgb=probe_x.numpy().copy(),
                **checkpoint.of_models(part))
        return out

    return cache.cached("routed_sweeps", config, compute)
