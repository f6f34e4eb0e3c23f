"""Card C's trained models as estimators (zoo checkpoints of :mod:`.training`).

:class:`ModelEstimator` loads one checkpoint and returns, for noisy observations
``obs`` [B, L, P, Nu, Nb] at uplink ``snr_db``, a dict with the keys the link reads
(:func:`linksim.tdd.link.precode_and_measure`):

- ``h_hat`` [B, F, Nu, Nb] — point estimate (SL: its output; DM: the mean of its K
  samples, K = 1: the sample);
- ``samples`` [B, K, F, Nu, Nb] — DM posterior samples (the Bayesian precoder uses them);
- ``err_var`` [B, F, Nu, Nb] — DM with K > 1: the expected squared error of the sample
  mean, ``(1 + 1/K)`` times the unbiased sample variance;
- ``precoder`` [B, F, Nb, Ns] — E2E: its precoder.
"""

from __future__ import annotations

import tensorflow as tf

from ..diffusion.checkpoints import load_checkpoint, resolve_model
from ..errors import UserError, echo
from ..graph import graph_function
from ..precoding import expected_gramian_precoder
from .models import GRAMIAN_JITTER, DiffusionSampler

TASK = "srs_precoding"


class ModelEstimator:
    """A trained ``sl`` / ``dm`` / ``e2e`` model (see the module docstring).

    Parameters
    ----------
    name : zoo name or checkpoint folder
    shape : (L, P, F, Nu, Nb) the link needs (checked against the checkpoint)
    kind : the model kind the caller expects (checked)
    samples : K (DM)
    cfg_weight : guidance weight w in [0, 1] (DM)
    stochastic : reverse trajectory (DM): ancestral (True) or mean only (False)
    streams : Ns (E2E precoder)
    variance : step noise of the ancestral sampler (DM; :data:`~linksim.tdd.models.VARIANCES`)
    """

    def __init__(self, name: str, shape, kind: str, samples: int = 1, cfg_weight: float = 1.0,
                 stochastic: bool = True, streams: int | None = None, variance: str = "posterior"):
        path = resolve_model(name)
        self.net, self.config = load_checkpoint(path, shape)
        source = str(path)
        if self.config.get("task") != TASK:
            raise UserError(f"not a Card C (srs_precoding) model: task {echo(self.config.get('task'))}", source=source, field="task")
        if self.config.get("model") != kind:
            raise UserError(f"this is a {echo(self.config.get('model'))} model; the receiver needs {echo(kind)}", source=source, field="model")
        self.kind, self.name = kind, str(name)
        self.samples, self.cfg_weight, self.stochastic = int(samples), float(cfg_weight), bool(stochastic)
        self.streams = int(streams or self.config.get("streams", 2))
        if kind == "dm":
            self.sampler = DiffusionSampler(self.net, parameterisation=self.parameterisation,
                                            input_scale=self.config.get("diffusion", {}).get("input_scale", "none"),
                                            variance=variance)
        else:
            self._point = graph_function(lambda o, s: self.net(o, s), reduce_retracing=True)

    @property
    def parameterisation(self) -> str:
        """What a DM's network predicts (checkpoints from before the option: eps)."""
        return str(self.config.get("diffusion", {}).get("parameterisation", "eps"))

    @property
    def channel(self) -> dict:
        """The channel settings the model was trained on."""
        return dict(self.config.get("channel", {}))

    def __call__(self, obs, snr_db: float, rng, truth=None) -> dict:
        b = int(obs.shape[0])
        if self.kind == "dm":
            out = self.sampler(obs, snr_db, self.samples, self.cfg_weight, self.stochastic, rng, truth=truth)
            samples, trace = out if truth is not None else (out, None)
            est = {"samples": samples, "h_hat": tf.reduce_mean(samples, axis=1)}
            k = self.samples
            if k > 1:
                var = tf.reduce_sum(tf.abs(samples - est["h_hat"][:, None]) ** 2, axis=1) / (k - 1)
                est["err_var"] = (1.0 + 1.0 / k) * var
            if trace is not None:
                est["trace"] = trace
            return est
        h = self._point(obs, tf.fill([b], tf.cast(snr_db, tf.float32)))
        if self.kind == "sl":
            return {"h_hat": h}
        return {"precoder": expected_gramian_precoder(h[:, None], self.streams, axis=1, jitter=GRAMIAN_JITTER)}
