"""course_lib.slt.estimator / calibration / known: the SGLD LLC estimator against exact answers."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from course_lib.slt import calibration, known, theory
from course_lib.slt.estimator import ChainDivergedError, default_nbeta, estimate_llc


class TwoGroups(nn.Module):
    """Loss Σa² + Σb² (no data dependence): regular in every coordinate.  Under
    p ∝ exp(−nβK − γ‖w‖²/2) each coordinate is Gaussian with E[nβ w²] = nβ / (2nβ + γ)."""

    def __init__(self, da: int = 2, db: int = 3) -> None:
        super().__init__()
        self.a = nn.Parameter(torch.zeros(da, dtype=torch.float64))
        self.b = nn.Parameter(torch.zeros(db, dtype=torch.float64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.a ** 2).sum() + (self.b ** 2).sum() + 0.0 * x.sum()


def quadratic_loss(model: nn.Module, batch: tuple) -> torch.Tensor:
    return model(batch[0])


DUMMY = (torch.zeros(50, 1, dtype=torch.float64),)


def regular_target(d: int, nbeta: float, gamma: float, epsilon: float) -> float:
    """d · nβ E[w²] for SGLD's *discrete* stationary law of a quadratic: the chain w ← (1 − εa/2)w
    + √ε ξ with a = 2nβ + γ has variance ε / (1 − (1 − εa/2)²), not 1/a."""
    a = 2 * nbeta + gamma
    variance = epsilon / (1 - (1 - epsilon * a / 2) ** 2)
    return d * nbeta * variance


def mlp_problem(seed: int = 0):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 2)).double()
    x = torch.randn(400, 3, dtype=torch.float64)
    with torch.no_grad():
        y = model(x) + 0.1 * torch.randn(400, 2, dtype=torch.float64)
    return model, known.squared_error, (x, y)


def test_regular_model_matches_the_discrete_gaussian_exactly_within_noise():
    model = TwoGroups()
    r = estimate_llc(model, quadratic_loss, DUMMY, epsilon=2e-3, nbeta=100.0, gamma=1.0,
                     num_chains=16, num_draws=2000, num_burnin=200, seed=1)
    target = regular_target(5, 100.0, 1.0, 2e-3)
    assert abs(r.mean - target) < 4 * r.sem, (r.mean, target, r.sem)
    # and the continuous-time answer d/2 · 2nβ/(2nβ + γ) is close: the ε bias is visible but small
    assert abs(target - 5 * 100 / 201) / target < 0.15


def test_weight_refined_llc_samples_only_the_named_group():
    model = TwoGroups(da=2, db=3)
    r = estimate_llc(model, quadratic_loss, DUMMY, epsilon=2e-3, nbeta=100.0, gamma=1.0,
                     num_chains=16, num_draws=2000, num_burnin=200, seed=2, params=["b"])
    assert r.num_params == 3
    target = regular_target(3, 100.0, 1.0, 2e-3)
    assert abs(r.mean - target) < 4 * r.sem, (r.mean, target)
    assert torch.all(model.a == 0) and torch.all(model.b == 0), "the model must not be modified"


@pytest.mark.parametrize("k", [(1, 2), (1, 1)])
def test_normal_crossing_matches_the_quadrature_target(k):
    """The estimator targets nβ E[K] at finite nβ and γ, computed exactly by quadrature."""
    p = known.normal_crossing_problem(k, n=1000)
    gamma = 5.0
    r = estimate_llc(p.model, p.loss_fn, p.data, epsilon=5e-4, gamma=gamma, num_chains=16,
                     num_draws=3000, num_burnin=1000, seed=0)
    target = theory.normal_crossing_expectation(k, r.nbeta, gamma)
    assert abs(r.mean - target) < 3.5 * r.sem, (r.mean, r.sem, target)
    # the finite-nβ target is not λ: the test would be wrong against λ itself
    lam, _ = theory.normal_crossing_lambda(list(k))
    assert target < lam


def test_vectorised_and_sequential_chains_agree_with_minibatches():
    model, loss_fn, data = mlp_problem()
    kwargs = dict(epsilon=1e-4, num_chains=3, num_draws=60, num_burnin=20, batch_size=50, seed=3)
    fast = estimate_llc(model, loss_fn, data, vectorize=True, **kwargs)
    slow = estimate_llc(model, loss_fn, data, vectorize=False, **kwargs)
    np.testing.assert_allclose(fast.per_chain, slow.per_chain, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(fast.loss_trace, slow.loss_trace, rtol=1e-8, atol=1e-12)
    assert fast.loss_trace.shape == (3, 60) and fast.burnin_trace.shape == (3, 20)


class _TiedAutoencoder(nn.Module):
    """Decoder weight = encoder weight transposed: one parameter used twice."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Linear(3, 2, bias=False)
        self.decoder = nn.Linear(2, 3, bias=False)
        self.decoder.weight = self.encoder.weight  # tied (shape (2, 3) used as (3, 2)ᵀ below)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x) @ self.decoder.weight


def test_tied_weights_are_swapped_everywhere_they_are_used():
    from course_lib.slt.estimator import FlatLoss

    torch.manual_seed(0)
    model, x = _TiedAutoencoder(), torch.randn(50, 3)
    loss_fn = lambda m, batch: ((m(batch[0]) - batch[0]) ** 2).mean()  # noqa: E731
    flat = FlatLoss(model, loss_fn, ["encoder.weight"])
    assert flat.tied and flat.w_star.numel() == 6
    moved = flat.w_star + 0.1
    with torch.no_grad():
        model.encoder.weight.add_(0.1)              # moves both uses, as the flat vector must
        expected = loss_fn(model, (x,))
    assert float(flat(moved, (x,))) == pytest.approx(float(expected), rel=1e-6)
    untied = FlatLoss(nn.Linear(3, 3), loss_fn, ["weight", "bias"])
    assert not untied.tied


def test_burnin_is_not_averaged_and_the_baseline_is_the_full_data_loss():
    model, loss_fn, data = mlp_problem()
    r = estimate_llc(model, loss_fn, data, epsilon=1e-4, num_chains=2, num_draws=30,
                     num_burnin=10, batch_size=40, seed=0)
    with torch.no_grad():
        full = float(loss_fn(model, data))
    assert r.init_loss == pytest.approx(full, rel=1e-12)
    np.testing.assert_allclose(r.per_chain, r.nbeta * (r.loss_trace.mean(axis=1) - full))
    assert r.nbeta == pytest.approx(400 / math.log(400))
    assert r.mean == pytest.approx(r.per_chain.mean())
    assert r.std == pytest.approx(r.per_chain.std(ddof=1))
    # full batch, no burn-in: the first recorded loss is the loss at w* itself
    r0 = estimate_llc(model, loss_fn, data, epsilon=1e-4, num_chains=2, num_draws=5,
                      num_burnin=0, seed=0)
    np.testing.assert_allclose(r0.loss_trace[:, 0], full, rtol=1e-12)
    assert r0.llc_trace().shape == (2, 5)


def test_seed_makes_runs_repeatable_and_distinct():
    model, loss_fn, data = mlp_problem()
    kwargs = dict(epsilon=1e-4, num_chains=2, num_draws=20, num_burnin=5, batch_size=40)
    a = estimate_llc(model, loss_fn, data, seed=5, **kwargs)
    b = estimate_llc(model, loss_fn, data, seed=5, **kwargs)
    c = estimate_llc(model, loss_fn, data, seed=6, **kwargs)
    np.testing.assert_array_equal(a.loss_trace, b.loss_trace)
    assert not np.allclose(a.loss_trace, c.loss_trace)


def test_a_diverging_chain_raises_with_advice_on_epsilon():
    p = known.normal_crossing_problem((1, 2))
    with pytest.raises(ChainDivergedError, match=r"epsilon=.*calibrate_epsilon"):
        estimate_llc(p.model, p.loss_fn, p.data, epsilon=0.5, num_chains=4, num_draws=200,
                     num_burnin=50, check_every=10)


def test_a_loss_that_is_not_finite_at_w_star_is_rejected():
    model, _, data = mlp_problem()

    def broken(m, batch):
        return known.squared_error(m, batch) * float("nan")

    with pytest.raises(ValueError, match="not finite at w"):
        estimate_llc(model, broken, data, epsilon=1e-4, num_draws=5, num_burnin=0)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(epsilon=0.0), ValueError, "epsilon"),
    (dict(epsilon=-1e-3), ValueError, "epsilon"),
    (dict(epsilon=float("nan")), ValueError, "epsilon"),
    (dict(epsilon="big"), TypeError, "epsilon"),
    (dict(epsilon=1e-4, nbeta=0.0), ValueError, "nbeta"),
    (dict(epsilon=1e-4, gamma=-1.0), ValueError, "gamma"),
    (dict(epsilon=1e-4, num_chains=0), ValueError, "num_chains"),
    (dict(epsilon=1e-4, num_draws=0), ValueError, "num_draws"),
    (dict(epsilon=1e-4, num_burnin=-1), ValueError, "num_burnin"),
    (dict(epsilon=1e-4, batch_size=401), ValueError, "batch_size"),
    (dict(epsilon=1e-4, batch_size=0), ValueError, "batch_size"),
    (dict(epsilon=1e-4, params=["nope"]), ValueError, "params"),
    (dict(epsilon=1e-4, params=[]), ValueError, "params"),
])
def test_bad_settings_are_rejected_by_name(kwargs, error, match):
    model, loss_fn, data = mlp_problem()
    with pytest.raises(error, match=match):
        estimate_llc(model, loss_fn, data, **kwargs)


def test_bad_data_is_rejected():
    model, loss_fn, (x, y) = mlp_problem()
    with pytest.raises(ValueError, match="share dim 0"):
        estimate_llc(model, loss_fn, (x, y[:10]), epsilon=1e-4)
    with pytest.raises(ValueError, match="empty"):
        estimate_llc(model, loss_fn, (x[:0], y[:0]), epsilon=1e-4)
    with pytest.raises(TypeError, match="tensors"):
        estimate_llc(model, loss_fn, (x, y.numpy()), epsilon=1e-4)
    with pytest.raises(TypeError, match="model"):
        estimate_llc("model", loss_fn, (x, y), epsilon=1e-4)
    with pytest.raises(TypeError, match="loss_fn"):
        estimate_llc(model, None, (x, y), epsilon=1e-4)
    with pytest.raises(ValueError, match="n"):
        default_nbeta(1)


def test_known_problems_are_at_an_exact_minimum_with_the_theory_answer():
    for p in known.known_problems():
        with torch.no_grad():
            assert float(p.loss_fn(p.model, p.data)) < 1e-10, p.name
    rrr = known.reduced_rank_problem(3, 2, 3, 1)
    assert (rrr.llc, rrr.multiplicity) == theory.rrr_lambda(3, 2, 3, 1)
    dln = known.deep_linear_problem([4, 3, 3, 4], 1)
    product = dln.model.layers[2].weight @ dln.model.layers[1].weight @ dln.model.layers[0].weight
    assert torch.linalg.matrix_rank(product) == 1
    for layer in dln.model.layers:  # balanced: every layer rank 1 with the same singular value
        s = torch.linalg.svdvals(layer.weight.detach())
        assert s[0] == pytest.approx(1.0, abs=1e-5) and float(s[1]) < 1e-5
    with pytest.raises(ValueError, match="r must be"):
        known.deep_linear_problem([3, 2, 3], 3)
    with pytest.raises(ValueError, match="k must"):
        known.normal_crossing_problem(())


# ------------------------------------------------------------------------------- calibration

def _point(eps, mean, sem, status="stable"):
    class Fake:
        pass
    fake = Fake()
    fake.mean, fake.sem = mean, sem
    return calibration.SweepPoint(eps, 100.0, 1.0, None if status == "diverged" else fake,
                                  0.0, 0.1, status)


def test_find_plateau_picks_the_longest_agreeing_stable_run():
    points = [_point(1e-5, 1.0, 0.05, "drifting"), _point(3e-5, 2.0, 0.05), _point(1e-4, 2.05, 0.05),
              _point(3e-4, 2.1, 0.05), _point(1e-3, 3.0, 0.05), _point(3e-3, 0, 0, "diverged")]
    assert calibration.find_plateau(points) == [1, 2, 3]
    # no two neighbours agree: no plateau
    rising = [_point(10.0 ** -k, 10.0 / k, 0.01) for k in range(6, 2, -1)]
    assert calibration.find_plateau(rising) == []
    # a single stable point is not a plateau
    assert calibration.find_plateau([_point(1e-4, 1.0, 0.1), _point(1e-3, 0, 0, "diverged")]) == []


def test_calibration_finds_the_regular_models_plateau_and_records_divergence():
    model = TwoGroups(da=1, db=1)
    result = calibration.calibrate_epsilon(
        model, quadratic_loss, DUMMY, epsilons=[1e-4, 3e-4, 1e-3, 3e-3, 0.2], nbeta=20.0,
        gamma=1.0, num_chains=16, num_draws=3000, num_burnin=300, seed=2, check_every=50)
    statuses = [p.status for p in result.points]
    assert statuses[-1] == "diverged", statuses  # |1 − εa/2| = |1 − 0.2 · 41/2| > 1: unstable
    assert result.recommended is not None and result.plateau
    assert 1e-4 <= result.recommended <= 3e-3
    truth = 2 * 20 / 41  # continuous-time answer: the plateau sits on it within a few %
    assert abs(result.plateau_value - truth) / truth < 0.15
    assert "recommended" in result.table()
    with pytest.raises(ValueError, match="epsilons"):
        calibration.calibrate_epsilon(model, quadratic_loss, DUMMY, epsilons=[1e-3])


# --------------------------------------------------------------------------------- devinterp

def test_devinterp_agrees_on_the_same_model_data_and_settings():
    pytest.importorskip("devinterp", reason="devinterp comes with the test extra")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from devinterp_bridge import devinterp_llc, per_sample_squared_error

    p = known.normal_crossing_problem((1, 2), n=500)
    settings = dict(epsilon=1e-3, nbeta=default_nbeta(500), gamma=5.0, num_chains=8,
                    num_draws=1500, num_burnin=300)
    theirs = devinterp_llc(p.model, per_sample_squared_error, p.data, batch_size=500,
                           **settings)
    ours = estimate_llc(p.model, p.loss_fn, p.data, **settings)
    combined = math.hypot(ours.sem, theirs.std / math.sqrt(8))
    assert abs(ours.mean - theirs.mean) < 3.5 * combined, (ours.mean, theirs.mean, combined)
    target = theory.normal_crossing_expectation((1, 2), settings["nbeta"], 5.0)
    assert abs(theirs.mean - target) < 3.5 * theirs.std / math.sqrt(8)


# ------------------------------------------------------------- stability edge and divergence

@pytest.mark.parametrize("x", [2.0, 2.8, 3.9])
def test_regular_model_is_stable_up_to_eps_a_four_and_matches_the_inflation(x):
    """One step multiplies w by 1 − εa/2: stable for εa < 4, variance inflated by 1/(1 − εa/4)."""
    p = known.normal_crossing_problem((1,), n=1000)
    nbeta, gamma = default_nbeta(p.n), 5.0
    a = 2 * nbeta + gamma
    r = estimate_llc(p.model, p.loss_fn, p.data, epsilon=x / a, gamma=gamma, num_chains=8,
                     num_draws=1500, num_burnin=200, seed=2)
    want = nbeta / a / (1 - x / 4)
    assert abs(r.mean - want) < 4 * r.sem + 0.02 * want, (x, r.mean, want, r.sem)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_a_finite_but_exploding_chain_raises_whatever_the_dtype(dtype):
    """At εa = 4.1 float64 grows for a thousand steps without reaching inf (once: λ̂ ≈ 6e189)."""
    p = known.normal_crossing_problem((1,), n=1000)
    model = p.model.to(dtype)
    data = tuple(t.to(dtype) for t in p.data)
    a = 2 * default_nbeta(p.n) + 5.0
    with pytest.raises(ChainDivergedError, match=r"far beyond .*epsilon="):
        estimate_llc(model, p.loss_fn, data, epsilon=4.1 / a, gamma=5.0, num_chains=4,
                     num_draws=1000, num_burnin=200, seed=0)


def test_divergence_radius_leaves_room_for_every_stationary_chain():
    from course_lib.slt.estimator import divergence_radius2, relaxation_time
    w_star = torch.zeros(3, dtype=torch.float64)
    # a coordinate held only by γ = 1 has variance ≈ 1: the limit is far above it
    assert divergence_radius2(w_star, epsilon=1e-3, gamma=1.0, steps=10**6) > 1e3 * 3
    # without localisation a random walk spreads like ε·steps
    assert divergence_radius2(w_star, epsilon=1e-3, gamma=0.0, steps=1000) >= 1e3 * 3
    assert relaxation_time(1e-3, 5.0) == pytest.approx(2 / (1e-3 * 5), rel=2e-3)
    assert math.isinf(relaxation_time(1e-3, 0.0)) and math.isinf(relaxation_time(1.0, 4.0))


def test_rmsprop_preconditioner_runs_and_matches_a_hand_computed_step():
    p = known.normal_crossing_problem((1,), n=100)
    r = estimate_llc(p.model, p.loss_fn, p.data, epsilon=1e-4, gamma=5.0, num_chains=4,
                     num_draws=200, num_burnin=50, seed=0, preconditioner="rmsprop")
    assert np.isfinite(r.mean) and r.settings["preconditioner"] == "rmsprop"
    with pytest.raises(ValueError, match="preconditioner"):
        estimate_llc(p.model, p.loss_fn, p.data, epsilon=1e-4, preconditioner="adam")
    # on K = w² with V ≈ 0 the first step's noise has variance ε / eps_rms: 10× plain SGLD's
    one = estimate_llc(p.model, p.loss_fn, p.data, epsilon=1e-4, gamma=0.0, num_chains=2000,
                       num_draws=2, num_burnin=0, seed=3, preconditioner="rmsprop")
    plain = estimate_llc(p.model, p.loss_fn, p.data, epsilon=1e-4, gamma=0.0, num_chains=2000,
                         num_draws=2, num_burnin=0, seed=3)
    ratio = one.loss_trace[:, 1].mean() / plain.loss_trace[:, 1].mean()
    assert 8 < ratio < 12, ratio


def test_mala_is_exact_on_a_regular_model_where_sgld_is_not():
    from course_lib.slt.mala import mala_llc
    model = TwoGroups()
    eps = 8e-3   # εa ≈ 1.6: SGLD inflated by 1/(1 − 0.4) ≈ 1.67
    exact = 5 * 100 / 201
    m = mala_llc(model, quadratic_loss, DUMMY, epsilon=eps, nbeta=100.0, gamma=1.0,
                 num_chains=16, num_draws=1500, num_burnin=200, seed=1)
    assert 0.2 < m.settings["acceptance"] < 1
    assert abs(m.mean - exact) < 4 * m.sem + 0.03 * exact, (m.mean, exact, m.sem)
    s = estimate_llc(model, quadratic_loss, DUMMY, epsilon=eps, nbeta=100.0, gamma=1.0,
                     num_chains=16, num_draws=1500, num_burnin=200, seed=1)
    assert s.mean > 1.4 * exact


def test_after_rescores_a_long_run_with_a_longer_burnin():
    p = known.normal_crossing_problem((1, 2), n=200)
    r = estimate_llc(p.model, p.loss_fn, p.data, epsilon=1e-3, gamma=5.0, num_chains=3,
                     num_draws=300, num_burnin=0, seed=0)
    s = r.after(100, 150)
    assert s.num_burnin == 100 and s.num_draws == 150
    np.testing.assert_allclose(s.per_chain, r.nbeta * (r.loss_trace[:, 100:250].mean(1)
                                                       - r.init_loss))
    with pytest.raises(ValueError):
        r.after(200, 150)


def test_a_rising_sweep_gets_no_recommendation_even_if_neighbours_agree():
    # wide error bars make neighbours "agree", but a log-slope of 0.3 is not flat
    points = [_point(e, 3.0 * (e / 1e-4) ** 0.3, 0.5) for e in (1e-4, 3e-4, 1e-3)]
    assert calibration.find_plateau(points)                  # they agree within noise ...
    slope, se = calibration.log_slope(points)
    assert slope == pytest.approx(0.3, abs=1e-9)
    assert abs(slope) + 2 * se > calibration.SLOPE_MAX      # ... but are not shown flat


def test_operating_point_rule_uses_only_the_hessian_and_the_budget():
    eig = np.array([0.0, 0.0, 1.0, 1.94])
    nbeta = 482.27
    op = calibration.operating_point(eig, nbeta=nbeta, num_burnin=300,
                                     epsilons=[1e-4, 3e-4, 1e-3], gammas=[1.0, 10.0, 100.0])
    assert (op.epsilon, op.gamma) == (1e-4, 100.0)
    # with a long burn-in a weaker localisation relaxes in time and is preferred
    op = calibration.operating_point(eig, nbeta=nbeta, num_burnin=5000,
                                     epsilons=[1e-4, 3e-4, 1e-3], gammas=[1.0, 10.0, 100.0])
    assert op.gamma == 10.0
    assert calibration.operating_point(eig, nbeta=nbeta, num_burnin=10, epsilons=[1e-4],
                                       gammas=[1.0]) is None
    # the Hessian part of the inflation: 1/2 per stiff direction × (1/(1 − εa/4) − 1)
    bias = calibration.hessian_inflation(np.array([0.0, 2.0]), epsilon=1e-3, nbeta=100.0,
                                         gamma=0.0)
    assert bias == pytest.approx(0.5 * (1 / (1 - 1e-3 * 200 / 4) - 1))


def test_eps_gamma_sweep_separates_the_minibatch_noise_where_asked():
    problem = known.reduced_rank_problem(3, 2, 3, 1)
    chains = dict(num_chains=2, num_draws=20, num_burnin=10)
    sweep = calibration.eps_gamma_sweep(problem, epsilons=[1e-4, 1e-3], gammas=[1.0, 100.0],
                                        sgld=chains, mala=chains, full_batch_at=[(1.0, 1e-3)],
                                        use_cache=False)
    assert sweep.means.shape == sweep.full_means.shape == (2, 2)
    assert np.isfinite(sweep.full_means[0, 1]) and sweep.full_sems[0, 1] > 0
    others = np.ones((2, 2), dtype=bool)
    others[0, 1] = False
    assert np.isnan(sweep.full_means[others]).all()            # run only where asked
    # the same chains (seed, noise) without minibatches: not the minibatch run's number
    assert sweep.full_means[0, 1] != sweep.means[0, 1]
    table = sweep.table()
    assert "full batch λ̂" in table.columns and table["full batch λ̂"].notna().sum() == 1
    assert sweep.quadratic.shape == (2,) and sweep.quadratic[0] > sweep.quadratic[1] > 0
    with pytest.raises(ValueError, match="full_batch_at"):
        calibration.eps_gamma_sweep(problem, epsilons=[1e-4], gammas=[1.0], sgld=chains, mala=chains,
                                    full_batch_at=[(10.0, 1e-4)], use_cache=False)


def test_relaxed_fraction_is_the_window_average_of_the_variance_shortfall():
    from course_lib.slt.estimator import relaxed_fraction
    eps, gamma, b, d = 5e-4, 5.0, 300, 200
    rho2 = (1 - eps * gamma / 2) ** 2
    by_hand = np.mean([1 - rho2 ** t for t in range(b, b + d)])
    assert relaxed_fraction(b, d, eps, gamma) == pytest.approx(by_hand, rel=1e-12)
    assert relaxed_fraction(0, 1, eps, gamma) == 0.0               # the first draw is w* itself
    assert relaxed_fraction(10 ** 6, 10, eps, gamma) == pytest.approx(1.0)
    assert relaxed_fraction(100, 10, eps, 0.0) == 0.0              # nothing pulls: never settles
    with pytest.raises(ValueError, match="num_draws"):
        relaxed_fraction(10, 0, eps, gamma)


def test_quadratic_llc_is_half_per_stiff_direction_shrunk_by_the_localisation():
    eig = np.array([0.0, 1e-12, 2.0, 2.0])
    assert calibration.quadratic_llc(eig, nbeta=100.0, gamma=0.0) == pytest.approx(1.0)   # rank 2 → 2 × 1/2
    assert calibration.quadratic_llc(eig, nbeta=100.0, gamma=200.0) == pytest.approx(2 * 200 / (2 * 400))
    # a regular model's exact answer: K = w² at nβ, γ — nβ E[w²] = nβ/(2nβ + γ)
    assert calibration.quadratic_llc(np.array([2.0]), nbeta=50.0, gamma=5.0) == pytest.approx(50 / 105)
