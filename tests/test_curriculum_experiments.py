"""Experiments of notebooks 2.1–2.2: ring crumpling views, the reactive curriculum, cached runs."""

import numpy as np
import pytest

from course_lib.curriculum.data import PHASES, Curriculum, curriculum_probe
from course_lib.curriculum.experiments import (
    ARMS,
    Arm,
    ReactiveCurriculum,
    arm_curriculum,
    arm_sweeps,
    KEY_ARMS,
    crumpling_sweep,
    difference_interval,
    fisher_exact,
    rank_sum,
    reactive_runs,
    ring_crumpling,
    ring_frame,
    ring_layout,
    settings,
    watched_run,
)

PROBE = curriculum_probe()


def cone(tilt=0.0, saddle=0.0):
    """Latents of an ideal cone: ring radius v, height v − 1; optionally tilted about dim 0, or the
    bright ring bent into a saddle."""
    t = PROBE.hue * 2 * np.pi
    v = PROBE.value
    z = np.stack([v * np.cos(t), v * np.sin(t), v - 1 + saddle * np.cos(2 * t) * (v == 1)], axis=1)
    c, s = np.cos(tilt), np.sin(tilt)
    return z @ np.array([[1, 0, 0], [0, c, s], [0, -s, c]])


def test_ring_crumpling_views_on_constructed_cases():
    flat = cone()
    assert all(ring_crumpling(PROBE, flat, v) < 0.02 for v in ("plane", "own", "3d"))
    # a flat ring tilted nearly onto its edge still projects to a convex (thin) loop: 0 everywhere
    edge = cone(tilt=1.45)
    assert all(ring_crumpling(PROBE, edge, v) < 0.02 for v in ("plane", "own", "3d"))
    # a bent ring (saddle) lying in dims 0–1: only the 3-D view sees the bend
    saddle = cone(saddle=0.3)
    assert ring_crumpling(PROBE, saddle, "plane") < 0.02 and 0.12 < ring_crumpling(PROBE, saddle, "3d") < 0.2
    # bent *and* tilted (what the control arm learns): drawn in dims 0–1 it folds over
    both = cone(tilt=1.45, saddle=0.3)
    assert ring_crumpling(PROBE, both, "plane") > 0.25 and ring_crumpling(PROBE, both, "own") < 0.02
    batch = np.stack([flat, edge])
    assert ring_crumpling(PROBE, batch, "plane").shape == (2,)


def test_ring_crumpling_bad_input():
    with pytest.raises(TypeError):
        ring_crumpling(object(), cone())
    with pytest.raises(ValueError, match="shape"):
        ring_crumpling(PROBE, np.zeros((10, 3)))
    with pytest.raises(ValueError, match="view"):
        ring_crumpling(PROBE, cone(), "sideways")


def random_rotation(seed):
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(3, 3)))
    return q * np.sign(np.diag(r))


def test_ring_layout_and_frame():
    flat = cone()
    share, axis = ring_layout(PROBE, flat)
    assert share == pytest.approx(1.0) and axis == pytest.approx(1.0)
    # tilted 90° about dim 0: the ring lies in dims 0 and 2, brightness along dim 1
    share, axis = ring_layout(PROBE, cone(tilt=np.pi / 2))
    assert share == pytest.approx(0.5, abs=1e-9) and axis == pytest.approx(0.0, abs=1e-9)
    # a random rotation scrambles the layout; ring_frame restores it (and keeps the shape)
    for seed in range(3):
        turned = cone() @ random_rotation(seed).T
        back = ring_frame(PROBE, turned)
        share, axis = ring_layout(PROBE, back)
        assert share == pytest.approx(1.0) and axis == pytest.approx(1.0)
        assert (back[PROBE.value == 0.2, 2] > back[PROBE.value == 1.0, 2].mean()).all()  # dark rings up
        d = np.linalg.norm(back[:, None] - back[None], axis=-1)
        assert np.allclose(d, np.linalg.norm(turned[:, None] - turned[None], axis=-1))  # a rigid motion
        assert np.linalg.det(np.linalg.lstsq(turned, back, rcond=None)[0]) == pytest.approx(1.0)
    batch = np.stack([cone(), cone(tilt=1.0)])
    assert ring_layout(PROBE, batch)[0].shape == (2,) and ring_frame(PROBE, batch).shape == batch.shape
    with pytest.raises(ValueError, match="latents"):
        ring_layout(PROBE, np.zeros((len(PROBE.hsv), 2)))
    with pytest.raises(TypeError):
        ring_frame(object(), cone())


def test_fisher_exact_known_values():
    # values checked against scipy.stats.fisher_exact
    assert fisher_exact(1, 12, 5, 12) == pytest.approx(0.1550, abs=1e-4)
    assert fisher_exact(11, 12, 6, 12) == pytest.approx(0.0686, abs=1e-4)
    assert fisher_exact(6, 8, 1, 8) == pytest.approx(0.0406, abs=1e-4)
    assert fisher_exact(3, 8, 4, 12) == pytest.approx(1.0)
    assert fisher_exact(0, 8, 0, 8) == 1.0
    assert fisher_exact(4, 8, 2, 8) == fisher_exact(2, 8, 4, 8)
    with pytest.raises(ValueError, match="k_a"):
        fisher_exact(9, 8, 0, 8)
    with pytest.raises(ValueError, match="n_b"):
        fisher_exact(1, 8, 0, 0)


def test_difference_interval():
    lo, hi = difference_interval(1, 12, 5, 12)
    assert lo < 1 / 12 - 5 / 12 < hi and lo < 0 < hi and -1 <= lo and hi <= 1
    lo, hi = difference_interval(8, 8, 0, 8)
    assert 0.5 < lo and hi == pytest.approx(1.0)
    lo, hi = difference_interval(0, 8, 0, 8)
    assert lo == pytest.approx(-hi)


def test_rank_sum():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=12), rng.normal(0.7, size=12)
    auc, p = rank_sum(a, b)
    # scipy.stats.mannwhitneyu(a, b, method="asymptotic"): p = 0.2145, U/(n·m) = 0.347
    assert auc == pytest.approx(0.3472, abs=1e-4) and p == pytest.approx(0.2145, abs=1e-4)
    assert rank_sum(b, a)[0] == pytest.approx(1 - auc) and rank_sum(b, a)[1] == pytest.approx(p)
    assert rank_sum(np.zeros(5), np.zeros(6)) == (0.5, 1.0)
    assert rank_sum(np.arange(10) + 100, np.arange(10))[1] < 1e-3
    with pytest.raises(ValueError):
        rank_sum([1.0], [1.0, 2.0])


def test_settings_per_profile():
    for profile in ("quick", "standard", "full"):
        cfg = settings(profile)
        assert cfg["steps"] in cfg["lengths"] and cfg["sweep_seeds"] >= 8


def test_reactive_curriculum_advances_on_threshold_and_restarts_warmup():
    cur = ReactiveCurriculum(threshold=0.5, patience=2, min_phase_steps=10, warmup_steps=10)
    assert cur.values(0)["phase"] == 0 and cur.values(0)["lr"] == pytest.approx(0.01 / 3)
    assert len(cur.data(0, cur.values(0))) == 12
    for s in range(0, 40):
        cur.update(s, {"recon": 0.1})
    assert cur.advanced_at[:2] == [11.0, 22.0]
    v = cur.values(12)
    assert v["phase"] == 1 and v["lr"] == pytest.approx(0.01 / 3)  # data and warm-up restart at 12
    assert len(cur.data(12, v)) == 360
    with pytest.raises(ValueError):
        ReactiveCurriculum(trigger="sometimes")
    with pytest.raises(ValueError):
        ReactiveCurriculum(warmup_steps=0)


def test_cached_experiments_run(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    run = watched_run(steps=60, profile="quick", progress=False)
    cur = Curriculum(60)
    assert set(cur.ends - 1) <= set(run.checkpoint_steps.tolist())
    assert run.model_at(60).latent_dim == 3
    sweep = crumpling_sweep(30, [0, 1], curriculum=False, n_snapshots=3, progress=False)
    assert sweep.n_data.tolist() == [3600] * 30
    runs = reactive_runs([0], 30, react_every=5, progress=False, min_phase_steps=5, threshold=1.0)
    assert runs[0].advanced_at and runs[0].values["phase"][-1] > 0


def test_compare_reactive(tmp_path, monkeypatch):
    from course_lib.curriculum.experiments import compare_reactive, fixed_runs
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    fixed = fixed_runs([0, 1], 40, n_snapshots=5, progress=False)
    runs = reactive_runs([0, 1], 40, react_every=2, n_snapshots=5, progress=False, min_phase_steps=2,
                         threshold=1.0, patience=1, warmup_steps=2)
    cmp = compare_reactive(fixed, runs)
    assert cmp.final_fixed.shape == (2,) and cmp.fixed_last_phase == Curriculum(40).starts[-1]
    assert np.all(np.isfinite(cmp.last_phase_step))  # threshold 1.0: advances at every check
    k, n = cmp.reached()
    assert n == 2 and 0 <= k <= 2 and cmp.lower()[1] == 2
    assert cmp.final_plain is None
    with pytest.raises(ValueError):
        compare_reactive(fixed, runs[:1])
    with pytest.raises(TypeError):
        compare_reactive(runs[0], runs)
    for bad in ([1.0], [1.0, np.nan]):
        with pytest.raises(ValueError, match="final_plain"):
            compare_reactive(fixed, runs, bad)
    assert compare_reactive(fixed, runs, [0.5, 0.25]).final_plain.tolist() == [0.5, 0.25]


def test_reactive_study_carries_the_plain_run_it_compares_with(tmp_path, monkeypatch):
    from course_lib.curriculum import experiments
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    st = experiments.reactive_study(30, [0, 1], progress=False)
    assert st.plain_mse.shape == (len(st.plain_steps), 2) and st.plain_steps[-1] == 30
    for cmp in st.comparisons.values():
        assert np.array_equal(cmp.final_plain, st.plain_mse[-1])
    assert np.array_equal(st.plain_mse[-1], experiments.plain_finals(30, [0, 1], progress=False))


def test_plain_finals_share_notebook_21s_sweep(tmp_path, monkeypatch):
    """2.2's plain run is 2.1's "all data, final weights" arm when 2.1 trains the seeds: the same
    numbers, and nothing trained again (or trained by 2.2 for both, when 2.2 runs first)."""
    from course_lib.curriculum import experiments
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    monkeypatch.setitem(experiments.PROFILE_SETTINGS, "quick",
                        dict(experiments.PROFILE_SETTINGS["quick"], lengths=(20, 30), sweep_seeds=2,
                             key_seeds=3))
    study = experiments.study_sweeps("quick", progress=False)
    files = len(list(tmp_path.glob("*.pt")))
    plain = study[20]["all data, final weights"].probe_mse()[-1]
    got = experiments.plain_finals(20, [2, 0], profile="quick", progress=False)
    assert np.array_equal(got, plain[[2, 0]])          # key seeds 0-2 at the shortest length
    snaps, curves = experiments.plain_curves(20, [2, 0], profile="quick", progress=False)
    assert snaps[-1] == 20 and curves.shape == (len(snaps), 2)
    assert np.array_equal(curves[-1], got)
    assert np.array_equal(experiments.plain_finals(30, [1], profile="quick", progress=False),
                          study[30]["all data, final weights"].probe_mse()[-1][[1]])
    assert len(list(tmp_path.glob("*.pt"))) == files   # nothing trained again
    # seeds 2.1 did not train at 30 steps (it trains 0-1 there): trained on their own
    alone = experiments.plain_finals(30, [0, 2], profile="quick", progress=False)
    assert alone.shape == (2,) and len(list(tmp_path.glob("*.pt"))) == files + 1
    # without 2.1's cached sweep, 2.1's pool is trained (and cached for 2.1): the same numbers as
    # when 2.1 ran first, whichever notebook runs first
    for f in tmp_path.glob("curriculum-sweep-*.pt"):
        f.unlink()
    first = experiments.plain_finals(20, [1], profile="quick", progress=False)
    assert len(list(tmp_path.glob("curriculum-sweep-*.pt"))) == 1
    assert np.array_equal(first, plain[[1]])
    assert experiments.crumpling_sweep(20, [0, 1, 2], arm=experiments.ARMS["all data, final weights"],
                                       progress=False, only_if_cached=True) is not None
    assert experiments.crumpling_sweep(20, [0, 1, 2], arm=experiments.ARMS["curriculum"],
                                       progress=False, only_if_cached=True) is None
    with pytest.raises(ValueError, match="seeds"):
        experiments.plain_finals(20, [], profile="quick")
    with pytest.raises(ValueError, match="steps"):
        experiments.plain_finals(0, [0], profile="quick")


def test_arms_differ_in_exactly_one_factor():
    cur = Curriculum(1200)
    arms = {label: arm_curriculum(1200, arm) for label, arm in ARMS.items()}
    steps = [0, 100, 250, 500, 800, 1000, 1199]
    for label, a in arms.items():
        # the learning rate and its warm-ups are the same in every arm
        assert [a.values(s)["lr"] for s in steps] == [cur.values(s)["lr"] for s in steps], label
        phased_data = ARMS[label].data == "phased"
        assert [len(a.data(s)) for s in steps] == ([len(cur.data(s)) for s in steps] if phased_data else [3600] * 7)
        if ARMS[label].weights == "phased":
            assert [(a.values(s)["unit"], a.values(s)["planar"]) for s in steps] == \
                [(cur.values(s)["unit"], cur.values(s)["planar"]) for s in steps], label
        else:  # the last phase's weights throughout
            assert {(a.values(s)["unit"], a.values(s)["planar"]) for s in steps} == {(PHASES[-1].unit, 0.0)}
    # the old control's cache key is the one crumpling_sweep(curriculum=False) always used
    assert arms["all data, phased weights"].describe() == Curriculum(1200, flat=True).describe()
    assert arms["curriculum"].describe() == cur.describe()
    with pytest.raises(ValueError):
        arm_curriculum(1200, Arm("shuffled", "phased"))
    with pytest.raises(ValueError):
        arm_curriculum(1200, Arm("all", "halfway"))
    with pytest.raises(TypeError):
        arm_curriculum(1200, ("all", "final"))


def test_arm_sweeps_train_every_arm(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    sweeps = arm_sweeps(20, [0, 1], progress=False)
    assert list(sweeps) == list(ARMS)
    assert sweeps["all data, final weights"].n_data.tolist() == [3600] * 20
    assert sweeps["phased data, final weights"].n_data.tolist()[0] == 12
    # same seeds, same initial weights: the first snapshot's latents agree across arms
    z0 = [sw.latents_at(0) for sw in sweeps.values()]
    assert all(np.allclose(z, z0[0]) for z in z0)


def test_arm_sweeps_key_seeds(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    sweeps = arm_sweeps(10, [0], key_seeds=[0, 1, 2], progress=False)
    assert {label: sw.n_seeds for label, sw in sweeps.items()} == {
        label: 3 if label in KEY_ARMS else 1 for label in ARMS}
    for profile in ("quick", "standard", "full"):
        cfg = settings(profile)
        assert cfg["key_seeds"] >= cfg["sweep_seeds"]


def test_compare_arms():
    from course_lib.curriculum.experiments import compare_arms
    a = np.array([0.3] * 11 + [0.05])
    b = np.array([0.3] * 6 + [0.05] * 6)
    cmp = compare_arms(a, b)
    assert (cmp.k_a, cmp.n_a, cmp.k_b, cmp.n_b) == (11, 12, 6, 12)
    assert cmp.p == pytest.approx(0.0686, abs=1e-4) and cmp.difference[0] > 0
    assert cmp.auc > 0.5 and "11/12" in cmp.row()
    assert compare_arms(a, b, threshold=0.4).k_a == 0


def test_threshold_check_lines_up_the_threshold_rule_with_the_fixed_schedule(tmp_path, monkeypatch):
    from course_lib.curriculum.experiments import fixed_runs, threshold_check
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    cmp = threshold_check(30, [0, 1], progress=False)
    assert cmp.final_fixed.shape == (2,) and cmp.final_reactive.shape == (2,)
    assert np.all(cmp.final_fixed > 0) and np.all(cmp.final_reactive > 0)
    assert np.array_equal(cmp.final_fixed, fixed_runs([0, 1], 30, progress=False).probe_mse()[-1])
    # the first seed's reactive run is the cached one: a second call trains nothing new
    files = sorted(tmp_path.glob("*.pt"))
    threshold_check(30, [0], progress=False)
    # only the 1-seed fixed sweep and the 1-seed plain run (30 steps is no length of 2.1's study)
    assert len(sorted(tmp_path.glob("*.pt"))) == len(files) + 2
    assert cmp.final_plain.shape == (2,) and np.all(cmp.final_plain > 0)
    for profile in ("quick", "standard", "full"):
        cfg = settings(profile)
        assert cfg["check_seeds"] >= cfg["reactive_seeds"]
