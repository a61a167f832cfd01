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


def test_planted_model_is_the_trained_function_at_zero():
    m, setup = _setup()
    planted = pl.PlantedTransformer(setup.model, 3, 0.5)
    pairs = cm.all_pairs(11)
    with torch.no_grad():
        torch.testing.assert_close(planted(pairs), m(pairs), rtol=1e-5, atol=1e-5)
    names = {n for n, _ in planted.named_parameters()}
    assert "plant_out" in names and "base.W_E" in names


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


# ------------------------------------------------------------ the colour models (5.6)
def _colour_base():
    from course_lib.color.model import ColorAutoencoder
    from course_lib.slt import colour_modes

    torch.manual_seed(0)
    src = ColorAutoencoder(hidden=8)
    return src, colour_modes.ComponentAutoencoder(src)


def test_planted_autoencoder_is_the_trained_function_at_zero():
    src, base = _colour_base()
    planted = pl.PlantedAutoencoder(base, 0.7)
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
