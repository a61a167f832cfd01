"""Known answers for the per-sample devices of :mod:`course_lib.slt.observables`.

* **Gaussian linear regression**, f(x; w) = wᵀx, ℓ_i = ½(wᵀx_i − y_i)², localised at the least-squares
  fit w*. The localised tempered posterior is exactly Gaussian, N(w*, Σ) with
  Σ = A⁻¹, A = nβ H + γ I, H = XᵀX / n; and full-batch SGLD of step ε samples N(w*, (A − εA²/4)⁻¹)
  exactly (its own stationary law, no discretisation error left to guess). Residuals
  r_i = wᵀx_i − y_i are jointly Gaussian with means m_i = w*ᵀx_i − y_i and covariances s_ij = x_iᵀΣx_j,
  so by Isserlis' theorem

      Cov(ℓ_i, ℓ_j) = m_i m_j s_ij + ½ s_ij²           (exact).

  The first term is ∇ℓ_iᵀ Σ ∇ℓ_j: with Σ ≈ (nβ H)⁻¹ it is (n/nβ) × the classical influence function
  −∇ℓ_qᵀ H_sum⁻¹ ∇ℓ_i (Koh & Liang 2017) up to sign; the second is O(1/nβ²), the Bayesian correction.
* **Planted duplicate**: one training example repeated k times and a query that is its slightly
  perturbed twin. Two questions with two ground truths: which example is the query *like* (the
  twin; :func:`input_distance_score` finds it, and so does Corr(ℓ_i, ℓ_q) in most seeds), and which
  example *moves* the query's loss — exact retraining, whose answer depends on the unit removed:
  one row (:func:`leave_one_out_query_change`, one copy of the twin: rarely the twin) or the whole
  example (:func:`leave_example_out_query_change`, all copies: mostly the twin).
  :func:`exact_duplicate_scores` gives every ranking at infinite draws, closed form.
* **Two tasks in one network**: a small tanh network whose inputs for task A live on the first half
  of the input coordinates and for task B on the second (:func:`two_task_problem`: the inputs
  alone show the blocks), or whose two tasks share the same inputs and differ only in a task bit
  that picks the output head (:func:`shared_input_two_task_problem`: the inputs cannot show
  them); the loss kernel should be two blocks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import numpy as np
import torch
from torch import nn

from ..validation import check_float, check_int, check_seed

__all__ = ["RegressionProblem", "gaussian_regression", "regression_loss_covariance",
           "classical_influence", "half_squared_error", "per_sample_half_squared_error",
           "planted_duplicate", "two_task_problem", "shared_input_two_task_problem", "duplicate_rank", "duplicate_ranks",
           "duplicate_scores", "rank_of_twin", "leave_one_out_query_change",
           "leave_example_out_query_change", "sum_over_copies", "exact_duplicate_scores",
           "input_distance_score",
           "loss_kernel_blocks", "input_kernel"]


def half_squared_error(model: nn.Module, batch: tuple) -> torch.Tensor:
    """mean over the batch of ½ (f(x) − y)² (one output)."""
    return per_sample_half_squared_error(model, batch).mean()


def per_sample_half_squared_error(model: nn.Module, batch: tuple) -> torch.Tensor:
    """½ (f(x_i) − y_i)² for each sample of the batch: shape (batch,)."""
    x, y = batch
    return 0.5 * (model(x).reshape(-1) - y.reshape(-1)) ** 2


@dataclass
class RegressionProblem:
    """A model at w* with its data; ``groups`` labels samples (a task, a duplicate) when relevant."""

    model: nn.Module
    data: tuple[torch.Tensor, torch.Tensor]
    w_star: np.ndarray
    groups: Optional[np.ndarray] = None
    query: Optional[tuple[torch.Tensor, torch.Tensor]] = None
    twin: Optional[int] = None   # index (into data) of the first copy of the planted duplicate


def _linear_at(w: np.ndarray) -> nn.Module:
    model = nn.Linear(len(w), 1, bias=False).double()
    with torch.no_grad():
        model.weight.copy_(torch.as_tensor(w, dtype=torch.float64)[None])
    return model


def _least_squares(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.linalg.solve(X.T @ X, X.T @ y)


def gaussian_regression(n: int = 40, d: int = 3, noise: float = 0.5,
                        seed: int = 0) -> RegressionProblem:
    """y = w₀ᵀx + noise·ξ with x, w₀, ξ standard normal; the model sits at the least-squares fit."""
    n = check_int(n, "n", min=2)
    d = check_int(d, "d", min=1)
    if n <= d:
        raise ValueError(f"n must exceed d for a unique least-squares fit, got n={n}, d={d}")
    noise = check_float(noise, "noise", min=0)
    rng = np.random.default_rng(check_seed(seed))
    X = rng.standard_normal((n, d))
    y = X @ rng.standard_normal(d) + noise * rng.standard_normal(n)
    w = _least_squares(X, y)
    return RegressionProblem(_linear_at(w), (torch.as_tensor(X), torch.as_tensor(y)), w)


def _posterior_covariance(X: np.ndarray, nbeta: float, gamma: float,
                          epsilon: Optional[float]) -> np.ndarray:
    n, d = X.shape
    A = nbeta * X.T @ X / n + gamma * np.eye(d)
    if epsilon is None:
        return np.linalg.inv(A)
    if epsilon * np.linalg.eigvalsh(A).max() >= 4:
        raise ValueError(f"epsilon={epsilon} is unstable for this posterior (ε·max eig(A) ≥ 4)")
    return np.linalg.inv(A - epsilon * A @ A / 4)


def regression_loss_covariance(X: np.ndarray, y: np.ndarray, w_star: np.ndarray, *, nbeta: float,
                               gamma: float, epsilon: Optional[float] = None,
                               X_query: Optional[np.ndarray] = None,
                               y_query: Optional[np.ndarray] = None) -> np.ndarray:
    """Exact Cov(ℓ_i, ℓ_q) of ½-squared-error losses under w ~ N(w*, Σ) (see the module docstring):
    Σ the localised tempered posterior's covariance (``epsilon=None``) or the stationary law of
    full-batch SGLD with step ``epsilon``. Queries default to the training samples. w* must be the
    least-squares fit (the posterior is then centred on it)."""
    X, y, w_star = np.asarray(X, float), np.asarray(y, float).reshape(-1), np.asarray(w_star, float)
    if X.ndim != 2 or X.shape[0] != y.shape[0] or X.shape[1] != w_star.shape[0]:
        raise ValueError(f"shapes do not match: X {X.shape}, y {y.shape}, w_star {w_star.shape}")
    nbeta = check_float(nbeta, "nbeta", min=0, inclusive="neither")
    gamma = check_float(gamma, "gamma", min=0)
    Xq = X if X_query is None else np.asarray(X_query, float)
    yq = y if y_query is None else np.asarray(y_query, float).reshape(-1)
    if Xq.shape[1] != X.shape[1] or Xq.shape[0] != yq.shape[0]:
        raise ValueError(f"query shapes do not match: X_query {Xq.shape}, y_query {yq.shape}")
    S = _posterior_covariance(X, nbeta, gamma, epsilon)
    m, mq = X @ w_star - y, Xq @ w_star - yq
    s = X @ S @ Xq.T
    return np.outer(m, mq) * s + 0.5 * s ** 2


def classical_influence(X: np.ndarray, y: np.ndarray, w_star: np.ndarray,
                        X_query: Optional[np.ndarray] = None,
                        y_query: Optional[np.ndarray] = None) -> np.ndarray:
    """The classical influence of up-weighting training sample i on query q's loss (Koh & Liang
    2017): I(i, q) = −∇ℓ_qᵀ H_sum⁻¹ ∇ℓ_i, H_sum = XᵀX the Hessian of the summed loss; (n, n_query)."""
    X, y, w_star = np.asarray(X, float), np.asarray(y, float).reshape(-1), np.asarray(w_star, float)
    Xq = X if X_query is None else np.asarray(X_query, float)
    yq = y if y_query is None else np.asarray(y_query, float).reshape(-1)
    g = (X @ w_star - y)[:, None] * X            # ∇ℓ_i = m_i x_i
    gq = (Xq @ w_star - yq)[:, None] * Xq
    return -g @ np.linalg.solve(X.T @ X, gq.T)


def planted_duplicate(n: int = 30, d: int = 4, copies: int = 4, noise: float = 0.5,
                      perturbation: float = 0.05, seed: int = 0) -> RegressionProblem:
    """Linear regression with one example repeated ``copies`` times (indices twin … twin+copies−1)
    and a query that is that example with x and y perturbed by ``perturbation``·N(0, 1)."""
    n = check_int(n, "n", min=2)
    d = check_int(d, "d", min=1)
    copies = check_int(copies, "copies", min=1)
    noise = check_float(noise, "noise", min=0)
    perturbation = check_float(perturbation, "perturbation", min=0)
    rng = np.random.default_rng(check_seed(seed))
    X = rng.standard_normal((n, d))
    w0 = rng.standard_normal(d)
    y = X @ w0 + noise * rng.standard_normal(n)
    twin = int(rng.integers(n))
    X = np.concatenate([X, np.repeat(X[twin:twin + 1], copies - 1, axis=0)])
    y = np.concatenate([y, np.repeat(y[twin:twin + 1], copies - 1)])
    groups = np.concatenate([np.arange(n), np.full(copies - 1, twin)])
    xq = X[twin] + perturbation * rng.standard_normal(d)
    yq = y[twin] + perturbation * rng.standard_normal()
    w = _least_squares(X, y)
    return RegressionProblem(_linear_at(w), (torch.as_tensor(X), torch.as_tensor(y)), w,
                             groups=groups, twin=twin,
                             query=(torch.as_tensor(xq[None]), torch.as_tensor(np.array([yq]))))


class TwoTaskNet(nn.Module):
    """x = (u, v) ↦ w₂ᵀ tanh(A u + B v + b₁) + b₂ (float64). Task A's inputs have v = 0, task B's
    u = 0, so ``in_a`` (A) serves only task A, ``in_b`` (B) only task B, and ``bias`` and ``out``
    are shared: named parameters, so each task's own weights are a component."""

    def __init__(self, d: int, hidden: int) -> None:
        super().__init__()
        self.d = d
        self.in_a = nn.Linear(d, hidden, bias=False).double()
        self.in_b = nn.Linear(d, hidden, bias=False).double()
        self.bias = nn.Parameter(0.5 * torch.randn(hidden, dtype=torch.float64))
        self.out = nn.Linear(hidden, 1).double()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.tanh(self.in_a(x[..., :self.d]) + self.in_b(x[..., self.d:]) + self.bias)
        return self.out(h).reshape(x.shape[:-1])


def two_task_problem(per_task: int = 16, d: int = 3, hidden: int = 6,
                     seed: int = 0) -> RegressionProblem:
    """Two unrelated regression tasks in one network at its true parameter (noiseless teacher =
    student, so w* is an exact minimum with L_n(w*) = 0). Task A's inputs are (u, 0), task B's
    (0, v), u, v ∈ ℝ^d standard normal: they share only the hidden biases and the output layer
    (:class:`TwoTaskNet`; its ``in_a`` and ``in_b`` are each task's own weights).
    ``groups`` is 0 for task A, 1 for task B."""
    per_task = check_int(per_task, "per_task", min=2)
    d = check_int(d, "d", min=1)
    hidden = check_int(hidden, "hidden", min=1)
    generator = torch.Generator().manual_seed(check_seed(seed))
    model = _built_with_seed(TwoTaskNet, d, hidden, seed=seed)
    x = torch.zeros(2 * per_task, 2 * d, dtype=torch.float64)
    x[:per_task, :d] = torch.randn(per_task, d, generator=generator, dtype=torch.float64)
    x[per_task:, d:] = torch.randn(per_task, d, generator=generator, dtype=torch.float64)
    with torch.no_grad():
        y = model(x)
    w = torch.cat([p.detach().reshape(-1) for p in model.parameters()]).numpy()
    groups = np.repeat([0, 1], per_task)
    return RegressionProblem(model, (x, y), w, groups=groups)


def _built_with_seed(cls: type, *args: Any, seed: int) -> nn.Module:
    """``cls(*args)`` with its initial weights drawn from torch's global generator seeded with
    ``seed``; the generator's state is restored afterwards (the caller's randomness is untouched)."""
    torch_state = torch.random.get_rng_state()
    torch.manual_seed(check_seed(seed))
    try:
        return cls(*args)
    finally:
        torch.random.set_rng_state(torch_state)


class TwoHeadNet(nn.Module):
    """x = (u, t) ↦ (1 − t)·head_a(h) + t·head_b(h), h = tanh(trunk(u)) (float64): two tasks on
    the *same* inputs u ∈ ℝ^d, the task bit t ∈ {0, 1} choosing the output head. ``trunk`` is
    shared; ``head_a`` serves only task A, ``head_b`` only task B (each task's own weights)."""

    def __init__(self, d: int, hidden: int) -> None:
        super().__init__()
        self.d = d
        self.trunk = nn.Linear(d, hidden).double()
        self.head_a = nn.Linear(hidden, 1).double()
        self.head_b = nn.Linear(hidden, 1).double()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.tanh(self.trunk(x[..., :self.d]))
        t = x[..., self.d]
        return (1 - t) * self.head_a(h)[..., 0] + t * self.head_b(h)[..., 0]


def shared_input_two_task_problem(per_task: int = 16, d: int = 2, hidden: int = 4,
                                  seed: int = 0) -> RegressionProblem:
    """Two unrelated tasks on the same inputs: each u ∈ ℝ^d (standard normal) appears once per
    task, followed by the task bit t (0 for task A, 1 for task B), in a :class:`TwoHeadNet` at its
    true parameter (noiseless teacher = student). Any kernel of the inputs u treats a sample and
    its other-task copy as identical, so it cannot show task blocks. ``groups``: 0 = A, 1 = B."""
    per_task = check_int(per_task, "per_task", min=2)
    d = check_int(d, "d", min=1)
    hidden = check_int(hidden, "hidden", min=1)
    generator = torch.Generator().manual_seed(check_seed(seed))
    model = _built_with_seed(TwoHeadNet, d, hidden, seed=seed)
    u = torch.randn(per_task, d, generator=generator, dtype=torch.float64)
    x = torch.zeros(2 * per_task, d + 1, dtype=torch.float64)
    x[:per_task, :d], x[per_task:, :d], x[per_task:, d] = u, u, 1.0
    with torch.no_grad():
        y = model(x)
    w = torch.cat([p.detach().reshape(-1) for p in model.parameters()]).numpy()
    return RegressionProblem(model, (x, y), w, groups=np.repeat([0, 1], per_task))


def rank_of_twin(score: np.ndarray, problem: RegressionProblem) -> int:
    """Rank (0 = first) of the planted duplicate's twin among the *distinct* training examples when
    they are ordered by ``score`` (one value per training row, larger = more influential; copies of
    an example count once, at their best score)."""
    score = np.asarray(score, float).reshape(-1)
    if problem.twin is None or problem.groups is None:
        raise ValueError("problem must be a planted_duplicate (it has no twin)")
    if len(score) != len(problem.groups):
        raise ValueError(f"score must have one entry per training row ({len(problem.groups)}), "
                         f"got {len(score)}")
    distinct = np.unique(problem.groups)
    best = np.array([np.nanmax(score[problem.groups == g]) for g in distinct])
    order = distinct[np.argsort(-best, kind="stable")]
    return int(np.nonzero(order == problem.twin)[0][0])


def leave_one_out_query_change(problem: RegressionProblem) -> np.ndarray:
    """Ground-truth influence by retraining: for each training row i, how much the query's loss
    *rises* when row i (one copy) is removed and the least-squares fit is redone, closed form
    (one solve per row). Positive = row i helps the query; the same orientation as Cov(ℓ_i, ℓ_q)
    = −BIF."""
    if problem.query is None:
        raise ValueError("problem must be a planted_duplicate (it has no query)")
    X, y = problem.data[0].numpy(), problem.data[1].numpy()
    xq, yq = problem.query[0].numpy()[0], float(problem.query[1].numpy()[0])
    base = 0.5 * (xq @ problem.w_star - yq) ** 2
    keep = np.ones(len(X), dtype=bool)
    out = np.empty(len(X))
    for i in range(len(X)):
        keep[i] = False
        w = _least_squares(X[keep], y[keep])
        keep[i] = True
        out[i] = 0.5 * (xq @ w - yq) ** 2 - base
    return out


def leave_example_out_query_change(problem: RegressionProblem) -> np.ndarray:
    """Ground-truth influence of a whole *example*: for each training row, how much the query's
    loss rises when every copy of that row's example is removed and the least-squares fit is
    redone (copies share one value). With one copy per example it equals
    :func:`leave_one_out_query_change`; for the planted duplicate's twin it removes all copies."""
    if problem.query is None or problem.groups is None:
        raise ValueError("problem must be a planted_duplicate (it has no query)")
    X, y = problem.data[0].numpy(), problem.data[1].numpy()
    xq, yq = problem.query[0].numpy()[0], float(problem.query[1].numpy()[0])
    base = 0.5 * (xq @ problem.w_star - yq) ** 2
    out = np.empty(len(X))
    for g in np.unique(problem.groups):
        keep = problem.groups != g
        w = _least_squares(X[keep], y[keep])
        out[~keep] = 0.5 * (xq @ w - yq) ** 2 - base
    return out


def sum_over_copies(score: np.ndarray, problem: RegressionProblem) -> np.ndarray:
    """Per-row ``score`` summed over the copies of each example (every copy gets the sum): the
    influence of up-weighting the whole example, to first order, from per-row influences."""
    score = np.asarray(score, float).reshape(-1)
    if problem.groups is None or len(score) != len(problem.groups):
        raise ValueError("score must have one entry per training row of a planted_duplicate")
    _, inverse = np.unique(problem.groups, return_inverse=True)
    return np.bincount(inverse, weights=score)[inverse]


def exact_duplicate_scores(problem: RegressionProblem) -> dict[str, np.ndarray]:
    """The planted duplicate's rankings with no chains (infinite draws), per row, larger = first:
    ``"covariance"`` = Cov(ℓ_i, ℓ_q) = −BIF under the exact posterior (nβ = n, γ = 1), whose
    Isserlis form m_i m_q s_iq + ½ s_iq² holds the Bayesian ½ s² term; ``"correlation"`` =
    Corr(ℓ_i, ℓ_q); ``"classical"`` = −I(i, q) (:func:`classical_influence`, the linear term's
    limit); ``"bayesian_term"`` = ½ s_iq² alone and ``"linear_term"`` = m_i m_q s_iq (the BIF
    without it)."""
    if problem.query is None or problem.groups is None:
        raise ValueError("problem must be a planted_duplicate (it has no query)")
    X, y = problem.data[0].numpy(), problem.data[1].numpy()
    xq, yq = problem.query[0].numpy(), problem.query[1].numpy()
    kw = dict(nbeta=float(len(X)), gamma=1.0)
    cov = regression_loss_covariance(X, y, problem.w_star, X_query=xq, y_query=yq, **kw)[:, 0]
    var = np.diag(regression_loss_covariance(X, y, problem.w_star, **kw))
    S = _posterior_covariance(X, float(len(X)), 1.0, None)
    s = X @ S @ xq[0]
    # the query's own variance is one constant: it cannot change a ranking
    return {"covariance": cov, "correlation": cov / np.sqrt(var),
            "classical": -classical_influence(X, y, problem.w_star, xq, yq)[:, 0],
            "bayesian_term": 0.5 * s ** 2, "linear_term": cov - 0.5 * s ** 2}


def input_distance_score(problem: RegressionProblem) -> np.ndarray:
    """A trivial similarity baseline: minus the Euclidean distance between each training example's
    (x, y) and the query's (larger = more alike)."""
    if problem.query is None:
        raise ValueError("problem must be a planted_duplicate (it has no query)")
    X, y = problem.data[0].numpy(), problem.data[1].numpy()
    q = np.r_[problem.query[0].numpy()[0], problem.query[1].numpy()]
    return -np.linalg.norm(np.c_[X, y] - q, axis=1)


def duplicate_scores(problem: RegressionProblem, *, draws: int = 1000, chains: int = 4,
                     seed: int = 0) -> dict[str, np.ndarray]:
    """Per-row scores of every training example for the planted duplicate's query, from one run
    (larger = first): ``"correlation"`` = Corr(ℓ_i, ℓ_q) (devinterp's default normalisation),
    ``"covariance"`` = Cov(ℓ_i, ℓ_q) = −BIF (the raw BIF, most helpful first). Full-batch SGLD at
    nβ = n, γ = 1, ε = 0.2 / max eig(nβH + γ)."""
    from .observables import bayesian_influence
    if problem.query is None or problem.twin is None or problem.groups is None:
        raise ValueError("problem must be a planted_duplicate (it has no query/twin)")
    X = problem.data[0].numpy()
    n = len(X)
    A = np.linalg.eigvalsh(X.T @ X).max() + 1.0
    bif, cov = bayesian_influence(problem.model, half_squared_error, per_sample_half_squared_error,
                                  problem.data, problem.query, epsilon=0.2 / A, nbeta=float(n),
                                  gamma=1.0, num_chains=chains, num_draws=draws,
                                  num_burnin=200, seed=seed)
    return {"correlation": np.asarray(cov.correlation[:, 0]), "covariance": -np.asarray(bif[:, 0])}


def duplicate_ranks(problem: RegressionProblem, *, draws: int = 1000, chains: int = 4,
                    seed: int = 0) -> dict[str, int]:
    """Rank (0 = first) of the planted duplicate's twin among the *distinct* training examples, by
    Bayesian influence on the query, from one run: ``"correlation"`` ranks by Corr(ℓ_i, ℓ_q)
    (devinterp's default normalisation), ``"covariance"`` by the raw BIF = −Cov(ℓ_i, ℓ_q) (most
    negative = most helpful first). Full-batch SGLD at nβ = n, γ = 1, ε = 0.2 / max eig(nβH + γ)."""
    scores = duplicate_scores(problem, draws=draws, chains=chains, seed=seed)
    return {by: rank_of_twin(score, problem) for by, score in scores.items()}


def duplicate_rank(problem: RegressionProblem, *, by: str = "correlation", draws: int = 1000,
                   chains: int = 4, seed: int = 0) -> int:
    """:func:`duplicate_ranks` for one ranking, ``by`` = "correlation" or "covariance"."""
    if by not in ("correlation", "covariance"):
        raise ValueError(f"by must be 'correlation' or 'covariance', got {by!r}")
    return duplicate_ranks(problem, draws=draws, chains=chains, seed=seed)[by]


def loss_kernel_blocks(kernel: np.ndarray, groups: np.ndarray) -> dict[str, float]:
    """Block structure of a loss-kernel correlation matrix with two groups: the mean correlation
    within groups (off the diagonal), across groups, and ``rows``: the fraction of samples whose
    mean correlation with their own group exceeds that with the other (0.5 or less: no blocks)."""
    kernel, groups = np.asarray(kernel, float), np.asarray(groups)
    if kernel.ndim != 2 or kernel.shape[0] != kernel.shape[1] or kernel.shape[0] != len(groups):
        raise ValueError(f"kernel must be square with one row per group label, got {kernel.shape} "
                         f"and {len(groups)} labels")
    labels = np.unique(groups)
    if len(labels) != 2:
        raise ValueError(f"groups must hold exactly two labels, got {labels.tolist()}")
    if not np.all(np.isfinite(kernel)):
        raise ValueError("kernel holds NaN or infinite entries")
    same = (groups[:, None] == groups[None, :]) & ~np.eye(len(groups), dtype=bool)
    across = groups[:, None] != groups[None, :]
    own = np.nansum(np.where(same, kernel, np.nan), axis=1) / same.sum(axis=1)
    other = np.nansum(np.where(across, kernel, np.nan), axis=1) / across.sum(axis=1)
    return {"within": float(kernel[same].mean()), "across": float(kernel[across].mean()),
            "rows": float(np.mean(own > other))}


def input_kernel(X: np.ndarray) -> np.ndarray:
    """A baseline the loss kernel must beat to say more than the inputs do: the normalised squared
    input similarity (x_iᵀx_j)² / (‖x_i‖²‖x_j‖²) — the loss kernel of a linear model at a noiseless
    minimum, up to scale, if every weight direction were equally uncertain."""
    X = np.asarray(X, float)
    if X.ndim != 2:
        raise ValueError(f"X must be (samples, features), got shape {X.shape}")
    G = X @ X.T
    norms = np.diag(G)
    if np.any(norms <= 0):
        raise ValueError("X has an all-zero row: its similarity is undefined")
    return G ** 2 / np.outer(norms, norms)
