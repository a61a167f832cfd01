"""Tests for course_lib.modular.exercises: the checker of notebook 3.3 against subtle wrong answers."""

import numpy as np
import pytest
import torch

from course_lib.modular.exercises import check_frequency_norms, solution_frequency_norms
from course_lib.modular.measures import embedding_spectrum, fourier_basis


def test_frequency_norms_solution_passes_and_wrong_answers_fail():
    assert check_frequency_norms(solution_frequency_norms, quiet=True).passed

    def cos_only(W):
        c = fourier_basis(W.shape[0]) @ W.double()
        return c[1::2].pow(2).sum(1).sqrt().numpy()

    def keeps_constant(W):                      # off by one: pairs (const, cos1), (sin1, cos2), …
        c = fourier_basis(W.shape[0]) @ W.double()
        return c[:-1].pow(2).sum(1).reshape(-1, 2).sum(1).sqrt().numpy()

    def no_sqrt(W):
        c = fourier_basis(W.shape[0]) @ W.double()
        return c[1:].pow(2).sum(1).reshape(-1, 2).sum(1).numpy()

    def unnormalised(W):                        # raw cos/sin waves instead of the orthonormal basis
        p = W.shape[0]
        x = torch.arange(p, dtype=torch.float64); k = torch.arange(1, (p - 1) // 2 + 1, dtype=torch.float64)[:, None]
        cos, sin = torch.cos(2 * torch.pi * k * x / p) @ W.double(), torch.sin(2 * torch.pi * k * x / p) @ W.double()
        return (cos.pow(2).sum(1) + sin.pow(2).sum(1)).sqrt().numpy()

    for wrong in (cos_only, keeps_constant, no_sqrt, unnormalised):
        assert not check_frequency_norms(wrong, quiet=True).passed, wrong.__name__
    assert not check_frequency_norms(lambda W: embedding_spectrum(W), quiet=True).passed


def test_a_stub_fails_without_raising():
    def stub(*args):
        raise NotImplementedError
    assert not check_frequency_norms(stub, quiet=True).passed


# --------------------------------------------------------------------------- confident_wrong
from types import SimpleNamespace  # noqa: E402

from course_lib.modular.exercises import (check_confident_wrong, check_excluded_prediction,  # noqa: E402
                                          check_excluded_prediction_form, check_mechanism_prediction,
                                          check_mechanism_prediction_form, excluded_verdict,
                                          mechanism_verdict, solution_confident_wrong)


def _softmax_wrong(l, y):
    p = torch.softmax(l.double(), -1)
    p[torch.arange(len(y)), y] = 0
    return p


CONFIDENT_WRONG_ANSWERS = {
    "top answer, right or wrong": lambda l, y, t: float((torch.softmax(l, -1).max(-1).values > t).double().mean()),
    "all wrong mass": lambda l, y, t: float(((1 - torch.softmax(l.double(), -1)[torch.arange(len(y)), y]) > t).double().mean()),
    "logits, not probabilities": lambda l, y, t: float((l.scatter(1, y[:, None], -1e9).max(-1).values > t).double().mean()),
    "renormalised over the wrong answers": lambda l, y, t: float(
        (torch.softmax(l.scatter(1, y[:, None], -1e9), -1).max(-1).values > t).double().mean()),
    "threshold fixed at 0.9": lambda l, y, t: float((_softmax_wrong(l, y).max(-1).values > 0.9).double().mean()),
    "a count, not a share": lambda l, y, t: float((_softmax_wrong(l, y).max(-1).values > t).double().sum()),
    "changes the input": lambda l, y, t: (l.__setitem__((torch.arange(len(y)), y), -1e9),
                                          float((torch.softmax(l, -1).max(-1).values > t).double().mean()))[1],
}


def test_confident_wrong_solution_passes():
    assert check_confident_wrong(solution_confident_wrong, quiet=True).passed


@pytest.mark.parametrize("name", sorted(CONFIDENT_WRONG_ANSWERS))
def test_confident_wrong_wrong_answers_fail(name):
    result = check_confident_wrong(CONFIDENT_WRONG_ANSWERS[name], quiet=True)
    assert not result.passed, name


def test_confident_wrong_stub_and_library_call_fail_without_raising():
    def stub(logits, labels, threshold=0.9):
        raise NotImplementedError
    assert "not implemented" in check_confident_wrong(stub, quiet=True).message

    def borrowed(logits, labels, threshold=0.9):
        from course_lib.modular.mechanism import confident_wrong_share
        return confident_wrong_share(logits, labels, threshold)
    result = check_confident_wrong(borrowed, quiet=True)
    assert not result.passed and "your own code" in result.message


# --------------------------------------------------------------------------- written-down predictions
def _run_and_mech(excluded_peak=9.7, worse=0.8, cos_final=0.97, cos_half_at=400, grok=900, on_key=True):
    steps = np.arange(0, 2001, 100)
    excluded = np.full(len(steps), 1.0)
    excluded[5] = excluded_peak
    cos = np.clip((steps - cos_half_at) / 800 + 0.5, 0, cos_final)
    neuron_best_k = np.array([[3, 3, 7, 7]] * 2) if on_key else np.array([[3, 3, 7, 8]] * 2)
    run = SimpleNamespace(p=113, checkpoint_steps=steps, excluded_loss=excluded, key_frequencies=(3, 7),
                          grok_step=lambda accuracy=0.95: grok)
    mech = SimpleNamespace(steps=steps, excluded_worse_than_uniform=np.full(len(steps), worse),
                           cos_fraction=cos, neuron_fraction=np.full((2, 4), 0.9), neuron_best_k=neuron_best_k)
    return run, mech


def test_excluded_verdict_and_checks():
    run, mech = _run_and_mech()
    assert excluded_verdict(run, mech) == {"above_ln_p": True, "quarter_worse_than_uniform": True}
    right = {"above_ln_p": True, "quarter_worse_than_uniform": True}
    assert check_excluded_prediction(right, run, mech, quiet=True).passed
    for wrong in ({"above_ln_p": False, "quarter_worse_than_uniform": True},      # "it cannot exceed ln p"
                  {"above_ln_p": True, "quarter_worse_than_uniform": False}):
        result = check_excluded_prediction(wrong, run, mech, quiet=True)
        assert not result.passed and "; measured " in result.message
    # 46 %: under half, but over a quarter (quick's seed 1) -> True
    assert excluded_verdict(*_run_and_mech(worse=0.46))["quarter_worse_than_uniform"] is True
    low_run, low_mech = _run_and_mech(excluded_peak=4.0, worse=0.2)         # below ln 113 ≈ 4.73
    assert excluded_verdict(low_run, low_mech) == {"above_ln_p": False, "quarter_worse_than_uniform": False}


@pytest.mark.parametrize("prediction", [
    {"above_ln_p": None, "quarter_worse_than_uniform": None},                 # the stub
    {"above_ln_p": 1, "quarter_worse_than_uniform": True},                    # 1 is not True
    {"above_ln_p": "yes", "quarter_worse_than_uniform": True},
    {"above_ln_p": True},                                                  # a key missing
    {"above_ln_p": True, "quarter_worse_than_uniform": True, "why": "x"},     # an extra key
    [True, True],
])
def test_excluded_prediction_form_rejects_malformed(prediction):
    assert not check_excluded_prediction_form(prediction, quiet=True).passed


def test_excluded_prediction_form_accepts_numpy_bools():
    assert check_excluded_prediction_form({"above_ln_p": np.bool_(True), "quarter_worse_than_uniform": False},
                                          quiet=True).passed


def test_mechanism_verdict_and_checks():
    run, mech = _run_and_mech()
    want = {"final_share": "above 90%", "half_before_grok": True, "neurons_on_key": True}
    assert mechanism_verdict(run, mech) == want
    assert check_mechanism_prediction(want, run, mech, quiet=True).passed
    for key, other in (("final_share", "50-90%"), ("half_before_grok", False), ("neurons_on_key", False)):
        result = check_mechanism_prediction({**want, key: other}, run, mech, quiet=True)
        assert not result.passed and "; measured " in result.message, key
    late, late_mech = _run_and_mech(cos_final=0.8, cos_half_at=1200, on_key=False)
    assert mechanism_verdict(late, late_mech) == {"final_share": "50-90%", "half_before_grok": False,
                                                  "neurons_on_key": False}
    exactly, exactly_mech = _run_and_mech(cos_half_at=900, grok=900)        # exactly half at grok: not more
    assert mechanism_verdict(exactly, exactly_mech)["half_before_grok"] is False
    # crossed half before grokking but read at the grok step: the share there decides
    just, just_mech = _run_and_mech(cos_half_at=800, grok=900)              # 62.5 % at grok
    assert mechanism_verdict(just, just_mech)["half_before_grok"] is True
    dipped, dipped_mech = _run_and_mech(cos_half_at=400, grok=900)
    dipped_mech.cos_fraction = dipped_mech.cos_fraction.copy()
    dipped_mech.cos_fraction[9] = 0.45                                      # fell back below half at grok
    assert mechanism_verdict(dipped, dipped_mech)["half_before_grok"] is False
    never, never_mech = _run_and_mech(grok=None)                           # never grokked: half came first
    assert mechanism_verdict(never, never_mech)["half_before_grok"] is True


@pytest.mark.parametrize("prediction", [
    {"final_share": None, "half_before_grok": None, "neurons_on_key": None},
    {"final_share": ">90%", "half_before_grok": True, "neurons_on_key": True},
    {"final_share": "above 90%", "half_before_grok": 1, "neurons_on_key": True},
    {"final_share": "above 90%", "half_before_grok": True},
])
def test_mechanism_prediction_form_rejects_malformed(prediction):
    assert not check_mechanism_prediction_form(prediction, quiet=True).passed
