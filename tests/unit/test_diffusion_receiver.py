"""Diffusion receivers in the chain: contract, eager/graph/XLA, model checks.

Uses a tiny untrained network saved as a checkpoint: the tests check the plumbing, not
the estimation quality (that is measured with the shipped models in docs/methods/).
"""

import numpy as np
import pytest
import tensorflow as tf

from linksim.diffusion.checkpoints import save_checkpoint
from linksim.diffusion.networks import make_network
from linksim.diffusion.parameterisation import Denoiser
from linksim.errors import UserError
from linksim.scenario import validate_scenario
from linksim.system.link import OFDMLink

TINY = dict(num_blocks=1, width=2, hidden=8, channel_hidden=4, temb_dim=8, emb_hidden=8)


def _scenario(receivers, num_prbs=2):
    return {
        "carrier": {"num_prbs": num_prbs},
        "antennas": {"bs": {"cols": 2}, "ue": {"cols": 1}},
        "channel": {"model": "cdl", "profile": "C"},
        "pilots": {"type": "dmrs", "symbols": [2, 11], "comb": 4},
        "link": {"bits_per_symbol": 2, "coderate": 0.5},
        "receivers": receivers,
        "sweep": {"key": "snr_db", "values": [10]},
        "metrics": ["bler", "nmse"],
    }


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("zoo") / "tiny"
    net = make_network("cpu", **TINY)
    net.build_for((2, 24))
    den = Denoiser(net, {"kind": "gamma", "T": 100})
    save_checkpoint(path, net, data_shape=(2, 24), extra=den.get_config())
    return str(path)


@pytest.mark.parametrize("name", ["nonidentical_dm", "identical_dm"])
def test_receiver_output_contract(name, tiny_model):
    s = validate_scenario(_scenario([{"name": name, "model": tiny_model, "samples": 2, "steps": 3}]))
    link = OFDMLink(s)
    rx = link.receivers[0][1]
    no = tf.constant(0.1, tf.float32)
    b, y, h_eff, comp, _ = link._generate(4, no)
    h_hat, err_var = rx(y, no, h_eff, comp)
    assert h_hat.shape == h_eff.shape and h_hat.dtype == tf.complex64
    assert err_var.dtype == tf.float32
    tf.debugging.assert_all_finite(tf.abs(h_hat), "h_hat")
    assert float(tf.reduce_min(tf.broadcast_to(err_var, h_hat.shape))) >= 0.0
    # the stats run through Sionna's detector and decoder unchanged
    stats = link.run_batch(4, 0.1)[name]
    assert stats["blocks"] == 4 and np.isfinite(stats["nmse_err"])


def test_eager_graph_xla_agree(tiny_model):
    """Deterministic settings (eta = 0, interpolated init: no random draws) give the same
    estimate eagerly, in a tf.function and under XLA (xla: false keeps the receiver's own
    sampler uncompiled, so eager is really eager)."""
    s = validate_scenario(_scenario([{"name": "nonidentical_dm", "model": tiny_model, "samples": 1,
                                      "steps": 4, "eta": 0.0, "init": "ls_linear", "xla": False}]))
    link = OFDMLink(s)
    rx = link.receivers[0][1]
    no = tf.constant(0.05, tf.float32)
    _, y, h_eff, comp, _ = link._generate(3, no)
    eager = rx(y, no, h_eff, comp)[0]
    graph = tf.function(lambda *a: rx(*a)[0])(y, no, h_eff, comp)
    xla = tf.function(lambda *a: rx(*a)[0], jit_compile=True)(y, no, h_eff, comp)
    np.testing.assert_allclose(graph.numpy(), eager.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(xla.numpy(), eager.numpy(), rtol=1e-3, atol=1e-4)


def test_model_shape_mismatch_is_a_user_error(tiny_model):
    with pytest.raises(UserError) as err:
        validate_scenario(_scenario([{"name": "nonidentical_dm", "model": tiny_model}], num_prbs=3), source="s.yaml")
    msg = str(err.value)
    assert "receivers[0].model" in msg and "(2, 24)" in msg and "(2, 36)" in msg


def test_unknown_model_lists_the_zoo():
    with pytest.raises(UserError) as err:
        validate_scenario(_scenario([{"name": "nonidentical_dm", "model": "no-such-model"}]), source="s.yaml")
    assert "receivers[0].model" in str(err.value) and "no model 'no-such-model'" in str(err.value)
