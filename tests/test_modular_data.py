"""Tests for course_lib.modular.data: the p² pairs, the split, the mirror pairs."""

import numpy as np
import pytest
import torch

from course_lib.modular.data import is_prime, mirror_split, modular_addition_data

torch.set_num_threads(1)


def test_is_prime():
    assert [n for n in range(30) if is_prime(n)] == [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]


def test_data_labels_and_split():
    d = modular_addition_data(11, 0.3, seed=0)
    assert d.pairs.shape == (121, 2) and d.pairs.dtype == torch.long
    assert torch.equal(d.labels, (d.pairs[:, 0] + d.pairs[:, 1]) % 11)
    assert torch.equal(d.pairs[5 * 11 + 7], torch.tensor([5, 7]))
    assert int(d.is_train.sum()) == round(0.3 * 121) == len(d.train_pairs)
    assert len(d.train_pairs) + len(d.test_pairs) == 121
    again, other = modular_addition_data(11, 0.3, seed=0), modular_addition_data(11, 0.3, seed=1)
    assert torch.equal(again.is_train, d.is_train) and not torch.equal(other.is_train, d.is_train)


@pytest.mark.parametrize("p, frac, err", [
    (1, 0.3, ValueError), (2, 0.3, ValueError), (9, 0.3, ValueError), (15, 0.3, ValueError),
    (11.0, 0.3, TypeError), ("11", 0.3, TypeError), (11, 0.0, ValueError), (11, 1.0, ValueError),
    (11, 1.5, ValueError), (11, -0.2, ValueError), (11, "0.3", TypeError), (3, 0.01, ValueError)])
def test_data_bad_input(p, frac, err):
    with pytest.raises(err, match="p|train_fraction"):
        modular_addition_data(p, frac, 0)


def test_mirror_split_partitions_the_test_set():
    d = modular_addition_data(13, 0.4, seed=3)
    seen, unseen = mirror_split(d)
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
        mirror_split(d.pairs)


def test_unordered_coverage():
    from course_lib.modular.data import ModularAdditionData, modular_addition_data, unordered_coverage
    p = 5
    mask = np.zeros(p * p, dtype=bool)
    mask[0 * p + 1] = True                           # (0, 1): covers {0, 1}
    mask[1 * p + 0] = True                           # (1, 0): the same problem
    mask[2 * p + 2] = True                           # (2, 2): a diagonal problem
    assert unordered_coverage(ModularAdditionData.from_mask(p, mask)) == pytest.approx(2 / 15)
    assert unordered_coverage(ModularAdditionData.from_mask(p, np.ones(p * p, dtype=bool))) == 1.0
    for seed in range(3):                            # 30 % of ordered pairs ≈ 51 % of the problems
        c = unordered_coverage(modular_addition_data(113, 0.3, seed))
        assert 0.50 <= c <= 0.52
    with pytest.raises(TypeError, match="ModularAdditionData"):
        unordered_coverage(np.ones(25))
