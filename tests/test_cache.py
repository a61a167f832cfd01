import os

import numpy as np
import pytest
import torch

from course_lib import cache


@pytest.fixture(autouse=True)
def tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


class Counter:
    def __init__(self):
        self.calls = 0

    def __call__(self):
        self.calls += 1
        return {"weights": torch.arange(6.0).reshape(2, 3), "losses": np.linspace(1, 0, 5), "calls": self.calls}


def test_computes_once_then_loads():
    compute = Counter()
    first = cache.cached("demo", {"seed": 0, "lr": 1e-3}, compute)
    second = cache.cached("demo", {"lr": 1e-3, "seed": 0}, compute)  # key order does not matter
    assert compute.calls == 1
    assert torch.equal(first["weights"], second["weights"])
    np.testing.assert_array_equal(first["losses"], second["losses"])


def test_config_and_version_change_the_key(monkeypatch):
    compute = Counter()
    cache.cached("demo", {"seed": 0}, compute)
    cache.cached("demo", {"seed": 1}, compute)
    assert compute.calls == 2
    monkeypatch.setattr(cache, "__version__", "999.0")
    cache.cached("demo", {"seed": 0}, compute)
    assert compute.calls == 3


def test_corrupt_entry_is_recomputed_with_warning():
    compute = Counter()
    cache.cached("demo", {"seed": 0}, compute)
    path = cache.entry_path("demo", {"seed": 0})
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF  # flip one byte of the payload
    path.write_bytes(bytes(data))
    with pytest.warns(cache.CacheWarning, match="checksum"):
        value = cache.cached("demo", {"seed": 0}, compute)
    assert compute.calls == 2 and value["calls"] == 2
    assert cache.load(path)["calls"] == 2  # the entry was rewritten and is valid again


def test_truncated_entry_is_recomputed():
    compute = Counter()
    cache.cached("demo", {"seed": 0}, compute)
    path = cache.entry_path("demo", {"seed": 0})
    path.write_bytes(path.read_bytes()[:40])
    with pytest.warns(cache.CacheWarning):
        cache.cached("demo", {"seed": 0}, compute)
    assert compute.calls == 2


def test_garbage_file_is_recomputed():
    path = cache.entry_path("demo", {"seed": 0})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not a cache entry")
    with pytest.warns(cache.CacheWarning, match="header"):
        assert cache.cached("demo", {"seed": 0}, lambda: 42) == 42


def test_interrupted_write_leaves_no_entry_and_no_temp(monkeypatch, tmp_cache):
    def crash(src, dst):
        raise KeyboardInterrupt  # the reader pressed stop mid-write

    with monkeypatch.context() as patch:
        patch.setattr(os, "replace", crash)
        with pytest.raises(KeyboardInterrupt):
            cache.cached("demo", {"seed": 0}, lambda: 1)
    assert not cache.entry_path("demo", {"seed": 0}).exists()
    assert list(tmp_cache.glob("*")) == []
    assert cache.cached("demo", {"seed": 0}, lambda: 2) == 2


def test_unwritable_cache_still_returns_value(monkeypatch):
    def fail(path, value):
        raise OSError("read-only file system")

    monkeypatch.setattr(cache, "save", fail)
    with pytest.warns(cache.CacheWarning, match="could not write"):
        assert cache.cached("demo", {"seed": 0}, lambda: 5) == 5


@pytest.mark.parametrize("name", ["", "a/b", 3])
def test_bad_names(name):
    with pytest.raises((ValueError, TypeError), match="name"):
        cache.cached(name, {}, lambda: 0)


def test_bad_config_and_compute():
    with pytest.raises(TypeError, match="JSON"):
        cache.cached("demo", {"x": object()}, lambda: 0)
    with pytest.raises(TypeError, match="config"):
        cache.cached("demo", [1, 2], lambda: 0)
    with pytest.raises(TypeError, match="compute"):
        cache.cached("demo", {}, 3)


def test_clear():
    cache.cached("a", {}, lambda: 1)
    cache.cached("b", {}, lambda: 2)
    assert cache.clear("a") == 1
    assert cache.clear() == 1
