"""Training speed of the identity world's model: the factored head against the plain forward pass.

The training loop (``course_lib.identity.world_model.train_world_model``) runs the identity MLP once per
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
from course_lib.identity.world import WORLD_SETTINGS, make_world
from course_lib.identity.world_model import IdentityModel, training_batch


def steps_per_second(step, n_steps: int = 60) -> float:
    step()                                     # warm-up
    start = time.perf_counter()
    for _ in range(n_steps):
        step()
    return n_steps / (time.perf_counter() - start)


def main() -> None:
    world = make_world(WORLD_SETTINGS["standard"], seed=0)
    seen = world.queries("seen")
    print(f"standard world: {world.n_people} people, {len(seen['person'])} training rows")
    results = {}
    with runtime.cpu_threads():
        for label in ("plain forward (every row)", "factored head (course)"):
            model = IdentityModel(world, runtime.seed_everything(0))
            opt = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9, weight_decay=1e-3)
            x, target, weight = training_batch(world)
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
          f"(standard profile, {WORLD_SETTINGS['standard']['steps']} steps: "
          f"{WORLD_SETTINGS['standard']['steps'] / fast:.0f} s against {WORLD_SETTINGS['standard']['steps'] / plain:.0f} s)")
    assert np.isfinite(fast) and np.isfinite(plain)


if __name__ == "__main__":
    main()
