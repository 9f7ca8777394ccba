"""The mechanism shared by every exercise check."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["CheckResult", "not_implemented", "run_check"]


@dataclass(frozen=True)
class CheckResult:
    """How an exercise check went: truthy if the answer passed.

    A check has already printed its verdict (and the hint), so in a notebook
    the result itself shows nothing: a cell ending in ``check_x(stub)`` shows
    the hint and no ``Out[ ]: False``. In a solution, ``assert check_x(f)``
    still works, since the result is truthy exactly when the answer passed.

    Attributes:
        title: The exercise, as named in the lesson.
        passed: True if the answer passed.
        attempted: False for a stub that still raises ``NotImplementedError``.
        message: The line the check printed.
    """

    title: str
    passed: bool
    attempted: bool
    message: str

    def __bool__(self) -> bool:
        return self.passed

    def _ipython_display_(self) -> None:
        """Display nothing: the check printed its message already.

        IPython calls this instead of computing a ``text/plain`` repr (the
        display protocol's "object displays itself" hook), so no
        ``execute_result`` (no ``Out[ ]``) is produced.
        """

    def __repr__(self) -> str:
        verdict = "passed" if self.passed else "not yet"
        return f"<CheckResult {self.title!r}: {verdict}>"


def run_check(title: str, hint: str, test: Callable[[], None]) -> CheckResult:
    """Run ``test`` and tell the learner how it went.

    Args:
        title: The exercise, as named in the lesson.
        hint: What to try; shown unless the answer passes. It guides, it
            never spells out the answer.
        test: Calls the learner's code and asserts real properties of the
            result; raises ``NotImplementedError`` for an untouched stub and
            ``AssertionError`` (with a message) for a wrong answer.

    Returns:
        A :class:`CheckResult`, truthy if the answer passes.
    """
    try:
        test()
    except NotImplementedError:
        message = f"{title}: not attempted yet. Hint: {hint}"
        print(message)
        return CheckResult(title, passed=False, attempted=False, message=message)
    except AssertionError as error:
        message = f"{title}: not yet. {error} Hint: {hint}"
        print(message)
        return CheckResult(title, passed=False, attempted=True, message=message)
    message = f"{title}: correct!"
    print(message)
    return CheckResult(title, passed=True, attempted=True, message=message)


def not_implemented() -> None:
    """Raise NotImplementedError with the course's stub message."""
    raise NotImplementedError("replace this line with your answer")
