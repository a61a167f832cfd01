"""Tests for course_lib.modular.training: the settings per profile, the config checks, the trainer."""

import pytest
import torch

from course_lib.modular.training import GROKKING_SETTINGS, check_config, train_modular_addition

torch.set_num_threads(1)

TINY = {"p": 13, "train_fraction": 0.5, "d_model": 32, "n_heads": 4, "d_mlp": 64, "lr": 1e-2, "weight_decay": 1.0,
        "betas": (0.9, 0.98), "warmup": 10, "steps": 50, "checkpoint_every": 20, "threads": None}


def test_settings_per_profile():
    assert set(GROKKING_SETTINGS) == {"quick", "standard", "full"}
    keys = {frozenset(v) for v in GROKKING_SETTINGS.values()}
    assert len(keys) == 1
    std, full = GROKKING_SETTINGS["standard"], GROKKING_SETTINGS["full"]
    paper = {"p": 113, "train_fraction": 0.3, "d_model": 128, "n_heads": 4, "d_mlp": 512,
             "weight_decay": 1.0, "betas": (0.9, 0.98)}
    assert {k: std[k] for k in paper} == paper == {k: full[k] for k in paper}
    assert full["lr"] == 1e-3 and full["steps"] >= 25_000


def test_trainer_keeps_cpu_copies_at_every_checkpoint_and_the_end():
    out = train_modular_addition(TINY, seed=0, progress=False)
    assert out["steps"].tolist() == [0, 20, 40, 50] and len(out["states"]) == 4
    assert out["train_loss_per_step"].shape == (50,) and out["is_train"].shape == (169,)
    first, last = out["states"][0]["W_E"], out["states"][-1]["W_E"]
    assert first.device.type == "cpu" and not torch.equal(first, last)
    assert first.data_ptr() != last.data_ptr()                      # copies, not views of the model
    again = train_modular_addition(TINY, seed=0, progress=False)
    assert all(torch.equal(a["W_U"], b["W_U"]) for a, b in zip(out["states"], again["states"]))


@pytest.mark.parametrize("change, err, match", [
    ({"betas": (0.9,)}, ValueError, "betas"), ({"betas": (0.9, 1.0)}, ValueError, r"betas\[1\]"),
    ({"betas": ("a", 0.98)}, TypeError, r"betas\[0\]"), ({"betas": 0.9}, TypeError, "betas"),
    ({"p": 12}, ValueError, "p must be an odd prime"), ({"steps": 2.0}, TypeError, "steps"),
    ({"train_fraction": 1.0}, ValueError, "train_fraction"), ({"threads": 0}, ValueError, "threads"),
])
def test_config_checks_name_the_setting(change, err, match):
    with pytest.raises(err, match=match):
        check_config({**TINY, **change})
    with pytest.raises(TypeError, match="config"):
        check_config([("p", 13)])
    with pytest.raises(ValueError, match="missing"):
        check_config({k: v for k, v in TINY.items() if k != "lr"})
    assert check_config(TINY)["betas"] == [0.9, 0.98]


def test_flush_denormal_is_a_setting_of_its_own():
    """Only standard flushes denormals while training (4.5× faster late steps); False leaves the cache key
    of earlier runs unchanged, and the flag is restored after training."""
    import torch
    from course_lib.modular.training import check_config, flushed_denormals
    assert [GROKKING_SETTINGS[p]["flush_denormal"] for p in ("quick", "standard", "full")] == [False, True, False]
    assert "flush_denormal" not in check_config(GROKKING_SETTINGS["quick"])
    assert check_config(GROKKING_SETTINGS["standard"])["flush_denormal"] is True
    with pytest.raises(TypeError, match="flush_denormal"):
        check_config({**GROKKING_SETTINGS["quick"], "flush_denormal": 1})
    tiny = torch.tensor([1e-39])                     # a float32 denormal
    with flushed_denormals(True):
        assert float(tiny * 1.0) == 0.0
    assert float(tiny * 1.0) > 0.0
