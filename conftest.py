"""pytest configuration shared by the unit tests and nbval.

Environment variables set here reach the notebook kernels nbval starts.
"""

import os
from pathlib import Path

from recsys_helpers import environment

# Kernels and the code under test: quiet, deterministic (no progress bars, no
# TensorFlow C++ log lines, oneDNN off, a fixed PYTHONHASHSEED for the kernels:
# recsys_helpers.environment.QUIET_ENV), on the default data.
environment.apply(environment.QUIET_ENV)
os.environ["RECSYS_DATASET"] = "shop"  # stored outputs are of the default data
os.environ.pop("MPLBACKEND", None)  # inline figures, as the notebooks were saved

SHARED_DATA = Path(__file__).resolve().parent.parent / "shared" / "data"
if "RECSYS_DATA_DIR" not in os.environ and SHARED_DATA.is_dir():
    os.environ["RECSYS_DATA_DIR"] = str(SHARED_DATA)


def pytest_collectstart(collector):
    """Do not compare stderr of notebooks: TensorFlow logs there at import."""
    if getattr(collector, "path", None) and collector.path.suffix == ".ipynb":
        collector.skip_compare += ("stderr",)
