"""Tests for course_lib.modular.measures: Fourier basis, embedding spectrum, key frequencies,
restricted/excluded logits, progress measures."""

import math

import numpy as np
import pytest
import torch

from course_lib.modular.data import modular_addition_data
from course_lib.modular.measures import (embedding_spectrum, fourier_basis, key_frequencies, key_frequency_logits,
                                        progress_measures)
from course_lib.modular.model import ModularTransformer, cross_entropy

torch.set_num_threads(1)


def wave(p: int, k: int, shift: float = 0.0) -> torch.Tensor:
    """cos(2πk(x)/p + shift) on Z_p, float64."""
    x = torch.arange(p, dtype=torch.float64)
    return torch.cos(2 * math.pi * k * x / p + shift)


def cube(p: int, freqs, scale: float = 1.0) -> torch.Tensor:
    """Logits (p², p): scale · Σ_k cos(2πk(a + b − c)/p), pair a·p + b."""
    a = torch.arange(p, dtype=torch.float64)
    s = (a[:, None, None] + a[None, :, None] - a[None, None, :]).reshape(p * p, p)
    return scale * sum(torch.cos(2 * math.pi * k * s / p) for k in freqs)


def labels(p: int) -> torch.Tensor:
    a = torch.arange(p * p)
    return (a // p + a % p) % p


@pytest.mark.parametrize("p", [3, 7, 11, 13])
def test_fourier_basis_is_orthonormal(p):
    B = fourier_basis(p)
    assert B.shape == (p, p) and B.dtype == torch.float64
    assert torch.allclose(B @ B.T, torch.eye(p, dtype=torch.float64), atol=1e-12)
    assert torch.allclose(B[0], torch.full((p,), p ** -0.5, dtype=torch.float64))
    assert torch.allclose(B[3] if p > 3 else B[1], (wave(p, 2) if p > 3 else wave(p, 1)) * (2 / p) ** 0.5)
    assert torch.allclose(B[2], wave(p, 1, -math.pi / 2) * (2 / p) ** 0.5)  # sin(2πx/p)


def test_fourier_basis_bad_p():
    with pytest.raises(ValueError, match="prime"):
        fourier_basis(8)


def test_key_frequencies_of_a_constructed_embedding():
    p, d = 31, 16
    g = torch.Generator().manual_seed(0)
    emb = torch.zeros(p, d, dtype=torch.float64)
    for k in (2, 5, 11):  # a cosine and a phase-shifted wave of each key frequency, random directions
        emb += wave(p, k)[:, None] * torch.randn(d, generator=g, dtype=torch.float64)
        emb += wave(p, k, 1.0)[:, None] * torch.randn(d, generator=g, dtype=torch.float64)
    emb += 3.0  # a constant offset is not a frequency
    assert key_frequencies(emb.float()) == (2, 5, 11)
    spectrum = embedding_spectrum(emb)
    assert spectrum.shape == ((p - 1) // 2,)
    key = np.isin(np.arange(1, 16), (2, 5, 11))
    assert np.all(spectrum[~key] < 1e-9) and np.all(spectrum[key] > 1)
    # the rule is "share of the energy > factor × the even share 1/K": at most K/factor keys
    assert key_frequencies(emb, factor=14) == ()

    model = ModularTransformer(p, d_model=d, n_heads=2, d_mlp=8)
    with torch.no_grad():
        model.W_E[:p] = emb.float()
    assert key_frequencies(model) == (2, 5, 11)
    assert key_frequencies(model.state_dict()) == (2, 5, 11)
    stacked = embedding_spectrum(torch.stack([emb, 2 * emb]))
    assert stacked.shape == (2, 15) and np.allclose(stacked[1], 2 * spectrum)


def test_key_frequencies_of_a_random_embedding_are_none():
    model = ModularTransformer(53, d_model=64, n_heads=4, d_mlp=8,
                                 generator=torch.Generator().manual_seed(0))
    assert key_frequencies(model) == ()


def test_key_frequencies_bad_input():
    with pytest.raises(TypeError, match="ModularTransformer"):
        key_frequencies([1, 2, 3])
    with pytest.raises(ValueError, match="factor"):
        key_frequencies(torch.randn(11, 4), factor=1)
    with pytest.raises(ValueError, match="NaN"):
        key_frequencies(torch.full((11, 4), float("nan")))
    with pytest.raises(ValueError, match="prime"):
        key_frequencies(torch.randn(12, 4))


def test_restricted_and_excluded_logits_of_pure_key_frequencies():
    p, key = 13, (2, 5)
    L = cube(p, key, scale=6.0)
    restricted, excluded = key_frequency_logits(L, key)
    # L is made only of key frequencies, and Σ_(a,b) cos(w(a+b−c)) = 0: restricted keeps all of L,
    # excluded is zero logits, i.e. uniform predictions with loss exactly ln p.
    assert torch.allclose(restricted, L, atol=1e-10)
    assert torch.allclose(excluded, torch.zeros_like(L), atol=1e-10)
    y = labels(p)
    assert abs(float(cross_entropy(excluded, y)) - math.log(p)) < 1e-9
    # the right answer c = a+b gets 2·6 = 12, every other c at most 6·max_d(cos 2πd·2/p + cos 2πd·5/p)
    assert float(cross_entropy(restricted, y)) < 0.05


def test_restricted_and_excluded_logits_split_key_from_other_components():
    p, key = 13, (2, 5)
    g = torch.Generator().manual_seed(0)
    key_part = cube(p, key, 6.0)
    other = cube(p, (3,), 4.0)                               # a non-key frequency …
    a_only = torch.randn(p, p, generator=g, dtype=torch.float64).repeat_interleave(p, 0)  # … f(a, c)
    bias = torch.randn(1, p, generator=g, dtype=torch.float64)                          # … g(c)
    L = key_part + other + a_only + bias
    restricted, excluded = key_frequency_logits(L, key)
    assert torch.allclose(excluded, other + a_only + bias, atol=1e-9)
    assert torch.allclose(restricted, key_part + L.mean(0, keepdim=True), atol=1e-9)
    # with only part of the logits from the MLP, excluded removes the key part of that part only
    r2, e2 = key_frequency_logits(L, key, mlp_logits=key_part + other)
    assert torch.allclose(e2, other + a_only + bias, atol=1e-9) and torch.allclose(r2, restricted)
    # with every frequency key, restricted keeps exactly the functions of (a + b) mod p (and means)
    allk = tuple(range(1, (p - 1) // 2 + 1))
    r3, _ = key_frequency_logits(L, allk)
    assert torch.allclose(r3, key_part + other + L.mean(0, keepdim=True), atol=1e-9)
    # no key frequencies: restricted is the mean prediction, excluded the full logits
    r4, e4 = key_frequency_logits(L, ())
    assert torch.allclose(e4, L) and torch.allclose(r4, L.mean(0, keepdim=True).expand_as(L))


def test_key_frequency_logits_bad_input():
    L = cube(11, (1,))
    with pytest.raises(ValueError, match="key_freqs"):
        key_frequency_logits(L, (6,))
    with pytest.raises(ValueError, match="distinct"):
        key_frequency_logits(L, (2, 2))
    with pytest.raises(ValueError, match="shape"):
        key_frequency_logits(L[:100], (1,))
    with pytest.raises(TypeError, match="logits"):
        key_frequency_logits(L.long(), (1,))
    with pytest.raises(ValueError, match="mlp_logits"):
        key_frequency_logits(L, (1,), mlp_logits=L[:, :5])
    bad = L.clone()
    bad[0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        key_frequency_logits(bad, (1,))


def test_progress_measures_of_constructed_states():
    p = 11
    data = modular_addition_data(p, 0.5, 0)
    model = ModularTransformer(p, d_model=16, n_heads=2, d_mlp=32, generator=torch.Generator().manual_seed(0))
    states = [{k: v.detach().clone() for k, v in model.state_dict().items()}]
    states.append({k: 2 * v for k, v in states[0].items()})
    out = progress_measures(states, data, (1, 3))
    for name in ("train_loss", "test_loss", "test_acc", "test_acc_all", "test_acc_mirror_seen",
                 "restricted_loss", "excluded_loss", "weight_norm"):
        assert out[name].shape == (2,) and np.all(np.isfinite(out[name])), name
    norm = sum(float(v.pow(2).sum()) for v in states[0].values())
    assert np.allclose(out["weight_norm"], [norm, 4 * norm])
    with torch.no_grad():
        logits = model(data.pairs)
    assert abs(out["train_loss"][0] - float(cross_entropy(logits[data.is_train], data.train_labels))) < 1e-6
    assert out["embedding_spectrum"].shape == (2, 5)
    with pytest.raises(ValueError, match="empty"):
        progress_measures([], data, (1,))
