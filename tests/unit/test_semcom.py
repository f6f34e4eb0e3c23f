"""Semantic communication (deep JSCC): encoder power, channel, users, save/load, training,
and the diffusion decoder's sampler."""

import json

import numpy as np
import pytest
import tensorflow as tf

from linksim.data.images import load_images, to_unit
from linksim.diffusion.checkpoints import named_variables
from linksim.diffusion.nets.jscc import normalise_power
from linksim.diffusion.parameterisation import from_x0
from linksim.errors import UserError
from linksim.semcom.files import load_system, save_system
from linksim.semcom.system import SemanticSystem
from linksim.training import loop as training_loop
from linksim.training.semcom import (
    SemcomTrainSpec,
    build_system,
    evaluate,
    image_sums,
    train_semcom,
)

K = 8


def images(users, batch, offset=0):
    x = to_unit(load_images("digits", "train"))[offset:offset + users * batch]
    return tf.constant(x.reshape(users, batch, 8, 8))


def make(kind, users=1, **kw):
    return SemanticSystem.create(kind, K, users, "cpu", (8, 8), **kw)


def randomise(system, seed=0):
    """Random values in every variable (batch-norm moving statistics included)."""
    rng = np.random.default_rng(seed)
    for model in system.networks.values():
        for name, v in named_variables(model).items():
            a = rng.normal(scale=0.3, size=v.shape)
            if name.endswith("moving_variance"):
                a = np.abs(a) + 0.5
            v.assign(a.astype(np.float32))


@pytest.mark.parametrize("kind", ["ae", "vae"])
def test_encoder_unit_power_per_symbol(kind):
    system = make(kind, users=2)
    randomise(system)
    z = system.encode(images(2, 6))
    assert z.shape == (2, 6, K) and z.dtype == tf.complex64
    np.testing.assert_allclose(tf.reduce_mean(tf.abs(z) ** 2, axis=-1).numpy(), 1.0, rtol=1e-5)
    v = normalise_power(tf.constant([[3.0, 0.0, 0.0, 4.0]]))  # k = 2: squared norm 2
    np.testing.assert_allclose(v.numpy(), [[3 * np.sqrt(2) / 5, 0, 0, 4 * np.sqrt(2) / 5]], rtol=1e-6)


def random_latent(users, batch, k, seed=0):
    rng = np.random.default_rng(seed)
    z = (rng.normal(size=(users, batch, k)) + 1j * rng.normal(size=(users, batch, k))) / np.sqrt(2)
    return tf.constant(z.astype(np.complex64))


def test_awgn_high_snr_and_noise_variance():
    system = make("ae")
    rng = tf.random.Generator.from_seed(1)
    z = random_latent(1, 50, K)
    y = system.channel(z, 200.0, "awgn", rng)
    np.testing.assert_allclose(y.numpy(), z[0].numpy(), atol=1e-6)
    # 0 dB: n ~ CN(0, 1); per-image SNR: the second half at 10 dB
    b = 4000
    zero = tf.zeros([1, b, 16], tf.complex64)
    n = system.channel(zero, 0.0, "awgn", rng).numpy()
    assert abs(np.mean(np.abs(n) ** 2) - 1.0) < 0.03
    assert abs(np.mean(n.real ** 2) - 0.5) < 0.02 and abs(np.mean(n.imag ** 2) - 0.5) < 0.02
    assert abs(np.mean(n)) < 0.02
    snr = tf.constant([0.0] * (b // 2) + [10.0] * (b // 2))
    n = system.channel(zero, snr, "awgn", rng).numpy()
    assert abs(np.mean(np.abs(n[: b // 2]) ** 2) - 1.0) < 0.04
    assert abs(np.mean(np.abs(n[b // 2:]) ** 2) - 0.1) < 0.004


def test_rayleigh_equalisation():
    system = make("ae")
    rng = tf.random.Generator.from_seed(2)
    z = random_latent(1, 3000, K)
    y, h = system.channel(z, 200.0, "rayleigh", rng, return_gain=True)
    assert h.shape == (3000, 1)
    np.testing.assert_allclose(y.numpy(), z[0].numpy(), atol=1e-4)  # equalised: y / h = z
    g = np.abs(h.numpy()[:, 0]) ** 2
    assert abs(g.mean() - 1.0) < 0.06 and np.std(g) > 0.5  # |h|^2 ~ Exp(1), one h per image
    # 0 dB: the noise before equalisation, (y - z) h, is CN(0, 1); after it is enhanced by 1/|h|^2
    y, h = system.channel(z, 0.0, "rayleigh", rng, return_gain=True)
    e = (y - z[0]).numpy()
    assert abs(np.mean(np.abs(e * h.numpy()) ** 2) - 1.0) < 0.03
    ratio = np.mean(np.abs(e) ** 2, axis=1) * np.abs(h.numpy()[:, 0]) ** 2
    assert abs(np.median(ratio) - 1.0) < 0.1


def test_two_users_superpose_and_decode_their_own_image():
    system = make("ae", users=2)
    randomise(system)
    x = images(2, 5)
    z = system.encode(x)
    y = system.channel(z, 200.0, "awgn", tf.random.Generator.from_seed(0))
    np.testing.assert_allclose(y.numpy(), (z[0] + z[1]).numpy(), atol=1e-5)
    out = system.decode(y)
    assert out.shape == (2, 5, 8, 8)
    assert float(tf.reduce_min(out)) >= 0.0 and float(tf.reduce_max(out)) <= 1.0
    assert float(tf.reduce_max(tf.abs(out[0] - out[1]))) > 1e-3  # own decoder weights
    # each user's encoder has its own weights too
    assert float(tf.reduce_max(tf.abs(system.encode(tf.stack([x[0], x[0]]))[0]
                                      - system.encode(tf.stack([x[0], x[0]]))[1]))) > 1e-3


@pytest.mark.parametrize("kind,users", [("ae", 2), ("vae", 1), ("dae", 1)])
def test_save_load_round_trip(tmp_path, kind, users):
    system = make(kind, users=users, sample_steps=3, eta=1.0, parameterisation="v")
    randomise(system)
    folder = save_system(system, tmp_path / "sys", card_info={"note": "test"})
    loaded = load_system(folder)
    assert (loaded.kind, loaded.k, loaded.users, loaded.sample_steps, loaded.eta, loaded.parameterisation) == (
        kind, K, users, 3, 1.0, "v")
    x = images(users, 4)
    a = system.transmit(x, 5.0, "rayleigh", tf.random.Generator.from_seed(7))
    b = loaded.transmit(x, 5.0, "rayleigh", tf.random.Generator.from_seed(7))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert json.loads((folder / "system.json").read_text())["training"] == {"note": "test"}


def test_load_mismatch_names_the_field(tmp_path):
    folder = save_system(make("ae"), tmp_path / "sys")
    with pytest.raises(UserError) as err:
        load_system(folder, expect={"k": 2 * K})
    assert err.value.field == "k" and err.value.source == str(folder)
    meta = json.loads((folder / "system.json").read_text())
    meta["k"] = K + 1
    (folder / "system.json").write_text(json.dumps(meta))
    with pytest.raises(UserError) as err:
        load_system(folder)
    assert err.value.field == "k" and err.value.source == str(folder)
    assert "encoder_u0" in err.value.message


def test_spec_k_or_cbr():
    assert SemcomTrainSpec(name="a", system="ae", cbr=0.25).num_symbols == 16
    assert SemcomTrainSpec(name="a", system="dae", k=4).num_symbols == 4
    for bad in ({}, {"k": 4, "cbr": 0.25}, {"k": 4, "extra": 1}, {"k": 4, "snr_db": [20.0, 0.0]},
                {"k": "4"}):
        with pytest.raises(ValueError):
            SemcomTrainSpec(name="a", system="ae", **bad)


def test_tiny_training_lowers_the_test_mse(tmp_path, monkeypatch):
    monkeypatch.setattr(training_loop, "git_revision", lambda: "test")
    spec = SemcomTrainSpec(name="tiny", system="ae", k=K, output=str(tmp_path / "tiny"),
                           training={"steps": 60, "batch_size": 64, "learning_rate": 3e-3, "seed": 3},
                           evaluation={"snr_db": [10.0], "num_test": 128})
    folder = train_semcom(spec, progress=False)
    x_test = to_unit(load_images("digits", "test"))[:128]
    trained = evaluate(load_system(folder), x_test, [10.0], "awgn")["10"]["mse"]
    untrained = evaluate(build_system(spec), x_test, [10.0], "awgn")["10"]["mse"]
    assert trained < 0.7 * untrained, (trained, untrained)
    card = (folder / "card.md").read_text()
    assert "| 10 |" in card and "PSNR" in card
    # same spec and seed: same weights
    again = train_semcom(spec.model_copy(update={"output": str(tmp_path / "again")}), progress=False)
    for name in ("encoder_u0", "decoder_u0"):
        sha = [json.loads((f / name / "config.json").read_text())["weights_sha256"] for f in (folder, again)]
        assert sha[0] == sha[1]


@pytest.mark.parametrize("eta,samples,parameterisation", [(0.0, 1, "eps"), (1.0, 3, "eps"), (0.0, 1, "v"),
                                                            (1.0, 2, "x0")])
def test_dae_sampler_with_an_oracle_reproduces_the_image(eta, samples, parameterisation):
    system = make("dae", sample_steps=7, eta=eta, num_samples=samples, parameterisation=parameterisation)
    x0 = 2.0 * images(1, 6)[0][..., None] - 1.0  # [B, 8, 8, 1] in [-1, 1]
    truth = tf.tile(x0, [samples, 1, 1, 1])

    def oracle(g, tau, cond):  # the prediction that makes the clean estimate exactly x0
        alpha, beta = system.schedule.alpha_beta(tau)
        return from_x0(g, truth, alpha, beta, parameterisation)

    x = system.generate(oracle, tf.zeros([6, 2 * K]), tf.random.Generator.from_seed(0))
    np.testing.assert_allclose(x.numpy(), x0.numpy(), atol=1e-4)
    # the decoder's own network: right shape and range
    out = system.decode(tf.zeros([6, K], tf.complex64), tf.random.Generator.from_seed(0))
    assert out.shape == (1, 6, 8, 8) and float(tf.reduce_min(out)) >= 0.0 and float(tf.reduce_max(out)) <= 1.0


@pytest.mark.parametrize("parameterisation", ["eps", "v", "x0"])
def test_dae_loss_is_zero_for_the_oracle_of_its_parameterisation_only(parameterisation):
    """The training loss's target follows ``parameterisation``: a decoder that returns
    exactly the prediction of that kind for the clean image has zero loss; the oracle of
    another kind does not."""
    system = make("dae", parameterisation=parameterisation)
    x_unit = images(1, 6)
    x0 = 2.0 * x_unit[0][..., None] - 1.0

    def oracle_of(kind):
        def net(x_t, tau, cond):
            alpha, beta = system.schedule.alpha_beta(tau[:, None, None, None])
            return from_x0(x_t, x0, alpha, beta, kind)
        return net

    def loss(kind):
        system.decoders = [oracle_of(kind)]
        return float(system.training_loss(x_unit, 10.0, "awgn", tf.random.Generator.from_seed(2)))

    assert loss(parameterisation) < 1e-8
    assert min(loss(k) for k in ("eps", "v", "x0") if k != parameterisation) > 1e-2


def test_image_sums():
    x = tf.constant(np.random.default_rng(0).uniform(size=(2, 3, 8, 8)), tf.float32)
    s = image_sums(x, x)
    assert float(s["img_err"]) == 0.0 and float(s["images"]) == 6 and float(s["img_pixels"]) == 384
    assert abs(float(s["ssim_sum"]) - 6.0) < 1e-4
    s = image_sums(x + 0.1, x)
    assert s["img_err"].dtype == tf.float64 and abs(float(s["img_err"]) - 384 * 0.01) < 1e-3
