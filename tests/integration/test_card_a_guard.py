"""The guard of Card A's diffusion models trained where learning can matter (UMa drops):
on fresh drops (not the training set), from the receivers' comb-4 pilot observation, the
model's one-call estimate beats the trivial baselines (the all-zero estimate, LS
interpolated over the subcarriers) and is not worse than the Gaussian-mixture prior it
corrects (its backbone alone) by more than MARGIN_DB; its err_var is calibrated up to
10 dB. At 20 dB the mixture's posterior variance covers about half the error on these
channels (no few Gaussians describe them, docs/methods/nonidentical.md): a known miss,
held by a strict xfail so that a fix shows."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest

from linksim.data.channels import make_dataset
from linksim.diffusion.checkpoints import load_denoiser
from linksim.training.channel import EvaluationSpec, comb_observation, evaluate, interpolate_comb

MODELS = {"nonid-uma-cpu": {}, "identical-uma-cpu": {"identical": True, "init": "ls_linear"}}
SNRS = [0.0, 10.0, 20.0]
MARGIN_DB = 0.3          # the network may not cost more than this against its own backbone
CALIBRATION = (0.7, 1.4)  # err_var ratio of the one-call estimate


@lru_cache(maxsize=1)
def _fresh():
    # seed 4242: the training sets are drawn with seed 0
    return make_dataset("uma", 192, seed=4242, batch=64, xla=False, progress=False).h


def _ls_linear_nmse(h, snr_db, seed=0):
    rng = np.random.default_rng(seed)
    mask, p = comb_observation(h.shape, 4, snr_db)
    noise = (rng.standard_normal(h.shape) + 1j * rng.standard_normal(h.shape)) / np.sqrt(2)
    ls = interpolate_comb((h + p * noise) * mask, 4)
    return 10 * np.log10(np.sum(np.abs(ls - h) ** 2) / np.sum(np.abs(h) ** 2))


@pytest.mark.parametrize("name", list(MODELS))
def test_uma_model_beats_its_baselines(name):
    h = _fresh()
    ev = EvaluationSpec(snr_db=SNRS, num_test=len(h), **MODELS[name])
    den, _ = load_denoiser(name)
    backbone, _ = load_denoiser(name, network=False)
    model = evaluate(den, h, ev)
    alone = evaluate(backbone, h, ev)
    for snr in SNRS:
        s = f"{snr:g}"
        got = model["nmse_db"][s]
        assert got < 0.0, (name, snr, got)                                 # the all-zero estimate
        assert got < _ls_linear_nmse(h, snr) - 1.0, (name, snr, got)       # LS on the comb
        assert got <= alone["nmse_db"][s] + MARGIN_DB, (name, snr, got, alone["nmse_db"][s])
        if snr <= 10:
            assert CALIBRATION[0] <= model["err_var_ratio"][s] <= CALIBRATION[1], (name, snr, model["err_var_ratio"])


@pytest.mark.xfail(strict=True, reason="known miss: the mixture's err_var covers about half the error at 20 dB on UMa drops")
def test_uma_model_err_var_at_20_db():
    h = _fresh()
    model = evaluate(load_denoiser("nonid-uma-cpu")[0], h, EvaluationSpec(snr_db=[20.0], num_test=len(h)))
    assert CALIBRATION[0] <= model["err_var_ratio"]["20"] <= CALIBRATION[1], model["err_var_ratio"]
