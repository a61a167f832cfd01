"""Static checks of the book's text (issue 29): exercise boxes with difficulty, time and a hint; time
estimates in every notebook; glossary links that resolve; research notes named by topic and linked."""

import re

import pytest
from nbtools import NOTEBOOKS, ROOT, load, source, tags

BOOK = ROOT / "book"
BOX = re.compile(
    r"^(?P<fence>:{4,})\{admonition\} Exercise[^\n]*·\s*(?P<stars>★{1,3})\s*·\s*about (?P<min>\d+) min\n"
    r":class: [^\n]*\bexercise\b[^\n]*\n(?P<body>.*?)^(?P=fence)$",
    re.S | re.M,
)
HINT = re.compile(r"^:{3,}\{dropdown\} Hint\n.+?\n:{3,}$", re.S | re.M)
TERM = re.compile(r"\{term\}`([^`]*)`")
REF = re.compile(r"\{ref\}`([^`]*)`")


def _markdown(path):
    return [(k, c) for k, c in enumerate(load(path)["cells"]) if c["cell_type"] == "markdown"]


def _glossary_terms() -> set[str]:
    text = (BOOK / "glossary.md").read_text(encoding="utf8")
    body = text.split("```{glossary}", 1)[1].rsplit("```", 1)[0]
    return {line.strip().lower() for line in body.splitlines() if line.strip() and not line[0].isspace()}


def _target(role_text: str) -> str:
    m = re.search(r"<([^<>]+)>\s*$", role_text)
    return (m.group(1) if m else role_text).strip()


def _boxes(text: str) -> list[re.Match]:
    return list(BOX.finditer(text))


# --------------------------------------------------------------------------- exercise boxes
def test_box_pattern_needs_difficulty_time_and_hint():
    good = ("::::{admonition} Exercise 1 · ★★ · about 10 min\n:class: exercise\n\nWrite f.\n\n"
            ":::{dropdown} Hint\nUse g.\n:::\n::::")
    assert len(_boxes(good)) == 1 and HINT.search(_boxes(good)[0].group("body"))
    assert not _boxes(good.replace(" · ★★", ""))                      # no difficulty
    assert not _boxes(good.replace(" · about 10 min", ""))            # no time
    assert not HINT.search(_boxes(good.replace("{dropdown} Hint", "{note}"))[0].group("body"))  # no hint


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_exercise_is_introduced_by_a_box_with_difficulty_time_and_hint(path):
    """Each exercise cell's nearest markdown cell above it holds a box for it (one box per exercise it
    introduces): difficulty in stars, expected minutes, and a Hint dropdown inside the box."""
    cells = load(path)["cells"]
    introduced: dict[int, int] = {}
    for k, cell in enumerate(cells):
        if "exercise" in tags(cell):
            above = [j for j in range(k - 1, -1, -1) if cells[j]["cell_type"] == "markdown"]
            assert above, f"{path.name}: exercise cell {k} has no markdown above it"
            introduced[above[0]] = introduced.get(above[0], 0) + 1
    for j, count in introduced.items():
        boxes = _boxes(source(cells[j]))
        assert len(boxes) >= count, (
            f"{path.name}: markdown cell {j} introduces {count} exercise(s) but holds {len(boxes)} box(es) "
            "'::::{admonition} Exercise N · ★★ · about M min' with ':class: exercise'")
        for box in boxes:
            assert HINT.search(box.group("body")), f"{path.name}: cell {j}: an exercise box without a Hint dropdown"
            assert 1 <= int(box.group("min")) <= 60, f"{path.name}: cell {j}: implausible minutes"


# --------------------------------------------------------------------------- time
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_objectives_state_reading_and_compute_time(path):
    first = source(load(path)["cells"][0])
    assert "Learning objectives" in first
    assert re.search(r"\*\*Time:\*\* about \d+ minutes to read and do the", first), (
        f"{path.name}: the objectives cell must state reading-and-exercise time")
    assert "**Compute:**" in first and "quick" in first and "standard" in first, (
        f"{path.name}: the objectives cell must state compute time in both profiles")


def test_landing_page_gives_time_and_prerequisites_for_every_notebook():
    intro = (BOOK / "intro.md").read_text(encoding="utf8")
    assert re.search(r"^\|[^\n]*\| Time \| Builds on \|$", intro, re.M)
    assert "in preparation" not in intro, "chapter 5 is published"
    for path in NOTEBOOKS:
        doc = path.relative_to(ROOT).with_suffix("").as_posix()
        assert re.search(rf"^\| \{{doc\}}`[^`<]*</{re.escape(doc)}>` \| \d+ min \| [^|]+ \| [^|]+ \|$", intro,
                         re.M), f"the landing page's notebook table has no row for {doc}"


# --------------------------------------------------------------------------- glossary
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_notebook_links_the_glossary(path):
    text = "\n".join(source(c) for _, c in _markdown(path))
    assert TERM.search(text), f"{path.name} links no glossary term"


def test_every_term_link_has_a_glossary_entry():
    terms = _glossary_terms()
    assert {"mapper", "nerve", "grokking", "sgld", "llc", "sae", "susceptibility"} <= terms
    sources = [(p.name, "\n".join(source(c) for _, c in _markdown(p))) for p in NOTEBOOKS]
    sources += [(p.name, p.read_text(encoding="utf8")) for p in BOOK.glob("*.md")]
    missing = {(name, _target(t)) for name, text in sources for t in TERM.findall(text)
               if _target(t).lower() not in terms}
    assert not missing, f"{{term}} links without a glossary entry: {sorted(missing)}"


# --------------------------------------------------------------------------- the research notes
def test_research_notes_are_named_by_topic_not_by_number():
    jargon = re.compile(r"\b[Ss]eed (?:note )?00\d|\bthe research note\b|\bseed note\b", re.I)
    found = [(p.name, k, m.group(0)) for p in NOTEBOOKS for k, c in _markdown(p)
             for m in jargon.finditer(source(c))]
    assert not found, f"undefined research-note jargon: {found}"


def test_every_ref_to_a_research_note_exists():
    page = (BOOK / "research-notes.md").read_text(encoding="utf8")
    labels = set(re.findall(r"^\(([\w-]+)\)=$", page, re.M))
    assert {"note-anchoring", "note-identity", "note-mapper", "note-spectroscopy"} <= labels
    refs = [(p.name, _target(r)) for p in NOTEBOOKS for _, c in _markdown(p) for r in REF.findall(source(c))]
    refs += [(p.name, _target(r)) for p in BOOK.glob("*.md") for r in REF.findall(p.read_text(encoding="utf8"))]
    notes = [(name, t) for name, t in refs if t.startswith("note-")]
    assert notes and all(t in labels for _, t in notes), [r for r in notes if r[1] not in labels]


# --------------------------------------------------------------------------- stray control characters
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # every control character but tab and newline


def test_control_characters_are_found():
    assert CONTROL.search("$\rho$") and CONTROL.search("a\x0cb") and not CONTROL.search("a\tb\nc")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_control_characters_in_cells(path):
    r"""A LaTeX command written through a Python string ("\\rho" as "\rho") leaves a carriage return
    that the page renders as "ho"; other control characters are invisible in review."""
    found = [f"cell {k}: {CONTROL.search(''.join(c['source'])).group()!r}"
             for k, c in enumerate(load(path)["cells"]) if CONTROL.search("".join(c["source"]))]
    assert not found, f"{path.parent.name}/{path.name}: control characters in " + ", ".join(found)
