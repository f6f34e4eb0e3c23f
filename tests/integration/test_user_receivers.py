"""A receiver (or stage) in the user's own module, named ``module:Class`` in a scenario,
runs in each link family that takes one, on the same realisations as linksim's own."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from linksim.errors import UserError
from linksim.links.registry import build_link
from linksim.metrics import Accumulator
from linksim.scenario import load_scenario

DOC = Path(__file__).resolve().parents[2] / "docs" / "add-a-receiver.md"

MODULE = '''
"""A user's receivers: each one changes a built-in receiver in one visible way."""
from linksim.narrowband.receivers.ls import RegularisedLS
from linksim.tdd.receivers.classical import HoldLast


class HalvedLS(RegularisedLS):
    """Regularised LS scaled by one half."""

    def estimate(self, y, op, no, genie=None):
        h_hat, err_var = super().estimate(y, op, no, genie)
        return 0.5 * h_hat, err_var


class MyHoldLast(HoldLast):
    """Hold-last, as the user's own class."""
'''


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    (tmp_path / "my_receivers.py").write_text(MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "my_receivers"
    sys.modules.pop("my_receivers", None)


def _values(link, snr_db, batches=2, batch_size=32):
    accs = {}
    for _ in range(batches):
        for label, st in link.run_batch(batch_size, link.noise_variance("snr_db", snr_db)).items():
            accs.setdefault(label, Accumulator()).add(st)
    return {label: acc.values(None) for label, acc in accs.items()}


def test_narrowband_link_runs_a_receiver_of_the_users_module(scenario_path, user_module):
    """The user's half-scaled LS sees the realisations ``ls`` sees: with a channel of unit
    power its NMSE is that of 0.5 H_ls, well above LS's at 20 dB."""
    s = load_scenario(scenario_path("moe_vb_balanced"), [
        "narrowband.num_tx=16", "narrowband.num_rx=2", "narrowband.streams=2", "narrowband.profiles=[A]",
        "narrowband.training_samples={A: 1000}", "narrowband.test_profile=A", "narrowband.pilot_density=2",
        f"receivers=[{{name: ls}}, {{name: '{user_module}:HalvedLS', label: halved}}]"])
    v = _values(build_link(s), 20.0)
    assert set(v) == {"ls", "halved"}
    assert v["ls"]["nmse_db"] < -15
    assert -7.0 < v["halved"]["nmse_db"] < -5.0  # |0.5 H - H|^2 / |H|^2 = 0.25 (-6.0 dB), plus LS's small error


def test_srs_precoding_link_runs_a_receiver_of_the_users_module(scenario_path, user_module):
    """The user's copy of hold-last gives hold-last's numbers on the same realisations."""
    s = load_scenario(scenario_path("srs_precoding_low"), [
        "srs_precoding.training_samples=256", "srs_precoding.num_prb=12", "srs_precoding.history=4",
        "srs_precoding.bs_rows=1", "srs_precoding.bs_cols=1",
        f"receivers=[{{name: srs_hold}}, {{name: '{user_module}:MyHoldLast', label: mine}}]"])
    v = _values(build_link(s), 10.0, batches=1)
    for metric in ("nmse_db", "se", "gcs"):
        assert v["mine"][metric] == v["srs_hold"][metric], metric


@pytest.fixture
def doc_module(tmp_path, monkeypatch):
    """docs/add-a-receiver.md's two-family example, as the user's ``my_receivers.py``."""
    code = re.search(r"<!-- two-families-example -->\s*```python\n(.*?)```", DOC.read_text(), re.S).group(1)
    (tmp_path / "my_receivers.py").write_text(code)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "my_receivers"
    sys.modules.pop("my_receivers", None)


def test_one_receiver_of_the_docs_runs_in_the_narrowband_link(scenario_path, doc_module):
    """At 5 dB with as many (random QPSK) pilots as antennas, LS's noise error exceeds the
    channel power (its pilot matrix is ill-conditioned: about +1.6 dB NMSE); shrinking it
    by the LMMSE gain of a unit-power channel, 1 / (1 + e), brings it to about e / (1 + e),
    near -2.3 dB, and the reported error variance is the real one."""
    s = load_scenario(scenario_path("moe_vb_balanced"), [
        "narrowband.num_tx=16", "narrowband.num_rx=2", "narrowband.streams=2", "narrowband.profiles=[A]",
        "narrowband.training_samples={A: 1000}", "narrowband.test_profile=A", "narrowband.pilot_density=1",
        f"receivers=[{{name: ls, regularisation: 1.0e-6}}, {{name: '{doc_module}:ShrunkLS', label: shrunk}}]"])
    v = _values(build_link(s), 5.0, batches=4)
    assert v["ls"]["nmse_db"] > 0.5, v["ls"]                       # plain LS: noise error above the channel power
    assert v["shrunk"]["nmse_db"] < v["ls"]["nmse_db"] - 3.0, v
    assert 0.7 < v["shrunk"]["err_var_ratio"] < 1.4, v["shrunk"]


def test_one_receiver_of_the_docs_runs_in_the_srs_precoding_link(scenario_path, doc_module):
    """The same class in the SRS link: shrinking hold-last lowers its NMSE at -5 dB."""
    s = load_scenario(scenario_path("srs_precoding_low"), [
        "srs_precoding.training_samples=256", "srs_precoding.num_prb=12", "srs_precoding.history=4",
        "srs_precoding.bs_rows=1", "srs_precoding.bs_cols=1",
        f"receivers=[{{name: srs_hold}}, {{name: '{doc_module}:ShrunkLS', label: shrunk}}]"])
    v = _values(build_link(s), -5.0, batches=2)
    assert v["shrunk"]["nmse_db"] < v["srs_hold"]["nmse_db"] - 1.0, v


def test_one_receiver_of_the_docs_runs_in_the_ofdm_link(scenario_path, doc_module):
    """The same class in the OFDM slot link (inside its compiled step): at 0 dB shrinking
    the interpolated LS estimate lowers its NMSE, and its error variance is calibrated."""
    s = load_scenario(scenario_path("quickstart"), [
        "runtime.xla=false", f"receivers=[{{name: ls}}, {{name: '{doc_module}:ShrunkLS', label: shrunk}}]"])
    v = _values(build_link(s), 0.0, batches=2)
    assert v["shrunk"]["nmse_db"] < v["ls"]["nmse_db"] - 1.0, v
    assert 0.7 < v["shrunk"]["err_var_ratio"] < 1.4, v["shrunk"]


def test_a_receiver_outside_its_families_is_refused(scenario_path):
    """A receiver runs only in the families it names: the SRS link's hold-last in a
    narrowband scenario is refused at validation, and the OFDM link's LS (a Sionna block,
    not on the shared contract) in a narrowband one."""
    with pytest.raises(UserError, match="serves the srs_precoding link families, not 'narrowband'"):
        load_scenario(scenario_path("moe_vb_balanced"), ["receivers=[{name: 'linksim.tdd.receivers.classical:HoldLast'}]"])
    with pytest.raises(UserError, match="is not a linksim narrowband receiver"):
        load_scenario(scenario_path("moe_vb_balanced"), ["receivers=[{name: 'linksim.receivers.ls:LSEstimator'}]"])
    with pytest.raises(UserError, match="names no link family in its `families`"):   # the bare contract
        load_scenario(scenario_path("moe_vb_balanced"), ["receivers=[{name: 'linksim.receivers.contract:Estimator'}]"])


def test_the_api_samples_receivers_of_both_forms(scenario_path, doc_module):
    """``Link.sample`` gives the estimate of a Sionna-block receiver, of linksim's shared
    ``perfect`` (the true channel, zero error) and of the docs' user receiver."""
    import numpy as np

    from linksim import api

    link = api.Link(load_scenario(scenario_path("quickstart"), [
        "runtime.xla=false",
        f"receivers=[{{name: ls}}, {{name: perfect}}, {{name: '{doc_module}:ShrunkLS', label: shrunk}}]"]))
    batch = link.sample(4, snr_db=0.0, seed=3)
    np.testing.assert_array_equal(batch.estimates["perfect"].h_hat.numpy(), batch.h.numpy())
    assert float(np.max(batch.estimates["perfect"].err_var.numpy())) == 0.0
    assert batch.nmse_db("shrunk") < batch.nmse_db("ls")
