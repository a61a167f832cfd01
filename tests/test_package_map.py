"""Each package docstring is a true map: it names every module of the package, and every module it
names exists (one bullet per module, ``* :mod:`.name` — what it is for``)."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

import course_lib

ROOT = Path(course_lib.__file__).parent
PACKAGES = ["course_lib"] + sorted(
    f"course_lib.{p.name}" for p in ROOT.iterdir() if (p / "__init__.py").is_file()
)
#: A bullet of the map: ``* :mod:`.name``` (or ``~course_lib.pkg.name``) at the start of a line.
BULLET = re.compile(r"^\* :mod:`[~.]?(?:[\w.]*\.)?(\w+)`", re.MULTILINE)


def package_dir(package: str) -> Path:
    return ROOT.joinpath(*package.split(".")[1:])


def modules_on_disk(package: str) -> set[str]:
    folder = package_dir(package)
    found = {p.stem for p in folder.glob("*.py") if p.name != "__init__.py"}
    found |= {p.name for p in folder.iterdir() if (p / "__init__.py").is_file()}
    return found


def modules_in_docstring(package: str) -> list[str]:
    doc = importlib.import_module(package).__doc__ or ""
    return BULLET.findall(doc)


def test_there_are_chapter_packages():
    assert {"course_lib.color", "course_lib.curriculum", "course_lib.identity", "course_lib.mapper",
            "course_lib.slt"} <= set(PACKAGES)


@pytest.mark.parametrize("package", PACKAGES)
def test_docstring_names_every_module(package):
    missing = modules_on_disk(package) - set(modules_in_docstring(package))
    assert not missing, f"{package}'s docstring does not name {sorted(missing)}"


@pytest.mark.parametrize("package", PACKAGES)
def test_every_module_the_docstring_names_exists(package):
    named = modules_in_docstring(package)
    ghosts = set(named) - modules_on_disk(package)
    assert not ghosts, f"{package}'s docstring names modules that do not exist: {sorted(ghosts)}"
    assert len(named) == len(set(named)), f"{package}'s docstring names a module twice"


def test_the_map_reader_finds_bullets():
    doc = "Intro.\n\n* :mod:`.a` — one\n* :mod:`~course_lib.x.b` — two\n  * :mod:`.not_a_bullet`\ntext :mod:`.c`\n"
    assert BULLET.findall(doc) == ["a", "b"]
