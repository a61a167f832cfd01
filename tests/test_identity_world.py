"""The identity world: data generator, model, measures, onsets and the shuffled control."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_lib.identity import world as W
from course_lib.identity.names import name_stats
from course_lib.stats import wilson_interval

BIG = dict(W.WORLD_SETTINGS["standard"], n_first=32, n_surnames=32, n_people=512)
TINY = dict(W.WORLD_SETTINGS["quick"], n_first=6, n_surnames=6, n_people=16, steps=80, n_checkpoints=12,
            d_name=8, d_hidden=16, d_identity=8, d_context=4, d_head=16, seeds=(0, 1))


@pytest.fixture(scope="module")
def big_world() -> W.World:
    return W.make_world(BIG, seed=3)


TINY_OVERRIDES = {k: v for k, v in TINY.items() if k != "seeds"}


@pytest.fixture(scope="module")
def world_cache(tmp_path_factory):
    """A cache folder of this module's own (the tiny runs never touch the reader's cache)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COURSE_CACHE_DIR", str(tmp_path_factory.mktemp("world-cache")))
        yield


@pytest.fixture(scope="module")
def tiny_run(world_cache) -> W.WorldRun:
    return W.identity_world_run(0, "quick", progress=False, **TINY_OVERRIDES)


def _inside(k: int, n: int, p: float) -> bool:
    """Whether ``p`` lies in a 99.9% Wilson interval of ``k`` successes in ``n``."""
    low, high = wilson_interval(k, n, confidence=0.999)
    return low <= p <= high


# --------------------------------------------------------------------------- the generator
def test_region_follows_the_surname_with_the_configured_strength(big_world):
    w = big_world
    at_home = w.attributes["region"] == w.home_region[w.surname]
    assert _inside(int(at_home.sum()), w.n_people, BIG["region_strength"])
    # the other regions share the rest evenly: never the home region when away
    away = ~at_home
    assert np.all(w.attributes["region"][away] != w.home_region[w.surname[away]])


@pytest.mark.parametrize("strength", [0.0, 0.5, 1.0])
def test_region_strength_is_honoured_at_its_extremes(strength):
    w = W.make_world(dict(BIG, region_strength=strength), seed=1)
    share = float(np.mean(w.attributes["region"] == w.home_region[w.surname]))
    if strength in (0.0, 1.0):
        assert share == strength
    else:
        assert _inside(int(round(share * w.n_people)), w.n_people, strength)


def test_sex_is_drawn_with_the_first_names_real_female_fraction(big_world):
    w = big_world
    female = w.attributes["sex"] == 0
    # expected count = Σ P(female | first name); a 4-sigma binomial band
    p = w.female_fraction[w.first]
    expected, sd = p.sum(), np.sqrt((p * (1 - p)).sum())
    assert abs(female.sum() - expected) < 4 * sd
    assert w.female_fraction[w.first_names.index("Mary")] == pytest.approx(name_stats("Mary").female_fraction)
    assert w.female_fraction[w.first_names.index("Mary")] > 0.99
    assert w.female_fraction[w.first_names.index("James")] < 0.01
    assert 0.3 < w.female_fraction[w.first_names.index("Jordan")] < 0.7 or \
        0.3 < w.female_fraction[w.first_names.index("Casey")] < 0.7


def test_age_bands_come_from_the_living_bearers_of_the_name(big_world):
    w = big_world
    assert np.allclose(w.age_probs.sum(axis=1), 1)
    old, young = w.first_names.index("Dorothy"), w.first_names.index("Liam")
    assert np.argmax(w.age_probs[old]) == 3 and np.argmax(w.age_probs[young]) == 0
    for f in (old, young):
        rows = w.first == f
        k = int((w.attributes["age"][rows] == np.argmax(w.age_probs[f])).sum())
        assert _inside(k, int(rows.sum()), float(w.age_probs[f].max()))


def test_unique_attributes_ignore_the_name(big_world):
    w = big_world
    job = w.attributes["job"]
    assert set(np.unique(job)) == set(range(W.N_JOBS))
    # a job predicted from the first name alone is no better than chance (majority per name)
    correct = sum(np.bincount(job[w.first == f], minlength=W.N_JOBS).max() for f in np.unique(w.first))
    assert correct / w.n_people < 0.35


def test_scenes_outfits_and_weights(big_world):
    w = big_world
    cfg = w.config
    assert np.all(w.seen.sum(axis=1) == cfg["seen_scenes"])
    assert np.all(w.seen[np.arange(w.n_people), w.signature])
    assert np.all(w.attributes["outfit"] != w.signature)          # the iconic look is not the scene's own
    seen, creative = w.queries("seen"), w.queries("creative")
    assert not np.any(w.seen[creative["person"], creative["scene"]])
    assert np.all(w.seen[seen["person"], seen["scene"]])
    outfit = seen["question"] == W.QUESTIONS.index("outfit")
    sig = seen["scene"] == w.signature[seen["person"]]
    assert np.all(seen["answer"][outfit & sig] == w.attributes["outfit"][seen["person"][outfit & sig]])
    assert np.all(seen["answer"][outfit & ~sig] == seen["scene"][outfit & ~sig])
    per_person = np.bincount(seen["person"], seen["weight"], minlength=w.n_people)
    assert np.allclose(per_person, w.fame)
    sig_weight = np.bincount(seen["person"][sig], seen["weight"][sig], minlength=w.n_people)
    assert np.allclose(sig_weight / per_person, cfg["signature_share"])
    assert w.fame.max() / w.fame.min() == pytest.approx(w.n_people ** cfg["zipf"])


def test_priors_are_distributions_and_match_the_configuration(big_world):
    w = big_world
    region = w.prior("region", 0)
    assert region.sum() == pytest.approx(1) and region.max() == pytest.approx(BIG["region_strength"])
    assert w.prior("sex", 0)[0] == pytest.approx(w.female_fraction[w.first[0]])
    with pytest.raises(ValueError, match="question"):
        w.prior("job", 0)


def test_worlds_are_reproducible_and_seeded():
    a, b, c = (W.make_world(BIG, seed=s) for s in (5, 5, 6))
    assert a.surnames == b.surnames and np.array_equal(a.first, b.first)
    assert not np.array_equal(a.attributes["job"], c.attributes["job"])
    assert len(set(a.name(i) for i in range(a.n_people))) == a.n_people


def test_people_are_found_by_name_and_unknown_identities_fail(big_world):
    w = big_world
    name = w.name(7)
    assert w.check_person(name) == 7 and w.check_person("  " + name.upper() + " ") == 7
    with pytest.raises(KeyError, match="nobody in this world"):
        w.check_person("Ada Lovelace")
    with pytest.raises(ValueError, match="person"):
        w.check_person(w.n_people)
    with pytest.raises(TypeError, match="person"):
        w.check_person(1.5)


@pytest.mark.parametrize("change, match", [
    (dict(region_strength=1.2), "region_strength"),
    (dict(signature_share=0.0), "signature_share"),
    (dict(signature_share=1.0), "signature_share"),
    (dict(n_people=10_000), "n_people"),
    (dict(seen_scenes=6), "seen_scenes"),
    (dict(n_first=99), "n_first"),
    (dict(optimizer="lbfgs"), "optimizer"),
    (dict(zipf=-1), "zipf"),
    (dict(lr=0), "lr"),
])
def test_bad_configurations_are_refused_by_name(change, match):
    with pytest.raises(ValueError, match=match):
        W.make_world(dict(BIG, **change))


def test_unknown_settings_are_refused():
    with pytest.raises(ValueError, match="unknown setting"):
        W.identity_world_run(0, "quick", steps_per_epoch=3)
    with pytest.raises(TypeError, match="seed"):
        W.make_world(BIG, seed=1.0)


# --------------------------------------------------------------------------- the measures
def test_interaction_norm_is_zero_for_a_purely_compositional_code():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(5, 1, 3)), rng.normal(size=(1, 7, 3))
    assert np.allclose(W.interaction_norm(a + b + 2.0), 0, atol=1e-12)


def test_interaction_norm_finds_one_identitys_own_direction():
    """A bump δ·e on one pair leaves δ(1 − 1/F)(1 − 1/S) on it after the additive fit."""
    rng = np.random.default_rng(1)
    F_, S_, d = 6, 8, 4
    z = rng.normal(size=(F_, 1, d)) + rng.normal(size=(1, S_, d))
    z[2, 5] += 3.0 * np.eye(d)[1]
    norm = W.interaction_norm(z)
    assert np.unravel_index(np.argmax(norm), norm.shape) == (2, 5)
    assert norm[2, 5] == pytest.approx(3.0 * (1 - 1 / F_) * (1 - 1 / S_))
    additive = W.additive_part(torch.as_tensor(z))
    assert torch.allclose(additive.mean(dim=(0, 1)), torch.as_tensor(z).mean(dim=(0, 1)))


@pytest.mark.parametrize("codes, match", [(np.zeros((4, 4)), "codes must be"), (np.zeros((1, 4, 2)), "codes must be"),
                                          (np.full((3, 3, 2), np.nan), "NaN")])
def test_interaction_norm_bad_input(codes, match):
    with pytest.raises(ValueError, match=match):
        W.interaction_norm(codes)


def test_onset_on_curves_with_known_change_points():
    steps = np.arange(0, 100, 10)
    curve = np.array([0, 0.1, 0.2, 0.6, 0.7, 0.9, 0.95, 0.97, 0.98, 0.99])
    assert W.onset(steps, curve, 0.5) == 30
    assert W.onset(steps, curve, 0.95) == 60
    assert W.onset(steps, curve, 0.995) is None
    blip = np.array([0, 0.6, 0.1, 0.2, 0.7, 0.8, 0.9, 0.2, 0.9, 0.9])
    assert W.onset(steps, blip, 0.5, hold=3) == 40          # the one-checkpoint blip at 10 is ignored
    assert W.onset(steps, blip, 0.5, hold=1) == 10
    late = np.r_[np.zeros(8), 0.9, 0.9]
    assert W.onset(steps, late, 0.5, hold=3) == 80          # at the end, every remaining checkpoint holds
    assert W.onset(steps, np.ones(10), 0.5) is None          # started above: no crossing was seen
    assert W.onset(steps, np.r_[1, 0, np.ones(8)], 0.5) == 20


@pytest.mark.parametrize("steps, curve, match", [([0, 1], [0.1], "same length"), ([0, 0], [0, 1], "increasing"),
                                                 ([0, 1], [0, np.nan], "NaN")])
def test_onset_bad_input(steps, curve, match):
    with pytest.raises(ValueError, match=match):
        W.onset(steps, curve, 0.5)


def test_spearman_and_ranks():
    assert W.rank([10, 30, 20, 20]).tolist() == [1, 4, 2.5, 2.5]
    assert W.spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1)
    assert W.spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1)
    # hand-computed: ranks (1,2,3,4,5) against (2,1,4,3,5): 1 − 6·Σd²/(n(n²−1)) = 1 − 6·4/120 = 0.8
    assert W.spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]) == pytest.approx(0.8)
    with pytest.raises(ValueError):
        W.rank([1, np.nan])


def test_stratified_shuffle_keeps_every_stratums_values():
    rng = np.random.default_rng(0)
    values = np.arange(40.0)
    strata = np.repeat([0, 1, 2, 3], 10)
    out = W.stratified_shuffle(values, strata, rng)
    for s in range(4):
        assert sorted(out[strata == s]) == sorted(values[strata == s])
    assert not np.array_equal(out, values)


def test_the_shuffled_control_sees_through_a_fame_confound():
    """Two onsets that both follow fame and nothing else correlate strongly, yet within fame
    strata they are independent: the control must not call that a coincidence. A real link
    (b follows a beyond fame) must be detected."""
    rng = np.random.default_rng(2)
    n = 400
    fame = rng.pareto(1.0, n) + 1
    base = 1000 / fame
    a = base * np.exp(rng.normal(0, 0.3, n))
    b_confounded = base ** 0.8 * np.exp(rng.normal(0, 0.3, n))
    confounded = W.onset_coincidence(a, b_confounded, fame, n_shuffles=300)
    assert confounded.raw_rho > 0.5 and confounded.p_value > 0.05
    # coarse fame bins alone would not do: the raw correlation beats within-bin shuffles
    bins = W.fame_strata(fame, 5)
    within_bins = [W.spearman(a, W.stratified_shuffle(b_confounded, bins, rng)) for _ in range(200)]
    assert confounded.raw_rho > np.percentile(within_bins, 99)
    b_linked = a * np.exp(rng.normal(0, 0.1, n)) * 0.7
    linked = W.onset_coincidence(a, b_linked, fame, n_shuffles=300)
    assert linked.p_value < 0.01 and linked.lag == pytest.approx(np.log10(0.7), abs=0.03)
    lo, hi = linked.lag_interval
    assert lo <= linked.lag <= hi
    with pytest.raises(ValueError, match="fame"):
        W.onset_coincidence(a, b_linked, -fame)
    with pytest.raises(ValueError, match="at least 8"):
        W.onset_coincidence(a[:5], b_linked[:5], fame[:5])


def test_fame_tiers_and_strata():
    fame = np.arange(1, 101, dtype=float)
    tier = W.fame_tier(fame)
    assert (tier == 0).sum() == 10 and (tier == 1).sum() == 40 and (tier == 2).sum() == 50
    assert tier[-1] == 0 and tier[0] == 2
    assert np.bincount(W.fame_strata(fame, 5)).tolist() == [20] * 5


# --------------------------------------------------------------------------- the model and the run
def test_model_outputs_only_the_questions_answers(tiny_run):
    model = tiny_run.model_at(int(tiny_run.step[-1]))
    w = tiny_run.world
    q = torch.tensor([[w.first[0], w.surname[0], 1, W.QUESTIONS.index("sex")],
                      [w.first[1], w.surname[1], 2, W.QUESTIONS.index("job")]])
    logp = model(q)
    assert logp.shape == (2, int(model.answer_mask.shape[1]))
    assert torch.allclose(logp.exp().sum(dim=1), torch.ones(2))
    assert torch.isinf(logp[0]).sum() == logp.shape[1] - 2          # sex: two answers
    assert torch.isfinite(logp[1]).sum() == W.N_JOBS
    with pytest.raises(ValueError, match="queries"):
        model(torch.zeros(3, dtype=torch.long))


def test_run_shapes_checkpoints_and_cache(tiny_run):
    run = tiny_run
    assert run.step[0] == 0 and run.step[-1] == TINY["steps"]
    assert np.all(np.diff(run.step) > 0) and len(run.states) == len(run.step)
    assert len(run.train_loss) == TINY["steps"] and run.train_loss[-1] < run.train_loss[0]
    for key in W.CURVES:
        values = run.timelines[key]
        assert values.shape == (len(run.step), run.world.n_people)
        assert np.all((values >= 0) & (values <= 1 + 1e-6))
    assert run.timelines["own_nobody"].shape[1] == TINY["n_first"] * TINY["n_surnames"] - TINY["n_people"]
    with pytest.raises(ValueError, match="not a checkpoint"):
        run.model_at(int(run.step[1]) + 1000)
    with pytest.raises(ValueError, match="key"):
        run.curve("fame", 0)
    again = W.identity_world_run(0, "quick", progress=False, **TINY_OVERRIDES)
    assert np.array_equal(again.timelines["unique"], run.timelines["unique"])
    assert W.checkpoint_steps(1000, 10).tolist()[:3] == [1, 2, 5] and W.checkpoint_steps(1000, 10)[-1] == 1000


def test_famous_identities_are_learned_and_the_model_learns_at_all():
    """A small world, trained a little: the most famous person's job/hobby is known in new scenes,
    far above chance (1/12), and better than the least famous one's."""
    cfg = dict(W.WORLD_SETTINGS["quick"], steps=300)
    world = W.make_world(cfg, seed=0)
    trained = W.train_world_model(world, 0, progress=False)
    tl = W.identity_timelines(world, trained["states"][-1:])
    top, bottom = np.argmax(world.fame), np.argmin(world.fame)
    assert tl["flexible"][0, top] > 0.8
    assert tl["flexible"][0, top] > tl["flexible"][0, bottom]
    assert tl["coarse"][0].mean() > 0.8


def test_study_pools_people_and_reports_the_chance_rate(tiny_run):
    study = W.world_study("quick", seeds=[0, 1], progress=False, **TINY_OVERRIDES)
    assert len(study.people) == 2 * TINY["n_people"]
    table = study.reach_table()
    assert list(table.columns) == [t for t, _, _ in W.TIERS]
    assert "chance" in table.index[-1]
    assert all("CI" in cell for cell in table.iloc[0])


def test_the_factored_head_gives_the_same_answers_as_forward(tiny_run):
    """Training uses ``answers_for`` (per-person parts summed per row); it must equal ``forward``."""
    w = tiny_run.world
    model = tiny_run.model_at(int(tiny_run.step[-1]))
    q = w.queries("seen")
    person, scene, question = (torch.as_tensor(q[k]) for k in ("person", "scene", "question"))
    with torch.no_grad():
        z = model.identity_code(torch.as_tensor(w.first), torch.as_tensor(w.surname))
        fast = model.answers_for(z, person, scene, question)
        plain = model(W._query_tensor(w, q))
    finite = torch.isfinite(plain)
    assert torch.equal(finite, torch.isfinite(fast))
    assert torch.allclose(fast[finite], plain[finite], atol=1e-5)
