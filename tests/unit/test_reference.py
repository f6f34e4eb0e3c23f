"""Reference checks against theory."""

import math

import numpy as np
import pytest
import tensorflow as tf

from linksim.scenario import validate_scenario
from linksim.system.flat import FlatLink
from linksim.system.link import OFDMLink


def qam_ber_gray(bits_per_symbol: int, ebno_db: float) -> float:
    """Exact BER of Gray-labelled square M-QAM over AWGN (Cho & Yoon, 2002)."""
    m = 2 ** bits_per_symbol
    sm = int(math.isqrt(m))
    gamma_b = 10 ** (ebno_db / 10)
    arg = math.sqrt(3 * bits_per_symbol * gamma_b / (2 * (m - 1)))
    total = 0.0
    for k in range(1, int(math.log2(sm)) + 1):
        pk = 0.0
        for i in range(int((1 - 2 ** (-k)) * sm)):
            w = (-1) ** math.floor(i * 2 ** (k - 1) / sm) * (2 ** (k - 1) - math.floor(i * 2 ** (k - 1) / sm + 0.5))
            pk += w * math.erfc((2 * i + 1) * arg)
        total += pk / sm
    return total / math.log2(sm)


def _flat_uncoded(bits_per_symbol):
    return validate_scenario({
        "antennas": {"bs": {"cols": 1}, "ue": {"cols": 1}},
        "channel": {"model": "awgn"},
        "link": {"ofdm": False, "mode": "uncoded", "bits_per_symbol": bits_per_symbol, "codeword_length": 3000},
        "receivers": [{"name": "perfect"}],
        "sweep": {"key": "snr_db", "values": [0]},
        "metrics": ["ber"],
    })


@pytest.mark.parametrize("bits_per_symbol,ebno_db", [(2, 4.0), (4, 6.0), (6, 10.0)])
def test_uncoded_qam_ber_matches_closed_form(bits_per_symbol, ebno_db):
    link = FlatLink(_flat_uncoded(bits_per_symbol))
    # Eb/N0 -> SNR for unit-energy symbols: N0 = 1 / (q * Eb/N0)
    snr_db = ebno_db + 10 * math.log10(bits_per_symbol)
    no = link.noise_variance("snr_db", snr_db)
    errors = bits = 0.0
    for _ in range(20):
        stats = link.run_batch(200, no)["perfect"]
        errors += stats["bit_errors"]
        bits += stats["bits"]
    ber = errors / bits
    theory = qam_ber_gray(bits_per_symbol, ebno_db)
    sigma = math.sqrt(theory * (1 - theory) / bits)
    # bit errors within a symbol are correlated: allow 5 sigma and 5 % model slack
    assert abs(ber - theory) < 5 * sigma + 0.05 * theory, (ber, theory)


def test_closed_form_qpsk_is_q_function():
    ebno = 10 ** 0.4
    assert qam_ber_gray(2, 4.0) == pytest.approx(0.5 * math.erfc(math.sqrt(ebno)), rel=1e-12)


def test_ls_nmse_at_pilots_is_inverse_snr():
    s = validate_scenario({
        "carrier": {"num_prbs": 4},
        "antennas": {"bs": {"cols": 2}, "ue": {"cols": 1}},
        "channel": {"model": "rayleigh"},
        "pilots": {"type": "dmrs", "symbols": [3], "comb": 2},
        "receivers": [{"name": "ls", "interpolation": "nn"}],
        "sweep": {"key": "snr_db", "values": [10]},
        "metrics": ["nmse"],
    })
    link = OFDMLink(s)
    rx = link.receivers[0][1]
    mask = link.rg.pilot_pattern.mask.numpy()[0, 0]
    vals = np.zeros_like(mask, bool)
    vals[3, ::2] = True  # REs with non-zero pilots of stream 0
    for snr_db in (0.0, 10.0, 20.0):
        no = tf.constant(10 ** (-snr_db / 10), tf.float32)
        num = den = 0.0
        for _ in range(10):
            b, _, y, h_eff, comp, _ = link._generate(32, no)
            h_hat, _ = rx(y, no)
            err = (np.abs(h_hat.numpy() - h_eff.numpy()) ** 2)[..., vals]
            num += err.sum()
            den += (np.abs(h_eff.numpy()) ** 2)[..., vals].sum()
        nmse = num / den
        assert nmse == pytest.approx(10 ** (-snr_db / 10), rel=0.1), (snr_db, nmse)
