"""Images through the link and the shipped reconstruction stages (Card D, case 1)."""

import math

import pytest

from linksim.metrics import Accumulator
from linksim.scenario import load_scenario
from linksim.system.link import build_link


def _point(scenario_path, snr_db, overrides=(), batches=2):
    s = load_scenario(scenario_path("ddpm_images"), list(overrides))
    link = build_link(s)
    accs = {}
    for _ in range(batches):
        for label, st in link.run_batch(64, link.noise_variance("snr_db", snr_db)).items():
            accs.setdefault(label, Accumulator()).add(st)
    return s, {label: acc.values(None) for label, acc in accs.items()}, accs


def test_error_free_link_gives_the_sent_images(scenario_path):
    s, v, accs = _point(scenario_path, 20.0, ["reconstruction=[{name: none}, {name: median, size: 3}]"], batches=1)
    assert list(v) == s.row_labels == ["perfect/none", "perfect/median"]
    assert accs["perfect/none"].sums["bit_errors"] == 0
    assert math.isinf(v["perfect/none"]["psnr_db"]) and v["perfect/none"]["ssim"] == pytest.approx(1.0)
    assert accs["perfect/none"].sums["images"] == 64 * 600 // 512  # the images a batch carries
    assert v["perfect/median"]["psnr_db"] < 30  # a plain median alters clean digits


def test_trained_stages_beat_the_received_images_where_ldpc_fails(scenario_path):
    """At 4 dB (64-QAM, rate 0.5) every codeword fails; the regressor and the DDPM
    (trained on pairs from this link, other images) must recover most of the image."""
    _, v, accs = _point(scenario_path, 4.0, [
        "reconstruction=[{name: none}, {name: regressor}, {name: ddpm, steps: 20}]"])
    assert accs["perfect/none"].sums["block_errors"] == accs["perfect/none"].sums["blocks"]
    none, reg, ddpm = (v[f"perfect/{k}"]["psnr_db"] for k in ("none", "regressor", "ddpm"))
    assert reg > none + 5 and ddpm > none + 3, v
    assert v["perfect/regressor"]["psnr_db_lo"] > v["perfect/none"]["psnr_db_hi"]


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
