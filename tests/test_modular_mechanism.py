"""Tests for course_lib.modular.mechanism: the cos-form share of the logits, the neurons'
best-frequency share, the confident-wrong share, and the per-checkpoint measures of a tiny run."""

import math

import numpy as np
import pytest
import torch

from course_lib.modular.measures import fourier_basis
from course_lib.modular.mechanism import (MechanismMeasures, confident_wrong_share, cos_form_fraction,
                                          first_step_at, mechanism_measures, neuron_checkpoints,
                                          neuron_frequency_fraction, unseen_losses)
from course_lib.modular.run import modular_addition_run

torch.set_num_threads(1)


def _cos_logits(p, ks, amps):
    x = torch.arange(p, dtype=torch.float64)
    s = (x[:, None] + x[None, :]).reshape(-1)
    L = torch.zeros(p * p, p, dtype=torch.float64)
    for k, a in zip(ks, amps):
        L += a * torch.cos(2 * math.pi * k * (s[:, None] - x[None, :]) / p)
    return L


def test_cos_form_exact_and_orthogonal():
    L = _cos_logits(13, [2, 5], [3.0, 1.0])
    frac, alphas = cos_form_fraction(L, [2, 5])
    assert frac == pytest.approx(1.0) and np.allclose(alphas, [3.0, 1.0])
    frac2, _ = cos_form_fraction(L, [2])
    assert frac2 == pytest.approx(9 / 10)                 # energies add: 9 : 1
    assert cos_form_fraction(L, [3])[0] == pytest.approx(0.0, abs=1e-12)


def test_cos_form_ignores_per_pair_constants_and_sine_phase():
    p = 11
    L = _cos_logits(p, [3], [2.0]) + torch.randn(p * p, 1, dtype=torch.float64) * 5   # softmax-invisible
    assert cos_form_fraction(L, [3])[0] == pytest.approx(1.0)
    x = torch.arange(p, dtype=torch.float64)
    s = (x[:, None] + x[None, :]).reshape(-1)
    sine = torch.sin(2 * math.pi * 3 * (s[:, None] - x[None, :]) / p)      # peaks elsewhere: not the form
    assert cos_form_fraction(sine, [3])[0] == pytest.approx(0.0, abs=1e-12)
    assert cos_form_fraction(torch.ones(p * p, p), [1]) == (0.0, pytest.approx(np.zeros(1)))


def test_cos_form_random_logits_small():
    g = torch.Generator().manual_seed(0)
    L = torch.randn(17 * 17, 17, generator=g, dtype=torch.float64)
    assert cos_form_fraction(L, range(1, 9))[0] < 0.05


@pytest.mark.parametrize("bad, err", [
    (torch.zeros(10, 3), ValueError), (torch.zeros(9, 3, dtype=torch.long), TypeError),
    (torch.full((9, 3), float("nan")), ValueError), (torch.zeros(16, 4), ValueError), ("x", TypeError)])
def test_cos_form_bad_logits(bad, err):
    with pytest.raises(err):
        cos_form_fraction(bad, [1])


def test_cos_form_bad_freqs():
    with pytest.raises(ValueError, match="key_freqs"):
        cos_form_fraction(torch.zeros(9, 3), [2])
    with pytest.raises(ValueError, match="distinct"):
        cos_form_fraction(torch.zeros(25, 5), [1, 1])


def _brute_neuron_shares(A, p):
    F = fourier_basis(p)
    X = A.reshape(p, p, -1) - A.reshape(p, p, -1).mean((0, 1))
    C = torch.einsum("ia,abn,jb->ijn", F, X, F)
    total = X.pow(2).sum((0, 1))
    shares = []
    for k in range(1, (p - 1) // 2 + 1):
        idx = [0, 2 * k - 1, 2 * k]
        shares.append((C[idx][:, idx].pow(2).sum((0, 1)) - C[0, 0].pow(2)) / total)
    return torch.stack(shares)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_neuron_fraction_matches_the_full_2d_transform(dtype):
    p = 13
    A = torch.relu(torch.randn(p * p, 7, generator=torch.Generator().manual_seed(1), dtype=torch.float64))
    frac, best = neuron_frequency_fraction(A, dtype=dtype)
    shares = _brute_neuron_shares(A, p)
    assert np.allclose(frac, shares.max(0).values.numpy(), atol=1e-5)
    assert np.array_equal(best, shares.argmax(0).numpy() + 1)


def test_neuron_fraction_single_frequency_neurons():
    p = 11
    x = torch.arange(p, dtype=torch.float64)
    w = 2 * math.pi * 4 / p
    a, b = x[:, None], x[None, :]
    cols = [torch.cos(w * (a + b)), torch.cos(w * a) * torch.sin(w * b),
            (torch.sin(w * b) + 3.0).expand(p, p), torch.zeros(p, p)]
    A = torch.stack([c.reshape(-1) for c in cols], 1)
    frac, best = neuron_frequency_fraction(A)
    assert np.allclose(frac[:3], 1.0) and list(best[:3]) == [4, 4, 4]
    assert frac[3] == 0 and best[3] == 0                          # a dead neuron
    # cos(w(a − b)) is also frequency 4 (products of cos/sin of a and b)
    f2, b2 = neuron_frequency_fraction(torch.cos(w * (a - b)).reshape(-1, 1))
    assert f2[0] == pytest.approx(1.0) and b2[0] == 4
    # a mix of two frequencies: the larger one wins with its share
    mix = (2 * torch.cos(w * a) + torch.cos(2 * math.pi * 2 * b / p)).reshape(-1, 1).contiguous()
    f3, b3 = neuron_frequency_fraction(mix)
    assert b3[0] == 4 and f3[0] == pytest.approx(4 / 5)


def test_neuron_fraction_bad_input():
    with pytest.raises(TypeError):
        neuron_frequency_fraction(np.zeros((9, 2)))
    with pytest.raises(ValueError, match="p²"):
        neuron_frequency_fraction(torch.zeros(10, 2))
    with pytest.raises(ValueError, match="prime"):
        neuron_frequency_fraction(torch.zeros(16, 2))
    with pytest.raises(ValueError, match="shape"):
        neuron_frequency_fraction(torch.zeros(9))
    with pytest.raises(ValueError, match="NaN"):
        neuron_frequency_fraction(torch.full((9, 2), float("inf")))
    with pytest.raises(ValueError, match="dtype"):
        neuron_frequency_fraction(torch.zeros(9, 2), dtype=torch.float16)


def test_confident_wrong_share():
    logits = torch.log(torch.tensor([[0.95, 0.03, 0.02], [0.02, 0.95, 0.03], [0.04, 0.48, 0.48]]))
    assert confident_wrong_share(logits, torch.tensor([0, 0, 0]), 0.9) == pytest.approx(1 / 3)
    assert confident_wrong_share(logits, torch.tensor([0, 0, 0]), 0.4) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="threshold"):
        confident_wrong_share(logits, torch.tensor([0, 0, 0]), 1.0)
    with pytest.raises(ValueError, match="labels"):
        confident_wrong_share(logits, torch.tensor([0, 0]), 0.5)
    with pytest.raises(TypeError):
        confident_wrong_share(logits[0], torch.tensor([0]), 0.5)
    with pytest.raises(ValueError, match="at least one"):
        confident_wrong_share(torch.zeros(0, 3), torch.zeros(0, dtype=torch.long), 0.5)


def test_neuron_checkpoints_and_first_step():
    assert list(neuron_checkpoints(5, 20)) == [0, 1, 2, 3, 4]
    idx = neuron_checkpoints(91, 20)
    assert idx[0] == 0 and idx[-1] == 90 and 15 <= len(idx) <= 21
    steps, vals = np.array([0, 10, 20, 30]), np.array([0.1, 0.6, 0.4, 0.9])
    assert first_step_at(steps, vals, 0.5) == 10
    assert first_step_at(steps, vals, 0.5, start=20) == 30
    assert first_step_at(steps, vals, 0.2, above=False) == 0
    assert first_step_at(steps, vals, 0.95) is None
    with pytest.raises(ValueError):
        first_step_at(steps, vals[:3], 0.5)


TINY = {"p": 13, "train_fraction": 0.5, "d_model": 32, "n_heads": 4, "d_mlp": 64, "lr": 1e-2,
        "steps": 60, "checkpoint_every": 20}


def test_mechanism_measures_of_a_tiny_run(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    run = modular_addition_run(seed=0, profile="quick", progress=False, **TINY)
    mech = mechanism_measures(run)
    assert isinstance(mech, MechanismMeasures)
    n = len(run.checkpoint_steps)
    for name in ("test_loss_unseen", "restricted_loss_unseen", "cos_fraction", "cos_fraction_all",
                 "excluded_confident_wrong", "excluded_majority_wrong", "excluded_worse_than_uniform",
                 "excluded_logit_range"):
        values = getattr(mech, name)
        assert values.shape == (n,) and np.isfinite(values).all(), name
    assert np.all(mech.cos_fraction <= mech.cos_fraction_all + 1e-9)
    assert np.all((0 <= mech.cos_fraction_all) & (mech.cos_fraction_all <= 1 + 1e-9))
    assert np.all(mech.excluded_confident_wrong <= mech.excluded_majority_wrong)
    assert list(mech.neuron_steps) == list(run.checkpoint_steps[neuron_checkpoints(n)])
    assert mech.neuron_fraction.shape == (len(mech.neuron_steps), 64)
    # the unseen test loss is the cross-entropy over the mirror-unseen test pairs, recomputed here
    data = run.data
    _, unseen = run.mirror_split()
    with torch.no_grad():
        logits = run.model()(data.test_pairs[unseen])
    want = torch.nn.functional.cross_entropy(logits.double(), data.test_labels[unseen])
    assert mech.test_loss_unseen[-1] == pytest.approx(float(want), rel=1e-6)
    # cached: a second call computes nothing
    files = sorted(p.name for p in tmp_path.iterdir())
    assert any(f.startswith("identity-grokking-mechanism") for f in files)
    assert any(f.startswith("identity-grokking-unseen") for f in files)
    again = mechanism_measures(run)
    assert np.array_equal(again.cos_fraction, mech.cos_fraction)
    test, restricted, phases = unseen_losses(run)
    assert np.array_equal(test, mech.test_loss_unseen) and phases == mech.phases_unseen
    assert mech.index(int(run.checkpoint_steps[1])) == 1
    with pytest.raises(ValueError, match="checkpoint"):
        mech.index(7)


def test_mechanism_measures_needs_a_run():
    with pytest.raises(TypeError, match="GrokkingRun"):
        mechanism_measures({"states": []})
    with pytest.raises(TypeError, match="GrokkingRun"):
        unseen_losses(None)


def test_half_way_step_reads_each_curve_from_its_own_start():
    from course_lib.modular.mechanism import half_way_step
    steps = np.array([0, 10, 20, 30])
    assert half_way_step(steps, np.array([0.1, 0.2, 0.6, 0.9])) == 20     # 0.5 of the way is 0.5
    assert half_way_step(steps, np.array([0.0, 0.5, 0.6, 1.0])) == 10     # exactly half counts
    assert half_way_step(steps, np.array([0.3, 0.3, 0.3, 0.3])) is None   # never rises
    with pytest.raises(ValueError, match="same"):
        half_way_step(steps, np.zeros(3))


def test_excluded_rank_on_hand_made_rows():
    from course_lib.modular.mechanism import excluded_rank
    # row 0: right answer (index 0) on top; row 1: right answer (index 2) below two of three
    logits = torch.tensor([[3.0, 0.0, 0.0, 1.0], [5.0, 4.0, 1.0, 0.0]])
    labels = torch.tensor([0, 2])
    out = excluded_rank(logits, labels)
    assert abs(out["wrong_above"] - (0 + 2 / 3) / 2) < 1e-12
    x = logits.double()
    z = (x[[0, 1], [0, 2]] - x.mean(1)) / x.std(1)
    assert abs(out["right_z"] - float(z.mean())) < 1e-12
    # a random label's expected loss is the mean cross-entropy over every label
    ce = torch.nn.functional.cross_entropy
    expect = float(torch.stack([ce(x, torch.full((2,), k)) for k in range(4)]).mean())
    assert abs(out["random_label_loss"] - expect) < 1e-12
    # flat rows: a random label costs exactly ln p
    flat = excluded_rank(torch.zeros(3, 5), torch.tensor([0, 1, 2]))
    assert abs(flat["random_label_loss"] - np.log(5)) < 1e-12
    with pytest.raises(ValueError, match="logits"):
        excluded_rank(torch.zeros(3), torch.tensor([0, 1, 2]))
