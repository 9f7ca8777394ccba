"""Unit tests of recsys_helpers.progress: silent under tests, tqdm otherwise."""

import pytest
from tqdm import tqdm as tqdm_base

from recsys_helpers import progress as progress_module
from recsys_helpers.progress import enabled, progress


@pytest.mark.parametrize("value", ["0", " 0 "])
def test_disabled_returns_the_iterable_itself(monkeypatch, value):
    monkeypatch.setenv("RECSYS_PROGRESS", value)
    items = [1, 2, 3]
    assert enabled() is False
    assert progress(items, desc="training") is items
    gen = (i for i in range(3))
    assert progress(gen, total=3) is gen


@pytest.mark.parametrize("value", [None, "1", "yes"])
def test_enabled_wraps_in_tqdm(monkeypatch, value, capsys):
    if value is None:
        monkeypatch.delenv("RECSYS_PROGRESS", raising=False)
    else:
        monkeypatch.setenv("RECSYS_PROGRESS", value)
    assert enabled() is True
    bar = progress(range(4), desc="epochs", total=4)
    try:
        assert isinstance(bar, tqdm_base)
        assert bar.desc.startswith("epochs")
        assert bar.total == 4
        assert list(bar) == [0, 1, 2, 3]
    finally:
        bar.close()
    assert capsys.readouterr().out == ""  # bars go to stderr, never stdout


def test_tests_run_with_progress_off():
    # conftest.py sets RECSYS_PROGRESS=0 for every test and notebook kernel
    assert progress_module.enabled() is False
