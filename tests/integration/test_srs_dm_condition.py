"""Every shipped Card C DM uses its condition. On fresh realisations (not the training
draw) at 0 dB, its clean estimate at t = T from the SRS history

- differs from the null token's: GCS at least ``GCS_MARGIN`` higher and NMSE lower
  (guard, 256 realisations: low mobility +0.42 GCS and -1.9 dB, high +0.05 and -0.02 dB;
  feeding the null token for both fails it);
- beats the hold-last SRS estimate by ``BEAT_DB`` and the all-zero estimate (0 dB), and
  is within 0.5 dB of SL's NMSE on the same observations;

and the mean of a few posterior samples beats hold-last by ``BEAT_DB``. (In high mobility
the history says little about the channel's power 20 ms later, SL's NMSE is about
-0.1 dB, but much about its spatial structure: GCS 0.4.) DMs trained before the
parameterisation option (eps-prediction with the eps-MSE) are kept as the record of the
failure: they must still fail."""

import json
import math

import pytest
import tensorflow as tf

from linksim.diffusion.checkpoints import ZOO
from linksim.metrics import gcs_per_matrix
from linksim.scenario import SRSPrecoding
from linksim.tdd.channels import SRSChannelSource, SRSGeometry, data_shape
from linksim.tdd.estimators import ModelEstimator
from linksim.tdd.observation import hold_last, observe

GCS_MARGIN = 0.03
BEAT_DB = 1.0


def _dms():
    out = []
    for d in sorted(ZOO.iterdir()):
        f = d / "config.json"
        if not f.is_file():
            continue
        cfg = json.loads(f.read_text())
        if cfg.get("task") != "srs_precoding" or cfg.get("model") != "dm":
            continue
        legacy = cfg.get("diffusion", {}).get("parameterisation", "eps") == "eps"
        marks = [pytest.mark.xfail(strict=True, raises=AssertionError, reason="eps-prediction with the eps-MSE ignores its condition"),
                 pytest.mark.slow] if legacy else []
        out.append(pytest.param(d.name, cfg["channel"]["ue_speed_kmh"], marks=marks, id=d.name))
    return out


def _nmse_db(h_hat, h):
    return 10 * math.log10(float(tf.reduce_sum(tf.abs(h_hat - h) ** 2) / tf.reduce_sum(tf.abs(h) ** 2)))


def _gcs(h_hat, h):
    return float(tf.reduce_mean(gcs_per_matrix(h_hat, h)))


@pytest.mark.parametrize("name,speed", _dms())
def test_shipped_dm_uses_its_condition_and_beats_hold_last(name, speed):
    sec = SRSPrecoding(ue_speed_kmh=speed)
    obs_clean, h = SRSChannelSource(sec).draw(128, seed=909)          # the training draw is seed 0
    h = tf.constant(h)
    rng = tf.random.Generator.from_seed(3)
    y = observe(tf.constant(obs_clean), 1.0, sec.comb, rng)          # 0 dB
    mobility = "low" if speed < 10 else "high"
    dm = ModelEstimator(name, data_shape(sec), "dm", samples=4)
    sl = ModelEstimator(f"srs-sl-{mobility}-cpu", data_shape(sec), "sl")
    cond = dm.sampler.clean_estimate(y, 0.0, rng)
    null = dm.sampler.clean_estimate(y, 0.0, rng, drop=True)
    hold = hold_last(y, SRSGeometry.from_section(sec))
    n_cond, n_null, n_hold, n_sl = (_nmse_db(e, h) for e in (cond, null, hold, sl(y, 0.0, rng)["h_hat"]))
    assert _gcs(cond, h) > _gcs(null, h) + GCS_MARGIN, (_gcs(cond, h), _gcs(null, h))
    assert n_cond < n_null, (n_cond, n_null)
    assert n_cond < min(n_hold - BEAT_DB, 0.0), (n_cond, n_hold)
    assert n_cond < n_sl + 0.5, (n_cond, n_sl)
    k = 16
    mean = dm(y[:k], 0.0, rng)["h_hat"]
    assert _nmse_db(mean, h[:k]) < _nmse_db(hold[:k], h[:k]) - BEAT_DB
