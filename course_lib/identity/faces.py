"""Portraits for names and for NameBasis points, with Stable Diffusion (notebook 3.2, GPU only).

:func:`load_portrait_pipeline` loads Stable Diffusion 1.5 through :mod:`diffusers` (weights from the
model hub: Colab or a GPU machine with internet). Its text encoder is CLIP ViT-L/14's, the
``"clip"`` back-end of :mod:`course_lib.encoders`, so a NameBasis fitted on that encoder's token embeddings
lives in the space the pipeline reads its prompt from.

:func:`identity_prompt_embeds` writes an identity into a prompt the way Celeb Basis does: the
prompt holds a placeholder word, and the embedding rows of the placeholder's tokens are replaced by
the identity's vectors (one per token position) before the text encoder runs — done with a forward
hook on the token-embedding layer, so no weight is changed. :func:`portraits` renders a batch with
one fixed noise seed per image, so two prompts differ only by their text.

Everywhere else :func:`tiny_pipeline` builds the same pipeline class from small configs with
random weights (a 2-block UNet, a 1-block VAE, a 2-layer CLIP text model and a byte-level BPE
tokenizer written here). Its images are noise: it exists so that this code is tested on a CPU,
never to be shown as a face.
"""

from __future__ import annotations

import contextlib
import json
import re
import tempfile
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np
import torch

from .. import runtime
from ..encoders import check_texts, quiet_transformers
from ..validation import check_int

__all__ = ["SD_MODEL", "PLACEHOLDER", "load_portrait_pipeline", "tiny_pipeline", "write_tiny_clip_tokenizer",
           "identity_prompt_embeds", "portraits", "pipeline_encoder"]

#: The hub id of Stable Diffusion 1.5 (CLIP ViT-L/14 text encoder, 512 × 512 images).
SD_MODEL = "stable-diffusion-v1-5/stable-diffusion-v1-5"
#: The word in a prompt template that an identity's vectors replace.
PLACEHOLDER = "sks"


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2/CLIP's reversible map from the 256 byte values to printable characters."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    chars = keep[:]
    extra = 0
    for b in range(256):
        if b not in keep:
            keep.append(b)
            chars.append(256 + extra)
            extra += 1
    return dict(zip(keep, (chr(c) for c in chars)))


def write_tiny_clip_tokenizer(folder: str | Path, words: Sequence[str] = ()) -> Path:
    """A byte-level CLIP BPE vocabulary: ``vocab.json`` (the 256 byte characters, each also with the
    end-of-word mark ``</w>``, and the two special tokens) and ``merges.txt``. With no ``words`` there
    are no merges (every word is spelled letter by letter); each of ``words`` (lower-case letters)
    gets the chain of merges ``w₁ w₂ → w₁w₂``, …, ``w₁…wₙ₋₁ wₙ</w> → w₁…wₙ</w>``, so that it is one
    token, as common names are in CLIP's real vocabulary. Enough for ``CLIPTokenizer`` to load offline."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    chars = list(_bytes_to_unicode().values())
    tokens = chars + [c + "</w>" for c in chars] + ["<|startoftext|>", "<|endoftext|>"]
    ranks: dict[tuple[str, str], int] = {}

    def add(left: str, right: str) -> None:
        if (left, right) not in ranks:
            ranks[left, right] = len(ranks)
            if left + right not in tokens:
                tokens.append(left + right)

    for word in words:
        if not isinstance(word, str) or not re.fullmatch(r"[a-z]{2,}", word):
            raise ValueError(f"words must be lower-case letters a–z, at least 2 each, got {word!r}")
        for k in range(2, len(word) + 1):
            add(word[:k - 1], word[k - 1] + ("</w>" if k == len(word) else ""))
    # Another word's merges can cut into a chain (Mason's "m a" inside "amanda"): join what is left of
    # each word with merges ranked after all others, which cannot change a word that is already whole.
    for word in words:
        pieces = _bpe(word, ranks)
        while len(pieces) > 1:
            add(pieces[0], pieces[1])
            pieces = _bpe(word, ranks)
    merges = sorted(ranks, key=ranks.__getitem__)
    (folder / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(tokens)}), encoding="utf8")
    (folder / "merges.txt").write_text("#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in merges), encoding="utf8")
    return folder


def _bpe(word: str, ranks: dict[tuple[str, str], int]) -> list[str]:
    """CLIP's byte-pair encoding of one lower-case ASCII word: merge the best-ranked adjacent pair, repeat."""
    pieces = list(word[:-1]) + [word[-1] + "</w>"]
    while len(pieces) > 1:
        pairs = [(pieces[i], pieces[i + 1]) for i in range(len(pieces) - 1)]
        best = min(pairs, key=lambda p: ranks.get(p, float("inf")))
        if best not in ranks:
            break
        merged, i = [], 0
        while i < len(pieces):
            if i < len(pieces) - 1 and (pieces[i], pieces[i + 1]) == best:
                merged.append(pieces[i] + pieces[i + 1])
                i += 2
            else:
                merged.append(pieces[i])
                i += 1
        pieces = merged
    return pieces


def tiny_pipeline(seed: int = 0, folder: str | Path | None = None, words: Sequence[str] = ()) -> Any:
    """A Stable Diffusion pipeline of the real classes at toy size, random weights, 32 × 32 images;
    ``words`` are single tokens of its tokenizer (see :func:`write_tiny_clip_tokenizer`)."""
    import diffusers

    transformers = quiet_transformers()
    runtime.seed_everything(seed)
    folder = Path(tempfile.mkdtemp(prefix="tiny-sd-")) if folder is None else Path(folder)
    # from_pretrained reads vocab.json + merges.txt under transformers 4 and 5 alike (their
    # constructors differ: vocab_file/merges_file in 4, vocab/merges in 5)
    tokenizer = transformers.CLIPTokenizer.from_pretrained(str(write_tiny_clip_tokenizer(folder, words)), model_max_length=32)
    text_config = transformers.CLIPTextConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64,
                                              num_hidden_layers=2, num_attention_heads=4,
                                              max_position_embeddings=32, bos_token_id=tokenizer.bos_token_id,
                                              eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    text_encoder = transformers.CLIPTextModel(text_config)
    unet = diffusers.UNet2DConditionModel(
        sample_size=16, in_channels=4, out_channels=4, layers_per_block=1, block_out_channels=(32, 64),
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=32, attention_head_dim=4, norm_num_groups=8)
    vae = diffusers.AutoencoderKL(in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(16, 32),
                                  down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2,
                                  norm_num_groups=8, sample_size=32)
    scheduler = diffusers.DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                                        clip_sample=False, set_alpha_to_one=False, steps_offset=1)
    pipe = diffusers.StableDiffusionPipeline(vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet,
                                             scheduler=scheduler, safety_checker=None, feature_extractor=None,
                                             requires_safety_checker=False)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def load_portrait_pipeline(path: str | Path | None = None, device: str | torch.device | None = None) -> Any:
    """Stable Diffusion 1.5 from a local ``path`` (``save_pretrained`` layout) or the hub.

    Needs a GPU to be useful (a 512 × 512 portrait is ~1 s on a GPU, minutes on a laptop CPU): on a
    machine without CUDA it refuses with a clear message instead of starting a multi-GB download.
    """
    import diffusers

    device = runtime.get_device() if device is None else torch.device(device)
    if path is None and device.type != "cuda":
        raise RuntimeError("Stable Diffusion portraits need a GPU (in Colab: Runtime → Change runtime "
                           "type → GPU); on a CPU use tiny_pipeline() to run the same code at toy size")
    source = SD_MODEL if path is None else str(path)
    if path is not None and not Path(path).is_dir():
        raise FileNotFoundError(f"path {str(path)!r} is not a folder with a saved pipeline")
    dtype = torch.float16 if device.type == "cuda" else torch.float32
    pipe = diffusers.StableDiffusionPipeline.from_pretrained(source, torch_dtype=dtype, safety_checker=None,
                                                             requires_safety_checker=False,
                                                             local_files_only=path is not None)
    pipe.set_progress_bar_config(disable=True)
    return pipe.to(device)


def _placeholder_positions(tokenizer: Any, input_ids: torch.Tensor) -> list[int]:
    """Positions in the tokenised prompt that spell :data:`PLACEHOLDER`."""
    word = tokenizer(PLACEHOLDER, add_special_tokens=False)["input_ids"]
    ids = input_ids.tolist()
    for start in range(len(ids) - len(word) + 1):
        if ids[start:start + len(word)] == word:
            return list(range(start, start + len(word)))
    raise ValueError(f"the prompt template must contain the placeholder word {PLACEHOLDER!r}")


@contextlib.contextmanager
def _replace_rows(embedding: torch.nn.Module, positions: list[int], vectors: torch.Tensor) -> Iterator[None]:
    """While active, the token-embedding layer's output at ``positions`` is ``vectors``."""
    def hook(module: Any, args: Any, output: torch.Tensor) -> torch.Tensor:
        output = output.clone()
        output[:, positions] = vectors.to(output.dtype).to(output.device)
        return output

    handle = embedding.register_forward_hook(hook)
    try:
        yield
    finally:
        handle.remove()


def pipeline_encoder(pipe: Any) -> Any:
    """The pipeline's own tokenizer and text encoder as a :class:`~course_lib.encoders.TextEncoder` (back-end
    ``"clip"``), so names are embedded in exactly the space the pipeline reads."""
    from ..encoders import TextEncoder

    return TextEncoder(name="clip", source="pipeline", tokenizer=pipe.tokenizer, model=pipe.text_encoder,
                       device=pipe.text_encoder.device)


@torch.no_grad()
def identity_prompt_embeds(pipe: Any, template: str, identity: object) -> torch.Tensor:
    """The text encoder's output ``(1, seq, dim)`` for ``template`` (containing the word
    :data:`PLACEHOLDER`) with the placeholder's token embeddings replaced by ``identity``,
    ``(positions, dim)`` — e.g. ``NameBasis.decode(coefficients)[0]``. When the placeholder spells
    to fewer tokens than ``identity`` has positions, the first ones are used."""
    if not isinstance(template, str) or not re.search(rf"\b{PLACEHOLDER}\b", template):
        raise ValueError(f"template must be a string containing the placeholder word {PLACEHOLDER!r}, got {template!r}")
    vectors = torch.as_tensor(np.asarray(identity), dtype=torch.float32)
    dim = pipe.text_encoder.config.hidden_size
    if vectors.ndim != 2 or vectors.shape[1] != dim:
        raise ValueError(f"identity must have shape (positions, {dim}), got {tuple(vectors.shape)}")
    tokens = pipe.tokenizer(template, padding="max_length", max_length=pipe.tokenizer.model_max_length,
                            truncation=True, return_tensors="pt")
    positions = _placeholder_positions(pipe.tokenizer, tokens["input_ids"][0])
    rows = vectors[torch.arange(len(positions)).clamp_max(len(vectors) - 1)]
    encoder = pipe.text_encoder
    with _replace_rows(encoder.get_input_embeddings(), positions, rows):
        out = encoder(tokens["input_ids"].to(encoder.device))[0]
    return out


@torch.no_grad()
def portraits(pipe: Any, prompts: Sequence[str] | None = None, *, prompt_embeds: Sequence[torch.Tensor] | None = None,
              seed: int = 0, steps: int = 25, guidance: float = 7.5, size: int | None = None) -> list[Any]:
    """One PIL image per prompt (or per precomputed ``prompt_embeds``), each from the same seeded noise."""
    if (prompts is None) == (prompt_embeds is None):
        raise ValueError("give exactly one of prompts or prompt_embeds")
    items = check_texts(prompts, "prompts") if prompts is not None else list(prompt_embeds)
    if not items:
        raise ValueError("prompt_embeds must not be empty")
    check_int(steps, "steps", min=1, max=200)
    images = []
    # On a CPU (the tiny pipeline), one thread: two on a busy 2-core machine took 7 s per toy image
    # instead of 0.1 s. A GPU pipeline is left alone.
    on_cpu = getattr(getattr(pipe, "device", None), "type", "cpu") == "cpu"
    with runtime.cpu_threads() if on_cpu else contextlib.nullcontext():
        for item in items:
            generator = torch.Generator(device="cpu").manual_seed(int(seed))
            kwargs = {"prompt": item} if isinstance(item, str) else {"prompt_embeds": item}
            if size is not None:
                kwargs.update(height=size, width=size)
            out = pipe(**kwargs, num_inference_steps=steps, guidance_scale=guidance, generator=generator)
            images.append(out.images[0])
    return images
