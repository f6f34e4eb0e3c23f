r"""The end-to-end semantic-communication system: encoders, channel, decoders.

Per user ``u`` (1 or 2) an encoder maps its image to ``k`` complex symbols ``z_u`` with
unit average power per symbol (:func:`~linksim.diffusion.nets.jscc.normalise_power`). The latents are
superposed on one channel and equalised by a receiver that knows the gain::

    y = h * sum_u z_u + n,   n ~ CN(0, 1/snr) per symbol,   snr = 10^(snr_db / 10)
    y_eq = y / h                                (noise enhanced by 1 / |h|^2)

AWGN: ``h = 1``; Rayleigh: one ``h ~ CN(0, 1)`` per image (block fading). Each user's
decoder (own weights) sees the same ``y_eq`` (as ``2k`` reals) and is not told the SNR.

Decoders by ``kind``:

* ``ae`` / ``vae``: :class:`~linksim.diffusion.nets.jscc.MatchedDecoder`. The ``vae`` encoder draws
  ``mean + exp(logvar / 2) * noise`` during training and sends the mean at test time
  (a deterministic transmitter; both are power-normalised).
* ``dae``: a conditional DDPM, :class:`~linksim.diffusion.nets.image.ImageDenoiserNet`
  with ``cond="vector"``, ``cond_dim = 2k``, predicting ``parameterisation`` (``eps``: the
  noise, as the paper; ``v`` or ``x0``: see :class:`SemanticSystem`). Decoding runs
  the sampler of :mod:`linksim.diffusion.samplers` from pure noise at ``tau = T`` with
  ``sample_steps`` uniform steps and DDIM-eta ``eta`` (0: deterministic DDIM, 1:
  ancestral DDPM); the clean estimate is clipped to ``[-1, 1]`` at every step. The point
  estimate is the average of ``num_samples`` posterior samples (default 1, as the paper).

Images are ``[0, 1]`` at the interface and ``x = 2 * unit - 1`` inside the networks.
Everything is TensorFlow ops with Python-int loop lengths (usable in ``tf.function``).

Saved form (:func:`linksim.semcom.files.save_system`): a folder with ``system.json`` (kind, k, users,
data shape, schedule, sampler settings, network folders, training info) and one
checkpoint folder per network (``encoder_u0``, ``decoder_u0``, ...; see
:mod:`linksim.diffusion.checkpoints`).
"""

from __future__ import annotations

import tensorflow as tf

from ..diffusion.checkpoints import ZOO
from ..diffusion.nets.image import PROFILES as DENOISER_PROFILES
from ..diffusion.nets.image import ImageDenoiserNet
from ..diffusion.nets.jscc import (
    PROFILES,
    MatchedDecoder,
    SemanticEncoder,
    normalise_power,
    to_complex,
    to_real,
)
from ..diffusion.parameterisation import KINDS as PARAMETERISATIONS
from ..diffusion.parameterisation import target, to_x0
from ..diffusion.samplers import sample
from ..diffusion.schedules import Schedule, make_schedule
from ..errors import UserError, allowed, echo

__all__ = ["DATASET", "KINDS", "FADINGS", "SemanticSystem", "apply_channel", "default_schedule", "system_model"]

#: The image set the semantic systems are trained and judged on (:mod:`linksim.data.images`).
DATASET = "digits"
KINDS = ("ae", "vae", "dae")
FADINGS = ("awgn", "rayleigh")


def default_schedule(T: int = 200) -> dict:
    """Linear-beta schedule config with DDPM's betas rescaled to ``T`` steps.

    ``beta_start = 0.1 / T``, ``beta_end = 20 / T`` (DDPM's 1e-4 .. 0.02 at ``T = 1000``):
    the total noise, hence ``alpha(T)`` (about 0.0055 at any ``T``), stays that of DDPM,
    so sampling from pure noise matches the training states. The unscaled betas at
    ``T = 200`` would leave ``alpha(T) = 0.36``.
    """
    T = int(T)
    return {"kind": "linear_beta", "T": T, "beta_start": 0.1 / T, "beta_end": 20.0 / T}


def apply_channel(s, snr_db, fading: str, rng: tf.random.Generator):
    r"""Block-fading channel with perfect-CSI equalisation.

    ``y = h s + n``, ``n ~ CN(0, 1/snr)``, returns ``y / h`` (see the module docstring).
    The gain is drawn first (Rayleigh only), then the noise.

    Input
    -----
    s : [B, k], complex64
        Transmitted (superposed) symbols.
    snr_db : [B] or scalar, float
        SNR per image [dB] (signal power 1 per symbol and user).
    fading : "awgn" | "rayleigh"
    rng : tf.random.Generator

    Output
    ------
    y : [B, k], complex64
        Equalised received symbols.
    h : [B, 1], complex64
        Channel gain (1 for AWGN).
    """
    if fading not in FADINGS:
        raise UserError(f"unknown fading {echo(fading)}; allowed: {allowed(FADINGS)}", field="fading")
    s = tf.cast(s, tf.complex64)
    b = tf.shape(s)[0]
    snr_db = tf.broadcast_to(tf.reshape(tf.cast(snr_db, tf.float32), [-1, 1]), [b, 1])
    std = tf.sqrt(0.5 * tf.pow(10.0, -snr_db / 10.0))  # per real dimension
    if fading == "rayleigh":
        g = rng.normal([b, 2], dtype=tf.float32) * tf.sqrt(0.5)
        h = tf.complex(g[:, :1], g[:, 1:])
    else:
        h = tf.ones([b, 1], tf.complex64)
    n = rng.normal(tf.concat([tf.shape(s), [2]], 0), dtype=tf.float32) * std[..., None]
    y = h * s + tf.complex(n[..., 0], n[..., 1])
    return y / h, h


def system_model(scenario, index: int) -> str:
    """The model that ``semantic.systems[index]`` names (``auto``: the zoo name for the
    scenario's k and users; UserError listing the shipped ratios when there is none)."""
    spec, sem = scenario.semantic.systems[index], scenario.semantic
    if spec.model != "auto":
        return spec.model
    name = f"semcom-{spec.name}-k{sem.num_symbols}-u{sem.users}-cpu"
    if not (ZOO / name).is_dir():
        prefix = f"semcom-{spec.name}-k"
        ks = sorted(int(p.name[len(prefix):].split("-")[0]) for p in ZOO.glob(f"{prefix}*-u{sem.users}-cpu"))
        shipped = ", ".join(f"{k / 64:g}" for k in ks) or "none"
        raise UserError(f"no shipped {spec.name} system for k = {sem.num_symbols} (cbr {sem.cbr:g}) and {sem.users} "
                        f"user(s) ({name}); allowed: semantic.cbr {shipped}, or a model you train "
                        f"(scenarios/train/semcom/{spec.name}.yaml) named in model:", field=f"semantic.systems[{index}].model")
    return name


class SemanticSystem:
    """Encoders, channel and decoders of one trained system (see the module docstring).

    Parameters
    ----------
    kind : "ae" | "vae" | "dae"
    k : int
        Complex channel symbols per image.
    encoders : list[SemanticEncoder]
        One per user (1 or 2), built for ``data_shape``.
    decoders : list[MatchedDecoder | ImageDenoiserNet]
        One per user.
    schedule : Schedule | dict | None
        Diffusion schedule (``dae``; default :func:`default_schedule`).
    sample_steps : int
        Sampler steps of the ``dae`` (uniform in ``tau``, from ``T`` to 0).
    eta : float
        DDIM-eta of the sampler (0: DDIM, deterministic given the initial noise).
    num_samples : int
        Posterior samples ``K`` averaged into the ``dae``'s point estimate.
    parameterisation : "eps" | "v" | "x0"
        What the ``dae``'s network predicts, and the target of its training loss (``eps``:
        the paper's noise MSE, which weights the clean-image error by ``alpha^2 / beta^2``
        and so gives the latent almost no gradient at large ``tau``; ``v`` weights it by
        ``1 / beta^2 >= 1``, ``x0`` by 1).
    """

    def __init__(self, kind: str, k: int, encoders, decoders, *, schedule=None, sample_steps: int = 50,
                 eta: float = 0.0, num_samples: int = 1, parameterisation: str = "eps"):
        if kind not in KINDS:
            raise UserError(f"unknown kind {echo(kind)}; allowed: {allowed(KINDS)}", field="kind")
        if len(encoders) not in (1, 2) or len(decoders) != len(encoders):
            raise ValueError("one encoder and one decoder per user (1 or 2 users)")
        if int(sample_steps) < 1 or int(num_samples) < 1 or not 0.0 <= float(eta) <= 1.0:
            raise ValueError("sample_steps and num_samples must be >= 1 and eta in [0, 1]")
        if parameterisation not in PARAMETERISATIONS:
            raise ValueError(f"parameterisation must be one of {PARAMETERISATIONS}, got {parameterisation!r}")
        self.parameterisation = parameterisation
        self.kind, self.k = kind, int(k)
        self.encoders, self.decoders = list(encoders), list(decoders)
        self.data_shape = tuple(self.encoders[0].data_shape)
        self.schedule: Schedule = make_schedule(schedule if schedule is not None else default_schedule())
        self.sample_steps, self.eta, self.num_samples = int(sample_steps), float(eta), int(num_samples)

    # -- construction ------------------------------------------------------------------
    @classmethod
    def create(cls, kind: str, k: int, users: int = 1, profile: str = "cpu", data_shape=(8, 8), *,
               schedule=None, sample_steps: int = 50, eta: float = 0.0, num_samples: int = 1,
               parameterisation: str = "eps"):
        """New (untrained, built) networks from a profile name (``cpu`` | ``paper``).

        Weights are drawn from Keras' global seed: call ``keras.utils.set_random_seed``
        first for reproducible weights.
        """
        if profile not in PROFILES:
            raise UserError(f"unknown profile {echo(profile)}; allowed: {allowed(PROFILES)}", field="network")
        schedule = make_schedule(schedule if schedule is not None else default_schedule())
        width = PROFILES[profile]["width"]
        encoders, decoders = [], []
        for u in range(int(users)):
            encoders.append(SemanticEncoder(k, width, variational=kind == "vae",
                                            name=f"encoder_u{u}").build_for(data_shape))
            if kind == "dae":
                dec = ImageDenoiserNet(**DENOISER_PROFILES[profile], T=schedule.T, cond="vector",
                                       cond_dim=2 * int(k), name=f"decoder_u{u}")
            else:
                dec = MatchedDecoder(k, width, name=f"decoder_u{u}")
            decoders.append(dec.build_for(data_shape))
        return cls(kind, k, encoders, decoders, schedule=schedule, sample_steps=sample_steps, eta=eta,
                   num_samples=num_samples, parameterisation=parameterisation)

    @property
    def users(self) -> int:
        return len(self.encoders)

    @property
    def networks(self) -> dict:
        """``{folder name: model}``: ``encoder_u0, decoder_u0[, encoder_u1, decoder_u1]``."""
        out = {}
        for u, (enc, dec) in enumerate(zip(self.encoders, self.decoders)):
            out[f"encoder_u{u}"] = enc
            out[f"decoder_u{u}"] = dec
        return out

    @property
    def trainable_variables(self) -> list:
        return [v for m in self.networks.values() for v in m.trainable_variables]

    def count_parameters(self) -> dict:
        """Trainable scalars per network and ``total``."""
        out = {name: int(sum(int(tf.size(v)) for v in m.trainable_variables)) for name, m in self.networks.items()}
        out["total"] = sum(out.values())
        return out

    # -- encoder -----------------------------------------------------------------------
    def latent(self, x_unit, training: bool = False, rng: tf.random.Generator | None = None):
        """Transmitted latents and the VAE's KL term.

        Input
        -----
        x_unit : [U, B, H, W], float
            Images in ``[0, 1]``, one batch per user.
        training : bool
            Batch-norm batch statistics; the ``vae`` samples its latent (needs ``rng``).
        rng : tf.random.Generator | None

        Output
        ------
        z : [U, B, k], complex64
            Unit average power per symbol for every image.
        kl : [U, B], float32
            ``KL(N(mean, var) || N(0, 1))`` averaged over the ``2k`` latent dimensions
            (0 unless ``vae``).
        """
        x = 2.0 * tf.cast(x_unit, tf.float32)[..., None] - 1.0
        zs, kls = [], []
        for u, enc in enumerate(self.encoders):
            mean, logvar = enc.moments(x[u], training=training)
            v, kl = mean, tf.zeros(tf.shape(mean)[:1])
            if logvar is not None:
                kl = 0.5 * tf.reduce_mean(tf.square(mean) + tf.exp(logvar) - 1.0 - logvar, axis=-1)
                if training:
                    if rng is None:
                        raise ValueError("a training pass of the vae needs rng")
                    v = mean + tf.exp(0.5 * logvar) * rng.normal(tf.shape(mean))
            zs.append(to_complex(normalise_power(v)))
            kls.append(kl)
        return tf.stack(zs), tf.stack(kls)

    def encode(self, x_unit):
        """Test-time encoder: ``[U, B, H, W]`` images in ``[0, 1]`` -> ``z`` complex64
        ``[U, B, k]`` with unit average power per symbol (the ``vae`` sends its mean)."""
        return self.latent(x_unit)[0]

    # -- channel -----------------------------------------------------------------------
    def channel(self, z, snr_db, fading: str, rng: tf.random.Generator, return_gain: bool = False):
        """Superpose the users' latents and pass them through :func:`apply_channel`.

        Input
        -----
        z : [U, B, k], complex64
        snr_db : [B] or scalar, float
        fading : "awgn" | "rayleigh"
        rng : tf.random.Generator
        return_gain : bool

        Output
        ------
        y : [B, k], complex64
            Equalised received latent.
        h : [B, 1], complex64
            Only with ``return_gain``.
        """
        y, h = apply_channel(tf.reduce_sum(tf.cast(z, tf.complex64), axis=0), snr_db, fading, rng)
        return (y, h) if return_gain else y

    # -- decoder -----------------------------------------------------------------------
    def generate(self, net, cond, rng: tf.random.Generator):
        """Conditional DDPM/DDIM sampling averaged over ``num_samples`` draws.

        Input
        -----
        net : callable
            ``net(x_t [N, H, W, 1], tau (scalar), cond [N, 2k]) -> [N, H, W, 1]``, the
            prediction of ``parameterisation``.
        cond : [B, 2k], float
            Received latent as reals.
        rng : tf.random.Generator
            Initial noise (and fresh noise when ``eta > 0``).

        Output
        ------
        x : [B, H, W, 1], float32
            Mean of the samples, in ``[-1, 1]``.
        """
        hgt, wid = self.data_shape
        reps = self.num_samples
        cond = tf.cast(cond, tf.float32)
        b = tf.shape(cond)[0]
        c = tf.tile(cond, [reps, 1])  # [K*B, 2k], sample-major

        def denoiser(g, tau):
            alpha, beta = self.schedule.alpha_beta(tau)
            return tf.clip_by_value(to_x0(g, net(g, tau, c), alpha, beta, self.parameterisation), -1.0, 1.0)

        x_init = rng.normal(tf.stack([reps * b, hgt, wid, 1]), dtype=tf.float32)
        x = sample(denoiser, x_init, float(self.schedule.T), self.sample_steps, stepper="uniform",
                   eta=self.eta, rng=rng, schedule=self.schedule)
        x = tf.reduce_mean(tf.reshape(x, tf.stack([reps, b, hgt, wid, 1])), axis=0)
        return tf.clip_by_value(x, -1.0, 1.0)

    def decode(self, y, rng: tf.random.Generator | None = None, training: bool = False):
        """Reconstruct every user's image from the received latent.

        Input
        -----
        y : [B, k], complex64
            Equalised received latent.
        rng : tf.random.Generator | None
            Needed by the ``dae`` (default: Sionna's global generator).
        training : bool
            Batch-norm mode of the matched decoders.

        Output
        ------
        x_hat_unit : [U, B, H, W], float32
            Images in ``[0, 1]``.
        """
        cond = to_real(tf.cast(y, tf.complex64))
        if self.kind == "dae" and rng is None:
            from sionna.phy import config

            rng = config.tf_rng
        outs = []
        for dec in self.decoders:
            if self.kind == "dae":
                x = self.generate(dec, cond, rng)
            else:
                x = dec(cond, training=training)
            outs.append(x[..., 0])
        return (tf.stack(outs) + 1.0) / 2.0

    def transmit(self, x_unit, snr_db, fading: str, rng: tf.random.Generator):
        """``decode(channel(encode(x_unit)))``: ``[U, B, H, W]`` in ``[0, 1]`` -> same shape."""
        return self.decode(self.channel(self.encode(x_unit), snr_db, fading, rng), rng)

    # -- training ----------------------------------------------------------------------
    def training_loss(self, x_unit, snr_db, fading: str, rng: tf.random.Generator, beta_kl: float = 1e-3):
        """End-to-end training loss of one batch (mean over users).

        ``ae``: MSE of the reconstruction (images in ``[-1, 1]``); ``vae``: the same plus
        ``beta_kl`` times the KL per latent dimension; ``dae``: ``||target - net(x_t,
        tau, y)||^2`` (mean over pixels; the target of ``parameterisation``: ``eps``,
        ``v = alpha eps - beta x`` or ``x``) with ``tau ~ U(0, T)`` per image, the gradient
        reaching the encoders through the condition ``y``.

        Input
        -----
        x_unit : [U, B, H, W], float
        snr_db : [B] or scalar, float
        fading : "awgn" | "rayleigh"
        rng : tf.random.Generator
        beta_kl : float

        Output
        ------
        loss : [], float32
        """
        x = 2.0 * tf.cast(x_unit, tf.float32)[..., None] - 1.0
        z, kl = self.latent(x_unit, training=True, rng=rng)
        cond = to_real(self.channel(z, snr_db, fading, rng))
        losses = []
        for u, dec in enumerate(self.decoders):
            if self.kind == "dae":
                b = tf.shape(cond)[0]
                tau = rng.uniform([b], 0.0, float(self.schedule.T))
                alpha, beta = self.schedule.alpha_beta(tau[:, None, None, None])
                eps = rng.normal(tf.shape(x[u]))
                out = dec(alpha * x[u] + beta * eps, tau, cond)
                want = target(x[u], eps, alpha, beta, self.parameterisation)
                losses.append(tf.reduce_mean(tf.square(want - out)))
            else:
                x_hat = dec(cond, training=True)
                losses.append(tf.reduce_mean(tf.square(x_hat - x[u])) + beta_kl * tf.reduce_mean(kl[u]))
        return tf.add_n(losses) / float(len(losses))

    # -- what system.json records (linksim.semcom.files) --------------------------------
    def config(self) -> dict:
        """What ``system.json`` records about the system (without training info)."""
        return {"kind": self.kind, "k": self.k, "users": self.users, "data_shape": list(self.data_shape),
                "schedule": self.schedule.to_config(),
                "sampler": {"sample_steps": self.sample_steps, "eta": self.eta, "num_samples": self.num_samples,
                            "stepper": "uniform", "parameterisation": self.parameterisation},
                "networks": list(self.networks)}
