"""Exercise checkers that explain what is wrong.

A checker is a list of :class:`Case` s run against the reader's attempt by :func:`check`. Each case
raises ``AssertionError`` with a specific message when the attempt is wrong; the first failing case
is reported together with its hint. :func:`check` never raises because of the attempt — an
exception inside the reader's code is reported as a failed case, so a notebook keeps running.

Convention in the notebooks: the exercise cell holds a scaffold and calls the checker; the solution
sits in the next cell, collapsed (``hide-input`` in the book, ``source_hidden`` in Jupyter), and a
hidden cell asserts that the solution passes and a known-wrong answer fails.
"""

from __future__ import annotations

import html
import traceback
from dataclasses import dataclass
from typing import Any, Callable, Sequence


#: Marks drawn from fonts every system has (DejaVu, Liberation), unlike emoji: on a machine without
#: an emoji font "✅" renders as an empty box.
PASS_MARK = "\u2713"  # ✓ CHECK MARK
FAIL_MARK = "\u2717"  # ✗ BALLOT X


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
        text = f"{head}{self.name}: {self.message}"
        if self.hint and not self.passed:
            text += f"\n   hint: {self.hint}"
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
        except NotImplementedError:
            return CheckResult(name, False, "not implemented yet", case.hint, i, len(cases))
        except Exception as err:  # the reader's code crashed: report, don't raise
            where = traceback.extract_tb(err.__traceback__)[-1]
            return CheckResult(
                name, False,
                f"{case.description} — your code raised {type(err).__name__}: {err} "
                f"(line {where.lineno}: {where.line})",
                case.hint, i, len(cases),
            )
    return CheckResult(name, True, f"all {len(cases)} checks passed", "", len(cases), len(cases))
