"""course_lib.slt.thermo: reading λ and m from an nβ sweep, on normal crossings with known (λ, m)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from course_lib.slt import thermo
from course_lib.slt.estimator import relaxation_time
from course_lib.slt.known import normal_crossing_problem
from course_lib.slt.theory import normal_crossing_expectation, normal_crossing_lambda

NBETAS = np.logspace(2, 5, 7)


@pytest.mark.parametrize("k", [(1, 2), (1, 3), (1, 1), (2, 2)])
def test_law_reads_lambda_and_m_from_exact_targets(k):
    """On the exact finite-nβ targets (quadrature, 5.1) over nβ ∈ [1e2, 1e5], γ = 1: λ within
    0.025 (measured: (1,2) +0.022, (1,3) +0.016, (1,1) +0.003, (2,2) +0.012) and m to the nearest
    integer (raw m̂: 1.37, 1.27, 2.07, 2.40 — power-law corrections read as extra multiplicity)."""
    lam, m = normal_crossing_lambda(k)
    y = [normal_crossing_expectation(k, t) for t in NBETAS]
    fit = thermo.fit_finite_nbeta_law(NBETAS, y)
    assert abs(fit.llc - lam) < 0.025, fit
    assert fit.m == m, fit
    assert fit.rms < 1e-3


def test_law_recovers_its_own_parameters_and_the_flat_case():
    y = 0.3 - 1.0 / (np.log(NBETAS) + 2.0)
    fit = thermo.fit_finite_nbeta_law(NBETAS, y)
    assert abs(fit.llc - 0.3) < 1e-3 and abs(fit.multiplicity - 2) < 1e-2 and abs(fit.offset - 2) < 0.1
    flat = thermo.fit_finite_nbeta_law(NBETAS, np.full(7, 0.5))
    assert flat.m == 1 and abs(flat.llc - 0.5) < 1e-12


def test_log_evidence_matches_the_exact_integral():
    """For K = w² (λ = ½, m = 1) y(t) = t/(2t + γ), so log Z(t)/Z(t₀) = −½ log((2t + γ)/(2t₀ + γ))."""
    t = np.logspace(0.5, 4, 400)
    y = t / (2 * t + 1.0)
    exact = -0.5 * np.log((2 * t + 1) / (2 * t[0] + 1))
    np.testing.assert_allclose(thermo.log_evidence(t, y), exact, atol=1e-4)


def test_bad_inputs():
    with pytest.raises(ValueError, match="nbetas"):
        thermo.fit_finite_nbeta_law([10, 5, 20], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="nbetas"):
        thermo.fit_finite_nbeta_law([10, 20], [0.1, 0.2])
    with pytest.raises(ValueError, match="y must"):
        thermo.fit_finite_nbeta_law([10, 20, 30], [0.1, np.nan, 0.3])
    with pytest.raises(ValueError, match="se must"):
        thermo.fit_finite_nbeta_law([10, 20, 30], [0.1, 0.2, 0.3], se=[1, 1])
    with pytest.raises(ValueError, match="y must"):
        thermo.log_evidence([10, 20, 30], [0.1, 0.2])


def test_sgld_sweep_on_a_normal_crossing():
    """The device on estimate_llc's chains, w₁²w₂² (λ = ½, m = 2), nβ = 100, 300, 1000, ε = 0.3/nβ:
    readings rise with nβ like the exact targets and sit within 0.12 of them at these settings
    (chains not yet stationary at nβ ≥ 300, plus chain noise, se ≈ 0.02–0.07): too coarse to read m
    from SGLD at a test's budget — a limit stated in the module, asserted here as a bound."""
    p = normal_crossing_problem((1, 1), n=8)
    t = np.array([100.0, 300.0, 1000.0])
    sweep = thermo.nbeta_sweep(p.model, p.loss_fn, p.data, t, epsilon=lambda nb: 0.3 / nb,
                               gamma=1.0, num_chains=6, num_draws=1000, num_burnin=800, seed=0)
    exact = np.array([normal_crossing_expectation((1, 1), nb) for nb in t])
    assert sweep.y.shape == (3,) and len(sweep.runs) == 3 and np.all(sweep.se > 0)
    assert np.all(np.abs(sweep.y - exact) < 0.12), (sweep.y, exact)
    assert sweep.y[-1] > sweep.y[0]


def _quadratic():
    """K(w) = w² (λ = ½, m = 1), n = 8: y(t) = t / (2t + γ) and log Z(t) = −½ log(2t + γ) + c."""
    return normal_crossing_problem((1,), n=8)


def test_relaxed_sweep_reads_the_exact_quadratic_target():
    """On K = w² with γ = 10, nβ = 10, 40, 160: every point relaxed alike (ε fixed below nβ₀,
    ∝ 1/nβ above, burn-in and draws scaled by the relaxation time); the readings, with burn-in
    once and doubled, within 5 % + 3 s.e. of t/(2t + γ) (SGLD's step bias ≈ 4–5 % at
    εa/4 ≈ 0.045; chain s.e. ≈ 5–8 %), rising; log Z − log Z(nβ₀) within 0.05 of −½ log((2t + γ)/(2t₀ + γ))."""
    p, gamma = _quadratic(), 10.0
    rs = thermo.relaxed_nbeta_sweep(p.model, p.loss_fn, p.data, [0.25, 1, 4], nbeta0=40.0,
                                    epsilon=2e-3, gamma=gamma, num_burnin=200, num_draws=1000,
                                    num_chains=8, seed=0)
    t = rs.nbetas
    np.testing.assert_allclose(t, [10, 40, 160])
    np.testing.assert_allclose(rs.epsilons, [2e-3, 2e-3, 5e-4])
    ratio = relaxation_time(5e-4, gamma) / relaxation_time(2e-3, gamma)  # ≈ 4.02
    assert list(rs.burnin) == [200, 200, math.ceil(200 * ratio)]
    assert list(rs.draws) == [1000, 1000, math.ceil(1000 * ratio)]
    assert np.ptp(rs.relaxed) < 0.01 and rs.relaxed.min() > 0.95, rs.relaxed
    exact = t / (2 * t + gamma)
    for reading in (rs.sweep, rs.doubled):
        assert np.all(reading.se > 0) and np.all(reading.se < 0.1 * exact)
        assert np.all(np.abs(reading.y - exact) < 0.05 * exact + 3 * reading.se), (reading, exact)
        assert reading.y[-1] > reading.y[0]
    exact_logz = -0.5 * np.log((2 * t + gamma) / (2 * 40 + gamma))
    assert rs.log_z[1] == 0 and np.all(np.abs(rs.log_z - exact_logz) < 0.05), rs.log_z
    np.testing.assert_allclose(rs.log_z, thermo.log_evidence(t, rs.sweep.y)
                               - thermo.log_evidence(t, rs.sweep.y)[1])
    np.testing.assert_array_equal(rs.log_z, thermo.log_evidence(t, rs.sweep.y, reference=40.0))
    with pytest.raises(ValueError, match="reference"):
        thermo.log_evidence(t, rs.sweep.y, reference=41.0)
    assert rs.fit.llc == thermo.fit_finite_nbeta_law(t, rs.sweep.y, rs.sweep.se).llc


def test_relaxed_sweep_reads_a_normal_crossing_with_m_2_where_the_law_holds():
    """The readings' level, not m: three points cannot test the three-parameter law, and the errors
    exceed the rise over this window that carries m (0.036); 5.4 says so.

    The known answer with m > 1: w₁²w₂² (λ = ½, m = 2) at γ = 1, nβ = 100, 300, 1000, where the
    localisation is weak enough for the finite-nβ law (on the exact targets it reads λ 0.508,
    m̂ 2.15 → 2). The relaxed device, kink-free (ε·nβ = 0.3 at every point) and relaxed alike
    (fraction ≥ 0.95), reads each exact target within 0.03 + 3 s.e. (s.e. 0.01–0.05 with 6 chains),
    with the burn-in once and doubled. At γ = 100 the same law misreads the exact targets
    themselves (λ 0.78, m̂ 14 over nβ 10²…10⁴): the law needs negligible localisation."""
    p, gamma = normal_crossing_problem((1, 1), n=8), 1.0
    exact_fit = {g: thermo.fit_finite_nbeta_law(
        NBETAS[:5], [normal_crossing_expectation((1, 1), t, g) for t in NBETAS[:5]])
        for g in (1.0, 100.0)}
    assert abs(exact_fit[1.0].llc - 0.5) < 0.01 and exact_fit[1.0].m == 2, exact_fit
    assert exact_fit[100.0].llc > 0.7 and exact_fit[100.0].m > 10, exact_fit
    rs = thermo.relaxed_nbeta_sweep(p.model, p.loss_fn, p.data, [1, 3, 10], nbeta0=100.0,
                                    epsilon=3e-3, gamma=gamma, num_burnin=700, num_draws=1200,
                                    num_chains=6, seed=0, step_rule="inverse")
    t = rs.nbetas
    np.testing.assert_allclose(rs.epsilons * t, 0.3)
    assert rs.relaxed.min() >= 0.95, rs.relaxed
    law = thermo.fit_finite_nbeta_law(t, [normal_crossing_expectation((1, 1), x) for x in t])
    assert abs(law.llc - 0.5) < 0.01 and law.m == 2, law
    exact = np.array([normal_crossing_expectation((1, 1), x, gamma) for x in t])
    for reading in (rs.sweep, rs.doubled):
        assert np.all(reading.se < 0.06), reading.se
        assert np.all(np.abs(reading.y - exact) < 0.03 + 3 * reading.se), (reading.y, exact)


def test_inverse_step_rule_holds_the_step_product_fixed():
    """step_rule="inverse": ε·nβ the same at every nβ (no kink at nβ₀), burn-in and draws scaled
    by the relaxation time at every point (fewer steps below nβ₀, where the step is larger); an
    unknown rule, or a lowest step that makes εγ ≥ 4, is refused."""
    p = _quadratic()
    rs = thermo.relaxed_nbeta_sweep(p.model, p.loss_fn, p.data, [0.5, 1, 2], nbeta0=20.0,
                                    epsilon=2e-3, gamma=10.0, num_burnin=50, num_draws=100,
                                    num_chains=2, seed=1, step_rule="inverse")
    np.testing.assert_allclose(rs.epsilons, [4e-3, 2e-3, 1e-3])
    ratio = [relaxation_time(e, 10.0) / relaxation_time(2e-3, 10.0) for e in rs.epsilons]
    assert list(rs.burnin) == [math.ceil(50 * r - 1e-9) for r in ratio]
    assert rs.burnin[0] < 50 < rs.burnin[2] and rs.draws[1] == 100
    assert np.ptp(rs.relaxed) < 5e-3, rs.relaxed  # rounding of 25–101 steps
    capped = thermo.relaxed_nbeta_sweep(p.model, p.loss_fn, p.data, [0.5, 1, 2], nbeta0=20.0,
                                        epsilon=2e-3, gamma=10.0, num_burnin=50, num_draws=100,
                                        num_chains=2, seed=1)
    np.testing.assert_allclose(capped.epsilons, [2e-3, 2e-3, 1e-3])
    assert rs.sweep.y[1] == capped.sweep.y[1] and rs.sweep.y[2] == capped.sweep.y[2]
    kw = dict(nbeta0=20.0, gamma=10.0, num_burnin=5, num_draws=5)
    with pytest.raises(ValueError, match="step_rule"):
        thermo.relaxed_nbeta_sweep(p.model, p.loss_fn, p.data, [0.5, 1, 2], epsilon=2e-3,
                                   step_rule="linear", **kw)
    with pytest.raises(ValueError, match="unstable"):  # 0.3 / 0.5 · 10 = 6 ≥ 4
        thermo.relaxed_nbeta_sweep(p.model, p.loss_fn, p.data, [0.5, 1, 2], epsilon=0.3,
                                   step_rule="inverse", **kw)


def test_relaxed_sweep_point_at_nbeta0_is_estimate_llc():
    """The sweep's point at nβ₀ is estimate_llc at nβ₀ with the base ε, burn-in and draws: the
    extra steps that score the doubled burn-in come after the draws read."""
    from course_lib.slt.estimator import estimate_llc

    p = _quadratic()
    rs = thermo.relaxed_nbeta_sweep(p.model, p.loss_fn, p.data, [0.5, 1, 2], nbeta0=20.0,
                                    epsilon=2e-3, gamma=10.0, num_burnin=50, num_draws=100,
                                    num_chains=3, seed=1)
    one = estimate_llc(p.model, p.loss_fn, p.data, epsilon=2e-3, nbeta=20.0, gamma=10.0,
                       num_burnin=50, num_draws=100, num_chains=3, seed=1)
    assert rs.sweep.y[1] == pytest.approx(one.mean, rel=1e-12)
    assert rs.sweep.runs[1].num_burnin == 50 and rs.doubled.runs[1].num_burnin == 100


def test_relaxed_sweep_rejects_bad_settings():
    p = _quadratic()
    kw = dict(nbeta0=20.0, epsilon=2e-3, gamma=10.0, num_burnin=5, num_draws=5)
    with pytest.raises(ValueError, match="include 1"):
        thermo.relaxed_nbeta_sweep(p.model, p.loss_fn, p.data, [0.5, 2, 4], **kw)
    with pytest.raises(ValueError, match="increasing"):
        thermo.relaxed_nbeta_sweep(p.model, p.loss_fn, p.data, [2, 1, 0.5], **kw)
    with pytest.raises(ValueError, match="unstable"):
        thermo.relaxed_nbeta_sweep(p.model, p.loss_fn, p.data, [0.5, 1, 2],
                                   **{**kw, "epsilon": 0.5})
    with pytest.raises(ValueError, match="num_burnin"):
        thermo.relaxed_nbeta_sweep(p.model, p.loss_fn, p.data, [0.5, 1, 2],
                                   **{**kw, "num_burnin": 0})
    with pytest.raises(ValueError, match="nbetas"):  # nβ₀ × 0.01 ≤ 1
        thermo.relaxed_nbeta_sweep(p.model, p.loss_fn, p.data, [0.01, 1, 2], **kw)


def _recorded_network():
    """The quick seed-0 grokking network at its final step, and how its L(w*) compares with the
    record's: "exact" (equal to 1e-9 relative: this CPU trains the recorded network bit for bit),
    "close" (within 1e-3: another CPU kind, near the same network) — else the test skips."""
    from course_lib.slt.course_models import grokking_run
    from course_lib.slt.estimator import FlatLoss, full_data_loss

    rec = thermo.GROKKING_SWEEP_RECORD
    run = grokking_run(rec["seed"], "quick", progress=False)
    model = run.model_at(run.final_step)
    loss = FlatLoss(model, run.loss_fn, [n for n, _ in model.named_parameters()])
    init = full_data_loss(loss, loss.w_star, tuple(run.data), None)
    if math.isclose(init, rec["init_loss"], rel_tol=1e-9):
        return run, model, "exact"
    if math.isclose(init, rec["init_loss"], rel_tol=1e-3):
        return run, model, "close"
    pytest.skip(f"not the recorded network (L(w*) = {init:.6g}): CPU numerics")


def _matches(got, want, se, how):
    """Equal to 1e-9 relative on the recorded network; within 2 s.e. on a near one."""
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    if how == "exact":
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=0)
    else:
        assert np.all(np.abs(got - want) <= 2 * np.asarray(se)), (got, want)


#: The sweeps `make test` re-runs: the kink-free sweep on chain set 0 and the capped one at ε₀ (the
#: curves 5.4 draws first). The other chain sets and 2ε₀ come from the same code with another
#: sampler seed or step; they cost about 7 more CPU minutes and run with COURSE_ALL_RECORDS=1.
CI_SWEEPS = (("inverse", 3.75e-05, 0), ("capped", 0.00015, 0))


@pytest.mark.slow
@pytest.mark.parametrize("key", list(thermo.GROKKING_SWEEP_RECORD["sweeps"]),
                         ids=lambda k: f"{k[0]}-{k[1]:g}-set{k[2]}")
def test_grokking_sweep_record_reproduces(key):
    """Every sweep of :data:`GROKKING_SWEEP_RECORD` (the kink-free one on chain sets 0–2, the
    capped one at ε₀ and 2ε₀), one per test (each at most about 3.5 minutes of CPU on one
    thread, plus training the network on a cold cache): burn-in and draws equal; y, s.e. and
    the doubled-burn-in readings equal to 1e-9 relative where this CPU trains the recorded
    network (its L(w*)), within 2 s.e. where it trains a near one; skipped otherwise. Only
    :data:`CI_SWEEPS` by default (the test command is near CI's time limit)."""
    import os
    if key not in CI_SWEEPS and not os.environ.get("COURSE_ALL_RECORDS"):
        pytest.skip("re-run with COURSE_ALL_RECORDS=1 (same code, another chain set or step)")
    rec = thermo.GROKKING_SWEEP_RECORD
    _, _, how = _recorded_network()
    rule, eps, seed = key
    want = rec["sweeps"][key]
    rs = thermo.grokking_sweep({**thermo.GROKKING_SWEEP_SETTINGS, "step_rule": rule,
                                "epsilon": eps, "sampler_seed": seed,
                                "num_burnin": want["num_burnin"],
                                "num_draws": want["num_draws"]})
    assert rs.nbeta0 == rec["nbeta0"]
    assert list(rs.burnin) == list(want["burnin"]) and list(rs.draws) == list(want["draws"])
    _matches(rs.sweep.y, want["y"], want["se"], how)
    _matches(rs.doubled.y, want["y_doubled"], want["se_doubled"], how)
    if how == "exact":
        _matches(rs.sweep.se, want["se"], None, how)
        _matches(rs.doubled.se, want["se_doubled"], None, how)
    assert np.all(np.abs(rs.relaxed - 0.95) < 0.005), rs.relaxed


@pytest.mark.slow
def test_grokking_step_readings_and_divergence_reproduce():
    """The record's other readings at nβ₀ (ε₀/2, relaxed alike; about 10 s of CPU) as above, and
    the chains at ε = 3e-4 held fixed diverge at 4 nβ₀."""
    from course_lib.slt.estimator import ChainDivergedError, estimate_llc

    rec = thermo.GROKKING_SWEEP_RECORD
    run, model, how = _recorded_network()
    s = thermo.GROKKING_SWEEP_SETTINGS
    common = dict(gamma=s["gamma"], batch_size=s["batch_size"], num_chains=s["num_chains"])
    for eps, want in rec["at_nbeta0"].items():
        r = estimate_llc(model, run.loss_fn, run.data, epsilon=eps, nbeta=rec["nbeta0"],
                         num_burnin=want["num_burnin"], num_draws=want["num_draws"],
                         seed=want["sampler_seed"], **common)
        _matches([r.mean], [want["y"]], [want["se"]], how)
    div = rec["diverged"]
    with pytest.raises(ChainDivergedError):
        estimate_llc(model, run.loss_fn, run.data, epsilon=div["epsilon"],
                     nbeta=rec["nbeta0"] * div["multiple"], num_burnin=60, num_draws=100,
                     seed=0, **common)
