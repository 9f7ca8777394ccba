"""Unit tests of recsys_helpers.exercises._core.run_check."""

import pytest

from recsys_helpers.exercises._core import not_implemented, run_check


def _stub():
    not_implemented()


def _wrong():
    assert 1 + 1 == 3, "1 + 1 should be 2, got 3."


def _right():
    assert 1 + 1 == 2


def test_stub_prints_the_hint(capsys):
    assert run_check("Exercise 1", "add the two numbers", _stub) is False
    out = capsys.readouterr().out
    assert out == "Exercise 1: not attempted yet. Hint: add the two numbers\n"


def test_wrong_answer_prints_the_message_and_hint(capsys):
    assert run_check("Exercise 2", "check the sum", _wrong) is False
    out = capsys.readouterr().out
    assert out.startswith("Exercise 2: not yet. ")
    assert "1 + 1 should be 2, got 3." in out
    assert out.rstrip().endswith("Hint: check the sum")


def test_right_answer_passes(capsys):
    assert run_check("Exercise 3", "never shown", _right) is True
    out = capsys.readouterr().out
    assert out == "Exercise 3: correct!\n"
    assert "never shown" not in out


def test_other_errors_are_not_swallowed():
    def broken():
        raise ZeroDivisionError("bug in the learner's code")

    with pytest.raises(ZeroDivisionError):
        run_check("Exercise 4", "hint", broken)


def test_not_implemented_message():
    with pytest.raises(NotImplementedError, match="replace this line"):
        not_implemented()


def test_test_is_called_once():
    calls = []
    assert run_check("Exercise 5", "hint", lambda: calls.append(1)) is True
    assert calls == [1]
