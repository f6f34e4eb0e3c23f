"""The Python API walkthrough of docs/user-guide.md, executed cell by cell as written."""

import re
from pathlib import Path

import numpy as np
import pytest

from linksim import api

ROOT = Path(__file__).resolve().parents[2]


def _cells() -> list[str]:
    text = (ROOT / "docs" / "user-guide.md").read_text()
    section = text[text.index("## Python API"):]
    section = section[:section.index("\n## ", 1)]
    return re.findall(r"^```python\n(.*?)^```", section, re.S | re.M)


def test_walkthrough_runs_as_written(tmp_path, monkeypatch):
    (tmp_path / "scenarios").symlink_to(ROOT / "scenarios")
    monkeypatch.chdir(tmp_path)
    cells = _cells()
    assert len(cells) == 5
    ns: dict = {}
    for cell in cells:
        exec(compile(cell, "user-guide.md", "exec"), ns)
    link, batch = ns["link"], ns["batch"]
    assert list(link.receivers) == ["ls", "lmmse", "nonidentical_dm"]
    # the shapes the walkthrough's comments state
    assert batch.x.shape == (8, 1, 1, 14, 72) and batch.y.shape == (8, 1, 8, 14, 72)
    assert batch.h.shape == (8, 1, 8, 1, 1, 14, 72)
    assert ns["dm"].samples.shape == (16, 8, 1, 8, 1, 1, 14, 72)
    # values, not just shapes: LMMSE beats LS on the batch; the receiver called by hand
    # gives the estimate the batch holds; the samples scatter around the point estimate
    assert batch.nmse_db("lmmse") < batch.nmse_db("ls") - 3
    np.testing.assert_allclose(ns["h_hat"].numpy(), batch.estimates["lmmse"].h_hat.numpy(), rtol=1e-5, atol=1e-6)
    mean = ns["dm"].samples.numpy().mean(0)
    h = batch.h.numpy()
    assert np.sum(np.abs(mean - h) ** 2) < np.sum(np.abs(batch.estimates["ls"].h_hat.numpy() - h) ** 2)
    # the run: a folder like `linksim run` writes, and its table
    result = ns["result"]
    assert result.path == Path("results/api-demo")
    assert {"metrics.csv", "meta.json", "scenario.yaml"} <= {p.name for p in result.path.iterdir()}
    rows = api.read_table(result.path, pandas=False)
    assert [(r["receiver"], r["ebno_db"]) for r in rows] == [
        (rx, v) for v in (0.0, 6.0) for rx in ("ls", "lmmse", "nonidentical_dm")]
    assert all(isinstance(r["bit_errors"], int) and r["batches"] == 2 for r in rows)


def test_link_run_reuses_the_built_link_and_writes_what_api_run_writes(tmp_path, monkeypatch):
    """``Link.run`` after ``Link.sample``: no second build, and metrics.csv byte-identical
    to ``api.run``'s (which builds its own link)."""
    from linksim import executors
    from linksim.links import registry as link_module

    sc = api.scenario(ROOT / "scenarios" / "quickstart.yaml", {
        "receivers": [{"name": "ls"}], "sweep.values": [0.0, 4.0], "sweep.max_batches": 1, "sweep.batch_size": 2,
        "runtime.xla": False})
    built = []
    build = link_module.build_link
    counting = lambda s: built.append(s.name) or build(s)  # noqa: E731
    monkeypatch.setattr(link_module, "build_link", counting)  # api.Link builds through the registry
    monkeypatch.setattr(executors, "build_link", counting)  # api.run through the executor
    link = api.Link(sc)
    link.sample(2, ebno_db=2.0, seed=3)
    mine = link.run(output=tmp_path / "link", pandas=False)
    assert len(built) == 1
    again = api.run(sc, output=tmp_path / "api", pandas=False)
    assert len(built) == 2
    assert (mine.path / "metrics.csv").read_text() == (again.path / "metrics.csv").read_text()
    assert len(mine.table) == 2


def test_table_is_a_dataframe_when_pandas_is_installed(tmp_path):
    pd = pytest.importorskip("pandas")
    (tmp_path / "metrics.csv").write_text("receiver,snr_db,nmse_db\nls,0.0,-3.5\nls,5.0,nan\n")
    table = api.read_table(tmp_path)
    assert isinstance(table, pd.DataFrame) and list(table["nmse_db"])[0] == -3.5
    rows = api.read_table(tmp_path, pandas=False)
    assert rows[0] == {"receiver": "ls", "snr_db": 0.0, "nmse_db": -3.5} and np.isnan(rows[1]["nmse_db"])


def test_api_errors_are_user_errors(tmp_path):
    from linksim.errors import UserError

    with pytest.raises(UserError, match="sweep.batch_size"):
        api.scenario(ROOT / "scenarios" / "quickstart.yaml", {"sweep.batch_size": 0})
    with pytest.raises(UserError, match="no metrics.csv"):
        api.read_table(tmp_path)
