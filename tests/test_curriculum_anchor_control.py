"""The unanchored control of notebooks 2.3–2.4: one factor away from the anchored recipe, red's
post-hoc direction, random directions, the attractor and muting measurements, the gate's choice."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_lib import cache
from course_lib.curriculum import anchor_control as C
from course_lib.curriculum import anchoring as A
from course_lib.curriculum.intervention import gated_suppress


@pytest.fixture
def tiny(monkeypatch, tmp_path):
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path))
    monkeypatch.setitem(A.PROFILE_SETTINGS, "quick", {"steps": 40, "seeds": 2})
    return tmp_path


def test_the_anchored_key_is_unchanged():
    """Adding the control must not invalidate the anchored arm's cache (or change its key)."""
    assert A._key("smooth") == {"version": A.VERSION, "schedule": "smooth", "hyper": A.HYPER, "anchor": list(A.ANCHOR)}
    assert A._key("smooth", A.HYPER["anchor"]) == A._key("smooth")
    assert A._key("smooth", 0.0)["anchor_weight"] == 0.0


def test_schedules_differ_only_in_the_anchor_weight():
    a, u = A.anchored_schedule(200), A.anchored_schedule(200, anchor_weight=0.0)
    for step in (0, 17, 60, 111, 150, 199, 200):
        va, vu = a.values(step), u.values(step)
        assert set(va) == set(vu)
        assert vu["anchor"] == 0.0 and va["anchor"] == A.HYPER["anchor"]
        assert {k: v for k, v in va.items() if k != "anchor"} == {k: v for k, v in vu.items() if k != "anchor"}
    with pytest.raises(ValueError, match="anchor_weight"):
        A.anchored_schedule(200, anchor_weight=-1.0)


def test_unanchored_sweep_is_one_factor_away(tiny):
    a = A.anchored_sweep(profile="quick")
    u = C.unanchored_sweep(profile="quick")
    assert list(a.seeds) == list(u.seeds) == [0, 1]
    for name, v in a.states[0].items():                       # the same initial weights
        torch.testing.assert_close(v, u.states[0][name])
    assert np.all(u.values["anchor"] == 0) and np.all(a.values["anchor"] == A.HYPER["anchor"])
    for name in a.values:
        if name != "anchor":
            np.testing.assert_array_equal(a.values[name], u.values[name])
    assert not np.allclose(a.probe_latents[-1], u.probe_latents[-1])   # and training differs
    assert len(list(tiny.glob("anchored_sweep-*.pt"))) == 2            # two cache entries


def _toy_encode(x: torch.Tensor) -> torch.Tensor:
    z = torch.cat([x, torch.ones(len(x), 1)], dim=1)
    return z / z.norm(dim=1, keepdim=True)


def test_posthoc_direction():
    v = C.posthoc_direction(_toy_encode)
    assert v.shape == (4,) and float(v.norm()) == pytest.approx(1.0, abs=1e-6)
    red = _toy_encode(torch.tensor([[1.0, 0.0, 0.0]]))[0]
    assert float(v @ red) > 0.9999                            # uncentred: red's own code
    vc = C.posthoc_direction(_toy_encode, centre=True)
    z = _toy_encode(C.grid_rgb())
    want = red - z.mean(0)                                     # the label is ~ pure red only
    assert float(vc @ (want / want.norm())) > 0.999
    with pytest.raises(TypeError, match="encode"):
        C.posthoc_direction("no")
    with pytest.raises(ValueError, match="rgb"):
        C.posthoc_direction(_toy_encode, torch.rand(5, 2))
    with pytest.raises(ValueError, match="redness"):
        C.posthoc_direction(_toy_encode, torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]))
    with pytest.raises(TypeError, match="centre"):
        C.posthoc_direction(_toy_encode, centre="yes")


def test_random_directions():
    v = C.random_directions(500, 4, seed=3)
    torch.testing.assert_close(v.norm(dim=1), torch.ones(500))
    torch.testing.assert_close(v, C.random_directions(500, 4, seed=3))
    assert not torch.allclose(v, C.random_directions(500, 4, seed=4))
    assert 0.4 < float((v > 0).float().mean()) < 0.6
    with pytest.raises(ValueError):
        C.random_directions(0, 4)


def test_attractor_cosines_shapes_and_values():
    a = torch.tensor([1.0, 0.0, 0.0, 0.0])
    out = C.attractor_cosines(_toy_encode, a)
    assert out["hue"].shape == (181,) and out["similar"].shape == (len(C.SIMILAR),)
    assert out["unrelated"].shape == (len(C.UNRELATED),) and out["neutral"].shape == (len(C.NEUTRAL),)
    red = _toy_encode(torch.tensor([[1.0, 0.0, 0.0]]))[0]
    assert out["hue"][0] == pytest.approx(float(red[0]), abs=1e-6)
    with pytest.raises(ValueError, match="direction"):
        C.attractor_cosines(_toy_encode, torch.ones(2, 4))


def test_attractor_closeness_ranks_against_the_reference():
    a = torch.tensor([1.0, 0.0, 0.0, 0.0])
    ref = C.training_colours()
    assert ref.shape == (3600, 3) and float(ref.min()) >= 0 and float(ref.max()) <= 1
    close = C.attractor_closeness(_toy_encode, a, ref)
    cos = C.attractor_cosines(_toy_encode, a)
    ref_cos = np.sort(C._cos(_toy_encode(ref), a))
    for key in cos:                                   # the share of reference colours leaning less
        expect = np.array([np.mean(ref_cos < c) for c in cos[key]])
        np.testing.assert_allclose(close[key], expect, atol=1e-12)
        assert ((close[key] >= 0) & (close[key] <= 1)).all()
    # a rank is unchanged by any increasing transform of the cosines: e.g. codes scaled per arm
    scaled = C.attractor_closeness(lambda x: 3.0 * _toy_encode(x), a, ref)
    for key in cos:
        np.testing.assert_allclose(scaled[key], close[key])
    with pytest.raises(ValueError, match="reference"):
        C.attractor_closeness(_toy_encode, a, torch.rand(5, 4))


def test_attractor_study_shapes():
    a = torch.tensor([1.0, 0.0, 0.0, 0.0])

    class M:
        encode = staticmethod(_toy_encode)

    out = C.attractor_study({"x": [M(), M()], "y": [M(), M()]}, {"x": [a, a], "y": [-a, -a]})
    assert set(out) == {"cosine", "closeness"}
    assert out["closeness"]["hue"]["x"].shape == (2, 181)
    assert out["cosine"]["unrelated"]["y"].shape == (2, len(C.UNRELATED))
    np.testing.assert_allclose(out["cosine"]["similar"]["y"], -out["cosine"]["similar"]["x"], atol=1e-6)
    with pytest.raises(ValueError, match="arms"):
        C.attractor_study({"x": [M()]}, {"y": [a]})
    with pytest.raises(ValueError, match="one direction per model"):
        C.attractor_study({"x": [M(), M()]}, {"x": [a]})


class _Model:
    """A toy 'model' whose decoder reads dims 0–2 of a 4-D code."""

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return _toy_encode(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return z[:, :3] * 1.5


def test_mute_outcomes_goal_logic():
    m = _Model()
    red_dir = C.posthoc_direction(m.encode)
    out = C.mute_outcomes([m, m], torch.stack([red_dir, red_dir]), 12.0, 1.5)
    assert set(out) >= {"ref_red", "gate_red", "gate_orange", "gate_black", "ratio", "goal",
                        "gate_near", "ref_near", "near_goal"}
    assert all(v.shape == (2,) for k, v in out.items() if not k.endswith("_near"))
    assert out["gate_near"].shape == out["ref_near"].shape == (2, len(C.NEIGHBOURS))
    # the same ΔMSE as intervention.damage, colour by colour (the gates are decoded in one batch)
    from course_lib.curriculum.intervention import damage, gated_suppress, suppress
    rgb = C._rgb([C._RED, C._ORANGE, (0.0, 0.0, 0.0), *C.NEIGHBOURS.values()])
    want_gate = damage(m.encode, m.decode, rgb, lambda z: gated_suppress(z, red_dir, 12.0, 1.5)).numpy()
    want_ref = damage(m.encode, m.decode, rgb, lambda z: suppress(z, red_dir)).numpy()
    got_gate = np.r_[out["gate_red"][0], out["gate_orange"][0], out["gate_black"][0], out["gate_near"][0]]
    got_ref = np.r_[out["ref_red"][0], out["ref_orange"][0], out["ref_black"][0], out["ref_near"][0]]
    np.testing.assert_allclose(got_gate, want_gate, atol=1e-6)
    np.testing.assert_allclose(got_ref, want_ref, atol=1e-6)
    # the neighbourhood goal, by hand: the red goal and every neighbour above the fraction
    near_ok = (out["gate_near"] >= C.NEAR_FRACTION * out["gate_red"][:, None]).all(axis=1)
    np.testing.assert_array_equal(out["near_goal"], out["goal"] & near_ok)
    # the goal, by hand
    want = (out["gate_orange"] / out["gate_red"] <= C.GOAL_RATIO) & (out["gate_red"] >= out["ref_red"])
    np.testing.assert_array_equal(out["goal"], want)
    # a random direction is judged against the red damage to beat that it is given
    far = torch.tensor([0.0, 0.0, 0.0, 1.0])
    r = C.mute_outcomes([m], far[None], 12.0, 1.5, reference_red=np.array([10.0]))
    assert not r["goal"][0]
    with pytest.raises(ValueError, match="one direction per model"):
        C.mute_outcomes([m], torch.stack([red_dir, red_dir]), 5.0, 2.0)
    with pytest.raises(ValueError, match="reference_red"):
        C.mute_outcomes([m], red_dir[None], 5.0, 2.0, reference_red=np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="sharpness"):
        C.mute_outcomes([m], red_dir[None], 0.0, 2.0)


def test_tune_gate_picks_most_goals_then_least_black():
    m = _Model()
    d = C.posthoc_direction(m.encode)[None]
    best, rows = C.tune_gate([m], d, grid=[(2.0, 1.0), (12.0, 1.5), (12.0, 2.0)])
    assert len(rows) == 3
    top = max(r["rate"] for r in rows)
    chosen = [r for r in rows if (r["sharpness"], r["strength"]) == (best["sharpness"], best["strength"])][0]
    assert chosen["rate"] == top
    assert chosen["black"] == min(r["black"] for r in rows if r["rate"] == top)
    with pytest.raises(ValueError, match="empty"):
        C.tune_gate([m], d, grid=[])


def test_tune_gate_neighbourhood_goal_and_matched_rate():
    m = _Model()
    d = C.posthoc_direction(m.encode)[None]
    grid = [(1.0, 3.0), (2.0, 1.0), (12.0, 1.5), (48.0, 2.0)]
    best, rows = C.tune_gate([m], d, grid=grid, goal="neighbourhood")
    for r in rows:
        o = C.mute_outcomes([m], d, r["sharpness"], r["strength"])
        assert r["rate"] == r["rate_near"] == float(o["near_goal"].mean())
        assert r["rate_red"] == float(o["goal"].mean())
        assert r["near"].shape == (len(C.NEIGHBOURS),)
    # with a rate to meet: the least black damage among the gates that meet it
    best, rows = C.tune_gate([m], d, grid=grid, goal="red", min_rate=0.0)
    chosen = [r for r in rows if (r["sharpness"], r["strength"]) == (best["sharpness"], best["strength"])]
    assert chosen[0]["black"] == min(r["black"] for r in rows)
    top = max(r["rate"] for r in rows)
    best, rows = C.tune_gate([m], d, grid=grid, goal="red", min_rate=top)
    ok = [r for r in rows if r["rate"] >= top]
    chosen = [r for r in ok if (r["sharpness"], r["strength"]) == (best["sharpness"], best["strength"])]
    assert chosen and chosen[0]["black"] == min(r["black"] for r in ok)
    with pytest.raises(ValueError, match="goal"):
        C.tune_gate([m], d, grid=grid, goal="orange")
    with pytest.raises(ValueError, match="min_rate"):
        C.tune_gate([m], d, grid=grid, min_rate=1.5)
    if top < 1.0:
        with pytest.raises(ValueError, match="no gate"):
            C.tune_gate([m], d, grid=grid, min_rate=1.0)


def test_gate_grid_goes_beyond_twelve():
    assert max(p for p, _ in C.GATE_GRID) > 12 and (12.0, 1.5) in C.GATE_GRID
    assert set(C.NEIGHBOURS) >= {"dark red (V 0.75)", "darker red (V 0.5)"}
    assert 0 < C.NEAR_FRACTION < 1


def test_tuning_sweep_rejects_bad_arm():
    with pytest.raises(TypeError, match="anchored"):
        C.tuning_sweep(anchored="no")


def test_tuning_seeds_are_disjoint_from_every_profile():
    for cfg in A.PROFILE_SETTINGS.values():
        assert not set(C.TUNING_SEEDS) & set(range(cfg["seeds"]))


def test_mute_uses_the_tuned_gate():
    z = torch.nn.functional.normalize(torch.randn(6, 4), dim=1)
    want = gated_suppress(z, torch.tensor(A.ANCHOR), **A.MUTE_SETTINGS)
    assert A.MUTE_SETTINGS == {"sharpness": 12.0, "strength": 1.5}
    torch.testing.assert_close(gated_suppress(z, torch.tensor(A.ANCHOR), sharpness=12.0, strength=1.5), want)


def test_direction_trace(tiny):
    u = C.unanchored_sweep(profile="quick")
    a = A.anchored_sweep(profile="quick")
    t = C.direction_trace(u, 0)
    assert t.shape == (len(u.checkpoint_steps),) and t[-1] == pytest.approx(1.0, abs=1e-5)
    ta = C.direction_trace(a, 1, torch.tensor(A.ANCHOR))
    assert ta.shape == (len(a.checkpoint_steps),) and np.all(np.abs(ta) <= 1 + 1e-6)
    with pytest.raises(ValueError, match="direction"):
        C.direction_trace(a, 0, torch.ones(3))


def test_detection_trace(tiny):
    from course_lib.curriculum.routing import red_set_mask
    a = A.anchored_sweep(profile="quick")
    y = red_set_mask(C.grid_rgb()).numpy()
    steps = [int(a.checkpoint_steps[0]), int(a.checkpoint_steps[-1])]
    t = C.detection_trace(a, 1, y, torch.tensor(A.ANCHOR), steps=steps)
    assert t.shape == (2,) and np.all((t >= 0) & (t <= 1))
    # the final model's own post-hoc direction, at the end: red's mean code leans on red
    u = C.detection_trace(a, 1, y)
    assert u.shape == (len(a.checkpoint_steps),) and u[-1] > 0.5
    # two label sets at once: the same numbers as one at a time
    both = C.detection_trace(a, 1, np.stack([y, ~y]), torch.tensor(A.ANCHOR), steps=steps)
    assert both.shape == (2, 2)
    np.testing.assert_allclose(both[:, 0], t)
    np.testing.assert_allclose(both[:, 1], 1 - t, atol=1e-12)
    with pytest.raises(ValueError, match="labels"):
        C.detection_trace(a, 0, y[:10])
    with pytest.raises(ValueError, match="labels"):
        C.detection_trace(a, 0, y.astype(int))
    with pytest.raises(ValueError, match="steps"):
        C.detection_trace(a, 0, y, steps=[7])
    with pytest.raises(ValueError, match="direction"):
        C.detection_trace(a, 0, y, torch.ones(3))
    # the running monitor: equal to the final one at the last checkpoint, re-read before it
    r = C.detection_trace(a, 1, y, posthoc="running")
    assert r.shape == u.shape and r[-1] == pytest.approx(u[-1], abs=1e-12)
    first = a.model_at(int(a.checkpoint_steps[0]), 1)
    u0 = C.posthoc_direction(first.encode)
    want = C.detection_trace(a, 1, y, u0, steps=steps[:1])
    assert r[0] == pytest.approx(want[0], abs=1e-12)
    with pytest.raises(ValueError, match="posthoc"):
        C.detection_trace(a, 0, y, posthoc="best")
    with pytest.raises(ValueError, match="posthoc"):
        C.detection_trace(a, 0, y, torch.tensor(A.ANCHOR), posthoc="running")


def test_new_plots_draw():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from course_lib.curriculum import anchor_plots as P

    rng = np.random.default_rng(0)
    arms = ("anchored", "unanchored")
    groups = {g: {a: rng.uniform(-1, 1, (3, len(colours))) for a in arms} for g, colours in C.GROUPS.items()}
    fig = P.plot_attractor({a: rng.uniform(-1, 1, (3, 181)) for a in arms}, groups,
                           {g: list(colours) for g, colours in C.GROUPS.items()})
    fig2 = P.plot_direction_traces(np.arange(5), {a: rng.uniform(-1, 1, (3, 5)) for a in arms})
    assert isinstance(fig, matplotlib.figure.Figure) and isinstance(fig2, matplotlib.figure.Figure)
    plt.close("all")


def test_neighbour_directions():
    import torch
    from course_lib.color import ColorAutoencoder
    from course_lib.curriculum import anchor_control as C
    ms = [ColorAutoencoder(latent_dim=4, hidden=8, normalize=False) for _ in range(2)]
    v = C.neighbour_directions(ms, 5.0)
    assert v.shape == (2, 4) and torch.allclose(v.norm(dim=1), torch.ones(2), atol=1e-5)
    x = torch.tensor(C.hsv_to_rgb(np.array([[5 / 360, 1.0, 1.0]])), dtype=torch.float32)
    with torch.no_grad():
        z = ms[1].encode(x)[0]
    assert torch.allclose(v[1], z / z.norm(), atol=1e-6)
    # −5° is hue 355°
    assert not torch.allclose(C.neighbour_directions(ms, -5.0), v)
    with pytest.raises(ValueError, match="hue_deg"):
        C.neighbour_directions(ms, 400.0)
    with pytest.raises(ValueError, match="models"):
        C.neighbour_directions([], 5.0)


def test_attractor_by_hue_matches_attractor_closeness_for_red():
    from course_lib.color import ColorAutoencoder
    torch.manual_seed(0)
    ms = [ColorAutoencoder(latent_dim=4, hidden=8) for _ in range(2)]
    ref = C.training_colours()[::10]
    out = C.attractor_by_hue(ms, hues_deg=(0, 90, 200), reference=ref)
    assert out["similar"].shape == (2, 3, 4) and out["unrelated"].shape == (2, 3, 5)
    assert ((out["similar"] >= 0) & (out["similar"] <= 1)).all()
    red = torch.tensor(C.hsv_to_rgb(np.array([[0.0, 1.0, 1.0]])), dtype=torch.float32)
    for i, m in enumerate(ms):
        with torch.no_grad():
            u = m.encode(red)[0]
        want = C.attractor_closeness(m.encode, u, ref)
        assert np.allclose(out["similar"][i, 0], want["similar"])
        assert np.allclose(out["unrelated"][i, 0], want["unrelated"])
    # hue 90°'s "similar" are its own darker and paler versions: closeness the same as with red's
    # machinery turned by 90°
    x = torch.tensor(C.hsv_to_rgb(np.array([[0.25, 1.0, 0.75], [0.25, 0.5, 1.0]])), dtype=torch.float32)
    with torch.no_grad():
        u = ms[0].encode(torch.tensor(C.hsv_to_rgb(np.array([[0.25, 1.0, 1.0]])), dtype=torch.float32))[0]
        u = u / u.norm()
        zr = ms[0].encode(ref)
        lean = np.sort(((zr / zr.norm(dim=1, keepdim=True)) @ u).numpy())
        z = ms[0].encode(x)
        c = ((z / z.norm(dim=1, keepdim=True)) @ u).numpy()
    assert np.allclose(out["similar"][0, 1, [0, 3]], np.searchsorted(lean, c) / len(ref))
    with pytest.raises(ValueError, match="models"):
        C.attractor_by_hue([])
    with pytest.raises(ValueError, match="hues_deg"):
        C.attractor_by_hue(ms, hues_deg=[])
    with pytest.raises(ValueError, match="reference"):
        C.attractor_by_hue(ms, reference=torch.zeros(1, 3))


def test_neighbours_radius_and_validation():
    five, ten = C.neighbours(5.0), C.neighbours(10.0)
    assert five == C.NEIGHBOURS and list(five)[:2] == list(ten)[:2]
    assert list(ten)[2:] == ["hue 10°", "hue 350°"]
    assert ten["hue 10°"] == pytest.approx((10 / 360, 1.0, 1.0))
    assert ten["hue 350°"] == pytest.approx((350 / 360, 1.0, 1.0))
    assert C.HUE_RADIUS in C.HUE_RADII and len(set(C.HUE_RADII)) == len(C.HUE_RADII)
    with pytest.raises(ValueError, match="hue_radius"):
        C.neighbours(0.0)
    with pytest.raises(ValueError, match="hue_radius"):
        C.neighbours(120.0)


def test_hue_radius_changes_only_the_hue_neighbours():
    m = _Model()
    d = C.posthoc_direction(m.encode)[None]
    o5 = C.mute_outcomes([m], d, 12.0, 1.5)
    o10 = C.mute_outcomes([m], d, 12.0, 1.5, hue_radius=10.0)
    np.testing.assert_array_equal(o5["gate_near"][:, :2], o10["gate_near"][:, :2])
    np.testing.assert_array_equal(o5["gate_red"], o10["gate_red"])
    from course_lib.curriculum.intervention import damage, gated_suppress
    rgb = C._rgb(list(C.neighbours(10.0).values())[2:])
    want = damage(m.encode, m.decode, rgb, lambda z: gated_suppress(z, d[0], 12.0, 1.5)).numpy()
    np.testing.assert_allclose(o10["gate_near"][0, 2:], want, atol=1e-6)
    rows = C.tune_gate([m], d, grid=[(12.0, 1.5)], goal="neighbourhood", hue_radius=10.0)[1]
    np.testing.assert_allclose(rows[0]["near"], np.median(o10["gate_near"], axis=0))


def test_on_grid_edge():
    grid = [(p, s) for p in (1.0, 2.0, 3.0) for s in (1.0, 2.0, 3.0)]
    assert not C.on_grid_edge({"sharpness": 2.0, "strength": 2.0}, grid)
    for p, s in ((1.0, 2.0), (3.0, 2.0), (2.0, 1.0), (2.0, 3.0)):
        assert C.on_grid_edge({"sharpness": p, "strength": s}, grid)
    assert not C.on_grid_edge({"sharpness": 12.0, "strength": 1.5})
    with pytest.raises(ValueError, match="empty"):
        C.on_grid_edge({"sharpness": 2.0, "strength": 2.0}, [])
    with pytest.raises(ValueError, match="keys"):
        C.on_grid_edge({"sharpness": 2.0}, grid)


def test_match_gates_matches_the_lower_best_rate(monkeypatch):
    m = _Model()
    d = C.posthoc_direction(m.encode)[None]
    grid = [(1.0, 3.0), (2.0, 1.0), (12.0, 1.5)]
    # canned scores per arm (the toy model never meets the neighbourhood goal): rate, black
    canned = {"a": {(1.0, 3.0): (0.5, 0.3), (2.0, 1.0): (1.0, 0.9), (12.0, 1.5): (0.75, 0.1)},
              "b": {(1.0, 3.0): (0.75, 0.4), (2.0, 1.0): (0.5, 0.2), (12.0, 1.5): (0.0, 0.0)}}
    real = C.tune_gate

    def fake(models, directions, grid=C.GATE_GRID, *, goal="red", min_rate=None, hue_radius=5.0,
             near_fraction=C.NEAR_FRACTION):
        arm = models[0]
        rows = [{"sharpness": p, "strength": s, "rate": canned[arm][p, s][0],
                 "rate_near": canned[arm][p, s][0], "black": canned[arm][p, s][1]} for p, s in grid]
        ok = [r for r in rows if min_rate is None or r["rate"] >= min_rate]
        if not ok:
            raise ValueError("no gate")
        best = min(ok, key=lambda r: r["black"]) if min_rate is not None else max(
            rows, key=lambda r: (r["rate"], -r["black"]))
        return {"sharpness": best["sharpness"], "strength": best["strength"]}, rows

    monkeypatch.setattr(C, "tune_gate", fake)
    matched, gates, rows = C.match_gates({"a": ["a"], "b": ["b"]}, {"a": d, "b": d}, grid=grid)
    assert matched == 0.75                                   # b's best; a reaches more
    assert gates == {"a": {"sharpness": 12.0, "strength": 1.5}, "b": {"sharpness": 1.0, "strength": 3.0}}
    assert len(rows["a"]) == len(rows["b"]) == 3
    monkeypatch.setattr(C, "tune_gate", real)
    far = torch.tensor([[0.0, 0.0, 0.0, 1.0]])
    with pytest.raises(ValueError, match="never meets"):
        C.match_gates({"a": [m], "b": [m]}, {"a": d, "b": far}, grid=grid)
    with pytest.raises(ValueError, match="same"):
        C.match_gates({"a": [m]}, {"b": d}, grid=grid)


def test_neighbourhood_directions_is_the_normalised_mean_code():
    m = _Model()
    d = C.neighbourhood_directions([m, m], 10.0)
    assert d.shape == (2, 4)
    x = C._rgb([C._RED, *C.neighbours(10.0).values()])
    v = m.encode(x).double().mean(0)
    np.testing.assert_allclose(d[0].numpy(), (v / v.norm()).numpy(), atol=1e-6)
    assert not torch.allclose(d[0], C.neighbourhood_directions([m], 5.0)[0])
    with pytest.raises(ValueError, match="empty"):
        C.neighbourhood_directions([])


def test_gate_grid_plot_marks_the_matched_cells_and_the_choice():
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.patches import Rectangle
    from course_lib.curriculum import anchor_plots as P

    grid = [(p, s) for p in (0.5, 12.0) for s in (1.0, 2.0)]
    rate = {(0.5, 1.0): 0.5, (0.5, 2.0): 1.0, (12.0, 1.0): 0.75, (12.0, 2.0): 1.0}
    rows = {arm: [{"sharpness": p, "strength": s, "rate_near": rate[p, s], "black": 0.1 * p * s}
                  for p, s in grid] for arm in ("anchored", "unanchored")}
    gates = {"anchored": {"sharpness": 0.5, "strength": 2.0}, "unanchored": {"sharpness": 12.0, "strength": 1.0}}
    fig = P.plot_gate_grid(rows, gates, 0.75)
    ax = fig.axes[0]
    boxes = [r for r in ax.patches if isinstance(r, Rectangle)]
    boxed = sorted((round(r.get_y() + 0.46), round(r.get_x() + 0.46)) for r in boxes)
    # (strength, sharpness) indices: every cell at 75 % or more, not the 50 % one
    assert boxed == [(0, 1), (1, 0), (1, 1)]
    chosen = [r for r in boxes if r.get_label() == "chosen"]
    assert [(round(r.get_y() + 0.46), round(r.get_x() + 0.46)) for r in chosen] == [(1, 0)]
    assert "0.5" in [t.get_text() for t in ax.get_xticklabels()]  # sharpness 0.5 is not printed as 0
    with pytest.raises(ValueError, match="matched"):
        P.plot_gate_grid(rows, gates, 0.0)
    with pytest.raises(ValueError, match="same"):
        P.plot_gate_grid(rows, {"anchored": gates["anchored"]}, 0.75)


def test_near_fraction_sets_the_neighbourhood_bar():
    m = _Model()
    d = C.posthoc_direction(m.encode)
    dirs = torch.stack([d, d])
    base = C.mute_outcomes([m, m], dirs, 2.0, 1.5)
    lax = C.mute_outcomes([m, m], dirs, 2.0, 1.5, near_fraction=0.0)
    strict = C.mute_outcomes([m, m], dirs, 2.0, 1.5, near_fraction=1.0)
    # bar 0: the neighbourhood goal is the red goal (a neighbour's ΔMSE is never negative here)
    assert (lax["near_goal"] == (lax["goal"] & (lax["gate_near"] >= 0).all(axis=1))).all()
    want = base["goal"] & (base["gate_near"] >= base["gate_red"][:, None]).all(axis=1)
    assert (strict["near_goal"] == want).all()
    np.testing.assert_array_equal(base["gate_black"], strict["gate_black"])   # only the verdict moves
    _, rows = C.tune_gate([m], d[None], [(2.0, 1.5)], goal="neighbourhood", near_fraction=0.0)
    assert rows[0]["rate_near"] == float(lax["near_goal"][0])
    with pytest.raises(ValueError, match="near_fraction"):
        C.mute_outcomes([m], d[None], 2.0, 1.5, near_fraction=1.5)


def test_bar_sensitivity_retunes_and_rescores_each_bar(monkeypatch):
    m = _Model()
    d = C.posthoc_direction(m.encode)[None]
    arms = {"anchored": [m], "unanchored": [m]}
    dirs = {"anchored": d, "unanchored": d}
    seen = []

    def fake_match(models, directions, *, hue_radius, grid, near_fraction):
        seen.append(near_fraction)
        g = {"sharpness": 2.0, "strength": 1.5} if near_fraction < 0.15 else {"sharpness": 12.0, "strength": 3.0}
        return 1.0, {a: g for a in models}, {}

    monkeypatch.setattr(C, "match_gates", fake_match)
    rows = C.bar_sensitivity(arms, dirs, arms, dirs, bars=(0.05, 0.3))
    assert seen == [0.05, 0.3] and [r["bar"] for r in rows] == [0.05, 0.3]
    for r in rows:
        want = C.mute_outcomes([m], d, **r["gates"]["anchored"], near_fraction=r["bar"])
        assert r["black"]["anchored"] == pytest.approx(float(np.median(want["gate_black"])))
        assert r["near_goal"]["anchored"] == int(want["near_goal"].sum())
        assert r["black_more"] == 0          # the same model in both arms: never strictly more
    assert rows[1]["gates"]["anchored"] == {"sharpness": 12.0, "strength": 3.0}
    with pytest.raises(ValueError, match="two arms"):
        C.bar_sensitivity({"a": [m]}, {"a": d}, {"a": [m]}, {"a": d})
    with pytest.raises(ValueError, match="paired"):
        C.bar_sensitivity(arms, dirs, {"anchored": [m], "unanchored": [m, m]}, dirs)
    with pytest.raises(ValueError, match="bar"):
        C.bar_sensitivity(arms, dirs, arms, dirs, bars=(1.5,))
