"""Unit tests of recsys_helpers.exercises._core: run_check and CheckResult."""

import pytest

from recsys_helpers.exercises import CheckResult
from recsys_helpers.exercises._core import not_implemented, run_check


def _stub():
    not_implemented()


def _wrong():
    assert 1 + 1 == 3, "1 + 1 should be 2, got 3."


def _right():
    assert 1 + 1 == 2


def test_stub_prints_the_hint(capsys):
    result = run_check("Exercise 1", "add the two numbers", _stub)
    assert isinstance(result, CheckResult)
    assert not result
    assert not result.passed and not result.attempted
    out = capsys.readouterr().out
    assert out == "Exercise 1: not attempted yet. Hint: add the two numbers\n"
    assert result.message == out.rstrip("\n")


def test_wrong_answer_prints_the_message_and_hint(capsys):
    result = run_check("Exercise 2", "check the sum", _wrong)
    assert not result
    assert result.attempted and not result.passed
    out = capsys.readouterr().out
    assert out.startswith("Exercise 2: not yet. ")
    assert "1 + 1 should be 2, got 3." in out
    assert out.rstrip().endswith("Hint: check the sum")


def test_right_answer_passes(capsys):
    result = run_check("Exercise 3", "never shown", _right)
    assert result
    assert result.passed and result.attempted
    out = capsys.readouterr().out
    assert out == "Exercise 3: correct!\n"
    assert "never shown" not in out


def test_result_works_with_assert_and_not():
    assert run_check("E", "h", _right)
    assert not run_check("E", "h", _stub)
    assert bool(run_check("E", "h", _wrong)) is False
    assert "passed" in repr(run_check("E", "h", _right))


def test_result_displays_nothing_in_ipython():
    # IPython's display formatter is what turns a cell's last value into an
    # Out[] (an execute_result): an object with _ipython_display_ displays
    # itself, and ours displays nothing, so the formatter returns no data
    formatters = pytest.importorskip("IPython.core.formatters")
    formatter = formatters.DisplayFormatter()
    for test in (_stub, _wrong, _right):
        result = run_check("Exercise", "hint", test)
        assert formatter.format(result) == ({}, {})
    # a plain bool, for comparison, would show as Out[]: False
    assert formatter.format(False)[0] == {"text/plain": "False"}


def test_unattempted_cell_shows_the_hint_and_nothing_else():
    # end to end, in a real kernel: the cell's outputs are the printed hint
    # only, no execute_result ("Out[ ]: False")
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    source = (
        "from recsys_helpers.exercises._core import not_implemented, run_check\n"
        "run_check('Exercise 1', 'add the numbers', not_implemented)"
    )
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    outputs = notebook.cells[0].outputs
    assert [o["output_type"] for o in outputs] == ["stream"]
    assert outputs[0]["text"] == (
        "Exercise 1: not attempted yet. Hint: add the numbers\n"
    )


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
    assert run_check("Exercise 5", "hint", lambda: calls.append(1))
    assert calls == [1]
