"""anchored_run (the public name Chapter 5 relies on), its data, schedule, terms and measurements."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_lib import cache
from course_lib.curriculum import anchoring as A
from course_lib.curriculum import anchored_run


@pytest.fixture
def tiny(monkeypatch, tmp_path):
    """A short 'quick' profile and an empty cache."""
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path))
    monkeypatch.setitem(A.PROFILE_SETTINGS, "quick", {"steps": 40, "seeds": 2, "stepped_seeds": 2})
    return tmp_path


def test_anchored_run_api(tiny):
    run = anchored_run(seed=0, profile="quick")
    rgb = torch.rand(7, 3)
    z = run.encode(rgb)
    assert z.shape == (7, 4) and z.dtype == torch.float32
    torch.testing.assert_close(z.norm(dim=1), torch.ones(7))
    assert run.decode(z).shape == (7, 3)
    torch.testing.assert_close(run.anchor, torch.tensor([1.0, 0.0, 0.0, 0.0]))
    assert run.mute(z).shape == (7, 4) and run.reference_mute(z).shape == (7, 4)
    assert list(run.checkpoint_steps)[0] == 0 and int(run.checkpoint_steps[-1]) == 40
    final = run.model_at(40)
    torch.testing.assert_close(final.encode(rgb).detach(), z)
    first = run.model_at(0)
    assert not torch.allclose(first.encode(rgb).detach(), z)
    assert set(run.report()) == {"red_cos", "orange_cos", "evenness", "mse", "wheel_mse"}


def test_anchored_run_is_cached(tiny):
    anchored_run(seed=1, profile="quick")
    files = sorted(p.name for p in tiny.glob("anchored_run-*.pt"))
    assert len(files) == 1
    again = anchored_run(seed=1, profile="quick")
    assert sorted(p.name for p in tiny.glob("anchored_run-*.pt")) == files
    other = anchored_run(seed=2, profile="quick")
    assert len(list(tiny.glob("anchored_run-*.pt"))) == 2
    x = torch.rand(3, 3)
    assert not torch.allclose(again.encode(x), other.encode(x))


def test_mute_hits_the_anchor_and_spares_the_orthogonal():
    run = A.AnchoredRun.__new__(A.AnchoredRun)
    run.anchor = torch.tensor([1.0, 0.0, 0.0, 0.0])
    z = torch.tensor([[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0]])
    out = run.mute(z)
    s = A.MUTE_SETTINGS["strength"]                        # red itself is gated fully: 1 − s along the anchor
    torch.testing.assert_close(out[0], torch.tensor([1.0 - s, 0.0, 0.0, 0.0]))
    torch.testing.assert_close(out[1], z[1])
    torch.testing.assert_close(run.reference_mute(z)[0], torch.zeros(4))


def test_sweep_seed_matches_single_run(tiny):
    sweep = A.anchored_sweep([0, 3], profile="quick")
    single = anchored_run(seed=3, profile="quick")
    x = torch.rand(5, 3)
    z_sweep = sweep.model_at(40, 3).encode(x).detach()
    torch.testing.assert_close(z_sweep, single.encode(x), atol=1e-4, rtol=0)


def test_watched_run_is_the_sweeps_seed(tiny):
    sweep = A.anchored_sweep(profile="quick")
    watched = A.watched_run(seed=1, profile="quick")
    single = anchored_run(seed=1, profile="quick")
    k = int(np.flatnonzero(sweep.seeds == 1)[0])
    np.testing.assert_array_equal(watched.run.losses["recon"], sweep.losses["recon"][k])
    np.testing.assert_array_equal(watched.run.probe_latents, sweep.probe_latents[:, k])
    assert watched.run.config["seed"] == 1 and watched.checkpoint_steps.tolist() == single.checkpoint_steps.tolist()
    x = torch.rand(5, 3)
    torch.testing.assert_close(watched.encode(x), single.encode(x), atol=1e-4, rtol=0)
    assert abs(watched.report()["red_cos"] - single.report()["red_cos"]) < 1e-3
    with pytest.raises(ValueError, match="seed"):
        A.watched_run(seed=999, profile="quick")


def test_bad_input(tiny):
    run = anchored_run(seed=0, profile="quick")
    with pytest.raises(ValueError, match="rgb"):
        run.encode(torch.rand(4, 4))
    with pytest.raises(TypeError, match="rgb"):
        run.encode(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="z"):
        run.decode(torch.rand(3, 3))
    with pytest.raises(ValueError, match="NaN"):
        run.decode(torch.full((1, 4), float("nan")))
    with pytest.raises(ValueError, match="step"):
        run.model_at(7)
    with pytest.raises(TypeError, match="seed"):
        anchored_run(seed="0", profile="quick")
    with pytest.raises(ValueError, match="seed"):
        anchored_run(seed=-1, profile="quick")
    with pytest.raises(ValueError, match="profile"):
        anchored_run(seed=0, profile="fast")
    with pytest.raises(ValueError, match="schedule"):
        anchored_run(seed=0, profile="quick", schedule="jerky")


def test_data_grows_with_spread():
    sizes = [len(A.anchored_data(0, {"spread": s})) for s in (0.0, 1 / 3, 2 / 3, 1.0)]
    assert sizes[0] == 36 and sizes[-1] == 3600 and sizes == sorted(sizes)
    assert A.anchored_data(0, {"spread": 0.5}) is A.anchored_data(5, {"spread": 0.5})
    with pytest.raises(ValueError, match="spread"):
        A.anchored_data(0, {"spread": 1.5})


def test_schedules_share_keyframes_and_differ_in_easing():
    smooth, stepped = A.anchored_schedule(1000, "smooth"), A.anchored_schedule(1000, "stepped")
    for s in (0, 100, 300, 500, 700, 1000):
        assert smooth.value("spread", s) == pytest.approx(stepped.value("spread", s))
    assert 0.0 < smooth.value("spread", 200) < 1 / 3
    assert stepped.value("spread", 200) == pytest.approx(0.0)
    assert smooth.value("lr", 700) == pytest.approx(0.01) and smooth.value("lr", 1000) == pytest.approx(0.001)
    with pytest.raises(ValueError, match="kind"):
        A.anchored_schedule(1000, "bumpy")


def test_terms_batched_match_single():
    g = torch.Generator().manual_seed(0)
    x = A.anchored_data(0, {"spread": 1.0})[::50]
    z = torch.randn(3, len(x), 4, generator=g)
    for term in A.anchored_terms().values():
        batched = term(z, x)
        single = torch.stack([term(z[i], x) for i in range(3)])
        torch.testing.assert_close(batched, single)
    # anchor term: 0 when red sits on the anchor, whatever the others do
    red = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    zz = torch.tensor([[2.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]])
    assert A.anchored_terms()["anchor"](zz, red).item() == pytest.approx(0.0, abs=1e-6)


def test_hue_evenness():
    t = np.linspace(0, 2 * np.pi, 12, endpoint=False)
    ring = np.stack([np.cos(t), np.sin(t), 0 * t, 0 * t], axis=1)
    assert A.hue_evenness(ring) == pytest.approx(1.0)
    crowded = ring.copy()
    crowded[1] = crowded[0]
    assert A.hue_evenness(crowded) == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError, match="n ≥ 3"):
        A.hue_evenness(ring[:2])


def test_plots_draw(tiny):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from course_lib.curriculum import anchor_plots as P
    from course_lib.curriculum.intervention import named_colours

    run = anchored_run(seed=0, profile="quick")
    figs = [P.plot_anchored_frame(run.run, 0), P.plot_schedules({"s": A.anchored_schedule(100)}, 100)]
    sweep = A.anchored_sweep([0, 1], profile="quick")
    figs.append(P.plot_loss_terms({"smooth": sweep}))
    figs.append(P.plot_seed_metrics({"smooth": A.sweep_reports(sweep)}))
    names, rgb = named_colours()
    figs.append(P.plot_damage_bars(names, rgb, {"x": np.zeros((2, len(names)))}))
    figs.append(P.plot_damage_vs_similarity(np.linspace(0, 1, 5), np.linspace(0, 1, 5), np.full((5, 3), 0.5), r=1.0))
    figs.append(P.plot_hue_profile(np.arange(10), {"x": np.zeros((2, 10))}, np.full((10, 3), 0.5)))
    figs.append(P.plot_latent_views(np.zeros((4, 5)), np.full((4, 3), 0.5), labels={0: "red"}, title="t"))
    figs.append(P.plot_relearning(np.arange(5), {"a": np.ones((2, 5))}, np.full(2, 0.01)))
    assert all(isinstance(f, matplotlib.figure.Figure) for f in figs)
    with pytest.raises(ValueError, match="index"):
        P.plot_anchored_frame(run.run, 99)
    plt.close("all")


def test_batch_derived_values_are_kept_per_thread():
    """Two runs trained at once (runtime.run_concurrently) pass different batches to the same term:
    each thread must get what its own batch gives, however the threads interleave."""
    import threading
    from course_lib.curriculum.anchoring import _OfBatch
    both = threading.Barrier(2, timeout=10)
    calls = []

    def derive(x):
        calls.append(len(x))
        return int(x.sum())
    derived = _OfBatch(derive)
    batches = [torch.ones(3), torch.ones(5)]
    seen = {0: [], 1: []}

    def use(i):
        for _ in range(50):
            both.wait()       # the two threads call in turn: one shared "last batch" would flip
            seen[i].append(derived(batches[i]))
            both.wait()
    threads = [threading.Thread(target=use, args=(i,)) for i in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen[0] == [3] * 50 and seen[1] == [5] * 50
    assert sorted(calls) == [3, 5]     # each thread derived its batch once, then reused it
