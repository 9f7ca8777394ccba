"""The mechanism shared by every exercise check."""

from __future__ import annotations

from collections.abc import Callable


def run_check(title: str, hint: str, test: Callable[[], None]) -> bool:
    """Run ``test`` and tell the learner how it went.

    Args:
        title: The exercise, as named in the lesson.
        hint: What to try; shown unless the answer passes.
        test: Calls the learner's code and asserts real properties of the
            result; raises ``NotImplementedError`` for an untouched stub and
            ``AssertionError`` (with a message) for a wrong answer.

    Returns:
        True if the answer passes.
    """
    try:
        test()
    except NotImplementedError:
        print(f"{title}: not attempted yet. Hint: {hint}")
        return False
    except AssertionError as error:
        print(f"{title}: not yet. {error} Hint: {hint}")
        return False
    print(f"{title}: correct!")
    return True


def not_implemented() -> None:
    """Raise NotImplementedError with the course's stub message."""
    raise NotImplementedError("replace this line with your answer")
