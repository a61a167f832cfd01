"""Gradient routing on the colour autoencoder (course_lib.curriculum.routing)."""

import numpy as np
import pytest
import torch

from course_lib.color.model import StackedColorAutoencoder
from course_lib.curriculum import routing as R
from course_lib.curriculum.anchoring import anchored_data

OWN = {"encoder.2.weight": (slice(None), 0), "encoder.2.bias": (slice(None), 0), "decoder.0.weight": (slice(None), slice(None), 0)}


def _model(seeds=(0, 1)):
    return StackedColorAutoencoder.from_seeds(list(seeds), latent_dim=5, hidden=16, normalize=True, activation="gelu")


def _grads(model, x, group):
    model.zero_grad()
    recon, z = R.routed_forward(model, x, 0, group)
    ((recon - x) ** 2).mean(dim=(-2, -1)).sum().backward()
    return {k: (p.grad.clone() if p.grad is not None else torch.zeros_like(p)) for k, p in model.named_parameters()}


def _own_part(name, g):
    mask = torch.zeros_like(g, dtype=torch.bool)
    if name in OWN:
        mask[OWN[name]] = True
    return g[mask], g[~mask]


def test_red_set_on_the_grid():
    x = anchored_data(0, {"spread": 1.0})
    red = R.red_set_mask(x)
    assert int(red.sum()) == 25
    probe = torch.tensor([[1.0, 0, 0], [1.0, 0.5, 0], [0.5, 0.5, 0.5], [1.0, 0.0, 0.05], [0.4, 0, 0]])
    assert R.red_set_mask(probe).tolist() == [True, False, False, True, False]
    with pytest.raises(ValueError, match="rgb"):
        R.red_set_mask(torch.zeros(3))
    with pytest.raises(ValueError, match="rgb"):
        R.red_set_mask(torch.full((2, 3), 2.0))


def test_routing_masks_and_validation():
    m = R.routing_masks(5, 16, 2)
    assert m["encoder.2.weight"].sum() == 16 and m["encoder.2.weight"][2].all()
    assert m["encoder.2.bias"].tolist() == [0, 0, 1, 0, 0]
    assert m["decoder.0.weight"][:, 2].all() and m["decoder.0.weight"].sum() == 16
    with pytest.raises(ValueError, match="dim"):
        R.routing_masks(5, 16, 5)
    with pytest.raises(ValueError, match="group"):
        R.routed_forward(_model(), torch.rand(4, 3), 0, "blue")
    with pytest.raises(TypeError, match="StackedColorAutoencoder"):
        R.routed_forward(torch.nn.Linear(3, 3), torch.rand(4, 3), 0, "red")


def test_routed_forward_changes_gradients_not_values():
    model, x = _model(), torch.rand(20, 3)
    with torch.no_grad():
        want = model(x)
    for group in ("red", "other"):
        got = R.routed_forward(model, x, 0, group)
        assert torch.allclose(got[0], want[0], atol=1e-6) and torch.allclose(got[1], want[1], atol=1e-6)


def test_red_gradients_reach_only_the_dimension():
    model, x = _model(), torch.rand(20, 3)
    for name, g in _grads(model, x, "red").items():
        own, rest = _own_part(name, g)
        assert torch.count_nonzero(rest) == 0, name
        if name in OWN:
            assert torch.count_nonzero(own) > 0, name


def test_other_gradients_stop_at_the_dimension():
    model, x = _model(), torch.rand(20, 3)
    grads = _grads(model, x, "other")
    for name, g in grads.items():
        own, rest = _own_part(name, g)
        assert torch.count_nonzero(own) == 0, name
    assert torch.count_nonzero(grads["encoder.0.weight"]) > 0
    # no gradient through z_0: the same as a forward where z_0 is a constant
    model.zero_grad()
    enc, dec, act = model.encoder, model.decoder, model.act
    z = enc["2"](act(enc["0"](x)))
    z = torch.cat([z[..., :1].detach(), z[..., 1:]], dim=-1)
    z = z / z.norm(dim=-1, keepdim=True)
    u = R._lin(z, R._only(dec["0"].weight, 1 - R.routing_masks(5, 16, 0)["decoder.0.weight"]), dec["0"].bias)
    recon = torch.sigmoid(dec["2"](act(u)))
    ((recon - x) ** 2).mean(dim=(-2, -1)).sum().backward()
    assert torch.allclose(model.encoder["0"].weight.grad, grads["encoder.0.weight"], atol=1e-7)


def test_routed_loss_value_and_keep_out():
    model, x = _model(), anchored_data(0, {"spread": 1.0})[::9]
    red = R.red_set_mask(x)
    assert red.any() and (~red).any()
    loss, mse, z = R.routed_loss(model, x, red, 0)
    with torch.no_grad():
        recon, _ = model(x)
    assert torch.allclose(mse, ((recon - x) ** 2).mean(dim=(-2, -1)), atol=1e-6) and torch.equal(loss, mse)
    model.zero_grad()
    loss_k, mse_k, _ = R.routed_loss(model, x, red, 0, keep_out=1.0)
    (loss_k - mse_k).sum().backward()                          # the keep-out part alone
    for name, p in model.named_parameters():
        g = torch.zeros_like(p) if p.grad is None else p.grad
        own, rest = _own_part(name, g)
        assert torch.count_nonzero(rest) == 0, name
    with pytest.raises(ValueError, match="red"):
        R.routed_loss(model, x, red[:-1], 0)
    with pytest.raises(ValueError, match="keep_out"):
        R.routed_loss(model, x, red, 0, keep_out=-1.0)


class _Sched:
    def values(self, step):
        return {"lr": 0.01}


@pytest.mark.parametrize("which", ["red", "none"])
def test_routed_sweep_trains_only_what_it_may(tmp_path, monkeypatch, which):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    grid = anchored_data(0, {"spread": 1.0})
    red = R.red_set_mask(grid)
    data = grid[red] if which == "red" else grid[~red][::7]
    sw = R.routed_sweep([0, 1], data=lambda step, values: data, schedule=_Sched(), steps=5, dim=0,
                        key={"test": which}, probe=data[:4], checkpoint_steps=[2], progress=False)
    assert sw.checkpoint_steps.tolist() == [0, 2, 5] and sw.probe_latents.shape == (3, 2, 4, 5)
    first, last = sw.states[0], sw.states[-1]
    for name in first:
        own, rest = _own_part(name, last[name] - first[name])
        if which == "red":
            assert torch.count_nonzero(rest) == 0, name           # red touches only dim 0's parameters
        else:
            assert torch.count_nonzero(own) == 0, name            # the others never touch them
    again = R.routed_sweep([0, 1], data=lambda step, values: data, schedule=_Sched(), steps=5, dim=0,
                           key={"test": which}, probe=data[:4], checkpoint_steps=[2], progress=False)
    assert np.array_equal(again.probe_recon, sw.probe_recon)      # from the cache
    with pytest.raises(ValueError, match="checkpoint_steps"):
        R.routed_sweep([0], data=lambda s, v: data, schedule=_Sched(), steps=5, dim=0, key={}, checkpoint_steps=[9])


def test_routed_loss_per_model_keep_out():
    model, x = _model(), anchored_data(0, {"spread": 1.0})[::9]
    red = R.red_set_mask(x)
    l0, m0, _ = R.routed_loss(model, x, red, 0, 0.0)
    l1, m1, _ = R.routed_loss(model, x, red, 0, 1.0)
    both, _, _ = R.routed_loss(model, x, red, 0, torch.tensor([0.0, 1.0]))
    assert torch.allclose(both, torch.stack([l0[0], l1[1]]), atol=1e-7)
    # the keep-out part equals the red-routed code of the other colours, squared
    _, z_own = R.routed_forward(model, x[~red], 0, "red")
    assert torch.allclose(l1 - m1, (z_own[..., 0] ** 2).mean(-1), atol=1e-6)
    with pytest.raises(ValueError, match="keep_out"):
        R.routed_loss(model, x, red, 0, torch.tensor([0.0, -1.0]))
    with pytest.raises(ValueError, match="keep_out"):
        R.routed_loss(model, x, red, 0, torch.tensor([0.0, 1.0, 2.0]))


def test_routed_sweeps_stack_equals_separate_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    from course_lib.curriculum.anchoring import _separation_term
    grid = anchored_data(0, {"spread": 1.0})[::5]
    data = lambda step, values: grid  # noqa: E731

    class Sched:
        def values(self, step):
            return {"lr": 0.01, "separation": 0.2}

    kw = dict(data=data, schedule=Sched(), steps=4, dim=0, key={"t": 1}, probe=grid[:6],
              terms={"separation": _separation_term}, progress=False)
    both = R.routed_sweeps([0, 1], keep_outs=[0.0, 0.5], **kw)
    one = R.routed_sweep([0, 1], keep_out=0.5, **kw)
    assert set(both) == {0.0, 0.5} and "separation" in one.losses
    assert np.allclose(both[0.5].probe_recon, one.probe_recon, atol=1e-5)
    assert not np.allclose(both[0.0].probe_recon[-1], both[0.5].probe_recon[-1])
    for k, v in one.states[-1].items():
        assert torch.allclose(both[0.5].states[-1][k], v, atol=1e-5), k
    with pytest.raises(ValueError, match="keep_outs"):
        R.routed_sweeps([0], keep_outs=[0.1, 0.1], **kw)
    with pytest.raises(ValueError, match="terms"):
        R.routed_sweeps([0], keep_outs=[0.1], **dict(kw, terms={"recon": _separation_term}))
