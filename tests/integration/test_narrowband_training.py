"""The narrowband training program with a Gaussian backbone, on a small link: it trains,
gates the residual on held-out channels, and writes a card with the per-step
noise-prediction error against the Gaussian optimum and both samplers' NMSE."""

import json

import numpy as np
import pytest

from linksim.training.narrowband import NarrowbandTrainSpec, train


def test_backbone_training_writes_a_gated_model_at_its_bound(tmp_path):
    spec = NarrowbandTrainSpec(
        name="tiny", output=str(tmp_path / "tiny"),
        channel={"num_tx": 8, "num_rx": 2}, data={"profiles": {"C": 400}, "validation": 0.25},
        network={"backbone": "gaussian", "width": 8}, diffusion={"T": 30, "beta_end": 0.6},  # alpha_bar_T ~ 1e-4
        training={"steps": 30, "batch_size": 32}, evaluation={"snr_db": [10.0], "num_channels": 16})
    out = train(spec, progress=False)
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["backbone"]["kind"] == "gmm" and (out / "prior.npz").is_file()
    gate = cfg["residual_gate"]
    assert len(gate) == 31 and gate[0] == 0.0 and set(gate) <= {0.0, 1.0}
    assert cfg["training"]["samples"] == 300 and cfg["training"]["held_out"] == 100
    curve = cfg["training"]["eps_mse"]["C"]
    model, bound = np.asarray(curve["model"]), np.asarray(curve["gaussian"])
    assert len(model) == 30 and model.mean() <= 1.05 * bound.mean(), (model, bound)
    row = cfg["training"]["measured"]["CDL-C, 10 dB"]
    assert row["gp"] < row["lmmse"] + 0.5 and row["gp"] < row["dm"], row
    card = (out / "card.md").read_text()
    assert "mean over t" in card and "Gaussian backbone" in card
    assert (out / "eps_mse.csv").read_text().startswith("profile,t,model,gaussian")



@pytest.mark.parametrize("field", ["energy_tol", "shrinkage"])
def test_backbone_setting_is_chosen_on_held_out_channels(field):
    """With fewer fitting channels than dimensions, a floor in place of the smallest sample
    eigenvalues (``energy_tol: null``) or a covariance shrunk towards the scaled identity
    (``shrinkage: null``) predicts the noise of fresh channels better: the setting chosen on
    held-out channels beats the plain sample-covariance fit there."""
    import tensorflow as tf

    from linksim.narrowband.eps_mse import eps_mse_curve
    from linksim.narrowband.gaussian_prior import GaussianMatrixPrior
    from linksim.narrowband.linear_gaussian import sample_covariance
    from linksim.training.narrowband import ENERGY_TOLS, SHRINKAGES, gaussian_backbone

    network = {"backbone": "gaussian", "energy_tol": ENERGY_TOLS[0], "shrinkage": 0.0, field: None}
    spec = NarrowbandTrainSpec(name="tiny", channel={"num_tx": 8, "num_rx": 4}, data={"profiles": {"C": 64},
                               "validation": 0.4}, network=network)
    rng = np.random.default_rng(3)
    d = 32
    root = np.linalg.qr(rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d)))[0] * np.sqrt(np.geomspace(4, 0.05, d))
    draw = lambda n: ((rng.normal(size=(n, d)) + 1j * rng.normal(size=(n, d))) / np.sqrt(2)) @ root.T  # noqa: E731
    fit, held = draw(20).reshape(20, 4, 8), draw(200).reshape(200, 4, 8)      # 20 channels in 32 dimensions
    cov = sample_covariance(fit)
    backbone, chosen = gaussian_backbone(spec, cov, held)
    assert chosen[field] in {"energy_tol": ENERGY_TOLS, "shrinkage": SHRINKAGES}[field]
    assert chosen[field] != {"energy_tol": ENERGY_TOLS[0], "shrinkage": 0.0}[field], chosen
    full = GaussianMatrixPrior(cov, (4, 8), energy_tol=ENERGY_TOLS[0])
    abar = np.concatenate([[1.0], np.cumprod(1 - np.linspace(1e-4, 0.2, 100))])
    eps = lambda f: lambda x, t: f.eps(x, np.sqrt(abar[t]), np.sqrt(1 - abar[t]))  # noqa: E731
    curve = eps_mse_curve({"chosen": eps(backbone), "full": eps(full)}, tf.constant(held, tf.complex64), abar,
                          [1, 5, 20], seed=4, draws=1)
    assert np.mean(curve["chosen"]) < 0.8 * np.mean(curve["full"]), curve
    with pytest.raises(ValueError, match="held-out"):
        NarrowbandTrainSpec(name="x", data={"profiles": {"C": 64}}, network={"backbone": "gaussian", field: None})


def test_same_spec_and_seed_give_the_same_weights_whatever_ran_before(tmp_path):
    """The initial weights are seeded by ``training.seed``: two trainings of one spec, after
    different draws from every global generator, export the same weights (before the seed
    was set ahead of the network's build, they differed from process to process)."""
    import random

    import tensorflow as tf

    weights = []
    for i, noise in enumerate((1, 2)):
        random.seed(noise)
        np.random.seed(noise)
        tf.random.set_seed(noise)
        tf.keras.utils.set_random_seed(1000 + noise)
        spec = NarrowbandTrainSpec(
            name="tiny", output=str(tmp_path / f"tiny{i}"), channel={"num_tx": 8, "num_rx": 2},
            data={"profiles": {"C": 200}}, network={"width": 8}, diffusion={"T": 20},
            training={"steps": 5, "batch_size": 16}, evaluation={"snr_db": [10.0], "num_channels": 4})
        with np.load(train(spec, progress=False) / "weights.npz") as f:
            weights.append({k: f[k] for k in f.files})
    assert weights[0].keys() == weights[1].keys()
    for k in weights[0]:
        np.testing.assert_array_equal(weights[0][k], weights[1][k], err_msg=k)
