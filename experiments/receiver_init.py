"""First estimate of the diffusion receivers on the quickstart link: the non-identical
model started from LS on the comb only (``init: pilots``, Card A's masked observation)
vs from linearly interpolated LS (``init: ls_linear``), next to LMMSE, the identical
model and the non-identical model trained twice as long (``init: pilots``). Same slots
for all receivers; 2 samples x 5 steps (the quickstart's setting). Prints NMSE [dB] / block errors of 96 slots per Eb/N0.

Usage: python experiments/receiver_init.py
"""

import yaml
from sionna.phy import config

from linksim.metrics import run_batches
from linksim.scenario import validate_scenario
from linksim.system.link import build_link

DM = {"samples": 2, "steps": 5}
RECEIVERS = [
    {"name": "lmmse"},
    {"name": "nonidentical_dm", "label": "nonid_pilots", "model": "nonid-all-quickstart-cpu", "init": "pilots", **DM},
    {"name": "nonidentical_dm", "label": "nonid_ls_linear", "model": "nonid-all-quickstart-cpu", "init": "ls_linear", **DM},
    {"name": "identical_dm", "label": "identical", "model": "identical-quickstart-cpu", **DM},
    {"name": "nonidentical_dm", "label": "nonid_6000_steps", "model": "nonid-all-quickstart-cpu-long", "init": "pilots", **DM},
]


def main(batches: int = 3, batch_size: int = 32):
    with open("scenarios/quickstart.yaml") as f:
        data = yaml.safe_load(f)
    data["receivers"] = RECEIVERS
    s = validate_scenario(data)
    config.seed = 5  # the LMMSE covariance is measured on channels drawn at build time
    link = build_link(s)
    for ebno in (-2.0, 0.0, 4.0):
        config.seed = 5
        acc = run_batches(link, link.noise_variance("ebno_db", ebno), batches, batch_size)
        cells = [f"{k}={a.nmse_db:.2f}/{a.sums['block_errors']:.0f}" for k, a in acc.items()]
        print(f"Eb/N0 {ebno:+.0f} dB: " + "  ".join(cells), flush=True)


if __name__ == "__main__":
    main()
