"""Shared bits of the benchmark scripts: paths and a table printer."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "chapters").glob("*/*.ipynb"))


def print_table(title: str, header: list[str], rows: list[list[object]]) -> None:
    """Print a plain-text table with right-aligned columns."""
    cells = [header] + [[f"{c:.3g}" if isinstance(c, float) else str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    print(f"\n{title}")
    for j, row in enumerate(cells):
        print("  ".join(c.rjust(w) for c, w in zip(row, widths)))
        if j == 0:
            print("  ".join("-" * w for w in widths))


def unsorted_embed(encoder, texts: list[str], batch_size: int) -> "np.ndarray":  # noqa: F821
    """What a user writes first: batches in the texts' own order (each padded to its longest text),
    every layer mean-pooled over each text's own tokens — the alternative to the course's batching."""
    import torch

    out = []
    with torch.no_grad():
        for start in range(0, len(texts), batch_size):
            batch = encoder._batch(texts[start:start + batch_size])
            hidden = torch.stack(encoder.model(**batch["inputs"], output_hidden_states=True).hidden_states, 1)
            w = batch["own"] / batch["own"].sum(1, keepdim=True)
            out.append(torch.einsum("blsd,bs->bld", hidden.float(), w))
    return torch.cat(out).numpy()
