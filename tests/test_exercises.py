import pytest

from course_lib.exercises import PASS_MARK, Case, CheckResult, check


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

    assert "not implemented" in check("square", attempt, CASES, quiet=True).message
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
