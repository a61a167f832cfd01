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
    named = dict(setup.model.named_parameters())
    assert setup.n_weights("embedding") == named["W_E"].numel() + named["W_pos"].numel()
    assert setup.n_weights("head 1") == sum(named[n].numel() for n in ("h1_Q", "h1_K", "h1_V", "h1_O"))
    with pytest.raises(ValueError, match="not a component"):
        setup.n_weights("embeddings")


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


def test_reliability_prediction_checker():
    right = {"own_group_reliability": "0.5 to 0.9", "groups_agreeing": "one"}
    args = (0.76, 1, 3)
    assert cx.check_reliability_prediction_form(right, quiet=True)
    assert cx.check_reliability_prediction(right, *args, quiet=True)
    for key, wrong in (("own_group_reliability", "below 0.5"),
                       ("own_group_reliability", "0.9 or more"),
                       ("groups_agreeing", "none"),
                       ("groups_agreeing", "two or three")):
        assert not cx.check_reliability_prediction({**right, key: wrong}, *args, quiet=True), wrong
    assert not cx.check_reliability_prediction_form({**right, "groups_agreeing": None},
                                                    quiet=True)
    assert not cx.check_reliability_prediction_form({**right, "groups_agreeing": 1}, quiet=True)
    assert not cx.check_reliability_prediction_form({**right, "own_group_peak": "x"}, quiet=True)
    # the retired keys are rejected, not silently ignored
    assert not cx.check_reliability_prediction_form(
        {"own_group_reliability": "0.5 to 0.9", "own_group_passes": "in none"}, quiet=True)
    # counts over the three groups; the band edges
    assert [cx.agreeing_band(k) for k in range(4)] == ["none", "one", "two or three",
                                                        "two or three"]
    for bad in ((4, 3), (-1, 3), (0, 0)):
        with pytest.raises(ValueError, match="agreeing"):
            cx.agreeing_band(*bad)
    # band edges: 0.5 and 0.9 belong to the upper band; a negative r is "below 0.5"
    assert [cx.reliability_band(r) for r in (-0.02, 0.4999, 0.5, 0.8999, 0.9)] == [
        "below 0.5", "below 0.5", "0.5 to 0.9", "0.5 to 0.9", "0.9 or more"]
    with pytest.raises(ValueError, match="finite"):
        cx.reliability_band(float("nan"))
    # 5.5's Exercise 2 in standard: Spearman-Brown from quick's 0.2 at 50 times the reads
    # per half (0.93) is the subtly wrong answer; the measured 0.76 is "0.5 to 0.9", and no
    # frequency group agrees above the control
    sb = float(cm.spearman_brown(0.2, 50))
    assert cx.reliability_band(sb) == "0.9 or more"
    solution = {"own_group_reliability": "0.5 to 0.9", "groups_agreeing": "none"}
    assert cx.check_reliability_prediction(solution, 0.76, 0, quiet=True)
    assert not cx.check_reliability_prediction({**solution, "own_group_reliability": "0.9 or more"},
                                               0.76, 0, quiet=True)
    # quick: the mode matrix's columns do not reproduce; with 3 contrasts nothing can agree
    assert cx.check_reliability_prediction({**solution, "own_group_reliability": "below 0.5"},
                                           0.04, 0, quiet=True)


def test_reads_to_reach_solution_passes_and_agrees_with_package():
    assert cx.check_reads_to_reach(cx.solution_reads_to_reach, quiet=True)
    for r, reads, t in ((0.165, 100, 0.5), (0.3, 40, 0.8), (0.7, 50, 0.5)):
        want = cm.budget_to_reach(r, reads, t)
        assert cx.solution_reads_to_reach(r, reads, t) == pytest.approx(want)
        # the predicted reads give the target back
        assert cm.spearman_brown(r, want / reads) == pytest.approx(t)


def test_reads_to_reach_wrong_answers_fail():
    def linear(r, reads, target=0.5):          # reliability taken as linear in the reads
        return reads * target / r if r > 0 else float("inf")

    def no_target(r, reads, target=0.5):       # target fixed at 0.5
        return reads * (1 - r) / r if r > 0 else float("inf")

    def inverted(r, reads, target=0.5):        # the factor inverted
        return reads * r * (1 - target) / (target * (1 - r)) if r > 0 else float("inf")

    def no_guard(r, reads, target=0.5):        # extrapolates from noise (r ≤ 0)
        return reads * target * (1 - r) / (max(r, 1e-9) * (1 - target))

    def per_half(r, reads, target=0.5):        # reads of a half (4 chains), not per chain
        return 4 * cx.solution_reads_to_reach(r, reads, target)

    def uses_course(r, reads, target=0.5):
        return cm.budget_to_reach(r, reads, target)

    for wrong in (linear, no_target, inverted, no_guard, per_half, uses_course):
        assert not cx.check_reads_to_reach(wrong, quiet=True), wrong.__name__


def test_column_reliability_tells_signal_from_noise():
    rng = np.random.default_rng(4)
    u = rng.standard_normal(400)
    signal = np.stack([np.c_[u, -u] + 0.5 * rng.standard_normal((400, 2)) for _ in range(8)])
    noise = rng.standard_normal((8, 400, 2))
    r_sig, r_noise = cm.column_reliability(signal), cm.column_reliability(noise)
    assert np.all(r_sig > 0.9) and np.all(np.abs(r_noise) < 0.15)
    # fewer chains per half: lower reliability, as Spearman–Brown predicts from one chain
    one = cm.column_reliability(signal, chains_per_half=1)
    assert np.all(one < r_sig)
    assert cm.spearman_brown(one, 4) == pytest.approx(r_sig, abs=0.03)
    # class means over a + b
    p = 11
    pairs = cm.all_pairs(p).numpy()
    wave = np.cos(2 * np.pi * 2 * pairs.sum(1) / p)
    chains = np.stack([wave[:, None] + 2 * rng.standard_normal((len(pairs), 1))
                       for _ in range(4)])
    assert cm.column_reliability(chains, pairs, p)[0] > cm.column_reliability(chains)[0]
    with pytest.raises(ValueError, match="chain_chi"):
        cm.column_reliability(noise[:1])
    with pytest.raises(ValueError, match="NaN"):
        cm.column_reliability(np.full((4, 3, 1), np.nan))
    with pytest.raises(ValueError, match="chains_per_half"):
        cm.column_reliability(noise, chains_per_half=5)
    with pytest.raises(ValueError, match="both pairs and p"):
        cm.column_reliability(chains, pairs)


def test_spearman_brown_and_budget_bad_input():
    assert cm.spearman_brown(0.5, 1) == pytest.approx(0.5)
    assert cm.spearman_brown(-0.1, 10) == pytest.approx(-0.1)
    assert cm.budget_to_reach(0.0, 100) == float("inf")
    with pytest.raises(ValueError, match="factor"):
        cm.spearman_brown(0.5, 0)
    with pytest.raises(ValueError, match="target"):
        cm.budget_to_reach(0.2, 100, target=1.0)
    with pytest.raises(ValueError, match="budget"):
        cm.budget_to_reach(0.2, 0)


def test_sign_contrasts_cancel_the_signal():
    rng = np.random.default_rng(5)
    sig = rng.standard_normal((50, 3))
    c = np.stack([sig + 0.1 * rng.standard_normal((50, 3)) for _ in range(8)])
    con = cm.sign_contrasts(c)
    assert con.shape == (35, 50, 3)
    # the first is the half-difference
    assert np.allclose(con[0], (c[:4].mean(0) - c[4:].mean(0)) / 2)
    assert np.allclose(cm.sign_contrasts(np.stack([sig] * 4)), 0)



def test_odd_chain_counts_are_refused_where_the_mean_meets_the_contrasts():
    """With n odd, a contrast would average n − 1 chains and the chain mean n: the readers
    that compare the two refuse it rather than read at the wrong scale."""
    rng = np.random.default_rng(5)
    p = 7
    pairs = cm.all_pairs(p).numpy()
    c = rng.standard_normal((5, len(pairs), 2))
    with pytest.raises(ValueError, match="even number of chains"):
        cm.sign_contrasts(c)
    with pytest.raises(ValueError, match="even number of chains"):
        cm.read_columns(c, ["a", "b"], pairs, p)
    with pytest.raises(ValueError, match="even number of chains"):
        cm.read_columns(c, ["a", "b"], pairs, p, null=(np.ones(2), 35))
    with pytest.raises(ValueError, match="even number of chains"):
        cm.pooled_contrast_null([c[:4], c], pairs, p)
    with pytest.raises(ValueError, match="even number of chains"):
        cm.read_modes({"chi": c.mean(0), "chain_chi": c, "components": ["a", "b"],
                       "wrllc": {}, "cpu_seconds": 0.0}, pairs, p, [2], step=1, rank=1,
                      shuffles=10)
    assert cm.sign_contrasts(c[:4]).shape == (3, len(pairs), 2)


def test_the_all_plus_signed_mean_is_the_real_matrix_the_readers_use():
    rng = np.random.default_rng(7)
    c = rng.standard_normal((8, 49, 3)) + rng.standard_normal((49, 3))
    real = cm.chain_mean_chi(c)
    assert np.allclose(cm.signed_chain_mean(c, np.ones(8)), real)
    assert np.allclose(real, c.mean(0))
    s = np.array([1, 1, 1, 1, -1, -1, -1, -1.0])
    assert np.allclose(cm.signed_chain_mean(c, s), cm.sign_contrasts(c)[0])
    # read_modes reads the chain mean, not a pooled chi that differs from it
    p = 7
    pairs = cm.all_pairs(p).numpy()
    comps = ["a", "b", "c"]
    entry = {"chi": real + 5 * rng.standard_normal(real.shape), "chain_chi": c,
             "components": comps, "kinds": dict.fromkeys(comps, "head"),
             "wrllc": dict.fromkeys(comps, 1.0), "cpu_seconds": 0.0}
    got = cm.read_modes(entry, pairs, p, (1,), step=0, rank=2, shuffles=10)
    want = cm.svd_modes(real, comps, 2)
    assert np.allclose(np.abs(got.modes.loadings), np.abs(want.loadings))
    with pytest.raises(ValueError, match="signs"):
        cm.signed_chain_mean(c, np.ones(7))
    with pytest.raises(ValueError, match="signs"):
        cm.signed_chain_mean(c, np.zeros(8))
    with pytest.raises(ValueError, match="chain_chi"):
        cm.chain_mean_chi(np.full((2, 3, 1), np.nan))


def test_read_columns_finds_a_planted_wave_and_not_noise():
    rng = np.random.default_rng(6)
    p = 13
    pairs = cm.all_pairs(p).numpy()
    pairs = pairs[rng.random(len(pairs)) < 0.6]
    wave = np.cos(2 * np.pi * 4 * pairs.sum(1) / p)
    noise = rng.standard_normal((8, len(pairs), 2))
    chains = noise.copy()
    chains[:, :, 0] += 0.5 * wave
    out = cm.read_columns(chains, ["wave", "noise"], pairs, p)
    assert out[0].half_peaks == (4, 4) and out[0].agrees and out[0].null_n == 35
    assert not out[1].agrees
    assert out[0].class_reliability > 0.5 > abs(out[1].class_reliability)
    with pytest.raises(ValueError, match="chains"):
        cm.read_columns(chains[:2], ["wave", "noise"], pairs, p)
    with pytest.raises(ValueError, match="names"):
        cm.read_columns(chains, ["wave"], pairs, p)


def test_column_components():
    freq = {"k=2": np.arange(3), "k=5": np.arange(3, 10), "k=7": np.arange(10, 12),
            "other": np.arange(12, 30)}
    assert cm.column_components(freq) == ("neurons k=2", "neurons k=5", "neurons k=7",
                                          "neurons random 1", "embedding")
    with pytest.raises(ValueError, match="freq_groups"):
        cm.column_components({})
    with pytest.raises(ValueError, match="freq_groups"):
        cm.column_components({"other": np.arange(3)})


def test_balanced_splits():
    splits = cm.balanced_splits(8)
    assert len(splits) == 35
    assert np.array_equal(splits[0][0], [0, 1, 2, 3]) and np.array_equal(splits[0][1], [4, 5, 6, 7])
    for a, b in splits:
        assert 0 in a and len(a) == len(b) == 4
        assert np.array_equal(np.sort(np.r_[a, b]), np.arange(8))
    assert len(cm.balanced_splits(5)) == 3            # an odd last chain dropped
    # the same order as the sign contrasts: split i is contrast i
    rng = np.random.default_rng(0)
    c = rng.standard_normal((6, 20, 2))
    for (a, b), con in zip(cm.balanced_splits(6), cm.sign_contrasts(c)):
        assert np.allclose(con, (c[a].mean(0) - c[b].mean(0)) / 2)
    with pytest.raises(ValueError, match="n_chains"):
        cm.balanced_splits(1)


def test_split_half_spread_is_robust_to_a_few_pairs():
    rng = np.random.default_rng(4)
    sig = rng.standard_normal(300)
    chains = sig + rng.standard_normal((8, 300))
    # noise only, but a few pairs carry huge excursions that differ from chain to chain
    heavy = rng.standard_normal((8, 300))
    heavy[:4, :5] += 200.0
    heavy[4:, :5] += 150.0
    c = np.stack([chains, heavy], axis=2)
    sp = cm.split_half_spread(c)
    pe = cm.split_half_spread(c, method="pearson")
    assert sp.shape == pe.shape == (35, 2)
    assert np.allclose(pe[0], cm.column_reliability(c))      # the first split: the gate's
    assert np.median(sp[:, 0]) > 0.6 and abs(np.median(sp[:, 1])) < 0.15
    assert pe[0, 1] > 0.5                                      # Pearson fooled by 5 pairs
    with pytest.raises(ValueError, match="method"):
        cm.split_half_spread(c, method="kendall")
    with pytest.raises(ValueError, match="chain_chi"):
        cm.split_half_spread(c[:1])
    with pytest.raises(ValueError, match="NaN"):
        cm.split_half_spread(np.full((4, 5, 1), np.nan))
    with pytest.raises(ValueError, match="3 pairs"):
        cm.split_half_spread(c[:, :2])


def test_no_column_agrees_without_enough_contrasts():
    # a set of 4 chains has 3 sign contrasts: their 99th percentile is their largest, no
    # control; the same strong wave that agrees with 8 chains (35 contrasts) cannot agree here
    rng = np.random.default_rng(6)
    p = 13
    pairs = cm.all_pairs(p).numpy()
    wave = np.cos(2 * np.pi * 4 * pairs.sum(1) / p)
    chains = rng.standard_normal((8, len(pairs), 1))
    chains[:, :, 0] += 0.5 * wave
    eight = cm.read_columns(chains, ["wave"], pairs, p)[0]
    four = cm.read_columns(chains[:4], ["wave"], pairs, p)[0]
    assert eight.has_control and eight.agrees and eight.null_n == 35 >= cm.MIN_CONTRASTS
    assert four.null_n == 3 and not four.has_control and not four.agrees
    assert four.half_peaks == (4, 4)            # the halves do agree: only the control is missing


def test_key_share_halves_is_the_share_of_each_half_of_every_split():
    rng = np.random.default_rng(9)
    p = 13
    pairs = cm.all_pairs(p).numpy()
    c = rng.standard_normal((6, len(pairs), 2))
    c[:, :, 0] += np.cos(2 * np.pi * 3 * pairs.sum(1) / p)
    out = cm.key_share_halves(c, pairs, p, [3, 5])
    splits = cm.balanced_splits(6)
    assert out.shape == (2 * len(splits), 2, 2) == (20, 2, 2)
    # row 1 is the first split's second half; column 1, its share at k = 5
    sp = cm.mode_spectrum(c[splits[0][1], :, 1].mean(0), pairs, p)
    assert out[1, 1, 1] == pytest.approx(sp.power[4] / sp.power.sum())
    assert np.all((out >= 0) & (out <= 1)) and np.all(out[:, 0, 0] > 0.5)   # the wave at 3
    with pytest.raises(ValueError, match="k"):
        cm.key_share_halves(c, pairs, p, [7])
    with pytest.raises(ValueError, match="NaN"):
        cm.key_share_halves(np.full_like(c, np.nan), pairs, p, [3])


def test_pooled_contrast_null_and_read_columns_with_it():
    rng = np.random.default_rng(8)
    p = 13
    pairs = cm.all_pairs(p).numpy()
    sets = [rng.standard_normal((8, len(pairs), 2)) for _ in range(3)]
    q, n = cm.pooled_contrast_null(sets, pairs, p)
    assert q.shape == (2,) and n == 3 * 35 and np.all((q > 0) & (q < 1))
    own = [cm.read_columns(c, ["a", "b"], pairs, p)[0].null_q for c in sets]
    assert min(own) - 0.1 < q[0] < max(own) + 0.1
    out = cm.read_columns(sets[0], ["a", "b"], pairs, p, null=(q, n))
    assert [r.null_q for r in out] == list(q) and out[0].null_n == n
    with pytest.raises(ValueError, match="chain_chi_sets"):
        cm.pooled_contrast_null([], pairs, p)
    with pytest.raises(ValueError, match="chain_chi_sets"):
        cm.pooled_contrast_null(sets[0], pairs, p)
    with pytest.raises(ValueError, match="share"):
        cm.pooled_contrast_null([sets[0], sets[1][:, :, :1]], pairs, p)
    with pytest.raises(ValueError, match="NaN"):
        cm.pooled_contrast_null([np.full_like(sets[0], np.nan)], pairs, p)
    with pytest.raises(ValueError, match="null"):
        cm.read_columns(sets[0], ["a", "b"], pairs, p, null=(q[:1], n))
    with pytest.raises(ValueError, match="null count"):
        cm.read_columns(sets[0], ["a", "b"], pairs, p, null=(q, 0))


def test_project_out_removes_the_baseline_profile():
    rng = np.random.default_rng(9)
    p = 13
    pairs = cm.all_pairs(p).numpy()
    pairs = pairs[rng.random(len(pairs)) < 0.7]
    s = pairs.sum(1)
    base = 1.0 + np.cos(2 * np.pi * 3 * s / p) + 0.1 * rng.standard_normal(len(pairs))
    own = np.cos(2 * np.pi * 5 * s / p)
    values = own + 2.0 * base
    assert cm.mode_spectrum(values, pairs, p).peak == 3
    res = cm.project_out(values, base, pairs, p)
    assert cm.mode_spectrum(res, pairs, p).peak == 5
    rb = cm.residue_means(base, pairs, p)
    rr = cm.residue_means(res, pairs, p)
    assert abs((rb - rb.mean()) @ (rr - rr.mean())) < 1e-8
    with pytest.raises(ValueError, match="shape"):
        cm.project_out(values, base[:-1], pairs, p)
    with pytest.raises(ValueError, match="constant"):
        cm.project_out(values, np.ones_like(base), pairs, p)
    with pytest.raises(ValueError, match="NaN"):
        cm.project_out(values, np.full_like(base, np.nan), pairs, p)


def test_per_pair_loss():
    model = _small()
    pairs = cm.all_pairs(7)
    labels = (pairs[:, 0] + pairs[:, 1]) % 7
    loss = cm.per_pair_loss(model, (pairs, labels))
    assert loss.shape == (49,) and np.all(loss > 0)
    with torch.no_grad():
        assert np.isclose(loss.mean(), float(cm.mean_cross_entropy(model, (pairs, labels))))
    with pytest.raises(ValueError, match="pairs"):
        cm.per_pair_loss(model, (pairs[:, :1], labels))


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
    noise_chains = rng.standard_normal((4, len(pairs), 4))
    noise = {**entry, "chi": noise_chains.mean(0), "chain_chi": noise_chains}
    c_noise = cm.read_modes(noise, pairs, p, (5,), step=20, rank=2, shuffles=50)
    seed = cm.SeedStudy(0, p, (3,), {"memorisation_end": 10}, np.arange(3), np.ones(3), np.ones(3), {},
                        [c, c_noise], pairs)
    study = cm.ComponentStudy("quick", {}, [seed])
    assert study.key_mode_count() == (int(c.is_key.sum() + c_noise.is_key.sum()), 4)
    assert study.dependence_count("a + b")[0] >= 1 and study.dependence_count("a")[1] == 4
    assert seed.appearance() == {3: 10}
    assert study.top_peak_at_key() == (int(c_noise.spectra["a + b"][0].peak == 3) + 1, 2)
    # the noise-only comparator: the is_key criterion on the sign contrasts' modes (3 of 4 chains)
    assert c.null_modes == 3 * 2 and c_noise.null_modes == 3 * 2
    assert study.null_key_count() == (c.null_hits + c_noise.null_hits, 12)
    assert c.column_reliability.shape == (4,) and c.column_reliability[1] > 0.9
    with pytest.raises(ValueError, match="by must be"):
        study.dependence_count("a * b")
    with pytest.raises(ValueError, match="step must be"):
        seed.at(99)


def _toy_column_study(sets, comps, pairs, p):
    q, n = cm.pooled_contrast_null(sets, pairs, p)
    loss = 1.0 + np.cos(2 * np.pi * 2 * pairs.sum(1) / p)
    rx = cm.residue_means(loss, pairs, p)
    bcorr = np.array([[np.corrcoef(cm.residue_means(c[:, :, j].mean(0), pairs, p), rx)[0, 1]
                       for j in range(len(comps))] for c in sets])
    residual = [[cm.mode_spectrum(cm.project_out(c[:, :, j].mean(0), loss, pairs, p), pairs, p)
                 for j in range(len(comps))] for c in sets]
    return cm.ColumnStudy(
        "quick", {}, 0, 10, p, (4, 5), comps, {"neurons k=4": 4, "neurons k=5": 5},
        list(range(len(sets))), [cm.read_columns(c, comps, pairs, p, null=(q, n)) for c in sets],
        q, n, np.stack([cm.split_half_spread(c) for c in sets]),
        np.stack([cm.split_half_spread(c, method="pearson") for c in sets]),
        cm.mode_spectrum(loss, pairs, p), bcorr, residual, 8, 20, 0.0)


def test_column_study_counts_and_plot():
    from course_lib.slt import component_plots

    rng = np.random.default_rng(7)
    p = 13
    pairs = cm.all_pairs(p).numpy()
    comps = ["neurons k=4", "neurons k=5", "neurons random 0", "embedding"]
    sets = []
    for i in range(3):
        chains = rng.standard_normal((8, len(pairs), 4))
        chains[:, :, 0] += 0.5 * np.cos(2 * np.pi * 4 * pairs.sum(1) / p)  # own k, every set
        chains[:, :, 1] += 0.5 * np.cos(2 * np.pi * 4 * pairs.sum(1) / p)  # not its own k
        sets.append(chains)
    study = _toy_column_study(sets, comps, pairs, p)
    assert study.passes("neurons k=4") == (3, 3) and study.own_passes("neurons k=4") == (3, 3)
    assert study.passes("neurons k=5") == (3, 3) and study.own_passes("neurons k=5") == (0, 3)
    assert study.passes("embedding")[0] <= 1
    assert study.pooled_peaks("neurons k=5") == [4, 4, 4]
    assert study.residual_peaks("neurons k=4") == [4, 4, 4]
    assert study.reading("embedding", 2).component == "embedding"
    assert study.own_passes("embedding") == (0, 3)
    with pytest.raises(ValueError, match="component"):
        study.passes("head 9")
    with pytest.raises(ValueError, match="set_index"):
        study.reading("embedding", 3)
    fig = component_plots.plot_columns(study)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 5 and "3 of 3" in visible[0].get_title()
    assert "baseline" in visible[-1].get_title()


@pytest.mark.slow
def test_second_seed_record_reproduces():
    """:data:`SECOND_SEED_RECORD`: the column study on training seed 1 at ``standard``'s
    budget, three chain sets against their pooled control, where this CPU trains the
    recorded network (about 5 minutes of CPU)."""
    from course_lib.slt.course_models import grokking_run

    rec = cm.SECOND_SEED_RECORD
    freq, _, _ = cm.grouping(grokking_run(1, "quick", progress=False))
    sizes = {k: len(v) for k, v in freq.items()}
    if sizes != rec["group_sizes"]:
        pytest.skip(f"not the recorded network (groups {sizes}): CPU numerics")
    cols = cm.column_study("standard", seed=1, sampler_seeds=rec["sampler_seeds"])
    assert cols.key_freqs == rec["key_freqs"] and cols.baseline.peak == rec["baseline_peak"]
    assert cols.null_n == rec["null_n"] and cols.components[3] == rec["random"]
    for j, c in enumerate(cols.components):
        got = tuple((round(float(np.median(cols.rank_reliability[i, :, j])), 2),
                     r[j].half_peaks, r[j].peak, r[j].agrees)
                    for i, r in enumerate(cols.readings))
        assert got == rec["columns"][c], (c, got)
        assert round(float(cols.null_q[j]), 2) == rec["null_q"][c], (c, cols.null_q[j])


def test_column_study_rejects_a_bad_seed():
    with pytest.raises(ValueError, match="seed"):
        cm.column_study("quick", seed=-1)


def test_column_study_rejects_bad_overrides():
    with pytest.raises(ValueError, match="sampler_seeds"):
        cm.column_study("standard", sampler_seeds=[])
    with pytest.raises(ValueError, match="seed"):
        cm.column_study("standard", sampler_seeds=[-1])
    with pytest.raises(ValueError, match="components"):
        cm.column_study("standard", components="embedding")
    with pytest.raises(ValueError, match="epsilon"):
        cm.column_study("standard", epsilon=float("nan"))
    with pytest.raises(ValueError, match="modes' matrix"):
        cm.column_study("quick", components=["embedding"])


@pytest.mark.slow
def test_epsilon_record_reproduces():
    """:data:`EPSILON_RECORD`: the column study on seed 0 at ε = 3e-4 and at 1e-3 (the
    step 5.3 rejected), sampler seed 0, where this CPU trains the recorded network (about 4 minutes of
    CPU)."""
    from course_lib.slt.course_models import grokking_run

    rec = cm.EPSILON_RECORD
    freq, _, _ = cm.grouping(grokking_run(rec["seed"], "quick", progress=False))
    sizes = {k: len(v) for k, v in freq.items()}
    if sizes != rec["group_sizes"]:
        pytest.skip(f"not the recorded network (groups {sizes}): CPU numerics")
    for eps, want in rec["columns"].items():
        cols = cm.column_study("standard", seed=rec["seed"], epsilon=eps)
        assert cols.key_freqs == rec["key_freqs"] and cols.components[3] == rec["random"]
        got = {c: (cols.reading(c).half_peaks, cols.reading(c).peak, cols.reading(c).agrees,
                   float(f"{cols.wrllc[0, j]:.2g}"))
               for j, c in enumerate(cols.components)}
        assert got == want, (eps, got)
