"""Names per second of MiniLM at every layer: the course's batching against what a user would write.

* course: :meth:`TextEncoder.embed` — names of equal token length batched together (almost no
  padding), all 7 layers' hidden states pooled in one forward pass;
* unsorted batches: the same batches of 256 in the names' own order (each padded to its longest name);
* one at a time: a Python loop, one forward pass per name.

Measured in one run on the names with ≥ 20,000 births (the quick profile's 1,683). Threads: both
cores, as in the notebook.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from _common import print_table, unsorted_embed
from course_lib.encoders import load_text_encoder
from course_lib.identity.names import name_table


def one_at_a_time(encoder, names):
    out = []
    with torch.no_grad():
        for name in names:
            enc = encoder.tokenizer([name], return_tensors="pt")
            hidden = encoder.model(**enc, output_hidden_states=True).hidden_states
            out.append(torch.stack([h[0, 1:-1].mean(0) for h in hidden]))
    return torch.stack(out).numpy()


def main() -> None:
    encoder = load_text_encoder("minilm", device="cpu")
    names = list(name_table(20_000)["name"])
    encoder.embed(names[:64])  # warm up
    timings = {}
    start = time.perf_counter(); ours = encoder.embed(names); timings["course (length-sorted batches)"] = time.perf_counter() - start
    start = time.perf_counter(); plain = unsorted_embed(encoder, names, 256); timings["unsorted batches of 256"] = time.perf_counter() - start
    few = names[:300]
    start = time.perf_counter(); single = one_at_a_time(encoder, few); timings["one name at a time"] = (time.perf_counter() - start) * len(names) / len(few)
    assert np.allclose(ours, plain, atol=1e-4) and np.allclose(ours[:300], single, atol=1e-4), "the three disagree"
    base = timings["course (length-sorted batches)"]
    rows = [[label, len(names) / t, t / base] for label, t in timings.items()]
    print_table(f"MiniLM, all 7 layers, {len(names):,} names, {torch.get_num_threads()} threads",
                ["method", "names/s", "time ÷ course"], rows)


if __name__ == "__main__":
    main()
