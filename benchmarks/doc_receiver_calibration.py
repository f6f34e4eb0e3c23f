"""The error-variance calibration of docs/add-a-receiver.md's two-family example receiver
(``ShrunkLS``) in the three links, next to the family's own LS-type receiver.

    python benchmarks/doc_receiver_calibration.py

Runs the doc's code block as the user's module ``my_receivers`` on small versions of
``quickstart`` (OFDM), ``moe_vb_balanced`` (narrowband) and ``srs_precoding_low`` (SRS
precoding), two batches of 32 per SNR, and prints NMSE [dB] and err_var_ratio (reported /
measured error; 1 is calibrated) per link, receiver and SNR.
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

LINKS = {
    "ofdm": ("quickstart", ["runtime.xla=false"], "ls"),
    "narrowband": ("moe_vb_balanced", ["narrowband.num_tx=16", "narrowband.num_rx=2", "narrowband.streams=2",
                                       "narrowband.profiles=[A]", "narrowband.training_samples={A: 1000}",
                                       "narrowband.test_profile=A", "narrowband.pilot_density=1"], "ls"),
    "srs_precoding": ("srs_precoding_low", ["srs_precoding.training_samples=256"], "srs_hold"),
}


def main() -> int:
    code = re.search(r"<!-- two-families-example -->\s*```python\n(.*?)```",
                     (ROOT / "docs" / "add-a-receiver.md").read_text(), re.S).group(1)
    folder = Path(tempfile.mkdtemp())
    (folder / "my_receivers.py").write_text(code)
    sys.path.insert(0, str(folder))
    from linksim.links.registry import build_link
    from linksim.metrics import Accumulator
    from linksim.scenario import load_scenario

    print(f"{'link':>14} {'receiver':>10} {'SNR [dB]':>9} {'NMSE [dB]':>10} {'err_var_ratio':>14}")
    for family, (name, sets, own) in LINKS.items():
        rx = f"receivers=[{{name: {own}}}, {{name: 'my_receivers:ShrunkLS', label: shrunk}}]"
        link = build_link(load_scenario(ROOT / "scenarios" / f"{name}.yaml", sets + [rx]))
        for snr in (-5.0, 5.0, 10.0):
            accs = {}
            for _ in range(2):
                for label, st in link.run_batch(32, link.noise_variance("snr_db", snr)).items():
                    accs.setdefault(label, Accumulator()).add(st)
            for label, acc in accs.items():
                v = acc.values(None)
                print(f"{family:>14} {label:>10} {snr:>9g} {v['nmse_db']:>10.2f} {v['err_var_ratio']:>14.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
