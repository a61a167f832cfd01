"""Several small training runs at once: one per core, each on one torch thread, against what a
user would write first — the runs one after another, torch on every core (its default), and one
after another on one thread (the course's setting for a single run).

Each variant trains the same ``--runs`` grokking runs (``quick`` size, ``--steps`` steps each,
seeds 1, 2, …) from the same initial weights. Printed: wall time, CPU time, the ratio to
``runtime.run_concurrently`` and whether the final weights are bit-identical to those trained one
after another on one thread. Usage: ``python benchmarks/concurrent_runs.py [--runs 2] [--steps 400]``.
"""

from __future__ import annotations

import argparse
import time

import torch

from _common import print_table  # noqa: E402
from course_lib import runtime  # noqa: E402
from course_lib.modular.training import GROKKING_SETTINGS, train_modular_addition  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--steps", type=int, default=400)
    args = parser.parse_args()
    cores = runtime.usable_cores()

    def jobs(threads):
        cfg = {**GROKKING_SETTINGS["quick"], "steps": args.steps, "threads": threads}
        return [lambda s=s: train_modular_addition(cfg, s, progress=False)["states"][-1]
                for s in range(1, args.runs + 1)]

    def timed(label, fn):
        wall, cpu = time.perf_counter(), time.process_time()
        out = fn()
        return label, time.perf_counter() - wall, time.process_time() - cpu, out

    train_modular_addition({**GROKKING_SETTINGS["quick"], "steps": 20}, 0, progress=False)   # warm-up
    results = [
        timed("one after another, 1 thread", lambda: [job() for job in jobs(1)]),
        timed(f"one after another, torch default ({torch.get_num_threads()} threads)",
              lambda: [job() for job in jobs(None)]),
        timed(f"run_concurrently ({min(cores, args.runs)} at once, 1 thread each)",
              lambda: runtime.run_concurrently(jobs(1), progress=False)),
    ]
    reference, ours = results[0][3], results[-1][1]
    rows = []
    for label, wall, cpu, states in results:
        same = all(torch.equal(a[k], b[k]) for a, b in zip(states, reference) for k in a)
        rows.append([label, wall, cpu, wall / ours, "yes" if same else "no"])
    print_table(f"{args.runs} grokking runs (quick size) × {args.steps} steps on {cores} usable cores",
                ["variant", "wall s", "CPU s", "wall / concurrent", "bit-identical to 1 thread"], rows)


if __name__ == "__main__":
    main()
