"""Training speed of the grokking reference model: the course's loop against plain PyTorch loops.

All three train the same model (Nanda et al.'s one-layer transformer, the profile's sizes) full
batch on the same training pairs with AdamW, measured in one run:

* **course** — :class:`~course_lib.modular.model.ModularTransformer` as trained by the course:
  attention only for the ``=`` query, keys/values from per-token tables, float64 log-softmax loss;
* **all positions** — the same module's :meth:`forward_all_positions`: textbook causal attention
  over the three positions, float32 loss;
* **nn.MultiheadAttention** — the model as a reader would first write it from ``torch.nn`` parts
  (``nn.Embedding``, ``nn.MultiheadAttention`` with a causal mask, ``nn.Linear`` MLP), float32 loss.

Steps are timed in interleaved rounds (so a busy machine slows every variant alike) and the median
round is reported. Usage: ``python benchmarks/grokking_speed.py [--profile standard] [--threads 1]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from _common import print_table  # noqa: E402
from course_lib import runtime  # noqa: E402
from course_lib.modular.data import modular_addition_data  # noqa: E402
from course_lib.modular.model import ModularTransformer, cross_entropy  # noqa: E402
from course_lib.modular.training import GROKKING_SETTINGS  # noqa: E402


class PlainTransformer(nn.Module):
    """The same architecture from stock ``torch.nn`` modules (attention over all positions)."""

    def __init__(self, p: int, d_model: int, n_heads: int, d_mlp: int):
        super().__init__()
        self.p = p
        self.embed = nn.Embedding(p + 1, d_model)
        self.pos = nn.Parameter(torch.randn(3, d_model) / d_model ** 0.5)
        self.attn = nn.MultiheadAttention(d_model, n_heads, bias=False, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(d_model, d_mlp), nn.ReLU(), nn.Linear(d_mlp, d_model))
        self.unembed = nn.Linear(d_model, p, bias=False)
        self.register_buffer("mask", torch.ones(3, 3, dtype=torch.bool).triu(1))

    def forward(self, pairs: torch.Tensor) -> torch.Tensor:
        eq = torch.full((len(pairs), 1), self.p, dtype=torch.long)
        x = self.embed(torch.cat([pairs, eq], dim=1)) + self.pos
        x = x + self.attn(x, x, x, attn_mask=self.mask, need_weights=False)[0]
        x = x + self.mlp(x)
        return self.unembed(x[:, -1])


def make_step(model: nn.Module, forward: Callable[[torch.Tensor], torch.Tensor],
              loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], cfg: dict,
              x: torch.Tensor, y: torch.Tensor) -> Callable[[], None]:
    opt = torch.optim.AdamW(model.parameters(), lr=cfg["lr"], betas=tuple(cfg["betas"]),
                            weight_decay=cfg["weight_decay"])

    def step() -> None:
        loss = loss_fn(forward(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="standard", choices=runtime.PROFILES)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps-per-round", type=int, default=4)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    cfg = runtime.by_profile(GROKKING_SETTINGS, args.profile)
    data = modular_addition_data(cfg["p"], cfg["train_fraction"], 0)
    x, y = data.train_pairs, data.train_labels
    sizes = (cfg["p"], cfg["d_model"], cfg["n_heads"], cfg["d_mlp"])
    g = torch.Generator().manual_seed(0)
    course, naive = ModularTransformer(*sizes, generator=g), ModularTransformer(*sizes, generator=g)
    plain = PlainTransformer(*sizes)
    with torch.no_grad():
        same = torch.allclose(course(x), course.forward_all_positions(x), atol=1e-4)
    variants = {
        "course (= query only, tables)": make_step(course, course, cross_entropy, cfg, x, y),
        "all positions (same module)": make_step(naive, naive.forward_all_positions, F.cross_entropy, cfg, x, y),
        "nn.MultiheadAttention": make_step(plain, plain, F.cross_entropy, cfg, x, y),
    }
    for step in variants.values():  # warm-up: allocator, optimiser state
        step(), step()
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.rounds):
        for name, step in variants.items():
            start = time.perf_counter()
            for _ in range(args.steps_per_round):
                step()
            times[name].append((time.perf_counter() - start) / args.steps_per_round)

    base = statistics.median(times["course (= query only, tables)"])
    rows = []
    for name, t in times.items():
        median = statistics.median(t)
        rows.append([name, 1.0 / median, median * 1e3, median / base])
    print_table(f"Grokking training step, profile {args.profile!r} (p={cfg['p']}, {len(x)} training "
                f"pairs, d_model={cfg['d_model']}, d_mlp={cfg['d_mlp']}), {args.threads} thread(s), "
                f"median of {args.rounds} rounds × {args.steps_per_round} steps",
                ["loop", "steps/s", "ms/step", "× course time"], rows)
    slowest = max(statistics.median(t) for t in times.values())
    print(f"speed-up of the course loop: {statistics.median(times['all positions (same module)']) / base:.2f}x "
          f"over all-positions attention, {statistics.median(times['nn.MultiheadAttention']) / base:.2f}x "
          f"over nn.MultiheadAttention (slowest {slowest * 1e3:.0f} ms/step)")
    print(f"course forward equals all-positions forward (atol 1e-4): {same}")
    est = base * cfg["steps"]
    print(f"estimated training time of the {args.profile} run ({cfg['steps']} steps): {est:.0f} s")


if __name__ == "__main__":
    main()
