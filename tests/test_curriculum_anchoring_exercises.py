"""Checkers of notebooks 2.3 and 2.4: the solutions pass, subtle wrong answers fail."""

from __future__ import annotations

import numpy as np
import torch

from course_lib.curriculum import anchoring_exercises as X
from course_lib.curriculum.anchoring import hue_evenness
from course_lib.curriculum.intervention import damage, suppress
from course_lib.curriculum.regularisers import anchor_loss


def fails(checker, attempt, words=""):
    result = checker(attempt, quiet=True)
    assert not result.passed, f"{attempt.__name__} should fail"
    assert words.lower() in (result.message + result.hint).lower(), result
    return result


# --------------------------------------------------------------------------- anchor loss
def test_anchor_solution_passes():
    assert X.check_weighted_anchor_loss(X.solution_weighted_anchor_loss, quiet=True).passed


def test_anchor_wrong_answers():
    def plain_mean(z, a, w):
        cos = (z @ a) / (z.norm(dim=1) * a.norm())
        return (w * (1 - cos)).mean()

    def dot(z, a, w):
        return (w * (1 - z @ a)).sum() / w.sum()

    def detached(z, a, w):
        cos = (z @ a) / (z.norm(dim=1) * a.norm())
        return torch.tensor(float((w * (1 - cos)).sum() / w.sum()))

    def anchor_not_normalised(z, a, w):
        cos = (z @ a) / z.norm(dim=1)
        return (w * (1 - cos)).sum() / w.sum()

    def loop(z, a, w):
        terms = [w[i] * (1 - z[i] @ a / (z[i].norm() * a.norm())) for i in range(len(z))]
        return torch.stack(terms).sum() / w.sum()

    def course(z, a, w):
        return anchor_loss(z, a, w)

    fails(X.check_weighted_anchor_loss, plain_mean, "weighted")
    fails(X.check_weighted_anchor_loss, dot, "")
    fails(X.check_weighted_anchor_loss, detached, "graph")
    fails(X.check_weighted_anchor_loss, anchor_not_normalised, "cosine")
    fails(X.check_weighted_anchor_loss, loop, "loop")
    fails(X.check_weighted_anchor_loss, course, "course")


def test_anchor_stub():
    def stub(z, a, w):
        raise NotImplementedError
    assert "not implemented" in X.check_weighted_anchor_loss(stub, quiet=True).message


# --------------------------------------------------------------------------- evenness
def test_evenness_solution_passes():
    assert X.check_hue_evenness(X.solution_hue_evenness, quiet=True).passed


def test_evenness_wrong_answers():
    def open_loop(z):
        u = z / np.linalg.norm(z, axis=1, keepdims=True)
        ang = np.arccos(np.clip(np.sum(u[:-1] * u[1:], axis=1), -1, 1))
        return ang.min() / ang.mean()

    def chords(z):
        u = z / np.linalg.norm(z, axis=1, keepdims=True)
        d = np.linalg.norm(u - np.roll(u, -1, axis=0), axis=1)
        return d.min() / d.mean()

    def unnormalised(z):
        d = np.linalg.norm(z - np.roll(z, -1, axis=0), axis=1)
        return d.min() / d.mean()

    def max_over_min(z):
        u = z / np.linalg.norm(z, axis=1, keepdims=True)
        ang = np.arccos(np.clip(np.sum(u * np.roll(u, -1, axis=0), axis=1), -1, 1))
        return ang.min() / ang.max()

    def course(z):
        return hue_evenness(z)

    fails(X.check_hue_evenness, open_loop, "closes")
    fails(X.check_hue_evenness, chords, "")
    fails(X.check_hue_evenness, unnormalised, "")
    fails(X.check_hue_evenness, max_over_min, "")
    fails(X.check_hue_evenness, course, "course")


# --------------------------------------------------------------------------- suppress
def test_suppress_solution_passes():
    assert X.check_suppress(X.solution_suppress, quiet=True).passed


def test_suppress_wrong_answers():
    def full_projection(z, a):
        a = a / a.norm()
        return z - (z @ a)[:, None] * a

    def unnormalised(z, a):
        return z - (z @ a).clamp_min(0)[:, None] * a

    def zero_the_dim(z, a):
        out = z.clone()
        out[:, 0] = out[:, 0].clamp_max(0)
        return out

    def loop(z, a):
        a = a / a.norm()
        return torch.stack([row - max(float(row @ a), 0.0) * a for row in z])

    def course(z, a):
        return suppress(z, a)

    fails(X.check_suppress, full_projection, "away")
    fails(X.check_suppress, unnormalised, "unit")
    fails(X.check_suppress, zero_the_dim, "")
    fails(X.check_suppress, loop, "loop")
    fails(X.check_suppress, course, "course")


# --------------------------------------------------------------------------- damage
def test_damage_solution_passes():
    assert X.check_damage(X.solution_damage, quiet=True).passed


def test_damage_wrong_answers():
    def error_after_only(encode, decode, rgb, edit):
        return ((decode(edit(encode(rgb))) - rgb) ** 2).mean(dim=1)

    def against_reconstruction(encode, decode, rgb, edit):
        z = encode(rgb)
        return ((decode(edit(z)) - decode(z)) ** 2).mean(dim=1)

    def summed_channels(encode, decode, rgb, edit):
        z = encode(rgb)
        return ((decode(edit(z)) - rgb) ** 2).sum(dim=1) - ((decode(z) - rgb) ** 2).sum(dim=1)

    def one_number(encode, decode, rgb, edit):
        z = encode(rgb)
        return ((decode(edit(z)) - rgb) ** 2).mean() - ((decode(z) - rgb) ** 2).mean()

    def course(encode, decode, rgb, edit):
        return damage(encode, decode, rgb.float(), edit)

    fails(X.check_damage, error_after_only, "subtract")
    fails(X.check_damage, against_reconstruction, "input colour")
    fails(X.check_damage, summed_channels, "mean over the 3")
    fails(X.check_damage, one_number, "one number per colour")
    fails(X.check_damage, course, "course")


# --------------------------------------------------------------------------- 2.5
def test_recovery_solution_passes():
    assert X.check_steps_to_recover(X.solution_steps_to_recover, quiet=True).passed


def test_recovery_wrong_answers():
    def first_crossing(steps, error, target):
        hit = np.flatnonzero(error <= target)
        return int(steps[hit[0]]) if len(hit) else None

    def strict(steps, error, target):
        ok = error < target
        if not ok[-1]:
            return None
        bad = np.flatnonzero(~ok)
        return int(steps[0 if len(bad) == 0 else bad[-1] + 1])

    def index(steps, error, target):
        ok = error <= target
        if not ok[-1]:
            return None
        bad = np.flatnonzero(~ok)
        return 0 if len(bad) == 0 else int(bad[-1] + 1)

    def never_is_last(steps, error, target):
        ok = error <= target
        bad = np.flatnonzero(~ok)
        if len(bad) and bad[-1] == len(ok) - 1:
            return int(steps[-1])
        return int(steps[0 if len(bad) == 0 else bad[-1] + 1])

    fails(X.check_steps_to_recover, first_crossing, "dip")
    fails(X.check_steps_to_recover, strict, "equal")
    fails(X.check_steps_to_recover, index, "")
    fails(X.check_steps_to_recover, never_is_last, "none")


def test_delete_solution_passes():
    assert X.check_delete_latent(X.solution_delete_latent, quiet=True).passed


def test_delete_wrong_answers():
    def no_bias(state, dim):
        out = {k: v.clone() for k, v in state.items()}
        out["encoder.2.weight"][dim] = 0
        out["decoder.0.weight"][:, dim] = 0
        return out

    def decoder_row(state, dim):
        out = {k: v.clone() for k, v in state.items()}
        out["encoder.2.weight"][dim] = 0
        out["encoder.2.bias"][dim] = 0
        out["decoder.0.weight"][dim] = 0
        return out

    def in_place(state, dim):
        state["encoder.2.weight"][dim] = 0
        state["encoder.2.bias"][dim] = 0
        state["decoder.0.weight"][:, dim] = 0
        return state

    def too_much(state, dim):
        out = X.solution_delete_latent(state, dim)
        out["decoder.0.bias"] = torch.zeros_like(out["decoder.0.bias"])
        return out

    fails(X.check_delete_latent, no_bias, "bias")
    fails(X.check_delete_latent, decoder_row, "column")
    fails(X.check_delete_latent, in_place, "in place")
    fails(X.check_delete_latent, too_much, "nothing to do")
