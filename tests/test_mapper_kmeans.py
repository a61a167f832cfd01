"""fit_kmeans must give scikit-learn's own KMeans(n_init=3) clustering, only faster."""

import numpy as np
import pytest
from scipy import sparse
from sklearn.cluster import KMeans

from course_lib.mapper.kmeans import fit_kmeans, kmeans_plusplus_indices


def _blobs(n: int, dim: int, centres: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    means = rng.normal(size=(centres, dim)) * 3
    x = means[rng.integers(centres, size=n)] + rng.normal(size=(n, dim))
    return x / np.linalg.norm(x, axis=1, keepdims=True)   # unit rows, as chapter 4's sentences


@pytest.mark.parametrize("n, dim, k, seed", [(300, 24, 2, 0), (300, 24, 7, 1), (400, 48, 40, 2),
                                             (250, 8, 90, 3), (120, 16, 120, 4)])
def test_same_clusters_and_centres_as_sklearn(n: int, dim: int, k: int, seed: int) -> None:
    x = _blobs(n, dim, 6, seed)
    ours = fit_kmeans(x, k, seed)
    theirs = KMeans(n_clusters=k, n_init=3, random_state=seed).fit(x)
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    np.testing.assert_allclose(ours.cluster_centers_, theirs.cluster_centers_, atol=1e-12)
    assert ours.inertia_ == pytest.approx(theirs.inertia_, rel=1e-12)


def test_duplicate_points_and_a_different_restart_count() -> None:
    x = np.repeat(_blobs(60, 10, 3, 5), 3, axis=0)   # every point three times
    for n_init in (1, 4):
        ours = fit_kmeans(x, 12, 7, n_init=n_init)
        theirs = KMeans(n_clusters=12, n_init=n_init, random_state=7).fit(x)
        np.testing.assert_array_equal(ours.labels_, theirs.labels_)


def test_seeding_is_sklearns_kmeans_plusplus() -> None:
    from sklearn.cluster import kmeans_plusplus

    x = _blobs(200, 12, 5, 9)
    centred = x - x.mean(axis=0)
    ours = kmeans_plusplus_indices(centred, 15, np.random.RandomState(3))
    with_gram = kmeans_plusplus_indices(centred, 15, np.random.RandomState(3), centred @ centred.T)
    _, theirs = kmeans_plusplus(centred, 15, random_state=np.random.RandomState(3))
    np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(with_gram, theirs)


def test_other_inputs_go_to_sklearn_unchanged() -> None:
    x = _blobs(150, 10, 4, 1)
    for points in (x.astype(np.float32), sparse.csr_matrix(x)):
        ours = fit_kmeans(points, 6, 2)
        theirs = KMeans(n_clusters=6, n_init=3, random_state=2).fit(points)
        np.testing.assert_array_equal(ours.labels_, theirs.labels_)


def test_bad_input_is_refused_with_a_clear_message() -> None:
    x = _blobs(20, 4, 2, 0)
    with pytest.raises(ValueError, match="k"):
        fit_kmeans(x, 0)
    with pytest.raises(ValueError, match="k"):
        fit_kmeans(x, 21)
    bad = x.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        fit_kmeans(bad, 3)
    with pytest.raises(ValueError, match="2-D"):
        fit_kmeans(x[0], 1)
