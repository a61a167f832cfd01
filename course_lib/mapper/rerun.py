"""Record a model's hidden states once, then rerun only the blocks above an edit (notebook 4.3).

An edit at layer ℓ changes the output of block ℓ; everything below it is unchanged. So for many edits
of the same sentences — many steering vectors, doses, controls, ablations — :class:`LayerRecording`
runs the whole model once, keeps the hidden states at the layers asked for (and the attention-mask
arguments the installed transformers passes to a block, captured by a pre-hook as in
:class:`~.finetune.TopLayers`), and :meth:`LayerRecording.last_layer` reruns only blocks ℓ+1 … L on
the edited states. The result is the same mean-pooled last layer as
:func:`~.interventions.edited_activations` with the same edit (a test checks this), several times
faster for edits at middle layers.

Beyond the edits of :mod:`.interventions`, ``add`` takes one vector *per sentence* (n, dim), so every
sentence can be steered by its own vector in a single pass.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch

from .. import runtime
from ..encoders import check_texts
from ..validation import check_int
from .interventions import Edit, encoder_blocks

__all__ = ["LayerRecording"]


class _Captured(Exception):
    pass


class LayerRecording:
    """``texts`` run once through ``model`` (a BERT-family :class:`~course_lib.encoders.TextEncoder`);
    hidden states kept at ``layers`` (0 = embedding, L = last block's output; the last is always kept)."""

    def __init__(self, model: Any, texts: Sequence[str], layers: Sequence[int], batch_size: int = 128):
        texts = check_texts(texts, "texts")
        self.model, self.blocks = model, list(encoder_blocks(model))
        self.n_layers = len(self.blocks)
        check_int(batch_size, "batch_size", min=1)
        keep = sorted({check_int(layer, "a recorded layer", min=0, max=self.n_layers) for layer in layers}
                      | {self.n_layers})
        self.layers, self.n = tuple(keep), len(texts)
        lengths = [len(ids) for ids in model.tokenizer(texts, add_special_tokens=False)["input_ids"]]
        order = np.argsort(lengths, kind="stable")
        self.batches: list[dict[str, Any]] = []
        captured: dict[str, Any] = {}

        def grab(module, args, kwargs):
            captured.setdefault("extra", (args[1:], kwargs))

        handle = self.blocks[0].register_forward_pre_hook(grab, with_kwargs=True)
        try:
            with torch.no_grad(), runtime.cpu_threads() as fit:
                fit(runtime.MANY_ROWS)
                for start in range(0, len(texts), batch_size):
                    rows = order[start:start + batch_size]
                    captured.clear()
                    batch = model._batch([texts[i] for i in rows])
                    hidden = model.model(**batch["inputs"], output_hidden_states=True).hidden_states
                    weights = batch["own"] / batch["own"].sum(dim=1, keepdim=True).clamp_min(1)
                    self.batches.append(dict(rows=rows, extra=captured["extra"], weights=weights,
                                             states={k: hidden[k].detach().clone() for k in keep}))
        finally:
            handle.remove()

    def _pool(self, hidden: torch.Tensor, weights: torch.Tensor) -> np.ndarray:
        return torch.einsum("bsd,bs->bd", hidden.float(), weights.to(hidden.device)).cpu().numpy()

    def intact(self) -> np.ndarray:
        """``(n, dim)`` float32: the unedited last layer (mean over each sentence's own tokens)."""
        return self.last_layer(self.n_layers)

    @torch.no_grad()
    def last_layer(self, layer: int, edit: Edit | None = None, add: np.ndarray | None = None) -> np.ndarray:
        """``(n, dim)`` float32: the mean-pooled last layer when block ``layer``'s output is changed by
        ``edit(output, block input)`` and/or has ``add[i]`` added at every token of sentence ``i``.
        ``layer`` must be recorded (and, for an ``edit`` that reads the block's input, ``layer − 1``)."""
        check_int(layer, "layer", min=1, max=self.n_layers)
        if layer not in self.layers:
            raise ValueError(f"layer {layer} was not recorded (recorded: {self.layers})")
        if edit is not None and not callable(edit):
            raise TypeError("edit must be callable (output, block input) → output")
        vectors = None
        if add is not None:
            vectors = np.asarray(add, dtype=np.float32)
            if vectors.shape != (self.n, self.model.dim) or not np.all(np.isfinite(vectors)):
                raise ValueError(f"add must be a finite ({self.n}, {self.model.dim}) array, got {vectors.shape}")
        out = np.zeros((self.n, self.model.dim), dtype=np.float32)
        with runtime.cpu_threads() as fit:
            fit(runtime.MANY_ROWS)
            for batch in self.batches:
                hidden = batch["states"][layer]
                if edit is not None:
                    below = batch["states"].get(layer - 1)
                    new = edit(hidden, below)
                    if not isinstance(new, torch.Tensor) or new.shape != hidden.shape:
                        raise ValueError(f"the edit at layer {layer} must return a tensor of shape "
                                         f"{tuple(hidden.shape)} (an edit that reads the block's input "
                                         f"needs layer {layer - 1} recorded too)")
                    hidden = new
                if vectors is not None:
                    hidden = hidden + torch.from_numpy(vectors[batch["rows"]])[:, None, :].to(hidden.dtype)
                args, kwargs = batch["extra"]
                for block in self.blocks[layer:]:
                    result = block(hidden, *args, **kwargs)
                    hidden = result[0] if isinstance(result, tuple) else result
                out[batch["rows"]] = self._pool(hidden, batch["weights"])
        return out
