"""Shared set-up of the chapter-5 trajectory tests: tiny versions of the course's runs, trained once
per test module in a cache folder of the module's own (never the reader's cache)."""

from __future__ import annotations

import pytest

from course_lib.slt import course_models

TINY_GROK = dict(p=7, train_fraction=0.5, d_model=8, n_heads=2, d_mlp=16, steps=60, checkpoint_every=20,
                 warmup=2, threads=1)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    path = tmp_path_factory.mktemp("cache")
    mp.setenv("COURSE_CACHE_DIR", str(path))
    yield path
    mp.undo()


@pytest.fixture(scope="module")
def grok(cache_dir):
    return course_models.grokking_run(seed=0, profile="quick", progress=False, **TINY_GROK)


@pytest.fixture(scope="module")
def anchored(cache_dir):
    from course_lib.curriculum import anchoring

    mp = pytest.MonkeyPatch()
    mp.setitem(anchoring.PROFILE_SETTINGS, "quick", {"steps": 40, "seeds": 2})
    run = course_models.anchored_colour_run(seed=0, profile="quick")
    mp.undo()
    return run
