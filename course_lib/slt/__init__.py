"""Chapter 5 — SLT spectroscopy: learning coefficients, measured and checked against theory.

* :mod:`~course_lib.slt.theory` — exact learning coefficients (normal crossings, reduced-rank
  regression, deep linear networks) and the finite-nβ target of the estimator;
* :mod:`~course_lib.slt.density` — the volume of {K < ε} near a singularity: the density of states;
* :mod:`~course_lib.slt.estimator` — :func:`estimate_llc`, localised SGLD with vectorised chains;
* :mod:`~course_lib.slt.calibration` — sweeps of ε (and nβ, γ) and the plateau they should show;
* :mod:`~course_lib.slt.known` — models with known answers to test the estimator against.
"""

from __future__ import annotations

from . import theory
from .calibration import Calibration, calibrate_epsilon, find_plateau, sweep_grid
from .estimator import ChainDivergedError, LLCResult, default_nbeta, estimate_llc

__all__ = ["theory", "estimate_llc", "LLCResult", "ChainDivergedError", "default_nbeta",
           "calibrate_epsilon", "Calibration", "find_plateau", "sweep_grid"]
