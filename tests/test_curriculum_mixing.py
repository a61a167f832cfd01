"""Tests for course_lib.curriculum.mixing: the mixing rule, the model, training, suppression."""

import math

import numpy as np
import pytest
import torch

from course_lib.curriculum import mixing as M


def test_mix_rule_known_pairs():
    a = torch.tensor([[1.0, 0, 0], [1.0, 0, 0], [0.2, 0.4, 0.6]])
    b = torch.tensor([[0.0, 1, 1], [1.0, 0, 0], [0.2, 0.4, 0.6]])
    out = M.mix(a, b)   # subtractive: red through a cyan filter is black; a filter twice squares it
    assert torch.allclose(out, torch.tensor([[0.0, 0.0, 0.0], [1.0, 0, 0], [0.04, 0.16, 0.36]]))
    assert torch.allclose(M.mix(a, b), M.mix(b, a))


@pytest.mark.parametrize("bad, err", [
    (np.zeros((2, 3)), TypeError), (torch.zeros(2, 4), ValueError), (torch.full((1, 3), float("nan")), ValueError),
    (torch.full((1, 3), 1.5), ValueError), (torch.zeros(2, 3, dtype=torch.long), TypeError)])
def test_mix_bad_input(bad, err):
    with pytest.raises(err):
        M.mix(bad, torch.zeros(2, 3))


def test_mix_shape_mismatch():
    with pytest.raises(ValueError, match="same shape"):
        M.mix(torch.zeros(2, 3), torch.zeros(3, 3))


def test_pairs_and_model_shapes():
    p = M.mixing_pairs(7, torch.Generator().manual_seed(0))
    assert p.shape == (7, 2, 3) and float(p.min()) >= 0 and float(p.max()) <= 1
    m = M.MixingTransformer(d=8, heads=2, layers=2)
    assert m(p).shape == (7, 3)
    assert m.embed(p).shape == (7, 2, 8)
    with pytest.raises(ValueError, match="divisible"):
        M.MixingTransformer(d=9, heads=2)
    with pytest.raises(ValueError, match="pairs"):
        m(torch.zeros(4, 3))
    with pytest.raises(ValueError, match="n must"):
        M.mixing_pairs(0)


def test_training_deterministic_and_learns():
    r1 = M.train_mixer(seed=3, profile="quick", steps=60, snap_every=20)
    r2 = M.train_mixer(seed=3, profile="quick", steps=60, snap_every=20)
    assert np.array_equal(r1.mse, r2.mse)
    assert r1.mse[-5:].mean() < r1.mse[:5].mean()
    assert list(r1.checkpoint_steps) == [0, 20, 40, 60]
    assert r1.checkpoint_cos.shape == (4, 24)
    p = M.mixing_pairs(5, torch.Generator().manual_seed(1))
    assert torch.equal(r1.model()(p), r2.model()(p))
    with pytest.raises(ValueError, match="unknown"):
        M.train_mixer(seed=0, profile="quick", bogus=1)


def test_suppression_removes_only_positive_lean():
    m = M.MixingTransformer(d=4, heads=1)
    with torch.no_grad():
        m.colour.weight.zero_()
        m.colour.bias.zero_()
        m.colour.weight[0, 0] = 1.0      # red channel writes along e0
        m.colour.weight[1, 1] = 1.0
    red_free = torch.tensor([[[0.0, 1, 0], [0.0, 0, 1]]])
    assert torch.allclose(M.suppressed_predict(m, red_free), m(red_free).detach())
    red = torch.tensor([[[1.0, 0, 0], [0.0, 1, 0]]])
    h = m.embed(red).detach().reshape(-1, 4)
    h[:, 0] = 0
    assert torch.allclose(M.suppressed_predict(m, red), m.head(h.reshape(1, 2, 4)).detach())
    assert M.pair_damage(m, red_free).abs().max() < 1e-7


def test_pair_redness_and_named_mixes():
    labels, pairs = M.named_mixes(["red", "cyan"])
    assert labels == ["red + red", "red + cyan", "cyan + cyan"]
    assert torch.allclose(M.pair_redness(pairs), torch.tensor([1.0, 1.0, 0.0]))
    with pytest.raises(ValueError, match="unknown colour"):
        M.named_mixes(["crimson"])


def test_anchor_forms_and_suppression_is_selective():
    run = M.train_mixer(seed=0, profile="quick")
    assert M.anchor_success(run)
    p = M.mixing_pairs(1000, torch.Generator().manual_seed(5))
    r, d = M.pair_redness(p), M.pair_damage(run.model(), p)
    assert d[r > 0.5].mean() > 20 * d[r < 0.05].abs().mean()
    assert isinstance(run.model_at(0), M.MixingTransformer)
    assert math.isclose(float(M.red_cosines(run.model(), torch.tensor([[1.0, 0, 0]]))[0]),
                        float(run.checkpoint_cos[-1, 0]), abs_tol=1e-6)


def test_mute_report_matches_its_definition():
    run = M.train_mixer(seed=1, profile="quick", steps=40, snap_every=20)
    p = M.mixing_pairs(400, torch.Generator().manual_seed(7))
    rep = M.mute_report(run, p)
    r, d = M.pair_redness(p), M.pair_damage(run.model(), p)
    assert math.isclose(rep.damage_red, float(d[r >= 0.5].mean()), rel_tol=1e-6)
    assert math.isclose(rep.damage_free, float(d[r < 0.05].abs().mean()), rel_tol=1e-6)
    assert math.isclose(rep.selectivity, rep.damage_red / rep.damage_free, rel_tol=1e-6)
    muted = M.suppressed_predict(run.model(), p[r >= 0.5])
    want = float(((muted < -0.05) | (muted > 1.05)).any(dim=1).float().mean())
    assert math.isclose(rep.off_cube, want) and 0 <= rep.off_cube <= 1
    assert math.isclose(rep.red_cos, float(M.red_cosines(run.model(), torch.tensor([[1.0, 0, 0]]))[0]))


def test_mute_report_bad_input():
    run = M.train_mixer(seed=0, profile="quick", steps=5, snap_every=5)
    with pytest.raises(TypeError, match="MixingRun"):
        M.mute_report("run", M.mixing_pairs(4))
    with pytest.raises(ValueError, match="free_below"):
        M.mute_report(run, M.mixing_pairs(50), red_above=0.1, free_below=0.2)
    greens = torch.tensor([[[0.0, 1, 0], [0.0, 0, 1]]])
    with pytest.raises(ValueError, match="both"):
        M.mute_report(run, greens)


def test_mixers_train_on_one_thread(monkeypatch):
    """The 256-pair steps run on one CPU thread (two only synchronise: on a busy 2-core machine a
    standard mixer took 5–10× longer), and the caller's setting is restored."""
    from course_lib.curriculum import mixing_pooled as P

    seen = []
    real_losses, real_mix = M._losses, P.mix

    def spy_losses(*args, **kwargs):
        seen.append(("mixer", torch.get_num_threads()))
        return real_losses(*args, **kwargs)

    def spy_mix(*args, **kwargs):
        seen.append(("pooled", torch.get_num_threads()))
        return real_mix(*args, **kwargs)

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        monkeypatch.setattr(M, "_losses", spy_losses)
        monkeypatch.setattr(P, "mix", spy_mix)
        M.train_mixer(seed=1, profile="quick", steps=4, snap_every=2)
        P.train_pooled(seed=1, profile="quick", steps=4)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
    assert {k for k, _ in seen} == {"mixer", "pooled"}
    assert all(n == 1 for _, n in seen), seen
