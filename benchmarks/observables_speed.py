"""Throughput of the per-sample devices (course_lib.slt.observables) on estimate_llc's chains.

Same model, data and chain settings, measured in one run, interleaved so a busy machine slows every
variant alike:

* **LLC only** — :func:`estimate_llc` with no observer: the sampler's own cost;
* **loss kernel** — :func:`loss_covariance` (probe = the training data): the sampler plus one
  vmapped per-sample forward pass per draw and a Welford update of an n × n co-moment per chain;
* **stored draws + np.cov** — the naive alternative: the same per-sample evaluation at every draw,
  but kept, then one covariance at the end (its memory grows with draws; the streamed one does not).
  The difference between the last two is streaming against storing; the difference between the
  first two is the per-sample forward pass each draw needs either way.

Throughput is SGLD steps per second with every chain counted; memory is the bytes each variant
holds for the covariance.  The model is Gaussian linear regression (d = 3), so the covariances of
both variants can be compared with each other to float64 precision.  Usage:
``python benchmarks/observables_speed.py [--n 200] [--chains 8] [--draws 2000]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from _common import print_table  # noqa: E402
from course_lib.slt import influence_known as ik  # noqa: E402
from course_lib.slt.estimator import estimate_llc  # noqa: E402
from course_lib.slt.observables import _PerSampleAt, loss_covariance  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--chains", type=int, default=8)
    parser.add_argument("--draws", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    p = ik.gaussian_regression(n=args.n, d=3, seed=1)
    X = p.data[0].numpy()
    nbeta = float(args.n)
    epsilon = 0.2 / (np.linalg.eigvalsh(X.T @ X).max() + 1.0)
    kw = dict(epsilon=epsilon, nbeta=nbeta, gamma=1.0, num_chains=args.chains,
              num_draws=args.draws, num_burnin=100, seed=0)
    steps = args.chains * (args.draws + 100)
    times = {"LLC only": [], "loss kernel (streamed)": [], "stored draws + np.cov": []}
    memory, results = {}, {}
    for _ in range(args.repeats):
        t = time.perf_counter()
        estimate_llc(p.model, ik.half_squared_error, p.data, **kw)
        times["LLC only"].append(time.perf_counter() - t)

        t = time.perf_counter()
        cov = loss_covariance(p.model, ik.half_squared_error, ik.per_sample_half_squared_error,
                              p.data, **kw)
        times["loss kernel (streamed)"].append(time.perf_counter() - t)
        memory["loss kernel (streamed)"], results["streamed"] = cov.memory_bytes, cov.covariance

        stored = []
        at = _PerSampleAt(p.model, ik.per_sample_half_squared_error, 4096)  # the same evaluation

        def keep(draw, W, flat_loss):
            stored.append(at(W, flat_loss, p.data).numpy().copy())

        t = time.perf_counter()
        estimate_llc(p.model, ik.half_squared_error, p.data, observer=keep, **kw)
        draws = np.stack(stored, axis=1).reshape(-1, args.n)
        results["stored"] = np.cov(draws.T)
        times["stored draws + np.cov"].append(time.perf_counter() - t)
        memory["stored draws + np.cov"] = draws.nbytes
    memory["LLC only"] = 0
    rows = [[name, f"{steps / min(ts):,.0f}", f"{min(ts):.2f}", f"{memory[name] / 1e6:.2f}"]
            for name, ts in times.items()]
    print_table(f"per-sample devices, n = {args.n}, {args.chains} chains × {args.draws} draws "
                f"(torch threads {torch.get_num_threads()})",
                ["variant", "steps/s", "best s", "covariance memory MB"], rows)
    diff = np.abs(results["streamed"] - results["stored"]).max()
    print(f"\nmax |streamed − stored| = {diff:.2e} (the stored variant is the same chains' draws)")


if __name__ == "__main__":
    main()
