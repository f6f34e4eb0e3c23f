"""The narrowband pilot link of Card B through linksim's link block (small arrays)."""

import pytest

from linksim.errors import UserError
from linksim.metrics import Accumulator
from linksim.scenario import load_scenario
from linksim.links.registry import build_link

SMALL = ["narrowband.num_tx=16", "narrowband.num_rx=2", "narrowband.streams=2", "narrowband.profiles=[A, D]",
         "narrowband.training_samples={A: 2000, D: 2000}",
         "receivers=[{name: perfect}, {name: ls}, {name: lmmse_pooled}, {name: lmmse_genie}]"]


def _values(scenario_path, snr_db, overrides, batches=4, batch_size=64):
    s = load_scenario(scenario_path("moe_vb_balanced"), SMALL + overrides)
    link = build_link(s)
    accs = {}
    for _ in range(batches):
        for label, st in link.run_batch(batch_size, link.noise_variance("snr_db", snr_db)).items():
            accs.setdefault(label, Accumulator()).add(st)
    return {label: acc.values(None) for label, acc in accs.items()}


def test_estimators_order_and_calibration(scenario_path, profile="D"):
    """On the same realisations: the genie LMMSE beats the pooled one, which beats
    regularised LS; the genie's posterior variance is calibrated; the spectral efficiency
    follows the estimate quality and stays below perfect CSI."""
    v = _values(scenario_path, 10.0, [f"narrowband.test_profile={profile}"])
    assert v["lmmse_genie"]["nmse_db_hi"] < v["lmmse_pooled"]["nmse_db_lo"]
    assert v["lmmse_pooled"]["nmse_db_hi"] < v["ls"]["nmse_db_lo"]
    assert 0.8 < v["lmmse_genie"]["err_var_ratio"] < 1.25
    assert 0.75 < v["ls"]["err_var_ratio"] < 1.33         # measured on calibration channels of both profiles
    assert v["perfect"]["se"] > v["lmmse_genie"]["se"] > v["ls"]["se"]


def test_more_pilots_help(scenario_path):
    few = _values(scenario_path, 10.0, ["narrowband.test_profile=A", "narrowband.pilot_density=0.25"], batches=2)
    many = _values(scenario_path, 10.0, ["narrowband.test_profile=A", "narrowband.pilot_density=1.0"], batches=2)
    for rx in ("ls", "lmmse_genie"):
        assert many[rx]["nmse_db_hi"] < few[rx]["nmse_db_lo"]


def test_bad_narrowband_input_names_the_field(scenario_path):
    with pytest.raises(UserError) as err:
        load_scenario(scenario_path("moe_vb_balanced"), ["metrics=[ber]"])
    assert err.value.field == "metrics" and "nmse" in err.value.message
    with pytest.raises(UserError) as err:
        load_scenario(scenario_path("moe_vb_balanced"), ["narrowband.training_samples={E: 1000}"])
    assert "narrowband.training_samples.E" in err.value.field
    with pytest.raises(UserError) as err:
        load_scenario(scenario_path("moe_vb_balanced"), ["receivers=[{name: lmse}]"])
    assert "lmmse" in err.value.message and err.value.field == "receivers[0].name"
