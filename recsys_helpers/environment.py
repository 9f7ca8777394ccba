"""The environment settings that make runs quiet and reproducible, in one place.

Tests (``conftest.py``), benchmarks, the notebook runner and the browser test
all apply :data:`QUIET_ENV`; the TensorFlow models apply
:data:`TENSORFLOW_ENV` before importing TensorFlow.

* ``RECSYS_PROGRESS=0``: no progress bars in stored outputs;
* ``TF_CPP_MIN_LOG_LEVEL=2``: no TensorFlow C++ log lines on stderr;
* ``TF_ENABLE_ONEDNN_OPTS=0``: oneDNN off, so TensorFlow's results agree
  across CPU types;
* ``PYTHONHASHSEED=0``: the same hash order in every kernel (it takes effect
  only in processes started after it is set).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping

__all__ = ["QUIET_ENV", "TENSORFLOW_ENV", "apply", "quiet_env"]

TENSORFLOW_ENV: Mapping[str, str] = {
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "TF_ENABLE_ONEDNN_OPTS": "0",
}

QUIET_ENV: Mapping[str, str] = {
    "RECSYS_PROGRESS": "0",
    "PYTHONHASHSEED": "0",
    **TENSORFLOW_ENV,
}


def apply(
    settings: Mapping[str, str] = QUIET_ENV,
    environ: MutableMapping[str, str] | None = None,
    override: bool = True,
) -> None:
    """Write ``settings`` into ``environ`` (default: this process's).

    Args:
        settings: Variable -> value.
        environ: The mapping to change; default ``os.environ``.
        override: Replace values already set (False: keep them, as
            ``os.environ.setdefault`` does).
    """
    target = os.environ if environ is None else environ
    for key, value in settings.items():
        if override or key not in target:
            target[key] = value


def quiet_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """A copy of ``os.environ`` with :data:`QUIET_ENV` (and ``extra``) applied.

    For a child process: extends the current environment rather than replacing
    it (a bare ``env={...}`` loses ``PATH`` and, on Windows, ``SYSTEMROOT``).
    """
    env = dict(os.environ)
    apply(QUIET_ENV, env)
    env.update(extra or {})
    return env
