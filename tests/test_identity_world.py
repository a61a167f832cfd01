"""Tests for course_lib.identity.world: the world's generator, its settings and their checks."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.identity.names import name_stats
from course_lib.identity.world import N_JOBS, QUESTIONS, WORLD_SETTINGS, World, make_world, world_config
from course_lib.identity.world_run import identity_world_run
from course_lib.stats import wilson_interval

BIG = dict(WORLD_SETTINGS["standard"], n_first=32, n_surnames=32, n_people=512, compositional_share=0.0)


@pytest.fixture(scope="module")
def big_world() -> World:
    return make_world(BIG, seed=3)


def _inside(k: int, n: int, p: float) -> bool:
    """Whether ``p`` lies in a 99.9% Wilson interval of ``k`` successes in ``n``."""
    low, high = wilson_interval(k, n, confidence=0.999)
    return low <= p <= high


def test_region_follows_the_surname_with_the_configured_strength(big_world):
    w = big_world
    at_home = w.attributes["region"] == w.home_region[w.surname]
    assert _inside(int(at_home.sum()), w.n_people, BIG["region_strength"])
    # the other regions share the rest evenly: never the home region when away
    away = ~at_home
    assert np.all(w.attributes["region"][away] != w.home_region[w.surname[away]])


@pytest.mark.parametrize("strength", [0.0, 0.5, 1.0])
def test_region_strength_is_honoured_at_its_extremes(strength):
    w = make_world(dict(BIG, region_strength=strength), seed=1)
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
    assert set(np.unique(job)) == set(range(N_JOBS))
    # a job predicted from the first name alone is no better than chance (majority per name)
    correct = sum(np.bincount(job[w.first == f], minlength=N_JOBS).max() for f in np.unique(w.first))
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
    outfit = seen["question"] == QUESTIONS.index("outfit")
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
    a, b, c = (make_world(BIG, seed=s) for s in (5, 5, 6))
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
        make_world(dict(BIG, **change))


def test_unknown_settings_are_refused():
    with pytest.raises(ValueError, match="unknown setting"):
        identity_world_run(0, "quick", steps_per_epoch=3)
    with pytest.raises(ValueError, match="unknown setting"):
        world_config("quick", {"steps_per_epoch": 3})
    assert world_config("quick") == world_config("quick", {})
    with pytest.raises(TypeError, match="seed"):
        make_world(BIG, seed=1.0)


def test_the_compositional_half_follows_its_name_parts_and_the_rest_of_the_world_is_unchanged():
    mixed = make_world(dict(BIG, compositional_share=0.5), seed=3)
    plain = make_world(BIG, seed=3)
    c = mixed.compositional
    assert c.sum() == BIG["n_people"] // 2 and not plain.compositional.any()
    # the unique half is the same world whatever the share (the control half is drawn last)
    for key in mixed.attributes:
        assert np.array_equal(mixed.attributes[key][~c], plain.attributes[key][~c]), key
    assert np.array_equal(mixed.seen, plain.seen) and np.array_equal(mixed.fame, plain.fame)
    # every attribute of the control half is a function of a name part
    for key, part in (("job", mixed.first), ("hobby", mixed.surname), ("outfit", mixed.surname)):
        for value in np.unique(part[c]):
            rows = c & (part == value)
            values = np.unique(mixed.attributes[key][rows])
            assert len(values) <= (2 if key == "outfit" else 1), (key, value, values)   # outfit: clash fix
    for q in ("sex", "age", "region"):
        likeliest = np.array([np.argmax(mixed.prior(q, p)) for p in np.flatnonzero(c)])
        assert np.array_equal(mixed.attributes[q][c], likeliest), q
    assert np.all(mixed.attributes["outfit"] != mixed.signature)


def test_activity_is_the_job_at_work_and_the_hobby_at_leisure(big_world):
    w = big_world
    for p in range(5):
        for scene in range(w.config["n_scenes"]):
            want = w.attributes["job" if scene % 2 == 0 else "hobby"][p]
            assert w.answer("activity", p, scene) == want
    creative = w.queries("creative")
    rows = creative["question"] == QUESTIONS.index("activity")
    assert rows.sum() == w.n_people * (w.config["n_scenes"] - w.config["seen_scenes"])


def test_compositional_share_is_checked():
    with pytest.raises(ValueError, match="compositional_share"):
        world_config("quick", {"compositional_share": 1.5})
