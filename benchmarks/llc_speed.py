"""Throughput of the course's LLC estimator against devinterp and a plain PyTorch loop.

Same model, same data, same hyperparameters (ε, nβ, γ, chains, burn-in, draws, batch size), measured
in one run, interleaved so a busy machine slows every variant alike:

* **course** — :func:`course_lib.slt.estimate_llc`: all chains in one vmapped call;
* **course, chains one by one** — the same function with ``vectorize=False``;
* **plain loop** — what a reader writes first: a copy of the model per chain, ``loss.backward()``
  and an in-place SGLD update of each parameter, chain after chain;
* **devinterp** — the field's library (2.x, test extra), through ``devinterp_bridge``.

Throughput is SGLD steps per second with every chain counted.  The headline ratio is engine
against engine — each variant against the plain loop, which like the course's estimator times only
the chains.  The ratio against devinterp is *end to end*: devinterp 2.x's ``sample()`` also writes
every step's per-sample losses to Zarr, loads batches through HF datasets (≈ 15 % of its time) and
its timer includes the initial loss.  The estimates (mean ± standard error over the chains) are
printed next to each other, with their z-score against the exact finite-nβ target where one is
known (the normal crossing): a speed-up only counts at equal estimates, and with the default 32
chains a 2 s.e.m. comparison means something (8 chains' standard errors are themselves ±25 %
uncertain).  devinterp is optional (the test extra); without it its column is skipped.  Usage:
``python benchmarks/llc_speed.py [--chains 32] [--draws 2000]``.
"""

from __future__ import annotations

import argparse
import copy
import math
import os
import time

import numpy as np
import torch
from torch import nn

from _common import print_table  # noqa: E402
from course_lib.slt import known, theory  # noqa: E402
from course_lib.slt.estimator import default_nbeta, estimate_llc  # noqa: E402


def plain_loop(model: nn.Module, loss_fn, data, *, epsilon: float, nbeta: float, gamma: float,
               num_chains: int, num_draws: int, num_burnin: int, batch_size: int | None,
               seed: int = 0) -> tuple[np.ndarray, float]:
    """A straightforward SGLD loop, one chain at a time; returns (per-chain λ̂, seconds)."""
    torch.manual_seed(seed)
    n = int(data[0].shape[0])
    start = time.perf_counter()
    with torch.no_grad():
        init = float(loss_fn(model, data))
    estimates = []
    for _ in range(num_chains):
        chain = copy.deepcopy(model)
        centre = [p.detach().clone() for p in chain.parameters()]
        losses = []
        for step in range(num_burnin + num_draws):
            if batch_size is None:
                batch = data
            else:
                index = torch.randint(0, n, (batch_size,))
                batch = tuple(t[index] for t in data)
            chain.zero_grad()
            loss = loss_fn(chain, batch)
            loss.backward()
            with torch.no_grad():
                for p, p0 in zip(chain.parameters(), centre):
                    drift = nbeta * p.grad + gamma * (p - p0)
                    p.add_(-epsilon / 2 * drift + math.sqrt(epsilon) * torch.randn_like(p))
            if step >= num_burnin:
                losses.append(float(loss.detach()))
        estimates.append(nbeta * (np.mean(losses) - init))
    return np.asarray(estimates), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chains", type=int, default=32)
    parser.add_argument("--draws", type=int, default=2000)
    parser.add_argument("--burnin", type=int, default=1500)  # ≥ 3τ = 6/(εγ) for the crossing
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    os.environ.setdefault("TQDM_DISABLE", "1")  # devinterp draws a progress bar per chain
    try:
        from devinterp_bridge import devinterp_llc, per_sample_squared_error
        import devinterp  # noqa: F401
    except ImportError:
        devinterp_llc = None
        print("devinterp is not installed (pip install -e '.[test]'): its column is skipped")

    problems = [
        (known.normal_crossing_problem((1, 2), n=1000), 1e-3, 5.0, None),
        (known.deep_linear_problem([4, 3, 3, 4], 1, n=4000), 1e-4, 1.0, 500),
    ]
    steps = args.chains * (args.draws + args.burnin)
    rows = []
    for problem, epsilon, gamma, batch in problems:
        settings = dict(epsilon=epsilon, nbeta=default_nbeta(problem.n), gamma=gamma,
                        num_chains=args.chains, num_draws=args.draws, num_burnin=args.burnin)
        timings: dict[str, list[float]] = {}
        estimates: dict[str, list[np.ndarray]] = {}
        for _ in range(args.rounds):
            for name in ("course", "course, chains one by one", "plain loop", "devinterp"):
                if name == "devinterp":
                    if devinterp_llc is None:
                        continue
                    result = devinterp_llc(problem.model, per_sample_squared_error, problem.data,
                                           batch_size=batch or problem.n, **settings)
                    value, seconds = result.per_chain, result.seconds
                elif name == "plain loop":
                    value, seconds = plain_loop(problem.model, problem.loss_fn, problem.data,
                                                batch_size=batch, **settings)
                else:
                    result = estimate_llc(problem.model, problem.loss_fn, problem.data,
                                          batch_size=batch, vectorize=name == "course",
                                          **settings)
                    value, seconds = result.per_chain, result.seconds
                timings.setdefault(name, []).append(seconds)
                estimates.setdefault(name, []).append(value)
        plain = min(timings["plain loop"])
        devinterp_best = min(timings["devinterp"]) if "devinterp" in timings else None
        target = None
        if problem.name.startswith("normal crossing"):
            k = tuple(int(v) for v in problem.name.split("=")[1].strip("()").split(",") if v.strip())
            target = theory.normal_crossing_expectation(k, settings["nbeta"], gamma)
        for name, seconds in timings.items():
            best = min(seconds)
            chains = estimates[name][0]  # the rounds repeat the same seeded chains
            sem = chains.std(ddof=1) / math.sqrt(chains.size)
            z = "—" if target is None else f"{(chains.mean() - target) / sem:+.2f}"
            end_to_end = "—" if devinterp_best is None else f"{devinterp_best / best:.1f}×"
            rows.append([problem.name, name, f"{steps / best:,.0f}", f"{plain / best:.1f}×",
                         end_to_end, f"{chains.mean():.3f} ± {sem:.3f}", z])
    print_table(f"LLC estimator throughput ({args.chains} chains × ({args.burnin} burn-in + "
                f"{args.draws} draws), best of {args.rounds} interleaved rounds, "
                f"{torch.get_num_threads()} threads)",
                ["problem", "estimator", "steps/s", "vs plain loop (engine)",
                 "vs devinterp (end to end)", "λ̂ ± s.e.m.", "z vs exact target"], rows)


if __name__ == "__main__":
    main()
