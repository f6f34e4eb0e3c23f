"""What the 8x8 digits allow a reconstruction stage to gain (Card D, case 1).

The paper reports > 10 dB PSNR gain from a DDPM stage behind a failed decoder on
CIFAR-10. On the 8x8 digits that ship offline, a stage that knows nothing but the digit
that was sent cannot do better than the mean image of that digit; one that knows nothing
at all, than the mean image of all digits. This script measures both on the test split
(means from the train split) and sets them beside the received images (`none`) and the
stages of the committed case-1 runs at their lowest SNR, where LDPC fails on every block:

    python benchmarks/card_d_ceiling.py --out results/reference/card_d_ceiling.md

Nothing is trained or drawn here: the numbers follow from the data set and the committed
metrics.csv files.
"""

from __future__ import annotations

import argparse
import csv
import math
from pathlib import Path

import numpy as np

from linksim.data.images import load_images, load_labels, to_unit

ROOT = Path(__file__).resolve().parents[1]
RUNS = ["ddpm_images-link.coderate=0.5", "ddpm_images-link.coderate=0.2"]


def psnr_db(x_hat: np.ndarray, x: np.ndarray) -> float:
    return -10.0 * math.log10(float(np.mean((x_hat - x) ** 2)))


def data_bounds() -> dict:
    """PSNR [dB] on the test split of the mean train image and of the mean train image of
    each image's own digit."""
    x_train, y_train = to_unit(load_images("digits", "train")), load_labels("digits", "train")
    x_test, y_test = to_unit(load_images("digits", "test")), load_labels("digits", "test")
    class_mean = np.stack([x_train[y_train == c].mean(0) for c in range(10)])
    return {"mean image (knows nothing)": psnr_db(np.broadcast_to(x_train.mean(0), x_test.shape), x_test),
            "mean image of the sent digit (knows the digit)": psnr_db(class_mean[y_test], x_test)}


def lowest_snr_rows(run: str) -> tuple[float, dict]:
    """``(snr, {stage: (psnr, bler)})`` of a committed case-1 run at its lowest SNR."""
    with open(ROOT / "results" / "reference" / run / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    snr = min(float(r["snr_db"]) for r in rows)
    return snr, {r["receiver"].split("/", 1)[1]: (float(r["psnr_db"]), float(r["bler"]))
                 for r in rows if float(r["snr_db"]) == snr}


def report() -> str:
    bounds = data_bounds()
    lines = ["# What the 8x8 digits allow (Card D, case 1)", "",
             "Made by `python benchmarks/card_d_ceiling.py`. PSNR [dB] over all pixels in [0, 1], "
             "397 test images; means from the 1 400 train images.", "",
             "| estimate without the received image | PSNR [dB] |", "|---|---|"]
    lines += [f"| {name} | {value:.2f} |" for name, value in bounds.items()]
    knows_digit = bounds["mean image of the sent digit (knows the digit)"]
    for run in RUNS:
        snr, stages = lowest_snr_rows(run)
        none = stages["none"][0]
        lines += ["", f"`results/reference/{run}` at {snr:g} dB (BLER {stages['none'][1]:.2f}: LDPC fails on "
                      f"every block, so no pixel passes through):", "",
                  "| stage | PSNR [dB] | gain over none [dB] |", "|---|---|---|"]
        lines += [f"| {name} | {p:.2f} | {p - none:+.2f} |" for name, (p, _) in stages.items()]
        lines += [f"| *the mean image of the sent digit* | {knows_digit:.2f} | {knows_digit - none:+.2f} |"]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, help="write the report here (markdown) as well as printing it")
    args = ap.parse_args()
    text = report()
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
