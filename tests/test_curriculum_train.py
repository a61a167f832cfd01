"""The chapter-2 trainer: scheduled terms, changing data, checkpoints, model_at, sweeps, cache."""

import numpy as np
import pytest
import torch

from course_lib.color import hsv_to_rgb
from course_lib.color.data import hue_wheel
from course_lib.curriculum import Dopesheet, Keyframe, PlateauTrigger, ReactiveSchedule
from course_lib.curriculum.regularisers import planarity, unitarity
from course_lib.curriculum.runs import CurriculumRun
from course_lib.curriculum.terms import StepInfo, planarity_term, unitarity_term
from course_lib.curriculum.train import cached_run, cached_sweep, train_run, train_sweep

WHEEL = torch.as_tensor(hsv_to_rgb(hue_wheel(24)), dtype=torch.float32)
TERMS = {"unit": unitarity_term, "planar": planarity_term(2)}


def small(**kw):
    args = dict(steps=20, terms=TERMS, schedule={"unit": 0.02, "planar": 0.1}, progress=False,
                checkpoint_steps=[0, 10, 20])
    args.update(kw)
    return train_run(WHEEL, **args)


def test_builtin_terms_match_regularisers_and_batch():
    z = torch.randn(5, 7, 3)
    assert torch.allclose(unitarity_term(z[1]), unitarity(z[1]))
    assert torch.allclose(planarity_term(2)(z[1]), planarity(z[1], keep=2))
    assert unitarity_term(z).shape == (5,)
    assert torch.allclose(planarity_term(1)(z)[3], planarity(z[3], keep=1))
    with pytest.raises(ValueError, match="keep"):
        planarity_term(-1)


def test_run_records_shapes_and_values():
    run = small()
    assert isinstance(run, CurriculumRun)
    assert run.checkpoint_steps.tolist() == [0, 10, 20]
    assert run.probe_latents.shape == (3, 24, 3) and run.probe_recon.shape == (3, 24, 3)
    assert set(run.losses) == {"loss", "recon", "unit", "planar"}
    assert run.losses["loss"].shape == (20,)
    np.testing.assert_allclose(run.losses["loss"],
                               run.losses["recon"] + 0.02 * run.losses["unit"] + 0.1 * run.losses["planar"],
                               rtol=1e-5)
    assert np.all(run.values["lr"] == 0.01) and np.all(run.values["planar"] == 0.1)
    assert np.all(run.n_data == 24)


def test_model_at_reproduces_snapshot_latents():
    run = small()
    for k, step in enumerate(run.checkpoint_steps):
        model = run.model_at(int(step))
        with torch.no_grad():
            z = model.encode(torch.as_tensor(run.probe_rgb))
        np.testing.assert_allclose(z.numpy(), run.probe_latents[k], atol=1e-6)
    with pytest.raises(ValueError, match="not saved"):
        run.model_at(5)
    with pytest.raises(TypeError):
        run.model_at(1.5)


def test_seed_determinism_and_difference():
    a, b, c = small(seed=1), small(seed=1), small(seed=2)
    np.testing.assert_array_equal(a.probe_latents, b.probe_latents)
    assert not np.allclose(a.probe_latents[0], c.probe_latents[0])


def test_dopesheet_drives_lr_and_weights():
    sheet = Dopesheet([Keyframe(0, {"lr": 0.0, "unit": 0.0, "planar": 1.0}),
                       Keyframe(10, {"lr": 0.01, "unit": 0.5}, easing="linear")])
    run = small(schedule=sheet)
    np.testing.assert_allclose(run.values["lr"], sheet.curve("lr", np.arange(20)))
    np.testing.assert_allclose(run.values["unit"], sheet.curve("unit", np.arange(20)))
    # lr = 0 at step 0: the first update changes nothing
    first = small(schedule=sheet, checkpoint_steps=[0, 1])
    np.testing.assert_allclose(first.probe_latents[0], first.probe_latents[1], atol=1e-7)


def test_data_callable_changes_content_and_info_reaches_terms():
    few = WHEEL[::6].clone()
    seen = []

    def data(step, values):
        return few if step < 10 else WHEEL

    def spy(z, x, recon, info):
        assert isinstance(info, StepInfo) and info.values["spy"] == 0.0
        seen.append((info.step, len(x)))
        return z.sum() * 0

    run = train_run(data, steps=20, terms={"spy": spy}, schedule={"spy": 0.0}, progress=False,
                    probe=WHEEL)
    assert run.n_data.tolist() == [4] * 10 + [24] * 10
    assert seen[0] == (0, 4) and seen[-1] == (19, 24)


def test_minibatch():
    run = small(batch_size=8)
    assert np.all(np.isfinite(run.losses["loss"]))
    with pytest.raises(ValueError, match="batch_size"):
        small(batch_size=0)


def test_reactive_schedule_advances_and_is_recorded():
    sched = ReactiveSchedule([{"unit": 0.0, "planar": 0.0}, {"unit": 1.0, "planar": 0.0}],
                             PlateauTrigger(window=3, min_rel_improvement=10.0), duration=2,
                             easing="step")
    calls = []
    run = small(schedule=sched, metrics_fn=lambda m, s: calls.append(s) or {"extra": 1.0})
    assert run.advanced_at == [3.0]
    assert run.values["unit"][0] == 0.0 and run.values["unit"][-1] == 1.0
    assert calls == list(range(20)) and run.metrics["extra"].shape == (20,)


def test_terms_and_schedule_validation():
    with pytest.raises(ValueError, match="no weight for terms"):
        small(schedule={"unit": 1.0})
    with pytest.raises(ValueError, match="reserved"):
        small(terms={"lr": unitarity_term})
    with pytest.raises(TypeError, match="callable"):
        small(terms={"x": 3})
    with pytest.raises(TypeError, match="schedule"):
        small(schedule=[1, 2])
    with pytest.raises(ValueError, match="finite"):
        small(schedule={"unit": float("nan"), "planar": 0.0})


@pytest.mark.parametrize("bad, err, match", [
    (torch.zeros(5, 2), ValueError, "shape"),
    (torch.zeros(0, 3), ValueError, "empty"),
    (torch.full((3, 3), float("nan")), ValueError, "NaN"),
    (torch.full((3, 3), 2.0), ValueError, r"\[0, 1\]"),
    ([[0.1, 0.2, 0.3]], TypeError, "tensor"),
    (torch.zeros(3, 3, dtype=torch.long), TypeError, "floating"),
])
def test_bad_data(bad, err, match):
    with pytest.raises(err, match=match):
        train_run(bad, steps=2, progress=False)


def test_bad_model_args_and_steps():
    with pytest.raises(ValueError, match="latent_dim"):
        small(latent_dim=1)
    with pytest.raises(ValueError, match="activation"):
        small(activation="swish")
    with pytest.raises(TypeError, match="normalize"):
        small(normalize="yes")
    with pytest.raises(ValueError, match="steps"):
        small(steps=0)
    with pytest.raises(ValueError, match="checkpoint_steps"):
        small(checkpoint_steps=[0, 50])
    with pytest.raises(ValueError, match="lr"):
        small(lr=-1.0)


def test_nan_loss_is_reported():
    def boom(z, x, recon, info):
        return z.sum() * float("nan")
    with pytest.raises(FloatingPointError, match="step 0"):
        small(terms={"boom": boom}, schedule={"boom": 1.0})


@pytest.mark.parametrize("normalize, activation, latent_dim", [(False, "gelu", 3), (True, "relu", 4)])
def test_sweep_matches_single_runs(normalize, activation, latent_dim):
    kw = dict(steps=15, terms=TERMS, schedule={"unit": 0.02, "planar": 0.1}, progress=False,
              checkpoint_steps=[0, 7, 15], normalize=normalize, activation=activation, latent_dim=latent_dim)
    sweep = train_sweep([3, 5], WHEEL, **kw)
    for i, seed in enumerate([3, 5]):
        run = train_run(WHEEL, seed=seed, **kw)
        np.testing.assert_allclose(sweep.probe_latents[:, i], run.probe_latents, atol=2e-5)
        np.testing.assert_allclose(sweep.losses["loss"][i], run.losses["loss"], rtol=1e-4, atol=1e-6)
        z = sweep.model_at(15, seed).encode(WHEEL).detach().numpy()
        np.testing.assert_allclose(z, sweep.probe_latents[-1, i], atol=1e-6)
    assert sweep.probe_mse().shape == (3, 2)


def test_sweep_unbatched_term_called_per_seed():
    seen = []

    def plain(z, x, recon, info):
        assert z.ndim == 2
        seen.append(info.seed_index)
        return unitarity(z)

    sweep = train_sweep([0, 1, 2], WHEEL, steps=2, terms={"u": plain}, schedule={"u": 1.0},
                        progress=False)
    assert seen == [0, 1, 2, 0, 1, 2]
    assert sweep.losses["u"].shape == (3, 2)


def test_sweep_refuses_reactive_and_bad_seeds():
    sched = ReactiveSchedule([{"unit": 0.0, "planar": 0.0}], PlateauTrigger(window=3))
    with pytest.raises(TypeError, match="react"):
        train_sweep([0, 1], WHEEL, steps=2, terms=TERMS, schedule=sched, progress=False)
    for bad, err in ((3, TypeError), ([], ValueError), ([1, 1], ValueError), ([1.5], TypeError)):
        with pytest.raises(err):
            train_sweep(bad, WHEEL, steps=2, progress=False)


def test_cached_run_and_sweep(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    calls = []

    def data(step, values):
        calls.append(step)
        return WHEEL

    kw = dict(steps=5, terms=TERMS, schedule={"unit": 0.1, "planar": 0.1}, progress=False)
    a = cached_run("test-curr", {"data": "wheel24"}, data=data, **kw)
    n = len(calls)
    b = cached_run("test-curr", {"data": "wheel24"}, data=data, **kw)
    assert len(calls) == n  # loaded, not retrained
    np.testing.assert_array_equal(a.probe_latents, b.probe_latents)
    cached_run("test-curr", {"data": "wheel24"}, data=data, seed=1, **kw)
    assert len(calls) > n  # a different seed is a different entry
    s = cached_sweep("test-sweep", {"data": "wheel24"}, [0, 1], data=WHEEL, **kw)
    assert s.n_seeds == 2
    with pytest.raises(TypeError, match="JSON"):
        cached_run("test-curr", {"f": object()}, data=data, **kw)




def test_sweep_fine_tunes_from_given_states_and_keeps_masked_weights_zero():
    # added with course_lib.curriculum.deletion (notebook 2.5): init_states and masks in train_sweep
    data = torch.rand(64, 3)
    base = train_sweep([0, 1], data, steps=5, latent_dim=3, normalize=True, progress=False)
    start = base.states[-1]
    mask = torch.ones(3, 16)
    mask[0] = 0.0
    tuned = train_sweep([0, 1], data, steps=10, latent_dim=3, normalize=True, progress=False,
                        init_states=start, masks={"encoder.2.weight": mask})
    for k in start:                                   # snapshot 0 is the given state (masked)
        expected = start[k] * (mask if k == "encoder.2.weight" else 1.0)
        torch.testing.assert_close(tuned.states[0][k], expected)
    assert torch.all(tuned.states[-1]["encoder.2.weight"][:, 0] == 0)
    assert not torch.equal(tuned.states[-1]["encoder.2.weight"][:, 1], start["encoder.2.weight"][:, 1])
    with pytest.raises(ValueError, match="init_states"):
        train_sweep([0, 1], data, steps=2, latent_dim=3, progress=False,
                    init_states={k: v[:1] for k, v in start.items()})
    with pytest.raises(ValueError, match="masks"):
        train_sweep([0, 1], data, steps=2, latent_dim=3, progress=False, masks={"nope": mask})


def test_cpu_threads_follow_the_work_and_are_restored():
    from course_lib.runtime import MANY_ROWS, cpu_threads as _cpu_threads
    before = torch.get_num_threads()
    with _cpu_threads() as fit:
        assert torch.get_num_threads() == 1
        fit(MANY_ROWS)
        assert torch.get_num_threads() == before
        fit(MANY_ROWS - 1)
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


def test_fit_keeps_one_thread_when_the_machine_is_busy(monkeypatch):
    from course_lib.color import trainer
    from course_lib.runtime import MANY_ROWS
    assert isinstance(trainer.cores_to_spare(samples=2), bool)
    seen = []
    model = torch.nn.Linear(3, 3)
    x = torch.rand(MANY_ROWS, 3)

    def loss(m, xb, step):
        seen.append(torch.get_num_threads())
        return ((m(xb) - xb) ** 2).mean(), None

    for spare, want in ((False, 1), (True, torch.get_num_threads())):
        monkeypatch.setattr(trainer, "cores_to_spare", lambda: spare)
        seen.clear()
        trainer.fit(model, steps=2, batch_at=lambda s: (x, 1e-3), loss=loss, lr=1e-3,
                    share_threads=True, progress=False)
        assert seen == [want, want]


def test_fit_looks_at_the_load_again_during_training(monkeypatch):
    """Another process starting mid-run narrows training to one thread; ending, widens it."""
    from course_lib.color import trainer
    from course_lib.runtime import MANY_ROWS
    if torch.get_num_threads() < 2:
        pytest.skip("needs two threads to tell sharing from not")
    seen, looks = [], iter([True, False, True])
    monkeypatch.setattr(trainer, "cores_to_spare", lambda: next(looks))
    monkeypatch.setattr(trainer, "RECHECK_THREADS_EVERY", 2)
    model = torch.nn.Linear(3, 3)
    x = torch.rand(MANY_ROWS, 3)

    def loss(m, xb, step):
        seen.append(torch.get_num_threads())
        return ((m(xb) - xb) ** 2).mean(), None

    two = torch.get_num_threads()
    trainer.fit(model, steps=6, batch_at=lambda s: (x, 1e-3), loss=loss, lr=1e-3,
                share_threads=True, progress=False)
    assert seen == [two, two, 1, 1, two, two]
