"""Shared fixtures: every test starts from a fixed seed and writes results to tmp."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", os.environ.get("CUDA_VISIBLE_DEVICES", ""))
if os.environ.get("PYTEST_XDIST_WORKER_COUNT"):
    # pytest -n N: each worker gets its share of the cores for TensorFlow's and BLAS's
    # thread pools (read when TensorFlow and NumPy load, so before any import below), so
    # that N workers do not run N x cores threads; subprocesses of a test inherit it.
    _share = str(max(1, (os.cpu_count() or 1) // int(os.environ["PYTEST_XDIST_WORKER_COUNT"])))
    for _var in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                 "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, _share)

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"


@pytest.fixture(autouse=True)
def seeded():
    """Seed Sionna's (and so TensorFlow's and NumPy's) generators for every test."""
    from sionna.phy import config

    config.seed = 1234
    config.precision = "single"
    yield


@pytest.fixture
def scenario_path():
    """Path of a shipped scenario by name."""
    return lambda name: SCENARIOS / f"{name}.yaml"


def _saved_points(run_dir: Path) -> int:
    """Points whose sums are in ``run_dir/meta.json``. A point is saved once meta.json holds
    it; its metrics.csv rows are written just before, so a kill can land between the two."""
    import json

    try:
        return len(json.loads((Path(run_dir) / "meta.json").read_text()).get("points", []))
    except (OSError, ValueError):
        return 0


@pytest.fixture
def saved_points():
    """Number of points saved in a run folder's meta.json (0 while it is missing or partial)."""
    return _saved_points
