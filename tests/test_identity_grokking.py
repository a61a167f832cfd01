"""Tests for course_lib.identity.grokking: data, mirror split, model, Fourier measures, phases, run."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib.identity import grokking as G

torch.set_num_threads(1)

TINY = {"p": 13, "train_fraction": 0.5, "d_model": 32, "n_heads": 4, "d_mlp": 64, "lr": 1e-2,
        "steps": 120, "checkpoint_every": 20}


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


# --------------------------------------------------------------------------- data
def test_is_prime():
    assert [n for n in range(30) if G.is_prime(n)] == [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]


def test_data_labels_and_split():
    d = G.modular_addition_data(11, 0.3, seed=0)
    assert d.pairs.shape == (121, 2) and d.pairs.dtype == torch.long
    assert torch.equal(d.labels, (d.pairs[:, 0] + d.pairs[:, 1]) % 11)
    assert torch.equal(d.pairs[5 * 11 + 7], torch.tensor([5, 7]))
    assert int(d.is_train.sum()) == round(0.3 * 121) == len(d.train_pairs)
    assert len(d.train_pairs) + len(d.test_pairs) == 121
    again, other = G.modular_addition_data(11, 0.3, seed=0), G.modular_addition_data(11, 0.3, seed=1)
    assert torch.equal(again.is_train, d.is_train) and not torch.equal(other.is_train, d.is_train)


@pytest.mark.parametrize("p, frac, err", [
    (1, 0.3, ValueError), (2, 0.3, ValueError), (9, 0.3, ValueError), (15, 0.3, ValueError),
    (11.0, 0.3, TypeError), ("11", 0.3, TypeError), (11, 0.0, ValueError), (11, 1.0, ValueError),
    (11, 1.5, ValueError), (11, -0.2, ValueError), (11, "0.3", TypeError), (3, 0.01, ValueError)])
def test_data_bad_input(p, frac, err):
    with pytest.raises(err, match="p|train_fraction"):
        G.modular_addition_data(p, frac, 0)


def test_mirror_split_partitions_the_test_set():
    d = G.modular_addition_data(13, 0.4, seed=3)
    seen, unseen = G.mirror_split(d)
    assert seen.shape == unseen.shape == (len(d.test_pairs),)
    assert bool((seen ^ unseen).all())                      # a partition
    train = {tuple(x) for x in d.train_pairs.tolist()}
    test = d.test_pairs.tolist()
    for (a, b), s in zip(test, seen.tolist()):
        assert ((b, a) in train) == s                       # seen exactly when the mirror is train
    diagonal = torch.tensor([a == b for a, b in test])
    assert bool(unseen[diagonal].all()) and bool(diagonal.any())   # a == b counts as unseen
    assert 0 < int(seen.sum()) < len(test)
    with pytest.raises(TypeError, match="data"):
        G.mirror_split(d.pairs)


# --------------------------------------------------------------------------- model
def test_model_fast_forward_matches_full_attention():
    g = torch.Generator().manual_seed(0)
    m = G.ModularTransformer(11, d_model=32, n_heads=4, d_mlp=64, generator=g)
    with torch.no_grad():  # make attention non-trivial: random, larger weights
        m.W_Q.mul_(4), m.W_K.mul_(4)
    pairs = G.modular_addition_data(11, 0.5, 0).pairs
    fast, full = m(pairs), m.forward_all_positions(pairs)
    assert fast.shape == (121, 11)
    assert torch.allclose(fast, full, atol=1e-5)
    logits, mlp_part = m.logits_and_mlp_part(pairs)
    assert torch.allclose(logits, fast, atol=1e-6) and mlp_part.shape == logits.shape
    assert not torch.allclose(mlp_part, logits)
    assert torch.allclose(m(pairs.int()), fast)


@pytest.mark.parametrize("bad, err", [
    (np.zeros((4, 2), dtype=int), TypeError), (torch.zeros(4, 2), TypeError),
    (torch.zeros(4, 3, dtype=torch.long), ValueError), (torch.zeros(4, dtype=torch.long), ValueError),
    (torch.tensor([[0, 11]]), ValueError), (torch.tensor([[-1, 0]]), ValueError)])
def test_model_bad_input(bad, err):
    m = G.ModularTransformer(11, d_model=16, n_heads=2, d_mlp=32)
    with pytest.raises(err, match="pairs"):
        m(bad)


def test_model_bad_config():
    with pytest.raises(ValueError, match="divisible"):
        G.ModularTransformer(11, d_model=30, n_heads=4)
    with pytest.raises(ValueError, match="prime"):
        G.ModularTransformer(12)
    with pytest.raises(ValueError, match="d_mlp"):
        G.ModularTransformer(11, d_mlp=0)


def test_cross_entropy_is_float64_and_exact():
    logits = torch.randn(20, 7, generator=torch.Generator().manual_seed(0))
    y = torch.randint(0, 7, (20,), generator=torch.Generator().manual_seed(1))
    loss = G.cross_entropy(logits, y)
    assert loss.dtype == torch.float64
    assert abs(float(loss) - float(F.cross_entropy(logits, y))) < 1e-6
    confident = torch.full((1, 7), -15.0)
    confident[0, 3] = 15.0  # true loss ln(1 + 6e⁻³⁰) ≈ 5.6e-13, below float32's resolution near 1
    true = math.log1p(6 * math.exp(-30))
    assert float(G.cross_entropy(confident, torch.tensor([3]))) == pytest.approx(true, rel=1e-3)
    assert float(F.cross_entropy(confident, torch.tensor([3]))) == 0.0  # float32 loses it entirely


# --------------------------------------------------------------------------- Fourier measures
@pytest.mark.parametrize("p", [3, 7, 11, 13])
def test_fourier_basis_is_orthonormal(p):
    B = G.fourier_basis(p)
    assert B.shape == (p, p) and B.dtype == torch.float64
    assert torch.allclose(B @ B.T, torch.eye(p, dtype=torch.float64), atol=1e-12)
    assert torch.allclose(B[0], torch.full((p,), p ** -0.5, dtype=torch.float64))
    assert torch.allclose(B[3] if p > 3 else B[1], (wave(p, 2) if p > 3 else wave(p, 1)) * (2 / p) ** 0.5)
    assert torch.allclose(B[2], wave(p, 1, -math.pi / 2) * (2 / p) ** 0.5)  # sin(2πx/p)


def test_fourier_basis_bad_p():
    with pytest.raises(ValueError, match="prime"):
        G.fourier_basis(8)


def test_key_frequencies_of_a_constructed_embedding():
    p, d = 31, 16
    g = torch.Generator().manual_seed(0)
    emb = torch.zeros(p, d, dtype=torch.float64)
    for k in (2, 5, 11):  # a cosine and a phase-shifted wave of each key frequency, random directions
        emb += wave(p, k)[:, None] * torch.randn(d, generator=g, dtype=torch.float64)
        emb += wave(p, k, 1.0)[:, None] * torch.randn(d, generator=g, dtype=torch.float64)
    emb += 3.0  # a constant offset is not a frequency
    assert G.key_frequencies(emb.float()) == (2, 5, 11)
    spectrum = G.embedding_spectrum(emb)
    assert spectrum.shape == ((p - 1) // 2,)
    key = np.isin(np.arange(1, 16), (2, 5, 11))
    assert np.all(spectrum[~key] < 1e-9) and np.all(spectrum[key] > 1)
    # the rule is "share of the energy > factor × the even share 1/K": at most K/factor keys
    assert G.key_frequencies(emb, factor=14) == ()

    model = G.ModularTransformer(p, d_model=d, n_heads=2, d_mlp=8)
    with torch.no_grad():
        model.W_E[:p] = emb.float()
    assert G.key_frequencies(model) == (2, 5, 11)
    assert G.key_frequencies(model.state_dict()) == (2, 5, 11)
    stacked = G.embedding_spectrum(torch.stack([emb, 2 * emb]))
    assert stacked.shape == (2, 15) and np.allclose(stacked[1], 2 * spectrum)


def test_key_frequencies_of_a_random_embedding_are_none():
    model = G.ModularTransformer(53, d_model=64, n_heads=4, d_mlp=8,
                                 generator=torch.Generator().manual_seed(0))
    assert G.key_frequencies(model) == ()


def test_key_frequencies_bad_input():
    with pytest.raises(TypeError, match="ModularTransformer"):
        G.key_frequencies([1, 2, 3])
    with pytest.raises(ValueError, match="factor"):
        G.key_frequencies(torch.randn(11, 4), factor=1)
    with pytest.raises(ValueError, match="NaN"):
        G.key_frequencies(torch.full((11, 4), float("nan")))
    with pytest.raises(ValueError, match="prime"):
        G.key_frequencies(torch.randn(12, 4))


def test_restricted_and_excluded_logits_of_pure_key_frequencies():
    p, key = 13, (2, 5)
    L = cube(p, key, scale=6.0)
    restricted, excluded = G.key_frequency_logits(L, key)
    # L is made only of key frequencies, and Σ_(a,b) cos(w(a+b−c)) = 0: restricted keeps all of L,
    # excluded is zero logits, i.e. uniform predictions with loss exactly ln p.
    assert torch.allclose(restricted, L, atol=1e-10)
    assert torch.allclose(excluded, torch.zeros_like(L), atol=1e-10)
    y = labels(p)
    assert abs(float(G.cross_entropy(excluded, y)) - math.log(p)) < 1e-9
    # the right answer c = a+b gets 2·6 = 12, every other c at most 6·max_d(cos 2πd·2/p + cos 2πd·5/p)
    assert float(G.cross_entropy(restricted, y)) < 0.05


def test_restricted_and_excluded_logits_split_key_from_other_components():
    p, key = 13, (2, 5)
    g = torch.Generator().manual_seed(0)
    key_part = cube(p, key, 6.0)
    other = cube(p, (3,), 4.0)                               # a non-key frequency …
    a_only = torch.randn(p, p, generator=g, dtype=torch.float64).repeat_interleave(p, 0)  # … f(a, c)
    bias = torch.randn(1, p, generator=g, dtype=torch.float64)                          # … g(c)
    L = key_part + other + a_only + bias
    restricted, excluded = G.key_frequency_logits(L, key)
    assert torch.allclose(excluded, other + a_only + bias, atol=1e-9)
    assert torch.allclose(restricted, key_part + L.mean(0, keepdim=True), atol=1e-9)
    # with only part of the logits from the MLP, excluded removes the key part of that part only
    r2, e2 = G.key_frequency_logits(L, key, mlp_logits=key_part + other)
    assert torch.allclose(e2, other + a_only + bias, atol=1e-9) and torch.allclose(r2, restricted)
    # with every frequency key, restricted keeps exactly the functions of (a + b) mod p (and means)
    allk = tuple(range(1, (p - 1) // 2 + 1))
    r3, _ = G.key_frequency_logits(L, allk)
    assert torch.allclose(r3, key_part + other + L.mean(0, keepdim=True), atol=1e-9)
    # no key frequencies: restricted is the mean prediction, excluded the full logits
    r4, e4 = G.key_frequency_logits(L, ())
    assert torch.allclose(e4, L) and torch.allclose(r4, L.mean(0, keepdim=True).expand_as(L))


def test_key_frequency_logits_bad_input():
    L = cube(11, (1,))
    with pytest.raises(ValueError, match="key_freqs"):
        G.key_frequency_logits(L, (6,))
    with pytest.raises(ValueError, match="distinct"):
        G.key_frequency_logits(L, (2, 2))
    with pytest.raises(ValueError, match="shape"):
        G.key_frequency_logits(L[:100], (1,))
    with pytest.raises(TypeError, match="logits"):
        G.key_frequency_logits(L.long(), (1,))
    with pytest.raises(ValueError, match="mlp_logits"):
        G.key_frequency_logits(L, (1,), mlp_logits=L[:, :5])
    bad = L.clone()
    bad[0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        G.key_frequency_logits(bad, (1,))


def test_progress_measures_of_constructed_states():
    p = 11
    data = G.modular_addition_data(p, 0.5, 0)
    model = G.ModularTransformer(p, d_model=16, n_heads=2, d_mlp=32, generator=torch.Generator().manual_seed(0))
    states = [{k: v.detach().clone() for k, v in model.state_dict().items()}]
    states.append({k: 2 * v for k, v in states[0].items()})
    out = G.progress_measures(states, data, (1, 3))
    for name in ("train_loss", "test_loss", "test_acc", "test_acc_all", "test_acc_mirror_seen",
                 "restricted_loss", "excluded_loss", "weight_norm"):
        assert out[name].shape == (2,) and np.all(np.isfinite(out[name])), name
    norm = sum(float(v.pow(2).sum()) for v in states[0].values())
    assert np.allclose(out["weight_norm"], [norm, 4 * norm])
    with torch.no_grad():
        logits = model(data.pairs)
    assert abs(out["train_loss"][0] - float(G.cross_entropy(logits[data.is_train], data.train_labels))) < 1e-6
    assert out["embedding_spectrum"].shape == (2, 5)
    with pytest.raises(ValueError, match="empty"):
        G.progress_measures([], data, (1,))


# --------------------------------------------------------------------------- phases
def synthetic(t_fit=200, t_excl=400, t_circuit=1200, t_grok=1600, mu=1700, tau=60, n=3000, every=20):
    """Curves with known change points: train, restricted and test loss cross 0.1 exactly at t_fit,
    t_circuit, t_grok; the excluded loss falls, then rises from its minimum at t_excl; the weight
    norm grows while memorising and drops back fast (a bump at t_fit whose fall is steeper than the
    clean-up's), then falls along a logistic (centre mu, width tau), plus a slow drift."""
    s = np.arange(0, n + 1, every, dtype=float)

    def crossing(t, start=4.6, end=1e-6, width=100.0):      # log-linear through 0.1 at t
        z = np.clip((s - t) / width, -np.log(start / 0.1) / np.log(10), np.log(0.1 / end) / np.log(10))
        return 0.1 * 10.0 ** (-z)

    train, restricted, test = crossing(t_fit), crossing(t_circuit), crossing(t_grok)
    excluded = 0.05 * np.exp(np.abs(s - t_excl) / 300)
    bump = 0.7 * np.exp(-0.5 * ((s - t_fit) / 40) ** 2)
    log_norm = np.log(1500) + bump - 0.8 / (1 + np.exp(-(s - mu) / tau)) - 2e-5 * s
    cleanup = mu + tau * math.log(0.933 / 0.067)             # where the fall rate is 1/4 of its peak
    return s, train, test, excluded, restricted, np.exp(log_norm), cleanup


@pytest.mark.parametrize("points", [(200, 400, 1200, 1600, 1700, 60), (400, 600, 900, 1300, 1500, 40),
                                    (100, 1000, 1800, 2000, 2100, 80)])
def test_detect_phases_recovers_known_change_points(points):
    t_fit, t_excl, t_circuit, t_grok, mu, tau = points
    s, train, test, excl, restr, norm, cleanup = synthetic(*points)
    ph = G.detect_phases(s, train, test, excl, restr, norm)
    assert ph.memorisation_end == pytest.approx(t_excl, abs=20)
    assert ph.circuit_formation_end == pytest.approx(t_circuit, abs=20)
    assert ph.cleanup_end == pytest.approx(cleanup, abs=40)
    assert ph.memorisation_end < ph.circuit_formation_end < ph.cleanup_end
    assert [name for name, _, _ in ph.intervals()] == ["memorisation", "circuit formation", "clean-up"]


def test_detect_phases_memorisation_needs_a_fitted_train_set():
    # the excluded loss bottoms out before the training pairs are fitted: memorisation ends at the fit
    s, train, test, excl, restr, norm, _ = synthetic(t_fit=600, t_excl=300)
    assert G.detect_phases(s, train, test, excl, restr, norm).memorisation_end == pytest.approx(600, abs=20)


def test_detect_phases_cleanup_waits_for_grokking():
    # the norm settles early but test loss is still high: clean-up ends only when test loss is low
    s, train, test, excl, restr, norm, cleanup = synthetic(200, 400, 800, 2400, 1000, 40)
    ph = G.detect_phases(s, train, test, excl, restr, norm)
    assert ph.cleanup_end == pytest.approx(2400, abs=20)


def test_detect_phases_unreached_boundaries_are_none():
    s, train, test, excl, restr, norm, _ = synthetic()
    flat = np.full_like(s, 4.0)
    assert G.detect_phases(s, flat, flat, excl, flat, norm).as_dict() == {
        "memorisation_end": None, "circuit_formation_end": None, "cleanup_end": None}
    ph = G.detect_phases(s, train, flat, excl, restr, norm)   # never groks
    assert ph.circuit_formation_end is not None and ph.cleanup_end is None
    ph = G.detect_phases(s[:90], train[:90], test[:90], excl[:90], restr[:90], norm[:90])
    assert ph.cleanup_end is None                             # the run ends inside the fall


def test_detect_phases_bad_input():
    s, train, test, excl, restr, norm, _ = synthetic()
    with pytest.raises(ValueError, match="test_loss has"):
        G.detect_phases(s, train, test[:-1], excl, restr, norm)
    nan = restr.copy()
    nan[5] = np.nan
    with pytest.raises(ValueError, match="restricted_loss contains NaN"):
        G.detect_phases(s, train, test, excl, nan, norm)
    with pytest.raises(ValueError, match="increasing"):
        G.detect_phases(s[::-1], train, test, excl, restr, norm)
    with pytest.raises(ValueError, match="weight_norm"):
        G.detect_phases(s, train, test, excl, restr, -norm)
    with pytest.raises(ValueError, match="norm_fraction"):
        G.detect_phases(s, train, test, excl, restr, norm, norm_fraction=1.5)


# --------------------------------------------------------------------------- settings and the run
def test_settings_per_profile():
    assert set(G.GROKKING_SETTINGS) == {"quick", "standard", "full"}
    keys = {frozenset(v) for v in G.GROKKING_SETTINGS.values()}
    assert len(keys) == 1
    std, full = G.GROKKING_SETTINGS["standard"], G.GROKKING_SETTINGS["full"]
    paper = {"p": 113, "train_fraction": 0.3, "d_model": 128, "n_heads": 4, "d_mlp": 512,
             "weight_decay": 1.0, "betas": (0.9, 0.98)}
    assert {k: std[k] for k in paper} == paper == {k: full[k] for k in paper}
    assert full["lr"] == 1e-3 and full["steps"] >= 25_000


def test_run_bad_arguments():
    with pytest.raises(ValueError, match="profile"):
        G.modular_addition_run(0, profile="huge")
    with pytest.raises(ValueError, match="unknown setting"):
        G.modular_addition_run(0, profile="quick", layers=2)
    with pytest.raises(TypeError, match="seed"):
        G.modular_addition_run("0", profile="quick")
    with pytest.raises(ValueError, match="p must be"):
        G.modular_addition_run(0, profile="quick", p=12)
    with pytest.raises(ValueError, match="threads"):
        G.modular_addition_run(0, profile="quick", threads=0)
    with pytest.raises(ValueError, match="lr"):
        G.modular_addition_run(0, profile="quick", lr=0.0)


def test_tiny_run_record_and_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    before, calls = torch.get_num_threads(), []
    monkeypatch.setattr(torch, "set_num_threads", calls.append)
    G.modular_addition_run(seed=0, profile="quick", progress=False, **{**TINY, "steps": 20}, threads=3)
    assert calls == [3, before, 3, before]  # training and measuring on 3 threads, then restored
    monkeypatch.undo()
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    run = G.modular_addition_run(seed=0, profile="quick", progress=False, **TINY)
    n = len(run.step)
    assert run.step.tolist() == list(range(0, 121, 20)) and len(run.states) == n
    for name in ("train_loss", "test_loss", "test_acc", "test_acc_all", "test_acc_mirror_seen",
                 "restricted_loss", "excluded_loss", "weight_norm", "train_acc"):
        arr = getattr(run, name)
        assert arr.shape == (n,) and np.all(np.isfinite(arr)), name
    assert run.embedding_spectrum.shape == (n, 6) and run.frequencies.tolist() == [1, 2, 3, 4, 5, 6]
    assert run.train_loss[-1] < run.train_loss[0] and run.train_loss_per_step.shape == (120,)
    assert isinstance(run.key_frequencies, tuple) and isinstance(run.phases, G.PhaseBoundaries)
    assert run.config["p"] == 13 and run.config["seed"] == 0
    assert run.data.is_train.sum() == round(0.5 * 169)
    seen, unseen = run.mirror_split()
    assert len(seen) == len(run.data.test_pairs)

    model = run.model_at(60)
    assert isinstance(model, G.ModularTransformer) and not model.training
    logits = model(torch.tensor([[1, 2], [12, 12]]))
    assert logits.shape == (2, 13)
    with torch.no_grad():
        train_logits = model(run.data.train_pairs)
    assert np.isclose(float(G.cross_entropy(train_logits, run.data.train_labels)), run.train_loss[3],
                      atol=1e-6)
    with pytest.raises(ValueError, match="not a checkpoint.*0, 20, 40"):
        run.model_at(7)
    with pytest.raises(TypeError, match="step"):
        run.model_at("20")

    assert len(list(tmp_path.glob("identity-grokking-*.pt"))) == 2
    other = G.modular_addition_run(seed=1, profile="quick", progress=False, **{**TINY, "steps": 20})
    assert len(other.step) == 2 and len(list(tmp_path.glob("identity-grokking-*.pt"))) == 3
    monkeypatch.setattr(G, "train_modular_addition", lambda *a, **k: pytest.fail("retrained"))
    again = G.modular_addition_run(seed=0, profile="quick", progress=False, **TINY)
    assert np.array_equal(again.test_loss, run.test_loss) and again.key_frequencies == run.key_frequencies
    assert torch.equal(again.states[-1]["W_E"], run.states[-1]["W_E"])
    assert again.phases == run.phases
    grok = run.grok_step(0.0001)
    assert grok == run.step[np.flatnonzero(run.test_acc >= 0.0001)[0]]
    assert run.grok_step(1.0) in (None, *run.step.tolist())
    with pytest.raises(ValueError, match="accuracy"):
        run.grok_step(1.5)
