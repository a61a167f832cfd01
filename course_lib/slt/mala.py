"""An exact reference sampler for the learning coefficient: Metropolis-adjusted Langevin (MALA).

SGLD (:func:`~course_lib.slt.estimator.estimate_llc`) never rejects a step, so its chains sample a
slightly wrong law whose error grows with the step size ε. MALA proposes the same Langevin step on
the full-data potential and accepts or rejects it (Roberts & Tweedie 1996), so its chains sample the
localised tempered posterior itself at any ε. On a small model the difference between the two
estimates is SGLD's discretisation bias, separate from the bias of the localisation γ and of the
finite nβ that both share.
"""

from __future__ import annotations

import math
import time
from typing import Iterable, Optional, Sequence

import torch
from torch import nn

from .estimator import (FlatLoss, LLCResult, LossFn, _check_chains, _selected_names,
                        check_chain_settings, check_sampler_inputs, divergence_radius2,
                        full_data_loss, llc_result)

__all__ = ["mala_llc"]


def mala_llc(
    model: nn.Module,
    loss_fn: LossFn,
    data: Sequence[torch.Tensor],
    *,
    epsilon: float,
    nbeta: Optional[float] = None,
    gamma: float = 1.0,
    num_chains: int = 4,
    num_draws: int = 1000,
    num_burnin: int = 200,
    seed: int = 0,
    params: Optional[Iterable[str]] = None,
    check_every: int = 100,
) -> LLCResult:
    """The same estimate as :func:`estimate_llc`, sampled *exactly*: Metropolis-adjusted Langevin.

    Each step proposes the full-batch Langevin step w' = w − (ε/2)∇U(w) + √ε ξ, with
    U(w) = nβ L_n(w) + (γ/2)‖w − w*‖², and accepts it with probability
    min(1, exp(U(w) − U(w') + log q(w | w') − log q(w' | w))), q the Gaussian proposal density.
    The accept/reject step removes the discretisation bias of SGLD: at any ε the chain's stationary
    law is the localised tempered posterior itself, so comparing SGLD against it separates the
    step-size bias from the bias of the localisation and of the finite nβ.  It needs the full-data
    loss every step (no minibatches), so it is for small models.  ``loss_trace`` holds L_n at each
    draw; ``settings["acceptance"]`` the fraction of accepted proposals after burn-in.
    """
    data, n, nbeta = check_sampler_inputs(model, loss_fn, data, nbeta)
    epsilon, gamma, num_chains, num_draws, num_burnin, check_every, seed = check_chain_settings(
        epsilon, gamma, num_chains, num_draws, num_burnin, check_every, seed)
    names = _selected_names(model, params)
    first = next(model.parameters())
    device, dtype = first.device, first.dtype
    data = tuple(t.to(device) for t in data)
    was_training = model.training
    model.eval()
    try:
        loss = FlatLoss(model, loss_fn, names)
        init_loss = full_data_loss(loss, loss.w_star, data)
        if not math.isfinite(init_loss):
            raise ValueError(f"loss_fn is not finite at w* (L_n(w*) = {init_loss})")
        start = time.perf_counter()
        generator = torch.Generator(device=device).manual_seed(seed)
        w_star = loss.w_star.to(device=device, dtype=dtype)
        forward = torch.vmap(loss, in_dims=(0, None))

        def potential(W: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
            leaf = W.detach().requires_grad_(True)
            losses = forward(leaf, data)
            U = nbeta * losses + gamma / 2 * (leaf - w_star).pow(2).sum(dim=1)
            (grad,) = torch.autograd.grad(U.sum(), leaf)
            return U.detach(), grad, losses.detach()

        steps = num_burnin + num_draws
        radius2 = divergence_radius2(w_star, epsilon=epsilon, gamma=gamma, steps=steps,
                                     nbeta=nbeta, init_loss=init_loss)
        W = w_star.expand(num_chains, -1).clone()
        trace = torch.empty(num_chains, steps, device=device, dtype=dtype)
        accepted = torch.zeros(num_chains, device=device, dtype=dtype)
        with torch.enable_grad():
            U, grad, losses = potential(W)
            for t in range(steps):
                noise = torch.randn(W.shape, generator=generator, device=device, dtype=dtype)
                proposal = W - epsilon / 2 * grad + math.sqrt(epsilon) * noise
                U_new, grad_new, losses_new = potential(proposal)
                forward_q = noise.pow(2).sum(dim=1) / 2   # −log q(w'|w) up to a constant
                back = W - proposal + epsilon / 2 * grad_new
                backward_q = back.pow(2).sum(dim=1) / (2 * epsilon)
                log_ratio = U - U_new + forward_q - backward_q
                uniform = torch.rand(num_chains, generator=generator, device=device, dtype=dtype)
                accept = torch.log(uniform) < log_ratio
                W = torch.where(accept[:, None], proposal, W)
                U = torch.where(accept, U_new, U)
                grad = torch.where(accept[:, None], grad_new, grad)
                losses = torch.where(accept, losses_new, losses)
                trace[:, t] = losses
                if t >= num_burnin:
                    accepted += accept.to(dtype)
                if (t + 1) % check_every == 0 or t + 1 == steps:
                    _check_chains(trace, t + 1, W, epsilon, gamma, num_burnin, w_star=w_star,
                                  radius2=radius2, init_loss=init_loss, nbeta=nbeta)
        seconds = time.perf_counter() - start
    finally:
        model.train(was_training)
    return llc_result(trace.double().cpu().numpy(), num_burnin, init_loss=init_loss, epsilon=epsilon,
                      nbeta=nbeta, gamma=gamma, n=n, batch_size=n, seed=seed, seconds=seconds,
                      num_params=int(loss.w_star.numel()),
                      settings={"sampler": "mala", "acceptance": float(accepted.mean()) / num_draws,
                                "params": None if params is None else names, "device": str(device)})
