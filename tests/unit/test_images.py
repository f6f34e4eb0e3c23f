"""Images as the link's payload: bit packing, image metrics, the median stage."""

import math

import numpy as np
import pytest
import tensorflow as tf

from linksim.data.images import TEST_SIZE, load_images, to_bits
from linksim.metrics import Accumulator
from linksim.reconstruction.base import Reconstruction
from linksim.reconstruction.classical import MedianFilter
from linksim.scenario import Scenario
from linksim.sums import image_stats
from linksim.system.images import ImageSource


def _source(split="test"):
    s = Scenario.model_validate({"source": {"type": "digits", "split": split},
                                 "link": {"ofdm": False}, "channel": {"model": "awgn"},
                                 "antennas": {"bs": {"rows": 1, "cols": 1}, "ue": {"rows": 1, "cols": 1}}})
    return ImageSource(s)


def test_splits_are_disjoint_and_fixed():
    test, train = load_images("digits", "test"), load_images("digits", "train")
    assert len(test) == TEST_SIZE and len(test) + len(train) == 1797
    rows = {im.tobytes() for im in train}
    overlap = sum(im.tobytes() in rows for im in test)
    assert overlap < 10  # the data set holds a few duplicate images, no more
    assert np.array_equal(test, load_images("digits", "test"))
    assert test.max() == 255 and test.min() == 0


def test_bits_carry_whole_images_msb_first():
    src = _source()
    b = src([3, 1, 1, 700])  # 2100 bits: 4 images of 512, 52 random bits
    assert src.images_in(b.shape) == 4
    imgs = src.images(b).numpy()
    data = load_images("digits", "test")
    for im in imgs:  # every carried image is one of the split, pixel for pixel
        assert np.min(np.abs(data / 255.0 - im).reshape(len(data), -1).max(axis=1)) < 1e-6
    flat = b.numpy().reshape(-1)
    assert np.array_equal(flat[:512], to_bits(np.round(imgs[:1] * 255).astype(np.uint8))[0])
    flipped = flat.copy()
    flipped[0] = 1 - flipped[0]  # the first pixel's most significant bit
    diff = src.images(tf.constant(flipped.reshape(b.shape))).numpy() - imgs
    assert abs(abs(diff[0, 0, 0]) - 128 / 255) < 1e-6 and np.count_nonzero(diff) == 1


def test_too_few_bits_for_an_image_is_a_user_error():
    from linksim.errors import UserError

    with pytest.raises(UserError, match="fewer than one image"):
        _source()([1, 1, 1, 300])


def test_image_stats_and_psnr_interval():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (40, 8, 8)).astype(np.float32)
    noise = 0.1 * rng.standard_normal(x.shape).astype(np.float32)
    st = image_stats(tf.constant(x + noise), tf.constant(x))
    assert float(st["img_err"]) == pytest.approx(float(np.sum(noise.astype(np.float64) ** 2)), rel=1e-5)
    assert float(st["images"]) == 40 and float(st["img_pixels"]) == 40 * 64
    same = image_stats(tf.constant(x), tf.constant(x))
    assert float(same["ssim_sum"]) == pytest.approx(40.0, abs=1e-4)
    assert float(st["ssim_sum"]) < 0.99 * 40
    acc = Accumulator()
    for half in (slice(0, 20), slice(20, 40)):
        acc.add({k: float(v) for k, v in image_stats(tf.constant(x[half] + noise[half]), tf.constant(x[half])).items()})
    v = acc.values(None)
    mse = float(np.mean(noise.astype(np.float64) ** 2))
    assert v["psnr_db"] == pytest.approx(-10 * math.log10(mse), abs=1e-3)
    assert v["image_mse"] == pytest.approx(mse, rel=1e-5)
    assert v["psnr_db_lo"] < v["psnr_db"] < v["psnr_db_hi"]
    assert v["psnr_db_lo"] == pytest.approx(-10 * math.log10(v["image_mse_hi"]))


def test_median_removes_an_impulse_and_switching_keeps_the_rest():
    rng = np.random.default_rng(1)
    img = rng.uniform(0.4, 0.6, (1, 8, 8)).astype(np.float32)  # texture
    hit = img.copy()
    hit[0, 5, 2] = 1.0  # an isolated impulse (a flipped most significant bit)
    plain = MedianFilter((8, 8), MedianFilter.Params(size=3))(tf.constant(hit)).numpy()
    switching = MedianFilter((8, 8), MedianFilter.Params(size=3, threshold=0.3))(tf.constant(hit)).numpy()
    assert plain[0, 5, 2] < 0.6 and switching[0, 5, 2] < 0.6
    changed = switching != img
    assert changed.sum() == 1 and changed[0, 5, 2]  # only the impulse was replaced
    assert (plain != img).sum() > 20  # the plain median smooths the texture too


class _Invert(Reconstruction):  # a stage that changes every pixel
    def call(self, images):
        return 1.0 - images


def test_block_flags_map_to_the_pixels_they_carry():
    """Two blocks of 300 bits carry one 512-bit image: pixels 0-36 lie in block 0, pixel 37
    (bits 296-303) straddles both, pixels 38-63 lie in block 1. A pixel is known correct
    only if every block holding its bits passed."""
    src = _source()
    b = src([2, 1, 1, 300])
    assert src.images_in(b.shape) == 1
    known = src.known_pixels(b, tf.constant([[[True]], [[False]]])).numpy().reshape(-1)
    assert known[:37].all() and not known[37:].any()
    known = src.known_pixels(b, tf.constant([[[False]], [[True]]])).numpy().reshape(-1)
    assert not known[:38].any() and known[38:].all()
    assert src.known_pixels(b, tf.constant([[[True]], [[True]]])).numpy().all()
    assert src.known_pixels(b, None) is None
    # a stage returns the known pixels as received, bit for bit, and changes the others
    images = src.images(b)
    stage = _Invert((8, 8))
    known = src.known_pixels(b, tf.constant([[[True]], [[False]]]))
    out = stage.reconstruct(images, known).numpy().reshape(-1)
    flat = images.numpy().reshape(-1)
    assert np.array_equal(out[:37], flat[:37]) and np.allclose(out[37:], 1.0 - flat[37:])
    assert np.allclose(stage.reconstruct(images, None).numpy(), 1.0 - images.numpy())
    everything = tf.ones_like(known)
    assert np.array_equal(stage.reconstruct(images, everything).numpy(), images.numpy())


def test_ldpc_syndrome_flags_codewords():
    """The syndrome of an encoded codeword is zero; one flipped transmitted bit or
    information bit makes it non-zero. The checked rows are those Sionna's decoder keeps
    after pruning (every row whose columns all have a decision)."""
    from sionna.phy.fec.ldpc import LDPC5GDecoder, LDPC5GEncoder
    from sionna.phy.mapping import BinarySource

    from linksim.system.syndrome import LDPCSyndrome

    for k in (600, 240):
        enc = LDPC5GEncoder(k, 1200, num_bits_per_symbol=6)
        syn = LDPCSyndrome(enc)
        assert syn.num_checks == LDPC5GDecoder(enc).pcm.shape[0]
        u = BinarySource()([4, 1, k])
        c = enc(u)
        assert syn(u, c).shape == (4, 1) and syn(u, c).numpy().all()
        c_bad = c.numpy()
        c_bad[0, 0, 700] = 1 - c_bad[0, 0, 700]
        u_bad = u.numpy()
        u_bad[1, 0, 3] = 1 - u_bad[1, 0, 3]  # a punctured information bit (one of the first 2Z)
        assert syn(u, tf.constant(c_bad)).numpy().ravel().tolist() == [False, True, True, True]
        assert syn(tf.constant(u_bad), c).numpy().ravel().tolist() == [True, False, True, True]
