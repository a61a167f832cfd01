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
from course_lib.curriculum.train import (
    cached_run, cached_runs, cached_sweep, train_run, train_runs, train_sweep
)

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


def _reactive_study_runs(seeds, stacked, steps=260):
    """The curriculum's threshold rule (notebook 2.2), per seed or stacked."""
    from course_lib.checkpoints import even_steps
    from course_lib.curriculum import experiments
    from course_lib.curriculum.data import curriculum_probe

    kw = dict(terms=experiments.curriculum_terms(), steps=steps, probe=curriculum_probe().tensor,
              react_every=10, checkpoint_steps=even_steps(steps, 14), progress=False)
    curricula = [experiments.ReactiveCurriculum(trigger="threshold", min_phase_steps=30) for _ in seeds]
    if stacked:
        return train_runs(seeds, [c.data for c in curricula], curricula, **kw)
    return [train_run(c.data, schedule=c, seed=s, **kw) for s, c in zip(seeds, curricula)]


def test_stacked_reactive_runs_match_per_seed_runs():
    # two seeds of the reactive curriculum: each advances at its own steps (so the stack holds
    # models in different phases, on different data, at different learning rates) and ends where
    # its own train_run ends, to float summation order
    stacked = _reactive_study_runs([0, 1], stacked=True)
    single = _reactive_study_runs([0, 1], stacked=False)
    assert stacked[0].advanced_at != stacked[1].advanced_at  # the models were apart in between
    for a, b in zip(stacked, single):
        assert a.advanced_at == b.advanced_at and len(a.advanced_at) >= 3
        np.testing.assert_array_equal(a.n_data, b.n_data)
        np.testing.assert_array_equal(a.values["lr"], b.values["lr"])
        np.testing.assert_array_equal(a.values["phase"], b.values["phase"])
        np.testing.assert_allclose(a.losses["recon"], b.losses["recon"], rtol=1e-3, atol=1e-7)
        np.testing.assert_allclose(a.probe_latents, b.probe_latents, atol=1e-4)
        np.testing.assert_allclose(a.probe_mse(), b.probe_mse(), rtol=1e-3)
        assert a.config == b.config
        z = a.model_at(a.steps).encode(torch.as_tensor(a.probe_rgb)).detach().numpy()
        np.testing.assert_allclose(z, a.probe_latents[-1], atol=1e-6)


def test_stacked_runs_validate_and_take_fixed_data():
    sched = [{"unit": 0.02, "planar": 0.1}, {"unit": 0.5, "planar": 0.0}]
    runs = train_runs([0, 1], WHEEL, sched, steps=6, terms=TERMS, progress=False)
    assert [r.values["unit"][0] for r in runs] == [0.02, 0.5]
    for r, s in zip(runs, sched):  # a constant schedule: the stack is train_run seed by seed
        one = train_run(WHEEL, steps=6, terms=TERMS, schedule=s, seed=r.config["seed"], progress=False)
        np.testing.assert_allclose(r.losses["loss"], one.losses["loss"], rtol=1e-5)
    same = ReactiveSchedule([{"unit": 0.0, "planar": 0.0}], PlateauTrigger(window=3))
    with pytest.raises(ValueError, match="distinct"):
        train_runs([0, 1], WHEEL, [same, same], steps=2, terms=TERMS, progress=False)
    with pytest.raises(ValueError, match="one entry per seed"):
        train_runs([0, 1], WHEEL, sched[:1], steps=2, terms=TERMS, progress=False)
    with pytest.raises(TypeError, match="one schedule per seed"):
        train_runs([0, 1], WHEEL, sched[0], steps=2, terms=TERMS, progress=False)


def _counting_wheel(calls):
    """A data source that gives WHEEL and notes every step it is asked for."""
    def data(step, values):
        calls.append(step)
        return WHEEL
    return data


def test_cached_runs_train_only_the_missing_seeds(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    steps = []
    data = _counting_wheel(steps)
    kw = dict(steps=4, terms=TERMS, progress=False)
    sched = lambda: {"unit": 0.1, "planar": 0.1}  # noqa: E731
    a = cached_runs("test-runs", {"data": "wheel24"}, [0, 1], data, [sched(), sched()], **kw)
    n = len(steps)
    b = cached_runs("test-runs", {"data": "wheel24"}, [1, 2], data, [sched(), sched()], **kw)
    assert n == 2 * 4 + 1 and len(steps) - n == 4 + 1  # seed 1 loaded, only seed 2 trained (+ the probe)
    np.testing.assert_array_equal(a[1].probe_latents, b[0].probe_latents)
    assert b[1].config["seed"] == 2


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
    data = _counting_wheel(calls)
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


def test_fit_takes_one_learning_rate_per_model():
    from course_lib.color import trainer
    from course_lib.color.model import StackedColorAutoencoder

    def train(rates):
        model = StackedColorAutoencoder.from_seeds([0, 1, 2], latent_dim=3, normalize=False, activation="gelu")
        start = {k: v.clone() for k, v in model.state_dict().items()}
        trainer.fit(model, steps=3, batch_at=lambda s: (WHEEL, rates),
                    loss=lambda m, x, s: (trainer.mse_per_model(m(x)[0], x), None), lr=1.0,
                    fused=True, n_models=3, progress=False)
        return start, model.state_dict()

    start, moved = train(torch.tensor([0.01, 0.0, 0.01]))
    _, plain = train(torch.tensor(0.01))
    for k in start:
        assert torch.equal(moved[k][1], start[k][1])  # rate 0: not moved
        assert torch.equal(moved[k][[0, 2]], plain[k][[0, 2]])  # the largest rate: the plain step
    _, half = train(torch.tensor([0.01, 0.005, 0.01]))
    one = StackedColorAutoencoder.from_seeds([1], latent_dim=3, normalize=False, activation="gelu")
    trainer.fit(one, steps=3, batch_at=lambda s: (WHEEL, 0.005),
                loss=lambda m, x, s: (trainer.mse_per_model(m(x)[0], x), None), lr=1.0, fused=True,
                n_models=1, progress=False)
    for k, v in one.state_dict().items():  # a smaller rate: that model's own Adam, to rounding
        torch.testing.assert_close(half[k][1], v[0], rtol=1e-5, atol=1e-7)
    with pytest.raises(ValueError, match="shape"):
        train(torch.tensor([0.01, 0.02]))
    # a model without the model axis first is refused before its weights move
    flat = torch.nn.Linear(3, 3)
    start = {k: v.clone() for k, v in flat.state_dict().items()}
    with pytest.raises(ValueError, match="model axis first"):
        trainer.fit(flat, steps=1, batch_at=lambda s: (WHEEL, torch.tensor([0.01, 0.02])),
                    loss=lambda m, x, s: (((m(x) - x) ** 2).mean(dim=-1).mean().expand(2), None),
                    lr=1.0, n_models=2, progress=False)
    assert all(torch.equal(start[k], v) for k, v in flat.state_dict().items())


def test_fit_looks_at_the_load_again_during_training(monkeypatch):
    """Another process starting mid-run narrows training to one thread; ending, widens it."""
    from course_lib.color import trainer
    from course_lib.runtime import MANY_ROWS
    before = torch.get_num_threads()
    torch.set_num_threads(2)       # the test session may run torch on one thread
    try:
        _look_again(trainer, MANY_ROWS, monkeypatch)
    finally:
        torch.set_num_threads(before)


def _look_again(trainer, MANY_ROWS, monkeypatch):
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
