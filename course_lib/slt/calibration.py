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
finds the longest run of neighbouring stable settings whose estimates agree within noise.  It
recommends the geometric middle of that run — or nothing, with the reason, if there is no plateau.
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
    if plateau:
        low, high = grid[plateau[0]], grid[plateau[-1]]
        middle = math.sqrt(low * high)
        recommended = min((grid[i] for i in plateau), key=lambda e: abs(math.log(e / middle)))
        reason = (f"λ̂ is flat within noise for ε from {low:.3g} to {high:.3g} "
                  f"({len(plateau)} settings, traces stationary); the middle of that range")
    else:
        recommended = None
        counts = {s: sum(p.status == s for p in points) for s in ("diverged", "drifting", "stable")}
        reason = (f"no plateau: {counts['stable']} stable, {counts['drifting']} still drifting, "
                  f"{counts['diverged']} diverged, and no two neighbouring stable settings agree — "
                  "run longer chains, or change γ / nβ, and sweep again")
    return Calibration(points, plateau, recommended, reason)


def sweep_grid(model: Any, loss_fn: Any, data: Any, *, epsilons: Iterable[float],
               nbetas: Sequence[Optional[float]] = (None,), gammas: Sequence[float] = (1.0,),
               **kwargs: Any) -> dict[tuple[Optional[float], float], Calibration]:
    """:func:`calibrate_epsilon` for every (nβ, γ) pair: the plateau can move with both."""
    if not nbetas or not gammas:
        raise ValueError("nbetas and gammas must each hold at least one value")
    return {(nb, g): calibrate_epsilon(model, loss_fn, data, epsilons=epsilons, nbeta=nb,
                                       gamma=g, **kwargs)
            for nb in nbetas for g in gammas}
