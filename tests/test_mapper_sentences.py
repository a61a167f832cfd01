"""The shipped sentence set: reproducible from its parts, balanced as the card says, and its
activations from MiniLM (bfloat16 matches float32) and from any model loaded by path."""

from collections import Counter

import numpy as np
import pytest

from course_lib.mapper import sentences as S
from course_lib.mapper.activations import embed_sentences, sentence_activations


def test_shipped_file_is_what_the_generator_makes():
    shipped, built = S.load_sentences(), S.build_sentences()
    assert len(shipped) == len(built) == 1224
    for column in ("text", "emotion", "topic", "kind", "second_emotion", "template"):
        assert (getattr(shipped, column) == getattr(built, column)).all(), column


def test_counts_and_balance_match_the_dataset_card():
    s = S.load_sentences()
    assert len(set(s.text)) == len(s)                                  # no duplicates
    assert Counter(s.kind) == {"explicit": 576, "reaction": 240, "event": 120, "mixed": 288}
    # emotion and topic are crossed: every emotion equally often in every topic
    cells = Counter(zip(s.emotion, s.topic))
    assert len(cells) == 24 and set(cells.values()) == {51}
    mixed = s.kind == "mixed"
    assert (s.second_emotion[~mixed] == "").all()
    assert (s.second_emotion[mixed] != s.emotion[mixed]).all()
    assert set(s.second_emotion[mixed]) == set(S.EMOTIONS)
    # explicit and mixed sentences name their emotion; reactions and events name none
    words = {w for ws in S.WORDS.values() for w in ws}
    named = np.array([bool(set(t.lower().rstrip(".").replace(",", "").split()) & words) for t in s.text])
    assert named[(s.kind == "explicit") | mixed].all()
    assert not named[(s.kind == "reaction") | (s.kind == "event")].any()


def test_labels_accessor_refuses_unknown_columns():
    s = S.load_sentences()
    assert (s.labels("topic") == s.topic).all()
    with pytest.raises(ValueError, match="column must be one of"):
        s.labels("colour")


@pytest.fixture(scope="module")
def tiny_bert_dir(tmp_path_factory):
    """A 2-layer random BERT with MiniLM's tokenizer, saved as a hub model would be."""
    import transformers

    from course_lib.encoders import encoder_source

    folder = tmp_path_factory.mktemp("tiny-bert")
    tokenizer = transformers.AutoTokenizer.from_pretrained(encoder_source("minilm"), local_files_only=True)
    config = transformers.BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2,
                                     num_attention_heads=2, intermediate_size=64)
    transformers.BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_any_hugging_face_model_by_path_gives_every_layer(tiny_bert_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    texts = list(S.load_sentences().text[:20])
    layers, speed = embed_sentences(texts, "someone/tiny-bert", path=str(tiny_bert_dir), precision="float32")
    assert layers.shape == (20, 3, 32) and layers.dtype == np.float32 and speed > 0
    small = S.SentenceSet(*(getattr(S.load_sentences(), c)[:20] for c in
                            ("text", "emotion", "topic", "kind", "second_emotion", "template")))
    acts = sentence_activations("someone/tiny-bert", path=str(tiny_bert_dir), precision="float32",
                                sentences=small)
    assert acts.n_layers == 2 and np.allclose(acts.layers, layers, atol=1e-5)
    assert np.allclose(np.linalg.norm(acts.layer(2), axis=1), 1)
    with pytest.raises(ValueError, match=r"index \(a layer\) must be an int in \[0, 2\]"):
        acts.layer(3)


def test_a_hub_id_is_looked_up_only_when_named(monkeypatch):
    import transformers

    from course_lib import encoders as E

    asked = []

    def fake(source, **kwargs):
        asked.append((source, kwargs.get("local_files_only")))
        raise OSError("offline")

    monkeypatch.setattr(transformers.AutoTokenizer, "from_pretrained", fake)
    assert E.encoder_source("owner/model") == "owner/model" and E.is_hub_id("owner/model")
    assert not E.is_hub_id("bert") and not E.is_hub_id("a/b/c") and not E.is_hub_id("/x")
    with pytest.raises(OSError):
        E.load_text_encoder("owner/model")
    assert asked == [("owner/model", False)]
    with pytest.raises(ValueError, match="precision must be one of"):
        embed_sentences(["a sentence"], precision="float16")


def test_bfloat16_activations_agree_with_float32():
    texts = list(S.load_sentences().text[::61])
    full, _ = embed_sentences(texts, precision="float32")
    half, _ = embed_sentences(texts, precision="bfloat16")
    cos = (full * half).sum(-1) / np.linalg.norm(full, axis=-1) / np.linalg.norm(half, axis=-1)
    assert full.shape == (len(texts), 7, 384) and cos.min() > 0.9999, cos.min()


def test_auto_precision_is_float32_so_results_do_not_depend_on_the_cpu():
    """bfloat16's rounding depends on the CPU's kernels (enough to move k-means clusterings and
    chapter 4's numbers between machines): the default must be float32 on every device."""
    import torch

    from course_lib.mapper.activations import _resolve_precision

    assert _resolve_precision("auto") is torch.float32  # takes no device: the same everywhere
    texts = list(S.load_sentences().text[:4])
    auto, _ = embed_sentences(texts)
    full, _ = embed_sentences(texts, precision="float32")
    np.testing.assert_array_equal(auto, full)
