"""Every shipped semantic-communication system uses the latent it receives (Card D): on the
test images at 10 dB its reconstruction from the received latent beats, by stated
margins, the reconstruction from another image's latent (same channel and sampler draws)
and the mean train image (the estimate that needs no latent). The model cards record the
same three numbers (on all test images); here they are measured again on half of them.

Measured (cards of the shipped systems, 10 dB): see docs/methods/ddpm_receiver.md."""

import json

import pytest

from linksim.data.images import load_images, to_unit
from linksim.diffusion.checkpoints import ZOO
from linksim.semcom.files import SYSTEM_FILE, load_system
from linksim.training.semcom import condition_check

#: received latent vs another image's latent [dB PSNR]
SHUFFLE_MARGIN_DB = 3.0
#: received latent vs the mean train image [dB PSNR]
MEAN_IMAGE_MARGIN_DB = 1.0

SYSTEMS = {d.name: json.loads((d / SYSTEM_FILE).read_text())["kind"] for d in sorted(ZOO.iterdir())
           if (d / SYSTEM_FILE).is_file()}


def test_every_kind_is_shipped():
    assert set(SYSTEMS.values()) == {"ae", "vae", "dae"}


#: Shipped systems that fail the check, kept until they are retrained (strict: a pass is
#: reported, so that the mark goes when the model is fixed). None at present.
FAILS: dict[str, str] = {}


def _params():
    # a diffusion decoder traces its sampler (about 15 s each): the default suite checks the
    # one-user DAE of CBR 1/8, -m slow the other five
    out = []
    for name, kind in SYSTEMS.items():
        marks = [pytest.mark.slow] if kind == "dae" and name != "semcom-dae-k8-u1-cpu" else []
        if name in FAILS:
            marks.append(pytest.mark.xfail(strict=True, raises=AssertionError, reason=FAILS[name]))
        out.append(pytest.param(name, id=name, marks=marks))
    return out


@pytest.mark.parametrize("name", _params())
def test_shipped_decoder_uses_the_latent(name):
    system = load_system(name)
    system.sample_steps = min(system.sample_steps, 10)  # DDIM with 10 of its 50 steps: the same trajectory, coarser
    x_test = to_unit(load_images("digits", "test"))[::2]
    x_train = to_unit(load_images("digits", "train"))
    got = condition_check(system, x_test, x_train, 10.0, "awgn", seed=7)
    assert got["psnr_db"] >= got["psnr_shuffled_db"] + SHUFFLE_MARGIN_DB, got
    assert got["psnr_db"] >= got["psnr_mean_image_db"] + MEAN_IMAGE_MARGIN_DB, got
