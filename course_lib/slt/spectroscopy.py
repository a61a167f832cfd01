"""Notebook 5.4's measurements: every per-sample device on its known answer, per profile, cached.

:func:`known_answers` runs, on ``estimate_llc``'s chains (through :mod:`.observables`):

* Gaussian linear regression — the streamed Cov(ℓ_i, ℓ_j) against the exact covariance of SGLD's own
  stationary law, and the Bayesian influence against (n/nβ) × the classical influence function;
* the planted duplicate over seeds — the twin's rank by loss correlation and by the raw BIF (the
  normalisation is the one factor that differs), per row and summed over the twin's copies, and
  references: exact
  retraining removing one row or the whole example (the ground truths for *influence*), input
  distance (a trivial baseline for *similarity*); and every ranking in closed form (infinite
  draws, with the classical influence function) over ``DUP_EXACT_SEEDS`` seeds, and the same
  problems with one copy instead of four (the copies are the one factor);
* the regression check again at a coarse step, where SGLD's law and the posterior differ;
* the two-task network (both tasks on the same inputs, a task bit picks the output head) — its
  loss kernel against the input kernel, which cannot show the tasks, and the susceptibilities of
  each task's own head (their sign pattern holds by construction);
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

__all__ = ["KnownAnswers", "known_answers", "two_task_input_blocks", "SETTINGS", "THERMO_KS",
           "REG_STEPS",
           "DUP_EXACT_SEEDS", "DUP_EXACT_KEYS"]

LOSS, PER = ik.half_squared_error, ik.per_sample_half_squared_error

SETTINGS = {
    "quick": {"regression": {"n": 200, "chains": 8, "draws": 1500,
                             "coarse_chains": 4, "coarse_draws": 600},
              "duplicate": {"seeds": 10, "draws": 400},
              "two_task": {"draws": 1500},
              "thermo": {"draws": 800}},
    "standard": {"regression": {"n": 200, "chains": 8, "draws": 6000,
                                "coarse_chains": 8, "coarse_draws": 1500},
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
#: Step sizes of the regression check, as ε·λ_max: the notebook's, and a coarse arm where SGLD's
#: stationary law is far (≈ 30 %) from the posterior, so the check can tell the two apart.
REG_STEPS = (0.2, 1.0)
#: Seeds of the planted duplicate's closed-form rankings (no chains: cheap, every profile).
DUP_EXACT_SEEDS = 300
#: The closed-form rankings of the planted duplicate (keys of ``KnownAnswers.dup_exact``).
DUP_EXACT_KEYS = ("correlation", "raw BIF", "raw BIF, example", "BIF linear term",
                  "classical IF", "classical IF, example", "retraining, row",
                  "retraining, example", "input distance", "correlation, one copy",
                  "raw BIF, one copy", "retraining, one copy")


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
    # the same check at ε·λ_max = REG_STEPS[1], where SGLD's law is far from the posterior
    reg_coarse_covariance: np.ndarray
    reg_coarse_se: np.ndarray
    reg_coarse_sgld_law: np.ndarray
    # planted duplicate: rank of the twin per seed (0 = first)
    dup_rank_corr: np.ndarray
    dup_rank_raw: np.ndarray
    dup_distinct: int
    dup_rank_loo: np.ndarray       # exact leave-one-out retraining (ground truth for influence)
    dup_rank_dist: np.ndarray      # input distance (baseline for similarity)
    dup_spearman: np.ndarray       # (seeds, 2): Spearman of [correlation, raw BIF] with LOO
    dup_rank_raw_example: np.ndarray   # chains' raw BIF summed over the twin's copies
    dup_exact: dict                # DUP_EXACT_KEYS -> twin's rank over DUP_EXACT_SEEDS seeds
    dup_exact_spearman: np.ndarray  # (seeds, 3): [correlation, raw BIF, classical IF] vs LOO
    dup_twin_half_share: np.ndarray  # ½ s_tq² / Cov(ℓ_t, ℓ_q) of the twin, exact, per seed
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


def _duplicate_exact(seeds: int) -> tuple[dict, np.ndarray, np.ndarray]:
    """The planted duplicate's rankings in closed form (no chains) over ``seeds`` seeds: the twin's
    rank per seed for every key of :data:`DUP_EXACT_KEYS`, the Spearman correlations of
    [correlation, raw BIF, classical IF] with row-wise retraining over the distinct examples, and
    the share of the twin's Cov(ℓ_t, ℓ_q) that is the Bayesian ½ s² term."""
    ranks = {key: [] for key in DUP_EXACT_KEYS}
    spearman, share = [], []
    for seed in range(seeds):
        p, one = ik.planted_duplicate(seed=seed), ik.planted_duplicate(copies=1, seed=seed)
        e, e1 = ik.exact_duplicate_scores(p), ik.exact_duplicate_scores(one)
        loo = ik.leave_one_out_query_change(p)
        scores = {"correlation": e["correlation"], "raw BIF": e["covariance"],
                  "raw BIF, example": ik.sum_over_copies(e["covariance"], p),
                  "BIF linear term": e["linear_term"], "classical IF": e["classical"],
                  "classical IF, example": ik.sum_over_copies(e["classical"], p),
                  "retraining, row": loo,
                  "retraining, example": ik.leave_example_out_query_change(p),
                  "input distance": ik.input_distance_score(p)}
        for key, score in scores.items():
            ranks[key].append(ik.rank_of_twin(score, p))
        ranks["raw BIF, one copy"].append(ik.rank_of_twin(e1["covariance"], one))
        ranks["correlation, one copy"].append(ik.rank_of_twin(e1["correlation"], one))
        ranks["retraining, one copy"].append(
            ik.rank_of_twin(ik.leave_example_out_query_change(one), one))
        first = np.unique(p.groups, return_index=True)[1]
        spearman.append([_spearman(e[by][first], loo[first])
                         for by in ("correlation", "covariance", "classical")])
        share.append(e["bayesian_term"][p.twin] / e["covariance"][p.twin])
    return ({key: np.array(v) for key, v in ranks.items()}, np.array(spearman),
            np.array(share))


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
    eps_coarse = REG_STEPS[1] / REG_STEPS[0] * epsilon
    coarse = loss_covariance(p.model, LOSS, PER, p.data, epsilon=eps_coarse, nbeta=nbeta,
                             gamma=gamma, num_chains=r["coarse_chains"],
                             num_draws=r["coarse_draws"],
                             num_burnin=100, seed=0)
    coarse_law = ik.regression_loss_covariance(X, y, p.w_star, nbeta=nbeta, gamma=gamma,
                                               epsilon=eps_coarse)
    # --- planted duplicate
    d = cfg["duplicate"]
    dup = {key: [] for key in ("corr", "raw", "loo", "dist", "spearman", "raw_example")}
    for seed in range(d["seeds"]):
        problem = ik.planted_duplicate(seed=seed)
        scores = ik.duplicate_scores(problem, draws=d["draws"], seed=seed)
        loo = ik.leave_one_out_query_change(problem)
        dup["corr"].append(ik.rank_of_twin(scores["correlation"], problem))
        dup["raw"].append(ik.rank_of_twin(scores["covariance"], problem))
        dup["raw_example"].append(
            ik.rank_of_twin(ik.sum_over_copies(scores["covariance"], problem), problem))
        dup["loo"].append(ik.rank_of_twin(loo, problem))
        dup["dist"].append(ik.rank_of_twin(ik.input_distance_score(problem), problem))
        first = np.unique(problem.groups, return_index=True)[1]      # one row per distinct example
        dup["spearman"].append([_spearman(scores[by][first], loo[first])
                                for by in ("correlation", "covariance")])
    exact, exact_sp, half_share = _duplicate_exact(DUP_EXACT_SEEDS)
    # --- two tasks
    t = ik.shared_input_two_task_problem(**TWO_TASK)
    tcov = loss_covariance(t.model, LOSS, PER, t.data, epsilon=1e-3, nbeta=100.0, gamma=1.0,
                           num_chains=4, num_draws=cfg["two_task"]["draws"], num_burnin=300, seed=0)
    kernel = loss_kernel(tcov)
    # the baseline: a kernel of the shared inputs u (the task bit, last column, left out)
    input_blocks = ik.loss_kernel_blocks(ik.input_kernel(t.data[0].numpy()[:, :-1]), t.groups)
    sus = susceptibilities(t.model, LOSS, PER, t.data,
                           {"task A head": ["head_a.weight", "head_a.bias"],
                            "task B head": ["head_b.weight", "head_b.bias"]},
                           epsilon=1e-3, nbeta=100.0, gamma=1.0, num_chains=4,
                           num_draws=cfg["two_task"]["draws"] // 2, num_burnin=300, seed=1)
    # --- thermodynamic device
    targets = {k: np.array([normal_crossing_expectation(k, nb) for nb in THERMO_NBETAS])
               for k in THERMO_KS}
    fits = {k: thermo.fit_finite_nbeta_law(THERMO_NBETAS, v) for k, v in targets.items()}
    fits_low = {k: thermo.fit_finite_nbeta_law(
        THERMO_NBETAS_LOW, [normal_crossing_expectation(k, nb) for nb in THERMO_NBETAS_LOW])
        for k in THERMO_KS_LOW}
    nc = normal_crossing_problem((1, 1), n=8)
    sweep = thermo.nbeta_sweep(nc.model, nc.loss_fn, nc.data, SGLD_NBETAS,
                               epsilon=lambda nb: 0.3 / nb, gamma=1.0, num_chains=6,
                               num_draws=cfg["thermo"]["draws"], num_burnin=800, seed=0)
    return KnownAnswers(
        profile, cov.covariance, cov.standard_error(), sgld_law, posterior, classical,
        cov.memory_bytes, cov.llc.loss_trace, coarse.covariance, coarse.standard_error(),
        coarse_law, np.array(dup["corr"]), np.array(dup["raw"]), 30,
        np.array(dup["loo"]), np.array(dup["dist"]),
        np.array(dup["spearman"]), np.array(dup["raw_example"]), exact, exact_sp, half_share,
        kernel, t.groups, ik.loss_kernel_blocks(kernel, t.groups), input_blocks, sus.chi,
        sus.standard_error(), tcov.llc.loss_trace, targets, fits, fits_low, sweep.y, sweep.se,
        np.array([normal_crossing_expectation((1, 1), nb) for nb in SGLD_NBETAS]))


#: the two-task problem of 5.4 (inputs u shared by the tasks, task bit t last)
TWO_TASK = {"per_task": 16, "d": 2, "hidden": 4, "seed": 1}


def two_task_input_blocks() -> dict[str, dict]:
    """The input-kernel baselines of 5.4's two-task problem (no sampling): the blocks
    (:func:`~.influence_known.loss_kernel_blocks`) of :func:`~.influence_known.input_kernel` on the
    shared inputs u alone (``"u"``) and on the full input (u, t) with the task bit (``"u, t"``).
    The second *can* show the tasks: the network's input holds the task bit."""
    t = ik.shared_input_two_task_problem(**TWO_TASK)
    x = t.data[0].numpy()
    return {"u": ik.loss_kernel_blocks(ik.input_kernel(x[:, :-1]), t.groups),
            "u, t": ik.loss_kernel_blocks(ik.input_kernel(x), t.groups)}


def known_answers(profile: Optional[str] = None) -> KnownAnswers:
    """All of notebook 5.4's known-answer measurements for ``profile`` (default: the current one),
    cached (:func:`course_lib.cache.cached`) on the profile's settings."""
    from ..cache import cached
    profile = get_profile() if profile is None else profile
    cfg = by_profile(SETTINGS, profile)
    config = {"profile": profile, "settings": cfg, "version": 7, "steps": REG_STEPS,
              "dup_exact_seeds": DUP_EXACT_SEEDS}
    return cached("slt-spectroscopy-known", config, lambda: _compute(profile))


def lambda_of(k: tuple) -> tuple[float, int]:
    """(λ, m) of a normal crossing, for the notebook's tables."""
    return normal_crossing_lambda(k)
