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


def test_cpu_kernels_and_torch_version_change_the_key(monkeypatch):
    """A run cached under AVX-512 kernels is not read back under AVX2 (last-bit differences)."""
    compute = Counter()
    cache.cached("demo", {"seed": 0}, compute)
    native = torch.backends.cpu.get_cpu_capability()
    assert cache.compute_kind() == f"{torch.__version__}/{native}"
    other = "AVX2" if native != "AVX2" else "DEFAULT"
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: other)
    assert cache.compute_kind().endswith("/" + other)
    cache.cached("demo", {"seed": 0}, compute)
    assert compute.calls == 2
    monkeypatch.setattr(torch, "__version__", "0.0.1")
    cache.cached("demo", {"seed": 0}, compute)
    assert compute.calls == 3
    cache.cached("demo", {"seed": 0}, compute)  # same kind again: loaded
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


def test_content_key_follows_values_not_identity():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    assert cache.content_key(a, 3) == cache.content_key(a.copy(), 3)
    assert cache.content_key(a, 3) != cache.content_key(a, 4)
    assert cache.content_key(a) != cache.content_key(a.astype(np.float64))  # dtype
    assert cache.content_key(a) != cache.content_key(a.reshape(4, 3))  # shape
    assert cache.content_key(a) == cache.content_key(torch.from_numpy(a))
    assert cache.content_key(a, k=1) != cache.content_key(a, j=1)
    b = a.copy()
    b[0, 0] = 0.5
    assert cache.content_key(a) != cache.content_key(b)


def test_remembered_reuses_equal_inputs_and_hands_out_copies():
    calls = []

    @cache.remembered(maxsize=2)
    def groups(points, k):
        calls.append(k)
        return [np.flatnonzero(points > k)]

    x = np.array([0.0, 1.0, 2.0, 3.0])
    first = groups(x, 1)
    first[0][:] = -1                      # a caller edits its result…
    again = groups(x.copy(), 1)           # …an equal array later gets the original
    assert calls == [1] and groups.hits == 1
    assert again[0].tolist() == [2, 3]
    x2 = x.copy()
    x2[0] = 5.0                           # edited data is a new key
    assert groups(x2, 1)[0].tolist() == [0, 2, 3] and calls == [1, 1]
    groups(x, 2)                          # third key: the oldest (x, 1) is dropped
    groups(x, 1)
    assert calls == [1, 1, 2, 1]
    groups.forget()
    groups(x, 2)
    assert calls[-1] == 2 and len(calls) == 5


@pytest.mark.parametrize("maxsize", [0, -1, 1.5, True])
def test_remembered_rejects_bad_maxsize(maxsize):
    with pytest.raises(ValueError, match="maxsize"):
        cache.remembered(maxsize)
