"""Chapter 5 — SLT spectroscopy: learning coefficients, measured and checked against theory.

Notebook 5.1 (the density of states):

* :mod:`.theory`      — exact learning coefficients (normal crossings, reduced-rank regression, deep
  linear networks) and the finite-nβ target of the estimator
* :mod:`.density`     — the volume of {K < ε} near a singularity: the density of states
* :mod:`.theory_plots` — its figures
* :mod:`.theory_exercises` — its checkers

Notebook 5.2 (the estimator):

* :mod:`.estimator`   — :func:`estimate_llc`, localised SGLD with vectorised chains (plain or RMSProp-preconditioned)
* :mod:`.mala`        — :func:`mala_llc`, the exact reference sampler (Metropolis-adjusted Langevin)
* :mod:`.calibration` — sweeps of ε (and nβ, γ) and the plateau they should show
* :mod:`.known`       — models with known answers to test the estimator against
* :mod:`.estimator_plots` — its figures (chains, calibration sweeps, estimates against theory)
* :mod:`.exercises`   — its checkers

Notebook 5.3 (phase transitions):

* :mod:`.course_models` — the earlier chapters' training runs, seen the way the LLC needs them
* :mod:`.transitions` — LLC trajectories over training, what changed at each (weight- and data-refined)
* :mod:`.boundaries`  — stage boundaries of a trajectory, by a rule stated in advance
* :mod:`.sensitivity` — what survives a change of γ; data-refined LLCs beside size-matched random subsets
* :mod:`.transition_plots` — its figures
* :mod:`.transition_exercises` — its checker

Notebook 5.4 (susceptibilities and influence, on known answers), on the LLC's own chains
(``estimate_llc``'s ``observer`` hook):

* :mod:`.observables` — streaming covariances: loss kernel, Bayesian influence, susceptibilities
* :mod:`.influence_known` — their known answers (Gaussian regression, planted duplicate, two tasks)
* :mod:`.thermo` — the nβ sweep: λ and m from the finite-nβ law, log Z by thermodynamic integration
* :mod:`.spectroscopy` — the notebook's measurements, per profile, cached
* :mod:`.spectro_plots` — its figures
* :mod:`.spectro_exercises` — its checkers

Notebook 5.5 (components as concepts), on the same chains:

* :mod:`.components` — Chapter 3's transformer split into components (heads, neuron groups by key
  frequency and size-matched random groups, embedding, unembedding), their (pairs × components)
  susceptibility matrix over checkpoints (cached), its SVD modes read as waves in (a + b) mod p
* :mod:`.component_plots` — its figures
* :mod:`.components_exercises` — its checkers
* :mod:`.planted` — the planted positive controls of 5.5 and 5.6: neurons that respond to
  (a + b) mod p at one frequency, or to hue, by construction, sampled and read like the real ones
  (written into the residual stream, or into the answer's logit for a first-order response)
* :mod:`.shuffled` — the shuffled-components control of 5.5: a component as large as a real
  one whose weights are drawn at random from the whole network, sampled and read like it

Notebook 5.6 (colour modes), on the same device:

* :mod:`.colour_modes` — the colour autoencoders of Chapters 1–2 split into neuron groups (by
  preferred hue, and size-matched random groups), their (hues × components) susceptibility
  matrices (cached), read for a wheel in mode space and for a red mode (anchored vs unanchored)
* :mod:`.colour_mode_plots` — its figures
* :mod:`.colour_modes_exercises` — its checkers
"""

from __future__ import annotations

from . import theory
from .calibration import Calibration, calibrate_epsilon, find_plateau, sweep_grid
from .estimator import ChainDivergedError, LLCResult, default_nbeta, estimate_llc

__all__ = ["theory", "estimate_llc", "LLCResult", "ChainDivergedError", "default_nbeta",
           "calibrate_epsilon", "Calibration", "find_plateau", "sweep_grid"]
