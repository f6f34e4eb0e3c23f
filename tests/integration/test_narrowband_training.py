"""The narrowband training program with a Gaussian backbone, on a small link: it trains,
gates the residual on held-out channels, and writes a card with the per-step
noise-prediction error against the Gaussian optimum and both samplers' NMSE."""

import json

import numpy as np

from linksim.narrowband.training import NarrowbandTrainSpec, train


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
