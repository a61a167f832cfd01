"""Per-sample susceptibilities χ(x, C) on Chapter 3's grokking transformer: the course's
:func:`course_lib.slt.susceptibilities` against devinterp 2.x (test extra), measured in one run.

Same model, data and settings on both sides (ε, nβ, γ, chains, burn-in, draws, full batch, the
same weights per component: each attention head, the MLP, the embedding); see
``devinterp_bridge.devinterp_susceptibilities`` for how the settings are matched. Both compute the
course's χ = Cov_C(φ_C, ℓ_x − L); devinterp's own output (a different centring and the opposite
sign) is recomputed from its draws as a check. Two ratios, labelled as such:

* **engine to engine** — sampling + accumulation only: the course's ``susceptibilities`` call
  against devinterp's ``sample`` of the same restricted runs + ``compute_susceptibilities``
  (shown with and without the unrestricted "full" run devinterp requires for its centring);
* **end to end** — from the trained model to the χ array: the course adds building the
  component-split model; devinterp adds the HF ``Dataset``, the masks, writing every draw's
  per-sample losses to Zarr and reading them back, and putting the rows in sample order.

Rounds are interleaved (a busy machine slows both alike); the best round counts. The agreement of
the two χ (correlation over samples per component, and the norm ratio) is printed from the same
run: a speed-up only counts at equal answers. Usage:
``python benchmarks/susceptibility_devinterp.py [--model tiny|quick] [--chains 4] [--draws 150]
[--burnin 30] [--rounds 2] [--threads 1]``; ``quick`` is the quick-profile run of notebook 5.5 at
its final checkpoint (trained and cached on first use).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

os.environ.setdefault("TQDM_DISABLE", "1")  # before tqdm is imported: devinterp's chain bars

import numpy as np  # noqa: E402
import torch  # noqa: E402

from _common import print_table  # noqa: E402
from course_lib.slt import course_models  # noqa: E402
from course_lib.slt.components import (ComponentTransformer, mean_cross_entropy,  # noqa: E402
                                       per_pair_cross_entropy)
from course_lib.slt.estimator import default_nbeta  # noqa: E402
from course_lib.slt.observables import susceptibilities  # noqa: E402

#: the tiny run of the same architecture the test uses (p = 11, 60 training pairs)
TINY = dict(p=11, train_fraction=0.5, d_model=16, n_heads=2, d_mlp=32, steps=300,
            checkpoint_every=100, warmup=2, threads=1)


def import_seconds(module: str) -> float:
    """Cold import time of ``module`` in a fresh interpreter (not part of the ratios)."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["tiny", "quick"], default="tiny")
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--draws", type=int, default=150)
    parser.add_argument("--burnin", type=int, default=30)
    parser.add_argument("--epsilon", type=float, default=3e-3)
    parser.add_argument("--gamma", type=float, default=100.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads for both (tiny tensors: 1 is fastest on a shared CPU)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    try:
        import devinterp  # noqa: F401
        from devinterp_bridge import devinterp_susceptibilities, grokking_components
    except ImportError:
        print("devinterp is not installed (pip install -e '.[test]'): nothing to compare")
        return

    overrides = TINY if args.model == "tiny" else {}
    run = course_models.grokking_run(seed=0, profile="quick", progress=False, **overrides)
    source = run.model_at(run.final_step)
    pairs, labels = run.data_at(run.final_step)
    n = int(pairs.shape[0])
    settings = dict(epsilon=args.epsilon, nbeta=default_nbeta(n), gamma=args.gamma,
                    num_chains=args.chains, num_draws=args.draws, num_burnin=args.burnin)
    times: dict[str, list[float]] = {}
    ours = theirs = None
    for _ in range(args.rounds):
        start = time.perf_counter()
        split = ComponentTransformer(source, [list(range(int(source.d_mlp)))])
        components = {f"head {i}": split.head_names(i) for i in range(split.n_heads)}
        components["MLP"] = split.cell_names(0) + ["b_out"]
        components["embedding"] = ["W_E", "W_pos"]
        engine = time.perf_counter()
        ours = susceptibilities(split, mean_cross_entropy, per_pair_cross_entropy,
                                (pairs, labels), components, seed=0, **settings)
        end = time.perf_counter()
        times.setdefault("course engine", []).append(end - engine)
        times.setdefault("course end to end", []).append(end - start)

        start = time.perf_counter()
        setup = grokking_components(source)   # (also builds the course's split: a few ms)
        theirs = devinterp_susceptibilities(source, setup.token_loss, pairs, setup.restrictions,
                                            seed=0, **settings)
        end = time.perf_counter()
        times.setdefault("devinterp engine", []).append(theirs.engine_seconds)
        times.setdefault("devinterp engine, restricted runs only", []).append(
            theirs.engine_seconds - theirs.full_seconds)
        times.setdefault("devinterp end to end", []).append(end - start)
    best = {k: min(v) for k, v in times.items()}
    k = len(ours.components)
    steps_ours = k * args.chains * (args.draws + args.burnin)
    rows = [
        ["engine to engine (sampling + accumulation)", f"{best['course engine']:.2f}",
         f"{best['devinterp engine']:.2f}",
         f"{best['devinterp engine'] / best['course engine']:.1f}×"],
        ["engine to engine, without devinterp's extra full run", f"{best['course engine']:.2f}",
         f"{best['devinterp engine, restricted runs only']:.2f}",
         f"{best['devinterp engine, restricted runs only'] / best['course engine']:.1f}×"],
        ["end to end (setup + sampling + χ array)", f"{best['course end to end']:.2f}",
         f"{best['devinterp end to end']:.2f}",
         f"{best['devinterp end to end'] / best['course end to end']:.1f}×"],
    ]
    print_table(f"Susceptibilities, {args.model} grokking model (p = {run.source.p}, n = {n} "
                f"training pairs, {k} components), {args.chains} chains × ({args.burnin} burn-in "
                f"+ {args.draws} draws), full batch, ε = {args.epsilon:g}, γ = {args.gamma:g}, "
                f"nβ = {settings['nbeta']:.3g}; best of {args.rounds} interleaved rounds, "
                f"{torch.get_num_threads()} threads",
                ["measure", "course s", "devinterp s", "devinterp / course"], rows)
    print(f"course: {steps_ours} SGLD steps; devinterp: {theirs.steps} (its restricted runs + "
          "the unrestricted run its centring needs)")
    agreement = []
    for j, name in enumerate(ours.components):
        a, b = ours.chi[:, j], theirs.chi[:, j]
        agreement.append([name, f"{np.corrcoef(a, b)[0, 1]:.3f}",
                          f"{np.linalg.norm(b) / np.linalg.norm(a):.2f}",
                          f"{np.abs(theirs.library[:, j] - theirs.recomputed[:, j]).max():.1e}",
                          f"{np.linalg.norm(theirs.centring[:, j]) / np.linalg.norm(b):.1f}"])
    print_table("Agreement in the same run (χ = Cov_C(φ_C, ℓ_x − L), one seed each)",
                ["component", "corr over samples", "‖χ_devinterp‖ / ‖χ_course‖",
                 "devinterp output − its formula", "‖centring term‖ / ‖χ‖"], agreement)
    ours_import = import_seconds("course_lib.slt")
    theirs_import = import_seconds("devinterp.slt.susceptibilities")
    print(f"\ncold import (not in the ratios): course_lib.slt {ours_import:.2f} s, "
          f"devinterp.slt.susceptibilities {theirs_import:.2f} s")


if __name__ == "__main__":
    main()
