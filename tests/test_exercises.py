import sys

import numpy as np
import pytest

import course_lib.color.metrics as metrics
from course_lib.color.metrics import winding_number as winding_alias
from course_lib.exercises import (PASS_MARK, Case, CheckResult, as_number, assert_close, assert_no_python_loop, case,
                                  check, forbid, lines_run)


def _is_square(f):
    assert f(3) == 9, f"square(3) should be 9, got {f(3)}"


def _handles_negative(f):
    assert f(-2) == 4, f"square(-2) should be 4, got {f(-2)}"


CASES = [Case("three", _is_square, "multiply x by itself"), Case("negative", _handles_negative, "no abs needed")]


def test_solution_passes(capsys):
    result = check("square", lambda x: x * x, CASES)
    assert result.passed and bool(result) and result.n_passed == 2
    assert PASS_MARK in capsys.readouterr().out


def test_wrong_answer_fails_with_message_and_hint():
    result = check("square", lambda x: x + x, CASES, quiet=True)
    assert not result.passed and result.n_passed == 0
    assert "square(3) should be 9, got 6" in result.message and result.hint == "multiply x by itself"
    result = check("square", lambda x: x * abs(x), CASES, quiet=True)
    assert not result.passed and result.n_passed == 1
    assert "square(-2) should be 4" in result.message
    assert result.hint == "no abs needed" and "hint" in str(result)


def test_crashing_attempt_is_reported_not_raised():
    def attempt(x):
        return x / 0

    result = check("square", attempt, CASES, quiet=True)
    assert not result.passed and "ZeroDivisionError" in result.message


def test_unimplemented_and_none():
    def attempt(x):
        raise NotImplementedError

    result = check("square", attempt, CASES, quiet=True)
    assert "not implemented" in result.message and "NotImplementedError" in result.hint
    assert "None" in check("square", None, CASES, quiet=True).message


def test_html_repr():
    html = check("square", lambda x: x * x, CASES, quiet=True)._repr_html_()
    assert "course-check" in html and "square" in html


def test_misuse_raises():
    with pytest.raises(ValueError, match="cases"):
        check("square", lambda x: x, [])
    with pytest.raises(TypeError, match="Case"):
        check("square", lambda x: x, [lambda f: None])
    with pytest.raises(ValueError, match="name"):
        check("", lambda x: x, CASES)
    assert isinstance(check("square", lambda x: x * x, CASES, quiet=True), CheckResult)


# --------------------------------------------------------------------------- how an attempt computes

def test_forbid_catches_every_route_and_restores():
    hue = np.linspace(0, 1, 12, endpoint=False)
    z = np.column_stack([np.cos(2 * np.pi * hue), np.sin(2 * np.pi * hue)])
    before = metrics.winding_number.__code__
    for target in ("course_lib.color.metrics:winding_number", metrics.winding_number):  # path or function
        with forbid([target]):
            for route in (metrics.winding_number, winding_alias):  # module attribute, earlier import
                with pytest.raises(AssertionError, match="course's own winding_number"):
                    route(hue, z)
        assert metrics.winding_number.__code__ is before and winding_alias(hue, z) == 1
    with pytest.raises(RuntimeError), forbid(["course_lib.color.metrics:winding_number"]):
        raise RuntimeError("the attempt crashed")
    assert winding_alias(hue, z) == 1  # restored after an exception too


def test_forbid_names_other_libraries_by_their_path():
    import matplotlib.colors

    with forbid(["matplotlib.colors:hsv_to_rgb"]):
        with pytest.raises(AssertionError, match="calls matplotlib.colors.hsv_to_rgb"):
            matplotlib.colors.hsv_to_rgb(np.zeros((1, 3)))


def test_forbid_rejects_bad_paths():
    with pytest.raises(TypeError, match="collection"):
        with forbid("course_lib.color.metrics:winding_number"):
            pass
    with pytest.raises(ValueError, match="module:function"):
        with forbid(["winding_number"]):
            pass


def test_forbid_fails_loudly_on_an_unresolvable_target():
    before = metrics.winding_number.__code__
    with pytest.raises(LookupError, match="'numpy:no_such_function' does not resolve"):
        with forbid(["course_lib.color.metrics:winding_number", "numpy:no_such_function"]):
            pass
    with pytest.raises(LookupError, match="cannot import module 'course_lib.no_such_module'"):
        with forbid(["course_lib.no_such_module:f"]):
            pass
    assert metrics.winding_number.__code__ is before  # nothing half-swapped
    with pytest.raises(TypeError, match="not a Python function"):
        with forbid([len]):
            pass

    def outer():
        x = 1
        return lambda: x

    with pytest.raises(TypeError, match="closure"):
        with forbid([outer()]):
            pass


def test_forbid_accepts_methods():
    from course_lib.color.model import L2Normalize

    import torch

    layer = L2Normalize()
    with forbid([L2Normalize.forward]):
        with pytest.raises(AssertionError, match="course's own forward"):
            layer(torch.ones(2, 2))
    assert torch.allclose(layer(torch.ones(1, 2)).norm(dim=-1), torch.ones(1))


def test_every_checker_forbids_only_functions_that_exist():
    """Each 'module:function' path named in an exercise module resolves (a stale one would be skipped
    by nobody now, but would crash the checker in a reader's notebook)."""
    import pathlib
    import re

    from course_lib.exercises import _resolve

    root = pathlib.Path(__file__).resolve().parents[1] / "course_lib"
    paths = {m for f in root.rglob("*exercises*.py") if f.name != "exercises.py" or f.parent != root
             for m in re.findall(r'"(course_lib[\w.]*:[\w.]+|matplotlib[\w.]*:[\w.]+)"', f.read_text())}
    assert len(paths) > 20
    for path in sorted(paths):
        _resolve(path)


def test_loop_check_tells_loops_from_vectorised_code():
    def vectorised(x):
        return np.cumsum(x * 2)

    def looped(x):
        return [v * 2 for v in x]

    make = lambda n: (np.arange(n, dtype=float),)  # noqa: E731
    assert_no_python_loop(vectorised, make)
    with pytest.raises(AssertionError, match="loops over the samples"):
        assert_no_python_loop(looped, make)
    with pytest.raises(ValueError):
        assert_no_python_loop(vectorised, make, small=10, large=5)
    tracer = sys.gettrace()
    out, lines = lines_run(looped, np.arange(3.0))
    assert out == [0.0, 2.0, 4.0] and lines >= 3 and sys.gettrace() is tracer


# --------------------------------------------------------------------------- helpers for writing cases

def test_as_number_takes_scalars_and_one_element_tensors():
    import torch

    assert as_number(np.float32(0.5), "x") == 0.5 and as_number(torch.tensor([2.0]), "x") == 2.0
    with pytest.raises(AssertionError, match="the loss must be one number, got shape"):
        as_number(np.ones(3), "the loss")
    with pytest.raises(AssertionError, match="must be one number, got a tensor of shape"):
        as_number(torch.ones(2), "the loss")
    assert np.isnan(as_number(float("nan"), "x"))
    with pytest.raises(AssertionError, match="the R² is nan"):
        as_number(float("nan"), "the R²", finite=True)


def test_assert_close_checks_shape_finiteness_and_value():
    assert_close([0.2, 0.6], np.array([0.2, 0.6 + 1e-9]), "radius")
    with pytest.raises(AssertionError, match="radius: expected shape"):
        assert_close([0.2], [0.2, 0.6], "radius")
    with pytest.raises(AssertionError, match="loss: got nan"):
        assert_close(float("nan"), 0.5, "loss")
    with pytest.raises(AssertionError, match="loss: expected 0.5, got 0.6"):
        assert_close(0.6, 0.5, "loss")
    assert_close(0.6, 0.5, "loss", atol=0.2)


def test_case_binds_the_data_to_one_test_function():
    def equals_square(attempt, x, *, offset=0):
        assert attempt(x) == x * x + offset, f"expected {x * x + offset}"

    cases = [case("two", equals_square, 2, hint="square it"), case("three", equals_square, 3),
             case("shifted", equals_square, 1, offset=0)]
    assert isinstance(cases[0], Case) and cases[0].hint == "square it" and cases[1].hint == ""
    assert check("square", lambda x: x * x, cases, quiet=True).passed
    wrong = check("square", lambda x: 2 * x, cases, quiet=True)
    assert not wrong.passed and wrong.n_passed == 1 and "three — expected 9" in wrong.message
    plain = case("plain", lambda attempt: None)
    assert plain.test is not None and check("plain", 1, [plain], quiet=True).passed
    with pytest.raises(TypeError, match="test must be a function"):
        case("broken", "not a function")


def test_a_written_down_prediction_is_checked_for_form_and_against_the_measurement():
    from course_lib.exercises import prediction_answer, prediction_form
    form = prediction_form({"direction": ("down", "up"), "same": (True, False)})
    ok = {"direction": "down", "same": False}
    assert check("p", ok, [form], quiet=True).passed
    for bad in ({"direction": "down", "same": None}, {"direction": "lower", "same": False},
                {"direction": "down", "same": 0}, {**ok, "extra": 1}, ["down", False]):
        result = check("p", bad, [form], quiet=True)
        assert not result.passed, bad
    assert "None" in check("p", {"direction": None, "same": False}, [form], quiet=True).message
    right = [form, prediction_answer("direction", "direction", "down", "measured: all lower")]
    assert check("p", ok, right, quiet=True).passed
    wrong = check("p", {**ok, "direction": "up"}, right, quiet=True)
    assert not wrong.passed and "measured: all lower" in wrong.message


def test_printed_messages_wrap_at_88_characters_with_a_hanging_indent(capsys):
    hint = ("replace `raise NotImplementedError` with your code, then run the cell again; compare "
            "your curve with the figure above and look at where the two first part ways")
    message = "midpoint_of_a_rather_long_name(0.25, 0.75) should be 0.5 " + "and so on " * 12

    def wrong(attempt):
        raise AssertionError(message)

    result = check("midpoint", lambda: None, [case("the midpoint", wrong, hint=hint)])
    printed = capsys.readouterr().out.rstrip("\n").split("\n")
    assert printed == str(result).split("\n")
    assert max(len(line) for line in printed) <= 88, printed
    hint_at = next(i for i, line in enumerate(printed) if line.startswith("   hint: "))
    assert hint_at >= 2  # the message itself took more than one line
    # continuation lines hang under their first line; no word is split
    assert all(line.startswith("  ") and not line.startswith("   hint") for line in printed[1:hint_at])
    assert all(line.startswith(" " * 9) for line in printed[hint_at + 1:])
    assert " ".join(line.strip() for line in printed[hint_at:]) == f"hint: {hint}"
    assert " ".join(line.strip() for line in printed[:hint_at]).endswith(message.strip())


def test_wrap_message_keeps_line_breaks_and_long_words():
    from course_lib.exercises import wrap_message

    long_word = "x" * 100
    assert wrap_message(f"short\n{long_word}") == f"short\n  {long_word}"
    assert wrap_message("a " * 60, indent="    ").split("\n")[1].startswith("    a")
    with pytest.raises(ValueError, match="width"):
        wrap_message("text", width=5)
    with pytest.raises(TypeError, match="text"):
        wrap_message(3)
