"""The bottleneck autoencoder and its training: shapes, determinism, the wheel, the cache."""

import numpy as np
import pytest
import torch

import course_lib.color.train as train_mod
from course_lib import cache
from course_lib.color import (
    PROFILE_SETTINGS,
    ColorAutoencoder,
    L2Normalize,
    TrainingRun,
    bottleneck_dataset,
    cached_bottleneck,
    hue_order_score,
    probe_wheel,
    settings,
    train_bottleneck,
)

# a short, robust recipe: at lr 3e-3 the wheel has formed by epoch 200 for seed 0
FAST = dict(epochs=200, lr=3e-3, n_snapshots=5, progress=False)


def test_l2normalize():
    z = torch.tensor([[3.0, 4.0], [0.0, 0.0], [1e-12, 0.0]])
    out = L2Normalize()(z)
    assert torch.allclose(out[0], torch.tensor([0.6, 0.8]))
    assert torch.isfinite(out).all() and torch.all(out[1] == 0)
    with pytest.raises(ValueError, match="eps"):
        L2Normalize(eps=0)


@pytest.mark.parametrize("normalize", [True, False])
def test_shapes_and_unit_norm(normalize):
    torch.manual_seed(0)
    model = ColorAutoencoder(latent_dim=3, hidden=8, normalize=normalize)
    rgb = torch.rand(4, 7, 3)
    recon, z = model(rgb)
    assert recon.shape == (4, 7, 3) and z.shape == (4, 7, 3)
    assert torch.all((recon > 0) & (recon < 1))
    assert model.encode(rgb).shape == (4, 7, 3)
    assert model.decode(z).shape == (4, 7, 3)
    norms = z.norm(dim=-1)
    assert torch.allclose(norms, torch.ones_like(norms), atol=1e-6) == normalize


def test_model_validation():
    model = ColorAutoencoder()
    with pytest.raises(ValueError, match=r"rgb must have shape \[\.\.\., 3\]"):
        model(torch.rand(5, 4))
    with pytest.raises(ValueError, match="rgb"):
        model.encode(torch.rand(5, 2))
    with pytest.raises(TypeError, match="rgb must be a torch tensor"):
        model.encode(np.zeros((5, 3)))
    with pytest.raises(ValueError, match="z must be a tensor"):
        model.decode(torch.rand(5, 3))
    with pytest.raises(ValueError, match="activation"):
        ColorAutoencoder(activation="swish!")
    with pytest.raises(ValueError, match="hidden"):
        ColorAutoencoder(hidden=0)
    assert sum(p.numel() for p in model.parameters()) == 3 * 16 + 16 + 16 * 2 + 2 + 2 * 16 + 16 + 16 * 3 + 3


def test_model_at_rebuilds_every_snapshot():
    run = train_bottleneck(seed=1, epochs=30, n_snapshots=4, progress=False)
    assert len(run.states) == len(run.checkpoint_steps) and run.checkpoint_steps.dtype == np.int64
    probe = torch.as_tensor(probe_wheel().rgb, dtype=torch.float32)
    for k, epoch in enumerate(run.checkpoint_steps):
        with torch.no_grad():
            _, z = run.model_at(int(epoch))(probe)
        np.testing.assert_allclose(z.numpy(), run.probe_latents[k], atol=1e-6)
    final = run.model_at(int(run.checkpoint_steps[-1]))
    for name, value in run.model().state_dict().items():
        assert torch.equal(final.state_dict()[name], value)
    assert not torch.equal(run.model_at(0).encoder[0].weight, final.encoder[0].weight)
    with pytest.raises(ValueError, match="not saved"):
        run.model_at(7)
    with pytest.raises(TypeError, match="step"):
        run.model_at(1.5)
    x = bottleneck_dataset().train_rgb
    with torch.no_grad():
        assert float(run.loss_fn(final, (x,))) == pytest.approx(run.final_mse, rel=1e-6)


def test_checkpoint_schedule():
    """train_bottleneck's checkpoints are course_lib.checkpoints.even_steps(epochs, n_snapshots)."""
    assert train_bottleneck(epochs=10, n_snapshots=50, progress=False).checkpoint_steps.tolist() == list(range(11))
    assert train_bottleneck(epochs=20, n_snapshots=3, progress=False).checkpoint_steps.dtype == np.int64
    with pytest.raises(ValueError, match="n_snapshots"):
        train_bottleneck(epochs=10, n_snapshots=1, progress=False)


def test_training_is_deterministic_and_snapshots_have_shapes():
    a = train_bottleneck(seed=3, epochs=30, n_snapshots=4, progress=False)
    b = train_bottleneck(seed=3, epochs=30, n_snapshots=4, progress=False)
    np.testing.assert_array_equal(a.losses, b.losses)
    np.testing.assert_array_equal(a.probe_latents, b.probe_latents)
    assert a.losses.shape == (30,)
    np.testing.assert_array_equal(a.checkpoint_steps, [0, 10, 20, 30])
    assert a.probe_latents.shape == (4, 360, 2) and a.probe_recon_mse.shape == (4,)
    assert a.probe_hue.shape == (360,)
    c = train_bottleneck(seed=4, epochs=30, n_snapshots=4, progress=False)
    assert not np.array_equal(a.losses, c.losses)


def test_short_run_forms_a_wheel():
    run = train_bottleneck(seed=0, **FAST)
    report = run.report()
    assert report["trained_wheel"] and report["probe_wheel"]
    assert run.losses[-1] < run.losses[0] / 5
    assert run.final_mse < 0.03
    assert run.hue_order(0) < 0.9  # the untrained model has no wheel yet
    # the rebuilt model reproduces the recorded latents
    model = run.model()
    with torch.no_grad():
        _, z = model(torch.as_tensor(probe_wheel().rgb, dtype=torch.float32))
    np.testing.assert_allclose(z.numpy(), run.probe_latents[-1], atol=1e-6)
    assert hue_order_score(run.probe_hue, z.numpy()) == run.hue_order()


def test_training_accepts_data_and_validates():
    data = bottleneck_dataset(step_deg=10)
    run = train_bottleneck(epochs=3, n_snapshots=2, data=data, progress=False, normalize=False)
    assert run.config["normalize"] is False and run.losses.shape == (3,)
    with pytest.raises(TypeError, match="data must be a ColorData"):
        train_bottleneck(epochs=3, data=np.zeros((5, 3)), progress=False)
    with pytest.raises(ValueError, match="epochs"):
        train_bottleneck(epochs=0, progress=False)
    with pytest.raises(ValueError, match="lr"):
        train_bottleneck(epochs=3, lr=-1.0, progress=False)
    with pytest.raises(ValueError, match="latent_dim"):
        train_bottleneck(epochs=3, latent_dim=1, progress=False)
    with pytest.raises(TypeError, match="normalize"):
        train_bottleneck(epochs=3, normalize="yes", progress=False)


def test_cached_bottleneck(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path))
    kwargs = dict(epochs=20, n_snapshots=3, seed=1, progress=False)
    first = cached_bottleneck(**kwargs)
    assert isinstance(first, TrainingRun) and list(tmp_path.glob("color-bottleneck-*.pt"))

    def no_training(**_):
        raise AssertionError("cached_bottleneck retrained instead of loading the cache")

    monkeypatch.setattr(train_mod, "train_bottleneck", no_training)
    second = cached_bottleneck(**kwargs)
    np.testing.assert_array_equal(first.losses, second.losses)
    np.testing.assert_array_equal(first.probe_latents, second.probe_latents)
    np.testing.assert_array_equal(first.checkpoint_steps, second.checkpoint_steps)
    assert second.config == first.config
    for key, value in first.state_dict.items():
        assert torch.equal(value, second.state_dict[key])
    assert isinstance(second.model(), ColorAutoencoder)


def test_profile_settings():
    assert set(PROFILE_SETTINGS) == {"quick", "standard", "full"}
    for s in PROFILE_SETTINGS.values():
        assert set(s) == {"epochs", "n_snapshots", "sweep_seeds", "sweep_epochs"}
    assert PROFILE_SETTINGS["standard"]["sweep_seeds"] >= 64
    assert PROFILE_SETTINGS["standard"]["sweep_epochs"] >= 4000
    assert settings("quick") == PROFILE_SETTINGS["quick"]


def test_decode_circle():
    torch.manual_seed(0)
    model = ColorAutoencoder()
    strip = model.decode_circle(36)
    assert strip.shape == (36, 3) and torch.all((strip > 0) & (strip < 1))
    want = model.decode(torch.tensor([[1.0, 0.0]]))
    assert torch.allclose(strip[0], want[0])
    off = model.decode_circle(4, radius=2.0, center=(1.0, -1.0))
    assert torch.allclose(off[1], model.decode(torch.tensor([[1.0, 1.0]]))[0], atol=1e-6)
    with pytest.raises(ValueError, match="n"):
        model.decode_circle(1)
    with pytest.raises(ValueError, match="radius"):
        model.decode_circle(10, radius=0)
    with pytest.raises(ValueError, match="center"):
        model.decode_circle(10, center=(1,))


def test_training_run_report_and_strip():
    run = train_bottleneck(seed=0, **FAST)
    assert run.strip.shape == (len(run.checkpoint_steps), 360, 3)
    assert run.probe_recon.shape == (len(run.checkpoint_steps), 360, 3)
    r = run.report()
    assert {"trained_wheel", "band_placed", "gap_deg", "band_mse", "trained_mse"} <= set(r)
    assert r["band_mse"] > 0 and r["trained_mse"] > 0
    free = train_bottleneck(seed=0, epochs=20, n_snapshots=2, progress=False, normalize=False)
    assert free.strip.shape == (2, 360, 3)


def test_identity_activation_is_linear_with_the_same_initial_weights():
    from course_lib.runtime import seed_everything

    seed_everything(4)
    relu = ColorAutoencoder(normalize=False)
    seed_everything(4)
    lin = ColorAutoencoder(normalize=False, activation="identity")
    for (k, v), (k2, v2) in zip(relu.state_dict().items(), lin.state_dict().items()):
        assert k == k2 and torch.equal(v, v2)
    x = torch.rand(20, 3)
    with torch.no_grad():
        z0 = lin.encode(torch.zeros(1, 3))
        w = lin.encode(torch.eye(3)) - z0
        assert torch.allclose(lin.encode(x) - z0, x @ w, atol=1e-6)
