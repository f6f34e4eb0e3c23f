"""Curves from results folders (reads metrics.csv and scenario.yaml only)."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import yaml  # noqa: E402

from .errors import UserError  # noqa: E402
from .results import RunDir  # noqa: E402

# column -> (axis label, log scale)
PLOTTABLE = {
    "ber": ("BER", True),
    "bler": ("BLER", True),
    "nmse_db": ("NMSE [dB]", False),
    "se": ("Spectral efficiency [bit/s/Hz]", False),
    "goodput_mbps": ("Goodput [Mbit/s]", False),
}
AXIS_LABELS = {"ebno_db": "Eb/N0 [dB]", "snr_db": "SNR [dB]"}


def load_run(run_path: Path):
    """``(resolved scenario dict, metrics rows)`` of a run folder."""
    run = RunDir(run_path)
    if not run.metrics_path.is_file():
        raise UserError("no metrics.csv in this folder (is it a finished or running linksim run?)", source=str(run_path))
    with open(run.scenario_path, encoding="utf-8") as f:
        scenario = yaml.safe_load(f)
    return scenario, run.rows()


def plot_runs(run_paths: list[Path], out_dir: Path | None = None, formats=("png", "pdf")) -> list[Path]:
    """Overlay the curves of one or more runs; one figure per metric.

    Returns the written files. Figures go to ``out_dir`` (default: the first run's
    ``figures/``).
    """
    runs = [(Path(p), *load_run(Path(p))) for p in run_paths]
    keys = {sc["sweep"]["key"] for _, sc, _ in runs}
    if len(keys) > 1:
        raise UserError(f"runs sweep different keys ({', '.join(sorted(keys))}); plot them separately", source="plot")
    key = keys.pop()
    out_dir = Path(out_dir) if out_dir else runs[0][0] / "figures"
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for col, (ylabel, logy) in PLOTTABLE.items():
        series = []
        for path, sc, rows in runs:
            if not rows or col not in rows[0]:
                continue
            by_rx: dict[str, list] = {}
            for r in rows:
                y = float(r[col])
                if math.isnan(y) or (logy and y <= 0):
                    continue
                by_rx.setdefault(r["receiver"], []).append((float(r[key]), y))
            prefix = f"{sc.get('name', path.name)}: " if len(runs) > 1 else ""
            series += [(prefix + rx, sorted(pts)) for rx, pts in by_rx.items()]
        if not series:
            continue
        fig, ax = plt.subplots(figsize=(6, 4.2))
        for label, pts in series:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", ms=4, label=label)
        if logy:
            ax.set_yscale("log")
        ax.set_xlabel(AXIS_LABELS.get(key, key))
        ax.set_ylabel(ylabel)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
        title = runs[0][1].get("name", "") if len(runs) == 1 else "comparison"
        ax.set_title(title)
        fig.tight_layout()
        for fmt in formats:
            target = out_dir / f"{col}.{fmt}"
            fig.savefig(target, dpi=130)
            written.append(target)
        plt.close(fig)
    return written
