"""Pipeline check on real channel data with an exact Gaussian prior.

Replaces the trained network by the exact denoiser of a Gaussian fitted to the training
channels (sample covariance, 8x72 quickstart data) and runs the receivers' estimation
path (power estimate, observation rewrite, sampler, rescaling) on comb-4 observations.
If this reaches the LMMSE level, a gap of a trained model is the network's, not the
pipeline's. Prints NMSE [dB] per SNR. Usage: python experiments/gaussian_prior_check.py
"""

import numpy as np
import tensorflow as tf

from linksim.data.channels import cached_dataset
from linksim.diffusion.estimate import to_real
from linksim.diffusion.forward import normalize_data
from linksim.diffusion.gaussian import GaussianDenoiser
from linksim.diffusion.schedules import GammaSchedule
from linksim.diffusion.training import EvaluationSpec, evaluate


def main():
    data = cached_dataset("quickstart", 20000, 0)
    train, test = data.train_test_split(0.05, seed=0)
    x = to_real(normalize_data(tf.constant(train.h[:8000]))[0]).numpy().reshape(8000, -1).astype(np.float64)
    cov = x.T @ x / len(x) + 1e-4 * np.eye(x.shape[1])
    eig = np.linalg.eigvalsh(cov)
    print(f"covariance: {cov.shape[0]} real dims, top-20 eigenvalues hold {eig[-20:].sum() / eig.sum():.4f} of the energy")
    den = GaussianDenoiser(cov, GammaSchedule(1000))
    for kw in (dict(steps=1, num_samples=1), dict(steps=5, num_samples=2)):
        ev = EvaluationSpec(num_test=32, snr_db=[0.0, 10.0, 20.0], **kw)
        print(f"exact Gaussian denoiser, {kw}: NMSE [dB] per SNR {evaluate(den, test.h, ev, batch=8)}")


if __name__ == "__main__":
    main()
