"""Edit a transformer's hidden states while it runs, and see what the last layer does (notebook 4.3).

An *edit at layer ℓ* (1 … L) changes the output of block ℓ — hidden state ℓ, at every token — before
the blocks above read it:

* :func:`skip_block`        the block is bypassed (its output := its input): *ablate a layer*;
* :func:`remove_directions` the components along some directions are projected out: *ablate a
  direction* (e.g. the emotion directions), ``h ← h − Σᵢ (h·uᵢ) uᵢ`` with orthonormal ``uᵢ``;
* :func:`add_vector`        a fixed vector is added: *steering* by activation addition, e.g. the
  difference of two Mapper neighbourhoods' centroids.

:func:`edited_activations` runs a :class:`~course_lib.encoders.TextEncoder` with edits
registered as forward hooks (they work on any model with ``model.encoder.layer``, BERT's layout, and
on transformers 4 and 5 alike: a block returns a tuple in one and a tensor in the other).
"""

from __future__ import annotations

import contextlib
from typing import Callable, Iterator, Mapping, Sequence

import numpy as np
import torch

from ..encoders import TextEncoder
from ..validation import check_int
from .activations import timed_embed

__all__ = ["Edit", "skip_block", "remove_directions", "add_vector", "edited_activations",
           "orthonormal", "encoder_blocks"]

#: An edit maps (block output, block input) → new block output, each (batch, tokens, dim).
Edit = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def skip_block() -> Edit:
    """Bypass the block: its output becomes its input."""
    return lambda output, block_input: block_input


def orthonormal(directions: np.ndarray) -> np.ndarray:
    """Rows spanning the same space as ``directions`` (k, d), orthonormal (QR)."""
    d = np.atleast_2d(np.asarray(directions, dtype=float))
    if d.ndim != 2 or not np.all(np.isfinite(d)) or np.linalg.matrix_rank(d) < len(d):
        raise ValueError("directions must be finite, linearly independent rows (k, dim)")
    q, _ = np.linalg.qr(d.T)
    return q.T


def remove_directions(directions: np.ndarray) -> Edit:
    """Project the ``directions`` (k, dim) out of every token's hidden state."""
    basis = torch.from_numpy(orthonormal(directions)).float()

    def edit(output: torch.Tensor, block_input: torch.Tensor) -> torch.Tensor:
        u = basis.to(output.device, output.dtype)
        return output - (output @ u.T) @ u

    return edit


def add_vector(vector: np.ndarray) -> Edit:
    """Add ``vector`` (dim,) to every token's hidden state."""
    v = torch.from_numpy(np.asarray(vector, dtype=np.float32))
    if v.ndim != 1 or not torch.isfinite(v).all():
        raise ValueError(f"vector must be a finite 1-D array, got shape {tuple(v.shape)}")
    return lambda output, block_input: output + v.to(output.device, output.dtype)


def encoder_blocks(model: TextEncoder) -> Sequence[torch.nn.Module]:
    """The transformer blocks of a BERT-family model (``model.encoder.layer``), or a clear error."""
    blocks = getattr(getattr(model.model, "encoder", None), "layer", None)
    if blocks is None:
        raise TypeError("edits and top-layer fine-tuning need a BERT-family model (model.encoder.layer)")
    return blocks


@contextlib.contextmanager
def _hooks(model: TextEncoder, edits: Mapping[int, Edit]) -> Iterator[None]:
    blocks = encoder_blocks(model)
    handles = []
    for layer, edit in edits.items():
        # layer k is the output of block k; layer 0, the embedding, is not a block
        check_int(layer, "an edit's layer (a block's output, not the embedding 0)", min=1, max=len(blocks))
        if not callable(edit):
            raise TypeError(f"the edit at layer {layer} must be callable (output, input) → output")

        def hook(module, args, output, edit=edit):
            hidden = output[0] if isinstance(output, tuple) else output
            new = edit(hidden, args[0])
            if new.shape != hidden.shape:
                raise ValueError(f"an edit must keep the shape {tuple(hidden.shape)}, got {tuple(new.shape)}")
            return (new,) + tuple(output[1:]) if isinstance(output, tuple) else new

        # prepend: run before any hook the library installed (transformers 5 records hidden states
        # with forward hooks; they must see the edited output)
        handles.append(blocks[int(layer) - 1].register_forward_hook(hook, prepend=True))
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def edited_activations(model: TextEncoder, texts: Sequence[str],
                       edits: Mapping[int, Edit]) -> np.ndarray:
    """``(n, n_layers + 1, dim)``: ``model.embed(texts)`` with ``edits`` applied while it runs."""
    with _hooks(model, edits):
        layers, _ = timed_embed(model, list(texts))
    return layers
