"""The worked example of docs/add-a-receiver.md runs as documented."""

import csv
import sys
from pathlib import Path

from linksim import receivers
from linksim.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


def test_smoothed_ls_example_plugs_in(tmp_path, monkeypatch, scenario_path, capsys):
    monkeypatch.syspath_prepend(str(EXAMPLES))
    # the one registry line of the docs (here pointing at the docs copy of the file)
    monkeypatch.setitem(receivers.RECEIVERS, "smoothed_ls", "smoothed_ls:SmoothedLS")
    out = tmp_path / "run"
    code = main(["run", str(scenario_path("quickstart")), "--quick", "--no-progress", "--no-plot",
                 "--set", f"output={out}",
                 "--set", "receivers=[{name: ls}, {name: smoothed_ls, window: 5}]",
                 "--set", "metrics=[bler, nmse]"])
    assert code == 0
    rows = list(csv.DictReader(open(str(out) + "-quick/metrics.csv")))
    assert {r["receiver"] for r in rows} == {"ls", "smoothed_ls"}
    # smoothing the noisy comb-4 LS estimate lowers its NMSE at the low-SNR point
    low = [r for r in rows if float(r["ebno_db"]) == min(float(x["ebno_db"]) for x in rows)]
    nmse = {r["receiver"]: float(r["nmse_db"]) for r in low}
    assert nmse["smoothed_ls"] < nmse["ls"]
    # and its parameter is validated like any other
    code = main(["validate", str(scenario_path("quickstart")), "--set",
                 "receivers=[{name: smoothed_ls, window: 4}]"])
    assert code == 2
    assert "receivers[0].window: window must be odd" in capsys.readouterr().err
    sys.modules.pop("smoothed_ls", None)
