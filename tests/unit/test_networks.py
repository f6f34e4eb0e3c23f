"""Denoising network (complex interleaved MLP-Mixer, 2-D time embedding) and checkpoints."""

import json

import numpy as np
import pytest
import tensorflow as tf

from linksim.diffusion import GammaSchedule
from linksim.diffusion.checkpoints import load_checkpoint, save_checkpoint
from linksim.diffusion.nets.mixer import (PROFILES, MixerDenoiserNet, count_macs,
                                        count_parameters, make_network)
from linksim.errors import UserError

NA, NC = 4, 6
TINY = dict(num_blocks=2, width=2, hidden=4, channel_hidden=4, temb_dim=4, emb_hidden=4)
SCHED = GammaSchedule(100).to_config()


def tiny(**kw):
    return MixerDenoiserNet(**{**TINY, **kw}).build_for((NA, NC))


def inputs(batch=3, seed=0):
    rng = np.random.default_rng(seed)
    x = tf.constant(rng.normal(size=(batch, NA, NC, 2)), tf.float32)
    tau = tf.constant(rng.uniform(0, 100, size=(batch, NA, NC)), tf.float32)
    return x, tau


def copy_weights(src, dst):
    s, d = src.named_variables(), dst.named_variables()
    assert list(s) == list(d)
    for k in s:
        d[k].assign(s[k])


def test_output_shape_and_tau_shapes():
    m = tiny()
    x, tau = inputs()
    assert m(x, tau).shape == (3, NA, NC, 2)
    # identical diffusion: a per-sample scalar equals the broadcast matrix
    t = tf.constant([3.0, 40.0, 90.0])
    full = tf.broadcast_to(t[:, None, None], [3, NA, NC])
    ref = m(x, full).numpy()
    for tt in (t, t[:, None, None], t[:, None, None, None], full[..., None]):
        np.testing.assert_allclose(m(x, tt).numpy(), ref, atol=1e-6)
    assert m(x, 7.0).shape == (3, NA, NC, 2)


def test_paper_profile_size():
    m = make_network("paper").build_for((32, 64))
    n = count_parameters(m)
    assert abs(n - 615_000) <= 0.10 * 615_000, n
    assert PROFILES["paper"]["num_blocks"] == 5
    macs = count_macs("paper", 32, 64)
    assert 1e9 < macs < 13.9e9  # ours ~1.35 GMAC vs. the paper's 13.9
    assert 10_000 <= count_parameters(make_network("cpu").build_for((8, 72))) <= 40_000


def test_config_round_trip():
    m = tiny(embed_mode="row", embed_avg="alpha", schedule=SCHED)
    cfg = json.loads(json.dumps(m.get_config()))
    m2 = MixerDenoiserNet.from_config(cfg).build_for((NA, NC))
    assert m2.get_config() == m.get_config()
    copy_weights(m, m2)
    x, tau = inputs()
    np.testing.assert_array_equal(m(x, tau).numpy(), m2(x, tau).numpy())


def test_responds_to_time_and_embedding():
    x, tau = inputs()
    m = tiny()
    y = m(x, tau).numpy()
    assert not np.allclose(y, m(x, tau + 30.0).numpy(), atol=1e-4)
    assert not np.allclose(y, m(x, tf.reverse(tau, axis=[2])).numpy(), atol=1e-4)
    # same weights, other embedding modes / averages -> other outputs
    outs = {}
    for mode in ("row", "col", "both"):
        for avg in ("tau", "alpha"):
            mm = tiny(embed_mode=mode, embed_avg=avg, schedule=SCHED)
            copy_weights(m, mm)
            outs[mode, avg] = mm(x, tau).numpy()
    np.testing.assert_array_equal(outs["col", "tau"], y)  # default is col / tau
    keys = list(outs)
    for i, a in enumerate(keys):
        for b in keys[i + 1:]:
            assert not np.allclose(outs[a], outs[b], atol=1e-5), (a, b)


def test_time_embedding_semantics():
    """The network sees tau only through its two averaged vectors: tau_c (mean over the
    subcarriers, one per antenna) and tau_a (mean over the antennas, one per subcarrier)."""
    a, c = np.meshgrid(np.arange(NA), np.arange(NC), indexing="ij")
    tau = tf.constant((10.0 * a + c)[None], tf.float32)                  # [1, Na, Nc]
    m = tiny(round_tau=False)
    tau_c, tau_a = m.averaged_times(tau)
    np.testing.assert_allclose(tau_c.numpy()[0], 10.0 * np.arange(NA) + (NC - 1) / 2)
    np.testing.assert_allclose(tau_a.numpy()[0], 10.0 * (NA - 1) / 2 + np.arange(NC))
    # power average: gamma^-1 of the mean alpha along each axis
    ma = tiny(embed_avg="alpha", schedule=SCHED, round_tau=False)
    sched = GammaSchedule(100)
    want = sched.tau_of_alpha(tf.reduce_mean(sched.alpha(tau), axis=2)).numpy()[0]
    np.testing.assert_allclose(ma.averaged_times(tau)[0].numpy()[0], want, rtol=1e-5)
    # a change with zero row and column sums leaves both averages, hence the output, alone
    x, t = inputs(batch=1)
    delta = np.zeros([1, NA, NC], np.float32)
    delta[0, :2, :2] = [[5.0, -5.0], [-5.0, 5.0]]
    for mode in ("row", "col", "both"):
        mm = tiny(embed_mode=mode, round_tau=False)
        np.testing.assert_allclose(mm(x, t + delta).numpy(), mm(x, t).numpy(), atol=1e-5)
        bump = np.zeros_like(delta)
        bump[0, 1, 1] = 5.0
        assert not np.allclose(mm(x, t + bump).numpy(), mm(x, t).numpy(), atol=1e-5)
    # continuous times reach the embedding; the paper's rounding hides sub-integer changes
    t0 = tf.constant(np.full([1, NA, NC], 20.0, np.float32))
    assert not np.allclose(m(x, t0 + 0.3).numpy(), m(x, t0).numpy(), atol=1e-6)
    rounded = tiny(round_tau=True)
    np.testing.assert_array_equal(rounded(x, t0 + 0.3).numpy(), rounded(x, t0).numpy())


def test_residual_network_input_and_zero_output():
    m = tiny(in_features=2, zero_output=True)
    x, tau = inputs()
    two = tf.concat([x, x], axis=-1)
    assert m(two, tau).shape == (3, NA, NC, 2)
    np.testing.assert_array_equal(m(two, tau).numpy(), 0.0)   # a residual starts at 0
    with pytest.raises(ValueError, match=r"\[batch, Na, Nc, 4\]"):
        m(x, tau)


def test_bad_constructor_args():
    with pytest.raises(ValueError, match="schedule"):
        MixerDenoiserNet(**TINY, embed_avg="alpha")
    with pytest.raises(ValueError, match="embed_mode"):
        MixerDenoiserNet(**TINY, embed_mode="diag")


def test_eager_graph_xla_agree():
    m = tiny(embed_mode="both", embed_avg="alpha", schedule=SCHED)
    x, tau = inputs()
    eager = m(x, tau).numpy()
    graph = tf.function(lambda a, b: m(a, b))(x, tau).numpy()
    xla = tf.function(lambda a, b: m(a, b), jit_compile=True)(x, tau).numpy()
    # float32 kernels may sum in another order in a graph or under XLA: agree to
    # about a hundred ulps of the output's size, not bit for bit
    np.testing.assert_allclose(graph, eager, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(xla, eager, rtol=1e-4, atol=1e-5)


# ------------------------------------------------------------------ checkpoints
@pytest.fixture
def ckpt(tmp_path):
    m = tiny(embed_mode="row")
    extra = {"parameterisation": "v", "schedule": SCHED, "input_norm": "total",
             "training": {"scenario": "tiny", "steps": 3, "time_s": 0.1, "nmse": 0.5}}
    path = save_checkpoint(tmp_path / "ck", m, data_shape=(NA, NC), extra=extra)
    return path, m


def test_checkpoint_round_trip(ckpt):
    path, m = ckpt
    assert sorted(p.name for p in path.iterdir()) == ["config.json", "weights.npz"]
    m2, cfg = load_checkpoint(path, expected_shape=(NA, NC))
    assert cfg["class"] == "linksim.diffusion.nets.mixer:MixerDenoiserNet"
    assert cfg["data_shape"] == [NA, NC] and cfg["parameterisation"] == "v"
    assert cfg["training"]["steps"] == 3 and "linksim_version" in cfg
    x, tau = inputs()
    np.testing.assert_array_equal(m(x, tau).numpy(), m2(x, tau).numpy())


def test_checkpoint_wrong_shape(ckpt):
    path, _ = ckpt
    msg = r"trained for shape \(4, 6\), scenario needs \(8, 72\)"
    with pytest.raises(UserError, match=msg) as e:
        load_checkpoint(path, expected_shape=(8, 72))
    assert e.value.field == "data_shape" and e.value.source == str(path)


def test_checkpoint_altered_weights(ckpt):
    path, _ = ckpt
    w = path / "weights.npz"
    with np.load(w, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["lift.w_re"] = arrays["lift.w_re"] + 1.0
    with open(w, "wb") as f:
        np.savez(f, **arrays)
    with pytest.raises(UserError, match="weights.npz was altered: sha256") as e:
        load_checkpoint(path)
    assert e.value.field == "weights_sha256"
    # a flipped byte too
    data = bytearray(w.read_bytes())
    data[len(data) // 2] ^= 0xFF
    w.write_bytes(bytes(data))
    with pytest.raises(UserError, match="altered"):
        load_checkpoint(path)


def test_checkpoint_variable_mismatch(ckpt, tmp_path):
    path, _ = ckpt
    cfg = json.loads((path / "config.json").read_text())
    cfg["config"]["hidden"] = 5  # network now needs other shapes than the file has
    (path / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(UserError, match="has shape") as e:
        load_checkpoint(path)
    assert e.value.field.startswith("variables.")


def test_checkpoint_missing_file(ckpt):
    path, _ = ckpt
    (path / "weights.npz").unlink()
    with pytest.raises(UserError, match="weights.npz is missing") as e:
        load_checkpoint(path)
    assert e.value.field == "weights.npz" and e.value.source == str(path)
    (path / "config.json").unlink()
    with pytest.raises(UserError, match="config.json is missing"):
        load_checkpoint(path)
    with pytest.raises(UserError, match="not found"):
        load_checkpoint(path / "nowhere")


@pytest.mark.parametrize("cls", ["os:system", "linksim.diffusion.networks:Denoiser",
                                 "keras.models:Sequential"])
def test_checkpoint_class_not_allowed(ckpt, cls):
    path, _ = ckpt
    cfg = json.loads((path / "config.json").read_text())
    cfg["class"] = cls
    (path / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(UserError, match="is not allowed") as e:
        load_checkpoint(path)
    assert e.value.field == "class"


@pytest.mark.parametrize("axis", [-1, 1, 2])
def test_complex_dense_is_complex_affine(axis):
    from linksim.diffusion.nets.layers import ComplexDense

    rng = np.random.default_rng(1)
    c = 3
    z = rng.normal(size=(2, NA, NC, c)) + 1j * rng.normal(size=(2, NA, NC, c))
    x = tf.constant(np.concatenate([z.real, z.imag], -1), tf.float32)
    layer = ComplexDense(5, axis=axis)
    layer.build(x.shape)
    layer.b.assign(rng.normal(size=10))
    y = layer(x).numpy()
    w = layer.w_re.numpy() + 1j * layer.w_im.numpy()
    b = layer.b.numpy()[:5] + 1j * layer.b.numpy()[5:]
    if axis == -1:
        ref = z @ w + b
    elif axis == 1:
        ref = np.einsum("bijc,ik->bkjc", z, w) + b[None, :, None, None]
    else:
        ref = np.einsum("bijc,jk->bikc", z, w) + b[None, None, :, None]
    np.testing.assert_allclose(y, np.concatenate([ref.real, ref.imag], -1), atol=1e-5)
