"""Images through the link and the shipped reconstruction stages (Card D, case 1)."""

import math

import pytest
import tensorflow as tf

from linksim.links.registry import build_link
from linksim.metrics import Accumulator
from linksim.scenario import load_scenario


def _point(scenario_path, snr_db, overrides=(), batches=2):
    s = load_scenario(scenario_path("ddpm_images"), list(overrides))
    link = build_link(s)
    accs = {}
    for _ in range(batches):
        for label, st in link.run_batch(64, link.noise_variance("snr_db", snr_db)).items():
            accs.setdefault(label, Accumulator()).add(st)
    return s, {label: acc.values(None) for label, acc in accs.items()}, accs


ALL_STAGES = ("reconstruction=[{name: none}, {name: ddpm, steps: 5, samples: 2}, {name: regressor}, "
              "{name: median}, {name: median, label: median-switching, threshold: 0.5}]")


def test_error_free_link_gives_the_sent_images(scenario_path):
    """At 20 dB every codeword decodes (zero syndrome): with the flag on (default) every
    stage returns the sent images bit for bit (PSNR infinite)."""
    s, v, accs = _point(scenario_path, 20.0, [ALL_STAGES], batches=1)
    assert list(v) == s.row_labels == [f"perfect/{k}" for k in ("none", "ddpm", "regressor", "median", "median-switching")]
    assert accs["perfect/none"].sums["bit_errors"] == 0
    assert accs["perfect/none"].sums["images"] == 64 * 600 // 512  # the images a batch carries
    for label, acc in accs.items():
        assert acc.sums["img_err"] == 0, label
        assert math.isinf(v[label]["psnr_db"]) and v[label]["ssim"] == pytest.approx(1.0)


def test_without_the_flag_the_stages_alter_correct_images(scenario_path):
    """source.pass_correct_blocks: false (the paper's setting): the stages run on error-free
    images too, and change them."""
    _, v, accs = _point(scenario_path, 20.0, [ALL_STAGES, "source.pass_correct_blocks=false"], batches=1)
    assert accs["perfect/none"].sums["bit_errors"] == 0 and math.isinf(v["perfect/none"]["psnr_db"])
    assert accs["perfect/ddpm"].sums["img_err"] > 0 and v["perfect/ddpm"]["psnr_db"] < 45
    assert v["perfect/median"]["psnr_db"] < 30  # a plain median alters clean digits


def test_flagged_pixels_pass_every_stage_unchanged(scenario_path):
    """In the LDPC waterfall (10 dB, rate 0.5) some codewords decode, some do not: every
    pixel the flags mark correct is the sent pixel, and every stage returns it as
    received; the flags are the decoder's (a zero syndrome), never set on a wrong block."""
    from linksim.system.images import ImageOutputs

    s = load_scenario(scenario_path("ddpm_images"), [ALL_STAGES])
    link = build_link(s)
    b, b_hat, ok, _ = link._run_compiled(64, tf.constant(link.noise_variance("snr_db", 10.0), tf.float32))
    correct = tf.reduce_all(tf.equal(b, b_hat), axis=-1).numpy()
    ok = ok.numpy()
    assert ok.shape == correct.shape and not (ok & ~correct).any()
    assert 0 < ok.sum() < ok.size
    src = link.image_source
    sent, received = src.images(b).numpy(), src.images(b_hat)
    known = src.known_pixels(b_hat, ok).numpy()
    assert 0 < known.sum() < known.size
    assert (received.numpy()[known] == sent[known]).all()
    assert isinstance(link.image_outputs, ImageOutputs)
    for name, stage in link.image_outputs.stages:
        out = stage.reconstruct(received, tf.constant(known)).numpy()
        assert (out[known] == sent[known]).all(), name
        if name != "none":
            assert (out[~known] != received.numpy()[~known]).any(), name


def test_trained_stages_beat_the_received_images_where_ldpc_fails(scenario_path):
    """At 4 dB (64-QAM, rate 0.5) every codeword fails; the regressor and the DDPM
    (trained on pairs from this link, other images) must recover most of the image."""
    _, v, accs = _point(scenario_path, 4.0, [
        "reconstruction=[{name: none}, {name: regressor}, {name: ddpm, steps: 20, samples: 1}]"])
    assert accs["perfect/none"].sums["block_errors"] == accs["perfect/none"].sums["blocks"]
    none, reg, ddpm = (v[f"perfect/{k}"]["psnr_db"] for k in ("none", "regressor", "ddpm"))
    assert reg > none + 5 and ddpm > none + 3, v
    assert v["perfect/regressor"]["psnr_db_lo"] > v["perfect/none"]["psnr_db_hi"]


@pytest.mark.slow  # the figure of a full run (about 30 s on 2 cores)
def test_example_grid_shows_the_same_images_at_every_snr(scenario_path, tmp_path):
    from linksim.cli import _image_examples
    from linksim.system.images import example_images

    s = load_scenario(scenario_path("ddpm_images"), ["reconstruction=[{name: none}, {name: median}]",
                                                     "sweep.values=[0, 20]"])
    link = build_link(s)
    ex = example_images(link, "snr_db", [0.0, 20.0], count=4)
    assert list(ex["rows"][20.0]) == ["perfect/none", "perfect/median"]
    assert (ex["rows"][20.0]["perfect/none"] == ex["sent"]).all()  # error-free at 20 dB: the sent images
    assert not (ex["rows"][0.0]["perfect/none"] == ex["sent"]).all()
    (png,) = _image_examples(s, tmp_path)
    assert png.name == "examples.png" and png.stat().st_size > 1000


def test_images_through_the_ofdm_link_with_estimated_csi(scenario_path):
    """The image source on the OFDM CDL link: LMMSE-estimated CSI at a high Eb/N0 decodes
    every image; at a low one the images arrive damaged."""
    s = load_scenario(scenario_path("quickstart"), [
        "source.type=digits", "receivers=[{name: lmmse, cov_samples: 300}]", "metrics=[ber, psnr]",
        "runtime.xla=false"])
    link = build_link(s)
    good = Accumulator()
    good.add(link.run_batch(4, link.noise_variance("ebno_db", 12.0))["lmmse"])
    bad = Accumulator()
    bad.add(link.run_batch(4, link.noise_variance("ebno_db", -6.0))["lmmse"])
    assert good.sums["images"] > 0 and good.sums["img_err"] == 0 and good.sums["bit_errors"] == 0
    assert bad.sums["img_err"] > 0 and bad.values(None)["psnr_db"] < 20


def test_transport_block_crc_flags_the_pixels(scenario_path):
    """tb mode on the OFDM link: the flag is the transport block CRC. With perfect CSI at a
    high Eb/N0 every block passes and a plain median returns the sent images; at a low
    one every block fails and the median works on every pixel."""
    s = load_scenario(scenario_path("quickstart"), [
        "source.type=digits", "link.mode=tb", "link.mcs_index=10", "receivers=[{name: perfect}]",
        "metrics=[ber, bler, psnr]", "reconstruction=[{name: none}, {name: median}]", "runtime.xla=false"])
    link = build_link(s)
    good = link.run_batch(4, link.noise_variance("ebno_db", 15.0))
    assert good["perfect/none"]["block_errors"] == 0 and good["perfect/none"]["images"] > 0
    assert good["perfect/median"]["img_err"] == 0
    bad = link.run_batch(4, link.noise_variance("ebno_db", -12.0))
    assert bad["perfect/none"]["block_errors"] == bad["perfect/none"]["blocks"]
    assert bad["perfect/median"]["img_err"] != bad["perfect/none"]["img_err"]


def test_trained_stages_use_their_condition(scenario_path):
    """Guard of the conditional stages: at 4 dB (every codeword fails) the DDPM and the
    regressor, given the received images, land far closer to the sent images than when
    given the received images of the other images of the batch (a shuffled condition)."""
    from linksim.sums import image_stats

    s = load_scenario(scenario_path("ddpm_images"), [
        "reconstruction=[{name: regressor}, {name: ddpm, steps: 20, samples: 1}]"])
    link = build_link(s)
    sent, received = link.image_pairs(64, link.noise_variance("snr_db", 4.0))
    m = int(sent.shape[0])
    assert m >= 4
    shuffled = tf.gather(received, [(i + 1) % m for i in range(m)])
    for name, stage in link.image_outputs.stages:
        mse = [float(image_stats(stage(x), sent)["img_err"]) for x in (received, shuffled)]
        assert mse[0] < 0.5 * mse[1], (name, mse)
