"""The split linear detector equals Sionna's LinearDetector (graph mode: bit for bit)."""

import numpy as np
import pytest
import tensorflow as tf
from sionna.phy.mimo import StreamManagement
from sionna.phy.ofdm import LinearDetector, ResourceGrid
from sionna.phy.utils import complex_normal

from linksim.system.detection import linear_detector


@pytest.fixture(scope="module")
def problem():
    """A 4-antenna, 2-stream OFDM slot with a noisy channel estimate and its error variance."""
    rg = ResourceGrid(num_ofdm_symbols=4, fft_size=24, subcarrier_spacing=30e3, num_tx=1, num_streams_per_tx=2,
                      pilot_pattern="kronecker", pilot_ofdm_symbol_indices=[0])
    sm = StreamManagement(np.ones([1, 1], int), 2)
    b = 8
    y = complex_normal([b, 1, 4, 4, 24])
    h = complex_normal([b, 1, 4, 1, 2, 4, 24])
    err_var = 0.1 * tf.ones([b, 1, 4, 1, 2, 4, 24])
    return rg, sm, y, h, err_var, tf.constant(0.2)


@pytest.mark.parametrize("equalizer", ["lmmse", "zf", "mf"])
def test_graph_mode_equals_sionna(problem, equalizer):
    rg, sm, y, h, err_var, no = problem
    ref = tf.function(LinearDetector(equalizer, "bit", "maxlog", rg, sm, "qam", 4))(y, h, err_var, no)
    out = tf.function(linear_detector(equalizer, rg, sm, 4, xla=False))(y, h, err_var, no)
    assert out.shape == ref.shape
    np.testing.assert_array_equal(out.numpy(), ref.numpy())


def test_xla_demapper_matches_to_rounding(problem):
    rg, sm, y, h, err_var, no = problem
    ref = tf.function(LinearDetector("lmmse", "bit", "maxlog", rg, sm, "qam", 4))(y, h, err_var, no).numpy()
    out = tf.function(linear_detector("lmmse", rg, sm, 4, xla=True))(y, h, err_var, no).numpy()
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max())
    assert np.mean(np.sign(out) == np.sign(ref)) > 0.999
