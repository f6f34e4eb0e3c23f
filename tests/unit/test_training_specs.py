"""Every committed training spec (cpu and paper profiles) loads with its training program,
and each paper spec is the paper's profile of a cpu spec of the same data."""

from pathlib import Path

import pytest

from linksim.cli import _trainer

ROOT = Path(__file__).resolve().parents[2] / "scenarios" / "train"
SPECS = sorted(ROOT.rglob("*.yaml"))


@pytest.mark.parametrize("path", SPECS, ids=lambda p: str(p.relative_to(ROOT)))
def test_training_spec_loads(path):
    spec = _trainer(path).load_spec(path)
    assert spec.name, path


def test_card_b_paper_specs_mirror_the_cpu_specs():
    from linksim.training.narrowband import load_spec

    paper = sorted((ROOT / "moe_vb" / "paper").glob("*.yaml"))
    assert len(paper) == 9
    for p in paper:
        spec = load_spec(p)
        cpu = load_spec(ROOT / "moe_vb" / p.name.replace("_paper", "_cpu"))
        assert spec.network.profile == "paper" and cpu.network.profile == "cpu"
        assert spec.data == cpu.data and spec.diffusion == cpu.diffusion
        fit = sum(n - round(spec.data.validation * n) for n in spec.data.profiles.values())
        assert spec.training.steps == -(-400 * fit // 128) and spec.training.learning_rate == 1e-4  # 400 epochs
