"""course_lib.slt.components (notebook 5.5): the split transformer, the groupings, the modes and
their spectra, bad input, and the exercise checkers against subtly wrong answers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_lib.modular.model import ModularTransformer
from course_lib.slt import components as cm
from course_lib.slt import components_exercises as cx
from course_lib.slt.observables import susceptibilities


def _small(p: int = 7, d_mlp: int = 12) -> ModularTransformer:
    return ModularTransformer(p, d_model=8, n_heads=2, d_mlp=d_mlp,
                              generator=torch.Generator().manual_seed(0)).eval()


def _groups(d_mlp: int = 12):
    freq = {"k=1": np.arange(0, 5), "k=2": np.arange(5, 9), "other": np.arange(9, d_mlp)}
    return freq, cm.random_groups(freq, seed=1)


# ----------------------------------------------------------------------------- the split model
def test_split_model_is_the_same_function():
    m = _small()
    freq, rand = _groups()
    setup = cm.component_model(m, freq, rand)
    pairs = cm.all_pairs(7)
    with torch.no_grad():
        torch.testing.assert_close(setup.model(pairs), m(pairs), rtol=1e-5, atol=1e-5)
    names = {n for n, _ in setup.model.named_parameters()}
    for comp, params in setup.components.items():
        assert params and set(params) <= names, comp
    # a group is the union of its cells: each neuron's three parameters exactly once
    for kind, groups in (("frequency group", freq), ("random group", rand)):
        for name, idx in groups.items():
            params = setup.components[f"neurons {name}"]
            size = sum(dict(setup.model.named_parameters())[n].numel() for n in params if n.endswith("_b"))
            assert size == len(idx) and setup.kinds[f"neurons {name}"] == kind
    assert setup.components["head 1"] == ["h1_Q", "h1_K", "h1_V", "h1_O"]
    assert setup.components["embedding"] == ["W_E", "W_pos"]


def test_random_groups_are_size_matched_and_a_partition():
    freq, rand = _groups()
    assert [len(v) for v in rand.values()] == [len(v) for v in freq.values()]
    assert sorted(np.concatenate(list(rand.values())).tolist()) == list(range(12))
    assert any(not np.array_equal(np.sort(a), np.sort(b)) for a, b in zip(rand.values(), freq.values()))


def test_neuron_groups():
    best = np.array([3, 3, 5, 0, 7, 5])
    g = cm.neuron_groups(best, [3, 5])
    assert {k: v.tolist() for k, v in g.items()} == {"k=3": [0, 1], "k=5": [2, 5], "other": [3, 4]}
    assert "k=9" not in cm.neuron_groups(best, [3, 9])      # a key frequency no neuron fires at


@pytest.mark.parametrize("best, keys, match", [
    (np.array([1.5, 2.0]), [1], "integer"), (np.array([], dtype=int), [1], "non-empty"),
    (np.array([1, 2]), [1, 1], "distinct"), (np.array([1, 2]), [0], "key_freqs")])
def test_neuron_groups_bad_input(best, keys, match):
    with pytest.raises((ValueError, TypeError), match=match):
        cm.neuron_groups(best, keys)


def test_component_model_bad_input():
    m = _small()
    freq, rand = _groups()
    with pytest.raises(ValueError, match="selects no neurons"):
        cm.component_model(m, {**freq, "empty": np.array([], dtype=int)}, rand)
    with pytest.raises(ValueError, match="overlap"):
        cm.component_model(m, {"a": np.arange(0, 8), "b": np.arange(6, 12)}, rand)
    with pytest.raises(ValueError, match="cover"):
        cm.component_model(m, {"a": np.arange(0, 8)}, rand)
    with pytest.raises(ValueError, match="non-empty"):
        cm.component_model(m, {}, rand)
    with pytest.raises(TypeError, match="ModularTransformer"):
        cm.ComponentTransformer(torch.nn.Linear(2, 2), [[0]])
    with pytest.raises(ValueError, match="partition"):
        cm.ComponentTransformer(m, [[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="shape"):
        cm.component_model(m, freq, rand).model(torch.zeros(3, dtype=torch.long))


def test_susceptibilities_run_on_components_and_thin():
    m = _small()
    freq, rand = _groups()
    setup = cm.component_model(m, freq, rand)
    pairs = cm.all_pairs(7)
    data = (pairs, (pairs[:, 0] + pairs[:, 1]) % 7)
    comps = {k: setup.components[k] for k in ("head 0", "neurons k=1", "unembedding")}
    kw = dict(epsilon=1e-4, gamma=100.0, num_chains=2, num_burnin=5, num_draws=12, seed=0)
    full = susceptibilities(setup.model, cm.mean_cross_entropy, cm.per_pair_cross_entropy, data,
                            comps, **kw)
    thin = susceptibilities(setup.model, cm.mean_cross_entropy, cm.per_pair_cross_entropy, data,
                            comps, observe_every=3, **kw)
    assert full.chi.shape == thin.chi.shape == (49, 3)
    assert np.all(np.isfinite(thin.chi)) and not np.allclose(full.chi, thin.chi)
    for name in comps:          # thinning reads fewer draws; the chains are the same
        assert full.llc[name].mean == thin.llc[name].mean
    with pytest.raises(ValueError, match="observe_every"):
        susceptibilities(setup.model, cm.mean_cross_entropy, cm.per_pair_cross_entropy, data,
                         comps, observe_every=0, **kw)
    with pytest.raises(ValueError, match="selects no parameters"):
        susceptibilities(setup.model, cm.mean_cross_entropy, cm.per_pair_cross_entropy, data,
                         {"nothing": []}, **kw)


# ----------------------------------------------------------------------------- modes and spectra
P = 11


def test_mode_spectrum_finds_a_wave_in_the_sum():
    pairs = cm.all_pairs(P).numpy()
    s = pairs.sum(1)
    wave = np.cos(2 * np.pi * 4 * s / P + 0.7)
    spec = cm.mode_spectrum(wave, pairs, P)
    assert spec.peak == 4 and spec.peak_share == pytest.approx(1.0) and spec.sum_share == pytest.approx(1.0)
    # a wave in a alone is invisible in a + b, and found by a
    wave_a = np.sin(2 * np.pi * 2 * pairs[:, 0] / P)
    assert cm.mode_spectrum(wave_a, pairs, P).sum_share < 1e-12
    spec_a = cm.mode_spectrum(wave_a, pairs, P, by="a")
    assert spec_a.peak == 2 and spec_a.peak_share == pytest.approx(1.0)
    assert cm.mode_spectrum(wave_a, pairs, P, by="b").sum_share < 1e-12
    # the control: shuffling the pairs destroys the wave
    null = cm.shuffle_null(wave, pairs, P, shuffles=50, seed=0)
    assert null.shape == (50, 2) and null[:, 1].max() < 0.5


def test_svd_modes_recovers_planted_modes_and_signs():
    rng = np.random.default_rng(0)
    u = rng.standard_normal((200, 2))
    v = np.array([[3.0, 1.0, 0.0, 0.0], [0.0, 0.0, 2.0, -1.0]])
    modes = cm.svd_modes(u @ v, ["a", "b", "c", "d"])
    assert modes.share[:2].sum() == pytest.approx(1.0)
    assert np.all(modes.weights[np.arange(4), np.abs(modes.weights).argmax(1)] >= 0)
    r = cm.svd_modes(u @ v + 1e-3 * rng.standard_normal((200, 4)), list("abcd"), rank=2)
    assert r.loadings.shape == (200, 2) and r.weights.shape == (2, 4)


def test_split_half_reliability_tells_signal_from_noise():
    rng = np.random.default_rng(1)
    u = rng.standard_normal((300, 1))
    v = rng.standard_normal((1, 6))
    signal = np.stack([u @ v + 0.05 * rng.standard_normal((300, 6)) for _ in range(4)])
    noise = rng.standard_normal((4, 300, 6))
    comps = list("abcdef")
    assert cm.split_half_reliability(signal, comps, 1)[0] > 0.95
    assert cm.split_half_reliability(noise, comps, 1)[0] < 0.5
    with pytest.raises(ValueError, match="chains"):
        cm.split_half_reliability(noise[:1], comps, 1)


@pytest.mark.parametrize("chi, comps, match", [
    (np.ones(5), ["a"], "2-D"), (np.array([[1.0, np.nan]]), ["a", "b"], "NaN"),
    (np.ones((4, 2)), ["a"], "names"), (np.c_[np.ones(4), np.zeros(4)], ["a", "b"], "χ ≡ 0")])
def test_svd_modes_bad_input(chi, comps, match):
    with pytest.raises(ValueError, match=match):
        cm.svd_modes(chi, comps)


def test_residue_means_and_spectrum_bad_input():
    pairs = cm.all_pairs(P).numpy()
    with pytest.raises(ValueError, match="one entry per pair"):
        cm.residue_means(np.ones(3), pairs, P)
    with pytest.raises(ValueError, match="hold no pair"):
        cm.residue_means(np.ones(2), np.array([[0, 0], [0, 1]]), P)
    with pytest.raises(ValueError, match="NaN"):
        cm.residue_means(np.full(len(pairs), np.nan), pairs, P)
    with pytest.raises(ValueError, match="shape"):
        cm.mode_spectrum(np.ones(4), np.ones((4, 3), dtype=int), P)
    with pytest.raises(ValueError, match="by must be"):
        cm.mode_spectrum(np.ones(len(pairs)), pairs, P, by="a - b")
    with pytest.raises(ValueError, match="shuffles"):
        cm.shuffle_null(np.ones(len(pairs)), pairs, P, shuffles=0)


# ----------------------------------------------------------------------------- checkers
def test_sum_spectrum_solution_passes():
    assert cx.check_sum_spectrum(cx.solution_sum_spectrum, quiet=True)


def test_sum_spectrum_wrong_answers_fail():
    def no_mod(values, pairs, p):                 # a + b without the wrap-around
        s = pairs[:, 0] + pairs[:, 1]
        r = np.bincount(s, weights=values) / np.maximum(np.bincount(s), 1)
        return np.abs(np.fft.rfft(r - r.mean())[1:(p - 1) // 2 + 1]) ** 2

    def by_a(values, pairs, p):                   # reads the first operand, not the sum
        s = pairs[:, 0] % p
        r = np.bincount(s, weights=values, minlength=p) / np.bincount(s, minlength=p)
        return np.abs(np.fft.rfft(r - r.mean())[1:(p - 1) // 2 + 1]) ** 2

    def sums(values, pairs, p):                   # class sums, not means
        s = (pairs[:, 0] + pairs[:, 1]) % p
        r = np.bincount(s, weights=values, minlength=p)
        return np.abs(np.fft.rfft(r - r.mean())[1:(p - 1) // 2 + 1]) ** 2

    def amplitude(values, pairs, p):              # |F| instead of |F|²
        return np.sqrt(cx.solution_sum_spectrum(values, pairs, p))

    def with_constant(values, pairs, p):          # k = 0 … K−1: shifted by one frequency
        s = (pairs[:, 0] + pairs[:, 1]) % p
        r = np.bincount(s, weights=values, minlength=p) / np.bincount(s, minlength=p)
        return np.abs(np.fft.rfft(r - r.mean())[:(p - 1) // 2]) ** 2

    def uses_course(values, pairs, p):
        return cm.mode_spectrum(values, pairs, p).power

    for wrong in (no_mod, by_a, sums, amplitude, with_constant, uses_course):
        assert not cx.check_sum_spectrum(wrong, quiet=True), wrong.__name__


def test_modes_prediction_checker():
    right = {"top_mode_peak": "another frequency", "top_mode_reproduces": False,
             "key_modes_rate": "not clearly above chance"}
    args = (False, 3, 0.2, 1, 9, 3 / 26)
    assert cx.check_modes_prediction_form(right, quiet=True)
    assert cx.check_modes_prediction(right, *args, quiet=True)
    for key, wrong in (("top_mode_peak", "a key frequency"), ("top_mode_reproduces", True),
                       ("key_modes_rate", "clearly above chance")):
        assert not cx.check_modes_prediction({**right, key: wrong}, *args, quiet=True), key
    assert not cx.check_modes_prediction_form({**right, "top_mode_reproduces": None}, quiet=True)
    assert not cx.check_modes_prediction_form({**right, "top_mode_reproduces": 0}, quiet=True)
    # 2/9 is above the chance rate 3/26 but its interval is not: "not clearly above"
    assert cx.modes_verdict(True, 0.9, 2, 9, 3 / 26)["key_modes_rate"] == "not clearly above chance"
    assert cx.modes_verdict(True, 0.9, 9, 9, 3 / 26) == {
        "top_mode_peak": "a key frequency", "top_mode_reproduces": True,
        "key_modes_rate": "clearly above chance"}
    assert cx.modes_verdict(False, 0.5, 0, 9, 0.1)["top_mode_reproduces"] is True   # at threshold


def test_read_modes_finds_a_planted_key_frequency_and_counts():
    rng = np.random.default_rng(2)
    p = 13
    pairs = cm.all_pairs(p).numpy()
    pairs = pairs[rng.random(len(pairs)) < 0.6]
    wave = np.cos(2 * np.pi * 3 * pairs.sum(1) / p)
    comps = ["head 0", "neurons k=3", "neurons random 0", "embedding"]
    kinds = {"head 0": "head", "neurons k=3": "frequency group", "neurons random 0": "random group",
             "embedding": "embedding"}
    per_chain = np.stack([np.outer(wave, [0.2, 1.0, 0.1, 0.3]) + 0.05 * rng.standard_normal((len(pairs), 4))
                          for _ in range(4)])
    entry = {"chi": per_chain.mean(0), "chain_chi": per_chain, "components": comps, "kinds": kinds,
             "wrllc": dict.fromkeys(comps, 1.0), "cpu_seconds": 0.0}
    c = cm.read_modes(entry, pairs, p, (3, 5), step=10, rank=2, shuffles=50)
    assert c.spectra["a + b"][0].peak == 3 and c.is_key[0] and c.reliability[0] > 0.9
    assert c.spectra["a"][0].sum_share < c.spectra["a + b"][0].sum_share
    noise = {**entry, "chi": per_chain.mean(0) * 0 + rng.standard_normal((len(pairs), 4))}
    c_noise = cm.read_modes(noise, pairs, p, (5,), step=20, rank=2, shuffles=50)
    seed = cm.SeedStudy(0, p, (3,), {"memorisation_end": 10}, np.arange(3), np.ones(3), np.ones(3), {},
                        [c, c_noise], pairs)
    study = cm.ComponentStudy("quick", {}, [seed])
    assert study.key_mode_count() == (int(c.is_key.sum() + c_noise.is_key.sum()), 4)
    assert study.dependence_count("a + b")[0] >= 1 and study.dependence_count("a")[1] == 4
    assert seed.appearance() == {3: 10}
    assert study.top_peak_at_key() == (int(c_noise.spectra["a + b"][0].peak == 3) + 1, 2)
    assert study.chance_rate() == pytest.approx(1 / 6)
    with pytest.raises(ValueError, match="by must be"):
        study.dependence_count("a * b")
    with pytest.raises(ValueError, match="step must be"):
        seed.at(99)
