"""Channel data sets (generation, determinism, files, cache, splits, mixtures) and the
noise patterns of Card A (training times, evaluation first estimates)."""

import numpy as np
import pytest
import tensorflow as tf

from linksim.data import channels as C
from linksim.data import patterns as P
from linksim.errors import UserError

# 4 BS antennas x 12 subcarriers, CDL-C from the quickstart scenario; graph mode (XLA
# compiles for seconds, which only pays off for large sets)
SMALL = {"scenario": "quickstart", "set": {"antennas.bs.cols": 4, "carrier.num_prbs": 1}}
MIX = {**SMALL, "mixture": [{"channel.profile": "A"}, {"label": "B-300", "set": {"channel.profile": "B",
                                                                                "channel.delay_spread_ns": 300}}],
       "symbols": [0, 7]}
KW = dict(batch=8, xla=False, progress=False)


@pytest.fixture(scope="module")
def small():
    return C.make_dataset(SMALL, 16, seed=1, **KW)


@pytest.fixture(scope="module")
def mixed():
    return C.make_dataset(MIX, 32, seed=2, batch=4, xla=False, progress=False)


# --------------------------------------------------------------------------- channels
def test_dataset_shape_and_meta(small):
    assert small.h.shape == (16, 4, 12) and small.h.dtype == np.complex64
    assert small.shape == (4, 12) and len(small) == 16
    assert np.all(small.labels == 0) and small.components == ["base"]
    assert np.array_equal(small.slots, np.arange(16))
    assert 0.2 < small.meta["mean_power"] < 5.0  # ChannelGenerator: unit average gain
    for key in ("spec", "resolved", "seed", "shape", "versions", "created", "generation_seconds"):
        assert key in small.meta
    assert small.meta["versions"]["sionna-no-rt"] and small.meta["versions"]["linksim"]


def test_deterministic(small):
    again = C.make_dataset(SMALL, 16, seed=1, **KW)
    assert np.array_equal(small.h, again.h)
    other = C.make_dataset(SMALL, 16, seed=2, **KW)
    assert not np.allclose(small.h, other.h)


def test_save_load_roundtrip(small, tmp_path):
    path = small.save(tmp_path / "set")
    assert path.suffix == ".npz" and path.with_suffix(".json").is_file()
    back = C.ChannelDataset.load(path)
    assert back.h.dtype == np.complex64 and np.array_equal(back.h, small.h)
    assert np.array_equal(back.labels, small.labels) and np.array_equal(back.slots, small.slots)
    assert back.meta["seed"] == 1 and back.meta["shape"] == [16, 4, 12]
    with pytest.raises(UserError):
        C.ChannelDataset.load(tmp_path / "missing.npz")


def test_cache_hit_does_not_regenerate(tmp_path, monkeypatch):
    first = C.cached_dataset(SMALL, 16, seed=1, cache_dir=tmp_path, **KW)
    assert first.meta["cache"]["hit"] is False
    assert len(list(tmp_path.glob("*.npz"))) == 1

    def boom(*args, **kwargs):
        raise AssertionError("regenerated although cached")

    monkeypatch.setattr(C, "make_dataset", boom)
    second = C.cached_dataset(SMALL, 16, seed=1, cache_dir=tmp_path, **KW)
    assert second.meta["cache"]["hit"] is True
    assert np.array_equal(first.h, second.h)
    # another seed, size or scenario is another key
    keys = {C.cache_key(SMALL, 16, 1, 8, False), C.cache_key(SMALL, 16, 2, 8, False),
            C.cache_key(SMALL, 32, 1, 8, False), C.cache_key(MIX, 16, 1, 8, False),
            C.cache_key(SMALL, 16, 1, 8, True)}
    assert len(keys) == 5


def test_split_sizes_disjoint(small, mixed):
    train, test = small.train_test_split(0.25, seed=0)
    assert (len(train), len(test)) == (12, 4)
    assert not set(train.slots) & set(test.slots)
    assert sorted(np.concatenate([train.slots, test.slots])) == list(range(16))
    again = small.train_test_split(0.25, seed=0)[1]
    assert np.array_equal(again.h, test.h)
    # two symbols per slot: whole slots go to one side
    tr, te = mixed.train_test_split(0.25, seed=1)
    assert len(tr) + len(te) == 32 and len(te) == 8
    assert not set(tr.slots) & set(te.slots)


def test_mixture_labels(mixed):
    assert mixed.h.shape == (32, 4, 12)
    assert mixed.components == ["channel.profile=A", "B-300"]
    assert np.bincount(mixed.labels).tolist() == [16, 16]  # balanced over chunks
    # one component per chunk of 4 slots (8 samples), both symbols of a slot kept
    chunks = mixed.labels.reshape(4, 8)
    assert np.all(chunks == chunks[:, :1])
    assert np.array_equal(mixed.slots, np.repeat(np.arange(16), 2))
    # the two symbols of one slot are close (3 km/h) but not identical
    a, b = mixed.h[0::2], mixed.h[1::2]
    assert 0 < np.mean(np.abs(a - b) ** 2) < 0.1 * np.mean(np.abs(a) ** 2)


def test_presets_resolve():
    comps, resolved = C.resolve_spec("cdl-mix")
    assert len(comps) == 15 and comps[0].label == "CDL-A/30ns"
    assert {(c.scenario.antennas.bs.num_ant, c.scenario.carrier.num_subcarriers) for c in comps} == {(8, 72)}
    for name in ("paper-32x64", "paper-32x64-dual"):
        (comp,), _ = C.resolve_spec(name)
        assert (comp.scenario.antennas.bs.num_ant, comp.scenario.carrier.num_subcarriers) == (32, 64)
    assert len(C.resolve_spec("3gpp-mix")[0]) == 3
    with pytest.raises(UserError, match="mixtur"):
        C.resolve_spec({"scenario": "quickstart", "mixtur": "cdl-mix"})
    with pytest.raises(UserError, match="cdl-mix"):
        C.resolve_spec({"scenario": "quickstart", "mixture": "cdl-mx"})
    with pytest.raises(UserError, match="symbols"):
        C.resolve_spec({**SMALL, "symbols": [14]})


def test_scenario_channel_mixture_becomes_components():
    from linksim.system.config import Channel

    if "mixture" not in Channel.model_fields:
        pytest.skip("scenario schema without channel.mixture")
    spec = {**SMALL, "set": {**SMALL["set"], "channel.mixture": {"profile": ["A", "D"], "delay_spread_ns": [30, 300]}}}
    comps, _ = C.resolve_spec(spec)
    assert [c.label for c in comps] == ["profile=A,delay_spread_ns=30.0", "profile=A,delay_spread_ns=300.0",
                                        "profile=D,delay_spread_ns=30.0", "profile=D,delay_spread_ns=300.0"]
    assert all(not c.scenario.channel.mixture for c in comps)
    assert comps[3].scenario.channel.profile == "D" and comps[3].scenario.channel.delay_spread_ns == 300


def test_normalized(small):
    h_t, scale = small.normalized()
    d = 2 * 4 * 12
    assert np.allclose(np.sum(np.abs(h_t) ** 2, axis=(1, 2)), d, rtol=1e-4)
    assert np.allclose(h_t * scale, small.h, atol=1e-5)


# --------------------------------------------------------------------------- training patterns
SHAPE = (96, 32, 64)
T = 1000


def _tau(pattern, seed=0, shape=SHAPE):
    return P.training_tau(pattern, shape, T, tf.random.Generator.from_seed(seed)).numpy()


def _is_periodic(x, axis, lo, hi):
    n = x.shape[axis]
    for p in range(1, n):
        a = np.take(x, range(p, n), axis=axis)
        b = np.take(x, range(0, n - p), axis=axis)
        if np.array_equal(a, b):
            return lo <= p <= hi
    return False


def _kind(t):
    if np.all(t == t.flat[0]):
        return "same"
    if np.all(t == t[:1]):
        return "car-only"
    if _is_periodic(t, 1, 4, 20) and _is_periodic(t, 0, 4, 10):
        return "periodical"
    return "independent"


INTEGER_PATTERNS = ("same", "independent", "periodical", "car-only", "non-directional", "all")


@pytest.mark.parametrize("pattern", INTEGER_PATTERNS)
def test_training_tau_shape_range(pattern):
    t = _tau(pattern)
    assert t.shape == SHAPE and t.dtype == np.int32
    assert t.min() >= 0 and t.max() <= T - 1
    assert np.array_equal(t, _tau(pattern)) and not np.array_equal(t, _tau(pattern, seed=1))


def test_training_tau_simple_patterns():
    same = _tau("same")
    assert np.all(same == same[:, :1, :1]) and len(np.unique(same[:, 0, 0])) > 50
    car = _tau("car-only")
    assert np.all(car == car[:, :1, :]) and all(len(np.unique(c[0])) > 50 for c in car)
    ind = _tau("independent")
    assert all(_kind(x) == "independent" for x in ind)
    assert abs(ind.mean() - (T - 1) / 2) < 10
    per = _tau("periodical")
    assert all(_kind(x) == "periodical" for x in per)
    # periods vary over samples (U{4..20} along subcarriers)
    periods = {next(p for p in range(1, 64) if np.array_equal(x[:, p:], x[:, :-p])) for x in per}
    assert len(periods) > 8 and min(periods) >= 4 and max(periods) <= 20


@pytest.mark.parametrize("pattern,kinds", [("non-directional", {"same", "independent", "periodical"}),
                                           ("all", {"same", "independent", "periodical", "car-only"})])
def test_training_tau_mixes(pattern, kinds):
    t = _tau(pattern, shape=(240, 32, 64))
    counts = {}
    for x in t:
        counts[_kind(x)] = counts.get(_kind(x), 0) + 1
    assert set(counts) == kinds
    assert min(counts.values()) > 240 / len(kinds) / 2


def test_training_tau_continuous():
    t = P.training_tau("independent", SHAPE, T, tf.random.Generator.from_seed(0), continuous=True).numpy()
    ints = _tau("independent")
    assert t.dtype == np.float32
    frac = t - ints                                           # the same integer draw, plus U[0, 1)
    assert frac.min() >= 0 and frac.max() <= 1 and 0.45 < frac.mean() < 0.55 and len(np.unique(t)) > 10 * T


def test_training_tau_comb_is_the_receivers_pilot_state():
    from linksim.diffusion import GammaSchedule

    sched = GammaSchedule(100)
    t = P.training_tau("comb", (400, 8, 72), 100, tf.random.Generator.from_seed(2), schedule=sched,
                       comb=[4], snr_db=[0.0, 20.0]).numpy()
    for x in t:
        observed = np.nonzero(x[0] < 100)[0]
        # every 4th subcarrier from a random offset, the same on all antennas, T elsewhere
        assert len(observed) == 18 and np.all(np.diff(observed) == 4) and np.all(x == x[:1])
        assert np.all(x[:, np.setdiff1d(np.arange(72), observed)] == 100)
    # the observed times are gamma^-1 of A = sqrt(snr / (snr + noise)): without an interferer
    # (the most common value in a sample) the SNR lies in [0, 20] dB, with one it is lower
    alpha = sched.alpha(t).numpy()
    snr_db = 10 * np.log10(alpha ** 2 / (1 - alpha ** 2))
    obs = t < 100
    common = np.array([np.median(s[o]) for s, o in zip(snr_db, obs)])
    assert common.min() > -0.1 and common.max() < 20.1 and common.std() > 4
    assert snr_db[obs].min() < -5       # some samples carry a band of 0-30 dB more noise
    # the receiver pattern mixes comb states and Card A's patterns
    r = P.training_tau("receiver", (200, 8, 72), 100, tf.random.Generator.from_seed(3), schedule=sched).numpy()
    is_comb = np.array([np.all(x == x[:1]) and np.sum(x[0] == 100) == 54 for x in r])
    assert 0.3 < is_comb.mean() < 0.7


def test_training_tau_in_graph():
    rng = tf.random.Generator.from_seed(5)
    fn = tf.function(lambda b: P.training_tau("all", (b, 8, 16), T, rng))
    out = fn(tf.constant(4))
    assert out.shape == (4, 8, 16)
    assert P.training_tau("same", (2, 3, 4), T, np.random.default_rng(0)).shape == (2, 3, 4)
    with pytest.raises(UserError, match="periodical"):
        P.training_tau("periodic", SHAPE, T)


# --------------------------------------------------------------------------- evaluation inits
DENSITY = {"white": 1.0, "exp": 1.0, "salt": round(0.3 * 32 * 64) / (32 * 64), "salt-rec": 19 / 64,
           "pilot": 0.25, "pilot-car": 0.125}


def _cn(shape, rng):
    return ((rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) / np.sqrt(2)).astype(np.complex64)


@pytest.mark.parametrize("name", list(P.EVAL_PATTERNS))
def test_evaluation_init(name):
    rng = np.random.default_rng(0)
    mask, p = P.evaluation_init(name, SHAPE, rng)
    assert mask.shape == p.shape == SHAPE and mask.dtype == p.dtype == np.float32
    assert set(np.unique(mask)) <= {0.0, 1.0}
    dens = mask.mean(axis=(1, 2))
    assert np.allclose(dens, DENSITY[name], atol=1e-6)
    # noise only on kept elements, with the 10 % floor
    assert np.all(p[mask == 0] == 0) and np.all(p[mask == 1] > 0)
    snr = P.EVAL_PATTERNS[name]
    e_noise = 32 * 64 / 10 ** (snr / 10)
    assert np.allclose(np.sum(p.astype(np.float64) ** 2, axis=(1, 2)), e_noise, rtol=1e-4)
    kept = mask.sum(axis=(1, 2), keepdims=True)
    assert np.all((p ** 2 >= 0.1 * e_noise / kept * (1 - 1e-4)) | (mask == 0))
    # realised SNR over unit-power channels
    h = _cn(SHAPE, rng)
    h_bar = P.observe(h, mask, p, rng)
    assert h_bar.dtype == np.complex64
    assert np.all(h_bar[mask == 0] == 0)
    realised = P.snr_db(h, h_bar, mask)
    assert abs(np.mean(realised) - snr) < 0.15
    # same seed, same init
    m2, p2 = P.evaluation_init(name, SHAPE, np.random.default_rng(0))
    assert np.array_equal(mask, m2) and np.array_equal(p, p2)


def test_evaluation_init_structure():
    rng = np.random.default_rng(1)
    mask, p = P.evaluation_init("salt-rec", SHAPE, rng)
    assert np.array_equal(mask[:, :8, :8], mask[:, 8:16, 40:48]) and np.array_equal(p[:, :8, :8], p[:, 24:, 56:])
    assert not np.array_equal(mask[0], mask[1])
    mask, _ = P.evaluation_init("pilot-car", SHAPE, rng)
    assert np.all(mask == mask[:, :1]) and np.all(mask[:, :, ::8] == 1)
    _, p = P.evaluation_init("white", SHAPE, rng)
    assert np.allclose(p, p.flat[0])
    _, p = P.evaluation_init("exp", SHAPE, rng)
    assert p.std() > 0.3 * p.mean()
    # SNR over the observed entries: 10 dB per kept pilot
    mask, p = P.evaluation_init("pilot", SHAPE, rng, snr_reference="observed")
    assert np.allclose(np.sum(p ** 2, axis=(1, 2)), mask.sum(axis=(1, 2)) / 10, rtol=1e-4)
    mask, p = P.evaluation_init("salt", SHAPE, rng, snr_db=3.0)
    assert np.allclose(np.sum(p.astype(np.float64) ** 2, axis=(1, 2)), 32 * 64 / 10 ** 0.3, rtol=1e-4)


def test_observe_normalised_tf_and_rewrite(small):
    from linksim.diffusion import observation_rewrite

    h_t, _ = small.normalized()  # unit power per real entry
    mask, p = P.evaluation_init("salt", (16, 4, 12), np.random.default_rng(3))
    h_bar = P.observe(tf.constant(h_t), mask, p, tf.random.Generator.from_seed(0), unit="real")
    assert isinstance(h_bar, tf.Tensor) and h_bar.dtype == tf.complex64
    realised = P.snr_db(h_t, h_bar.numpy(), mask)
    assert abs(np.mean(realised) - 0.0) < 1.0  # 16 small samples: loose
    _, a, b = observation_rewrite(h_bar, mask, p)
    a, b = a.numpy(), b.numpy()
    assert np.all(a[mask == 0] == 0) and np.all(b[mask == 0] == 1)
    assert np.allclose(a ** 2 + b ** 2, 1, atol=1e-5)


def test_one_cache_reads_remakes_and_writes_atomically(tmp_path):
    """linksim's one cache (every family's channel draws, fits, decompositions): a file is
    read when it is there and usable, made again when it is damaged or of another shape,
    and never left half-written."""
    from linksim.data.cache import keyed_path, load_or_make

    path = keyed_path("test", {"n": 3}, ".npy", tmp_path)
    assert path.parent == tmp_path and path.name.startswith("test-") and path != keyed_path("test", {"n": 4}, ".npy", tmp_path)
    made = []

    def make():
        made.append(1)
        return np.arange(3.0)

    def read(p):
        a = np.load(p, allow_pickle=False)
        return a if a.shape == (3,) else None

    def write(f, a):
        np.save(f, a, allow_pickle=False)

    np.testing.assert_array_equal(load_or_make(path, make, read, write), np.arange(3.0))
    np.testing.assert_array_equal(load_or_make(path, make, read, write), np.arange(3.0))
    assert len(made) == 1                                                  # the second call read the file
    np.save(path, np.zeros(5))                                             # another shape: made again
    load_or_make(path, make, read, write)
    path.write_bytes(b"not a npy file")                                    # damaged: made again
    load_or_make(path, make, read, write)
    assert len(made) == 3 and np.load(path).shape == (3,)
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]       # no temporary file left
