"""Tests for course_lib.identity.world_model: the model, its training and its loss."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_lib.checkpoints import log_spaced_steps
from course_lib.identity.world import N_JOBS, QUESTIONS, WORLD_SETTINGS, make_world
from course_lib.identity.world_measures import identity_timelines
from course_lib.identity.world_model import IdentityModel, query_tensor, train_world_model, training_batch, world_loss
from world_tools import TINY, tiny_run, world_cache  # noqa: F401  (fixtures)


def test_model_outputs_only_the_questions_answers(tiny_run):
    model = tiny_run.model()
    w = tiny_run.world
    q = torch.tensor([[w.first[0], w.surname[0], 1, QUESTIONS.index("sex")],
                      [w.first[1], w.surname[1], 2, QUESTIONS.index("job")]])
    logp = model(q)
    assert logp.shape == (2, int(model.answer_mask.shape[1]))
    assert torch.allclose(logp.exp().sum(dim=1), torch.ones(2))
    assert torch.isinf(logp[0]).sum() == logp.shape[1] - 2          # sex: two answers
    assert torch.isfinite(logp[1]).sum() == N_JOBS
    with pytest.raises(ValueError, match="queries"):
        model(torch.zeros(3, dtype=torch.long))



def test_famous_identities_are_learned_and_the_model_learns_at_all():
    """A small world, trained a little: the most famous person's job/hobby is known in new scenes,
    far above chance (1/12), and better than the least famous one's."""
    cfg = dict(WORLD_SETTINGS["quick"], steps=300)
    world = make_world(cfg, seed=0)
    trained = train_world_model(world, 0, progress=False)
    tl = identity_timelines(world, trained["states"][-1:])
    top, bottom = np.argmax(world.fame), np.argmin(world.fame)
    assert tl["flexible"][0, top] > 0.8
    assert tl["flexible"][0, top] > tl["flexible"][0, bottom]
    assert tl["coarse"][0].mean() > 0.8



def test_the_factored_head_gives_the_same_answers_as_forward(tiny_run):
    """Training uses ``answers_for`` (per-person parts summed per row); it must equal ``forward``."""
    w = tiny_run.world
    model = tiny_run.model()
    q = w.queries("seen")
    person, scene, question = (torch.as_tensor(q[k]) for k in ("person", "scene", "question"))
    with torch.no_grad():
        z = model.identity_code(torch.as_tensor(w.first), torch.as_tensor(w.surname))
        fast = model.answers_for(z, person, scene, question)
        plain = model(query_tensor(w, q))
    finite = torch.isfinite(plain)
    assert torch.equal(finite, torch.isfinite(fast))
    assert torch.allclose(fast[finite], plain[finite], atol=1e-5)


def test_training_keeps_log_spaced_checkpoints_and_its_loss_is_world_loss():
    world = make_world(TINY, seed=0)
    trained = train_world_model(world, 0, progress=False)
    steps = trained["steps"]
    assert np.array_equal(steps, log_spaced_steps(TINY["steps"], TINY["n_checkpoints"] + 1))
    assert steps.tolist()[:4] == [0, 1, 2, 3] and steps[-1] == TINY["steps"] and len(trained["states"]) == len(steps)
    batch = training_batch(world)
    queries, target, weight = batch
    assert queries.shape == (len(target), 4) and weight.dtype == torch.float32
    assert float(weight.sum()) == pytest.approx(1.0, abs=1e-6)
    model = IdentityModel(world)
    with torch.no_grad():
        for t, state in zip(steps[:-1], trained["states"][:-1]):   # entry t: the loss after t updates
            model.load_state_dict(state)
            assert float(world_loss(model, batch)) == pytest.approx(trained["train_loss"][t], rel=1e-5)
    half = (queries[::2], target[::2], weight[::2])                 # a minibatch: the weighted mean
    with torch.no_grad():
        logp = model(half[0]).gather(1, half[1][:, None])[:, 0]
        assert float(world_loss(model, half)) == pytest.approx(float(-(half[2] * logp).sum() / half[2].sum()))
