"""Modular addition and grokking: the reference run of notebook 3.3, measured again in chapter 5.

The model sees ``a b =`` and must answer ``(a + b) mod p``. Trained on a fraction of the p² pairs
with strong weight decay it first memorises the training pairs (test loss stays high), then, long
after the training loss is near zero, suddenly generalises: it *groks*. Nanda, Chan, Lieberum,
Smith & Steinhardt, "Progress measures for grokking via mechanistic interpretability" (ICLR 2023)
reverse-engineered the algorithm it finds: the embedding writes a few Fourier modes
``cos(w a), sin(w a)`` (the *key frequencies* ``w = 2πk/p``), attention and the MLP multiply them
into ``cos(w(a + b)), sin(w(a + b))``, and the unembedding reads out ``cos(w(a + b − c))``, which
peaks at the right answer ``c``. Their progress measures, computed here over saved checkpoints,
show three phases — memorisation, circuit formation, clean-up — under a test loss that looks
like a single sudden jump.

* :mod:`.data`      — all p² pairs with labels and a seeded train/test split
  (:func:`modular_addition_data`), and :func:`mirror_split` (test pairs whose mirror ``(b, a)``
  was trained on)
* :mod:`.model`     — Nanda et al.'s one-layer transformer (:class:`ModularTransformer`) and the
  float64 :func:`cross_entropy` it is trained with
* :mod:`.training`  — :data:`GROKKING_SETTINGS` per profile and :func:`train_modular_addition`
  (full-batch AdamW with checkpoints, plain data)
* :mod:`.measures`  — the progress measures: Fourier basis, embedding spectrum,
  :func:`key_frequencies`, restricted and excluded logits, :func:`progress_measures`
* :mod:`.phases`    — :func:`detect_phases`: the three phase boundaries from the measured curves
* :mod:`.mechanism` — the mechanism measured per checkpoint: the share of the logits the form
  ``Σ_w α_w cos(w(a+b−c))`` explains, each neuron's best-frequency share, what the excluded loss
  is made of, and the mirror-unseen test and restricted losses (:func:`mechanism_measures`)
* :mod:`.seeds`     — :func:`phases_over_seeds`: the phase boundaries over the profile's seeds
* :mod:`.controls`  — :func:`weight_decay_control`: the same run without weight decay, compared at
  matched steps (the one-factor control for "weight decay makes it grok")
* :mod:`.prepare`   — :func:`~.prepare.prepare_runs`: every run notebook 3.3 reads, trained up front
  one per CPU core (bit-identical to training them one after another)
* :mod:`.run`       — :func:`modular_addition_run`, the cached reference run (a
  :class:`GrokkingRun`: ``checkpoint_steps``, ``model_at(step)``, ``loss_fn``; see
  :mod:`course_lib.checkpoints`)
* :mod:`.run_plots` — its figures (the curves with the phases shaded, the spectrum scrubber)
* :mod:`.exercises` — the checkers of notebook 3.3 (the embedding's norm per frequency, and two
  written-down predictions checked against the measurement)
"""

from .data import ModularAdditionData, is_prime, mirror_split, modular_addition_data
from .measures import embedding_spectrum, fourier_basis, key_frequencies, key_frequency_logits, progress_measures
from .model import ModularTransformer, cross_entropy
from .mechanism import (MechanismMeasures, confident_wrong_share, cos_form_fraction, mechanism_measures,
                        neuron_frequency_fraction, unseen_losses)
from .phases import PhaseBoundaries, detect_phases
from .run import GrokkingRun, modular_addition_run
from .seeds import GROKKING_SEEDS, SeedPhases, phases_over_seeds
from .training import GROKKING_SETTINGS, train_modular_addition

__all__ = [
    "ModularAdditionData", "is_prime", "mirror_split", "modular_addition_data",
    "embedding_spectrum", "fourier_basis", "key_frequencies", "key_frequency_logits", "progress_measures",
    "ModularTransformer", "cross_entropy", "PhaseBoundaries", "detect_phases",
    "GrokkingRun", "modular_addition_run", "GROKKING_SETTINGS", "train_modular_addition",
    "MechanismMeasures", "confident_wrong_share", "cos_form_fraction", "mechanism_measures",
    "neuron_frequency_fraction", "unseen_losses", "GROKKING_SEEDS", "SeedPhases", "phases_over_seeds",
]
