"""Fine-tune MiniLM's top layers on the emotion labels and keep its last layer at every checkpoint
(notebook 4.3: how the Mapper graph changes while the model learns).

**Split.** Every topic × emotion cell has five situations. Single-emotion sentences built on
situations 1–3 are the training set; those on situations 4–5 are held out (new situations, not just new
wording); the mixed sentences are never trained on. :func:`situation_split` gives the masks.

**Speed.** Only the top ``top_layers`` blocks and a linear head train, so the frozen bottom is run
once: :class:`TopLayers` records, for fixed length-sorted batches, the hidden states entering the first
trainable block *and the exact mask arguments the installed transformers passes to it* (a pre-hook
captures them, so the code does not depend on how a version builds attention masks). A training step,
and a checkpoint's re-embedding of all 1,224 sentences, then run only the top blocks. The recording and
the checkpoints' re-embedding run in float32 like every MiniLM activation in the course (bfloat16's
results depend on the CPU's kernels: see :mod:`.activations`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .. import runtime
from ..cache import cached
from ..encoders import TextEncoder, encoder_source, load_text_encoder
from ..widgets import progress
from .interventions import encoder_blocks
from .lenses import unit_rows
from .sentences import EMOTIONS, EVENTS, SentenceSet, load_sentences
from ..checkpoints import checkpoint_index, log_spaced_steps
from ..validation import check_int

__all__ = ["FINETUNE_SETTINGS", "checkpoint_steps", "situation_split", "TopLayers", "FineTuneRun", "fine_tune_run"]

FINETUNE_SETTINGS = {
    # quick: log_spaced_steps(60, 6) without step 1, whose graph is step 0's (a re-embedding saved)
    "quick": dict(steps=60, checkpoints=(0, 3, 8, 22, 60), top_layers=2, batch_size=32, lr=1e-4, head_lr=1e-3),
    "standard": dict(steps=200, checkpoints=11, top_layers=2, batch_size=32, lr=1e-4, head_lr=1e-3),
    "full": dict(steps=600, checkpoints=16, top_layers=2, batch_size=32, lr=1e-4, head_lr=1e-3),
}
# 2: one recording of the frozen bottom (training batches first); 3: its bf16 products; 4: float32;
# 5: one CPU thread
_CACHE_VERSION = 5


def situation_index(sentences: SentenceSet) -> np.ndarray:
    """For each sentence, which of its cell's five situations it uses (0–4); -1 for mixed sentences."""
    out = np.full(len(sentences), -1)
    for i, (text, topic, emotion, kind) in enumerate(zip(sentences.text, sentences.topic,
                                                         sentences.emotion, sentences.kind)):
        if kind == "mixed":
            continue
        hits = [j for j, e in enumerate(EVENTS[(topic, emotion)]) if e.lower() in text.lower()]
        if len(hits) != 1:
            raise RuntimeError(f"sentence {i} should use exactly one situation: {text!r}")
        out[i] = hits[0]
    return out


def situation_split(sentences: SentenceSet) -> tuple[np.ndarray, np.ndarray]:
    """``(train, held_out)`` boolean masks: single-emotion sentences on situations 0–2 / 3–4."""
    index = situation_index(sentences)
    return (index >= 0) & (index <= 2), index >= 3


class _Captured(Exception):
    pass


class TopLayers:
    """The top ``top_layers`` blocks of a BERT-family encoder, run on recorded inputs.

    ``batches`` are fixed groups of ``batch_size`` rows of ``texts`` (sorted by token length); for
    each, the hidden states entering block ``n_layers - top_layers`` and that block's other arguments
    are recorded once with the frozen bottom of the model. With ``first`` (a boolean mask over the
    texts) the ``first`` rows are batched on their own before the rest, so the first
    :attr:`n_first` batches hold exactly the batches of ``TopLayers(texts[first])`` — the training
    batches — and the frozen bottom runs once for both uses."""

    def __init__(self, encoder: TextEncoder, texts: list[str], top_layers: int, batch_size: int = 32,
                 first: np.ndarray | None = None):
        blocks = encoder_blocks(encoder)
        check_int(top_layers, "top_layers", min=1, max=len(blocks))
        self.encoder, self.blocks = encoder, list(blocks)[-top_layers:]
        first_block = self.blocks[0]
        lengths = np.array([len(ids) for ids in encoder.tokenizer(texts, add_special_tokens=False)["input_ids"]])
        groups = [np.arange(len(texts))]
        if first is not None:
            first = np.asarray(first, dtype=bool)
            if first.shape != (len(texts),):
                raise ValueError(f"first must be a boolean mask over the {len(texts)} texts")
            groups = [np.flatnonzero(first), np.flatnonzero(~first)]
        batches = []
        for group in groups:
            order = group[np.argsort(lengths[group], kind="stable")]
            batches.append([order[s:s + batch_size] for s in range(0, len(order), batch_size)])
        self.n_first = len(batches[0])
        self.rows, self.records = [], []
        captured: dict[str, Any] = {}

        def grab(module, args, kwargs):
            captured["args"], captured["kwargs"] = args, kwargs
            raise _Captured

        handle = first_block.register_forward_pre_hook(grab, with_kwargs=True)
        try:
            with torch.no_grad():
                for rows in (rows for group in batches for rows in group):
                    batch = encoder._batch([texts[i] for i in rows])
                    try:
                        encoder.model(**batch["inputs"])
                    except _Captured:
                        pass
                    args, kwargs = captured["args"], captured["kwargs"]
                    weights = batch["own"] / batch["own"].sum(dim=1, keepdim=True).clamp_min(1)
                    self.rows.append(rows)
                    self.records.append((args[0].detach().clone(), args[1:], kwargs, weights))
        finally:
            handle.remove()

    def pooled(self, index: int) -> torch.Tensor:
        """``(b, dim)``: batch ``index``'s mean own-token states after the top blocks (with grad)."""
        hidden, args, kwargs, weights = self.records[index]
        for block in self.blocks:
            out = block(hidden, *args, **kwargs)
            hidden = out[0] if isinstance(out, tuple) else out
        return torch.einsum("bsd,bs->bd", hidden, weights)

    @torch.no_grad()
    def embed_all(self, n: int) -> np.ndarray:
        """``(n, dim)`` float32: every text's last-layer state, in the texts' own order."""
        out = np.zeros((n, self.encoder.dim), dtype=np.float32)
        for index, rows in enumerate(self.rows):
            out[rows] = self.pooled(index).float().cpu().numpy()
        return out


@dataclass(frozen=True)
class FineTuneRun:
    """A fine-tuning run: loss per step, accuracies and the last layer at each checkpoint."""

    settings: dict
    train: np.ndarray              #: (n,) bool, the training sentences
    held_out: np.ndarray           #: (n,) bool, single-emotion sentences on unseen situations
    train_loss: np.ndarray         #: (steps,) cross-entropy of each step's batch
    checkpoint_steps: np.ndarray   #: (c,) steps at which the model was read (0 = before training)
    train_accuracy: np.ndarray     #: (c,) on the training sentences
    held_out_loss: np.ndarray      #: (c,)
    held_out_accuracy: np.ndarray  #: (c,)
    last_layer: np.ndarray         #: (c, n, dim) float32, every sentence's last layer at each checkpoint

    def layer_at(self, step: int, unit: bool = True) -> np.ndarray:
        """``(n, dim)`` last-layer points at checkpoint ``step`` (unit length by default)."""
        x = self.last_layer[checkpoint_index(self.checkpoint_steps, step)].astype(np.float64)
        return unit_rows(x) if unit else x


def checkpoint_steps(steps: int, checkpoints: int | tuple[int, ...]) -> np.ndarray:
    """The steps at which a run is read: ``log_spaced_steps(steps, checkpoints)`` for a count, or the
    given steps (increasing, from 0 to ``steps``)."""
    if isinstance(checkpoints, (int, np.integer)):
        return log_spaced_steps(steps, int(checkpoints))
    out = np.asarray(checkpoints, dtype=np.int64)
    if out.ndim != 1 or len(out) < 2 or out[0] != 0 or out[-1] != steps or np.any(np.diff(out) <= 0):
        raise ValueError(f"checkpoints must be a count or increasing steps from 0 to {steps}, got {checkpoints!r}")
    return out


def _train(settings: dict, seed: int, sentences: SentenceSet, encoder: str) -> dict:
    model = load_text_encoder(encoder, device="cpu")
    model.model = model.model.float().eval()   # a fresh load; eval: no dropout, deterministic
    texts = list(sentences.text)
    train, held_out = situation_split(sentences)
    y = torch.tensor([EMOTIONS.index(e) for e in sentences.emotion])
    generator = runtime.seed_everything(seed)
    for p in model.model.parameters():
        p.requires_grad_(False)
    # one thread: MiniLM's top two layers on 32 sentences are small; on a busy 2-core machine two
    # threads took 2.5x as long (quick: 84 s against 34 s), and one thread is the same on every machine
    with runtime.cpu_threads():
        # one recording of the frozen bottom; its first batches are the training sentences'
        top = TopLayers(model, texts, settings["top_layers"], settings["batch_size"], first=train)
        trainable = [p for block in top.blocks for p in block.parameters()]
        for p in trainable:
            p.requires_grad_(True)
        head = torch.nn.Linear(model.dim, len(EMOTIONS))
        optimiser = torch.optim.AdamW([{"params": trainable, "lr": settings["lr"]},
                                       {"params": head.parameters(), "lr": settings["head_lr"]}])
        steps = settings["steps"]
        checkpoints = checkpoint_steps(steps, settings["checkpoints"])
        losses, layers, accuracy, held_loss, held_acc = [], [], [], [], []

        def read() -> None:
            last = top.embed_all(len(texts))
            with torch.no_grad():
                logits = head(torch.from_numpy(last))
                ce = torch.nn.functional.cross_entropy(logits[held_out], y[held_out])
                hit = (logits.argmax(1) == y).numpy()
            layers.append(last)
            accuracy.append(hit[train].mean())
            held_loss.append(float(ce))
            held_acc.append(hit[held_out].mean())

        read()
        order: list[int] = []
        for step in progress(range(1, steps + 1), desc="fine-tuning MiniLM's top layers"):
            if not order:   # each epoch visits the fixed batches in a fresh random order
                order = torch.randperm(top.n_first, generator=generator).tolist()
            index = order.pop()
            logits = head(top.pooled(index))
            loss = torch.nn.functional.cross_entropy(logits, y[top.rows[index]])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            losses.append(loss.item())
            if step in checkpoints:
                read()
    return dict(train=train, held_out=held_out, train_loss=np.array(losses),
                checkpoint_steps=checkpoints, train_accuracy=np.array(accuracy),
                held_out_loss=np.array(held_loss), held_out_accuracy=np.array(held_acc),
                last_layer=np.stack(layers))


def fine_tune_run(seed: int = 0, profile: str | None = None, encoder: str = "minilm") -> FineTuneRun:
    """The notebook-4.3 fine-tuning run for ``profile`` (cached)."""
    settings = dict(runtime.by_profile(FINETUNE_SETTINGS, profile))
    sentences = load_sentences()
    config = {"settings": settings, "seed": int(seed), "encoder": encoder,
              "source": str(encoder_source(encoder)).rsplit("/", 1)[-1], "version": _CACHE_VERSION}
    payload = cached("mapper-fine-tune", config, lambda: _train(settings, seed, sentences, encoder))
    return FineTuneRun(settings=settings, **payload)
