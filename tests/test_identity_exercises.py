"""The chapter 3 exercise checkers: the solutions pass, subtle wrong answers fail."""

import numpy as np
import pytest

from course_lib.identity import exercises as X
from course_lib.identity.probes import fit_ridge, r2_score, ridge_oof


def test_held_out_solution_passes():
    assert X.check_held_out_r2(X.solution_held_out_r2, quiet=True).passed


def test_fitting_on_every_name_is_caught():
    def leaky(Xm, y, folds):
        return r2_score(y, fit_ridge(Xm, y)(Xm))
    # (ridge's leave-one-out α shrinks a pure-noise fit to nothing, so the leak shows on signal + noise)
    assert not X.check_held_out_r2(leaky, quiet=True).passed

    def least_squares_leak(Xm, y, folds):   # an unregularised fit on every name memorises the noise
        w, *_ = np.linalg.lstsq(np.c_[Xm, np.ones(len(y))], y, rcond=None)
        return r2_score(y, np.c_[Xm, np.ones(len(y))] @ w)
    result = X.check_held_out_r2(least_squares_leak, quiet=True)
    assert not result.passed and "noise" in result.message


def test_swapped_folds_are_caught():
    def swapped(Xm, y, folds):          # fits on the held-out fold, predicts the rest
        pred = np.zeros(len(y)); count = np.zeros(len(y))
        for f in np.unique(folds):
            test = folds == f
            pred[~test] += fit_ridge(Xm[test], y[test])(Xm[~test]); count[~test] += 1
        return r2_score(y, pred / count)
    assert not X.check_held_out_r2(swapped, quiet=True).passed


def test_average_of_fold_r2_is_caught():
    def averaged(Xm, y, folds):
        scores = []
        for f in np.unique(folds):
            test = folds == f
            scores.append(r2_score(y[test], fit_ridge(Xm[~test], y[~test])(Xm[test])))
        return float(np.mean(scores))
    result = X.check_held_out_r2(averaged, quiet=True)
    assert not result.passed and "pooled" in result.message.lower() + result.hint.lower()


def test_calling_the_course_probe_is_caught():
    assert not X.check_held_out_r2(lambda Xm, y, folds: r2_score(y, ridge_oof(Xm, y, folds)), quiet=True).passed


def test_variance_solution_passes_and_wrong_answers_fail():
    assert X.check_variance_kept(X.solution_variance_kept, quiet=True).passed

    def uncentred(Xm, k):
        s = np.linalg.svd(Xm, compute_uv=False)
        return float((s[:k] ** 2).sum() / (s**2).sum())

    def smallest(Xm, k):
        s = np.linalg.svd(Xm - Xm.mean(0), compute_uv=False)
        return float((s[-k:] ** 2).sum() / (s**2).sum())

    def not_squared(Xm, k):
        s = np.linalg.svd(Xm - Xm.mean(0), compute_uv=False)
        return float(s[:k].sum() / s.sum())

    for wrong in (uncentred, smallest, not_squared):
        assert not X.check_variance_kept(wrong, quiet=True).passed, wrong.__name__


def test_a_stub_fails_without_raising():
    def stub(*args):
        raise NotImplementedError
    assert not X.check_held_out_r2(stub, quiet=True).passed
    assert not X.check_variance_kept(stub, quiet=True).passed


# --------------------------------------------------------------------------- notebook 3.4
def test_name_exceptions_solution_passes_and_wrong_answers_fail():
    assert X.check_name_exceptions(X.solution_name_exceptions, quiet=True).passed

    def as_mask(world, question):
        return X.solution_name_exceptions(world, question)[:, None][:, 0] >= 0  # a bool array

    def sample_majority(world, question):       # the name's majority among the people who share it here
        part = world.surname if question == "region" else world.first
        truth = world.attributes[question]
        out = []
        for p in range(world.n_people):
            peers = truth[part == part[p]]
            out.append(truth[p] != np.bincount(peers).argmax())
        return np.flatnonzero(out)

    def inverted(world, question):
        likeliest = np.array([np.argmax(world.prior(question, p)) for p in range(world.n_people)])
        return np.flatnonzero(world.attributes[question] == likeliest)

    def region_from_first_name(world, question):
        if question != "region":
            return X.solution_name_exceptions(world, question)
        home = np.array([np.bincount(world.attributes["region"][world.first == f], minlength=4).argmax()
                         for f in range(world.config["n_first"])])
        return np.flatnonzero(world.attributes["region"] != home[world.first])

    for wrong, word in ((as_mask, "mask"), (sample_majority, "records"), (inverted, "missing"),
                        (region_from_first_name, "surname")):
        result = X.check_name_exceptions(wrong, quiet=True)
        assert not result.passed and word in (result.message + result.hint), (wrong.__name__, result)


def test_fame_order_solution_passes_and_wrong_answers_fail():
    from course_lib.stats import spearman

    assert X.check_fame_order(X.solution_fame_order, quiet=True).passed

    def dropping_never(run):
        onset = run.onsets()[X.PHASE_3]
        ok = np.isfinite(onset)
        return spearman(run.world.fame[ok], onset[ok])

    def pearson(run):
        onset = run.onsets()[X.PHASE_3]
        onset = np.where(np.isfinite(onset), onset, np.nanmax(onset) * 2)
        return float(np.corrcoef(run.world.fame, onset)[0, 1])

    def fame_rank(run):                          # 1 = most famous: flips the sign
        fame = run.world.fame
        rank = np.argsort(np.argsort(-fame)) + 1
        onset = run.onsets()[X.PHASE_3]
        return spearman(rank, np.where(np.isfinite(onset), onset, np.inf))

    def wrong_phase(run):
        onset = run.onsets()["1 name-part bias"]
        return spearman(run.world.fame, np.where(np.isfinite(onset), onset, np.inf))

    for wrong, word in ((dropping_never, "never"), (pearson, "rank"), (fame_rank, "rank"),
                        (wrong_phase, "phase")):
        result = X.check_fame_order(wrong, quiet=True)
        assert not result.passed and word in (result.message + result.hint).lower(), (wrong.__name__, result)


# --------------------------------------------------------------------------- births or tokens (3.1)
from course_lib.identity.probes import CELLS, SplitCell


def _cell(name, diff, n=300):
    return SplitCell(cell=name, names=n, encoder={}, spelling={}, difference={}, interval={},
                     mean_difference=diff, mean_interval=(diff - 0.05, diff + 0.05))


TOKEN_CELLS = [_cell(CELLS[0], 0.30), _cell(CELLS[1], -0.11), _cell(CELLS[2], 0.16), _cell(CELLS[3], -0.16)]
RIGHT = {CELLS[0]: "encoder", CELLS[1]: "spelling", CELLS[2]: "encoder", CELLS[3]: "spelling"}


def test_split_prediction_right_answer_passes():
    assert X.check_split_prediction_form(RIGHT, quiet=True).passed
    assert X.check_split_prediction(RIGHT, TOKEN_CELLS, quiet=True).passed
    assert X.split_verdict(TOKEN_CELLS) == RIGHT


def test_split_prediction_by_births_fails_on_the_cells_it_gets_wrong():
    by_births = {CELLS[0]: "encoder", CELLS[1]: "encoder", CELLS[2]: "spelling", CELLS[3]: "spelling"}
    result = X.check_split_prediction(by_births, TOKEN_CELLS, quiet=True)
    assert not result.passed and CELLS[1] in result.message and "measured 'spelling'" in result.message
    everywhere = dict.fromkeys(CELLS, "encoder")
    assert not X.check_split_prediction(everywhere, TOKEN_CELLS, quiet=True).passed
    one_off = dict(RIGHT, **{CELLS[3]: "encoder"})                  # only the last cell wrong
    result = X.check_split_prediction(one_off, TOKEN_CELLS, quiet=True)
    assert not result.passed and CELLS[3] in result.message


def test_split_cell_whose_interval_spans_zero_grades_no_answer_wrong():
    unclear = [_cell(CELLS[0], 0.30), SplitCell(cell=CELLS[1], names=105, encoder={}, spelling={}, difference={},
                                                interval={}, mean_difference=-0.05, mean_interval=(-0.14, 0.08))]
    for answer in X.WINNERS:
        assert X.check_split_prediction({**RIGHT, CELLS[1]: answer}, unclear, quiet=True).passed, answer
    assert X.split_verdict(unclear)[CELLS[1]] == "no clear winner"
    # ... but a clear cell rejects "no clear winner"
    assert not X.check_split_prediction({**RIGHT, CELLS[0]: "no clear winner"}, unclear, quiet=True).passed
    assert not X.check_split_prediction({**RIGHT, CELLS[3]: "no clear winner"}, TOKEN_CELLS, quiet=True).passed


def test_split_prediction_form_is_checked():
    assert not X.check_split_prediction_form(dict.fromkeys(CELLS), quiet=True).passed            # the stub
    assert not X.check_split_prediction_form({**RIGHT, CELLS[0]: "Encoder"}, quiet=True).passed   # not an answer
    assert not X.check_split_prediction_form({**RIGHT, "common": "encoder"}, quiet=True).passed   # extra key
    assert not X.check_split_prediction_form({k: RIGHT[k] for k in CELLS[:3]}, quiet=True).passed
    assert not X.check_split_prediction_form(list(RIGHT.values()), quiet=True).passed
    # a profile without rare names checks only the cells it measured
    assert X.check_split_prediction(RIGHT, TOKEN_CELLS[:2], quiet=True).passed


# --------------------------------------------------------------------------- what the encoder adds (3.2)
class _FakeStudy:
    """Just what the steering checker reads."""

    def __init__(self, sex_gap=0.3, spelling_young=80, random_young=25, n=100):
        self.starts = [f"n{i}" for i in range(n)]
        rng = np.random.default_rng(0)
        self.effects = {
            "MiniLM": {"difference of means": {"more female": sex_gap + 0.2 + 0.05 * rng.normal(size=n)}},
            "spelling": {"difference of means": {"more female": 0.2 + 0.05 * rng.normal(size=n),
                                                 "younger": np.r_[np.ones(spelling_young), -np.ones(n - spelling_young)]},
                         "random": {"younger": np.r_[np.ones(random_young), np.zeros(n - random_young)]}}}

    def compare(self, target, a="MiniLM", b="spelling", kind="difference of means"):
        d = self.effects[a][kind][target] - self.effects[b][kind][target]
        se = d.std(ddof=1) / np.sqrt(len(d))
        return float(d.mean()), float(d.mean() - 2 * se), float(d.mean() + 2 * se)

    def successes(self, space, kind, target):
        return int((self.effects[space][kind][target] > 0).sum())

    def interval(self, space, kind, target):
        from course_lib.stats import wilson_interval
        return wilson_interval(self.successes(space, kind, target), len(self.starts))


class _FakeTradeoff:
    """Just what the steering checker reads: the matched gap on sex."""

    def __init__(self, gap=(0.17, 0.11, 0.22)):
        self.gap = gap

    def level(self, target, damage="off-target", space="MiniLM", t=1.5):
        assert (target, damage, space, t) == ("more female", X.STEERING_DAMAGE, "spelling", 1.5)
        return 0.3

    def matched_gap(self, target, level=None, damage="off-target"):
        assert target == "more female" and damage == X.STEERING_DAMAGE and level == 0.3
        return self.gap


STEER_KEYS = list(X.STEERING_ANSWERS)
STEER_RIGHT = {STEER_KEYS[0]: "MiniLM", STEER_KEYS[1]: "more often"}


def test_steering_prediction_right_answer_passes():
    assert X.check_steering_prediction_form(STEER_RIGHT, quiet=True).passed
    assert X.check_steering_prediction(STEER_RIGHT, _FakeStudy(), _FakeTradeoff(), quiet=True).passed


def test_steering_prediction_wrong_answers_fail():
    study, tradeoff = _FakeStudy(), _FakeTradeoff()
    result = X.check_steering_prediction({**STEER_RIGHT, STEER_KEYS[0]: "about the same"}, study, tradeoff,
                                         quiet=True)
    assert not result.passed and "measured 'MiniLM'" in result.message
    result = X.check_steering_prediction({**STEER_RIGHT, STEER_KEYS[1]: "as often"}, study, tradeoff, quiet=True)
    assert not result.passed and "random" in result.message
    # the verdict follows the data, not a fixed answer: overlapping intervals are "as often"
    close = _FakeStudy(spelling_young=35, random_young=25)
    assert X.steering_verdict(close, tradeoff)[STEER_KEYS[1]] == "as often"
    # the sex answer reads the MATCHED gap, not the unmatched one
    assert X.steering_verdict(study, _FakeTradeoff((0.03, -0.03, 0.08)))[STEER_KEYS[0]] == "about the same"
    assert X.steering_verdict(_FakeStudy(sex_gap=-0.3), tradeoff)[STEER_KEYS[0]] == "MiniLM"
    assert X.steering_verdict(study, _FakeTradeoff((-0.2, -0.3, -0.1)))[STEER_KEYS[0]] == "spelling"
    # an interval across 0 accepts only "about the same" (not even the point estimate's side)
    across = _FakeTradeoff((0.03, -0.03, 0.08))
    for answer, ok in (("about the same", True), ("MiniLM", False), ("spelling", False)):
        result = X.check_steering_prediction({**STEER_RIGHT, STEER_KEYS[0]: answer}, study, across, quiet=True)
        assert result.passed is ok, answer
    # a clear gap: only its side
    result = X.check_steering_prediction({**STEER_RIGHT, STEER_KEYS[0]: "spelling"}, study, tradeoff, quiet=True)
    assert not result.passed and "measured 'MiniLM'" in result.message


def test_steering_prediction_reads_the_pooled_splits():
    """Against a real SteeringSplits (two-stage interval over half-splits): only the pooled answer."""
    from course_lib.identity import basis as Bm
    from test_identity_probes import steering_world

    names, stats, spaces = steering_world()
    named = {"MiniLM": spaces["strong"], "spelling": spaces["weak"]}
    study = Bm.steering_study(named, names, stats, starts=30, k=6)
    splits = Bm.steering_splits(named, names, stats, seeds=(0, 1, 2), starts=30, k=6,
                                ts=(0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0))
    verdict = X.steering_verdict(study, splits)[STEER_KEYS[0]]
    right = {STEER_KEYS[0]: verdict, STEER_KEYS[1]: X.steering_verdict(study, splits)[STEER_KEYS[1]]}
    assert X.check_steering_prediction(right, study, splits, quiet=True).passed
    for wrong in set(X.STEERING_ANSWERS[STEER_KEYS[0]]) - {verdict}:      # the subtle one included
        assert not X.check_steering_prediction({**right, STEER_KEYS[0]: wrong}, study, splits,
                                               quiet=True).passed, wrong


def test_steering_verdict_needs_a_reached_damage():
    with pytest.raises(ValueError, match="never reaches"):
        X.steering_verdict(_FakeStudy(), _FakeTradeoff((float("nan"),) * 3))


def test_steering_prediction_form_is_checked():
    assert not X.check_steering_prediction_form(dict.fromkeys(STEER_KEYS), quiet=True).passed
    assert not X.check_steering_prediction_form({**STEER_RIGHT, STEER_KEYS[0]: "minilm"}, quiet=True).passed
    assert not X.check_steering_prediction_form({**STEER_RIGHT, "younger": "MiniLM"}, quiet=True).passed
    assert not X.check_steering_prediction_form("MiniLM", quiet=True).passed


# --------------------------------------------------------------------------- 3.4's prediction
from course_lib.identity.world_stats import JumpTest, PhaseOrder, own_rates_from_hits  # noqa: E402


def _hits(per_world):
    """kind → [(reached, total) per world] as own_rates_from_hits' input (reached people first)."""
    out = {}
    for kind, counts in per_world.items():
        v = np.concatenate([np.arange(n) < k for k, n in counts])
        g = np.concatenate([np.full(n, w) for w, (_, n) in enumerate(counts)])
        out[kind] = (v, g)
    return out


#: quick's measured counts per world (unique, compositional, nobody pairs): the compositional
#: worlds disagree (10 %, 2 %, 15 %), so the two-stage interval (2–17 %) contains chance (4.4 %),
#: while a Wilson interval over the 144 pooled people (5.4–14.9 %) would exclude it
QUICK = {"unique": [(12, 48), (13, 48), (13, 48)], "compositional": [(5, 48), (1, 48), (7, 48)],
         "nobody": [(8, 160), (7, 160), (6, 160)]}
#: five worlds that agree: 7–8 % compositional against 4 % chance, 20 % unique: between
AGREE = {"unique": [(19, 96)] * 5, "compositional": [(7, 96), (8, 96), (7, 96), (8, 96), (7, 96)],
         "nobody": [(16, 384)] * 5}


class _FakeWorldStudy:
    """Just what the world prediction needs: phase_order, own_rates and jump_test."""

    def __init__(self, share_interval=(0.76, 0.84), own=None, u_rise=(0.7, 0.8, 0.6), behaviour=(0.5, 0.6, 0.4),
                 interval=0.06):
        self.order = PhaseOrder("coarse", "unique", "unique", {0: (30, 48, 0.05), 1: (28, 48, 0.04)},
                                float(np.mean(share_interval)), tuple(share_interval), 0.05, (0.03, 0.07))
        self.start = PhaseOrder("coarse from step 0", "unique from step 0", "unique",
                                {0: (40, 48, 0.2), 1: (39, 48, 0.2)}, 0.82, (0.73, 0.9), 0.2, (0.13, 0.27))
        self.rates = own_rates_from_hits(_hits(own or AGREE))
        self.jump = JumpTest(len(u_rise), interval, np.array(u_rise), np.array(behaviour), np.zeros(len(u_rise)))

    def phase_order(self, a, b, kind):
        assert kind == "unique" and (a, b) in (("coarse", "unique"), ("coarse from step 0", "unique from step 0"))
        return self.order if a == "coarse" else self.start

    def own_rates(self, fit):
        assert fit == X.OWN_FIT == "nobody"       # the fair fit decides the key
        return self.rates

    def jump_test(self, kind):
        return self.jump


WORLD_KEYS = list(X.WORLD_ANSWERS)


def test_world_verdict_reads_the_measurements():
    assert X.world_verdict(_FakeWorldStudy()) == dict(zip(WORLD_KEYS, ("coarse", "between chance and the unique half", "smoothly")))
    # "coarse" / "unique" need most people (over three quarters) either way; a small majority whose
    # interval clears ½ is still "neither" (quick's interval sits on ½: its verdict would hang on the CPU)
    assert X.world_verdict(_FakeWorldStudy(share_interval=(0.507, 0.674)))[WORLD_KEYS[0]] == "neither"
    assert X.world_verdict(_FakeWorldStudy(share_interval=(0.45, 0.75)))[WORLD_KEYS[0]] == "neither"
    assert X.world_verdict(_FakeWorldStudy(share_interval=(0.72, 0.76)))[WORLD_KEYS[0]] == "neither"
    assert X.world_verdict(_FakeWorldStudy(share_interval=(0.1, 0.3)))[WORLD_KEYS[0]] == "unique"
    assert X.world_verdict(_FakeWorldStudy(share_interval=(0.2, 0.32)))[WORLD_KEYS[0]] == "neither"
    # quick's counts: the pooled Wilson interval excludes chance, the worlds-then-people one does not
    assert X.world_verdict(_FakeWorldStudy(own=QUICK))[WORLD_KEYS[1]] == "not distinguishable from chance"
    rates = own_rates_from_hits(_hits(QUICK))
    lo, hi = rates.intervals["compositional"]
    assert lo <= rates.rate("nobody") <= hi < rates.rate("unique")
    # intervals that contain the unique half's rate, or lie above it: as often as the unique half
    overlap = {**AGREE, "compositional": [(17, 96), (19, 96), (18, 96), (20, 96), (18, 96)]}
    assert X.world_verdict(_FakeWorldStudy(own=overlap))[WORLD_KEYS[1]] == "as often as the unique half"
    above = {**AGREE, "compositional": [(40, 96)] * 5}
    assert X.world_verdict(_FakeWorldStudy(own=above))[WORLD_KEYS[1]] == "as often as the unique half"
    # fast rises, but no faster than the behaviour they mark: still smooth; fast and faster: a jump
    assert X.world_verdict(_FakeWorldStudy(u_rise=(0.1, 0.1, 0.1), behaviour=(0.1, 0.1, 0.1)))[WORLD_KEYS[2]] == "smoothly"
    assert X.world_verdict(_FakeWorldStudy(u_rise=(0.1, 0.1, 0.1), behaviour=(0.5, 0.5, 0.5)))[WORLD_KEYS[2]] == "in a jump"


def test_world_prediction_right_passes_and_wrong_fails_with_the_measurement():
    study = _FakeWorldStudy()
    right = dict(zip(WORLD_KEYS, ("coarse", "between chance and the unique half", "smoothly")))
    assert X.check_world_prediction_form(right, quiet=True).passed
    assert X.check_world_prediction(right, study, quiet=True).passed
    for key, wrong in ((WORLD_KEYS[0], "neither"), (WORLD_KEYS[1], "as often as the unique half"),
                       (WORLD_KEYS[1], "not distinguishable from chance"), (WORLD_KEYS[2], "in a jump")):
        result = X.check_world_prediction({**right, key: wrong}, study, quiet=True)
        assert not result.passed and "measured" in result.message, (key, result)
    result = X.check_world_prediction({**right, WORLD_KEYS[1]: "as often as the unique half"}, study, quiet=True)
    assert "37/480" in result.message and "80/1920" in result.message and "two-stage" in result.message


def test_world_prediction_rejects_coarse_for_a_small_majority():
    """The subtle wrong answer to the first question: "coarse" because the interval of the share
    clears ½. Coarse first for 59 % of people is not coarse first for most of them."""
    study = _FakeWorldStudy(share_interval=(0.507, 0.674))
    right = dict(zip(WORLD_KEYS, ("neither", "between chance and the unique half", "smoothly")))
    assert X.check_world_prediction(right, study, quiet=True).passed
    result = X.check_world_prediction({**right, WORLD_KEYS[0]: "coarse"}, study, quiet=True)
    assert not result.passed and "59%" in result.message and "75%" in result.message, result
    # the message names the other zero, whose answer would be "coarse": the lead is the name's
    assert "untrained model" in result.message and "82%" in result.message, result


def test_world_prediction_rejects_the_pooled_wilson_answer():
    """The subtle wrong answer: reading the compositional half's rate with a Wilson interval over
    the pooled people (as if 144 people of three worlds were independent) says "between"; with
    worlds as the unit (two-stage bootstrap) quick's counts are "not distinguishable from chance"."""
    from course_lib.stats import wilson_interval

    study = _FakeWorldStudy(own=QUICK)
    k, n = study.rates.counts["compositional"]
    assert wilson_interval(k, n)[0] > study.rates.rate("nobody")      # the pooled answer
    right = dict(zip(WORLD_KEYS, ("coarse", "not distinguishable from chance", "smoothly")))
    assert X.check_world_prediction(right, study, quiet=True).passed
    wrong = {**right, WORLD_KEYS[1]: "between chance and the unique half"}
    result = X.check_world_prediction(wrong, study, quiet=True)
    assert not result.passed and "13/144" in result.message


def test_world_prediction_form_is_checked():
    right = dict(zip(WORLD_KEYS, ("coarse", "between chance and the unique half", "smoothly")))
    assert not X.check_world_prediction_form(dict.fromkeys(WORLD_KEYS), quiet=True).passed          # the stub
    assert not X.check_world_prediction_form({**right, WORLD_KEYS[0]: "Coarse"}, quiet=True).passed  # not an answer
    assert not X.check_world_prediction_form({**right, WORLD_KEYS[2]: True}, quiet=True).passed
    missing = dict(right)
    del missing[WORLD_KEYS[1]]
    assert not X.check_world_prediction_form(missing, quiet=True).passed
    assert not X.check_world_prediction_form({**right, "grokking": "yes"}, quiet=True).passed


# --------------------------------------------------------------------------- 3.4's fame-order prediction
def test_fame_sign_rule():
    assert X.fame_sign(-0.5, 96) == "negative" and X.fame_sign(0.5, 96) == "positive"
    assert X.fame_sign(-0.19, 96) == "about zero"          # 2/√96 = 0.204
    assert X.fame_sign(-0.21, 96) == "negative"
    assert X.fame_sign(-0.21, 400) == "negative" and X.fame_sign(-0.09, 400) == "about zero"
    with pytest.raises(ValueError, match="n"):
        X.fame_sign(0.1, 2)


def test_fame_prediction_checked_with_the_course_answer():
    fame = np.array([8.0, 4.0, 2.0, 1.0, 0.5, 0.3, 0.2, 0.1])
    early = X._FakeRun(fame, [10, 20, 40, 80, 160, 320, np.nan, np.nan])     # famous first: ρ = −1
    late = X._FakeRun(fame, [320, 160, 80, 40, 20, 10, 5, 4])               # famous last: ρ = +1
    runs = {"SGD": early, "AdamW": late}
    right = {"SGD": "negative", "AdamW": "positive"}
    assert X.check_fame_prediction_form(right, quiet=True).passed
    assert X.check_fame_prediction(right, runs, quiet=True).passed
    wrong = X.check_fame_prediction({**right, "AdamW": "negative"}, runs, quiet=True)
    assert not wrong.passed and "measured" in wrong.message
    assert not X.check_fame_prediction_form({"SGD": None, "AdamW": None}, quiet=True).passed     # the stub
    assert not X.check_fame_prediction_form({"SGD": "Negative", "AdamW": "negative"}, quiet=True).passed
    with pytest.raises(ValueError, match="runs"):
        X.check_fame_prediction(right, {"SGD": early}, quiet=True)


# --------------------------------------------------------------------------- directions for 90 % (3.2)
def test_k90_prediction_is_checked_against_the_measurement():
    assert X.k90_verdict(3) == X.k90_verdict(24) == "under 25"
    assert X.k90_verdict(25) == X.k90_verdict(99) == "25-99"
    assert X.k90_verdict(100) == X.k90_verdict(140) == "100 or more"
    # round f's case: 119 measured (quick). On a linear scale 119 is nearer 50 than 200; the ranges
    # leave no such doubt.
    assert X.k90_verdict(119) == "100 or more"
    assert X.check_k90_prediction({"directions_for_90": "100 or more"}, 119, 384, quiet=True).passed
    result = X.check_k90_prediction({"directions_for_90": "25-99"}, 119, 384, quiet=True)
    assert not result.passed and "119" in result.message
    assert not X.check_k90_prediction({"directions_for_90": 200}, 140, 384, quiet=True).passed      # old choice
    assert not X.check_k90_prediction_form({"directions_for_90": None}, quiet=True).passed          # the stub
    assert not X.check_k90_prediction_form({"directions_for_90": "25-99", "k": 1}, quiet=True).passed
    with pytest.raises(ValueError):
        X.k90_verdict(0)
    with pytest.raises(TypeError):
        X.k90_verdict(119.5)


def test_name_exceptions_accepts_the_unique_half_only():
    """Only the unique half can defy its name (3.4): an answer restricted to it is right, also
    on the checker's edited worlds; leaving out unique people is still wrong."""
    def unique_only(world, question):
        out = X.solution_name_exceptions(world, question)
        return out[~world.compositional[out]]

    assert X.check_name_exceptions(unique_only, quiet=True).passed

    def compositional_only(world, question):
        out = X.solution_name_exceptions(world, question)
        return out[world.compositional[out]]

    def all_but_first(world, question):
        return X.solution_name_exceptions(world, question)[1:]

    for wrong in (compositional_only, all_but_first):
        assert not X.check_name_exceptions(wrong, quiet=True).passed, wrong.__name__


def test_name_exception_worlds_keep_the_compositional_half_on_its_names():
    # every case's world: no compositional person defies the name's likeliest answer
    w = X._small_world()
    X._marys(w)
    for world in (w, X._small_world(), X._small_world(region_strength=0.6)):
        for question in ("sex", "age", "region"):
            out = X.solution_name_exceptions(world, question)
            assert not world.compositional[out].any(), (question, out)
