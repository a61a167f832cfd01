"""Every first name embedded at every layer of a real text encoder, cached (notebooks 3.1–3.2).

The encoders themselves (MiniLM, CLIP's text encoder, any hub model) live in
:mod:`course_lib.encoders`, which chapter 4 shares; this module applies one to the name table of
:mod:`.names`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import runtime
from ..cache import cached
from ..encoders import check_encoder_name, encoder_source, load_text_encoder
from .names import name_table

__all__ = ["NameEmbeddings", "name_embeddings", "name_token_counts"]


@dataclass(frozen=True)
class NameEmbeddings:
    """Every first name above a birth count, embedded at every layer of one encoder."""

    encoder: str
    names: np.ndarray            #: (n,) as spelled in the records
    total: np.ndarray            #: (n,) births 1880–2017
    female_fraction: np.ndarray  #: (n,)
    mean_birth_year: np.ndarray  #: (n,)
    layers: np.ndarray           #: (n, n_layers + 1, dim) float32
    names_per_second: float      #: measured embedding speed (all layers at once)

    def __len__(self) -> int:
        return len(self.names)


def name_embeddings(encoder: str = "minilm", min_births: int = 5000, path: str | None = None) -> NameEmbeddings:
    """:func:`~.names.name_table` (names with ≥ ``min_births`` babies) embedded by ``encoder``, cached."""
    check_encoder_name(encoder)
    table = name_table(min_births)
    source = str(path) if path is not None else encoder_source(encoder)

    def compute() -> dict:
        model = load_text_encoder(encoder, path=path)
        with runtime.cpu_threads() as fit:
            # wide enough to share both cores, but only while no other process holds one
            fit(runtime.MANY_ROWS if runtime.cores_to_spare() else 0)
            start = time.perf_counter()
            layers = model.embed(list(table["name"]), show_progress=True)
            seconds = time.perf_counter() - start
        return {"layers": layers, "names_per_second": len(layers) / seconds}

    config = {"encoder": encoder, "source": Path(source).name, "min_births": int(min_births)}
    payload = cached("name-embeddings", config, compute)
    return NameEmbeddings(encoder=encoder, names=table["name"], total=table["total"],
                          female_fraction=table["female_fraction"],
                          mean_birth_year=table["mean_birth_year"], layers=payload["layers"],
                          names_per_second=float(payload["names_per_second"]))


def name_token_counts(names: object, encoder: str = "minilm", path: str | None = None) -> np.ndarray:
    """How many tokens ``encoder``'s tokenizer cuts each name into (special tokens excluded):
    MiniLM reads "Vicki" as one WordPiece token and "Winona" as two (``win`` ``##ona``)."""
    from ..encoders import check_texts

    texts = check_texts(names, "names")
    tokenizer = load_text_encoder(encoder, path=path).tokenizer
    return np.asarray([len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]], dtype=np.int64)
