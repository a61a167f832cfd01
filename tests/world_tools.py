"""Shared set-up of the identity-world tests: a tiny world's settings, and fixtures that train it
once per test module in a cache folder of the module's own (never the reader's cache)."""

from __future__ import annotations

import pytest

from course_lib.identity.world import WORLD_SETTINGS
from course_lib.identity.world_run import WorldRun, identity_world_run

TINY = dict(WORLD_SETTINGS["quick"], n_first=6, n_surnames=6, n_people=16, steps=80, n_checkpoints=12,
            d_name=8, d_hidden=16, d_identity=8, d_context=4, d_head=16, seeds=(0, 1))
TINY_OVERRIDES = {k: v for k, v in TINY.items() if k != "seeds"}


@pytest.fixture(scope="module")
def world_cache(tmp_path_factory):
    """A cache folder of this module's own (the tiny runs never touch the reader's cache)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COURSE_CACHE_DIR", str(tmp_path_factory.mktemp("world-cache")))
        yield


@pytest.fixture(scope="module")
def tiny_run(world_cache) -> WorldRun:
    return identity_world_run(0, "quick", progress=False, **TINY_OVERRIDES)
