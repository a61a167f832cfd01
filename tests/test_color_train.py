"""The checkpointed seed sweep: same runs as single training, metrics at every checkpoint, cache."""

import numpy as np
import pytest
import torch

from course_lib import cache
from course_lib.color import (
    SweepHistory,
    cached_training_sweep,
    default_checkpoints,
    train_bottleneck,
    training_sweep,
)

CHECKS = [0, 20, 40, 60]


@pytest.fixture(scope="module")
def history():
    return training_sweep([0, 3, 5], normalize=True, epochs=60, checkpoint_steps=CHECKS, progress=False)


def test_matches_independent_training(history):
    run = train_bottleneck(seed=3, epochs=60, n_snapshots=4, progress=False)
    assert np.allclose(history.losses[1], run.losses, atol=1e-6)
    assert np.allclose(history.latents[60][1], run.probe_latents[-1], atol=1e-5)
    assert np.allclose(history.latents[0][1], run.probe_latents[0], atol=1e-6)


def test_history_shapes_and_methods(history):
    assert isinstance(history, SweepHistory)
    assert history.n_seeds == 3 and history.losses.shape == (3, 60)
    assert list(history.checkpoint_steps) == CHECKS
    for name in ("trained_wheel", "probe_wheel", "band_placed", "gap_deg", "band_mse", "trained_mse", "train_mse"):
        assert history.metrics[name].shape == (4, 3), name
    k, n = history.count("trained_wheel", 60)
    assert n == 3 and 0 <= k <= 3
    t = history.transitions()
    assert t.shape == (3,)
    assert set(history.latents) == {0, 60}
    model = history.model(5)
    run = train_bottleneck(seed=5, epochs=60, n_snapshots=2, progress=False)
    for key, value in run.state_dict.items():
        assert torch.allclose(model.state_dict()[key], value, atol=1e-5), key


def test_history_bad_arguments(history):
    with pytest.raises(ValueError, match="not saved"):
        history.at("trained_wheel", 30)
    with pytest.raises(ValueError, match="name"):
        history.at("nope", 20)
    with pytest.raises(ValueError, match="seed"):
        history.model(99)
    with pytest.raises(ValueError, match="name"):
        history.transitions("nope")


def test_default_checkpoints():
    c = default_checkpoints(4000)
    assert c[0] == 0 and c[-1] == 4000 and 10 in c and 1050 in c and 1010 not in c
    assert np.all(np.diff(c) > 0)
    assert list(default_checkpoints(25)) == [0, 10, 20, 25]
    with pytest.raises(ValueError, match="epochs"):
        default_checkpoints(0)


def test_sweep_validation():
    with pytest.raises(ValueError, match="checkpoint_steps"):
        training_sweep([0], normalize=True, epochs=10, checkpoint_steps=[0, 20], progress=False)
    with pytest.raises(ValueError, match="checkpoint_steps"):
        training_sweep([0], normalize=True, epochs=10, checkpoint_steps=[5, 5], progress=False)
    with pytest.raises(TypeError, match="checkpoint_steps"):
        training_sweep([0], normalize=True, epochs=10, checkpoint_steps="0,10", progress=False)
    with pytest.raises(ValueError, match="latent_epochs"):
        training_sweep([0], normalize=True, epochs=10, checkpoint_steps=[0, 10], latent_epochs=[5], progress=False)
    with pytest.raises(TypeError, match="seeds"):
        training_sweep(3, normalize=True, epochs=10, progress=False)
    with pytest.raises(ValueError, match="epochs"):
        training_sweep([0], normalize=True, epochs=0, progress=False)
    with pytest.raises(TypeError, match="normalize"):
        training_sweep([0], normalize=1, epochs=10, progress=False)


def test_cached_training_sweep(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path))
    a = cached_training_sweep([1, 2], normalize=False, epochs=20, progress=False)
    assert len(list(tmp_path.glob("color-training-sweep-*.pt"))) == 1
    b = cached_training_sweep([1, 2], normalize=False, epochs=20, progress=False)
    assert np.array_equal(a.losses, b.losses)
    assert list(a.checkpoint_steps) == [0, 10, 20]


def test_identity_sweep_is_the_linear_control():
    """Same initial weights as the ReLU arm (the activation has no parameters); the trained
    linear model's encoder is an affine map of RGB; the model rebuilds with its activation."""
    lin = training_sweep([0, 3], normalize=False, epochs=20, checkpoint_steps=[0, 20],
                         progress=False, activation="identity")
    relu = training_sweep([0, 3], normalize=False, epochs=20, checkpoint_steps=[0, 20],
                          progress=False)
    assert lin.config["activation"] == "identity" and relu.config["activation"] == "relu"
    # different outputs from the first update on, identical weights at epoch 0
    assert not np.allclose(lin.losses[:, 0], relu.losses[:, 0])
    model = lin.model(3)
    assert model.activation == "identity"
    x = torch.rand(50, 3)
    with torch.no_grad():
        z = model.encode(x)
        # affine: z(x) - z(0) is linear in x
        z0 = model.encode(torch.zeros(1, 3))
        w = model.encode(torch.eye(3)) - z0
    assert torch.allclose(z - z0, x @ w, atol=1e-5)
    with pytest.raises(ValueError, match="activation"):
        training_sweep([0], normalize=True, epochs=10, progress=False, activation="sine")


def test_cached_sweep_keys_the_activation(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path))
    a = cached_training_sweep([1], normalize=True, epochs=20, progress=False)
    b = cached_training_sweep([1], normalize=True, epochs=20, progress=False,
                              activation="identity")
    assert len(list(tmp_path.glob("color-training-sweep-*.pt"))) == 2
    assert not np.allclose(a.losses, b.losses)
    with pytest.raises(ValueError, match="activation"):
        cached_training_sweep([1], normalize=True, epochs=20, activation="sine")
