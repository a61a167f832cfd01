import numpy as np
import pytest
import torch

from course_lib import runtime


def test_profile_defaults_to_standard(monkeypatch):
    monkeypatch.delenv("COURSE_PROFILE", raising=False)
    assert runtime.get_profile() == "standard"


@pytest.mark.parametrize("value", ["quick", "standard", "full", " QUICK "])
def test_profile_from_env(monkeypatch, value):
    monkeypatch.setenv("COURSE_PROFILE", value)
    assert runtime.get_profile() == value.strip().lower()


def test_bad_profile_names_the_variable(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "turbo")
    with pytest.raises(ValueError, match="COURSE_PROFILE"):
        runtime.get_profile()


def test_by_profile_picks_and_validates(monkeypatch):
    settings = {"quick": 1, "standard": 2, "full": 3}
    monkeypatch.setenv("COURSE_PROFILE", "quick")
    assert runtime.by_profile(settings) == 1
    assert runtime.by_profile(settings, "full") == 3
    with pytest.raises(ValueError, match="missing"):
        runtime.by_profile({"quick": 1})
    with pytest.raises(ValueError, match="profile"):
        runtime.by_profile(settings, "fast")


def test_device_is_cpu_here_and_prefer_is_checked():
    device = runtime.get_device()
    assert device.type in {"cpu", "cuda", "mps"}
    assert runtime.get_device("cpu") == torch.device("cpu")
    with pytest.raises(ValueError, match="prefer"):
        runtime.get_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="cuda"):
            runtime.get_device("cuda")


def test_seed_everything_makes_runs_repeat():
    g1 = runtime.seed_everything(7)
    a = (np.random.rand(3), torch.rand(3), torch.rand(3, generator=g1))
    g2 = runtime.seed_everything(7)
    b = (np.random.rand(3), torch.rand(3), torch.rand(3, generator=g2))
    np.testing.assert_array_equal(a[0], b[0])
    assert torch.equal(a[1], b[1]) and torch.equal(a[2], b[2])


@pytest.mark.parametrize("bad, err", [(-1, ValueError), (2**32, ValueError), (1.5, TypeError), (True, TypeError), ("3", TypeError)])
def test_seed_rejects_bad_values(bad, err):
    with pytest.raises(err, match="seed"):
        runtime.seed_everything(bad)


def test_describe_mentions_device_profile_and_time(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "quick")
    line = runtime.describe({"quick": "20 s", "standard": "2 min"})
    assert "profile: quick" in line and "device:" in line and "20 s" in line
    # packed into lines the book shows whole, no part split
    assert all(len(row) <= 88 for row in line.split("\n")) and len(line.split("\n")) <= 2
    assert "for paper scale)" in line.split("\n")[-1] and line.startswith("device:")
    monkeypatch.setenv("COURSE_PROFILE", "standard")
    assert "\n" not in runtime.describe()  # short enough for one line
    with pytest.raises(ValueError, match="unknown profiles"):
        runtime.describe({"fast": "1 s"})


def test_colab_detection(monkeypatch):
    monkeypatch.delenv("COLAB_RELEASE_TAG", raising=False)
    assert runtime.in_colab() is False
    monkeypatch.setenv("COLAB_RELEASE_TAG", "release-colab-2026")
    assert runtime.in_colab() is True


def test_check_seeds():
    from course_lib.runtime import check_seeds
    assert check_seeds(range(3)) == [0, 1, 2] and check_seeds([np.int64(4)]) == [4]
    for bad, err in ((3, TypeError), ("012", TypeError), ([], ValueError), ([1, 1], ValueError),
                     ([True], TypeError), ([0.5], TypeError)):
        with pytest.raises(err):
            check_seeds(bad)


def _blas_threads():
    from threadpoolctl import threadpool_info

    return {i["internal_api"]: i["num_threads"] for i in threadpool_info()}


def test_small_fits_run_on_one_thread_and_restore_the_setting():
    import numpy as np
    from sklearn.cluster import KMeans

    before = _blas_threads()
    with runtime.one_thread_for_small_fits():
        assert set(_blas_threads().values()) == {1}
    assert _blas_threads() == before

    @runtime.one_thread_for_small_fits()
    def clusters(points):
        """docstring kept"""
        assert set(_blas_threads().values()) == {1}
        return KMeans(n_clusters=5, n_init=3, random_state=0).fit(points).labels_

    points = np.random.default_rng(0).normal(size=(300, 8))
    assert clusters.__name__ == "clusters" and clusters.__doc__ == "docstring kept"
    # the same clusters as with every thread
    assert np.array_equal(clusters(points),
                          KMeans(n_clusters=5, n_init=3, random_state=0).fit(points).labels_)
    assert _blas_threads() == before


# --------------------------------------------------------------------------- run_concurrently
def _tiny_run(seed):
    from course_lib.modular.training import train_modular_addition
    tiny = {"p": 7, "train_fraction": 0.5, "d_model": 8, "n_heads": 2, "d_mlp": 16, "lr": 5e-3,
            "weight_decay": 1.0, "betas": (0.9, 0.98), "warmup": 3, "steps": 30, "checkpoint_every": 10,
            "threads": 1}
    return lambda: train_modular_addition(tiny, seed, progress=False)


def test_run_concurrently_is_bit_identical_to_one_after_another():
    import torch
    from course_lib.runtime import run_concurrently
    before = torch.get_num_threads()
    alone = [_tiny_run(s)() for s in (0, 1, 2)]
    together = run_concurrently([_tiny_run(s) for s in (0, 1, 2)], workers=2, progress=False)
    for a, b in zip(alone, together):                       # results come back in job order
        for sa, sb in zip(a["states"], b["states"]):
            assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert torch.get_num_threads() == before                # the thread setting is restored
    assert run_concurrently([], progress=False) == []
    assert run_concurrently([lambda: 1, lambda: 2, lambda: 3], workers=2, progress=False) == [1, 2, 3]


def test_run_concurrently_runs_jobs_at_once_and_reports_errors():
    import threading
    import torch
    from course_lib.runtime import run_concurrently
    both = threading.Barrier(2, timeout=10)      # passes only if two jobs run at the same time
    assert run_concurrently([both.wait, both.wait], workers=2, progress=False) is not None
    seen = []
    assert run_concurrently([lambda: seen.append(torch.get_num_threads())] * 2, workers=2,
                            progress=False)
    assert seen == [1, 1]                        # each job on one torch thread

    def boom():
        raise RuntimeError("job failed")
    before = torch.get_num_threads()
    with pytest.raises(RuntimeError, match="job failed"):
        run_concurrently([lambda: 1, boom], workers=2, progress=False)
    assert torch.get_num_threads() == before
    with pytest.raises(TypeError, match="callables"):
        run_concurrently([1, 2], progress=False)
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="workers"):
            run_concurrently([lambda: 1], workers=bad, progress=False)


def test_models_built_from_the_global_generator_are_the_same_when_built_at_once():
    """Round k's race: StackedColorAutoencoder.from_seeds seeds torch's *global* generator and
    nn.Linear draws from it; two jobs at once must not re-seed or draw in between (runtime.seeded)."""
    import torch
    from course_lib.color.model import StackedColorAutoencoder
    from course_lib.runtime import run_concurrently

    def build(first):
        return lambda: StackedColorAutoencoder.from_seeds(list(range(first, first + 16)), latent_dim=5,
                                                          activation="gelu").state_dict()
    alone = [build(16 * j)() for j in range(4)]
    for _ in range(5):
        together = run_concurrently([build(16 * j) for j in range(4)], workers=2, progress=False)
        for a, b in zip(alone, together):
            assert all(torch.equal(a[k], b[k]) for k in a)


def test_seeded_gives_the_draws_after_seeding_and_the_generator():
    import torch
    from course_lib.runtime import seed_everything, seeded
    seed_everything(3)
    expected = torch.rand(4)
    with seeded(3) as gen:
        assert torch.equal(torch.rand(4), expected)
        assert torch.equal(torch.rand(2, generator=gen), torch.rand(2, generator=torch.Generator().manual_seed(3)))
    with pytest.raises(ValueError):
        with seeded(-1):
            pass


def test_a_model_built_beside_a_seeded_block_does_not_draw_inside_it():
    """Throw-away models (weights loaded right after) still draw from the global generator: they take
    the lock, so they cannot land between another thread's seeding and its draws."""
    import threading
    import torch
    from course_lib.color.model import ColorAutoencoder
    from course_lib.runtime import seed_everything, seeded
    seed_everything(5)
    expected = ColorAutoencoder(latent_dim=5).state_dict()
    inside, go = threading.Event(), threading.Event()

    def seeded_build(out):
        with seeded(5):
            inside.set()
            go.wait(2)                 # the other thread tries to build now, and must wait
            out.append(ColorAutoencoder(latent_dim=5).state_dict())
    out = []
    t = threading.Thread(target=seeded_build, args=(out,))
    t.start()
    inside.wait(5)
    other = threading.Thread(target=lambda: ColorAutoencoder(latent_dim=3))
    other.start()
    go.set()
    t.join()
    other.join()
    assert all(torch.equal(expected[k], out[0][k]) for k in expected)
