"""course_lib.slt.planted (the planted positive controls of notebooks 5.5 and 5.6):
the planted model is the trained function at V = 0, its neurons are the planted wave,
and bad input fails clearly."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from course_lib.modular.model import ModularTransformer
from course_lib.slt import components as cm
from course_lib.slt import planted as pl


def _setup(p: int = 11):
    m = ModularTransformer(p, d_model=8, n_heads=2, d_mlp=12,
                           generator=torch.Generator().manual_seed(0)).eval()
    freq = {"k=1": np.arange(0, 6), "k=2": np.arange(6, 12)}
    return m, cm.component_model(m, freq, cm.random_groups(freq, seed=1))


@pytest.mark.parametrize("kind, params", [("PlantedTransformer", {"plant_out", "base.W_E"}),
                                          ("PlantedLogitTransformer", {"plant_logit"})])
def test_modular_plantings_are_the_trained_function_at_zero(kind, params):
    m, setup = _setup()
    planted = getattr(pl, kind)(setup.model, 3, 0.5)
    pairs = cm.all_pairs(11)
    with torch.no_grad():
        torch.testing.assert_close(planted(pairs), m(pairs), rtol=1e-5, atol=1e-5)
    assert params <= {n for n, _ in planted.named_parameters()}


def test_planted_activations_are_the_wave_in_a_plus_b():
    _, setup = _setup()
    planted = pl.PlantedTransformer(setup.model, 2, 1.5)
    pairs = cm.all_pairs(11)
    h = planted.planted_activations(pairs).numpy()
    s = (pairs[:, 0] + pairs[:, 1]).numpy() % 11
    np.testing.assert_allclose(h[:, 0], 1.5 * np.cos(2 * np.pi * 2 * s / 11), atol=1e-6)
    np.testing.assert_allclose(h[:, 1], 1.5 * np.sin(2 * np.pi * 2 * s / 11), atol=1e-6)
    # a planted V moves the logits by h V W_U, a wave at k in a + b
    with torch.no_grad():
        planted.plant_out[0, 0] = 1.0
        delta = planted(pairs) - planted.base(pairs)
    spec = cm.mode_spectrum(delta[:, 0].numpy(), pairs.numpy(), 11)
    assert spec.peak == 2 and spec.peak_share > 0.99


def test_planted_amplitude_is_the_rms_activation():
    m, _ = _setup()
    pairs = cm.all_pairs(11)
    with torch.no_grad():
        acts = m.mlp_activations(pairs)[:, [0, 3]]
    want = float(acts.double().pow(2).mean().sqrt())
    assert math.isclose(pl.planted_amplitude(m, [0, 3], pairs), want, rel_tol=1e-9)


def test_bad_input_names_the_argument():
    m, setup = _setup()
    with pytest.raises(ValueError, match="k"):
        pl.PlantedTransformer(setup.model, 6, 1.0)          # above (p - 1) / 2
    with pytest.raises(ValueError, match="k"):
        pl.PlantedTransformer(setup.model, 0, 1.0)
    for amp in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="amplitude"):
            pl.PlantedTransformer(setup.model, 2, amp)
    with pytest.raises(TypeError, match="base"):
        pl.PlantedTransformer(m, 2, 1.0)
    with pytest.raises(ValueError, match="group"):
        pl.planted_amplitude(m, [], cm.all_pairs(11))
    with pytest.raises(ValueError, match="sampler"):
        pl.planted_chi(0, "final", 19, sampler=[("num_chains", 4)])
    with pytest.raises(ValueError, match="sampler_seeds"):
        pl.planted_study("quick", sampler_seeds=[])


def test_planted_column_is_read_at_the_planted_frequency():
    # the device end to end on a small untrained net: the planted column peaks at k
    from course_lib.slt.observables import susceptibilities

    torch.manual_seed(0)
    _, setup = _setup()
    planted = pl.PlantedTransformer(setup.model, 3, 1.0)
    pairs = cm.all_pairs(11)
    data = (pairs, (pairs[:, 0] + pairs[:, 1]) % 11)
    sus = susceptibilities(planted,
                           lambda mod, b: cm.per_pair_cross_entropy(mod, b).mean(),
                           cm.per_pair_cross_entropy, data, {"planted": ["plant_out"]},
                           epsilon=1e-3, gamma=100.0, num_chains=2, num_burnin=10,
                           num_draws=60, seed=0)
    spec = cm.mode_spectrum(sus.chi[:, 0], pairs.numpy(), 11)
    assert spec.peak == 3, spec


# ------------------------------------------------- the pair planted into the answer's logit
def test_logit_planting_moves_each_pair_loss_linearly_in_the_wave():
    # dℓ_x/dv at v = 0 is −(1 − p_s(x)) h(x): the wave at k, scaled by each pair's loss
    _, setup = _setup()
    planted = pl.PlantedLogitTransformer(setup.model, 2, 1.5)
    pairs = cm.all_pairs(11)
    s = (pairs[:, 0] + pairs[:, 1]) % 11
    grads = []
    for i in range(len(pairs)):
        planted.zero_grad()
        cm.per_pair_cross_entropy(planted, (pairs[i:i + 1], s[i:i + 1])).sum().backward()
        grads.append(planted.plant_logit.grad.clone())
    g = torch.stack(grads).double()
    with torch.no_grad():
        p_s = torch.softmax(planted(pairs).double(), -1)[torch.arange(len(pairs)), s]
        h = planted.planted_activations(pairs).double()
    torch.testing.assert_close(g, -(1 - p_s)[:, None] * h, rtol=1e-4, atol=1e-6)
    # only the answer's logit moves
    with torch.no_grad():
        planted.plant_logit[0] = 1.0
        delta = planted(pairs) - planted.base(pairs)
    off = torch.ones_like(delta, dtype=torch.bool)
    off[torch.arange(len(pairs)), s] = False
    assert float(delta[off].abs().max()) == 0.0


def test_logit_planting_bad_input_names_the_argument():
    m, setup = _setup()
    with pytest.raises(ValueError, match="k"):
        pl.PlantedLogitTransformer(setup.model, 6, 1.0)
    for amp in (0.0, float("nan")):
        with pytest.raises(ValueError, match="amplitude"):
            pl.PlantedLogitTransformer(setup.model, 2, amp)
    with pytest.raises(TypeError, match="base"):
        pl.PlantedLogitTransformer(m, 2, 1.0)
    with pytest.raises(ValueError, match="kind"):
        pl.planted_chi(0, "final", 19, sampler={}, kind="quadratic")


#: sampler seeds of the positive-control rate, and the count measured (both halves at 19)
LOGIT_SEEDS = range(20)
LOGIT_FOUND = 18


@pytest.mark.slow
def test_logit_planted_pair_is_found_at_its_frequency_on_the_course_run():
    """The positive control 5.5 cites: the pair planted at k = 19 into the answer's
    logit, ×1 (a real k = 19 neuron's RMS activation), on Chapter 3's run at its final
    checkpoint, sampled at ``quick``'s column budget (4 chains × 20 reads) with sampler
    seeds 0–19: both halves of the chains peak at 19 in 18 of 20 (95 % Wilson 70–97 %);
    the pooled column peaks at 19 in all 20. (The residual planting reads 7 and 15
    there: tested in the notebook.)"""
    from course_lib.stats import wilson_interval
    from course_lib.slt.course_models import grokking_run

    cfg = cm.COLUMN_SETTINGS["quick"]
    run = grokking_run(cfg["seed"], cfg["run_profile"], progress=False)
    pairs, p = run.data[0].numpy(), run.source.p
    halves, pooled = 0, 0
    for sseed in LOGIT_SEEDS:
        e = pl.planted_chi(cfg["seed"], cfg["step"], 19, run_profile=cfg["run_profile"],
                           sampler={**cfg["sampler"], "seed": sseed}, kind="logit")
        r = cm.read_columns(np.asarray(e["chain_chi"]), ["planted"], pairs, p)[0]
        halves += r.half_peaks == (19, 19)
        pooled += r.peak == 19
    # the network trained depends on the CPU's numerics: 18 of 20 on the one the course was
    # written on, 20 of 20 on another; the verdict is "most", with the pooled column in all
    assert halves >= 16 and pooled == len(LOGIT_SEEDS), (halves, pooled)
    low, high = wilson_interval(LOGIT_FOUND, len(LOGIT_SEEDS))
    assert 0.69 < low < 0.70 and 0.97 < high < 0.98, (low, high)


def test_embedded_record_counts():
    """5.5's counts from :data:`EMBEDDED_RECORD`: with the pair inside the k = 19 group
    both halves read 19 in 1 of 7 sets (Wilson 3–51 %) and the pooled column in 2 of 7;
    without it, 0 of 3 and 1 of 3."""
    from course_lib.stats import wilson_interval

    rec = pl.EMBEDDED_RECORD
    with_ = [v for (s, _), v in rec.items() if s is not None]
    without = [v for (s, _), v in rec.items() if s is None]
    assert (len(with_), len(without)) == (7, 3)
    assert sum(h == (19, 19) for h, _ in with_) == 1
    assert sum(pk == 19 for _, pk in with_) == 2
    assert sum(h == (19, 19) for h, _ in without) == 0
    assert sum(pk == 19 for _, pk in without) == 1
    low, high = wilson_interval(1, 7)
    assert 0.02 < low < 0.03 and 0.51 < high < 0.52, (low, high)


@pytest.mark.slow
def test_embedded_planting_record_reproduces():
    """The ×1 rows of :data:`EMBEDDED_RECORD` (sampler seeds 0–2, ``standard``'s column
    budget) from :func:`planted_chi` with kind "embedded"."""
    from course_lib.slt.course_models import grokking_run

    # the record is one network's; CPUs with other floating-point kernels train another
    # seed-0 network (its k = 12 / 16 / 19 groups have other sizes), where it cannot hold
    freq, _, _ = cm.grouping(grokking_run(0, "quick", progress=False))
    sizes = {k: len(v) for k, v in freq.items()}
    if sizes != {"k=12": 46, "k=16": 121, "k=19": 89}:
        pytest.skip(f"not the recorded network (groups {sizes}): CPU numerics")
    study = pl.planted_study("standard", sampler_seeds=[0, 1, 2])
    col = study.embedded_at(1.0)
    got = [(r.half_peaks, r.peak) for r in col.readings]
    assert got == [pl.EMBEDDED_RECORD[(1.0, s)] for s in (0, 1, 2)], got


# ------------------------------------------------------------ the colour models (5.6)
def _colour_base():
    from course_lib.color.model import ColorAutoencoder
    from course_lib.slt import colour_modes

    torch.manual_seed(0)
    src = ColorAutoencoder(hidden=8)
    return src, colour_modes.ComponentAutoencoder(src)


@pytest.mark.parametrize("kind", ["PlantedAutoencoder", "PlantedErrorAutoencoder"])
def test_colour_plantings_are_the_trained_function_at_zero(kind):
    src, base = _colour_base()
    planted = getattr(pl, kind)(base, 0.7)
    x = torch.rand(40, 3)
    with torch.no_grad():
        (r1, z1), (r2, z2) = src(x), planted(x)
    assert torch.allclose(r1, r2, atol=1e-6) and torch.allclose(z1, z2, atol=1e-6)
    assert {"plant_cos", "plant_sin"} <= {n for n, _ in planted.named_parameters()}


def test_planted_hue_neurons_are_the_first_harmonic_of_hue():
    from course_lib.slt import colour_modes

    _, base = _colour_base()
    planted = pl.PlantedAutoencoder(base, 2.0)
    rgb, hue = colour_modes.probe_hues()
    h = planted.planted_activations(rgb).numpy()
    # the opponent angle is the hue at the hexagon's corners (every 60°)
    corners = np.isclose(np.mod(hue, 60.0), 0.0)
    rad = np.radians(hue[corners])
    np.testing.assert_allclose(h[corners, 0], 2 * np.cos(rad), atol=1e-5)
    np.testing.assert_allclose(h[corners, 1], 2 * np.sin(rad), atol=1e-5)
    # and a first harmonic of hue everywhere, to within the hexagon's corners
    assert colour_modes.harmonic_r2(h, hue) > 0.99


def test_planted_colour_bad_input_names_the_argument():
    src, base = _colour_base()
    for amp in (0.0, -2.0, float("nan")):
        with pytest.raises(ValueError, match="amplitude"):
            pl.PlantedAutoencoder(base, amp)
    with pytest.raises(TypeError, match="base"):
        pl.PlantedAutoencoder(src, 1.0)
    with pytest.raises(ValueError, match="scale"):
        pl.planted_colour_chi(0, "final", scale=0.0, sampler={})
    with pytest.raises(ValueError, match="sampler"):
        pl.planted_colour_chi(0, "final", sampler=None)


# ------------------------------------------- the hue pair planted along each colour's error
def test_error_planting_moves_each_colour_loss_linearly_in_the_wave():
    # dℓ_x/dv at v = 0 is (2/3) |recon − x| A (cos θ, sin θ): first order, positive scale
    from course_lib.slt import colour_modes

    _, base = _colour_base()
    planted = pl.PlantedErrorAutoencoder(base, 1.3)
    rgb, _ = colour_modes.probe_hues()
    grads = []
    for i in range(len(rgb)):
        planted.zero_grad()
        colour_modes.per_colour_mse(planted, (rgb[i:i + 1],)).sum().backward()
        grads.append(torch.cat([planted.plant_cos.grad, planted.plant_sin.grad]))
    g = torch.stack(grads)
    with torch.no_grad():
        recon, _ = base(rgb)
        size = (recon - rgb).norm(dim=-1)
        want = (2 / 3) * size[:, None] * planted.planted_activations(rgb)
    torch.testing.assert_close(g, want, rtol=1e-4, atol=1e-6)


def test_error_planting_bad_input_names_the_argument():
    src, base = _colour_base()
    with pytest.raises(ValueError, match="amplitude"):
        pl.PlantedErrorAutoencoder(base, -1.0)
    with pytest.raises(TypeError, match="base"):
        pl.PlantedErrorAutoencoder(src, 1.0)
    with pytest.raises(ValueError, match="kind"):
        pl.planted_colour_chi(0, "final", sampler={}, kind="logit")


@pytest.mark.slow
def test_error_planted_hue_pair_reads_as_a_first_harmonic_on_the_course_run():
    """The colour control 5.6 cites: the hue pair planted along each colour's own error
    (×1), Chapter 1's seed 0 at its final checkpoint, the bottleneck's sampler with
    sampler seeds 0–9: both planted columns fit a first harmonic of hue better than a
    second in 10 of 10 (95 % Wilson 72–100 %), yet the wheel beats all its noise-only
    matrices in 0 of 10 (the sign contrasts carry the planted wave)."""
    from course_lib.slt import colour_modes
    from course_lib.slt.components import chain_mean_chi
    from course_lib.stats import wilson_interval

    _, hue = colour_modes.probe_hues()
    sampler = colour_modes.COLOUR_SETTINGS["quick"]["colour"]["sampler"]
    first, beyond = 0, 0
    for sseed in range(10):
        e = pl.planted_colour_chi(0, "final", sampler={**sampler, "seed": sseed},
                                  kind="error")
        chi = chain_mean_chi(e["chain_chi"])     # the matrix the readers use
        first += all(colour_modes.harmonic_r2(chi[:, j], hue)
                     > colour_modes.harmonic_r2(chi[:, j], 2 * hue) for j in range(2))
        cal = colour_modes.noise_calibrated_wheel(e, rank=2, roundoff=False)
        beyond += cal.share == 0
    assert (first, beyond) == (10, 0), (first, beyond)
    low, high = wilson_interval(first, 10)
    assert 0.72 < low < 0.73 and high == 1.0, (low, high)
