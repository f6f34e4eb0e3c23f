"""Semantic communication through linksim run's link block (Card D, case 2), with the
shipped cpu systems."""

import numpy as np
import pytest

from linksim.metrics import Accumulator
from linksim.scenario import load_scenario
from linksim.links.registry import build_link


def _values(scenario_path, snr_db, overrides, batches=2, batch_size=64):
    s = load_scenario(scenario_path("semcom"), ["sweep.key=snr_db", "sweep.snr_db=null", *overrides])
    link = build_link(s)
    accs = {}
    for _ in range(batches):
        for label, st in link.run_batch(batch_size, link.noise_variance("snr_db", snr_db)).items():
            accs.setdefault(label, Accumulator()).add(st)
    return {label: acc.values(None) for label, acc in accs.items()}, accs


def test_systems_share_images_and_channel_draws(scenario_path):
    """The same system twice (the dae: channel noise and sampler noise) gives the same
    numbers: every system of a batch sees the same images and draws."""
    v, accs = _values(scenario_path, 5.0, ["semantic.cbr=0.0625", "semantic.systems=[{name: dae, sample_steps: 4}, "
                                           "{name: dae, label: again, sample_steps: 4}, {name: ae}]"],
                      batches=1, batch_size=16)
    assert accs["dae"].sums == accs["again"].sums
    assert accs["ae"].sums["images"] == accs["dae"].sums["images"] == 16


@pytest.mark.parametrize("users", [1, 2])
def test_more_snr_and_more_symbols_help(scenario_path, users):
    low, _ = _values(scenario_path, 0.0, [f"semantic.users={users}", "semantic.systems=[{name: ae}]"])
    high, _ = _values(scenario_path, 20.0, [f"semantic.users={users}", "semantic.systems=[{name: ae}]"])
    wide, _ = _values(scenario_path, 20.0, [f"semantic.users={users}", "semantic.cbr=0.25",
                                            "semantic.systems=[{name: ae}]"])
    assert high["ae"]["psnr_db_lo"] > low["ae"]["psnr_db_hi"]
    assert wide["ae"]["psnr_db"] > high["ae"]["psnr_db"]


def test_example_grid_of_the_systems(scenario_path, tmp_path):
    from linksim.cli import _image_examples

    s = load_scenario(scenario_path("semcom"), ["semantic.systems=[{name: ae}, {name: vae}]"])
    (png,) = _image_examples(s, tmp_path)
    assert png.stat().st_size > 1000


def test_missing_system_names_the_field_and_the_shipped_ratios(scenario_path):
    from linksim.errors import UserError

    with pytest.raises(UserError) as err:  # at validation, before any link is built
        load_scenario(scenario_path("semcom"), ["semantic.cbr=0.5", "sweep.key=snr_db", "sweep.snr_db=null"])
    assert err.value.field == "semantic.systems[0].model"
    assert "k = 32" in err.value.message and "allowed: semantic.cbr 0.0625, 0.125, 0.25" in err.value.message


def test_shipped_classifier_scores_the_sent_digits_and_not_other_ones():
    """The classifier of the accuracy metric: its card's accuracy on the clean test images
    (>= 0.95), and at chance level when every image is scored against another image's digit."""
    import json

    import tensorflow as tf

    from linksim.data.images import load_images, load_labels, to_unit
    from linksim.diffusion.checkpoints import ZOO
    from linksim.semcom.classifier import DEFAULT_CLASSIFIER, correct_count, load_classifier

    model = load_classifier()
    x, y = tf.constant(to_unit(load_images("digits", "test"))), load_labels("digits", "test")
    card = json.loads((ZOO / DEFAULT_CLASSIFIER / "config.json").read_text())["training"]
    assert float(correct_count(model, x, y)) / len(y) == pytest.approx(card["test_accuracy"], abs=1e-4)
    assert card["test_accuracy"] >= 0.95
    assert float(correct_count(model, x, np.roll(y, 1))) / len(y) < 0.2


def test_accuracy_follows_what_the_decoder_keeps(scenario_path):
    """The accuracy metric in the link: the AE's reconstructions keep most digits at 20 dB,
    fewer at -5 dB; the Wilson interval brackets the value."""
    sets = ["semantic.systems=[{name: ae}]", "metrics=[psnr, accuracy]"]
    high, _ = _values(scenario_path, 20.0, sets)
    low, _ = _values(scenario_path, -5.0, sets)
    assert high["ae"]["accuracy"] > 0.8 and high["ae"]["accuracy_lo"] > low["ae"]["accuracy_hi"]
    assert high["ae"]["accuracy_lo"] <= high["ae"]["accuracy"] <= high["ae"]["accuracy_hi"]
