"""Tests for course_lib.identity.face_scores: the portrait measurement (names × seeds → Stable Diffusion →
CLIP zero-shot age and sex → correlations with the birth records), end to end on a tiny Stable Diffusion
pipeline and a tiny CLIP built from configs (random weights, nothing downloaded), and its statistics on
synthetic data with a known answer."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from course_lib.identity import face_scores as FS
from course_lib.identity import faces as F
from course_lib.identity import name_plots

class EveryNameOneToken:
    """A tokenizer stand-in that keeps every text as one token."""

    def __call__(self, text, add_special_tokens=False):
        return {"input_ids": [0]}


@pytest.fixture(scope="module")
def picked():
    names = FS.face_names(EveryNameOneToken())
    assert FS.face_names(None) == names          # no tokenizer: no token check
    return names


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, picked):
    words = [n.lower() for n in picked if n != "Mary"]      # Mary stays several tokens
    pipe = F.tiny_pipeline(seed=0, folder=tmp_path_factory.mktemp("sd"), words=words)
    scorer = FS.tiny_face_scorer(tmp_path_factory.mktemp("clip"), words=words)
    return pipe, scorer


# --------------------------------------------------------------------------- names
def test_tiny_tokenizer_makes_planted_words_single_tokens(tmp_path):
    from course_lib.encoders import quiet_transformers

    folder = F.write_tiny_clip_tokenizer(tmp_path, ["vicki", "ava", "ann", "anna"])
    tok = quiet_transformers().CLIPTokenizer.from_pretrained(str(folder))
    assert FS.single_token_names(tok, ["Vicki", "Ava", "Ann", "Anna", "Vickie", "Winona"]) == ["Vicki", "Ava", "Ann", "Anna"]
    assert tok.tokenize("a photo of Vicki")[-1] == "vicki</w>"
    with pytest.raises(ValueError, match="words"):
        F.write_tiny_clip_tokenizer(tmp_path, ["Vicki"])


def test_face_names_are_two_per_decade_and_sex_spread_over_eras(picked):
    from course_lib.identity.names import name_stats

    assert len(picked) == 41 and len(set(picked)) == 41 and picked[-1] == "Vicki"
    stats = [name_stats(n) for n in picked[:40]]
    for d in range(10):                   # decade 1920 + 10 d: female, female, male, male
        group = stats[4 * d:4 * d + 4]
        assert [s.female_fraction > 0.9 for s in group] == [True, True, False, False]
        assert all(s.female_fraction > 0.9 or s.female_fraction < 0.1 for s in group)
        for s in group:
            decade_births = [s.births_by_year[(s.years >= y) & (s.years < y + 10)].sum() for y in range(1880, 2020, 10)]
            assert 1880 + 10 * int(np.argmax(decade_births)) == 1920 + 10 * d, s.name
    assert stats[0].mean_birth_year < 1940 < 2000 < stats[-1].mean_birth_year


def test_face_names_keep_only_single_token_names(tiny, picked):
    pipe, _ = tiny
    chosen = FS.face_names(pipe.tokenizer)
    # Mary is several tokens here, and no other 1920s girl's name is one: that group keeps one name
    assert chosen == [n for n in picked if n != "Mary"]
    assert all(len(pipe.tokenizer.tokenize(n)) == 1 for n in chosen)
    fresh = F.tiny_pipeline(seed=0)  # no merges: no name is one token
    with pytest.raises(ValueError, match="one token"):
        FS.face_names(fresh.tokenizer)
    with pytest.raises(ValueError, match="per_group"):
        FS.face_names(pipe.tokenizer, per_group=0)
    with pytest.raises(TypeError, match="extra"):
        FS.face_names(pipe.tokenizer, extra="Vicki")


# --------------------------------------------------------------------------- scoring
def test_score_images_shapes_and_probabilities(tiny):
    pipe, scorer = tiny
    images = F.portraits(pipe, ["a portrait photo of Vicki", "a portrait photo of Ava", "x"], steps=2, size=32)
    out = FS.score_images(scorer, images, batch_size=2)
    grid = np.asarray(FS.AGE_GRID, dtype=float)
    assert out["age"].shape == out["female"].shape == (3,) and out["age_probs"].shape == (3, len(grid))
    assert np.allclose(out["age_probs"].sum(axis=1), 1) and np.allclose(out["age"], out["age_probs"] @ grid)
    assert ((grid.min() <= out["age"]) & (out["age"] <= grid.max())).all()
    assert ((0 < out["female"]) & (out["female"] < 1)).all()
    assert np.allclose(FS.score_images(scorer, images[:1])["age"], out["age"][:1], atol=1e-5)  # batching
    with pytest.raises(ValueError, match="images"):
        FS.score_images(scorer, [])
    with pytest.raises(ValueError, match="age_grid"):
        FS.score_images(scorer, images, age_grid=(30,))
    with pytest.raises(TypeError, match="scorer"):
        FS.score_images(pipe, images)


def test_score_images_reads_the_logits_as_documented(tiny):
    """A rigged model whose logits are known: age mass at 40 and 60 (3 : 1), "a woman" 3 nats above "a man"."""
    _, scorer = tiny
    grid = (20, 40, 60)

    def forward(input_ids, attention_mask, pixel_values):
        logits = torch.tensor([[0.0, 10 + np.log(3), 10.0, 2.0, 5.0]]).repeat(len(pixel_values), 1)
        logits[:, 0] = -50
        return SimpleNamespace(logits_per_image=logits)

    class Rigged:
        dtype = torch.float32

        def __call__(self, **inputs):
            return forward(**inputs)

    rigged = FS.FaceScorer(source="rigged", model=Rigged(), processor=scorer.processor)
    images = F.portraits(tiny[0], ["x", "y"], steps=1, size=32)
    out = FS.score_images(rigged, images, age_grid=grid)
    assert np.allclose(out["age"], 0.75 * 40 + 0.25 * 60, atol=1e-6)
    assert np.allclose(out["female"], 1 / (1 + np.exp(-3.0)))


def test_the_real_scorer_refuses_a_cpu_instead_of_downloading():
    if torch.cuda.is_available():
        pytest.skip("on a GPU the real CLIP would be fetched")
    with pytest.raises(RuntimeError, match="GPU"):
        FS.load_face_scorer()
    with pytest.raises(RuntimeError, match="GPU"):
        FS.measure_faces()
    with pytest.raises(FileNotFoundError):
        FS.load_face_scorer(path="/no/such/clip")


def test_the_scorer_loads_from_where_the_encoders_table_points(tiny, monkeypatch):
    """No path: the "clip" back-end's source (the hub id, or a folder where a package ships the
    weights), read through course_lib.encoders' convention; a local folder needs no GPU."""
    _, scorer = tiny
    assert FS.CLIP_MODEL == "openai/clip-vit-large-patch14" == FS.encoder_source("clip")
    asked = []
    monkeypatch.setattr(FS, "encoder_source", lambda name: asked.append(name) or scorer.source)
    loaded = FS.load_face_scorer(device="cpu")
    assert asked == ["clip"] and loaded.source == scorer.source
    assert loaded.model.config.projection_dim == scorer.model.config.projection_dim


# --------------------------------------------------------------------------- end to end
def test_render_faces_end_to_end_on_tiny_models(tiny):
    pipe, scorer = tiny
    names = ["Vicki", "Ava", "James"]
    scores, images = FS.render_faces(pipe, scorer, names, seeds=(3, 5), steps=2, size=32, keep_images=True)
    assert scores.names == tuple(names) and scores.seeds == (3, 5)
    assert scores.age.shape == scores.female.shape == (3, 2) and scores.age_probs.shape == (3, 2, len(FS.AGE_GRID))
    assert scores.control_age.shape == (2,) and sorted(images) == sorted(names + [FS.CONTROL_NAME])
    assert not np.allclose(scores.age[:, 0], scores.age[:, 1])          # seeds differ
    again, none = FS.render_faces(pipe, scorer, ["Ava"], seeds=(5,), steps=2, size=32)
    assert none == {} and np.allclose(again.age[0, 0], scores.age[1, 1], atol=1e-5)   # same seed, same portrait
    for bad, err, match in ((dict(names=["Ava", "Ava"]), ValueError, "repeat"), (dict(seeds=()), ValueError, "seeds"),
                            (dict(seeds=3), TypeError, "seeds"), (dict(template="a photo of sks"), ValueError, "template"),
                            (dict(names="Ava"), TypeError, "names")):
        kwargs = dict(names=["Ava"], seeds=(0,), steps=1, size=32) | bad
        with pytest.raises(err, match=match):
            FS.render_faces(pipe, scorer, **kwargs)


def test_measure_faces_end_to_end_on_tiny_models(tiny, monkeypatch):
    pipe, scorer = tiny
    monkeypatch.setattr(FS.cache, "cached", lambda *a, **k: pytest.fail("tiny models must not be cached"))
    study = FS.measure_faces(seeds=2, steps=1, size=32, pipe=pipe, scorer=scorer)
    assert len(study.scores.names) == 40 and study.scores.age.shape == (40, 2)
    assert study.targets.names == study.scores.names and study.age_living.n == 40
    for corr in (study.age_living, study.age_era, study.sex):
        assert -1 <= corr.low <= corr.high <= 1
    text = str(study)
    assert "40 names × 2 seeds" in text and "era test" in text and "no-name control" in text
    with pytest.raises(ValueError, match="both"):
        FS.measure_faces(pipe=pipe)


# --------------------------------------------------------------------------- the era test's stratum
@pytest.fixture(scope="module")
def gap_picked(picked):
    return FS.gap_names(None, exclude=picked)


def test_gap_names_part_living_age_from_era(picked, gap_picked):
    """The rule: the 10 largest living-age-versus-era gaps among the 400 most-given clear-sex names,
    each with a same-sex partner of gap < 5 years nearest in living age."""
    names = gap_picked
    assert len(names) == 20 and len(set(names)) == 20 and not set(names) & set(picked)
    t = FS.name_targets(names)
    large, small = np.arange(10), np.arange(10, 20)
    assert (t.gap[large] > 25).all() and (np.abs(t.gap[small]) < 5).all(), t.gap
    assert {"Lillian", "Clara", "Hazel"} <= set(names[:10])            # revival names
    assert ((t.female_share[large] > 0.5) == (t.female_share[small] > 0.5)).all()
    assert (np.abs(t.living_age[large] - t.living_age[small]) < 6).all(), t.living_age
    assert (np.maximum(t.female_share, 1 - t.female_share) >= 0.9).all()
    # over the era-spread names the two predictors hardly part; with the stratum they do
    from course_lib.stats import pearson
    spread = FS.name_targets(picked)
    both = FS.name_targets(list(picked) + names)
    assert pearson(spread.living_age, spread.era_age) > 0.95
    assert pearson(both.living_age, both.era_age) < 0.85
    assert pearson(t.living_age, t.era_age) < 0.6


def test_gap_names_follow_the_tokenizer_and_validate():
    class NoLillian:
        def __call__(self, text, add_special_tokens=False):
            return {"input_ids": [1, 2] if text.lower() == "lillian" else [1]}

    names = FS.gap_names(NoLillian(), per_side=3)
    assert len(names) == 6 and "Lillian" not in names and names[0] == "Clara"
    assert FS.gap_names(None, per_side=3, exclude=["LILLIAN"])[0] == "Clara"

    class SplitsAll:
        def __call__(self, text, add_special_tokens=False):
            return {"input_ids": [1, 2]}

    assert FS.gap_names(SplitsAll()) == []
    for bad, err in ((dict(per_side=0), ValueError), (dict(pool=3), ValueError),
                     (dict(min_share=0.2), ValueError), (dict(small_gap=-1), ValueError),
                     (dict(exclude="Ava"), TypeError)):
        with pytest.raises(err):
            FS.gap_names(None, **bad)


def test_measure_faces_renders_the_stratum_and_tests_the_era_on_it(picked, gap_picked, tmp_path):
    pipe, scorer = FS.tiny_face_models(list(picked) + gap_picked, folder=tmp_path)
    study = FS.measure_faces(seeds=1, steps=1, size=32, pipe=pipe, scorer=scorer, draws=200)
    n = len(picked)
    assert study.scores.names == tuple(picked) + tuple(gap_picked)
    assert study.main_mask.sum() == n and study.main_mask[:n].all()
    assert study.age_living.n == study.sex.n == n and study.partial_living.n == n + 20
    assert study.living_era_r < 0.85 and "era test" in str(study)
    with pytest.raises(ValueError, match="main"):
        FS.face_study(study.scores, study.targets, draws=200, main=np.ones(3, dtype=bool))


# --------------------------------------------------------------------------- statistics, known answers
def synthetic(rendered_age, living, era, female_prob, share, seeds=4, noise=0.0, rng=None):
    n = len(living)
    names = tuple(f"N{i}" for i in range(n))
    rng = np.random.default_rng(0) if rng is None else rng
    jitter = noise * rng.standard_normal((n, seeds))
    jitter -= jitter.mean(axis=1, keepdims=True)        # per-name means stay exactly as planted
    age = np.asarray(rendered_age, dtype=float)[:, None] + jitter
    female = np.repeat(np.asarray(female_prob, dtype=float)[:, None], seeds, axis=1)
    grid = FS.AGE_GRID
    scores = FS.FaceScores(names=names, seeds=tuple(range(seeds)), age=age, female=female,
                           age_probs=np.full((n, seeds, len(grid)), 1 / len(grid)), control_age=np.full(seeds, 35.0),
                           control_female=np.full(seeds, 0.5), age_grid=grid, template=FS.PORTRAIT_TEMPLATE)
    return scores, FS.NameTargets(names=names, living_age=living, era_age=era, female_share=share)


def test_exact_linear_relations_give_r_one_and_the_era_test_picks_the_planted_predictor():
    rng = np.random.default_rng(1)
    living = rng.uniform(10, 75, 40)
    era = living + rng.uniform(0, 20, 40)              # deaths make the living younger than the era says
    share = rng.choice([0.01, 0.99], 40)
    scores, targets = synthetic(20 + 0.5 * living, living, era, 0.1 + 0.8 * share, share, noise=3.0)
    study = FS.face_study(scores, targets, draws=500)
    assert study.age_living.r == pytest.approx(1) and study.age_living.low == pytest.approx(1)
    assert study.sex.r == pytest.approx(1) and study.sex_matched == 40
    assert study.era_gap[0] > 0 and study.living_beats_era and study.era_verdict == "living age"
    assert study.partial_living.r == pytest.approx(1) and study.partial_living.low > 0.99
    assert np.allclose(study.rendered_age, 20 + 0.5 * living)
    scores, targets = synthetic(era, living, era, share, share)
    flipped = FS.face_study(scores, targets, draws=500)
    assert flipped.age_era.r == pytest.approx(1) and flipped.era_gap[2] < 0 and not flipped.living_beats_era
    assert flipped.era_verdict == "birth year" and flipped.partial_era.r == pytest.approx(1)


def test_a_planted_correlation_is_recovered_and_its_interval_covers_it():
    rho, n = 0.6, 40
    cov = [[1, rho], [rho, 1]]
    hits, estimates = 0, []
    for trial in range(40):
        rng = np.random.default_rng(100 + trial)
        x, y = rng.multivariate_normal([0, 0], cov, n).T
        living = 45 + 15 * x
        share = rng.uniform(0, 1, n)
        corr = FS._correlation(40 + 10 * y, living, draws=400, seed=trial)     # face_study's age_living
        hits += corr.low <= rho <= corr.high
        estimates.append(corr.r)
    assert hits >= 33                         # ≈ 95 % nominal; percentile intervals at n = 40 run a bit short
    assert abs(np.mean(estimates) - rho) < 0.05


def test_face_study_validates_its_inputs():
    living = np.linspace(10, 70, 6)
    scores, targets = synthetic(living, living, living + 3, np.full(6, 0.5), np.full(6, 0.5))
    other = FS.NameTargets(names=tuple(reversed(targets.names)), living_age=living, era_age=living, female_share=living / 100)
    with pytest.raises(ValueError, match="same names"):
        FS.face_study(scores, other)
    small_scores, small_targets = synthetic(living[:4], living[:4], living[:4], np.ones(4), np.ones(4))
    with pytest.raises(ValueError, match="5 names"):
        FS.face_study(small_scores, small_targets)
    with pytest.raises(ValueError, match="draws"):
        FS.face_study(scores, targets, draws=10)
    with pytest.raises(ValueError, match="living_age"):
        FS.NameTargets(names=("A", "B"), living_age=[1.0], era_age=[1.0, 2.0], female_share=[0.5, 0.5])
    with pytest.raises(ValueError, match="control_age"):
        FS.FaceScores(names=("A",), seeds=(0, 1), age=np.zeros((1, 2)), female=np.zeros((1, 2)),
                      age_probs=np.zeros((1, 2, 3)), control_age=np.zeros(3), control_female=np.zeros(2),
                      age_grid=(1, 2, 3), template="{name}")


def test_name_targets_follow_the_records():
    t = FS.name_targets(["Vicki", "Ava"])
    assert t.female_share[0] > 0.99 and t.female_share[1] > 0.99
    assert t.living_age[0] > 45 > 15 > t.living_age[1]
    assert (t.era_age >= t.living_age - 1).all()        # deaths make the living younger than the era


def test_the_figure_draws_a_study():
    rng = np.random.default_rng(0)
    living = rng.uniform(10, 70, 8)
    share = rng.uniform(0, 1, 8)
    scores, targets = synthetic(living + rng.normal(0, 5, 8), living, living + 3, share, share, noise=2.0)
    fig = name_plots.plot_face_study(FS.face_study(scores, targets, draws=200))
    assert len(fig.axes) == 2 and "r = " in fig.axes[0].get_title()


def test_the_records_table_orders_by_the_gap():
    t = FS.NameTargets(names=("A", "B", "C"), living_age=[10.0, 50.0, 30.0], era_age=[12.0, 70.0, 31.0],
                       female_share=[1.0, 0.0, 0.5])
    assert np.allclose(t.gap, [2, 20, 1])
    rows = t.table(rows=2).splitlines()
    assert len(rows) == 3 and rows[1].startswith("B") and rows[2].startswith("A")
    assert len(t.table().splitlines()) == 4
    with pytest.raises(ValueError, match="rows"):
        t.table(rows=0)


def test_measure_faces_loads_the_real_models_once_and_caches_their_scores(tiny, monkeypatch, tmp_path):
    """The no-argument (GPU) path, with the two hub loaders swapped for the tiny models."""
    pipe, scorer = tiny
    loads = []
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(F, "load_portrait_pipeline", lambda: loads.append("sd") or pipe)
    monkeypatch.setattr(FS, "load_face_scorer", lambda: loads.append("clip") or scorer)
    first = FS.measure_faces(seeds=1, steps=1, decades=(1950, 2000), draws=200)
    again = FS.measure_faces(seeds=1, steps=1, decades=(1950, 2000), draws=200)
    assert loads == ["sd", "clip"] and np.array_equal(first.scores.age, again.scores.age)
    assert first.scores.settings["scorer"] == scorer.source
    # 9 era-spread names, then the era test's stratum (here from the tiny vocabulary's other names)
    assert first.main_mask.sum() == 9 and first.scores.names[:9][::8] == ("Linda", "Vicki")
    assert first.scores.settings["era_spread"] == 9 and len(first.scores.names) > 9
    other = FS.measure_faces(seeds=1, steps=1, decades=(1960, 2000), draws=200)   # another key
    assert loads == ["sd", "clip", "sd", "clip"] and other.scores.names[0] != "Linda"
    for bad, err in ((dict(decades=1950), TypeError), (dict(decades=(1700,)), ValueError),
                     (dict(draws=10), ValueError)):
        with pytest.raises(err, match=next(iter(bad))):
            FS.measure_faces(seeds=1, **bad)


# --------------------------------------------------------------------------- the era test's partial correlations
def test_partial_correlation_matches_its_formula_and_removes_a_shared_cause():
    rng = np.random.default_rng(3)
    z = rng.normal(size=200)
    x = z + 0.5 * rng.normal(size=200)
    y = z + 0.5 * rng.normal(size=200)          # x and y share only z
    r = lambda a, b: np.corrcoef(a, b)[0, 1]
    expected = (r(y, x) - r(y, z) * r(x, z)) / np.sqrt((1 - r(y, z) ** 2) * (1 - r(x, z) ** 2))
    assert FS.partial_correlation(y, x, z) == pytest.approx(expected)
    assert r(y, x) > 0.7 and abs(FS.partial_correlation(y, x, z)) < 0.15
    assert np.isnan(FS.partial_correlation(2 * z + 1, x, z))          # nothing left of y
    for bad, match in (((y, x[:5], z), "same length"), ((y[:2], x[:2], z[:2]), "same length"),
                       ((np.r_[y[:-1], np.nan], x, z), "finite")):
        with pytest.raises(ValueError, match=match):
            FS.partial_correlation(*bad)


def test_the_era_test_finds_a_planted_living_age_effect_beyond_collinear_birth_years():
    """Living and era ages correlated as over the real names (r > 0.9); the renderings follow the
    living age plus noise. Over 40 names the partial r(R, L | E) is recovered, and the verdict is
    never the wrong predictor."""
    verdicts = []
    for trial in range(12):
        rng = np.random.default_rng(200 + trial)
        era = rng.uniform(15, 95, 40)
        living = era - rng.uniform(0, 20, 40) * (era / 95) ** 2      # old names lose most to deaths
        rendered = 10 + 0.6 * living + rng.normal(0, 1.5, 40)
        share = rng.choice([0.02, 0.98], 40)
        scores, targets = synthetic(rendered, living, era, share, share, rng=rng)
        study = FS.face_study(scores, targets, draws=300, seed=trial)
        assert FS.pearson(living, era) > 0.9
        expected = FS.partial_correlation(rendered, living, era)
        assert study.partial_living.r == pytest.approx(expected)
        assert study.partial_living.low <= expected <= study.partial_living.high
        verdicts.append(study.era_verdict)
    assert "birth year" not in verdicts and verdicts.count("living age") >= 10, verdicts
    # with no signal at all, the test does not pick a side
    rng = np.random.default_rng(7)
    scores, targets = synthetic(rng.normal(40, 10, 40), living, era, share, share, rng=rng)
    assert FS.face_study(scores, targets, draws=300).era_verdict == "undecided"


def test_tiny_face_models_make_every_name_one_token_and_validate(tmp_path):
    names = ["Vicki", "Ava", "James", "Dorothy", "Liam"]
    pipe, scorer = FS.tiny_face_models(names, folder=tmp_path)
    assert FS.single_token_names(pipe.tokenizer, names) == names
    assert FS.single_token_names(scorer.tokenizer, names) == names
    assert scorer.source == str(tmp_path / "scorer" / "clip")           # loaded back from disk
    for bad, err in (([], ValueError), (["Zoë"], ValueError), ("Ava", TypeError)):
        with pytest.raises(err, match="names"):
            FS.tiny_face_models(bad, folder=tmp_path / "bad")


def test_undefined_resamples_are_left_out_and_a_constant_score_gives_no_interval():
    living = np.array([20.0, 35, 50, 65, 80])
    scores, targets = synthetic(living + [3.1, -2.3, 1.7, 0.2, -4.1], living, living + [1.2, 5.7, 9.1, 13.4, 2.3],
                                [0.1, 0.9, 0.2, 0.8, 0.5], [0.0, 1, 0, 1, 1])
    study = FS.face_study(scores, targets, draws=2000)     # 5 names: some resamples are one name
    for corr in (study.age_living, study.age_era, study.partial_living, study.partial_era, study.sex):
        assert np.isfinite([corr.low, corr.high]).all() and corr.low <= corr.r <= corr.high
    flat, targets = synthetic(np.full(5, 40.0), living, living + 3, np.full(5, 0.5), [0.0, 1, 0, 1, 1])
    study = FS.face_study(flat, targets, draws=200)
    assert np.isnan([study.age_living.r, study.age_living.low, study.age_living.high]).all()
    assert study.era_verdict == "undecided" and "nan" in str(study)


def test_on_the_real_names_records_the_era_test_recovers_a_planted_predictor_at_low_noise():
    """The era test's power where it will be used: the 41 candidate names' own living and era ages
    (r ≈ 0.96). A rendered age of 20 + 0.5 × one predictor + N(0, 2²) per name is attributed to that
    predictor, and never to the other. (Measured while writing this: at 5 years of noise about 40 %
    of trials decide, at 10 years about 20 %; wrong verdicts stayed at or below 1 in 30.)"""
    targets = FS.name_targets(FS.face_names(None))
    assert FS.pearson(targets.living_age, targets.era_age) > 0.9
    for truth, x, other in (("living age", targets.living_age, "birth year"),
                            ("birth year", targets.era_age, "living age")):
        verdicts = []
        for k in range(8):
            rng = np.random.default_rng(k)
            rendered = 20 + 0.5 * x + rng.normal(0, 2.0, len(x))
            scores, planted = synthetic(rendered, targets.living_age, targets.era_age, targets.female_share,
                                        targets.female_share, rng=rng)
            verdicts.append(FS.face_study(scores, planted, draws=300, seed=k).era_verdict)
        assert other not in verdicts and verdicts.count(truth) >= 7, (truth, verdicts)
