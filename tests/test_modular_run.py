"""Tests for course_lib.modular.run: the cached run, its checkpoint protocol and its loss (the
training through it)."""

import numpy as np
import pytest
import torch

from course_lib.modular.model import ModularTransformer, cross_entropy
from course_lib.modular.phases import PhaseBoundaries
from course_lib.modular.run import modular_addition_run
from course_lib.modular import run as run_module

torch.set_num_threads(1)

TINY = {"p": 13, "train_fraction": 0.5, "d_model": 32, "n_heads": 4, "d_mlp": 64, "lr": 1e-2,
        "steps": 120, "checkpoint_every": 20}


def test_run_bad_arguments():
    with pytest.raises(ValueError, match="profile"):
        modular_addition_run(0, profile="huge")
    with pytest.raises(ValueError, match="unknown setting"):
        modular_addition_run(0, profile="quick", layers=2)
    with pytest.raises(TypeError, match="seed"):
        modular_addition_run("0", profile="quick")
    with pytest.raises(ValueError, match="p must be"):
        modular_addition_run(0, profile="quick", p=12)
    with pytest.raises(ValueError, match="threads"):
        modular_addition_run(0, profile="quick", threads=0)
    with pytest.raises(ValueError, match="lr"):
        modular_addition_run(0, profile="quick", lr=0.0)


def test_tiny_run_record_and_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    before, calls = torch.get_num_threads(), []
    monkeypatch.setattr(torch, "set_num_threads", calls.append)
    modular_addition_run(seed=0, profile="quick", progress=False, **{**TINY, "steps": 20}, threads=3)
    assert calls == [3, before, 3, before]  # training and measuring on 3 threads, then restored
    monkeypatch.undo()
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    run = modular_addition_run(seed=0, profile="quick", progress=False, **TINY)
    n = len(run.checkpoint_steps)
    assert run.checkpoint_steps.tolist() == list(range(0, 121, 20)) and len(run.states) == n
    assert run.checkpoint_steps.dtype == np.int64 and run.final_step == 120
    for name in ("train_loss", "test_loss", "test_acc", "test_acc_all", "test_acc_mirror_seen",
                 "restricted_loss", "excluded_loss", "weight_norm", "train_acc"):
        arr = getattr(run, name)
        assert arr.shape == (n,) and np.all(np.isfinite(arr)), name
    assert run.embedding_spectrum.shape == (n, 6) and run.frequencies.tolist() == [1, 2, 3, 4, 5, 6]
    assert run.train_loss[-1] < run.train_loss[0] and run.train_loss_per_step.shape == (120,)
    assert isinstance(run.key_frequencies, tuple) and isinstance(run.phases, PhaseBoundaries)
    assert run.config["p"] == 13 and run.config["seed"] == 0
    assert run.data.is_train.sum() == round(0.5 * 169)
    seen, unseen = run.mirror_split()
    assert len(seen) == len(run.data.test_pairs)

    model = run.model_at(60)
    assert isinstance(model, ModularTransformer) and not model.training
    logits = model(torch.tensor([[1, 2], [12, 12]]))
    assert logits.shape == (2, 13)
    with torch.no_grad():
        train_logits = model(run.data.train_pairs)
    assert np.isclose(float(cross_entropy(train_logits, run.data.train_labels)), run.train_loss[3],
                      atol=1e-6)
    with pytest.raises(ValueError, match="step 7 was not saved; the nearest checkpoints are 0 and 20"):
        run.model_at(7)
    with pytest.raises(TypeError, match="step"):
        run.model_at("20")
    assert run.checkpoint_index(60) == 3
    final = run.model()
    assert torch.equal(final.W_E, run.model_at(120).W_E) and not final.training

    # loss_fn is the loss it was trained with: at checkpoint t, the loss of the (t + 1)-th step
    with torch.no_grad():
        for t in (0, 60):
            batch = (run.data.train_pairs, run.data.train_labels)
            assert float(run.loss_fn(run.model_at(t), batch)) == pytest.approx(run.train_loss_per_step[t], abs=1e-9)

    assert len(list(tmp_path.glob("identity-grokking-*.pt"))) == 2
    other = modular_addition_run(seed=1, profile="quick", progress=False, **{**TINY, "steps": 20})
    assert len(other.checkpoint_steps) == 2 and len(list(tmp_path.glob("identity-grokking-*.pt"))) == 3
    monkeypatch.setattr(run_module, "train_modular_addition", lambda *a, **k: pytest.fail("retrained"))
    again = modular_addition_run(seed=0, profile="quick", progress=False, **TINY)
    assert np.array_equal(again.test_loss, run.test_loss) and again.key_frequencies == run.key_frequencies
    assert torch.equal(again.states[-1]["W_E"], run.states[-1]["W_E"])
    assert again.phases == run.phases
    grok = run.grok_step(0.0001)
    assert grok == run.checkpoint_steps[np.flatnonzero(run.test_acc >= 0.0001)[0]]
    assert run.grok_step(1.0) in (None, *run.checkpoint_steps.tolist())
    with pytest.raises(ValueError, match="accuracy"):
        run.grok_step(1.5)


def test_design_public_name_still_resolves():
    """DESIGN.md lists ``course_lib.identity.modular_addition_run``; it moved to course_lib.modular."""
    import course_lib.identity as identity
    from course_lib.identity import modular_addition_run as old_name
    assert old_name is modular_addition_run and "modular_addition_run" in identity.__all__
