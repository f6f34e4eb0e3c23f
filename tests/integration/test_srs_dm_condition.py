"""Every shipped Card C DM uses its condition. On fresh realisations (not the training
draw) at 0 dB, its clean estimate at t = T from the SRS history

- differs from the null token's: GCS at least ``GCS_MARGIN`` higher and NMSE lower
  (guard, 256 realisations: low mobility +0.42 GCS and -1.9 dB, high +0.05 and -0.02 dB;
  feeding the null token for both fails it);
- beats the hold-last SRS estimate by ``BEAT_DB`` and the all-zero estimate (0 dB), and
  is within 0.5 dB of SL's NMSE on the same observations;

and the mean of a few posterior samples beats hold-last by ``BEAT_DB``. Every shipped SL
beats hold-last by ``BEAT_DB`` and the all-zero estimate; every shipped E2E precoder gives
a higher SE than SVD precoding of hold-last (the trivial baselines of Card C). (In high mobility
the history says little about the channel's power 20 ms later, SL's NMSE is about
-0.1 dB, but much about its spatial structure: GCS 0.4.) DMs trained before the
parameterisation option (eps-prediction with the eps-MSE) are kept as the record of the
failure: they must still fail."""

import functools
import json
import math

import pytest
import tensorflow as tf

from linksim.diffusion.checkpoints import ZOO
from linksim.sums import gcs_per_matrix
from linksim.tdd.channels import SRSChannelSource, data_shape, srs_geometry
from linksim.tdd.config import MOBILITY_KMH, SRSPrecoding
from linksim.tdd.estimators import ModelEstimator
from linksim.tdd.observation import hold_last, observe

GCS_MARGIN = 0.03
BEAT_DB = 1.0


def _models(kind):
    for d in sorted(ZOO.iterdir()):
        f = d / "config.json"
        if f.is_file():
            cfg = json.loads(f.read_text())
            if cfg.get("task") == "srs_precoding" and cfg.get("model") == kind:
                yield d.name, cfg


def _dms():
    out = []
    for name, cfg in _models("dm"):
        legacy = cfg.get("diffusion", {}).get("parameterisation", "eps") == "eps"
        marks = [pytest.mark.xfail(strict=True, raises=AssertionError, reason="eps-prediction with the eps-MSE ignores its condition"),
                 pytest.mark.slow] if legacy else []
        out.append(pytest.param(name, cfg["channel"]["ue_speed_kmh"], marks=marks, id=name))
    return out


def _nmse_db(h_hat, h):
    return 10 * math.log10(float(tf.reduce_sum(tf.abs(h_hat - h) ** 2) / tf.reduce_sum(tf.abs(h) ** 2)))


def _gcs(h_hat, h):
    return float(tf.reduce_mean(gcs_per_matrix(h_hat, h)))


@functools.lru_cache(maxsize=None)
def _fresh(speed):
    """128 fresh realisations at ``speed`` (the training draw is seed 0), their noisy
    observations at 0 dB and a generator for the test's own draws: ``(sec, y, h, rng)``
    (the draws are shared by the tests of one speed, the generator is not)."""
    sec = SRSPrecoding(ue_speed_kmh=speed)
    obs_clean, h = SRSChannelSource(sec).draw(128, seed=909)
    y = observe(tf.constant(obs_clean), 1.0, sec.comb, tf.random.Generator.from_seed(3))
    return sec, y, tf.constant(h)


def _fresh_with_rng(speed):
    return (*_fresh(speed), tf.random.Generator.from_seed(4))


@pytest.mark.parametrize("name,speed", _dms())
def test_shipped_dm_uses_its_condition_and_beats_hold_last(name, speed):
    sec, y, h, rng = _fresh_with_rng(speed)
    mobility = {kmh: name for name, kmh in MOBILITY_KMH.items()}[speed]   # the SL of the DM's preset
    dm = ModelEstimator(name, data_shape(sec), "dm", samples=4)
    sl = ModelEstimator(f"srs-sl-{mobility}-cpu", data_shape(sec), "sl")
    cond = dm.sampler.clean_estimate(y, 0.0, rng)
    null = dm.sampler.clean_estimate(y, 0.0, rng, drop=True)
    hold = hold_last(y, srs_geometry(sec))
    n_cond, n_null, n_hold, n_sl = (_nmse_db(e, h) for e in (cond, null, hold, sl(y, 0.0, rng)["h_hat"]))
    assert _gcs(cond, h) > _gcs(null, h) + GCS_MARGIN, (_gcs(cond, h), _gcs(null, h))
    assert n_cond < n_null, (n_cond, n_null)
    assert n_cond < min(n_hold - BEAT_DB, 0.0), (n_cond, n_hold)
    assert n_cond < n_sl + 0.5, (n_cond, n_sl)
    k = 16
    mean = dm(y[:k], 0.0, rng)["h_hat"]
    assert _nmse_db(mean, h[:k]) < _nmse_db(hold[:k], h[:k]) - BEAT_DB


#: Shipped models that miss a trivial baseline on these realisations, with the reason.
KNOWN_MISSES = {"srs-sl-high-cpu": "at high mobility SL's NMSE is level with the all-zero estimate's (+0.05 dB here; "
                                   "-0.09 dB in the reference run): the history says little about the power 20 ms later"}


def _sl_e2e():
    return [pytest.param(n, c["model"], c["channel"]["ue_speed_kmh"], id=n,
                         marks=[pytest.mark.xfail(strict=True, raises=AssertionError, reason=KNOWN_MISSES[n])]
                         if n in KNOWN_MISSES else [])
            for kind in ("sl", "e2e") for n, c in _models(kind)]


@pytest.mark.parametrize("name,kind,speed", _sl_e2e())
def test_shipped_sl_and_e2e_beat_hold_last(name, kind, speed):
    from linksim.receivers.contract import Estimate
    from linksim.tdd.link import precode_and_measure

    sec, y, h, rng = _fresh_with_rng(speed)
    est = Estimate.of(ModelEstimator(name, data_shape(sec), kind, streams=sec.streams)(y, 0.0, rng))
    hold = Estimate(h_hat=hold_last(y, srs_geometry(sec)))
    dl = 10.0 ** (sec.dl_snr_offset_db / 10.0)
    got, base = (precode_and_measure(e, h, sec.streams, dl) for e in (est, hold))
    if kind == "sl":   # its SE may trail hold-last's (the Jensen gap of SVD precoding of a CME)
        assert got["nmse_db"] < min(base["nmse_db"] - BEAT_DB, 0.0), (got, base)
    else:
        assert got["se"] > base["se"], (got, base)
