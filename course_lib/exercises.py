"""Exercise checkers that explain what is wrong.

A checker is a list of :class:`Case` s run against the reader's attempt by :func:`check`. Each case
raises ``AssertionError`` with a specific message when the attempt is wrong; the first failing case
is reported together with its hint. :func:`check` never raises because of the attempt — an
exception inside the reader's code is reported as a failed case, so a notebook keeps running.

Two wrong answers look right on every value, so checkers can also watch *how* an attempt computes:

* :func:`forbid` — while an attempt runs, the course's own implementation of the exercise (and any
  other function named) raises instead of answering, however the attempt reached it;
* :func:`prediction_form` / :func:`prediction_answer` — a prediction written down as a dict before
  an experiment runs: its form is checked where it is written, its answers against the measurement;
* :func:`assert_no_python_loop` — counts the Python lines an attempt executes on a small and a large
  input: a loop over samples runs more lines on more samples, vectorised code the same number.
  Lines, not seconds, so the verdict does not depend on how busy the machine is.

Convention in the notebooks (README, "The standard a chapter is held to"): the reader's stub is a
code cell tagged ``exercise`` that calls the checker; the reference solution is the next code cell,
tagged ``solution`` and ``hide-input``, defining the same names. Checkers' tests against subtle wrong
answers live in ``tests/``; hidden cells never assert anything about the reader's stub.
"""

from __future__ import annotations

import contextlib
import html
import importlib
import sys
import textwrap
import traceback
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Sequence

import numpy as np


#: Marks drawn from fonts every system has (DejaVu, Liberation), unlike emoji: on a machine without
#: an emoji font "✅" renders as an empty box.
PASS_MARK = "\u2713"  # ✓ CHECK MARK
FAIL_MARK = "\u2717"  # ✗ BALLOT X


#: Printed lines are wrapped to this many characters: the book shows about 81-88 characters of a
#: cell's output before cutting it off (and a narrow notebook window fewer).
MESSAGE_WIDTH = 88


def wrap_message(text: str, *, indent: str = "  ", width: int = MESSAGE_WIDTH) -> str:
    """``text`` wrapped to ``width`` characters a line, later lines indented by ``indent``.

    A hanging indent keeps each message visibly one item. Line breaks already in ``text`` are kept
    (each piece is wrapped on its own); words are never split, so a long name or number stays whole.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a string, got {type(text).__name__}")
    if not isinstance(width, int) or width <= len(indent) + 10:
        raise ValueError(f"width must be an int larger than the indent + 10, got {width!r}")
    lines = []
    for i, piece in enumerate(text.split("\n")):
        lines.extend(textwrap.wrap(
            piece, width=width, initial_indent="" if i == 0 else indent, subsequent_indent=indent,
            break_long_words=False, break_on_hyphens=False,
        ) or [""])
    return "\n".join(lines)


NOT_IMPLEMENTED_HINT = "replace `raise NotImplementedError` with your code, then run the cell again"


@dataclass(frozen=True)
class Case:
    """One property the attempt must have. ``test(attempt)`` raises AssertionError if not."""

    description: str
    test: Callable[[Any], None]
    hint: str = ""


@dataclass(frozen=True)
class CheckResult:
    """The outcome of :func:`check`: ``passed`` and a human message."""

    name: str
    passed: bool
    message: str
    hint: str = ""
    n_passed: int = 0
    n_cases: int = 0

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        head = f"{PASS_MARK} " if self.passed else f"{FAIL_MARK} "
        text = wrap_message(f"{head}{self.name}: {self.message}", indent="  ")
        if self.hint and not self.passed:
            text += "\n" + wrap_message(f"   hint: {self.hint}", indent=" " * 9)
        return text

    def _repr_html_(self) -> str:
        color = "#1a7f37" if self.passed else "#b35900"
        hint = (
            f"<br><em>hint:</em> {html.escape(self.hint)}" if self.hint and not self.passed else ""
        )
        return (
            f'<div class="course-check" style="border-left:4px solid {color};padding:0.3em 0.8em">'
            f"<strong>{PASS_MARK if self.passed else FAIL_MARK} {html.escape(self.name)}</strong>: "
            f"{html.escape(self.message)}{hint}</div>"
        )


def check(name: str, attempt: Any, cases: Sequence[Case], *, quiet: bool = False) -> CheckResult:
    """Run ``cases`` against ``attempt``; stop at the first failure and report it with its hint.

    Prints the result unless ``quiet``; always returns a :class:`CheckResult`.
    """
    if not isinstance(name, str) or not name:
        raise ValueError("name must be a non-empty string")
    if not cases:
        raise ValueError("cases must not be empty")
    if not all(isinstance(c, Case) for c in cases):
        raise TypeError("cases must be a sequence of Case")
    if attempt is None:
        result = CheckResult(name, False, "no attempt given (got None)",
                             "define your function, then pass it in", 0, len(cases))
    else:
        result = _run_cases(name, attempt, cases)
    if not quiet:
        print(result)
    return result


def _run_cases(name: str, attempt: Any, cases: Sequence[Case]) -> CheckResult:
    """Run the cases in order; the first failure (assertion, not-implemented or crash) decides."""
    for i, case in enumerate(cases):
        try:
            case.test(attempt)
        except AssertionError as err:
            msg = str(err) or "assertion failed"
            return CheckResult(name, False, f"{case.description} — {msg}", case.hint, i, len(cases))
        except NotImplementedError:  # the untouched stub: a case's hint would answer the wrong question
            return CheckResult(name, False, "not implemented yet", NOT_IMPLEMENTED_HINT, i, len(cases))
        except Exception as err:  # the reader's code crashed: report, don't raise
            where = traceback.extract_tb(err.__traceback__)[-1]
            return CheckResult(
                name, False,
                f"{case.description} — your code raised {type(err).__name__}: {err} "
                f"(line {where.lineno}: {where.line})",
                case.hint, i, len(cases),
            )
    return CheckResult(name, True, f"all {len(cases)} checks passed", "", len(cases), len(cases))


# --------------------------------------------------------------------------- helpers for writing cases


def case(description: str, test: Callable[..., None], *args: Any, hint: str = "", **kwargs: Any) -> Case:
    """A :class:`Case` that runs ``test(attempt, *args, **kwargs)``: the one way to write a case.

    ``test`` is a plain module-level function whose first argument is the attempt; the rest are the
    case's data, so one test function serves every case that differs only in its inputs::

        def _midpoint_test(attempt, h1, h2): ...
        CASES = [case("350° and 10° meet at red", _midpoint_test, [350 / 360], [10 / 360],
                      hint="average the angles as unit vectors")]
    """
    if not callable(test):
        raise TypeError(f"test must be a function test(attempt, ...), got {type(test).__name__}")
    if not args and not kwargs:
        return Case(description, test, hint)
    return Case(description, lambda attempt: test(attempt, *args, **kwargs), hint)


def as_number(out: Any, what: str, *, finite: bool = False) -> float:
    """The attempt's answer ``out`` as one float, or AssertionError naming ``what``.

    Accepts a Python or numpy scalar, a 0-d array, or a one-element torch tensor; ``finite`` also
    rejects NaN and ±inf.
    """
    if hasattr(out, "numel") and hasattr(out, "detach"):  # a torch tensor, without importing torch
        assert out.numel() == 1, f"{what} must be one number, got a tensor of shape {tuple(out.shape)}"
        value = float(out.detach())
    else:
        assert np.ndim(out) == 0, f"{what} must be one number, got shape {np.shape(out)}"
        value = float(out)
    if finite:
        assert np.isfinite(value), f"{what} is {value}"
    return value


def _shown(x: np.ndarray) -> str:
    return f"{float(x):.6g}" if x.ndim == 0 else str(np.round(x, 4))


def assert_close(got: Any, want: Any, what: str, *, atol: float = 1e-6, rtol: float = 1e-6) -> None:
    """AssertionError naming ``what`` unless ``got`` has ``want``'s shape, is finite and matches it
    within ``|got − want| ≤ atol + rtol·|want|`` everywhere (numbers, arrays or tensors)."""
    got = np.asarray(got.detach().cpu() if hasattr(got, "detach") else got, dtype=float)
    want = np.asarray(want.detach().cpu() if hasattr(want, "detach") else want, dtype=float)
    assert got.shape == want.shape, f"{what}: expected shape {want.shape}, got {got.shape}"
    assert np.all(np.isfinite(got)), f"{what}: got {_shown(got)}"
    assert np.allclose(got, want, atol=atol, rtol=rtol), f"{what}: expected {_shown(want)}, got {_shown(got)}"


# --------------------------------------------------------------------------- how an attempt computes


def _raiser_code(label: str) -> Any:
    """The code object of a function that refuses to answer, naming ``label``."""
    namespace: dict[str, Any] = {}
    message = f"your function calls {label} — the exercise is to write it yourself (numpy/torch operations are fine)"
    exec(f"def _refused(*args, **kwargs):\n    raise AssertionError({message!r})\n", namespace)
    return namespace["_refused"].__code__


def _resolve(target: Any) -> tuple[Callable, str]:
    """A function, or its ``"module:qualname"`` path → (the function, how to name it).

    Fails loudly: a path that does not lead to a function, or a function whose code cannot be
    swapped (a builtin, a closure), raises — a checker that silently forbade nothing would let the
    course's own implementation answer for the reader.
    """
    if isinstance(target, str):
        module_name, _, qualname = target.rpartition(":")
        if not module_name or not qualname:
            raise ValueError(f"forbid: paths must look like 'package.module:function', got {target!r}")
        try:
            obj: Any = importlib.import_module(module_name)
        except ImportError as err:
            raise LookupError(f"forbid: cannot import module {module_name!r} of {target!r}: {err}") from err
        for part in qualname.split("."):
            try:
                obj = getattr(obj, part)
            except AttributeError:
                raise LookupError(f"forbid: {target!r} does not resolve: {module_name} has no "
                                  f"{qualname!r} (was it renamed or moved?)") from None
    else:
        obj = target
        module_name = getattr(obj, "__module__", None) or ""
        qualname = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", repr(obj))
    obj = getattr(obj, "__func__", obj)  # a bound method or classmethod: its function
    if not (callable(obj) and hasattr(obj, "__code__")):
        raise TypeError(f"forbid: {target!r} is not a Python function (got {type(obj).__name__}); "
                        "only functions written in Python can be forbidden")
    if obj.__code__.co_freevars:
        raise TypeError(f"forbid: {target!r} is a closure; its code cannot be swapped")
    mine = module_name.split(".")[0] == __name__.split(".")[0]
    label = f"the course's own {qualname.split('.')[-1]}" if mine else f"{module_name}.{qualname}"
    return obj, label


@contextlib.contextmanager
def forbid(targets: Iterable[Callable | str]) -> Iterator[None]:
    """While inside, each of ``targets`` raises when called.

    A target is a Python function (or method) object, or its path ``"package.module:qualname"``
    (imported only when the checker runs: handy for a module that would import the checker back).
    A path that does not resolve raises :class:`LookupError` at once, naming it.

    The functions' code objects are swapped, so every route to them is caught: the module
    attribute, a name imported earlier with ``from … import``, a bound method, a helper that calls
    them. Everything is restored on exit, whatever happened.
    """
    if isinstance(targets, str) or callable(targets):
        raise TypeError("forbid takes a collection of functions or 'module:function' paths, not one")
    found = [_resolve(t) for t in targets]
    saved = [(func, func.__code__) for func, _ in found]
    try:
        for func, label in found:
            func.__code__ = _raiser_code(label)
        yield
    finally:
        for func, code in saved:
            func.__code__ = code


def lines_run(attempt: Callable, *args: Any) -> tuple[Any, int]:
    """``attempt(*args)`` and the number of Python lines it executed (``sys.settrace``).

    The previous trace function (a debugger, coverage) is restored afterwards.
    """
    lines = 0

    def on_line(frame: Any, event: str, arg: Any) -> Any:
        nonlocal lines
        if event == "line":
            lines += 1
        return on_line

    previous = sys.gettrace()
    sys.settrace(lambda frame, event, arg: on_line)
    try:
        out = attempt(*args)
    finally:
        sys.settrace(previous)
    return out, lines


#: Defaults of :func:`assert_no_python_loop`: sizes of the two inputs and the allowed line difference.
LOOP_SMALL, LOOP_LARGE, LOOP_SLACK = 20, 2000, 300


def assert_no_python_loop(
    attempt: Callable,
    make_args: Callable[[int], tuple],
    *,
    small: int = LOOP_SMALL,
    large: int = LOOP_LARGE,
    slack: int = LOOP_SLACK,
    what: str = "samples",
) -> None:
    """Fail (AssertionError) if ``attempt`` loops over its ``what`` in Python.

    ``make_args(n)`` builds the attempt's arguments for ``n`` samples. A per-sample loop runs at
    least ``large − small`` more lines on ``large`` samples than on ``small``; vectorised code runs
    the same lines whatever the size, so a difference under ``slack`` passes.
    """
    if not 0 < small < large or not 0 < slack < large - small:
        raise ValueError(f"need 0 < small < large and 0 < slack < large - small; got {small}, {large}, {slack}")
    _, few = lines_run(attempt, *make_args(small))
    _, many = lines_run(attempt, *make_args(large))
    assert many - few < slack, (
        f"your code ran {few} Python lines on {small} {what} but {many} on {large}: it loops over the "
        f"{what} in Python (a for loop, a comprehension, np.vectorize or a key= function)"
    )


# --------------------------------------------------------------------------- written-down predictions
def _prediction_form(prediction: Any, answers: dict) -> None:
    from collections.abc import Mapping
    assert isinstance(prediction, Mapping), f"the prediction must be a dict, got {type(prediction).__name__}"
    missing = [k for k in answers if prediction.get(k) is None]
    assert not missing, f"no prediction yet for {missing}: replace each None with your answer"
    extra = sorted(set(map(str, prediction)) - set(answers))
    assert not extra, f"unexpected keys {extra}: the dict has exactly {list(answers)}"
    for key, allowed in answers.items():
        value = prediction[key]
        same_type = any(type(value) is type(a) or (isinstance(a, bool) and isinstance(value, np.bool_))
                        for a in allowed)
        assert same_type and value in allowed, f"prediction[{key!r}] must be one of {list(allowed)}, got {value!r}"


def prediction_form(answers: dict, *, hint: str = "") -> Case:
    """The case that checks a written-down prediction: a dict with exactly the keys of ``answers``,
    each set to one of its allowed values (``True`` is not ``1``). Share it between the cell where
    the prediction is written and the check against the measurement."""
    allowed = "; ".join(f"{k}: one of {list(v)}" for k, v in answers.items())
    return case("a well-formed prediction", _prediction_form, dict(answers), hint=hint or allowed)


def _prediction_answer(prediction: Any, key: str, measured: Any, detail: str) -> None:
    assert prediction[key] == measured, f"you predicted {prediction[key]!r}; measured {measured!r} ({detail})"


def prediction_answer(description: str, key: str, measured: Any, detail: str, *, hint: str = "") -> Case:
    """The case that compares ``prediction[key]`` with what was ``measured``. A wrong prediction is a
    result, not an error: the message says what the measurement was (``detail``)."""
    return case(description, _prediction_answer, key, measured, detail, hint=hint)
