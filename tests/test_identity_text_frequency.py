"""Tests for the text-frequency split (3.1) and steering at matched damage (3.2)."""

import numpy as np
import pytest

from course_lib.identity import basis as Bm
from course_lib.identity import probes as P

from test_identity_probes import _fake_split_inputs, steering_world


# ---------------------------------------------------------------- text frequency (3.1)
def test_text_frequency_reads_the_shipped_table():
    z = P.text_frequency(["Vicki", "vicki", " JOHN ", "Winona"])
    assert z[0] == z[1] and 2.5 < z[0] < 4.0          # wordfreq 3.1.1: 3.22
    assert z[2] > 5 and z[2] > z[0] > z[3] > 0        # John ≫ Vicki > Winona
    assert P.text_frequency([]).shape == (0,)


def test_text_frequency_bad_input():
    with pytest.raises(KeyError, match="1,000 births"):
        P.text_frequency(["Vicki", "Zzyzxqk"])
    with pytest.raises(TypeError, match="names"):
        P.text_frequency("Vicki")


def _with_zipf(seed=0):
    """The fake split of test_identity_probes with a text frequency that decides the token count
    except in a middle band, where both kinds occur."""
    emb, table, tokens = _fake_split_inputs(seed=seed)
    rng = np.random.default_rng(seed)
    zipf = np.where(tokens == 1, rng.uniform(2.6, 4.5, len(tokens)), rng.uniform(1.0, 3.4, len(tokens)))
    return emb, table, tokens, zipf


def test_text_frequency_split_scores_each_band_and_token_count():
    emb, table, tokens, zipf = _with_zipf()
    cells = P.text_frequency_split(emb, table, tokens, zipf, edges=(2.5, 3.5), draws=50)
    labels = [c.cell for c in cells]
    assert labels[0] == "Zipf < 2.5, several tokens"                 # no one-token name there
    assert "Zipf 2.5–3.5, one token" in labels and "Zipf 2.5–3.5, several tokens" in labels
    assert sum(c.names for c in cells) <= len(tokens)
    for c in cells:                                                  # the planted token effect
        assert (c.mean_difference > 0) == ("one token" in c.cell), c
    assert "Zipf" in P.format_split(cells)


def test_text_frequency_split_bad_input():
    emb, table, tokens, zipf = _with_zipf()
    with pytest.raises(ValueError, match="zipf"):
        P.text_frequency_split(emb, table, tokens, zipf[:-1])
    with pytest.raises(ValueError, match="zipf"):
        P.text_frequency_split(emb, table, tokens, np.where(zipf > 3, np.nan, zipf))
    with pytest.raises(ValueError, match="edges"):
        P.text_frequency_split(emb, table, tokens, zipf, edges=(3.0, 2.0))
    with pytest.raises(ValueError, match="token_counts"):
        P.text_frequency_split(emb, table, tokens.astype(float), zipf)
    with pytest.raises(ValueError, match="draws"):
        P.text_frequency_split(emb, table, tokens, zipf, draws=1)


def test_matched_contrast_finds_the_planted_token_effect_at_matched_frequency():
    emb, table, tokens, zipf = _with_zipf()
    band = np.searchsorted([2.5, 3.5], zipf, side="right")
    out = P.matched_contrast(emb, table, tokens == 1, band, draws=50)
    assert out["strata"] == [1]                                    # the only band with both kinds
    assert out["names"] == int((band == 1).sum())
    lo, hi = out["interval"]["mean"]
    assert lo > 0 and lo <= out["difference"]["mean"] <= hi
    # a group that is not the planted factor: no effect at matched token count
    other = np.random.default_rng(1).random(len(tokens)) < 0.5
    null = P.matched_contrast(emb, table, other, (tokens > 1).astype(int), draws=50)
    assert null["interval"]["mean"][0] < 0 < null["interval"]["mean"][1]


def test_length_control_separates_tokens_from_length():
    emb, table, tokens = _fake_split_inputs()
    # names whose length does not follow the token count: the planted effect is the token's
    rng = np.random.default_rng(2)
    emb.names = ["x" * int(k) for k in rng.integers(4, 8, len(tokens))]
    out = P.length_control(emb, table, tokens, draws=50)
    lo, hi = out["token_at_length"]["interval"]["mean"]
    assert lo > 0 and out["token_at_length"]["names"] > 300
    lo, hi = out["length_at_tokens"]["interval"]["mean"]
    assert lo < 0 < hi                                              # length: no planted effect
    assert set(out["mean_length"]) == {"one token", "several"}
    with pytest.raises(ValueError, match="token_counts"):
        P.length_control(emb, table, tokens.astype(float))
    with pytest.raises(ValueError, match="token_counts"):
        P.length_control(emb, table, tokens[:-1])


def test_matched_contrast_bad_input():
    emb, table, tokens, zipf = _with_zipf()
    strata = np.zeros(len(tokens), dtype=int)
    with pytest.raises(ValueError, match="group"):
        P.matched_contrast(emb, table, (tokens == 1).astype(int), strata)
    with pytest.raises(ValueError, match="strata"):
        P.matched_contrast(emb, table, tokens == 1, strata.astype(float))
    with pytest.raises(ValueError, match="both sides"):
        P.matched_contrast(emb, table, np.ones(len(tokens), dtype=bool), strata)
    with pytest.raises(ValueError, match="min_names"):
        P.matched_contrast(emb, table, tokens == 1, strata, min_names=1)


# ---------------------------------------------------------------- steering at matched damage (3.2)
def test_steering_tradeoff_matches_the_study_and_grows_with_t():
    names, stats, spaces = steering_world()
    ts = (0.5, 1.5, 3.0)
    st = Bm.steering_study(spaces, names, stats, starts=40, t=1.5, n=5, k=8)
    tr = Bm.steering_tradeoff(spaces, names, stats, ts=ts, starts=40, n=5, k=8)
    assert tr.starts == st.starts
    for space in spaces:
        for target in ("younger", "more female"):
            for kind in ("difference of means", "random"):
                assert np.allclose(tr.effect[space][kind][target][1], st.effects[space][kind][target])
            d, e = tr.curve(space, "difference of means", target, "turnover")
            assert d.shape == e.shape == (3,) and ((0 <= d) & (d <= 1)).all()
    d, e = tr.curve("strong", "difference of means", "younger", "turnover")
    assert e[2] > e[0] > 0 and d[2] >= d[0]
    assert (tr.off_target["strong"]["random"]["younger"] >= 0).all()


def test_matched_gap_reads_effects_at_the_same_damage():
    names, stats, spaces = steering_world()
    # the same space twice: at matched damage the gap is exactly 0
    tr = Bm.steering_tradeoff({"a": spaces["strong"], "b": spaces["strong"].copy()}, names, stats,
                              ts=(0.5, 1.0, 1.5, 2.0), starts=30, n=5, k=8)
    gap, lo, hi = tr.matched_gap("younger", a="a", b="b", damage="turnover", draws=50)
    assert gap == pytest.approx(0) and lo == pytest.approx(0) and hi == pytest.approx(0)
    # interpolation between steps, from the origin
    assert Bm.SteeringTradeoff._at(np.array([1.0, 3.0]), np.array([10.0, 20.0]), 2.0) == 15.0
    assert Bm.SteeringTradeoff._at(np.array([1.0, 3.0]), np.array([10.0, 20.0]), 0.5) == 5.0
    assert np.isnan(Bm.SteeringTradeoff._at(np.array([1.0, 3.0]), np.array([10.0, 20.0]), 4.0))
    level = tr.level("younger", "turnover", space="a", t=1.0)
    assert tr.at_damage("a", "younger", level, "turnover") == pytest.approx(
        tr.effect["a"]["difference of means"]["younger"][1].mean())
    # a level no curve reaches: NaN, not a number made up
    assert np.isnan(tr.matched_gap("younger", level=2.0, a="a", b="b", damage="turnover", draws=20)[0])


def test_steering_tradeoff_bad_input():
    names, stats, spaces = steering_world(n=100)
    with pytest.raises(ValueError, match="ts"):
        Bm.steering_tradeoff(spaces, names, stats, ts=(1.0,))
    with pytest.raises(ValueError, match="ts"):
        Bm.steering_tradeoff(spaces, names, stats, ts=(2.0, 1.0))
    with pytest.raises(ValueError, match="ts"):
        Bm.steering_tradeoff(spaces, names, stats, ts=(0.0, 1.0))
    with pytest.raises(ValueError, match="stats"):
        Bm.steering_tradeoff(spaces, names, {"mean_birth_year": stats["mean_birth_year"]})
    with pytest.raises(ValueError, match="spaces"):
        Bm.steering_tradeoff({"bad": spaces["strong"][:-1]}, names, stats, starts=10)
    with pytest.raises(ValueError, match="spaces"):
        Bm.steering_tradeoff({}, names, stats, starts=10)
    with pytest.raises(ValueError, match="starts"):
        Bm.steering_tradeoff(spaces, names, stats, starts=100)
    tr = Bm.steering_tradeoff(spaces, names, stats, ts=(0.5, 1.5), starts=10, k=6)
    with pytest.raises(ValueError, match="damage"):
        tr.curve("strong", "random", "younger", "distance")
    with pytest.raises(ValueError, match="space"):
        tr.curve("MiniLM", "random", "younger")
    with pytest.raises(ValueError, match="t must be one of"):
        tr.level("younger", t=2.0, space="strong")
    with pytest.raises(ValueError, match="level"):
        tr.at_damage("strong", "younger", -1.0)


def test_plot_steering_tradeoff():
    from course_lib.identity import name_plots

    names, stats, spaces = steering_world(n=200)
    tr = Bm.steering_tradeoff({"MiniLM": spaces["strong"], "spelling": spaces["weak"]}, names, stats,
                              ts=(0.5, 1.5), starts=10, k=6)
    fig = name_plots.plot_steering_tradeoff(tr)
    assert len(fig.axes) == 2 and len(fig.axes[0].lines) == 5      # 4 curves + the matched level
    with pytest.raises(ValueError, match="damage"):
        name_plots.plot_steering_tradeoff(tr, damage="distance")


def test_random_directions_in_the_span_match_the_in_span_length():
    names, stats, spaces = steering_world()
    X = spaces["strong"]
    basis = Bm.NameBasis.fit(X, names, k=3)
    diff = Bm.mean_difference(X, stats["mean_birth_year"], 1950, 1990)
    R = Bm.random_directions(diff, 50, seed=1, basis=basis)
    assert R.shape == (50,) + diff.shape
    in_span = np.linalg.norm(np.einsum("pd,pkd->pk", diff, basis.components))
    assert in_span < np.linalg.norm(diff)                                  # k = 3 of 8 dimensions
    assert np.allclose(np.linalg.norm(R.reshape(50, -1), axis=1), in_span)
    # wholly inside the span: projecting changes nothing
    assert np.allclose(basis.project(basis.mean + R) - basis.mean, R)
    assert np.array_equal(R, Bm.random_directions(diff, 50, seed=1, basis=basis))   # seeded
    # the isotropic draw loses most of its length to the projection
    iso = Bm.random_directions(diff, 200, seed=1)
    kept = np.linalg.norm(np.einsum("npd,pkd->npk", iso, basis.components).reshape(200, -1), axis=1)
    assert kept.mean() < 0.8 * np.linalg.norm(diff)
    with pytest.raises(TypeError, match="basis"):
        Bm.random_directions(diff, 5, basis=X)
    with pytest.raises(ValueError, match="like"):
        Bm.random_directions(diff[:, :4], 5, basis=basis)
    with pytest.raises(ValueError, match="count"):
        Bm.random_directions(diff, 0, basis=basis)


def test_steering_splits_pool_the_splits_and_resample_them():
    names, stats, spaces = steering_world()
    kw = dict(ts=(0.5, 1.5, 3.0), starts=20, n=5, k=8)
    sp = Bm.steering_splits(spaces, names, stats, seeds=(0, 1, 2), **kw)
    assert sp.seeds == (0, 1, 2) and len(sp.split) == 60 and len(sp.pooled.starts) == 60
    one = Bm.steering_tradeoff(spaces, names, stats, seed=1, **kw)
    rows = sp.split == 1
    assert np.array_equal(np.asarray(sp.pooled.starts)[rows], one.starts)
    e = sp.pooled.effect["strong"]["difference of means"]["younger"][:, rows]
    assert np.allclose(e, one.effect["strong"]["difference of means"]["younger"])
    gap, lo, hi = sp.gap_at("younger", t=1.5, a="strong", b="weak", draws=200)
    d = (sp.pooled.effect["strong"]["difference of means"]["younger"][1]
         - sp.pooled.effect["weak"]["difference of means"]["younger"][1])
    assert gap == pytest.approx(d.mean()) and lo <= gap <= hi and lo > 0      # the strong space wins
    level = sp.level("younger", "turnover", space="weak", t=1.5)
    m, mlo, mhi = sp.matched_gap("younger", level=level, damage="turnover", a="strong", b="weak", draws=200)
    assert mlo <= m <= mhi
    table = sp.per_split("younger", level, a="strong", b="weak")
    assert [r["seed"] for r in table] == [0, 1, 2] and all(r["starts"] == 20 for r in table)
    # the same space twice: exactly 0, in every resample
    same = Bm.steering_splits({"a": spaces["strong"], "b": spaces["strong"].copy()}, names, stats,
                              seeds=(0, 1), **kw)
    assert same.matched_gap("younger", damage="turnover", a="a", b="b", draws=50) == (0.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="seeds"):
        Bm.steering_splits(spaces, names, stats, seeds=(3,), **kw)
    with pytest.raises(ValueError, match="seeds"):
        Bm.steering_splits(spaces, names, stats, seeds=(1, 1), **kw)
    with pytest.raises(ValueError, match="seeds"):
        Bm.steering_splits(spaces, names, stats, seed=2, **kw)
    with pytest.raises(ValueError, match="t must"):
        sp.gap_at("younger", t=2.0, a="strong", b="weak")
    with pytest.raises(ValueError, match="seed"):
        sp._rows(9)
