"""Exact learning coefficients, the finite-nβ target, sublevel volumes and notebook 5.1's checkers."""

import itertools
import math

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from course_lib.slt import density, theory, theory_exercises as ex  # noqa: E402
from course_lib.slt.density import (  # noqa: E402
    leading_volume, sublevel_volume, sublevel_volume_mc, volume_exponent_fit,
)
from course_lib.slt.theory import (  # noqa: E402
    dln_lambda, normal_crossing_expectation, normal_crossing_lambda, rrr_lambda,
)


# --------------------------------------------------------------------------- normal crossings
@pytest.mark.parametrize("k, h, want", [
    ((1, 2), None, (0.25, 1)),             # w1² w2⁴
    ((1, 1), None, (0.5, 2)),              # (w1 w2)²
    ((1, 3), None, (1 / 6, 1)),            # w1² w2⁶
    ((1,), None, (0.5, 1)),                # regular, one parameter
    ((1, 0), None, (0.5, 1)),              # w2 absent from K
    ((0, 0, 2), None, (0.25, 1)),
    ((1, 2), (1, 0), (0.25, 1)),
    ((1, 3), (0, 2), (0.5, 2)),            # the prior moves the second ratio up to a tie
    ((1, 3), (0.2, 2.6), (0.6, 2)),        # a tie in decimals that binary floats would miss
    ((2, 2, 2), None, (0.25, 3)),
])
def test_normal_crossing_hand_checked(k, h, want):
    lam, m = normal_crossing_lambda(k, h)
    assert math.isclose(lam, want[0], rel_tol=1e-12) and m == want[1]
    assert isinstance(lam, float) and isinstance(m, int)


@pytest.mark.parametrize("k, h, error, match", [
    ([], None, ValueError, "k must not be empty"),
    ((0, 0), None, ValueError, "k must have at least one positive"),
    ((1, -1), None, ValueError, r"k\[1\]"),
    ((1, 1.5), None, TypeError, r"k\[1\]"),
    ((1, True), None, TypeError, r"k\[1\]"),
    ("12", None, TypeError, "k must be a sequence"),
    (3, None, TypeError, "k must be a sequence"),
    ((1, 2), (0,), ValueError, "h must have one entry"),
    ((1, 2), (0, -1), ValueError, r"h\[1\] must be > -1"),
    ((1, 2), (0, float("nan")), ValueError, r"h\[1\] must be a finite number"),
    ((1, 2), (0, "a"), TypeError, r"h\[1\]"),
])
def test_normal_crossing_bad_input(k, h, error, match):
    with pytest.raises(error, match=match):
        normal_crossing_lambda(k, h)


# --------------------------------------------------------------------------- RRR and DLN
SMALL = range(1, 7)


def _rrr_grid():
    for M, H, N in itertools.product(SMALL, SMALL, SMALL):
        for r in range(min(M, H, N) + 1):
            yield M, H, N, r


def test_dln_reduces_to_rrr_for_one_hidden_layer():
    for M, H, N, r in _rrr_grid():
        assert dln_lambda([M, H, N], r) == rrr_lambda(M, H, N, r), (M, H, N, r)


def test_rrr_is_symmetric_in_input_and_output():
    for M, H, N, r in _rrr_grid():
        assert rrr_lambda(M, H, N, r) == rrr_lambda(N, H, M, r), (M, H, N, r)


def test_dln_sigma_prefix_matches_subset_search():
    for widths in itertools.chain(itertools.product(range(1, 6), repeat=3),
                                  itertools.product(range(1, 5), repeat=4)):
        for r in range(min(widths) + 1):
            fast = theory.dln_sigma(widths, r)
            slow = theory.dln_sigma_by_search(widths, r)
            assert len(fast) == len(slow)
            assert theory._dln_from_sigma(widths, r, fast) == theory._dln_from_sigma(widths, r, slow)


def test_full_rank_rrr_is_regular_in_the_effective_parameters():
    # r = H = min(M, N): every direction except the GL(H) symmetry is identified.
    for M, N in itertools.product(SMALL, SMALL):
        H = min(M, N)
        lam, m = rrr_lambda(M, H, N, H)
        assert (lam, m) == ((H * (M + N) - H * H) / 2, 1), (M, N)


def test_rrr_hand_checked():
    assert rrr_lambda(1, 1, 1, 0) == (0.5, 2)      # y = b a x: K = (ab)², a normal crossing
    assert rrr_lambda(1, 1, 1, 1) == (0.5, 1)      # at ab ≠ 0 one effective parameter
    assert rrr_lambda(2, 5, 2, 0) == (2.0, 1)      # H + r > M + N: λ = MN/2
    assert rrr_lambda(2, 1, 5, 1) == (3.0, 1)      # M + H < N + r: (HM − Hr + Nr)/2
    assert rrr_lambda(3, 3, 3, 0) == (3.5, 2)      # (2·3·6 − 0 − 9 + 1)/8, odd sum


def test_dln_hand_checked():
    assert dln_lambda([6, 5, 5, 6], 1) == (12.0, 1)             # research note
    assert dln_lambda([4, 7], 2) == (14.0, 1)                   # one layer: regular MN/2
    assert dln_lambda([3, 3, 3, 3], 3) == (4.5, 1)              # invertible product: 9 effective
    # λ never exceeds half the number of parameters
    for widths in itertools.product(range(1, 5), repeat=4):
        d = sum(a * b for a, b in zip(widths, widths[1:]))
        for r in range(min(widths) + 1):
            assert dln_lambda(widths, r)[0] <= d / 2


@pytest.mark.parametrize("call, error, match", [
    (lambda: rrr_lambda(0, 1, 1, 0), ValueError, "M must be a positive int"),
    (lambda: rrr_lambda(2, 1.0, 2, 0), TypeError, "H must be an int"),
    (lambda: rrr_lambda(2, 2, 2, -1), ValueError, "r must be a non-negative int"),
    (lambda: rrr_lambda(2, 1, 3, 2), ValueError, r"r must be <= min\(M, H, N\)"),
    (lambda: dln_lambda([3], 0), ValueError, "at least input and output"),
    (lambda: dln_lambda([3, 0, 2], 0), ValueError, r"widths\[1\]"),
    (lambda: dln_lambda([3, 2, 4], 3), ValueError, r"r must be <= min\(widths\)"),
    (lambda: dln_lambda("345", 1), TypeError, "widths must be a sequence"),
    (lambda: dln_lambda([], 0), ValueError, "widths must not be empty"),
])
def test_rrr_dln_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


# --------------------------------------------------------------------------- the finite-nβ target
@pytest.mark.parametrize("nbeta, gamma", [(10.0, 1.0), (1e4, 1.0), (300.0, 0.1), (1e7, 5.0)])
def test_target_of_a_quadratic_is_closed_form(nbeta, gamma):
    # K = w1² (w2 absent): E[nβ w1²] = nβ/(2nβ + γ). K = w^4 is not Gaussian: compare both routes.
    assert normal_crossing_expectation((1,), nbeta, gamma) == pytest.approx(nbeta / (2 * nbeta + gamma))
    assert normal_crossing_expectation((1, 0), nbeta, gamma) == pytest.approx(nbeta / (2 * nbeta + gamma))


def test_target_one_dimensional_quartic_against_gamma_functions():
    # K = w⁴ with γ → 0 relative to nβ: E[nβ w⁴] under exp(−nβ w⁴) is exactly 1/4 (λ = 1/4, no
    # Gaussian): with γ tiny compared with nβ^(1/2) the quadrature must return ≈ 1/4.
    assert normal_crossing_expectation((2,), 1e10, 1e-3) == pytest.approx(0.25, rel=1e-4)


@pytest.mark.parametrize("k", [(1, 1), (1, 2), (2, 1), (1, 3)])
@pytest.mark.parametrize("nbeta", [10.0, 1e4, 1e8])
def test_target_analytic_route_matches_two_dimensional_quadrature(k, nbeta):
    w, dw = theory._radial_nodes(1.0, 6, 20)
    prior = np.exp(-w**2 / 2) * dw
    two_d = theory._tensor_expectation(list(k), nbeta, 1.0, w, prior)
    assert normal_crossing_expectation(k, nbeta) == pytest.approx(two_d, rel=1e-6)


@pytest.mark.parametrize("k", [(1, 1), (2, 2), (2, 3), (3,)])
@pytest.mark.parametrize("nbeta", [10.0, 1e5])
def test_target_converges_with_resolution(k, nbeta):
    coarse = normal_crossing_expectation(k, nbeta)
    fine = normal_crossing_expectation(k, nbeta, panels_per_decade=8, order=24)
    assert coarse == pytest.approx(fine, rel=1e-6)


def test_target_approaches_lambda_from_below():
    nbetas = [1e2, 1e4, 1e6, 1e8]
    for k in [(1, 2), (1, 3), (1, 1), (2, 2)]:
        lam, m = normal_crossing_lambda(k)
        gaps = [lam - normal_crossing_expectation(k, nb) for nb in nbetas]
        assert all(g > 0 for g in gaps), (k, gaps)
        assert all(b < a for a, b in zip(gaps, gaps[1:])), (k, gaps)
        if m == 1:
            assert gaps[-1] < 0.02, (k, gaps)
        else:  # ≈ (m − 1)/log nβ: within a factor 2 at large nβ
            for nb, g in zip(nbetas[2:], gaps[2:]):
                assert 0.5 < g * math.log(nb) / (m - 1) < 2, (k, nb, g)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(k=(1, 1), nbeta=0), ValueError, "nbeta must be a positive"),
    (dict(k=(1, 1), nbeta=float("inf")), ValueError, "nbeta"),
    (dict(k=(1, 1), nbeta=10, gamma=-1), ValueError, "gamma must be a positive"),
    (dict(k=(1, 1), nbeta="10"), TypeError, "nbeta"),
    (dict(k=(1, 1, 1), nbeta=10), ValueError, "1 or 2 entries"),
    (dict(k=(0, 0), nbeta=10), ValueError, "at least one positive"),
])
def test_target_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        normal_crossing_expectation(**kwargs)


# --------------------------------------------------------------------------- sublevel volumes
EPS = np.logspace(-6, -1, 6)


@pytest.mark.parametrize("k, h, box", [
    ((1, 1), None, 1.0), ((1, 2), None, 1.0), ((2, 3), None, 1.0), ((3,), None, 1.0),
    ((1, 0), None, 1.0), ((1, 2), (1, 0), 1.0), ((2, 2), (0.5, 0.5), 1.0), ((1, 2), None, 1.7),
])
def test_exact_volume_matches_monte_carlo(k, h, box):
    exact = sublevel_volume(k, EPS, h, box)
    mc, se = sublevel_volume_mc(k, EPS, 200_000, seed=1, h=h, box=box)
    resolved = mc > 0
    z = (mc[resolved] - exact[resolved]) / se[resolved]
    assert np.all(np.abs(z) < 4.5), z          # 6 levels × 8 cases: 4.5 s.e. is never crossed by chance


def test_exact_volume_has_the_leading_law():
    tiny = np.array([1e-40, 1e-30])
    for k, h in [((1, 2), None), ((2, 3), None), ((1, 2), (1, 3)), ((3,), None)]:
        lam, m = normal_crossing_lambda(k, h)
        ratio = sublevel_volume(k, tiny, h) / leading_volume(k, tiny, h)
        if m == 1:  # the next term is smaller by ε^(gap), gap = next ratio − λ
            ratios = sorted((hi + 1) / (2 * ki) for ki, hi in zip(k, h or [0] * len(k)) if ki)
            gap = ratios[1] - lam if len(ratios) > 1 else np.inf
            assert np.all(np.abs(ratio - 1) < 2 * tiny**gap + 1e-12), (k, ratio)
        else:  # the next term is smaller by a factor 1/log(1/ε) only
            assert np.all(np.abs(ratio - 1) < 3 / np.log(1 / tiny)), (k, ratio)


def test_volume_edge_cases():
    assert sublevel_volume((1,), 0.25) == pytest.approx(1.0)       # |w| < 1/2 in [−1, 1]
    assert sublevel_volume((1, 1), 0.5, box=0.5) == pytest.approx(1.0)  # whole box below the level
    assert isinstance(sublevel_volume((1, 1), 0.1), float)
    assert sublevel_volume((1, 1), np.array([[0.1, 0.2]])).shape == (1, 2)
    # a near-tie is continuous with the tie
    tie = sublevel_volume((1, 1), 1e-4, (0, 0))
    near = sublevel_volume((1, 1), 1e-4, (0, 1e-9))
    assert near == pytest.approx(tie, rel=1e-6)


def test_volume_fit_recovers_lambda_and_shows_the_log_bias():
    eps = np.logspace(-30, -20, 11)
    v = sublevel_volume((1, 2), eps)
    assert volume_exponent_fit(eps, v).exponent == pytest.approx(0.25, abs=1e-4)
    v2 = sublevel_volume((1, 1), eps)
    naive = volume_exponent_fit(eps, v2).exponent
    corrected = volume_exponent_fit(eps, v2, log_power=1).exponent
    mean_log = float(np.mean(np.log(1 / eps)))
    assert naive < 0.5 - 0.5 / mean_log            # biased low by about 1/log(1/ε)
    assert abs(corrected - 0.5) < abs(naive - 0.5) / 5


@pytest.mark.parametrize("call, error, match", [
    (lambda: sublevel_volume((1, 1), 0.0), ValueError, r"eps must lie in \(0, 1\)"),
    (lambda: sublevel_volume((1, 1), 1.0), ValueError, "eps"),
    (lambda: sublevel_volume((1, 1), [0.1, np.nan]), ValueError, "eps"),
    (lambda: sublevel_volume((1, 1), []), ValueError, "eps must not be empty"),
    (lambda: sublevel_volume((1, 1), "0.1"), TypeError, "eps"),
    (lambda: sublevel_volume((1, 1, 1), 0.1), ValueError, "sublevel_volume_mc"),
    (lambda: sublevel_volume((1, 1), 0.1, box=0), ValueError, "box must be a positive"),
    (lambda: sublevel_volume((1, 1), 0.1, box="1"), TypeError, "box"),
    (lambda: sublevel_volume_mc((1, 1), 0.1, n_samples=1), ValueError, "n_samples"),
    (lambda: sublevel_volume_mc((1, 1), 0.1, seed=1.5), TypeError, "seed"),
    (lambda: volume_exponent_fit([0.1, 0.01], [1.0]), ValueError, "one entry per eps"),
    (lambda: volume_exponent_fit([0.1, 0.1], [1.0, 1.0]), ValueError, "two distinct"),
    (lambda: volume_exponent_fit([0.1, 0.01], [1.0, 0.0]), ValueError, "volumes must be positive"),
    (lambda: volume_exponent_fit([0.1, 0.01], [1.0, 0.5], log_power=None), TypeError, "log_power"),
])
def test_volume_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_monte_carlo_works_in_three_dimensions():
    mc, se = sublevel_volume_mc((1, 1, 1), np.array([1e-2]), 100_000, seed=0)
    assert mc.shape == (1,) and se[0] > 0 and 0 < mc[0] < 8


# --------------------------------------------------------------------------- checkers
def test_learning_coefficient_checker_passes_the_solution():
    assert ex.check_learning_coefficient(ex.solution_learning_coefficient, quiet=True)


def _max_instead_of_min(k, h=None):
    h = [0.0] * len(k) if h is None else h
    ratios = [(hi + 1) / (2 * ki) for ki, hi in zip(k, h) if ki]
    return max(ratios), sum(r == max(ratios) for r in ratios)


def _no_multiplicity(k, h=None):
    return ex.solution_learning_coefficient(k, h)[0], 1


def _ignores_h(k, h=None):
    return ex.solution_learning_coefficient(k, None)


def _k_not_2k(k, h=None):
    h = [0.0] * len(k) if h is None else h
    ratios = [(hi + 1) / ki for ki, hi in zip(k, h) if ki]
    return min(ratios), sum(r == min(ratios) for r in ratios)


def _h_without_plus_one(k, h=None):
    h = [0.0] * len(k) if h is None else h
    ratios = [max(hi, 1) / (2 * ki) for ki, hi in zip(k, h) if ki]
    return min(ratios), sum(r == min(ratios) for r in ratios)


def _zero_k_crashes(k, h=None):
    h = [0.0] * len(k) if h is None else h
    ratios = [(hi + 1) / (2 * ki) for ki, hi in zip(k, h)]
    return min(ratios), sum(r == min(ratios) for r in ratios)


def _calls_the_library(k, h=None):
    return theory.normal_crossing_lambda(k, h)


def _m_as_float(k, h=None):
    lam, m = ex.solution_learning_coefficient(k, h)
    return lam, float(m)


@pytest.mark.parametrize("wrong", [_max_instead_of_min, _no_multiplicity, _ignores_h, _k_not_2k,
                                   _h_without_plus_one, _zero_k_crashes, _calls_the_library,
                                   _m_as_float])
def test_learning_coefficient_checker_rejects(wrong):
    result = ex.check_learning_coefficient(wrong, quiet=True)
    assert not result, wrong.__name__


def test_learning_coefficient_checker_reports_the_stub():
    def stub(k, h=None):
        raise NotImplementedError
    result = ex.check_learning_coefficient(stub, quiet=True)
    assert not result and "not implemented" in result.message


def test_predicted_slope_checker_passes_the_solution():
    assert ex.check_predicted_slope(ex.solution_predicted_slope, quiet=True)


def _slope_is_lambda(k, eps):
    return ex.solution_learning_coefficient(k)[0]


def _log_power_m(k, eps):
    lam, m = ex.solution_learning_coefficient(k)
    x = np.log(eps)
    return float(np.polyfit(x, lam * x + m * np.log(-x), 1)[0])


def _wrong_sign(k, eps):
    lam, m = ex.solution_learning_coefficient(k)
    x = np.log(eps)
    return float(np.polyfit(x, lam * x - (m - 1) * np.log(-x), 1)[0])


def _midpoint_slope(k, eps):
    lam, m = ex.solution_learning_coefficient(k)
    return lam - (m - 1) / float(np.mean(np.log(1 / np.asarray(eps))))


def _max_lambda(k, eps):
    lam, m = _max_instead_of_min(k)
    x = np.log(eps)
    return float(np.polyfit(x, lam * x + (m - 1) * np.log(-x), 1)[0])


def _fixed_grid(k, eps):  # ignores the levels it is given
    return ex.solution_predicted_slope(k, np.logspace(-12, -2, 21))


@pytest.mark.parametrize("wrong", [_slope_is_lambda, _log_power_m, _wrong_sign, _midpoint_slope,
                                   _max_lambda, _fixed_grid])
def test_predicted_slope_checker_rejects(wrong):
    assert not ex.check_predicted_slope(wrong, quiet=True), wrong.__name__


def test_predicted_slope_is_close_to_the_measured_naive_slope():
    # The leading law predicts most of the bias of the naive fit on the exact volume.
    eps = np.logspace(-12, -2, 21)
    for k in [(1, 1), (2, 2)]:
        lam, _ = normal_crossing_lambda(k)
        measured = volume_exponent_fit(eps, sublevel_volume(k, eps)).exponent
        predicted = ex.solution_predicted_slope(k, eps)
        assert abs(measured - predicted) < abs(measured - lam) / 2, (k, measured, predicted)


def test_plots_draw():
    import matplotlib.pyplot as plt

    from course_lib.slt import theory_plots
    fig = theory_plots.plot_sublevel_sets((1, 2), n_mc=5_000)
    assert len(fig.axes) == 2
    plt.close(fig)
    fig = theory_plots.plot_finite_nbeta_target([(1, 1), (1, 2)], np.logspace(1, 4, 4))
    assert len(fig.axes[0].lines) >= 4
    plt.close(fig)


def test_density_module_names():
    assert set(density.__all__) >= {"sublevel_volume", "sublevel_volume_mc", "volume_exponent_fit"}
