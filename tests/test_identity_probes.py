"""Tests for course_lib.identity.probes and .basis on synthetic embeddings with planted directions."""

import numpy as np
import pytest

from course_lib.identity import probes as P
from course_lib.identity.basis import NameBasis


def planted(n=600, d=24, noise=0.3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    w = np.zeros(d); w[:3] = [2.0, -1.0, 0.5]
    y = X @ w + noise * rng.normal(size=n)
    return X, y, w


def test_planted_direction_is_found_on_held_out_rows():
    X, y, w = planted()
    folds = P.fold_ids(len(y), 5, seed=0)
    pred = P.ridge_oof(X, y, folds)
    assert P.r2_score(y, pred) > 0.95
    d, b = P.ridge_direction(X, y)
    assert np.corrcoef(d, w)[0, 1] > 0.99 and abs(b) < 0.1


def test_shuffled_labels_score_about_zero():
    X, y, _ = planted()
    perm = np.random.default_rng(1).permutation(len(y))
    pred = P.ridge_oof(X, y[perm], P.fold_ids(len(y)))
    assert abs(P.r2_score(y[perm], pred)) < 0.05


def test_held_out_rows_never_influence_their_own_prediction():
    """Changing the targets of fold 0 must not change fold 0's predictions (no leakage)."""
    X, y, _ = planted(n=200)
    folds = P.fold_ids(len(y), 4, seed=3)
    a = P.ridge_oof(X, y, folds)
    y2 = y.copy(); y2[folds == 0] += 100.0
    b = P.ridge_oof(X, y2, folds)
    assert np.allclose(a[folds == 0], b[folds == 0])
    assert not np.allclose(a[folds == 1], b[folds == 1])


def test_several_targets_at_once_equal_one_at_a_time():
    X, y, _ = planted(n=300)
    z = np.sin(X[:, 4]) + 0.1 * X[:, 5]
    folds = P.fold_ids(300, 5)
    both = P.ridge_oof(X, np.stack([y, z], 1), folds)
    assert np.allclose(both[:, 0], P.ridge_oof(X, y, folds)) and np.allclose(both[:, 1], P.ridge_oof(X, z, folds))


def test_more_features_than_rows_still_work():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 200)); y = X[:, 0] * 3 + 0.1 * rng.normal(size=60)
    pred = P.ridge_oof(X, y, P.fold_ids(60, 5))
    assert np.isfinite(pred).all() and P.r2_score(y, pred) > 0.1  # a shuffled target scores ≈ 0


def test_auc_known_values_and_ties():
    assert P.auc_score([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4]) == 1.0
    assert P.auc_score([0, 0, 1, 1], [0.4, 0.3, 0.2, 0.1]) == 0.0
    assert P.auc_score([0, 1], [0.5, 0.5]) == 0.5
    assert P.auc_score([0, 1, 0, 1], [0.1, 0.2, 0.2, 0.3]) == pytest.approx(0.875)
    with pytest.raises(ValueError, match="both classes"):
        P.auc_score([1, 1], [0.1, 0.2])


def test_r2_reference_values_and_errors():
    y = np.array([1.0, 2.0, 3.0])
    assert P.r2_score(y, y) == 1.0 and P.r2_score(y, np.full(3, 2.0)) == 0.0
    with pytest.raises(ValueError, match="constant"):
        P.r2_score(np.ones(3), y)
    with pytest.raises(ValueError):
        P.r2_score(y, y[:2])


@pytest.mark.parametrize("X, y, err", [
    (np.zeros(5), np.zeros(5), "2-D"), (np.full((5, 2), np.nan), np.zeros(5), "NaN"),
    (np.zeros((5, 2)), np.zeros(4), "shape"), (np.zeros((5, 2)), np.full(5, np.inf), "NaN")])
def test_bad_probe_input(X, y, err):
    with pytest.raises(ValueError, match=err):
        P.ridge_oof(X, y, np.arange(len(np.atleast_1d(y))) % 2)


def test_ngram_features_count_grams_with_boundaries():
    X, vocab = P.ngram_features(["Ann", "Anna", "Hanna"], n_max=2, min_names=2)
    col = {g: j for j, g in enumerate(vocab)}
    assert X[1, col["nn"]] == 1 and X[0, col["^a"]] == 1 and X[2, col["a$"]] == 1
    assert "h" not in col  # only in one name
    assert X[2, col["n"]] == 2


def test_fold_ids_balanced_and_checked():
    ids = P.fold_ids(103, 5, seed=2)
    counts = np.bincount(ids)
    assert counts.max() - counts.min() <= 1
    with pytest.raises(ValueError):
        P.fold_ids(3, 5)


# ---------------------------------------------------------------- NameBasis
def basis_data(n=80, P_=2, d=10, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, P_, d))
    names = [f"Name{chr(65 + i % 26)}{i}" for i in range(n)]
    return X, names


def test_round_trip_is_exact_in_the_span_and_a_projection_outside():
    X, names = basis_data()
    B = NameBasis.fit(X, names, k=6)
    c = np.random.default_rng(1).normal(size=(4, 2, 6))
    assert np.allclose(B.encode(B.decode(c)), c)
    full = NameBasis.fit(X, names, k=10)           # k = d: every point is in the span
    assert np.allclose(full.decode(full.encode(X)), X)
    proj = B.project(X)
    assert np.allclose(B.project(proj), proj)     # projecting twice changes nothing
    assert np.allclose(np.einsum("pkd,pjd->pkj", B.components, B.components), np.eye(6)[None].repeat(2, 0), atol=1e-10)
    assert (np.diff(B.explained, axis=1) <= 1e-12).all()


def test_nearest_name_of_a_fitted_name_is_itself_and_directions_steer():
    X, names = basis_data(P_=1, d=8)
    B = NameBasis.fit(X, names, k=8)
    assert B.nearest(B.embedding_of(names[5]), 1)[0][0][0] == names[5]
    assert B.nearest(B.embedding_of(names[5]), 1, exclude=[names[5].lower()])[0][0][0] != names[5]
    value = X[:, 0, 0]                          # an attribute written on coordinate 0
    d = B.direction(value, low=-0.5, high=0.5)
    assert d[0, 0] > 1.0 and np.abs(d[0, 1:]).max() < 0.6
    moved = B.nearest(B.shift(B.embedding_of(names[5]), d, 3.0), 5)[0]
    assert np.mean([value[names.index(n)] for n, _ in moved]) > value.mean() + 0.5


def test_basis_bad_input():
    X, names = basis_data()
    with pytest.raises(ValueError, match="k must"):
        NameBasis.fit(X, names, k=0)
    with pytest.raises(ValueError, match="names"):
        NameBasis.fit(X, names[:-1], k=3)
    B = NameBasis.fit(X, names, k=3)
    with pytest.raises(ValueError, match="positions"):
        B.encode(np.zeros((2, 3, 10)))
    with pytest.raises(ValueError, match="coefficients"):
        B.decode(np.zeros((2, 2, 4)))
    with pytest.raises(KeyError):
        B.embedding_of("Nobody")
    with pytest.raises(ValueError, match="NaN"):
        B.encode(np.full((1, 2, 10), np.nan))
    with pytest.raises(ValueError, match="no fitted name"):
        B.direction(np.zeros(len(names)), low=-1, high=1)
