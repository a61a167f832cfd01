"""The Colab set-up cell, the one place the repository URL lives, and the notebook sync tool."""

import json
from importlib import metadata
from pathlib import Path

import pytest
from IPython.core.inputtransformer2 import TransformerManager

from course_lib import runtime, sync_notebooks

ROOT = Path(__file__).resolve().parents[1]


def _config(tmp_path, text):
    path = tmp_path / "_config.yml"
    path.write_text(text)
    return path


def test_repository_url_is_read_from_the_book_config():
    url = runtime.repository_url()
    assert url.startswith("https://github.com/") and url.count("/") == 4
    assert f"url: {url}" in (ROOT / "_config.yml").read_text()


def test_repository_url_parser_takes_the_url_under_repository_only(tmp_path):
    path = _config(tmp_path, "title: x\nlogo:\n  url: https://wrong.example/a/b\n"
                             "repository:\n  # comment\n  url: \"https://github.com/me/fork\"\n  branch: main\n")
    assert runtime.repository_url(path) == "https://github.com/me/fork"


@pytest.mark.parametrize("text, match", [
    ("title: x\n", "no 'url:'"),
    ("repository:\n  url: github.com/me/fork\n", "https://host/owner/name"),
])
def test_repository_url_bad_config_says_what_is_wrong(tmp_path, text, match):
    with pytest.raises(ValueError, match=match):
        runtime.repository_url(_config(tmp_path, text))


def test_repository_url_without_a_checkout(tmp_path):
    with pytest.raises(FileNotFoundError, match="checkout"):
        runtime.repository_url(tmp_path / "missing.yml")


def test_setup_source_installs_without_deps_and_compiles():
    source = runtime.colab_setup_source("https://github.com/me/fork")
    # IPython expands {COURSE_URL} in the magic: the lines stay short for any repository URL
    assert 'COURSE_URL = "https://github.com/me/fork"' in source
    assert '%pip install --no-deps "course-lib @ git+{COURSE_URL}"' in source
    assert max(len(line) for line in source.splitlines()) <= 88
    assert "subprocess" not in source  # %pip lets Colab see the install (and prompt if ever needed)
    python = TransformerManager().transform_cell(source)
    compile(python, "<setup>", "exec")
    # outside Colab the guarded block does nothing at all
    namespace = {"get_ipython": lambda: pytest.fail("the set-up ran pip outside Colab")}
    exec(python, namespace)
    assert namespace["IN_COLAB"] is False


def test_missing_requirements_lists_only_absent_core_packages(monkeypatch):
    requires = ["torch>=2.2", "ipywidgets<9,>=7.6", "nothere-pkg>=1.0", "pytest>=7; extra == \"test\""]
    monkeypatch.setattr(metadata, "requires", lambda name: requires)
    real_version = metadata.version

    def version(name):
        if name in ("nothere-pkg", "pytest"):
            raise metadata.PackageNotFoundError(name)
        return real_version(name)

    monkeypatch.setattr(metadata, "version", version)
    assert runtime.missing_requirements() == ["'nothere-pkg>=1.0'"]  # quoted for the shell; extras skipped


def test_missing_requirements_is_empty_here():
    assert runtime.missing_requirements() == []


def _notebook(first_code):
    return {"cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# t"]},
                      {"cell_type": "code", "metadata": {}, "source": first_code, "outputs": [],
                       "execution_count": None}],
            "metadata": {}, "nbformat": 4, "nbformat_minor": 4}


def test_sync_replaces_the_setup_block_and_tags_the_cell(tmp_path):
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(_notebook(["# old set-up\n", "import os\n",
                                          "from course_lib import runtime\n", "print(1)"])))
    assert sync_notebooks.sync([path], check=True) == [path]
    assert "old set-up" in path.read_text()  # --check changes nothing
    assert sync_notebooks.sync([path]) == [path]
    cell = json.loads(path.read_text())["cells"][1]
    source = "".join(cell["source"])
    assert source.startswith(runtime.colab_setup_source()) and "old set-up" not in source
    assert source.endswith("from course_lib import runtime\nprint(1)")
    assert cell["metadata"]["tags"] == ["remove-cell"]
    assert sync_notebooks.sync([path]) == []  # idempotent


def test_sync_refuses_a_notebook_without_the_runtime_import(tmp_path):
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(_notebook(["print(1)"])))
    with pytest.raises(ValueError, match="from course_lib import runtime"):
        sync_notebooks.sync([path])


def test_every_chapter_notebook_is_in_sync():
    stale = sync_notebooks.sync(sync_notebooks.chapter_notebooks(), check=True)
    assert not stale, f"run `.venv/bin/python -m course_lib.sync_notebooks`: {stale}"
