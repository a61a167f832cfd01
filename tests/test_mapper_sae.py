"""The sparse autoencoder's pieces: token states, the model's constraint, feature picking."""

import numpy as np
import pytest
import torch

from course_lib.mapper import sae as S
from course_lib.mapper.activations import load_encoder


def test_token_states_are_the_own_tokens_at_that_layer():
    model = load_encoder(precision="float32")
    texts = ["The storm missed the town.", "Grandma passed away in the spring."]
    states, owners = S.token_states(model, texts, layer=6)
    counts = [len(model.tokens(t)) for t in texts]
    assert states.shape == (sum(counts), 384) and owners.tolist() == [0] * counts[0] + [1] * counts[1]
    pooled = model.embed(texts)[:, 6]
    assert np.allclose(states[owners == 1].mean(0), pooled[1], atol=1e-4)
    with pytest.raises(ValueError, match="layer"):
        S.token_states(model, texts, layer=7)


def test_decoder_columns_stay_unit_length():
    sae = S.SparseAutoencoder(8, 20, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        sae.W_d.mul_(3.0)
    sae.normalise_decoder()
    assert torch.allclose(sae.W_d.norm(dim=0), torch.ones(20), atol=1e-6)
    recon, f = sae(torch.randn(5, 8))
    assert recon.shape == (5, 8) and f.shape == (5, 20) and (f >= 0).all()


def test_frequency_pick_avoids_a_one_situation_feature():
    rng = np.random.default_rng(0)
    n = 200
    labels = np.array(["joy", "fear"] * (n // 2))
    fit = np.arange(n) < 120
    f = np.zeros((n, 3))
    f[:, 0] = (labels == "joy") * rng.uniform(0.5, 1.0, n)       # a broad joy feature
    f[[0, 2, 4], 1] = 50.0                                        # fires hard on three training joy rows
    f[:, 2] = rng.uniform(0, 1, n)                                # noise
    by_mean = S.emotion_features(f, labels, fit, ~fit, ("joy",), by="mean")
    by_freq = S.emotion_features(f, labels, fit, ~fit, ("joy",), by="frequency")
    assert by_mean["joy"][0] == 1 and by_freq["joy"][0] == 0
    assert 5 < by_freq["joy"][1] < 100                                # floored: no ∞ on a silent denominator
    no_floor = S.emotion_features(f, labels, fit, ~fit, ("joy",), by="frequency", floor=0.0)
    assert no_floor["joy"][1] == float("inf")
    with pytest.raises(ValueError, match="share"):
        S.emotion_features(f, labels, fit, fit, ("joy",))
    with pytest.raises(ValueError, match="by must be"):
        S.emotion_features(f, labels, fit, ~fit, ("joy",), by="median")


def test_pca_codes_are_the_fit_rows_principal_coordinates():
    from course_lib.mapper.sae import pca_codes

    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 5)) * np.array([5.0, 3.0, 1.0, 0.5, 0.1])
    fit = np.arange(60) < 40
    codes = pca_codes(x, fit, 2)
    assert codes.shape == (60, 2)
    # centred on the fit rows, uncorrelated there, variances in decreasing order = the top eigenvalues
    assert np.allclose(codes[fit].mean(axis=0), 0, atol=1e-12)
    cov = np.cov(codes[fit].T)
    assert abs(cov[0, 1]) < 1e-9 and cov[0, 0] >= cov[1, 1]
    top = np.sort(np.linalg.eigvalsh(np.cov(x[fit].T)))[::-1][:2]
    assert np.allclose(np.diag(cov), top)
    # every component kept: distances between rows are preserved
    full = pca_codes(x, fit, 5)
    assert np.allclose(np.linalg.norm(full[0] - full[50]), np.linalg.norm(x[0] - x[50]))
    with pytest.raises(ValueError, match="components"):
        pca_codes(x, fit, 6)
    with pytest.raises(ValueError, match="fit"):
        pca_codes(x, fit[:10], 2)


def test_emotion_features_takes_the_readers_pick():
    from course_lib.mapper.change_exercises import solution_frequency_pick

    rng = np.random.default_rng(1)
    labels = np.array(["joy", "fear", "anger", "sadness"] * 50)
    fit = np.arange(len(labels)) < 120
    f = np.maximum(rng.normal(size=(len(labels), 6)), 0) * (rng.uniform(size=(len(labels), 6)) < 0.3)
    f[labels == "fear", 3] += 1.0
    seen = []

    def spy(features, lab, fit_rows, emotion):
        seen.append(set(lab[~fit_rows]))
        return solution_frequency_pick(features, lab, fit_rows, emotion)

    emotions = ("joy", "fear")
    assert S.emotion_features(f, labels, fit, ~fit, emotions, by=spy) == S.emotion_features(
        f, labels, fit, ~fit, emotions, by="frequency")
    assert seen == [{""}, {""}]                  # the held-out rows' labels are hidden from the pick
    for bad in (lambda *a: 6, lambda *a: True, lambda *a: 1.0):
        with pytest.raises(ValueError, match="feature index"):
            S.emotion_features(f, labels, fit, ~fit, emotions, by=bad)
