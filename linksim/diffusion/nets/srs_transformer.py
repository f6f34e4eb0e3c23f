"""Card C's shared backbone: a transformer encoder-decoder over PRB patches of the SRS
history (pre-LayerNorm blocks, learnable additive positional encodings).

Tokens. Encoder: one token per (occasion, sounded PRB), the PRB's observation over all
antenna pairs as ``2 Nu Nb`` reals (real/imag parts), linearly projected to ``d_model``,
plus a positional encoding per (occasion, PRB of the sub-band) and an embedding of the
uplink SNR. Decoder: one query per PRB of the band (positional encoding), plus, for the
diffusion model, the projected noisy target ``x_t`` of that PRB and a diffusion-time
embedding. Output: a linear head back to ``2 Nu Nb`` reals per PRB.

Classifier-free guidance: :meth:`encode` with ``drop`` set replaces the memory of those
observations by a learned null token (the unconditional model).

PRB history queries (``query_index``, optional): each decoder query also gets the
projection of its own PRB's observations in the history (newest first) and the SNR
embedding, so that per-PRB filtering (shrinking a noisy observation, extrapolating two
soundings in time) needs no routing through cross-attention. :meth:`encode` appends these
F query tokens to the memory (the null token replaces them too); :meth:`decode` splits
them off.

Skip connection (``skip_index``, optional): the network predicts the correction to a
fixed estimate read from the observations, :meth:`skip` — e.g. hold-last
(:func:`linksim.tdd.observation.hold_last_index`): each PRB from one (occasion, PRB)
token. SL and E2E add it to their output (:meth:`call`); the DM diffuses ``h - skip``
(:mod:`.models`). Where the newest SRS is nearly the channel (low mobility, high SNR)
the network then starts at hold-last instead of having to learn the identity.

Input / output shapes (``data_shape`` = ``(L, P, F, Nu, Nb)``):
``obs`` [B, L, P, Nu, Nb] complex64, ``snr_db`` [B] float32, ``x_t`` [B, F, Nu, Nb]
complex64, ``t`` [B] float32 (1..T) -> [B, F, Nu, Nb] complex64.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf

__all__ = ["SRSTransformer", "PROFILES", "to_tokens", "from_tokens"]

#: Network sizes: ``cpu`` trains in minutes on 2 cores; ``paper`` is the paper's size class.
PROFILES = {
    "cpu": {"d_model": 64, "heads": 4, "ff": 128, "enc_layers": 2, "dec_layers": 2},
    "paper": {"d_model": 256, "heads": 8, "ff": 1024, "enc_layers": 4, "dec_layers": 4},
}


def to_tokens(h):
    """[..., Nu, Nb] complex -> [..., 2 Nu Nb] float32 (real parts, then imaginary)."""
    h = tf.cast(h, tf.complex64)
    shape = tf.shape(h)
    # the static width keeps the token size known when a traced batch size is not
    width = h.shape[-2] * h.shape[-1] if h.shape[-2] is not None and h.shape[-1] is not None else -1
    flat = tf.reshape(h, tf.concat([shape[:-2], [width]], 0))
    return tf.concat([tf.math.real(flat), tf.math.imag(flat)], -1)


def from_tokens(x, nu: int, nb: int):
    """Inverse of :func:`to_tokens`: [..., 2 Nu Nb] -> [..., Nu, Nb] complex64."""
    n = nu * nb
    z = tf.complex(x[..., :n], x[..., n:])
    return tf.reshape(z, tf.concat([tf.shape(x)[:-1], [nu, nb]], 0))


def time_features(t, T: int, dim: int):
    """Sinusoidal features of ``t / T`` [B] -> [B, dim]."""
    half = dim // 2
    freqs = tf.exp(-math.log(1000.0) * tf.range(half, dtype=tf.float32) / half)
    arg = (tf.cast(t, tf.float32) / float(T))[:, None] * freqs[None, :] * 1000.0
    return tf.concat([tf.sin(arg), tf.cos(arg)], -1)


class _Block(keras.layers.Layer):
    """Pre-LN transformer block: self-attention, optional cross-attention, MLP."""

    def __init__(self, d: int, heads: int, ff: int, cross: bool, **kwargs):
        super().__init__(**kwargs)
        self.ln1 = keras.layers.LayerNormalization(name="ln1")
        self.att = keras.layers.MultiHeadAttention(heads, d // heads, name="self_att")
        self.cross = cross
        if cross:
            self.ln2 = keras.layers.LayerNormalization(name="ln2")
            self.xatt = keras.layers.MultiHeadAttention(heads, d // heads, name="cross_att")
        self.ln3 = keras.layers.LayerNormalization(name="ln3")
        self.fc1 = keras.layers.Dense(ff, activation="gelu", name="fc1")
        self.fc2 = keras.layers.Dense(d, name="fc2")

    def call(self, x, memory=None):
        h = self.ln1(x)
        x = x + self.att(h, h)
        if self.cross:
            x = x + self.xatt(self.ln2(x), memory)
        return x + self.fc2(self.fc1(self.ln3(x)))


class SRSTransformer(keras.Model):
    """The backbone (see the module docstring).

    Parameters
    ----------
    d_model, heads, ff, enc_layers, dec_layers : sizes (see :data:`PROFILES`)
    diffusion : bool
        True: the decoder also takes ``x_t`` and ``t`` (Card C's DM); False: SL and E2E.
    T : int
        Diffusion steps (scales ``t`` in its embedding).
    skip_index : list of int, optional
        Per PRB of the band, the flat token index ``occasion * P + position`` of the
        observation the skip estimate copies (-1: zero); None: no skip connection.
    query_index : list of list of int, optional
        Per PRB of the band, the token indices of its observations that its decoder query
        sees (-1: zeros; e.g. :func:`linksim.tdd.observation.prb_history_index`); None:
        the queries are positions only.
    """

    def __init__(self, d_model: int = 64, heads: int = 4, ff: int = 128, enc_layers: int = 2, dec_layers: int = 2,
                 diffusion: bool = False, T: int = 50, skip_index=None, query_index=None, **kwargs):
        kwargs.setdefault("name", "srs_transformer")
        super().__init__(**kwargs)
        if d_model % heads:
            raise ValueError(f"d_model {d_model} is not a multiple of heads {heads}")
        self.cfg = {"d_model": int(d_model), "heads": int(heads), "ff": int(ff), "enc_layers": int(enc_layers),
                    "dec_layers": int(dec_layers), "diffusion": bool(diffusion), "T": int(T)}
        if skip_index is not None:   # absent from the config of models without one
            self.cfg["skip_index"] = [int(i) for i in skip_index]
        if query_index is not None:
            self.cfg["query_index"] = [[int(i) for i in row] for row in query_index]
            self.embed_q = keras.layers.Dense(d_model, name="embed_q")
        d = self.cfg["d_model"]
        self.embed_obs = keras.layers.Dense(d, name="embed_obs")
        self.embed_snr = keras.layers.Dense(d, name="embed_snr")
        self.enc = [_Block(d, heads, ff, False, name=f"enc{i}") for i in range(enc_layers)]
        self.enc_ln = keras.layers.LayerNormalization(name="enc_ln")
        self.dec = [_Block(d, heads, ff, True, name=f"dec{i}") for i in range(dec_layers)]
        self.dec_ln = keras.layers.LayerNormalization(name="dec_ln")
        self.head = keras.layers.Dense(1, name="head")  # rebuilt with the right width in build_for
        if diffusion:
            self.embed_x = keras.layers.Dense(d, name="embed_x")
            self.embed_t1 = keras.layers.Dense(d, activation="silu", name="embed_t1")
            self.embed_t2 = keras.layers.Dense(d, name="embed_t2")
        self.data_shape = None

    # ------------------------------------------------------------------ config
    def get_config(self) -> dict:
        return dict(self.cfg)

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    @property
    def diffusion(self) -> bool:
        return self.cfg["diffusion"]

    @property
    def T(self) -> int:
        return self.cfg["T"]

    def build_for(self, data_shape):
        """Create every variable for ``data_shape`` = (L, P, F, Nu, Nb); returns self."""
        L, P, F, nu, nb = (int(s) for s in data_shape)
        d = self.cfg["d_model"]
        self.head = keras.layers.Dense(2 * nu * nb, name="head")
        self.pos_enc = self.add_weight(name="pos_enc", shape=(L * P, d), initializer=keras.initializers.RandomNormal(stddev=0.02))
        self.pos_dec = self.add_weight(name="pos_dec", shape=(F, d), initializer=keras.initializers.RandomNormal(stddev=0.02))
        self.null = self.add_weight(name="null", shape=(d,), initializer=keras.initializers.RandomNormal(stddev=0.02))
        self.data_shape = (L, P, F, nu, nb)
        idx = self.cfg.get("skip_index")
        if idx is not None and (len(idx) != F or not all(-1 <= i < L * P for i in idx)):
            raise ValueError(f"skip_index needs {F} token indices in [-1, {L * P}), got {idx}")
        rows = self.cfg.get("query_index")
        if rows is not None and (len(rows) != F or len({len(r) for r in rows}) != 1
                                 or not all(-1 <= i < L * P for r in rows for i in r)):
            raise ValueError(f"query_index needs {F} rows of equal length of token indices in [-1, {L * P})")
        obs = tf.zeros([1, L, P, nu, nb], tf.complex64)
        mem = self.encode(obs, tf.zeros([1]))
        if self.diffusion:
            self.decode(mem, tf.zeros([1, F, nu, nb], tf.complex64), tf.ones([1]))
        else:
            self.decode(mem)
        self.built = True
        return self

    def named_variables(self) -> dict:
        """Checkpoint keys: each variable's layer path below the model."""
        out = {}
        for v in self.weights:
            key = v.path.replace("/", ".")
            if key in out:
                raise ValueError(f"two variables share the checkpoint key {key!r}")
            out[key] = v
        return out

    # ------------------------------------------------------------------ passes
    def encode(self, obs, snr_db, drop=None):
        """Memory [B, L P, d] of observations [B, L, P, Nu, Nb] (with ``query_index``:
        [B, L P + F, d], the PRB history query tokens last); ``drop`` [B] bool: the null
        (unconditional) memory for those."""
        L, P = self.data_shape[:2]
        tok = to_tokens(obs)                                            # [B, L, P, 2NuNb]
        tok = tf.reshape(tok, [tf.shape(tok)[0], L * P, tok.shape[-1]])
        snr = self.embed_snr(tf.cast(snr_db, tf.float32)[:, None, None] / 10.0)
        x = self.embed_obs(tok) + self.pos_enc[None] + snr
        for blk in self.enc:
            x = blk(x)
        x = self.enc_ln(x)
        rows = self.cfg.get("query_index")
        if rows is not None:   # [B, F, S, Nu, Nb] -> [B, F, 2 S Nu Nb] -> one token per PRB
            hist = self._gather(obs, rows)
            feat = tf.concat(tf.unstack(to_tokens(hist), axis=2), -1)
            x = tf.concat([x, self.embed_q(feat) + snr], 1)
        if drop is not None:
            null = tf.broadcast_to(tf.cast(self.null, x.dtype)[None, None], tf.shape(x))
            x = tf.where(tf.cast(drop, tf.bool)[:, None, None], null, x)
        return x

    def decode(self, memory, x_t=None, t=None):
        """[B, F, Nu, Nb] complex from the memory (and, for the DM, the noisy target
        ``x_t`` and its step ``t``)."""
        L, P, F, nu, nb = self.data_shape
        q = tf.broadcast_to(self.pos_dec[None], [tf.shape(memory)[0], F, self.cfg["d_model"]])
        if self.cfg.get("query_index") is not None:
            memory, q = memory[:, :L * P], q + memory[:, L * P:]
        if self.diffusion:
            temb = self.embed_t2(self.embed_t1(time_features(t, self.T, self.cfg["d_model"])))
            q = q + self.embed_x(to_tokens(x_t)) + temb[:, None, :]
        for blk in self.dec:
            q = blk(q, memory)
        return from_tokens(self.head(self.dec_ln(q)), nu, nb)

    @property
    def has_skip(self) -> bool:
        return self.cfg.get("skip_index") is not None

    def skip(self, obs):
        """The skip connection's estimate [B, F, Nu, Nb] complex64 of observations
        [B, L, P, Nu, Nb] (see ``skip_index``); zeros without one."""
        _, _, F, nu, nb = self.data_shape
        idx = self.cfg.get("skip_index")
        if idx is None:
            return tf.zeros([tf.shape(obs)[0], F, nu, nb], tf.complex64)
        return self._gather(obs, idx)

    def _gather(self, obs, index):
        """Observations at flat token indices: ``index`` of any nesting (-1: zeros) ->
        [B, *shape(index), Nu, Nb] complex64."""
        L, P, _, nu, nb = self.data_shape
        flat = tf.reshape(tf.cast(obs, tf.complex64), [tf.shape(obs)[0], L * P, nu, nb])
        index = np.asarray(index)
        picked = tf.gather(flat, np.maximum(index, 0), axis=1)
        keep = tf.constant(index >= 0)[None, ..., None, None]
        return tf.where(keep, picked, tf.zeros_like(picked))

    def call(self, obs, snr_db, x_t=None, t=None, drop=None):
        """SL / E2E (no ``x_t``): the estimate, skip included. DM: the raw prediction
        (eps, v or x0 of ``h - skip``)."""
        out = self.decode(self.encode(obs, snr_db, drop), x_t, t)
        if self.diffusion or not self.has_skip:
            return out
        return out + self.skip(obs)


def count_parameters(model) -> int:
    return int(sum(np.prod(v.shape) for v in model.weights))
