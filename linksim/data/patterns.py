"""Noise patterns of Card A: training times ``tau`` and evaluation first estimates.

Shapes are ``[B, Na, Nc]`` (batch, BS antennas, subcarriers).

Training (:func:`training_tau`, TensorFlow, works inside ``tf.function`` with a
``tf.random.Generator``): integer times in ``{0..T-1}``

- ``same``: one time per sample (ordinary identical diffusion);
- ``independent``: every element drawn on its own;
- ``periodical``: a period ``pc ~ U{4..20}`` along subcarriers and ``pa ~ U{4..10}``
  along antennas per sample; the ``pa x pc`` values of one period are drawn
  independently and tiled over the array;
- ``car-only``: one time per subcarrier, shared by all antennas;
- ``non-directional``: per sample one of same / independent / periodical (uniform);
- ``all``: per sample one of same / independent / periodical / car-only (uniform);
- ``comb``: the states a receiver starts from: pilots on every ``k``-th subcarrier
  (``k`` from ``comb``, random offset) of all antennas at an SNR drawn uniformly in dB
  from ``snr_db`` (in a quarter of the samples a random band of up to ``Nc/8``
  subcarriers has 0-30 dB more noise, like a narrowband interferer), ``tau = T``
  elsewhere; needs the ``schedule`` (times are ``gamma^-1`` of the observation's ``A``);
- ``receiver``: per sample ``comb`` or ``all`` (uniform).

``continuous=True`` adds ``U[0, 1)`` to the integer times (fractional times, as a receiver
meets them); ``comb`` times are fractional anyway.

Evaluation (:func:`evaluation_init`, NumPy): a pilot mask ``M`` and a per-element noise
std ``P`` for the first estimate :math:`\\bar H = M\\odot H + P\\odot N`
(:func:`observe`). The noise energy is set by the pattern's SNR: with unit-power channel
entries, SNR = (total signal energy) / (total noise energy), where the signal energy is
``Na*Nc`` per sample (``snr_reference="full"``, default) or the energy of the observed
entries, ``sum(M)`` (``"observed"``: the SNR per kept element of the equal-power
patterns). 10 % of the noise energy is spread evenly over the kept elements (the
floor), 90 % by the pattern's power weights; masked-out elements get no noise (``P=0``).

=========  ===============================================  ======  =========
name       mask                                             power   SNR [dB]
=========  ===============================================  ======  =========
white      all                                              equal   -10
exp        all                                              Exp(.5) -5
salt       30 % of the elements at random                   equal   0
salt-rec   an 8x8 tile (30 % kept) repeated                 Exp(.5) 0
pilot      every 2nd antenna and every 2nd subcarrier       equal   10
pilot-car  every 8th subcarrier, all antennas               equal   10
=========  ===============================================  ======  =========

Units of ``P``: ``P`` is relative to an RMS channel entry. Draw ``N`` as CN(0, 1) for
channels with unit-power complex entries (raw data sets) or with unit variance per real
entry for channels normalised by :func:`linksim.diffusion.normalize_data`
(``observe(..., unit="real")``); the latter is the convention of
:func:`linksim.diffusion.observation_rewrite`, which turns ``(h_bar, M, P)`` into
``(H~, A, B)``. Either way the realised SNR is the stated one.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

__all__ = [
    "TRAINING_PATTERNS",
    "EVAL_PATTERNS",
    "training_tau",
    "evaluation_init",
    "observe",
    "snr_db",
]

TRAINING_PATTERNS = ("same", "independent", "periodical", "car-only", "non-directional", "all", "comb",
                     "receiver")

#: name -> default SNR [dB]
EVAL_PATTERNS = {"white": -10.0, "exp": -5.0, "salt": 0.0, "salt-rec": 0.0, "pilot": 10.0, "pilot-car": 10.0}

_MIXES = {"non-directional": ("same", "independent", "periodical"),
          "all": ("same", "independent", "periodical", "car-only"),
          "receiver": ("comb", "all")}


# --------------------------------------------------------------------------- rng helpers
def _tf_rng(rng) -> tf.random.Generator:
    if isinstance(rng, tf.random.Generator):
        return rng
    if rng is None:
        from sionna.phy import config

        return config.tf_rng
    if isinstance(rng, np.random.Generator):
        return tf.random.Generator.from_seed(int(rng.integers(0, 2**62)))
    if isinstance(rng, (int, np.integer)):
        return tf.random.Generator.from_seed(int(rng))
    raise TypeError(f"rng must be a tf.random.Generator, np.random.Generator, int or None, got {type(rng).__name__}")


def _np_rng(rng) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:
        from sionna.phy import config

        return config.np_rng
    if isinstance(rng, (int, np.integer)):
        return np.random.default_rng(int(rng))
    raise TypeError(f"rng must be a np.random.Generator, int or None, got {type(rng).__name__}")


def _check_name(name, names, what):
    if name not in names:
        from ..errors import UserError, allowed, did_you_mean, echo

        raise UserError(f"unknown {what} {echo(name)}{did_you_mean(name, names)}; allowed: {allowed(names)}",
                        field=what)


# --------------------------------------------------------------------------- training
def _same(b, na, nc, T, rng):
    x = rng.uniform([b, 1, 1], 0, T, dtype=tf.int32)
    return tf.broadcast_to(x, tf.stack([b, na, nc]))


def _independent(b, na, nc, T, rng):
    return rng.uniform(tf.stack([b, na, nc]), 0, T, dtype=tf.int32)


def _car_only(b, na, nc, T, rng):
    x = rng.uniform(tf.stack([b, 1, nc]), 0, T, dtype=tf.int32)
    return tf.broadcast_to(x, tf.stack([b, na, nc]))


def _periodical(b, na, nc, T, rng, period_ant=(4, 10), period_car=(4, 20)):
    pa_max, pc_max = int(period_ant[1]), int(period_car[1])
    pa = rng.uniform([b], int(period_ant[0]), pa_max + 1, dtype=tf.int32)
    pc = rng.uniform([b], int(period_car[0]), pc_max + 1, dtype=tf.int32)
    tile = rng.uniform(tf.stack([b, pa_max, pc_max]), 0, T, dtype=tf.int32)
    ia = tf.math.floormod(tf.range(na)[None, :], pa[:, None])  # [B, Na]
    ic = tf.math.floormod(tf.range(nc)[None, :], pc[:, None])  # [B, Nc]
    rows = tf.gather(tile, ia, axis=1, batch_dims=1)  # [B, Na, pc_max]
    return tf.gather(rows, ic, axis=2, batch_dims=1)  # [B, Na, Nc]


def _comb(b, na, nc, T, rng, schedule, combs, snr_db):
    combs = tf.constant([int(c) for c in combs], tf.int32)
    k = tf.gather(combs, rng.uniform([b], 0, combs.shape[0], dtype=tf.int32))[:, None]       # [B, 1]
    offset = tf.cast(tf.floor(rng.uniform([b, 1]) * tf.cast(k, tf.float32)), tf.int32)
    observed = tf.equal(tf.math.floormod(tf.range(nc)[None, :] - offset, k), 0)[:, None, :]  # [B, 1, Nc]
    snr = 10.0 ** (rng.uniform([b, 1, 1], float(snr_db[0]), float(snr_db[1])) / 10.0)
    # a narrowband interferer in a quarter of the samples: 0-30 dB more noise on a band
    f = tf.range(nc)[None, None, :]
    start = rng.uniform([b, 1, 1], 0, nc, dtype=tf.int32)
    width = rng.uniform([b, 1, 1], 1, max(nc // 8, 1) + 1, dtype=tf.int32)
    band = tf.logical_and(f >= start, f < start + width)
    hit = tf.logical_and(band, rng.uniform([b, 1, 1]) < 0.25)
    extra = 10.0 ** (rng.uniform([b, 1, 1], 0.0, 30.0) / 10.0)
    noise = tf.where(hit, 1.0 + extra, tf.ones_like(extra))                                  # [B, 1, Nc]
    alpha = tf.sqrt(snr / (snr + noise))
    tau_obs = tf.cast(schedule.tau_of_alpha(alpha), tf.float32)
    tau = tf.where(observed, tau_obs, tf.cast(T, tf.float32) * tf.ones_like(tau_obs))
    return tf.broadcast_to(tau, tf.stack([b, na, nc]))


_SIMPLE = {"same": _same, "independent": _independent, "periodical": _periodical, "car-only": _car_only}


def training_tau(pattern: str, shape, T: int, rng=None, *, period_ant=(4, 10), period_car=(4, 20),
                 continuous: bool = False, schedule=None, comb=(4,), snr_db=(-10.0, 30.0)) -> tf.Tensor:
    """Element-wise training times for one batch.

    Input
    -----
    pattern : str
        One of :data:`TRAINING_PATTERNS`.
    shape : (B, Na, Nc)
        Python ints or scalar tensors.
    T : int
        Times are drawn from ``{0, ..., T-1}``.
    rng : tf.random.Generator | np.random.Generator | int | None
        ``None`` uses Sionna's ``config.tf_rng``; a NumPy generator or an int seeds a
        fresh TensorFlow generator (eager use only).
    period_ant, period_car : (lo, hi)
        Inclusive period ranges of ``periodical`` (paper: 4..10 and 4..20).
    continuous : bool
        Fractional times (integer time + U[0, 1)).
    schedule : Schedule | None
        Needed by ``comb`` and ``receiver``.
    comb : sequence of int
        Comb spacings of ``comb``.
    snr_db : (lo, hi)
        SNR range of ``comb`` [dB].

    Output
    ------
    tau : [B, Na, Nc], tf.int32 (integer patterns), else tf.float32
    """
    _check_name(pattern, TRAINING_PATTERNS, "pattern")
    rng = _tf_rng(rng)
    b, na, nc = (tf.cast(x, tf.int32) if tf.is_tensor(x) else int(x) for x in shape)
    T = int(T)

    if pattern in ("comb", "receiver") and schedule is None:
        raise ValueError(f'pattern "{pattern}" needs the schedule')
    floats = continuous or pattern in ("comb", "receiver")

    def simple(name):
        if name == "comb":
            return _comb(b, na, nc, T, rng, schedule, comb, snr_db)
        if name == "periodical":
            t = _periodical(b, na, nc, T, rng, period_ant, period_car)
        else:
            t = _SIMPLE[name](b, na, nc, T, rng)
        if not floats:
            return t
        t = tf.cast(t, tf.float32)
        return t + rng.uniform(tf.shape(t)) if continuous else t

    def draw(name):
        if name not in _MIXES:
            return simple(name)
        names = _MIXES[name]
        pick = rng.uniform([b], 0, len(names), dtype=tf.int32)[:, None, None]
        out = draw(names[0])
        for i, other in enumerate(names[1:], start=1):
            out = tf.where(pick == i, draw(other), out)
        return out

    return draw(pattern)


# --------------------------------------------------------------------------- evaluation
def _random_keep(rng, b, n, fraction):
    """[b, n] bool with exactly max(1, round(fraction*n)) True per row, at random."""
    k = max(1, int(round(fraction * n)))
    ranks = np.argsort(rng.random((b, n)), axis=1)
    keep = np.zeros((b, n), bool)
    np.put_along_axis(keep, ranks[:, :k], True, axis=1)
    return keep


def _pattern_maps(name, b, na, nc, rng, keep=0.3, tile=8, rate=0.5):
    """(mask, power weights) [B, Na, Nc], float64; weights are 0 where mask is 0."""
    ones = np.ones((b, na, nc))
    if name == "white":
        return ones, ones.copy()
    if name == "exp":
        return ones, rng.exponential(1.0 / rate, size=(b, na, nc))
    if name == "salt":
        mask = _random_keep(rng, b, na * nc, keep).reshape(b, na, nc).astype(np.float64)
        return mask, mask.copy()
    if name == "salt-rec":
        ta, tc = min(tile, na), min(tile, nc)
        m = _random_keep(rng, b, ta * tc, keep).reshape(b, ta, tc).astype(np.float64)
        w = m * rng.exponential(1.0 / rate, size=(b, ta, tc))
        reps = (1, -(-na // ta), -(-nc // tc))
        mask = np.tile(m, reps)[:, :na, :nc]
        weight = np.tile(w, reps)[:, :na, :nc]
        return mask, weight
    if name == "pilot":
        a = (np.arange(na) % 2 == 0)[:, None]
        c = (np.arange(nc) % 2 == 0)[None, :]
        mask = np.broadcast_to((a & c).astype(np.float64), (b, na, nc)).copy()
        return mask, mask.copy()
    if name == "pilot-car":
        c = (np.arange(nc) % 8 == 0)[None, :]
        mask = np.broadcast_to(np.broadcast_to(c, (na, nc)).astype(np.float64), (b, na, nc)).copy()
        return mask, mask.copy()
    raise AssertionError(name)


def evaluation_init(name: str, shape, rng=None, *, snr_db: float | None = None, floor: float = 0.1,
                    snr_reference: str = "full"):
    """Mask and noise std of an evaluation first estimate (see the module table).

    Input
    -----
    name : str
        One of :data:`EVAL_PATTERNS`.
    shape : (B, Na, Nc)
    rng : np.random.Generator | int | None
        ``None`` uses Sionna's ``config.np_rng``.
    snr_db : float | None
        Overrides the pattern's default SNR.
    floor : float
        Share of the noise energy spread evenly over the kept elements (0.1).
    snr_reference : "full" | "observed"
        Signal energy the SNR refers to: all ``Na*Nc`` unit-power entries, or only the
        kept ones (``sum(M)``).

    Output
    ------
    mask : [B, Na, Nc], np.float32 in {0, 1}
    p_std : [B, Na, Nc], np.float32 >= 0, 0 where ``mask`` is 0
        Per sample ``sum(p_std**2) = E_signal / 10**(snr_db/10)``.
    """
    _check_name(name, EVAL_PATTERNS, "init pattern")
    if snr_reference not in ("full", "observed"):
        raise ValueError(f'snr_reference must be "full" or "observed", got {snr_reference!r}')
    if not 0.0 <= floor <= 1.0:
        raise ValueError(f"floor must be in [0, 1], got {floor}")
    rng = _np_rng(rng)
    b, na, nc = (int(x) for x in shape)
    snr = EVAL_PATTERNS[name] if snr_db is None else float(snr_db)
    mask, weight = _pattern_maps(name, b, na, nc, rng)
    kept = mask.sum(axis=(1, 2), keepdims=True)
    e_sig = float(na * nc) if snr_reference == "full" else kept
    e_noise = e_sig / 10.0 ** (snr / 10.0)
    wsum = weight.sum(axis=(1, 2), keepdims=True)
    power = floor * e_noise * mask / kept + (1.0 - floor) * e_noise * weight / np.where(wsum > 0, wsum, 1.0)
    return mask.astype(np.float32), np.sqrt(power).astype(np.float32)


def observe(h, mask, p_std, rng=None, *, unit: str = "complex"):
    """First estimate :math:`\\bar H = M\\odot H + P\\odot N`.

    NumPy in, NumPy out (``rng``: np.random.Generator / int / None = Sionna's np_rng);
    with a TensorFlow tensor ``h`` or a ``tf.random.Generator`` it runs in TensorFlow.

    Input
    -----
    h : [B, Na, Nc], complex (or real)
    mask, p_std : broadcastable to ``h``, real
    unit : "complex" | "real"
        Complex ``h``: ``"complex"`` draws N ~ CN(0, 1) (variance 1/2 per real part; for
        channels with unit-power entries), ``"real"`` unit variance per real part (for
        channels normalised by ``normalize_data``). Real ``h``: N(0, 1) either way.

    Output
    ------
    h_bar : like ``h``
    """
    if unit not in ("complex", "real"):
        raise ValueError(f'unit must be "complex" or "real", got {unit!r}')
    if tf.is_tensor(h) or isinstance(rng, tf.random.Generator):
        h = tf.convert_to_tensor(h)
        g = _tf_rng(rng)
        rdt = h.dtype.real_dtype
        shape = tf.shape(h)
        m, p = tf.cast(mask, rdt), tf.cast(p_std, rdt)
        if h.dtype.is_complex:
            s = 1.0 if unit == "real" else float(np.sqrt(0.5))
            n = tf.complex(g.normal(shape, dtype=rdt) * s, g.normal(shape, dtype=rdt) * s)
            return tf.cast(m, h.dtype) * h + tf.cast(p, h.dtype) * n
        return m * h + p * g.normal(shape, dtype=rdt)
    g = _np_rng(rng)
    h = np.asarray(h)
    if np.iscomplexobj(h):
        s = 1.0 if unit == "real" else np.sqrt(0.5)
        n = (g.standard_normal(h.shape) + 1j * g.standard_normal(h.shape)) * s
    else:
        n = g.standard_normal(h.shape)
    return (np.asarray(mask) * h + np.asarray(p_std) * n).astype(h.dtype)


def snr_db(h, h_bar, mask=None, *, reference: str = "full"):
    """Realised SNR per sample [dB]: signal energy (all of ``h``, or ``M*h`` with
    ``reference="observed"``) over the energy of ``h_bar - M*h``. NumPy, [B]."""
    h, h_bar = np.asarray(h), np.asarray(h_bar)
    m = np.ones(h.shape) if mask is None else np.asarray(mask)
    axes = tuple(range(1, h.ndim))
    sig = np.sum(np.abs(h if reference == "full" else m * h) ** 2, axis=axes)
    noise = np.sum(np.abs(h_bar - m * h) ** 2, axis=axes)
    return 10.0 * np.log10(sig / noise)
