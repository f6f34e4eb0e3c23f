"""The finite check of every link family and output kind: a receiver, stage or semantic
system that returns NaN stops the batch with :class:`~linksim.errors.NonFiniteOutput`
naming it and what it returned, before any metric or precoder is computed (the runner
then exits 2 naming the point and batch seed: ``test_nonfinite.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest
import tensorflow as tf

from linksim.errors import NonFiniteOutput
from linksim.links.registry import build_link
from linksim.scenario import load_scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def _nan_like(x):
    return tf.fill(tf.shape(x), tf.constant(float("nan"), x.dtype))


def _batch_error(link, batch_size: int, no: float) -> NonFiniteOutput:
    with pytest.raises(NonFiniteOutput) as err:
        link.run_batch(batch_size, no)
    return err.value


def test_narrowband_estimate_is_checked_before_the_svd_precoder(monkeypatch):
    from linksim.narrowband.receivers.ls import RegularisedLS

    s = load_scenario(SCENARIOS / "moe_vb_balanced.yaml", ["receivers=[{name: perfect}, {name: ls}]"])
    link = build_link(s)
    orig = RegularisedLS.__call__

    def nan_estimate(self, obs):
        est = orig(self, obs)
        est.h_hat = _nan_like(est.h_hat)
        return est

    monkeypatch.setattr(RegularisedLS, "__call__", nan_estimate)
    err = _batch_error(link, 2, 0.1)
    assert (err.receiver, err.what) == ("ls", "h_hat or err_var")


@pytest.mark.parametrize("receiver,output", [("srs_hold", "h_hat"), ("e2e", "precoder"), ("dm", "samples"),
                                             ("dm", "err_var")])
def test_srs_precoding_outputs_are_checked_before_the_eigendecomposition(monkeypatch, receiver, output):
    s = load_scenario(SCENARIOS / "srs_precoding_low.yaml", [f"receivers=[{{name: perfect}}, {{name: {receiver}}}]"])
    link = build_link(s)
    cls = type(dict(link.receivers)[receiver])
    orig = cls.__call__

    def nan_output(self, obs):
        est = orig(self, obs)
        setattr(est, output, _nan_like(getattr(est, output)))
        return est

    monkeypatch.setattr(cls, "__call__", nan_output)
    err = _batch_error(link, 2, 0.1)
    assert err.receiver == receiver and output in err.what.split(" or "), err.what


def test_reconstructed_image_is_checked():
    s = load_scenario(SCENARIOS / "ddpm_images.yaml", ["runtime.xla=false", "link.coderate=0.5",
                                                       "reconstruction=[{name: none}, {name: ddpm, steps: 2}]"])
    link = build_link(s)
    name, stage = link.image_outputs.stages[-1]
    stage.reconstruct = lambda images, known=None: _nan_like(images)
    err = _batch_error(link, 1, link.noise_variance(s.sweep.key, s.sweep.values[0]))
    assert err.receiver.endswith(f"/{name}") and err.what == "reconstructed image"


def test_semantic_output_is_checked():
    s = load_scenario(SCENARIOS / "semcom.yaml", ["semantic.systems=[{name: ae}, {name: vae}]"])
    link = build_link(s)
    label, system = link.systems[1]
    orig = system.transmit
    system.transmit = lambda x, snr_db, fading, draws: _nan_like(orig(x, snr_db, fading, draws))
    err = _batch_error(link, 2, 0.1)
    assert (err.receiver, err.what) == (label, "reconstructed image")
