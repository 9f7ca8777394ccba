"""Progress bars for a person, silence for the tests.

Long steps (downloads, training loops, sweeps) wrap their loop in
:func:`progress`. In JupyterLab it shows a tqdm bar; when the environment
variable ``RECSYS_PROGRESS`` is ``"0"`` (set by the test configuration) it
returns the iterable untouched, so stored notebook outputs stay clean.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TypeVar

T = TypeVar("T")


def enabled() -> bool:
    """True unless ``RECSYS_PROGRESS=0``."""
    return os.environ.get("RECSYS_PROGRESS", "1").strip() != "0"


def progress(
    iterable: Iterable[T], desc: str | None = None, total: int | None = None
) -> Iterable[T]:
    """Wrap ``iterable`` in a tqdm.auto progress bar when progress is enabled."""
    if not enabled():
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, desc=desc, total=total, leave=False)
