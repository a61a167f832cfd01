"""Choosing the SGLD step size: sweep ε, find the plateau, and say why.

The estimate λ̂(ε) is biased at both ends of the step-size range:

* ε too small — the chains do not travel far from w* in the draws they are given; the loss trace
  is still rising when sampling stops and λ̂ is too small;
* ε too large — the discretisation inflates the sampled spread (for a quadratic loss with
  curvature h the stationary variance is too large by 1/(1 − εh/4)) and, eventually, the chains
  diverge.

Between the two there should be a range where the trace is flat after burn-in and λ̂ does not
change with ε beyond the chains' noise: the *plateau*.  :func:`calibrate_epsilon` sweeps ε on a
log grid (optionally also nβ and γ), marks each setting as diverged / still-drifting / stable, and
finds the longest run of neighbouring stable settings whose estimates agree within noise.  Agreement
within noise is not flatness — wide error bars agree with anything — so the run must also be *shown*
flat: its log-slope d log λ̂ / d log ε, plus two standard errors, must stay below ``SLOPE_MAX``.  It
recommends the geometric middle of such a run — or nothing, with the reason, if there is none.

:func:`operating_point` is the other way to choose, by a rule fixed *before* any estimate is seen:
from the Hessian at w* and the chain budget alone, the smallest localisation γ whose relaxation fits
in the burn-in, at the largest ε whose predicted discretisation bias is small.  :func:`eps_gamma_sweep`
sweeps (ε, γ) on a known-answer model with an exact reference sampler (MALA) beside it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Optional, Sequence

import numpy as np

from .estimator import ChainDivergedError, LLCResult, estimate_llc

#: A trace "drifts" when the LLC of its second half differs from its first half's by more than
#: this many standard errors (over chains) of that difference — and by more than DRIFT_FLOOR of λ̂.
DRIFT_Z = 3.0
DRIFT_FLOOR = 0.05
#: Neighbouring ε agree when their estimates differ by at most this many combined standard errors,
#: or by at most AGREE_FLOOR relative (chains of very low noise would otherwise never agree).
AGREE_Z = 2.0
AGREE_FLOOR = 0.05
#: A plateau is flat when |d log λ̂ / d log ε| + 2 s.e. ≤ SLOPE_MAX over it: λ̂ changes by less than
#: a quarter (10^0.1 ≈ 1.26) per decade of ε, and the chains are precise enough to show it.
SLOPE_MAX = 0.1


@dataclass(frozen=True)
class SweepPoint:
    """One setting of the sweep: its estimate (None if the chains diverged) and verdict."""

    epsilon: float
    nbeta: float
    gamma: float
    result: Optional[LLCResult]
    drift: float  # nβ (mean of the 2nd half − mean of the 1st half of the draws), averaged over chains
    drift_se: float
    status: str  # "diverged", "drifting" or "stable"

    @property
    def mean(self) -> float:
        return float("nan") if self.result is None else self.result.mean

    @property
    def sem(self) -> float:
        return float("nan") if self.result is None else self.result.sem


@dataclass(frozen=True)
class Calibration:
    """A sweep over ε at one (nβ, γ), the plateau found in it, and the recommended ε."""

    points: list[SweepPoint]
    plateau: list[int]  # indices into points, consecutive in ε
    recommended: Optional[float]
    reason: str
    slope: float = float("nan")     # d log λ̂ / d log ε over the agreeing run (NaN if none)
    slope_se: float = float("nan")

    @property
    def epsilons(self) -> np.ndarray:
        return np.array([p.epsilon for p in self.points])

    @property
    def means(self) -> np.ndarray:
        return np.array([p.mean for p in self.points])

    @property
    def sems(self) -> np.ndarray:
        return np.array([p.sem for p in self.points])

    @property
    def plateau_value(self) -> float:
        """The precision-weighted mean of λ̂ over the plateau (NaN when there is none)."""
        if not self.plateau:
            return float("nan")
        means = self.means[self.plateau]
        weights = 1.0 / np.maximum(self.sems[self.plateau], 1e-12) ** 2
        return float(np.sum(weights * means) / np.sum(weights))

    def table(self) -> str:
        """A plain-text table of the sweep."""
        rows = [f"{'epsilon':>10} {'llc':>9} {'± sem':>8} {'drift':>8}  status"]
        for i, p in enumerate(self.points):
            mark = "  ← plateau" if i in self.plateau else ""
            if p.result is None:
                rows.append(f"{p.epsilon:10.3g} {'—':>9} {'':>8} {'':>8}  {p.status}{mark}")
            else:
                rows.append(f"{p.epsilon:10.3g} {p.mean:9.3f} {p.sem:8.3f} {p.drift:8.3f}  "
                            f"{p.status}{mark}")
        rows.append(f"recommended epsilon: {self.recommended!r} — {self.reason}")
        return "\n".join(rows)


def trace_drift(result: LLCResult) -> tuple[float, float]:
    """nβ (second-half mean − first-half mean) of the draws, averaged over chains, and its standard
    error over chains: a stationary chain has drift ≈ 0 within noise."""
    half = result.num_draws // 2
    if half < 1:
        return 0.0, float("inf")
    diffs = result.nbeta * (result.loss_trace[:, half:].mean(axis=1)
                            - result.loss_trace[:, :half].mean(axis=1))
    se = diffs.std(ddof=1) / math.sqrt(len(diffs)) if len(diffs) > 1 else float("inf")
    return float(diffs.mean()), float(se)


def _status(result: LLCResult, drift: float, drift_se: float) -> str:
    floor = DRIFT_FLOOR * max(abs(result.mean), 1e-12)
    return "drifting" if abs(drift) > max(DRIFT_Z * drift_se, floor) else "stable"


def _agree(a: SweepPoint, b: SweepPoint) -> bool:
    gap = abs(a.mean - b.mean)
    combined = math.hypot(a.sem, b.sem)
    return gap <= AGREE_Z * combined or gap <= AGREE_FLOOR * max(abs(a.mean), abs(b.mean))


def find_plateau(points: Sequence[SweepPoint]) -> list[int]:
    """The longest run of consecutive stable points whose neighbours agree within noise
    (ties: the run at larger ε, which mixes faster).  A single point is not a plateau."""
    best: list[int] = []
    run: list[int] = []
    for i, point in enumerate(points):
        if point.status != "stable":
            run = []
            continue
        if run and not _agree(points[run[-1]], point):
            run = []
        run = run + [i]
        if len(run) >= 2 and len(run) >= len(best):
            best = list(run)
    return best


def log_slope(points: Sequence[SweepPoint]) -> tuple[float, float]:
    """d log λ̂ / d log ε by weighted least squares over ``points`` (weights (λ̂/s.e.m.)²), and its
    standard error.  NaN when fewer than two points have a positive estimate."""
    use = [p for p in points if p.result is not None and p.mean > 0 and p.sem > 0]
    if len(use) < 2:
        return float("nan"), float("nan")
    x = np.log([p.epsilon for p in use])
    y = np.log([p.mean for p in use])
    w = np.array([(p.mean / p.sem) ** 2 for p in use])
    xm = np.sum(w * x) / np.sum(w)
    sxx = np.sum(w * (x - xm) ** 2)
    if sxx <= 0:
        return float("nan"), float("nan")
    slope = float(np.sum(w * (x - xm) * (y - np.sum(w * y) / np.sum(w))) / sxx)
    return slope, float(1.0 / math.sqrt(sxx))


def _check_epsilons(epsilons: Iterable[float]) -> list[float]:
    values = [float(e) for e in epsilons]
    if len(values) < 2:
        raise ValueError(f"epsilons needs at least two step sizes to sweep, got {values}")
    if any(not math.isfinite(e) or e <= 0 for e in values):
        raise ValueError(f"epsilons must be finite and > 0, got {values}")
    return sorted(values)


def calibrate_epsilon(model: Any, loss_fn: Any, data: Any, *, epsilons: Iterable[float],
                      nbeta: Optional[float] = None, gamma: float = 1.0, progress: bool = False,
                      **kwargs: Any) -> Calibration:
    """Sweep ``epsilons`` (sorted ascending) at one (nβ, γ) and find the plateau.

    ``kwargs`` go to :func:`~course_lib.slt.estimator.estimate_llc` (chains, draws, burn-in, batch
    size, seed …), the same for every ε.  A setting whose chains diverge is recorded, not raised.
    """
    grid = _check_epsilons(epsilons)
    points = []
    iterator: Iterable[float] = grid
    if progress:
        from tqdm.auto import tqdm
        iterator = tqdm(grid, desc="ε sweep", leave=False)
    for epsilon in iterator:
        try:
            result = estimate_llc(model, loss_fn, data, epsilon=epsilon, nbeta=nbeta, gamma=gamma,
                                  **kwargs)
        except ChainDivergedError:
            points.append(SweepPoint(epsilon, float("nan") if nbeta is None else nbeta, gamma,
                                     None, float("nan"), float("nan"), "diverged"))
            continue
        drift, drift_se = trace_drift(result)
        points.append(SweepPoint(epsilon, result.nbeta, gamma, result, drift, drift_se,
                                 _status(result, drift, drift_se)))
    plateau = find_plateau(points)
    slope, slope_se = log_slope([points[i] for i in plateau]) if plateau else (math.nan, math.nan)
    if plateau and not abs(slope) + 2 * slope_se <= SLOPE_MAX:
        counts = {s: sum(p.status == s for p in points) for s in ("diverged", "drifting", "stable")}
        reason = (f"no plateau: the estimates for ε from {grid[plateau[0]]:.3g} to "
                  f"{grid[plateau[-1]]:.3g} agree within their noise, but their log-slope "
                  f"d log λ̂/d log ε = {slope:.2f} ± {slope_se:.2f} is not shown flat "
                  f"(|slope| + 2 s.e. > {SLOPE_MAX}); {counts['stable']} stable, "
                  f"{counts['drifting']} drifting, {counts['diverged']} diverged — run more or "
                  "longer chains, or change γ / nβ, and sweep again")
        return Calibration(points, [], None, reason, slope, slope_se)
    if plateau:
        low, high = grid[plateau[0]], grid[plateau[-1]]
        middle = math.sqrt(low * high)
        recommended = min((grid[i] for i in plateau), key=lambda e: abs(math.log(e / middle)))
        reason = (f"λ̂ is flat within noise for ε from {low:.3g} to {high:.3g} "
                  f"({len(plateau)} settings, traces stationary, log-slope {slope:.2f} ± "
                  f"{slope_se:.2f}); the middle of that range")
    else:
        recommended = None
        counts = {s: sum(p.status == s for p in points) for s in ("diverged", "drifting", "stable")}
        reason = (f"no plateau: {counts['stable']} stable, {counts['drifting']} still drifting, "
                  f"{counts['diverged']} diverged, and no two neighbouring stable settings agree — "
                  "run longer chains, or change γ / nβ, and sweep again")
    return Calibration(points, plateau, recommended, reason, slope, slope_se)


def sweep_grid(model: Any, loss_fn: Any, data: Any, *, epsilons: Iterable[float],
               nbetas: Sequence[Optional[float]] = (None,), gammas: Sequence[float] = (1.0,),
               **kwargs: Any) -> dict[tuple[Optional[float], float], Calibration]:
    """:func:`calibrate_epsilon` for every (nβ, γ) pair: the plateau can move with both."""
    if not nbetas or not gammas:
        raise ValueError("nbetas and gammas must each hold at least one value")
    return {(nb, g): calibrate_epsilon(model, loss_fn, data, epsilons=epsilons, nbeta=nb,
                                       gamma=g, **kwargs)
            for nb in nbetas for g in gammas}


# ------------------------------------------------------------ a rule fixed before the estimates

def hessian_eigenvalues(model: Any, loss_fn: Any, data: Any) -> np.ndarray:
    """Eigenvalues (ascending) of the Hessian of the full-data loss L_n at the model's parameters
    w*.  For small models only: the Hessian is formed in full."""
    import torch

    from .estimator import FlatLoss, check_data
    data = check_data(data)
    names = [name for name, _ in model.named_parameters()]
    loss = FlatLoss(model, loss_fn, names)
    hessian = torch.autograd.functional.hessian(lambda w: loss(w, data), loss.w_star)
    hessian = 0.5 * (hessian + hessian.T)
    return torch.linalg.eigvalsh(hessian.double()).cpu().numpy()


def hessian_inflation(eigenvalues: np.ndarray, *, epsilon: float, nbeta: float,
                      gamma: float) -> float:
    """How much a finite step adds to λ̂ through the quadratic part of the loss at w*.

    Along a Hessian eigendirection of curvature h > 0 the localised posterior is Gaussian with
    precision a = nβh + γ, contributing nβh/(2a) to λ̂; SGLD's stationary variance is too large by
    1/(1 − εa/4), so it adds nβh/(2a) · (1/(1 − εa/4) − 1).  Summed over the directions with h > 0
    (flat directions add nothing at this order); infinity if any εa ≥ 4."""
    h = np.asarray(eigenvalues, dtype=float)
    h = h[h > 1e-8 * max(1.0, float(np.max(np.abs(h))) if h.size else 1.0)]
    a = nbeta * h + gamma
    if np.any(epsilon * a >= 4):
        return math.inf
    return float(np.sum(nbeta * h / (2 * a) * (1 / (1 - epsilon * a / 4) - 1)))


def quadratic_llc(eigenvalues: np.ndarray, *, nbeta: float, gamma: float) -> float:
    """The localised posterior's answer if the loss were its quadratic approximation at w*: each
    Hessian direction of curvature h > 0 is Gaussian with precision a = nβh + γ and contributes
    nβh/(2a), so nβ E[K] = Σ nβh / (2(nβh + γ)) — the regular (Hessian-rank) baseline. The gap
    between an exact answer and this is what the singular (higher-order) structure adds."""
    h = np.asarray(eigenvalues, dtype=float)
    h = h[h > 1e-8 * max(1.0, float(np.max(np.abs(h))) if h.size else 1.0)]
    return float(np.sum(nbeta * h / (2 * (nbeta * h + gamma))))


@dataclass(frozen=True)
class OperatingPoint:
    epsilon: float
    gamma: float
    reason: str


def operating_point(eigenvalues: np.ndarray, *, nbeta: float, num_burnin: int,
                    epsilons: Sequence[float], gammas: Sequence[float],
                    max_bias: float = 0.05, tolerance: float = 0.05) -> Optional[OperatingPoint]:
    """Choose (ε, γ) from the grid by a rule that looks at no estimate and no answer:

    1. for each γ, the largest ε whose stiffest direction is inflated by at most ``max_bias``,
       1/(1 − ε a_max/4) ≤ 1 + max_bias with a_max = nβ h_max + γ (h_max: the Hessian's largest
       eigenvalue at w*);
    2. the smallest γ (the least localisation) at which the burn-in covers the relaxation of the
       flat directions: ``num_burnin`` ≥ the steps for their spread to come within ``tolerance``
       of its stationary value, log(tolerance) / (2 log(1 − εγ/2)).

    Returns None (no point satisfies both) rather than a compromise."""
    from .exercises import solution_burnin_steps
    h_max = float(np.max(eigenvalues))
    for gamma in sorted(gammas):
        a_max = nbeta * max(h_max, 0.0) + gamma
        allowed = [e for e in sorted(epsilons) if 1 / (1 - e * a_max / 4) <= 1 + max_bias
                   and e * a_max < 4]
        if not allowed:
            continue
        epsilon = allowed[-1]
        need = solution_burnin_steps(epsilon, gamma, tolerance)
        if need <= num_burnin:
            return OperatingPoint(epsilon, gamma, (
                f"γ = {gamma:g} is the smallest localisation whose flat directions settle within "
                f"the {num_burnin} burn-in steps ({need} needed for {tolerance:.0%}); "
                f"ε = {epsilon:g} the largest step whose stiffest direction (a = {a_max:.0f}) is "
                f"inflated by ≤ {max_bias:.0%}"))
    return None


@dataclass(frozen=True)
class EpsGammaSweep:
    """λ̂ over an (ε, γ) grid (rows: γ, columns: ε) with an exact MALA reference per γ."""

    name: str
    epsilons: np.ndarray
    gammas: np.ndarray
    means: np.ndarray       # (γ, ε); NaN where the chains diverged
    sems: np.ndarray
    drifting: np.ndarray    # (γ, ε) bool: the trace drifts
    hessian_bias: np.ndarray  # (γ, ε): hessian_inflation at each setting
    full_means: np.ndarray  # (γ, ε): full-batch SGLD where run (``full_batch_at``), NaN elsewhere
    full_sems: np.ndarray
    mala_means: np.ndarray  # (γ,)
    mala_sems: np.ndarray
    mala_acceptance: np.ndarray
    eigenvalues: np.ndarray
    nbeta: float
    llc: float
    multiplicity: int
    num_burnin: int
    seconds: float

    @property
    def quadratic(self) -> np.ndarray:
        """(γ,) :func:`quadratic_llc` at each γ: what the Hessian at w* alone predicts."""
        return np.array([quadratic_llc(self.eigenvalues, nbeta=self.nbeta, gamma=g) for g in self.gammas])

    @property
    def reference(self) -> float:
        """λ − (m − 1)/log nβ: the leading finite-nβ correction of 5.1, without localisation."""
        return self.llc - (self.multiplicity - 1) / math.log(self.nbeta)

    def table(self) -> "Any":
        import pandas as pd
        rows = []
        for i, g in enumerate(self.gammas):
            for j, e in enumerate(self.epsilons):
                rows.append({"γ": g, "ε": e, "τ = 2/(εγ)": 2 / (e * g), "λ̂": self.means[i, j],
                             "s.e.m.": self.sems[i, j], "drifting": bool(self.drifting[i, j]),
                             "MALA (exact, this γ)": self.mala_means[i],
                             "quadratic (Hessian) answer": self.quadratic[i],
                             "λ̂ − MALA": self.means[i, j] - self.mala_means[i],
                             "Hessian part": self.hessian_bias[i, j],
                             "full batch λ̂": self.full_means[i, j],
                             "full batch s.e.m.": self.full_sems[i, j]})
        return pd.DataFrame(rows)


def _eps_gamma_sweep(problem: Any, epsilons: Sequence[float], gammas: Sequence[float],
                     sgld: dict, mala: dict, mala_epsilons: Sequence[float], batch_size: int,
                     seed: int, full_batch_at: Sequence[tuple[float, float]] = ()) -> EpsGammaSweep:
    import time

    from .mala import mala_llc
    start = time.perf_counter()
    eigenvalues = hessian_eigenvalues(problem.model, problem.loss_fn, problem.data)
    shape = (len(gammas), len(epsilons))
    means, sems = np.full(shape, np.nan), np.full(shape, np.nan)
    drifting = np.zeros(shape, dtype=bool)
    bias = np.zeros(shape)
    nbeta = None
    for i, gamma in enumerate(gammas):
        for j, epsilon in enumerate(epsilons):
            try:
                r = estimate_llc(problem.model, problem.loss_fn, problem.data, epsilon=epsilon,
                                 gamma=gamma, batch_size=batch_size, seed=seed + 10 * i + j,
                                 **sgld)
            except ChainDivergedError:
                bias[i, j] = math.inf
                continue
            nbeta = r.nbeta
            means[i, j], sems[i, j] = r.mean, r.sem
            drift, drift_se = trace_drift(r)
            drifting[i, j] = _status(r, drift, drift_se) == "drifting"
            bias[i, j] = hessian_inflation(eigenvalues, epsilon=epsilon, nbeta=r.nbeta,
                                           gamma=gamma)
    full_means, full_sems = np.full(shape, np.nan), np.full(shape, np.nan)
    for gamma, epsilon in full_batch_at:     # the same seed without minibatch noise
        i, j = gammas.index(gamma), epsilons.index(epsilon)
        r = estimate_llc(problem.model, problem.loss_fn, problem.data, epsilon=epsilon, gamma=gamma,
                         batch_size=None, seed=seed + 10 * i + j, **sgld)
        full_means[i, j], full_sems[i, j] = r.mean, r.sem
    mala_means, mala_sems, acceptance = (np.zeros(len(gammas)) for _ in range(3))
    for i, (gamma, epsilon) in enumerate(zip(gammas, mala_epsilons)):
        r = mala_llc(problem.model, problem.loss_fn, problem.data, epsilon=epsilon, gamma=gamma,
                     seed=seed + 1000 + i, **mala)
        mala_means[i], mala_sems[i] = r.mean, r.sem
        acceptance[i] = r.settings["acceptance"]
        nbeta = r.nbeta
    return EpsGammaSweep(problem.name, np.asarray(epsilons, float), np.asarray(gammas, float),
                         means, sems, drifting, bias, full_means, full_sems, mala_means, mala_sems, acceptance,
                         eigenvalues, float(nbeta), problem.llc, problem.multiplicity,
                         int(sgld.get("num_burnin", 200)), time.perf_counter() - start)


def eps_gamma_sweep(problem: Any, *, epsilons: Sequence[float], gammas: Sequence[float],
                    sgld: dict, mala: dict, mala_epsilons: Optional[Sequence[float]] = None,
                    batch_size: int = 500, full_batch_at: Sequence[tuple[float, float]] = (),
                    seed: int = 0, use_cache: bool = True) -> EpsGammaSweep:
    """SGLD λ̂ of a known-answer ``problem`` over every (ε, γ), and beside each γ the exact
    localised answer from MALA (full batch, Metropolis-corrected).  λ̂ − MALA is the sampler's bias:
    the step's (discretisation, and any want of mixing) plus the minibatch noise's; at the grid
    points ``full_batch_at`` ((γ, ε) pairs) SGLD with the same seed also runs on the full data, which
    separates the two.  MALA − (λ − (m − 1)/log nβ) is the localisation's bias.

    ``sgld`` and ``mala`` hold chains / draws / burn-in; ``mala_epsilons`` one MALA step per γ
    (default 2e-3).  Cached (:func:`course_lib.cache.cached`) on every argument."""
    epsilons, gammas = [float(e) for e in epsilons], [float(g) for g in gammas]
    full_batch_at = [(float(g), float(e)) for g, e in full_batch_at]
    for g, e in full_batch_at:
        if g not in gammas or e not in epsilons:
            raise ValueError(f"full_batch_at: ({g:g}, {e:g}) is not a (gamma, epsilon) of the grid")
    mala_epsilons = [2e-3] * len(gammas) if mala_epsilons is None else [float(e) for e in
                                                                         mala_epsilons]
    if len(mala_epsilons) != len(gammas):
        raise ValueError("mala_epsilons needs one step size per gamma")

    def compute() -> EpsGammaSweep:
        return _eps_gamma_sweep(problem, epsilons, gammas, dict(sgld), dict(mala), mala_epsilons,
                                batch_size, seed, full_batch_at)

    if not use_cache:
        return compute()
    from ..cache import cached
    config = {"version": 2, "problem": problem.name, "n": problem.n, "epsilons": epsilons,
              "gammas": gammas, "sgld": dict(sgld), "mala": dict(mala),
              "mala_epsilons": mala_epsilons, "batch_size": batch_size, "seed": seed,
              "full_batch_at": full_batch_at}
    return cached("slt-eps-gamma-sweep", config, compute)
