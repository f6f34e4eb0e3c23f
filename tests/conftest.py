"""Shared fixtures: every test starts from a fixed seed and writes results to tmp."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", os.environ.get("CUDA_VISIBLE_DEVICES", ""))

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
