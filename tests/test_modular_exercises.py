"""Tests for course_lib.modular.exercises: the checker of notebook 3.3 against subtle wrong answers."""

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
