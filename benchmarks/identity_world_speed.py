"""Training speed of the identity world's model: the factored head against the plain forward pass.

The training loop (``course_lib.identity.world.train_world_model``) runs the identity MLP once per
person and the head's first layer once per person, scene and question (``IdentityModel.answers_for``);
the plain loop a reader would write runs both on every (person, scene, question) row. Both are timed
here on the standard profile's world, one CPU thread (as training runs), same steps, in one run.

    .venv/bin/python benchmarks/identity_world_speed.py
"""

from __future__ import annotations

import time

import numpy as np
import torch

from course_lib import runtime
from course_lib.identity import world as W


def steps_per_second(step, n_steps: int = 60) -> float:
    step()                                     # warm-up
    start = time.perf_counter()
    for _ in range(n_steps):
        step()
    return n_steps / (time.perf_counter() - start)


def main() -> None:
    world = W.make_world(W.WORLD_SETTINGS["standard"], seed=0)
    seen = world.queries("seen")
    print(f"standard world: {world.n_people} people, {len(seen['person'])} training rows")
    results = {}
    with runtime.cpu_threads():
        for label in ("plain forward (every row)", "factored head (course)"):
            model = W.IdentityModel(world, runtime.seed_everything(0))
            opt = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9, weight_decay=1e-3)
            target = model.answer_index(torch.as_tensor(seen["question"]), torch.as_tensor(seen["answer"]))
            weight = torch.as_tensor(seen["weight"] / seen["weight"].sum(), dtype=torch.float32)
            x = W._query_tensor(world, seen)
            first, surname = torch.as_tensor(world.first), torch.as_tensor(world.surname)
            rows = [torch.as_tensor(seen[k]) for k in ("person", "scene", "question")]

            def step(plain: bool = label.startswith("plain")) -> None:
                logp = model(x) if plain else model.answers_for(model.identity_code(first, surname), *rows)
                loss = -(weight * logp.gather(1, target[:, None])[:, 0]).sum()
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()

            results[label] = steps_per_second(step)
            print(f"{label:>28}: {results[label]:6.1f} steps/s")
    plain, fast = results.values()
    print(f"factored / plain: {fast / plain:.2f}× "
          f"(standard profile, {W.WORLD_SETTINGS['standard']['steps']} steps: "
          f"{W.WORLD_SETTINGS['standard']['steps'] / fast:.0f} s against {W.WORLD_SETTINGS['standard']['steps'] / plain:.0f} s)")
    assert np.isfinite(fast) and np.isfinite(plain)


if __name__ == "__main__":
    main()
