"""Exercise checkers for notebooks 3.1 (held-out probes), 3.2 (how many directions a name needs)
and 3.4 (who defies their name; what the world study will show, predicted then measured; does fame
order learning). Notebook 3.3's are in
:mod:`course_lib.modular.exercises`.

Each ``check_*`` runs :class:`~course_lib.exercises.Case` s against the reader's function and says
what is wrong; ``solution_*`` are the reference answers. Tests against subtle wrong answers live in
``tests/test_identity_exercises.py``.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import numpy as np

from ..exercises import CheckResult, as_number, case, check, forbid, prediction_answer, prediction_form
from .probes import CELLS, fit_ridge, fold_ids, r2_score

__all__ = ["solution_held_out_r2", "check_held_out_r2", "WINNERS", "split_verdict", "check_split_prediction_form",
           "check_split_prediction", "STEERING_ANSWERS", "steering_verdict", "check_steering_prediction_form",
           "check_steering_prediction", "STEERING_DAMAGE", "solution_variance_kept", "check_variance_kept",
           "K90_CHOICES", "k90_verdict", "check_k90_prediction_form", "check_k90_prediction",
           "solution_name_exceptions",
           "check_name_exceptions", "solution_fame_order", "check_fame_order", "WORLD_ANSWERS", "world_verdict",
           "check_world_prediction_form", "check_world_prediction", "own_verdict", "OWN_FIT", "MOST", "FAME_ANSWERS", "fame_sign",
           "check_fame_prediction_form", "check_fame_prediction"]

_OWN_PROBES = ("course_lib.identity.probes:ridge_oof", "course_lib.identity.probes:probe",
               "course_lib.identity.probes:probe_table")


# --------------------------------------------------------------------------- reference solutions
def solution_held_out_r2(X: np.ndarray, y: np.ndarray, folds: np.ndarray) -> float:
    pred = np.zeros(len(y))
    for f in np.unique(folds):
        test = folds == f
        predict = fit_ridge(X[~test], y[~test])
        pred[test] = predict(X[test])
    return r2_score(y, pred)


def solution_variance_kept(X: np.ndarray, k: int) -> float:
    centred = X - X.mean(axis=0)
    _, s, _ = np.linalg.svd(centred, full_matrices=False)
    return float((s[:k] ** 2).sum() / (s**2).sum())


# --------------------------------------------------------------------------- held-out R²
def _noise(seed: int = 0, n: int = 240, d: int = 120) -> tuple:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.normal(size=n), fold_ids(n, 5, seed)


def _case_noise(attempt: Callable) -> None:
    X, y, folds = _noise()
    got = as_number(attempt(X, y, folds), "the R²", finite=True)
    assert got < 0.1, (
        f"features that are pure noise scored R² = {got:.2f}: the probe saw the names it was scored on. "
        "Fit on the other folds only (X[~test], y[~test]) and predict the held-out fold")


def _case_signal(attempt: Callable) -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 10)); y = X[:, 0] - 0.5 * X[:, 1] + 0.2 * rng.normal(size=300)
    got = as_number(attempt(X, y, fold_ids(300, 5, 1)), "the R²", finite=True)
    assert got > 0.9, f"a strong planted direction scored only R² = {got:.2f}: check which rows you fit on"


def _case_pooled(attempt: Callable) -> None:
    rng = np.random.default_rng(2)
    X = rng.normal(size=(90, 6)); y = X[:, 0] + rng.normal(size=90)
    folds = fold_ids(90, 3, 2)
    got, want = as_number(attempt(X, y, folds), "the R²", finite=True), solution_held_out_r2(X, y, folds)
    assert abs(got - want) < 1e-6, (
        f"expected {want:.4f}, got {got:.4f}: compute one R² over all names from their out-of-fold "
        "predictions (not an average of per-fold R²s, and with the global mean of y in the denominator)")


def _case_own(attempt: Callable) -> None:
    X, y, folds = _noise(3, 60, 5)
    with forbid(_OWN_PROBES):
        attempt(X, y, folds)


HELD_OUT_CASES = [
    case("pure-noise features score about zero", _case_noise,
         hint="no name may be predicted by a probe fitted on it"),
    case("a planted direction is found", _case_signal,
         hint="fit on the training folds, predict the held-out one"),
    case("pooled out-of-fold R²", _case_pooled, hint="fill a prediction for every name, then one r2_score"),
    case("your own loop", _case_own, hint="write the loop over folds with fit_ridge, not ridge_oof"),
]


def check_held_out_r2(attempt: Callable, *, quiet: bool = False) -> CheckResult:
    """Check ``held_out_r2(X, y, folds) -> float`` (pooled out-of-fold R² of ridge probes)."""
    return check("held_out_r2", attempt, HELD_OUT_CASES, quiet=quiet)


# --------------------------------------------------------------------------- births or tokens (3.1)
#: The answers per cell of the births × tokens split: which probe scores the higher held-out R²
#: (averaged over sex and birth year) on that cell's names, or neither clearly.
WINNERS = ("encoder", "spelling", "no clear winner")


def _measured(cell: Any) -> str:
    lo, hi = cell.mean_interval
    if lo <= 0 <= hi:
        return "no clear winner"
    return "encoder" if cell.mean_difference > 0 else "spelling"


def split_verdict(cells: Sequence[Any]) -> dict[str, str]:
    """What the split measured, in the prediction's words: cell → ``"encoder"`` or ``"spelling"``
    (the sign of the cell's mean R² difference, see :class:`~.probes.SplitCell`), or
    ``"no clear winner"`` where its 95 % interval includes 0."""
    if not cells:
        raise ValueError("cells must hold at least one cell of frequency_token_split")
    return {c.cell: _measured(c) for c in cells}


def _sp_answer(prediction: Any, cell: Any) -> None:
    measured = _measured(cell)
    if measured == "no clear winner":
        return        # the interval includes 0: the measurement cannot refute any of the three answers
    assert prediction[cell.cell] == measured, (
        f"you predicted {prediction[cell.cell]!r} for {cell.cell!r}; the probes measured {measured!r} "
        f"(encoder − spelling R², mean of sex and birth year: {cell.mean_difference:+.2f}, 95 % CI "
        f"{cell.mean_interval[0]:+.2f} to {cell.mean_interval[1]:+.2f}, {cell.names} names)")


_SPLIT_FORM_CASE = prediction_form({cell: WINNERS for cell in CELLS},
                                   hint=f"one of {list(WINNERS)} for each of {list(CELLS)}")


def check_split_prediction_form(prediction: Mapping[str, str], *, quiet: bool = False) -> CheckResult:
    """Check that ``prediction`` names a winner for every cell before the split is measured."""
    return check("prediction, written down", prediction, [_SPLIT_FORM_CASE], quiet=quiet)


def check_split_prediction(prediction: Mapping[str, str], cells: Sequence[Any], *, quiet: bool = False) -> CheckResult:
    """Check ``prediction`` (cell → ``"encoder"`` / ``"spelling"`` / ``"no clear winner"``) against the
    measured split (:func:`~.probes.frequency_token_split`). A cell the profile lacks is not checked; a
    cell whose interval includes 0 accepts any answer (it cannot tell them apart). A wrong
    prediction is a result, not an error: the message says what was measured."""
    if not cells:
        raise ValueError("cells must hold at least one cell of frequency_token_split")
    cases = [_SPLIT_FORM_CASE] + [
        case(f"who wins on {c.cell} names", _sp_answer, c,
             hint="look down the columns of the table: which of the two splits (births or tokens) "
                  "changes the sign of the difference?")
        for c in cells]
    return check("births or tokens", prediction, cases, quiet=quiet)


# --------------------------------------------------------------------------- what the encoder adds (3.2)
#: The questions of notebook 3.2's prediction and their allowed answers.
STEERING_ANSWERS = {
    "more female, at the same damage: which space steers further": ("MiniLM", "spelling", "about the same"),
    "younger: spelling against random directions": ("more often", "as often", "less often"),
}

#: The damage the sex question matches at (see :class:`~.basis.SteeringTradeoff`): the share of
#: the start name's own neighbours lost, at the level of the spelling space's step t = 1.5.
STEERING_DAMAGE = "turnover"


def _matched_sex_gap(tradeoff: Any) -> tuple[float, float, float]:
    level = tradeoff.level("more female", STEERING_DAMAGE, space="spelling", t=1.5)
    return tradeoff.matched_gap("more female", level=level, damage=STEERING_DAMAGE)


def steering_verdict(study: Any, tradeoff: Any) -> dict[str, str]:
    """What the steering study and its trade-off curve measured, in the prediction's words.

    * ``"more female, at the same damage: …"``: the effect on the decoded names' female share of
      MiniLM's difference of means minus the spelling space's, each stepped until it has lost the same
      share of the start name's own neighbours (:data:`STEERING_DAMAGE`, the level of the spelling
      space's step t = 1.5; :meth:`~.basis.SteeringSplits.matched_gap`, pooled over half-splits, or
      :meth:`~.basis.SteeringTradeoff.matched_gap` for one split), with its 95 % bootstrap
      interval: above
      0 → ``"MiniLM"``, below → ``"spelling"``, else ``"about the same"``;
    * ``"younger: spelling against random directions"``: how often the spelling space's "younger"
      moved the decoded names younger, against its norm-matched random directions: ``"more often"`` /
      ``"less often"`` when the two 95 % Wilson intervals do not overlap, else ``"as often"``."""
    _, lo, hi = _matched_sex_gap(tradeoff)
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise ValueError("the trade-off never reaches the matched damage: use a longer grid of steps")
    sex = "MiniLM" if lo > 0 else "spelling" if hi < 0 else "about the same"
    lo_d, hi_d = study.interval("spelling", "difference of means", "younger")
    lo_r, hi_r = study.interval("spelling", "random", "younger")
    year = "more often" if lo_d > hi_r else "less often" if hi_d < lo_r else "as often"
    keys = list(STEERING_ANSWERS)
    return {keys[0]: sex, keys[1]: year}


_STEERING_FORM_CASE = prediction_form(STEERING_ANSWERS)


def check_steering_prediction_form(prediction: Mapping[str, str], *, quiet: bool = False) -> CheckResult:
    """Check that ``prediction`` answers both questions before the steering study runs."""
    return check("prediction, written down", prediction, [_STEERING_FORM_CASE], quiet=quiet)


def _sex_answer(prediction: Any, key: str, gap: tuple[float, float, float]) -> None:
    """Only the answer the (pooled) measurement supports: "MiniLM" / "spelling" when the interval
    excludes 0 on that side, "about the same" when it spans 0."""
    mean, lo, hi = gap
    measured = "MiniLM" if lo > 0 else "spelling" if hi < 0 else "about the same"
    assert prediction[key] == measured, (
        f"you predicted {prediction[key]!r}; measured {measured!r} (MiniLM − spelling at the same "
        f"neighbour turnover, change in the decoded names' female share: {mean:+.2f}, 95 % CI "
        f"{lo:+.2f} to {hi:+.2f})")


def check_steering_prediction(prediction: Mapping[str, str], study: Any, tradeoff: Any, *,
                              quiet: bool = False) -> CheckResult:
    """Check ``prediction`` against a :class:`~.basis.SteeringStudy` and a
    :class:`~.basis.SteeringSplits` (pooled over half-splits, two-stage interval) or a single
    :class:`~.basis.SteeringTradeoff`, both with spaces ``"MiniLM"`` and ``"spelling"`` (see
    :func:`steering_verdict`). Only the measured answer passes. A wrong prediction is a result, not
    an error."""
    from ..stats import format_rate

    verdict = steering_verdict(study, tradeoff)
    mean, lo, hi = _matched_sex_gap(tradeoff)
    n = len(study.starts)
    k_d = study.successes("spelling", "difference of means", "younger")
    k_r = study.successes("spelling", "random", "younger")
    keys = list(STEERING_ANSWERS)
    cases = [
        _STEERING_FORM_CASE,
        case(keys[0], _sex_answer, keys[0], (mean, lo, hi),
             hint="a longer step in the spelling space moves the female share further too; "
                  "what does each space lose of the name to get there?"),
        prediction_answer(keys[1], keys[1], verdict[keys[1]],
                          f"difference of means {format_rate(k_d, n)} against random {format_rate(k_r, n)}",
                          hint="do fashionable names share letters (-ayden, -leigh)? A random direction of the same length is the control"),
    ]
    return check("what the encoder adds", prediction, cases, quiet=quiet)


# --------------------------------------------------------------------------- variance kept
def _case_known(attempt: Callable) -> None:
    X = np.array([[3.0, 0.0], [-3.0, 0.0], [0.0, 1.0], [0.0, -1.0]])   # variances 9/2 and 1/2 per row
    got = as_number(attempt(X, 1), "the share", finite=True)
    assert abs(got - 0.9) < 1e-9, f"for variances 18 and 2 along two axes, k = 1 keeps 0.9, got {got:.4f}"


def _case_centred(attempt: Callable) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5)) * [3, 2, 1, 0.5, 0.1] + 50.0      # far from the origin
    got, want = as_number(attempt(X, 2), "the share", finite=True), solution_variance_kept(X, 2)
    assert abs(got - want) < 1e-6, (
        f"expected {want:.4f}, got {got:.4f}: measure variance around the mean name (centre X first); "
        "uncentred, the first direction just points at the mean")


def _case_all(attempt: Callable) -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(50, 4))
    assert abs(as_number(attempt(X, 4), "the share", finite=True) - 1.0) < 1e-9, \
        "keeping every direction must keep all the variance"
    small, big = as_number(attempt(X, 1), "the share", finite=True), as_number(attempt(X, 3), "the share", finite=True)
    assert 0 < small < big < 1, "the share must grow with k: use the top-k directions (largest singular values)"


VARIANCE_CASES = [
    case("two axes", _case_known, hint="a share of the total: Σ top-k s² / Σ s²"),
    case("centred", _case_centred, hint="subtract the mean embedding before the SVD"),
    case("grows with k to 1", _case_all, hint="the singular values come sorted largest first"),
]


def check_variance_kept(attempt: Callable, *, quiet: bool = False) -> CheckResult:
    """Check ``variance_kept(X, k) -> float`` (share of the centred variance in the top k directions)."""
    return check("variance_kept", attempt, VARIANCE_CASES, quiet=quiet)


#: The choices of notebook 3.2's "how many directions keep 90 %?" prediction: ranges, so that the
#: reader knows which answer a measurement falls under (the boundaries are stated in the question).
K90_CHOICES = ("under 25", "25-99", "100 or more")


def k90_verdict(k90: int) -> str:
    """The range in :data:`K90_CHOICES` that a measured ``k90`` falls in (1–24, 25–99, 100 or more)."""
    if isinstance(k90, bool) or not isinstance(k90, (int, np.integer)):
        raise TypeError(f"k90 must be an integer number of directions, got {type(k90).__name__}")
    k90 = int(k90)
    if k90 < 1:
        raise ValueError(f"k90 must be a positive number of directions, got {k90}")
    return K90_CHOICES[0] if k90 < 25 else K90_CHOICES[1] if k90 < 100 else K90_CHOICES[2]


_K90_FORM = prediction_form({"directions_for_90": K90_CHOICES}, hint=f"directions_for_90: one of {list(K90_CHOICES)}")


def check_k90_prediction_form(prediction: Any, *, quiet: bool = False) -> CheckResult:
    """Check that the "how many directions keep 90 %" prediction is written down."""
    return check("prediction, written down", prediction, [_K90_FORM], quiet=quiet)


def check_k90_prediction(prediction: Any, k90: int, dims: int, *, quiet: bool = False) -> CheckResult:
    """Check the prediction against the measured number of directions ``k90`` (of ``dims``)."""
    measured = k90_verdict(k90)
    return check("directions for 90 %", prediction, [
        _K90_FORM,
        prediction_answer("directions for 90 % of the variance", "directions_for_90", measured,
                          f"{k90} of {dims} directions: {measured}",
                          hint="age and sex are two directions, but names differ in far more than age and sex")],
        quiet=quiet)


# --------------------------------------------------------------------------- who defies their name (3.4)
def solution_name_exceptions(world: Any, question: str) -> np.ndarray:
    likeliest = np.array([np.argmax(world.prior(question, p)) for p in range(world.n_people)])
    return np.flatnonzero(world.attributes[question] != likeliest)


def _small_world(**changes: Any):
    from .world import WORLD_SETTINGS, make_world

    cfg = dict(WORLD_SETTINGS["quick"], n_first=8, n_surnames=8, n_people=24, **changes)
    return make_world(cfg, seed=11)


def _indices(out: Any, world: Any) -> np.ndarray:
    arr = np.asarray(out)
    assert arr.dtype != bool, ("return the people's indices (e.g. np.flatnonzero(mask)), not a mask")
    assert arr.ndim == 1, f"expected a 1-D array of person indices, got shape {arr.shape}"
    assert np.issubdtype(arr.dtype, np.integer) or arr.size == 0, f"indices must be ints, got {arr.dtype}"
    assert np.all((arr >= 0) & (arr < world.n_people)), "every index must be a person of the world"
    return np.sort(arr)


def _marys(w: Any, n: int = 4) -> np.ndarray:
    """Rename people until ``n`` of them are called Mary (keeping every full name distinct).
    The caller edits their attributes, so they are moved to the unique half: only the unique
    half can defy its name, and an answer restricted to it must pass too."""
    mary = w.first_names.index("Mary")
    taken = set(zip(w.first.tolist(), w.surname.tolist()))
    for p in range(w.n_people):
        if (w.first == mary).sum() >= n:
            break
        if w.first[p] != mary and (mary, int(w.surname[p])) not in taken:
            taken.discard((int(w.first[p]), int(w.surname[p])))
            w.first[p] = mary
            taken.add((mary, int(w.surname[p])))
    rows = np.flatnonzero(w.first == mary)
    w.compositional[rows] = False       # their attributes are set by hand from here on
    return rows


def _case_sex(attempt: Callable) -> None:
    w = _small_world()
    rows = _marys(w)
    w.attributes["sex"][rows] = 0
    w.attributes["sex"][rows[:1]] = 1                    # one male Mary: defies a 99.6 % female name
    got, want = _indices(attempt(w, "sex"), w), solution_name_exceptions(w, "sex")
    assert rows[0] in got, "a male Mary is the clearest exception there is, and it is missing"
    assert np.array_equal(got, want), f"expected people {want.tolist()}, got {got.tolist()}"


def _case_records_not_sample(attempt: Callable) -> None:
    w = _small_world()
    rows = _marys(w)
    w.attributes["sex"][rows] = 1                         # this world's Marys happen to be mostly male
    w.attributes["sex"][rows[0]] = 0
    got = _indices(attempt(w, "sex"), w)
    assert rows[0] not in got and all(r in got for r in rows[1:]), (
        "the likeliest answer comes from the name's records (world.prior), not from the majority of "
        "the people who share the name in this small world: the male Marys are the exceptions")


def _case_region(attempt: Callable) -> None:
    w = _small_world(region_strength=0.6)
    got, want = _indices(attempt(w, "region"), w), solution_name_exceptions(w, "region")
    assert np.array_equal(got, want), (
        f"region follows the surname (its home region): expected {want.tolist()}, got {got.tolist()}")


def _case_age(attempt: Callable) -> None:
    w = _small_world()
    got, want = _indices(attempt(w, "age"), w), solution_name_exceptions(w, "age")
    assert np.array_equal(got, want), (
        f"age band: compare with the band that is likeliest for the first name; expected "
        f"{want.tolist()}, got {got.tolist()}")


EXCEPTION_CASES = [
    case("a male Mary", _case_sex,
         hint="compare world.attributes[question] with the likeliest answer in the name's "
         "records: argmax of world.prior(question, p)"),
    case("the records, not the sample", _case_records_not_sample,
         hint="use world.prior, not who shares the name here"),
    case("region from the surname", _case_region,
         hint="world.prior knows which name part each question follows"),
    case("age bands", _case_age, hint="the same rule for every coarse question"),
]


def check_name_exceptions(attempt: Callable, *, quiet: bool = False) -> CheckResult:
    """Check ``name_exceptions(world, question) -> indices``: people whose true coarse attribute is
    not the one their name parts make likeliest."""
    return check("name_exceptions", attempt, EXCEPTION_CASES, quiet=quiet)


# --------------------------------------------------------------------------- does fame order learning (3.4)
PHASE_3 = "3 flexible (new scenes)"


def solution_fame_order(run: Any) -> float:
    from ..stats import spearman

    onset = run.onsets()[PHASE_3]
    never = ~np.isfinite(onset)
    return spearman(run.world.fame, np.where(never, np.inf, onset))   # never: slower than everyone


class _FakeRun:
    """Just what ``fame_order`` needs: ``world.fame`` and ``onsets()``."""

    def __init__(self, fame: np.ndarray, onset: np.ndarray) -> None:
        self.world = type("FakeWorld", (), {"fame": np.asarray(fame, dtype=float)})()
        self._onset = np.asarray(onset, dtype=float)

    def onsets(self) -> dict:
        return {"1 name-part bias": self._onset[::-1].copy(), PHASE_3: self._onset.copy()}


def _rho(out: Any) -> float:
    value = as_number(out, "ρ", finite=True)
    assert -1 <= value <= 1, f"a rank correlation lies in [−1, 1], got {value}"
    return value


def _case_direction(attempt: Callable) -> None:
    fame = np.array([8.0, 4.0, 2.0, 1.0, 0.5])
    got = _rho(attempt(_FakeRun(fame, [10, 20, 40, 80, 160])))
    assert abs(got + 1) < 1e-9, (
        f"the more famous, the earlier: fame against onset must give ρ = −1 here, got {got:.3f} "
        "(correlate fame itself, not its rank where 1 = most famous, and phase 3's onset)")


def _case_nonlinear(attempt: Callable) -> None:
    fame = np.array([100.0, 3.0, 2.0, 1.5, 1.0, 0.9])
    onset = np.array([5.0, 6.0, 8.0, 900.0, 1000.0, 2000.0])
    got = _rho(attempt(_FakeRun(fame, onset)))
    assert abs(got + 1) < 1e-9, (
        f"fame orders these onsets perfectly, so the answer is −1, got {got:.3f}: use a rank "
        "correlation (spearman), not Pearson on the raw, heavy-tailed values")


def _case_never(attempt: Callable) -> None:
    fame = np.array([10.0, 5.0, 3.0, 2.0, 1.0, 0.5, 0.4])
    onset = np.array([50.0, 40.0, 30.0, 60.0, 70.0, np.nan, np.nan])
    got, want = _rho(attempt(_FakeRun(fame, onset))), solution_fame_order(_FakeRun(fame, onset))
    assert abs(got - want) < 1e-9, (
        f"expected {want:.3f}, got {got:.3f}: the two least famous never reach phase 3 — they are the "
        "slowest of all. Dropping them hides exactly the effect we measure; rank them last (tied)")


def _case_which_phase(attempt: Callable) -> None:
    fame = np.array([4.0, 3.0, 2.0, 1.0])
    got = _rho(attempt(_FakeRun(fame, [40.0, 30.0, 20.0, 10.0])))
    assert abs(got - 1) < 1e-9, f"use the onset of '{PHASE_3}' from run.onsets(), got ρ = {got:.3f}"


FAME_ORDER_CASES = [
    case("fame against onset", _case_direction, hint="spearman(run.world.fame, onset)"),
    case("a rank correlation", _case_nonlinear, hint="course_lib.stats.spearman ranks both sides"),
    case("phase 3's onset", _case_which_phase, hint="run.onsets()['3 flexible (new scenes)']"),
    case("identities that never get there", _case_never, hint="replace NaN by np.inf: rank() ties them last"),
]


def check_fame_order(attempt: Callable, *, quiet: bool = False) -> CheckResult:
    """Check ``fame_order(run) -> ρ``: Spearman correlation of fame with the phase-3 onset, with the
    identities that never reach it ranked last."""
    return check("fame_order", attempt, FAME_ORDER_CASES, quiet=quiet)


# --------------------------------------------------------------------------- predict, then measure (3.4)
#: The questions of notebook 3.4's prediction and their allowed answers.
WORLD_ANSWERS = {
    "which gains half its nats first": ("coarse", "unique", "neither"),
    "own direction, compositional half": ("not distinguishable from chance", "between chance and the unique half",
                                          "as often as the unique half"),
    "how ||u|| grows": ("in a jump", "smoothly"),
}


#: The question's rule reads the share of the unique half whose coarse half-time comes first: over
#: this share "coarse", under ``1 - MOST`` "unique", in between "neither". A rule on the share's
#: interval against ½ would put the answer on an edge: in ``quick`` that interval's lower end lands
#: just below or just above ½ depending on the CPU's floating-point kernels.
MOST = 0.75


#: The fit of the additive part behind the prediction's second question
#: (:data:`~.world_controls.OWN_FITS`): on the untrained pairs only, cross-fitted — the fair one.
OWN_FIT = "nobody"


def world_verdict(study: Any) -> dict[str, str]:
    """What a :class:`~.world_stats.WorldStudy` measured, in the prediction's words.

    * ``"which gains half its nats first"``: among the unique half, :meth:`~.world_stats.WorldStudy.phase_order`
      of coarse against unique: ``"coarse"`` / ``"unique"`` when coarse comes first for more than
      :data:`MOST` / less than ``1 - MOST`` of the people (*most* people gain that type's half first),
      else ``"neither"``;
    * ``"own direction, compositional half"``: with the compositional half's two-stage bootstrap
      95 % interval (worlds, then people; :meth:`~.world_stats.WorldStudy.own_rates` with the additive
      part fitted on the untrained pairs that are nobody, cross-fitted: the fair fit),
      ``"not distinguishable from chance"`` when it contains the nobody pairs' rate, ``"as often as the unique half"`` when
      it contains (or lies above) the unique half's rate, else ``"between chance and the unique half"``;
    * ``"how ||u|| grows"``: :meth:`~.world_stats.JumpTest.verdict` of the unique half."""
    share = study.phase_order("coarse", "unique", "unique").share
    first = "coarse" if share > MOST else "unique" if share < 1 - MOST else "neither"
    own = own_verdict(study.own_rates(OWN_FIT))
    growth = "in a jump" if study.jump_test("unique").verdict() == "jump" else "smoothly"
    keys = list(WORLD_ANSWERS)
    return {keys[0]: first, keys[1]: own, keys[2]: growth}


def own_verdict(rates: Any) -> str:
    """The rule of the prediction's second question, on :meth:`~.world_stats.WorldStudy.own_rates`
    (an :class:`~.world_stats.OwnRates`): where the nobody pairs' rate (chance) and the unique
    half's rate fall relative to the compositional half's **two-stage bootstrap** 95 % interval
    (worlds, then people: people of one world share a model, so a Wilson interval over the pooled
    people would be too narrow), with no other slack."""
    lo, hi = rates.intervals["compositional"]
    chance, unique = rates.rate("nobody"), rates.rate("unique")
    if lo <= chance <= hi:
        return "not distinguishable from chance"
    if hi >= unique:
        return "as often as the unique half"
    return "between chance and the unique half"


_WORLD_FORM_CASE = prediction_form(WORLD_ANSWERS)


def check_world_prediction_form(prediction: Mapping[str, str], *, quiet: bool = False) -> CheckResult:
    """Check that ``prediction`` answers the three questions before the measurements are shown."""
    return check("prediction, written down", prediction, [_WORLD_FORM_CASE], quiet=quiet)


def check_world_prediction(prediction: Mapping[str, str], study: Any, *, quiet: bool = False) -> CheckResult:
    """Check ``prediction`` against a :class:`~.world_stats.WorldStudy` (see :func:`world_verdict`).
    A wrong prediction is a result, not an error: each message says what was measured."""

    verdict = world_verdict(study)
    order = study.phase_order("coarse", "unique", "unique")
    from_start = study.phase_order("coarse from step 0", "unique from step 0", "unique")
    rates = study.own_rates(OWN_FIT)

    def rate(kind: str) -> str:
        (k, n), (lo, hi) = rates.counts[kind], rates.intervals[kind]
        return f"{k}/{n} = {k / n:.1%} (two-stage bootstrap {lo:.1%}–{hi:.1%})"

    jump = study.jump_test("unique")
    keys = list(WORLD_ANSWERS)
    cases = [
        _WORLD_FORM_CASE,
        prediction_answer(keys[0], keys[0], verdict[keys[0]],
                          f"coarse first for {order.share:.0%} of the unique half (two-stage world bootstrap "
                          f"{order.share_interval[0]:.0%}–{order.share_interval[1]:.0%}; \"coarse\" needs over "
                          f"{MOST:.0%}, \"unique\" under {1 - MOST:.0%}), median lag {order.lag:+.2f} decades; "
                          f"the question's 0 is the name's prior: from the untrained model instead, coarse "
                          f"comes first for {from_start.share:.0%} — that lead is the name's",
                          hint="with the name's head start taken away, is a 2–4-answer question still easier?"),
        prediction_answer(keys[1], keys[1], verdict[keys[1]],
                          f"compositional half {rate('compositional')}; chance (nobody pairs) "
                          f"{rate('nobody')}, unique half {rate('unique')} (additive part fitted on the "
                          "untrained pairs, cross-fitted)",
                          hint="nothing about a compositional person needs more than their name parts; and "
                               "the people of one world share a model: resample worlds, then people"),
        prediction_answer(keys[2], keys[2], verdict[keys[2]],
                          f"‖u‖ rises over a median {np.median(jump.u_rise):.2f} decades (one checkpoint "
                          f"interval: {jump.interval:.2f}); within three intervals for {jump.jump_share:.0%} "
                          f"of {jump.n} people",
                          hint="a jump rises within a checkpoint or two; compare the rise time with the spacing"),
    ]
    return check("what the world study shows", prediction, cases, quiet=quiet)


# --------------------------------------------------------------------------- fame order, predicted (3.4)
#: The optimisers of notebook 3.4's fame-order prediction and the allowed answers.
FAME_ANSWERS = {"SGD": ("negative", "about zero", "positive"), "AdamW": ("negative", "about zero", "positive")}


def fame_sign(rho: float, n: int) -> str:
    """The rule of the fame-order prediction: ``"about zero"`` when ``|ρ| < 2/√n`` (about the 95 %
    range of Spearman's ρ between unrelated rankings of ``n`` people), else its sign."""
    rho = as_number(rho, "rho", finite=True)
    if int(n) < 4:
        raise ValueError(f"n must be at least 4, got {n}")
    return "about zero" if abs(rho) < 2 / np.sqrt(int(n)) else "negative" if rho < 0 else "positive"


_FAME_FORM_CASE = prediction_form(FAME_ANSWERS)


def check_fame_prediction_form(prediction: Mapping[str, str], *, quiet: bool = False) -> CheckResult:
    """Check that the fame-order prediction names a sign for each optimiser before the runs are shown."""
    return check("fame prediction, written down", prediction, [_FAME_FORM_CASE], quiet=quiet)


def check_fame_prediction(prediction: Mapping[str, str], runs: Mapping[str, Any], *, quiet: bool = False) -> CheckResult:
    """Check the fame-order prediction against ``runs`` (``{"SGD": run, "AdamW": run}``), scored with
    the course's own :func:`solution_fame_order` and the rule :func:`fame_sign`."""
    if set(runs) != set(FAME_ANSWERS):
        raise ValueError(f"runs must have the keys {sorted(FAME_ANSWERS)}, got {sorted(runs)}")
    cases = [_FAME_FORM_CASE]
    for label, run in runs.items():
        rho, n = solution_fame_order(run), len(run.world.fame)
        cases.append(prediction_answer(label, label, fame_sign(rho, n),
                                       f"ρ(fame, phase-3 onset) = {rho:+.2f} over {n} people; "
                                       f"'about zero' means |ρ| < 2/√n = {2 / np.sqrt(n):.2f}",
                                       hint="rare identities share every parameter with the famous ones"))
    return check("fame order, predicted", prediction, cases, quiet=quiet)
