"""Exercise checkers for notebooks 4.3 and 4.4 (before and after fine-tuning; SAE features).

``check_*`` runs cases against the reader's function; tests against subtle wrong answers live in
``tests/test_mapper_change_exercises.py``."""

from __future__ import annotations

from typing import Any, Callable, Mapping

import numpy as np

from ..exercises import CheckResult, case, check, forbid, prediction_answer, prediction_form

__all__ = ["solution_same_emotion_control", "check_same_emotion_control",
           "solution_variance_removed", "check_variance_removed",
           "solution_frequency_pick", "check_frequency_pick",
           "SELECTIVITY_ANSWERS", "selectivity_verdict", "check_selectivity_prediction_form",
           "check_selectivity_prediction",
           "solution_random_dictionary", "check_random_dictionary",
           "REMOVED_ANSWERS", "removed_verdict", "check_removed_prediction_form",
           "check_removed_prediction",
           "STEERING_ANSWERS", "steering_verdict", "check_steering_prediction_form", "check_steering_prediction",
           "SPACES_ANSWERS", "spaces_verdict", "check_spaces_prediction_form", "check_spaces_prediction"]


# --- Notebook 4.3: the same-emotion control of a steering vector ---------------------------------------

def solution_same_emotion_control(layer_points: np.ndarray, source: np.ndarray, target: np.ndarray,
                                  other: np.ndarray) -> np.ndarray:
    x = np.asarray(layer_points, dtype=float)
    vector = x[target].mean(axis=0) - x[source].mean(axis=0)
    toward = x[other].mean(axis=0) - x[source].mean(axis=0)
    return toward * np.linalg.norm(vector) / np.linalg.norm(toward)


def _control_data(seed: int = 0, d: int = 32):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(60, d)) * 0.3 + 2.0                  # raw activations, far from unit length
    x[:20, 0] += 3.0                                          # source node (sadness)
    x[20:40, 1] += 6.0                                        # target node (joy): far away
    x[40:, 0] += 3.0
    x[40:, 2] += 1.5                                          # another sadness node: close by
    return x, np.arange(20), np.arange(20, 40), np.arange(40, 60)


def _control_out(out: Any, d: int) -> np.ndarray:
    v = np.asarray(out, dtype=float) if out is not None else None
    assert v is not None and v.shape == (d,), (
        f"return one vector of the activations' dimension ({d},), got "
        f"{'None' if v is None else v.shape}")
    assert np.all(np.isfinite(v)), "the control has NaN or infinite entries"
    return v


def _case_control_towards_other(attempt: Callable) -> None:
    x, source, target, other = _control_data()
    got = _control_out(attempt(x, source, target, other), x.shape[1])
    toward = x[other].mean(0) - x[source].mean(0)
    to_target = x[target].mean(0) - x[source].mean(0)
    cos = got @ toward / np.linalg.norm(got) / np.linalg.norm(toward)
    if abs(got @ to_target) / np.linalg.norm(got) / np.linalg.norm(to_target) > 0.99:
        raise AssertionError("this is the steering vector itself (toward the target): the control points "
                             "from the source toward the *other* node of the source's own emotion")
    if cos < -0.99:
        raise AssertionError("the control points backwards: mean(other) − mean(source)")
    assert cos > 0.999, (f"the control should point along mean(other rows) − mean(source rows) of the raw "
                         f"activations (cosine {cos:.3f}); do not normalise the points")


def _case_control_same_length(attempt: Callable) -> None:
    x, source, target, other = _control_data(1)
    got = _control_out(attempt(x, source, target, other), x.shape[1])
    want = np.linalg.norm(x[target].mean(0) - x[source].mean(0))
    ratio = np.linalg.norm(got) / want
    assert abs(ratio - 1) < 1e-6, (
        f"the control is {ratio:.3f}× as long as the steering vector: rescale it to exactly the vector's "
        "length, so that the two arms differ in where they point and in nothing else")


def _case_control_other_data(attempt: Callable) -> None:
    x, source, target, other = _control_data(2, d=8)
    x = x * 10.0 - 7.0
    got = _control_out(attempt(x, source, target, other), 8)
    assert np.allclose(got, solution_same_emotion_control(x, source, target, other), atol=1e-8), (
        "on other activations (scaled and shifted) the control is wrong: use the rows you are given, "
        "means over rows (axis=0)")


SAME_EMOTION_CASES = [
    case("toward the other node", _case_control_towards_other,
         hint="x[other].mean(axis=0) - x[source].mean(axis=0)"),
    case("as long as the steering vector", _case_control_same_length,
         hint="toward * |mean(target) − mean(source)| / |toward|"),
    case("other activations", _case_control_other_data, hint="work on the raw rows given, no constants"),
]


def check_same_emotion_control(attempt: Callable, *, quiet: bool = False) -> CheckResult:
    """Check ``same_emotion_control(layer_points, source, target, other) -> vector``."""
    return check("same-emotion control", attempt, SAME_EMOTION_CASES, quiet=quiet)


# --- Notebook 4.3: how much of a layer an ablation removes -------------------------------------------

def solution_variance_removed(points: np.ndarray, directions: np.ndarray) -> float:
    x = np.asarray(points, dtype=float)
    q, _ = np.linalg.qr(np.atleast_2d(np.asarray(directions, dtype=float)).T)
    centred = x - x.mean(axis=0)
    return float(((centred @ q) ** 2).sum() / (centred ** 2).sum())


def _share(out: Any) -> float:
    from ..exercises import as_number

    value = as_number(out, "the share of variance", finite=True)
    assert -1e-9 <= value <= 1 + 1e-9, (
        f"a share of the variance lies in [0, 1] (not a percentage), got {value:.4g}"
        + ("; above 1 means some variance was counted twice — orthonormalise the directions"
           if 1 < value <= 10 else ""))
    return value


def _case_var_axis(attempt: Callable) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 4)) * np.array([3.0, 1.0, 1.0, 1.0])
    got = _share(attempt(x, np.array([[1.0, 0, 0, 0]])))
    want = solution_variance_removed(x, np.array([[1.0, 0, 0, 0]]))
    assert abs(got - want) < 1e-9, f"one axis holding ≈ 9 of 12 units of variance: expected {want:.4f}, got {got:.4f}"


def _case_var_length(attempt: Callable) -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(400, 5))
    d = np.array([[0.0, 5.0, 0, 0, 0]])
    got = _share(attempt(x, d))
    want = solution_variance_removed(x, d)
    assert abs(got - want) < 1e-9, (f"expected {want:.4f}, got {got:.4f}: a direction given with length 5 "
                                     "removes the same variance as its unit vector — normalise it")


def _case_var_centred(attempt: Callable) -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(400, 5)) + np.array([0.0, 0, 10.0, 0, 0])
    d = np.array([[0.0, 0, 1.0, 0, 0]])
    got = _share(attempt(x, d))
    want = solution_variance_removed(x, d)
    assert abs(got - want) < 1e-9, (f"expected {want:.4f}, got {got:.4f}: variance is measured around the "
                                     "mean — centre the points (a large mean along the direction is not variance)")


def _case_var_overlap(attempt: Callable) -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(600, 6)) * np.array([4.0, 1, 1, 1, 1, 1])
    d = np.array([[1.0, 0, 0, 0, 0, 0], [1.0, 0.2, 0, 0, 0, 0]])     # nearly the same direction twice
    got = _share(attempt(x, d))
    want = solution_variance_removed(x, d)
    assert abs(got - want) < 1e-9, (
        f"expected {want:.4f}, got {got:.4f}: two nearly parallel directions span a plane; summing their "
        "projections counts the shared part twice — orthonormalise them first (np.linalg.qr)")


def _case_var_full(attempt: Callable) -> None:
    rng = np.random.default_rng(4)
    x = rng.normal(size=(100, 3))
    got = _share(attempt(x, rng.normal(size=(3, 3))))
    assert abs(got - 1) < 1e-9, f"three independent directions in 3-D span everything: expected 1, got {got:.4f}"


def _case_var_own(attempt: Callable) -> None:
    with forbid(["course_lib.mapper.judged:variance_removed"]):
        attempt(np.random.default_rng(5).normal(size=(20, 3)), np.array([[1.0, 0, 0]]))


VARIANCE_CASES = [
    case("one axis", _case_var_axis, hint="centre, project on the unit direction, square, sum, divide by the total"),
    case("a long direction", _case_var_length, hint="normalise the directions"),
    case("points with a mean", _case_var_centred, hint="x - x.mean(axis=0)"),
    case("overlapping directions", _case_var_overlap, hint="q, _ = np.linalg.qr(directions.T); use q's columns"),
    case("a full basis", _case_var_full, hint="d independent directions remove everything"),
    case("your own code", _case_var_own, hint="write it yourself, not with judged.variance_removed"),
]


def check_variance_removed(attempt: Callable, *, quiet: bool = False) -> CheckResult:
    """Check ``variance_removed(points, directions) -> share in [0, 1]``."""
    return check("variance removed", attempt, VARIANCE_CASES, quiet=quiet)


# --- Notebook 4.3: predict the share each ablation removes, then measure it with your function ---------

#: The questions of notebook 4.3's Exercise 1 prediction and their allowed answers.
REMOVED_ANSWERS = {
    "three random directions remove": ("under 5 %", "5–25 %", "over 25 %"),
    "the three emotion directions remove": ("under 5 %", "5–25 %", "over 25 %"),
    "which removes more: the emotion directions or the top 3 principal components": (
        "the emotion directions", "about the same", "the top 3 principal components"),
}
#: Shares within this many points of each other read "about the same".
REMOVED_MARGIN = 0.02


def _removed_shares(shares: Any) -> tuple[float, float, float]:
    """(mean over the random draws, emotion directions, top 3 PCs) of a ``name → share`` mapping whose
    names are those of :func:`~.judged.judged_ablation`'s directions."""
    if not isinstance(shares, Mapping):
        raise ValueError("shares must be a dict: direction set name → share of variance removed")
    randoms = [float(v) for k, v in shares.items() if str(k).startswith("random directions")]
    missing = [k for k in ("emotion directions", "top 3 principal components") if k not in shares]
    if not randoms or missing:
        raise ValueError("shares needs 'random directions (…)', 'emotion directions' and "
                         f"'top 3 principal components'; missing {missing or ['random directions']}")
    values = (float(np.mean(randoms)), float(shares["emotion directions"]),
              float(shares["top 3 principal components"]))
    if not all(0 <= v <= 1 for v in values):
        raise ValueError(f"shares lie in [0, 1], got {values}")
    return values


def _bin_share(v: float) -> str:
    return "under 5 %" if v < 0.05 else "over 25 %" if v > 0.25 else "5–25 %"


def removed_verdict(shares: Any) -> dict[str, str]:
    """The answers to :data:`REMOVED_ANSWERS` that ``shares`` (direction set → share of layer 3's
    variance removed, e.g. computed with the reader's ``variance_removed``) measured: the mean over the
    random draws and the emotion directions binned at 5 % and 25 %; emotion against the top 3 PCs
    "about the same" within :data:`REMOVED_MARGIN`."""
    rand, emo, pcs = _removed_shares(shares)
    keys = list(REMOVED_ANSWERS)
    third = ("about the same" if abs(emo - pcs) <= REMOVED_MARGIN
             else "the emotion directions" if emo > pcs else "the top 3 principal components")
    return {keys[0]: _bin_share(rand), keys[1]: _bin_share(emo), keys[2]: third}


_REMOVED_FORM_CASE = prediction_form(REMOVED_ANSWERS)


def check_removed_prediction_form(prediction: Any, *, quiet: bool = False) -> CheckResult:
    """Check that ``prediction`` answers the three questions before the shares are measured."""
    return check("prediction, written down", prediction, [_REMOVED_FORM_CASE], quiet=quiet)


def check_removed_prediction(prediction: Any, shares: Any, *, quiet: bool = False) -> CheckResult:
    """Check ``prediction`` against the measured ``shares`` (see :func:`removed_verdict`). A wrong
    prediction is a result, not an error: the message says what was measured."""
    verdict = removed_verdict(shares)
    rand, emo, pcs = _removed_shares(shares)
    keys = list(REMOVED_ANSWERS)
    cases = [
        _REMOVED_FORM_CASE,
        prediction_answer(keys[0], keys[0], verdict[keys[0]], f"random directions {rand:.1%}",
                          hint="a random direction of d holds about 1/d of a cloud's variance"),
        prediction_answer(keys[1], keys[1], verdict[keys[1]], f"emotion directions {emo:.1%}",
                          hint="directions chosen because they separate the classes"),
        prediction_answer(keys[2], keys[2], verdict[keys[2]],
                          f"emotion directions {emo:.1%}, top 3 principal components {pcs:.1%}",
                          hint="no three directions hold more variance than the top three principal "
                               "components"),
    ]
    return check("variance removed", prediction, cases, quiet=quiet)


# --- Notebook 4.4: pick a feature by how often it fires --------------------------------------------------

def solution_frequency_pick(features: np.ndarray, labels: np.ndarray, fit: np.ndarray, emotion: str) -> int:
    fires = np.asarray(features) > 0
    labels, fit = np.asarray(labels), np.asarray(fit, dtype=bool)
    gap = fires[fit & (labels == emotion)].mean(axis=0) - fires[fit & (labels != emotion)].mean(axis=0)
    return int(np.argmax(gap))


def _pick_data(seed: int = 0):
    """Features: 0 a broad joy feature (fires on 60 % of joy); 1 fires hard on 3 training joy rows;
    2 fires on everything but joy (a big negative gap); 3 looks best only if held-out rows count;
    4 is larger (not more frequent) on joy."""
    rng = np.random.default_rng(seed)
    n = 240
    labels = np.array(["joy", "anger", "fear", "sadness"] * (n // 4))
    fit = np.arange(n) < 160
    joy = labels == "joy"
    f = np.zeros((n, 6))
    fit_joy, held_joy = np.flatnonzero(joy & fit), np.flatnonzero(joy & ~fit)
    broad = np.concatenate([fit_joy[np.arange(len(fit_joy)) % 5 < 3], held_joy[np.arange(len(held_joy)) % 5 < 3]])
    f[broad, 0] = rng.uniform(0.1, 0.3, len(broad))             # 60 % of joy, fit and held alike
    f[fit_joy[:3], 1] = 80.0
    f[:, 2] = (~joy) * rng.uniform(0.5, 1.0, n)
    f[fit_joy[:18], 3] = 1.0                                     # 45 % of fit joy …
    f[held_joy, 3] = 1.0                                         # … but every held-out joy row
    f[:, 4] = 0.5 + joy * 3.0 + rng.uniform(0, 0.1, n)
    f[:, 5] = rng.uniform(size=n) < 0.3
    return f, labels, fit


def _pick_out(out: Any, m: int) -> int:
    assert isinstance(out, (int, np.integer)) and not isinstance(out, bool), (
        f"return one feature index (an int), got {type(out).__name__}")
    assert 0 <= int(out) < m, f"feature index {int(out)} is outside 0…{m - 1}"
    return int(out)


def _case_pick_broad(attempt: Callable) -> None:
    f, labels, fit = _pick_data()
    got = _pick_out(attempt(f, labels, fit, "joy"), f.shape[1])
    if got == 1:
        raise AssertionError("you picked the feature that fires hard on three sentences: that is the "
                             "largest gap in mean activation, not in how often it fires (f > 0)")
    if got == 2:
        raise AssertionError("you picked a feature that fires on everything *except* joy: take the largest "
                             "signed gap P(fires | joy) − P(fires | others), not its absolute value")
    if got == 3:
        raise AssertionError("feature 3 is best only when held-out rows are counted: use the fit rows only")
    if got == 4:
        raise AssertionError("feature 4 is on for every sentence (only larger on joy): count how often a "
                             "feature is > 0, not how large it is")
    assert got == 0, f"expected feature 0 (fires on 60 % of joy, never elsewhere), got {got}"


def _case_pick_other_emotion(attempt: Callable) -> None:
    f, labels, fit = _pick_data(1)
    g = np.zeros((len(labels), 3))
    fear = np.flatnonzero(labels == "fear")
    g[fear[np.arange(len(fear)) % 4 != 0], 0] = 1.0                     # fires on 3/4 of fear
    g[:, 1] = (labels == "fear") | (labels == "anger")                   # fear and anger alike
    g[:, 2] = labels != "joy"
    got = _pick_out(attempt(g, labels, fit, "fear"), 3)
    assert got == 0, (f"for 'fear' expected feature 0, got {got}: 'the others' are every sentence not of "
                      "the emotion (all three other emotions together)")


def _rule_data():
    """Three features for 'anger' (40 fit rows per emotion, 40 held-out): 0 fires on one anger row only
    (a ratio P(fires | anger) / P(fires | others) or a share P(anger | fires) makes it the best);
    1 fires on 50 % of anger, 40 % of joy, never on fear or sadness (pooled gap 0.37, gap to the most
    frequent single other emotion 0.1); 2 fires on 35 % of anger and 15 % of each other emotion
    (pooled gap 0.2, gap to any single other emotion 0.2)."""
    labels = np.array(["joy", "anger", "fear", "sadness"] * 50)
    fit = np.arange(len(labels)) < 160
    g = np.zeros((len(labels), 3))
    rows = {e: np.flatnonzero(fit & (labels == e)) for e in ("joy", "anger", "fear", "sadness")}
    g[rows["anger"][0], 0] = 1.0
    g[rows["anger"][:20], 1] = 1.0
    g[rows["joy"][:16], 1] = 1.0
    g[rows["anger"][20:34], 2] = 1.0
    for e in ("joy", "fear", "sadness"):
        g[rows[e][-6:], 2] = 1.0
    return g, labels, fit


def _case_pick_rule(attempt: Callable) -> None:
    g, labels, fit = _rule_data()
    got = _pick_out(attempt(g, labels, fit, "anger"), 3)
    if got == 0:
        raise AssertionError("you picked a feature that fires on a single anger sentence: a ratio "
                             "P(fires | anger) / P(fires | others), or the share P(anger | fires), is "
                             "largest for a feature that is almost never on; take the difference "
                             "P(fires | anger) − P(fires | others)")
    if got == 2:
        raise AssertionError("you compared with a single other emotion (the most frequent one): 'the "
                             "others' are all sentences of the other three emotions together")
    assert got == 1, f"expected feature 1, got {got}"


def _case_pick_rates(attempt: Callable) -> None:
    """Unequal class sizes (12 anger rows, 36 of each other emotion): feature 0 fires on 9 of 12 anger
    rows and 4 rows of each other emotion (rate gap 0.75 − 0.11 = 0.64, count gap 9 − 12 = −3); feature 1
    on 6 anger rows and nothing else (rate gap 0.5, count gap 6). Rates pick 0, counts pick 1."""
    labels = np.array(["anger"] * 12 + ["joy"] * 36 + ["fear"] * 36 + ["sadness"] * 36)
    fit = np.ones(len(labels), dtype=bool)
    g = np.zeros((len(labels), 2))
    g[np.flatnonzero(labels == "anger")[:9], 0] = 1.0
    for e in ("joy", "fear", "sadness"):
        g[np.flatnonzero(labels == e)[:4], 0] = 1.0
    g[np.flatnonzero(labels == "anger")[:6], 1] = 1.0
    got = _pick_out(attempt(g, labels, fit, "anger"), 2)
    assert got == 0, (f"expected feature 0 (fires on 75 % of anger, 11 % of the others), got {got}: with "
                      "12 anger rows against 108 others, compare rates (means of f > 0), not counts "
                      "(sums), or the larger class weighs more")


def _case_pick_pooled(attempt: Callable) -> None:
    """The other emotions in unequal numbers (20 anger rows; 60 joy, 10 fear, 10 sadness): feature 0
    fires on 15 anger rows and every fear row (pooled rate of the others 10/80, gap 0.625; the mean of
    the three per-emotion rates 1/3, gap 0.42); feature 1 on 12 anger rows and 6 joy rows (pooled 6/80,
    gap 0.525; mean of rates 1/30, gap 0.57). The pooled rate picks 0, an average of rates 1."""
    labels = np.array(["anger"] * 20 + ["joy"] * 60 + ["fear"] * 10 + ["sadness"] * 10)
    fit = np.ones(len(labels), dtype=bool)
    g = np.zeros((len(labels), 2))
    anger = np.flatnonzero(labels == "anger")
    g[anger[:15], 0] = 1.0
    g[labels == "fear", 0] = 1.0
    g[anger[:12], 1] = 1.0
    g[np.flatnonzero(labels == "joy")[:6], 1] = 1.0
    got = _pick_out(attempt(g, labels, fit, "anger"), 2)
    assert got == 0, (f"expected feature 0, got {got}: P(fires | any other emotion) is one rate over all "
                      "the other rows pooled (fit & (labels != emotion)), not the average of the three "
                      "emotions' rates, which weighs 10 fear rows as much as 60 joy rows")


PICK_CASES = [
    case("a broad feature wins", _case_pick_broad, hint="gap = (f > 0)[fit & joy].mean(0) − (f > 0)[fit & ~joy].mean(0)"),
    case("another emotion", _case_pick_other_emotion, hint="others: labels != emotion, among the fit rows"),
    case("a difference, over all others", _case_pick_rule,
         hint="a difference of two rates (not a ratio), the second over every other emotion together"),
    case("unequal class sizes", _case_pick_rates,
         hint="rates, not counts: .mean(axis=0) over each class's fit rows, not .sum(axis=0)"),
    case("the others pooled", _case_pick_pooled,
         hint="one rate over fit & (labels != emotion), not an average of per-emotion rates"),
]


def check_frequency_pick(attempt: Callable, *, quiet: bool = False) -> CheckResult:
    """Check ``frequency_pick(features, labels, fit, emotion) -> feature index``."""
    return check("frequency pick", attempt, PICK_CASES, quiet=quiet)


# --- Notebook 4.4: predict how the picks hold on held-out situations, then measure them ---------------

#: The questions of notebook 4.4's Exercise 1 prediction and their allowed answers.
SELECTIVITY_ANSWERS = {
    "random dictionary (learned nothing): every pick, by either rule, stays selective held out": (
        "yes", "no"),
    "SAE: some pick, by one rule or the other, fails held out": ("yes", "no"),
    "your frequency picks, emotion by emotion: SAE against the random dictionary": (
        "SAE more selective for every emotion", "depends on the emotion",
        "random dictionary more selective for every emotion"),
}
#: A pick "fails" on held-out situations at or below this selectivity, and "stays selective" above it.
SELECTIVE = 1.5


def _selectivity_rows(table: Any) -> dict[tuple[Any, str, str], np.ndarray]:
    """``(seed, space, rule) → held-out selectivities over the emotions`` of notebook 4.4's table."""
    try:
        emotions = [c for c in table.columns if c != "median"]
        out = {tuple(key): np.asarray(table.loc[key, emotions], dtype=float) for key in table.index}
    except AttributeError as err:
        raise ValueError("table must be notebook 4.4's selectivity table (pandas)") from err
    if not emotions or not all(len(k) == 3 for k in out):
        raise ValueError("the table's rows are (seed, space, picked by) and its columns emotions")
    spaces = {k[1] for k in out}
    rules = {k[2] for k in out}
    if not {"SAE", "random dictionary"} <= spaces or not {"mean", "frequency"} <= rules:
        raise ValueError("the table needs the spaces 'SAE' and 'random dictionary' and the rules 'mean' "
                         "and 'frequency'")
    return out


def _frequency_picks(rows: Mapping[tuple[Any, str, str], np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The SAE's and the random dictionary's frequency picks, side by side over every (seed, emotion)
    of the seeds that have both."""
    seeds = sorted({k[0] for k in rows}, key=str)
    pairs = [(rows[(s, "SAE", "frequency")], rows[(s, "random dictionary", "frequency")])
             for s in seeds if (s, "SAE", "frequency") in rows and (s, "random dictionary", "frequency") in rows]
    if not pairs:
        raise ValueError("the table has no seed with frequency picks in both spaces")
    return np.concatenate([a for a, _ in pairs]), np.concatenate([b for _, b in pairs])


def selectivity_verdict(table: Any) -> dict[str, str]:
    """The answers to :data:`SELECTIVITY_ANSWERS` measured in notebook 4.4's held-out selectivity
    ``table`` (rows ``(seed, space, picked by)``, one column per emotion, an optional ``median``): a
    pick stays selective above :data:`SELECTIVE`; the third answer compares, for every seed and
    emotion, the SAE's frequency pick with the random dictionary's."""
    rows = _selectivity_rows(table)
    keys = list(SELECTIVITY_ANSWERS)
    random_all = all((v > SELECTIVE).all() for k, v in rows.items() if k[1] == "random dictionary")
    sae_fails = any((v <= SELECTIVE).any() for k, v in rows.items() if k[1] == "SAE")
    sae, rnd = _frequency_picks(rows)
    third = SELECTIVITY_ANSWERS[keys[2]]
    third = third[0] if (sae > rnd).all() else third[2] if (rnd > sae).all() else third[1]
    return {keys[0]: "yes" if random_all else "no", keys[1]: "yes" if sae_fails else "no", keys[2]: third}


_SELECTIVITY_FORM_CASE = prediction_form(SELECTIVITY_ANSWERS)


def check_selectivity_prediction_form(prediction: Any, *, quiet: bool = False) -> CheckResult:
    """Check that ``prediction`` answers the three questions before the picks are measured."""
    return check("prediction, written down", prediction, [_SELECTIVITY_FORM_CASE], quiet=quiet)


def check_selectivity_prediction(prediction: Any, table: Any, *, quiet: bool = False) -> CheckResult:
    """Check ``prediction`` against notebook 4.4's held-out selectivity ``table`` (see
    :func:`selectivity_verdict`). A wrong prediction is a result, not an error: the message says what
    was measured."""
    verdict = selectivity_verdict(table)
    rows = _selectivity_rows(table)
    keys = list(SELECTIVITY_ANSWERS)
    rnd_min = min(float(v.min()) for k, v in rows.items() if k[1] == "random dictionary")
    sae_min = min(float(v.min()) for k, v in rows.items() if k[1] == "SAE")
    sae, rnd = _frequency_picks(rows)
    wins = sae > rnd
    cases = [
        _SELECTIVITY_FORM_CASE,
        prediction_answer(keys[0], keys[0], verdict[keys[0]],
                          f"the random dictionary's least selective pick {rnd_min:.1f}×",
                          hint="among 1,536 random directions, some line up with each emotion"),
        prediction_answer(keys[1], keys[1], verdict[keys[1]],
                          f"the SAE's least selective pick {sae_min:.1f}×",
                          hint="a feature chosen on some situations may belong to one of them"),
        prediction_answer(keys[2], keys[2], verdict[keys[2]],
                          f"the SAE's frequency pick more selective in {int(wins.sum())} of {len(wins)} "
                          "(seed, emotion) pairs",
                          hint="compare the two frequency rows emotion by emotion"),
    ]
    return check("picks on held-out situations", prediction, cases, quiet=quiet)


# --- Notebook 4.4: the random-dictionary control ------------------------------------------------------------

def solution_random_dictionary(states: np.ndarray, features: int, l0: float,
                               rng: np.random.Generator) -> np.ndarray:
    x = np.asarray(states, dtype=float)
    w = rng.normal(size=(features, x.shape[1]))
    w /= np.linalg.norm(w, axis=1, keepdims=True)
    pre = (x - x.mean(axis=0)) @ w.T
    theta = np.quantile(pre, 1 - l0 / features)
    return np.maximum(pre - theta, 0)


def _codes(out: Any, shape: tuple[int, int]) -> np.ndarray:
    c = np.asarray(out, dtype=float) if out is not None else None
    assert c is not None and c.shape == shape, (
        f"return codes of shape (tokens, features) = {shape}, got {'None' if c is None else c.shape}")
    assert np.all(np.isfinite(c)), "the codes hold NaN or infinite entries"
    assert (c >= 0).all(), "codes are ReLU outputs: never negative"
    return c


def _dict_states(seed: int, n: int = 400, d: int = 24, offset: float = 0.0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)) * np.linspace(0.5, 2.0, d) + offset


def _case_dict_sparsity(attempt: Callable) -> None:
    x = _dict_states(0)
    for l0 in (3, 12.5):
        c = _codes(attempt(x, 96, l0, np.random.default_rng(0)), (400, 96))
        got = (c > 0).sum(axis=1).mean()
        assert abs(got - l0) < 0.05 * l0 + 0.2, (
            f"asked for {l0} active features per token on average, got {got:.2f}: choose the threshold "
            "as the (1 − l0 / features) quantile of all the pre-activations")


def _case_dict_rng(attempt: Callable) -> None:
    x = _dict_states(1)
    a = _codes(attempt(x, 64, 5, np.random.default_rng(3)), (400, 64))
    b = _codes(attempt(x, 64, 5, np.random.default_rng(3)), (400, 64))
    c = _codes(attempt(x, 64, 5, np.random.default_rng(4)), (400, 64))
    assert np.allclose(a, b), "the same rng seed must give the same dictionary: draw it from the rng given"
    assert not np.allclose(a, c), "a different rng seed must give a different dictionary"


def _case_dict_centred(attempt: Callable) -> None:
    x = _dict_states(2, offset=np.linspace(-30, 30, 24))
    c = _codes(attempt(x, 80, 8, np.random.default_rng(5)), (400, 80))
    active = c > 0
    used = active.any(axis=0).mean()
    together = (active[:200] & active[200:]).sum(axis=1).mean() / 8
    assert used > 0.5 and together < 0.5, (
        f"the tokens all use the same few features ({used:.0%} of features ever fire; two tokens share "
        f"{together:.0%} of their features): centre the states first, or the mean decides the code")


def _case_dict_random(attempt: Callable) -> None:
    x = _dict_states(3, d=16)
    c = _codes(attempt(x, 200, 10, np.random.default_rng(6)), (400, 200))
    # a learned or hand-made code (e.g. the states' own coordinates) would not fill 200 features
    assert (c > 0).any(axis=0).mean() > 0.8, "most of the random directions should fire on some token"


def _case_dict_one_threshold(attempt: Callable) -> None:
    rng = np.random.default_rng(7)
    x = rng.normal(size=(400, 12)) * np.geomspace(0.1, 5.0, 12)   # some directions see far more variance
    c = _codes(attempt(x, 60, 6, np.random.default_rng(8)), (400, 60))
    fires = (c > 0).sum(axis=0)
    assert np.ptp(fires) > 20, (
        f"every feature fires on nearly the same number of tokens ({fires.min()}–{fires.max()} of 400): "
        "that is one threshold per feature; use one threshold for all (the quantile of all pre-activations "
        "together), so directions with more variance fire more often, as an SAE's features may")


def _case_dict_sign(attempt: Callable) -> None:
    x = _dict_states(9, n=200, d=10)
    x = np.concatenate([x - x.mean(axis=0), -(x - x.mean(axis=0))])   # token t + 200 is −(token t)
    c = _codes(attempt(x, 40, 4, np.random.default_rng(10)), (400, 40))
    both = ((c[:200] > 0) & (c[200:] > 0)).sum() / max((c > 0).sum() / 2, 1)
    assert both < 0.05, (
        f"a token and its negative use the same features ({both:.0%} shared): a ReLU code keeps the sign "
        "of the pre-activation — no absolute value")


def _case_dict_unit(attempt: Callable) -> None:
    rng = np.random.default_rng(11)
    x = rng.normal(size=(4000, 3))
    x = (x - x.mean(axis=0)) @ np.linalg.inv(np.linalg.cholesky(np.cov(x.T, bias=True))).T  # isotropic
    c = _codes(attempt(x, 30, 3, np.random.default_rng(12)), (4000, 30))
    fires = (c > 0).sum(axis=0)
    assert fires.max() < 1.6 * max(fires.min(), 1), (
        f"on states with the same variance in every direction, features fire on {fires.min()}–{fires.max()} "
        "of 4000 tokens: with one threshold, a longer direction fires more — scale each random direction "
        "to length 1")


def _case_dict_continuous(attempt: Callable) -> None:
    x = _dict_states(13)
    c = _codes(attempt(x, 96, 8, np.random.default_rng(14)), (400, 96))
    active = c[c > 0]
    assert active.size and active.min() < 0.05 * np.median(active), (
        f"the smallest active code is {active.min():.3g} (median {np.median(active):.3g}): an active code "
        "is the pre-activation minus the threshold, ReLU(pre − θ), so it starts from 0 — not 1, and not "
        "the pre-activation itself")


def _case_dict_raw_scale(attempt: Callable) -> None:
    rng = np.random.default_rng(15)
    x = rng.normal(size=(600, 12))
    x[:, 0] *= 10                       # one direction carries most of the states' variance
    active = _codes(attempt(x, 120, 12, np.random.default_rng(16)), (600, 120)) > 0
    top = np.argsort(-x[:, 0])[:30]     # the 30 tokens furthest along it
    shared = [(active[a] & active[b]).sum() / max((active[a] | active[b]).sum(), 1)
              for i, a in enumerate(top) for b in top[i + 1:]]
    assert np.mean(shared) > 0.4, (
        f"tokens far along the states' widest direction share only {np.mean(shared):.0%} of their "
        "features: the control projects the centred states as they are — rescaling each dimension "
        "(z-scoring) erases the geometry an SAE sees")


def _case_dict_isotropic(attempt: Callable) -> None:
    phi = np.linspace(0, 2 * np.pi, 720, endpoint=False)
    x = np.stack([np.cos(phi), np.sin(phi)], axis=1)   # tokens on a circle: every angle alike
    active = _codes(attempt(x, 4000, 400, np.random.default_rng(17)), (720, 4000)) > 0
    l0, angle = active.sum(axis=1), np.mod(phi, np.pi / 2)
    diagonal = l0[np.abs(angle - np.pi / 4) < 0.1].mean()
    axes = l0[(angle < 0.1) | (angle > np.pi / 2 - 0.1)].mean()
    assert diagonal < 1.25 * axes, (
        f"tokens on the diagonals use {diagonal / axes:.2f}× as many features as tokens on the axes: "
        "the random directions favour some angles — draw them from a normal distribution (isotropic), "
        "not uniformly in a cube")


def _case_dict_own(attempt: Callable) -> None:
    with forbid(["course_lib.mapper.sae:random_dictionary_codes"]):
        attempt(_dict_states(4, n=50, d=8), 16, 2, np.random.default_rng(0))


DICTIONARY_CASES = [
    case("the same sparsity", _case_dict_sparsity, hint="theta = np.quantile(pre, 1 - l0 / features)"),
    case("reproducible", _case_dict_rng, hint="w = rng.normal(size=(features, dim)), rows scaled to length 1"),
    case("centred states", _case_dict_centred, hint="pre = (x - x.mean(axis=0)) @ w.T"),
    case("random directions", _case_dict_random, hint="one random direction per feature"),
    case("one threshold", _case_dict_one_threshold, hint="np.quantile(pre, q) over all entries, not axis=0"),
    case("the sign kept", _case_dict_sign, hint="np.maximum(pre - theta, 0): no abs()"),
    case("unit directions", _case_dict_unit, hint="w /= np.linalg.norm(w, axis=1, keepdims=True)"),
    case("codes start at 0", _case_dict_continuous, hint="np.maximum(pre - theta, 0), not (pre > theta)"),
    case("the states' own scale", _case_dict_raw_scale, hint="project x − x̄ itself: no division by its std"),
    case("every direction alike", _case_dict_isotropic, hint="w = rng.normal(...), not rng.uniform(...)"),
    case("your own code", _case_dict_own, hint="write it yourself, not with sae.random_dictionary_codes"),
]


def check_random_dictionary(attempt: Callable, *, quiet: bool = False) -> CheckResult:
    """Check ``random_dictionary(states, features, l0, rng) -> codes (tokens, features)``."""
    return check("random dictionary", attempt, DICTIONARY_CASES, quiet=quiet)


# --- Notebook 4.3: predict held-out steering, then measure it ------------------------------------------

#: The questions of notebook 4.3's steering prediction and their allowed answers.
STEERING_ANSWERS = {
    "layer 2, dose 2: share landing in a target-emotion node": ("under 25 %", "25–65 %", "over 65 %"),
    "layer 4, dose 2: the same-emotion control": ("near the unedited rate", "in between",
                                                  "as high as the steered rate"),
    "layer 2, dose 2, graph: class-mean vector against the node pair": (
        "class mean more often", "about as often", "node pair more often"),
}


def _study_rows(study: Any) -> dict:
    try:
        return {(r["layer"], r["dose"], r["arm"], r["readout"]): r for r in study["rows"]}
    except (TypeError, KeyError) as err:
        raise ValueError("study must be the dict returned by judged.heldout_steering") from err


def _need(rows: dict, key: tuple) -> dict:
    if key not in rows:
        raise ValueError(f"the steering study has no row {key}: it needs layers 2 and 4 and dose 2")
    return rows[key]


def steering_verdict(study: Any) -> dict[str, str]:
    """The answers to :data:`STEERING_ANSWERS` that a :func:`~.judged.heldout_steering` study measured.

    1. the steered rate at layer 2, dose 2 (graph read-out), binned at 25 % and 65 %;
    2. the same-emotion control at layer 4, dose 2 (graph): "near the unedited rate" when within 10
       points of it, "as high as the steered rate" when its Wilson interval reaches the steered one's,
       else "in between";
    3. graph read-out (the read-out that shares no fit with either vector; a probe fitted on the
       training sentences' emotions favours the class-mean arm by construction), layer 2, dose 2: one
       arm "more often" when its Wilson interval lies wholly above the other's, else "about as
       often"."""
    rows = _study_rows(study)
    keys = list(STEERING_ANSWERS)
    rate = _need(rows, (2, 2.0, "steered", "graph"))["rate"]
    first = "under 25 %" if rate < 0.25 else "over 65 %" if rate > 0.65 else "25–65 %"
    base = _need(rows, (0, 0.0, "none", "graph"))
    same, steered = _need(rows, (4, 2.0, "same emotion", "graph")), _need(rows, (4, 2.0, "steered", "graph"))
    second = ("near the unedited rate" if abs(same["rate"] - base["rate"]) <= 0.1
              else "as high as the steered rate" if same["high"] >= steered["low"] else "in between")
    cm, st = _need(rows, (2, 2.0, "class mean", "graph")), _need(rows, (2, 2.0, "steered", "graph"))
    third = ("class mean more often" if cm["low"] > st["high"]
             else "node pair more often" if st["low"] > cm["high"] else "about as often")
    return {keys[0]: first, keys[1]: second, keys[2]: third}


_STEERING_FORM_CASE = prediction_form(STEERING_ANSWERS)


def check_steering_prediction_form(prediction: Any, *, quiet: bool = False) -> CheckResult:
    """Check that ``prediction`` answers the three questions before the held-out steering study runs."""
    return check("prediction, written down", prediction, [_STEERING_FORM_CASE], quiet=quiet)


def _fmt(r: dict) -> str:
    return f"{r['k']}/{r['n']} = {r['rate']:.0%} (95 % CI {r['low']:.0%}–{r['high']:.0%})"


def check_steering_prediction(prediction: Any, study: Any, *, quiet: bool = False) -> CheckResult:
    """Check ``prediction`` against a held-out steering ``study`` (see :func:`steering_verdict`). A
    wrong prediction is a result, not an error: the message says what was measured."""
    verdict = steering_verdict(study)
    rows = _study_rows(study)
    keys = list(STEERING_ANSWERS)
    cases = [
        _STEERING_FORM_CASE,
        prediction_answer(keys[0], keys[0], verdict[keys[0]],
                          f"steered, layer 2, dose 2: {_fmt(rows[(2, 2.0, 'steered', 'graph')])}",
                          hint="in-sample the double dose moved every sentence; held out, the vector was "
                               "fitted on other situations"),
        prediction_answer(keys[1], keys[1], verdict[keys[1]],
                          f"same emotion {_fmt(rows[(4, 2.0, 'same emotion', 'graph')])}, unedited "
                          f"{_fmt(rows[(0, 0.0, 'none', 'graph')])}, steered "
                          f"{_fmt(rows[(4, 2.0, 'steered', 'graph')])}",
                          hint="a push as long between two neighbourhoods of one emotion: does it change "
                               "the emotion?"),
        prediction_answer(keys[2], keys[2], verdict[keys[2]],
                          f"graph, layer 2, dose 2: class mean {_fmt(rows[(2, 2.0, 'class mean', 'graph')])}, "
                          f"node pair {_fmt(rows[(2, 2.0, 'steered', 'graph')])}",
                          hint="one vector aims at a node of the target emotion, the other at the emotion's "
                               "mean; the graph read-out shares no fit with either (a probe fitted on the "
                               "class labels would favour the class means by construction)"),
    ]
    return check("held-out steering", prediction, cases, quiet=quiet)


# --- Notebook 4.4: predict what the SAE's learning adds, then measure it -------------------------------

#: The questions of notebook 4.4's prediction and their allowed answers.
SPACES_ANSWERS = {
    "nearest neighbour from another situation (k = 1) has the same emotion: SAE against the raw layer": (
        "SAE higher", "about the same", "raw layer higher"),
    "nearest neighbour is of the sentence's own situation: SAE space against the raw layer": (
        "SAE higher", "about the same", "raw layer higher"),
    "k-means (k = 24), cross-situation purity: SAE space against the raw layer": (
        "SAE higher", "about the same", "raw layer higher"),
    "probe accuracy on held-out situations: SAE codes against the raw layer": (
        "SAE higher", "about the same", "raw layer higher"),
}
#: Differences within these margins read "about the same" (shares and purities; probe accuracy).
SPACES_MARGINS = (0.1, 0.05)
#: The table column each question compares, and the two spaces it compares.
_SPACES_COLUMNS = ("same emotion, 1-NN of other situations", "nearest neighbour of its own situation",
                   "k-means cross-situation purity (k=24)", "probe accuracy")
_SPACES_PAIRS = (("SAE", "raw"), ("SAE", "raw"), ("SAE", "raw"), ("SAE", "raw"))


def _spaces_means(table: Any) -> dict[str, dict[str, float]]:
    """Seed-averaged rows of :func:`~.sae.compare_spaces`' table: ``{"SAE", "random", "raw"}``."""
    try:
        names = list(table.index)
        rows = {name: table.loc[name] for name in names}
    except AttributeError as err:
        raise ValueError("table must be the pandas table of sae.compare_spaces") from err
    groups = {"SAE": [n for n in names if str(n).startswith("SAE")],
              "random": [n for n in names if str(n).startswith("random dictionary")],
              "raw": [n for n in names if str(n).startswith("raw")]}
    if not all(groups.values()):
        raise ValueError("the table needs rows 'raw activations', 'SAE, seed …' and 'random dictionary, seed …'")
    missing = [c for c in _SPACES_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"the table lacks the columns {missing}: pass situations= and k including 24")
    return {g: {c: float(np.mean([rows[n][c] for n in ns])) for c in _SPACES_COLUMNS} for g, ns in groups.items()}


def _compare(a: float, b: float, margin: float, names: tuple[str, str, str]) -> str:
    return names[0] if a > b + margin else names[2] if b > a + margin else names[1]


def spaces_verdict(table: Any) -> dict[str, str]:
    """The answers to :data:`SPACES_ANSWERS` measured in ``table`` (seed means; a difference within
    :data:`SPACES_MARGINS` is "about the same")."""
    m = _spaces_means(table)
    return {key: _compare(m[a][col], m[b][col], SPACES_MARGINS[col == "probe accuracy"], SPACES_ANSWERS[key])
            for key, col, (a, b) in zip(SPACES_ANSWERS, _SPACES_COLUMNS, _SPACES_PAIRS)}


_SPACES_FORM_CASE = prediction_form(SPACES_ANSWERS)


def check_spaces_prediction_form(prediction: Any, *, quiet: bool = False) -> CheckResult:
    """Check that ``prediction`` answers the four questions before the spaces are compared."""
    return check("prediction, written down", prediction, [_SPACES_FORM_CASE], quiet=quiet)


def check_spaces_prediction(prediction: Any, table: Any, *, quiet: bool = False) -> CheckResult:
    """Check ``prediction`` against :func:`~.sae.compare_spaces`' ``table`` (see :func:`spaces_verdict`).
    A wrong prediction is a result, not an error: the message says what was measured."""
    verdict = spaces_verdict(table)
    m = _spaces_means(table)
    hints = ("does a learned sparse code make a sentence's neighbourhood more emotional than the layer it codes?",
             "how much a sentence's own situation (its topic, its wording) decides its neighbourhood",
             "the same codes, partitioned by k-means instead of linked by Mapper's cover",
             "a linear read-out of 1,536 pooled codes against 384 raw dimensions")
    cases = [_SPACES_FORM_CASE] + [
        prediction_answer(key, key, verdict[key],
                          f"{a} {m[a][col]:.2f} against {b} {m[b][col]:.2f} (seed means; within "
                          f"{SPACES_MARGINS[col == 'probe accuracy']:.2f} counts as about the same)", hint=hint)
        for key, col, (a, b), hint in zip(SPACES_ANSWERS, _SPACES_COLUMNS, _SPACES_PAIRS, hints)]
    return check("what the SAE's learning adds", prediction, cases, quiet=quiet)
