"""Notebook 5.4's measurements: every per-sample device on its known answer, per profile, cached.

:func:`known_answers` runs, on ``estimate_llc``'s chains (through :mod:`.observables`):

* Gaussian linear regression — the streamed Cov(ℓ_i, ℓ_j) against the exact covariance of SGLD's own
  stationary law, and the Bayesian influence against (n/nβ) × the classical influence function;
* the planted duplicate over seeds — the twin's rank by loss correlation and by the raw BIF (the
  normalisation is the one factor that differs), the same with one copy instead of four (the
  copies are the one factor), and two references: exact leave-one-out retraining (the ground
  truth for *influence*) and input distance (a trivial baseline for *similarity*);
* the two-task network — its loss kernel against the input kernel, and the susceptibilities of
  each task's own weights (their sign pattern holds by construction);
* the thermodynamic device — 5.1's finite-nβ law fitted to exact targets of five normal crossings
  and over a second window, and one SGLD sweep.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from ..runtime import by_profile, get_profile
from . import influence_known as ik
from . import thermo
from .known import normal_crossing_problem
from .observables import loss_covariance, loss_kernel, susceptibilities
from .theory import normal_crossing_expectation, normal_crossing_lambda

__all__ = ["KnownAnswers", "known_answers", "SETTINGS", "THERMO_KS"]

LOSS, PER = ik.half_squared_error, ik.per_sample_half_squared_error

SETTINGS = {
    "quick": {"regression": {"n": 200, "chains": 8, "draws": 1500},
              "duplicate": {"seeds": 10, "draws": 400},
              "two_task": {"draws": 1500},
              "thermo": {"draws": 800}},
    "standard": {"regression": {"n": 200, "chains": 8, "draws": 6000},
                 "duplicate": {"seeds": 30, "draws": 800},
                 "two_task": {"draws": 4000},
                 "thermo": {"draws": 3000}},
}
SETTINGS["full"] = SETTINGS["standard"]
#: Normal crossings of the thermodynamic device: three with m = 1, two with m = 2; (2, 3) =
#: w₁⁴w₂⁶ has its next pole only 1/12 above λ = 1/6, and the law misreads it.
THERMO_KS = [(1, 2), (1, 3), (1, 1), (2, 2), (2, 3)]
THERMO_NBETAS = np.logspace(2, 5, 7)
#: A second window, a decade lower, for the window dependence of the fit.
THERMO_NBETAS_LOW = np.logspace(1, 4, 7)
THERMO_KS_LOW = [(1, 2), (2, 2)]
SGLD_NBETAS = np.array([100.0, 300.0, 1000.0])


@dataclass
class KnownAnswers:
    profile: str
    # regression
    reg_covariance: np.ndarray
    reg_se: np.ndarray
    reg_sgld_law: np.ndarray
    reg_posterior: np.ndarray
    reg_classical: np.ndarray
    reg_memory: int
    reg_trace: np.ndarray          # (chains, draws) loss trace of the run
    # planted duplicate: rank of the twin per seed (0 = first)
    dup_rank_corr: np.ndarray
    dup_rank_raw: np.ndarray
    dup_distinct: int
    dup_rank_corr1: np.ndarray     # the same problems with one copy instead of four
    dup_rank_raw1: np.ndarray
    dup_rank_loo: np.ndarray       # exact leave-one-out retraining (ground truth for influence)
    dup_rank_dist: np.ndarray      # input distance (baseline for similarity)
    dup_spearman: np.ndarray       # (seeds, 2): Spearman of [correlation, raw BIF] with LOO
    # two tasks
    kernel: np.ndarray
    groups: np.ndarray
    blocks: dict
    input_blocks: dict
    chi: np.ndarray
    chi_se: np.ndarray
    two_task_trace: np.ndarray
    # thermodynamic
    thermo_exact: dict             # k -> y at THERMO_NBETAS
    thermo_fits: dict              # k -> LawFit
    thermo_fits_low: dict          # k -> LawFit over THERMO_NBETAS_LOW
    sgld_y: np.ndarray
    sgld_se: np.ndarray
    sgld_exact: np.ndarray

    @staticmethod
    def rel(a: np.ndarray, b: np.ndarray) -> float:
        """Relative Frobenius error ‖a − b‖ / ‖b‖."""
        return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation (no ties expected: continuous scores)."""
    ra, rb = (np.argsort(np.argsort(v, kind="stable"), kind="stable").astype(float) for v in (a, b))
    return float(np.corrcoef(ra, rb)[0, 1])


def _compute(profile: str) -> KnownAnswers:
    cfg = SETTINGS[profile]
    # --- Gaussian regression
    r = cfg["regression"]
    n = r["n"]
    p = ik.gaussian_regression(n=n, d=3, noise=0.5, seed=1)
    X, y = p.data[0].numpy(), p.data[1].numpy()
    nbeta, gamma = float(n), 1.0
    epsilon = 0.2 / (np.linalg.eigvalsh(nbeta * X.T @ X / n).max() + gamma)
    cov = loss_covariance(p.model, LOSS, PER, p.data, epsilon=epsilon, nbeta=nbeta, gamma=gamma,
                          num_chains=r["chains"], num_draws=r["draws"], num_burnin=300, seed=0)
    sgld_law = ik.regression_loss_covariance(X, y, p.w_star, nbeta=nbeta, gamma=gamma,
                                             epsilon=epsilon)
    posterior = ik.regression_loss_covariance(X, y, p.w_star, nbeta=nbeta, gamma=gamma)
    classical = n / nbeta * ik.classical_influence(X, y, p.w_star)
    # --- planted duplicate
    d = cfg["duplicate"]
    dup = {key: [] for key in ("corr", "raw", "corr1", "raw1", "loo", "dist", "spearman")}
    for seed in range(d["seeds"]):
        problem = ik.planted_duplicate(seed=seed)
        scores = ik.duplicate_scores(problem, draws=d["draws"], seed=seed)
        loo = ik.leave_one_out_query_change(problem)
        dup["corr"].append(ik.rank_of_twin(scores["correlation"], problem))
        dup["raw"].append(ik.rank_of_twin(scores["covariance"], problem))
        dup["loo"].append(ik.rank_of_twin(loo, problem))
        dup["dist"].append(ik.rank_of_twin(ik.input_distance_score(problem), problem))
        first = np.unique(problem.groups, return_index=True)[1]      # one row per distinct example
        dup["spearman"].append([_spearman(scores[by][first], loo[first])
                                for by in ("correlation", "covariance")])
        one = ik.planted_duplicate(copies=1, seed=seed)              # same X, y, twin, query
        ranks1 = ik.duplicate_ranks(one, draws=d["draws"], seed=seed)
        dup["corr1"].append(ranks1["correlation"])
        dup["raw1"].append(ranks1["covariance"])
    # --- two tasks
    t = ik.two_task_problem(per_task=16, d=1, hidden=3, seed=1)
    tcov = loss_covariance(t.model, LOSS, PER, t.data, epsilon=1e-3, nbeta=100.0, gamma=1.0,
                           num_chains=4, num_draws=cfg["two_task"]["draws"], num_burnin=300, seed=0)
    kernel = loss_kernel(tcov)
    input_blocks = ik.loss_kernel_blocks(ik.input_kernel(t.data[0].numpy()), t.groups)
    sus = susceptibilities(t.model, LOSS, PER, t.data, {"task A weights": ["in_a.weight"],
                                                        "task B weights": ["in_b.weight"]},
                           epsilon=1e-3, nbeta=100.0, gamma=1.0, num_chains=4,
                           num_draws=cfg["two_task"]["draws"] // 2, num_burnin=300, seed=1)
    # --- thermodynamic device
    exact = {k: np.array([normal_crossing_expectation(k, nb) for nb in THERMO_NBETAS])
             for k in THERMO_KS}
    fits = {k: thermo.fit_finite_nbeta_law(THERMO_NBETAS, v) for k, v in exact.items()}
    fits_low = {k: thermo.fit_finite_nbeta_law(
        THERMO_NBETAS_LOW, [normal_crossing_expectation(k, nb) for nb in THERMO_NBETAS_LOW])
        for k in THERMO_KS_LOW}
    nc = normal_crossing_problem((1, 1), n=8)
    sweep = thermo.nbeta_sweep(nc.model, nc.loss_fn, nc.data, SGLD_NBETAS,
                               epsilon=lambda nb: 0.3 / nb, gamma=1.0, num_chains=6,
                               num_draws=cfg["thermo"]["draws"], num_burnin=800, seed=0)
    return KnownAnswers(
        profile, cov.covariance, cov.standard_error(), sgld_law, posterior, classical,
        cov.memory_bytes, cov.llc.loss_trace, np.array(dup["corr"]), np.array(dup["raw"]), 30,
        np.array(dup["corr1"]), np.array(dup["raw1"]), np.array(dup["loo"]), np.array(dup["dist"]),
        np.array(dup["spearman"]),
        kernel, t.groups, ik.loss_kernel_blocks(kernel, t.groups), input_blocks, sus.chi,
        sus.standard_error(), tcov.llc.loss_trace, exact, fits, fits_low, sweep.y, sweep.se,
        np.array([normal_crossing_expectation((1, 1), nb) for nb in SGLD_NBETAS]))


def known_answers(profile: Optional[str] = None) -> KnownAnswers:
    """All of notebook 5.4's known-answer measurements for ``profile`` (default: the current one),
    cached (:func:`course_lib.cache.cached`) on the profile's settings."""
    from ..cache import cached
    profile = get_profile() if profile is None else profile
    cfg = by_profile(SETTINGS, profile)
    config = {"profile": profile, "settings": cfg, "version": 5}
    return cached("slt-spectroscopy-known", config, lambda: _compute(profile))


def lambda_of(k: tuple) -> tuple[float, int]:
    """(λ, m) of a normal crossing, for the notebook's tables."""
    return normal_crossing_lambda(k)
