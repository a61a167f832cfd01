"""Notebooks 4.3–4.4's checkers: the solution passes, subtle wrong answers fail, nothing crashes."""

import numpy as np
import pytest

from course_lib.mapper import change_exercises as X


def _fails(check, wrong, word):
    result = check(wrong, quiet=True)
    assert not result.passed and word in (result.message + result.hint), (wrong.__name__, result)


@pytest.mark.parametrize("check, solution", [
    (X.check_same_emotion_control, X.solution_same_emotion_control),
    (X.check_variance_removed, X.solution_variance_removed),
    (X.check_frequency_pick, X.solution_frequency_pick),
    (X.check_random_dictionary, X.solution_random_dictionary),
])
def test_solutions_pass_and_stubs_and_crashes_are_reported(check, solution):
    assert check(solution, quiet=True).passed

    def stub(*args):
        raise NotImplementedError

    def crashes(*args):
        return 1 / 0

    assert "not implemented" in check(stub, quiet=True).message
    assert "ZeroDivisionError" in check(crashes, quiet=True).message
    assert not check(lambda *a: None, quiet=True).passed
    assert not check(None, quiet=True).passed


def test_same_emotion_control_wrong_answers_fail():
    def steering_vector(x, s, t, o):
        return x[t].mean(0) - x[s].mean(0)

    def backwards(x, s, t, o):
        return -X.solution_same_emotion_control(x, s, t, o)

    def unscaled(x, s, t, o):
        return x[o].mean(0) - x[s].mean(0)

    def unit_length(x, s, t, o):
        v = x[o].mean(0) - x[s].mean(0)
        return v / np.linalg.norm(v)

    def on_unit_points(x, s, t, o):
        return X.solution_same_emotion_control(x / np.linalg.norm(x, axis=1, keepdims=True), s, t, o)

    def toward_other_from_target(x, s, t, o):
        v = x[t].mean(0) - x[s].mean(0)
        w = x[o].mean(0) - x[t].mean(0)
        return w * np.linalg.norm(v) / np.linalg.norm(w)

    for wrong, word in ((steering_vector, "steering vector itself"), (backwards, "backwards"),
                        (unscaled, "as long"), (unit_length, "as long"), (on_unit_points, "normalise"),
                        (toward_other_from_target, "cosine")):
        _fails(X.check_same_emotion_control, wrong, word)


def test_variance_removed_wrong_answers_fail():
    def not_orthonormalised(x, d):
        d = np.atleast_2d(d) / np.linalg.norm(np.atleast_2d(d), axis=1, keepdims=True)
        c = x - x.mean(0)
        return float(((c @ d.T) ** 2).sum() / (c ** 2).sum())

    def not_normalised(x, d):
        q = np.atleast_2d(d)
        c = x - x.mean(0)
        return float(min(1.0, ((c @ q.T) ** 2).sum() / (c ** 2).sum()))

    def not_centred(x, d):
        q, _ = np.linalg.qr(np.atleast_2d(d).T)
        return float(((x @ q) ** 2).sum() / (x ** 2).sum())

    def percent(x, d):
        return 100 * X.solution_variance_removed(x, d)

    def by_reference(x, d):
        from course_lib.mapper.judged import variance_removed
        return variance_removed(x, d)

    for wrong, word in ((not_orthonormalised, "orthonormalise"), (not_normalised, "normalise"),
                        (not_centred, "centre"), (percent, "percentage"), (by_reference, "own code")):
        _fails(X.check_variance_removed, wrong, word)


def test_variance_removed_matches_the_library():
    from course_lib.mapper.judged import variance_removed

    rng = np.random.default_rng(0)
    x, d = rng.normal(size=(50, 7)) @ rng.normal(size=(7, 7)), rng.normal(size=(3, 7))
    assert variance_removed(x, d) == pytest.approx(X.solution_variance_removed(x, d))
    # k random directions remove about k/d of an isotropic cloud
    iso = rng.normal(size=(4000, 40))
    assert variance_removed(iso, rng.normal(size=(4, 40))) == pytest.approx(0.1, abs=0.02)
    with pytest.raises(ValueError, match="points"):
        variance_removed(np.ones(5), d)
    with pytest.raises(ValueError, match="dimensions"):
        variance_removed(x, rng.normal(size=(2, 3)))


def test_frequency_pick_wrong_answers_fail():
    def by_mean(f, labels, fit, e):
        g = np.asarray(f, float)
        return int(np.argmax(g[fit & (labels == e)].mean(0) - g[fit & (labels != e)].mean(0)))

    def absolute_gap(f, labels, fit, e):
        g = (np.asarray(f) > 0).astype(float)
        return int(np.argmax(np.abs(g[fit & (labels == e)].mean(0) - g[fit & (labels != e)].mean(0))))

    def every_row(f, labels, fit, e):
        return X.solution_frequency_pick(f, labels, np.ones(len(labels), bool), e)

    def one_other_emotion(f, labels, fit, e):
        g = (np.asarray(f) > 0).astype(float)
        other = "joy" if e != "joy" else "anger"
        return int(np.argmax(g[fit & (labels == e)].mean(0) - g[fit & (labels == other)].mean(0)))

    def as_float(f, labels, fit, e):
        return float(X.solution_frequency_pick(f, labels, fit, e))

    for wrong, word in ((by_mean, "mean activation"), (absolute_gap, "signed"), (every_row, "fit rows"),
                        (one_other_emotion, "all three"), (as_float, "int")):
        _fails(X.check_frequency_pick, wrong, word)


def test_random_dictionary_wrong_answers_fail():
    def uncentred(x, m, l0, rng):
        w = rng.normal(size=(m, x.shape[1]))
        w /= np.linalg.norm(w, axis=1, keepdims=True)
        pre = x @ w.T
        return np.maximum(pre - np.quantile(pre, 1 - l0 / m), 0)

    def no_threshold(x, m, l0, rng):
        w = rng.normal(size=(m, x.shape[1]))
        return np.maximum((x - x.mean(0)) @ w.T, 0)

    def global_rng(x, m, l0, rng):
        return X.solution_random_dictionary(x, m, l0, np.random.default_rng())

    def fixed_seed(x, m, l0, rng):
        return X.solution_random_dictionary(x, m, l0, np.random.default_rng(0))

    def signed(x, m, l0, rng):
        w = rng.normal(size=(m, x.shape[1]))
        pre = (x - x.mean(0)) @ w.T
        return pre - np.quantile(pre, 1 - l0 / m)

    def by_library(x, m, l0, rng):
        from course_lib.mapper.sae import random_dictionary_codes
        return random_dictionary_codes(x, m, l0, rng)

    def few_features(x, m, l0, rng):
        out = np.zeros((len(x), m))
        c = X.solution_random_dictionary(x, max(int(l0) + 1, 2), l0 / 2, rng)
        out[:, :c.shape[1]] = c
        return out

    def per_feature(x, m, l0, rng):
        w = rng.normal(size=(m, x.shape[1]))
        w /= np.linalg.norm(w, axis=1, keepdims=True)
        pre = (x - x.mean(0)) @ w.T
        return np.maximum(pre - np.quantile(pre, 1 - l0 / m, axis=0), 0)

    for wrong, word in ((uncentred, "centre"), (no_threshold, "quantile"), (global_rng, "same rng seed"),
                        (fixed_seed, "different rng seed"), (signed, "negative"), (per_feature, "one threshold"),
                        (few_features, "active features"), (by_library, "own code")):
        _fails(X.check_random_dictionary, wrong, word)


def test_steering_solution_passes():
    assert X.check_steering_pair(X.solution_steering_pair, quiet=True).passed


def test_steering_wrong_answers_fail():
    import numpy as np

    def backwards(x, source, target, rng):
        v, c = X.solution_steering_pair(x, source, target, rng)
        return -v, c

    def on_unit_points(x, source, target, rng):
        u = x / np.linalg.norm(x, axis=1, keepdims=True)
        return X.solution_steering_pair(u, source, target, rng)

    def unit_control(x, source, target, rng):
        v, c = X.solution_steering_pair(x, source, target, rng)
        return v, c / np.linalg.norm(c)

    def raw_normal_control(x, source, target, rng):
        v, _ = X.solution_steering_pair(x, source, target, rng)
        return v, rng.normal(size=v.shape)

    def scaled_copy(x, source, target, rng):
        v, _ = X.solution_steering_pair(x, source, target, rng)
        return v, v.copy()

    def global_rng(x, source, target, rng):
        v, _ = X.solution_steering_pair(x, source, target, rng)
        c = np.random.normal(size=v.shape)
        return v, c * np.linalg.norm(v) / np.linalg.norm(c)

    for wrong, word in ((backwards, "backwards"), (on_unit_points, "normalise"), (unit_control, "long"),
                        (raw_normal_control, "long"), (scaled_copy, "aligned"), (global_rng, "rng")):
        result = X.check_steering_pair(wrong, quiet=True)
        assert not result.passed and word in (result.message + result.hint), (wrong.__name__, result)


# --- notebook 4.1: intervals per point; notebook 4.2: cross-situation purity, centroid adjacency ----
