"""Sentences per second of MiniLM at every layer on chapter 4's sentence set (1,224 sentences).

* course: :func:`course_lib.mapper.activations.embed_sentences` — float32, length-sorted batches of
  64, all 7 layers pooled in one forward pass;
* bfloat16, same batching: the alternative a user would try for speed (the course's default until
  its results were found to depend on the CPU's kernels; on CPUs without native bfloat16 it is slower);
* float32, unsorted batches of 64: what a user writes first (each batch padded to its longest).

Threads: every core, as in the notebook. The activations of the three are compared (cosine per point
and layer) so a speed-up cannot come from computing something else.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from _common import print_table, unsorted_embed
from course_lib.encoders import load_text_encoder
from course_lib.mapper.activations import embed_sentences
from course_lib.mapper.sentences import load_sentences


def main() -> None:
    texts = list(load_sentences().text)
    embed_sentences(texts[:64])                                  # warm up (and load once)
    timings, outputs = {}, {}
    outputs["course (float32, length-sorted)"], speed = embed_sentences(texts)
    timings["course (float32, length-sorted)"] = len(texts) / speed
    outputs["bfloat16, length-sorted"], speed = embed_sentences(texts, precision="bfloat16")
    timings["bfloat16, length-sorted"] = len(texts) / speed
    encoder = load_text_encoder("minilm", device="cpu")
    start = time.perf_counter()
    outputs["float32, unsorted batches of 64"] = unsorted_embed(encoder, texts, 64)
    timings["float32, unsorted batches of 64"] = time.perf_counter() - start
    reference = outputs["course (float32, length-sorted)"]
    base = timings["course (float32, length-sorted)"]
    rows = []
    for label, t in timings.items():
        out = outputs[label]
        cos = (out * reference).sum(-1) / np.linalg.norm(out, axis=-1) / np.linalg.norm(reference, axis=-1)
        rows.append([label, len(texts) / t, t / base, f"{cos.min():.5f}"])
    print_table(f"MiniLM, all 7 layers, {len(texts):,} sentences, {torch.get_num_threads()} threads",
                ["method", "sentences/s", "time ÷ course", "min cosine vs float32"], rows)


if __name__ == "__main__":
    main()
