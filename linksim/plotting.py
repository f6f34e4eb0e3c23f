"""Curves from results folders (reads metrics.csv and scenario.yaml only, no TensorFlow).

One figure per metric of the registry (:data:`linksim.metrics.METRICS`) found in the runs,
named after its value column (``ber.png``, ``nmse_db.png``, ``err_var_ratio.png``, ...).
Where metrics.csv has the ``<column>_lo`` / ``<column>_hi`` bounds, each point carries
its 95 % interval as an error bar (older files without them plot as plain curves); a
lower bound of ``-inf`` (NMSE in dB) is drawn down to the bottom of the axes.

Each receiver label keeps one colour and one marker in every figure, assigned in the
order receivers first appear in metrics.csv (first run first); overlaid runs are told
apart by line style.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import yaml  # noqa: E402

from .errors import UserError  # noqa: E402
from .metrics import METRICS, Metric  # noqa: E402
from .results import RunDir  # noqa: E402

AXIS_LABELS = {"ebno_db": "Eb/N0 [dB]", "snr_db": "SNR [dB]"}
COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple",
          "tab:brown", "tab:pink", "tab:gray", "tab:olive", "tab:cyan")
MARKERS = ("o", "s", "^", "v", "D", "P", "X")  # 7 and 10 are coprime: 70 distinct pairs
LINESTYLES = ("-", "--", ":", "-.")


def load_run(run_path: Path):
    """``(resolved scenario dict, metrics rows)`` of a run folder."""
    run = RunDir(run_path)
    if not run.metrics_path.is_file():
        raise UserError("no metrics.csv in this folder (is it a finished or running linksim run?)", source=str(run_path))
    with open(run.scenario_path, encoding="utf-8") as f:
        scenario = yaml.safe_load(f)
    return scenario, run.rows()


def receiver_styles(labels) -> dict[str, dict]:
    """``{label: {"color": ..., "marker": ...}}`` in the order labels first appear in
    ``labels`` (an iterable with repeats, e.g. the receiver column of metrics.csv)."""
    styles: dict[str, dict] = {}
    for label in labels:
        if label not in styles:
            i = len(styles)
            styles[label] = {"color": COLORS[i % len(COLORS)], "marker": MARKERS[i % len(MARKERS)]}
    return styles


def _float(v) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def _points(rows, key: str, metric: Metric) -> dict[str, list[tuple]]:
    """``{receiver: sorted [(x, y, lo, hi)]}`` of one metric; bounds NaN if absent."""
    col = metric.column
    lo_col, hi_col = metric.bounds or (None, None)
    out: dict[str, list] = {}
    for r in rows:
        y = _float(r.get(col))
        if math.isnan(y) or (metric.log and y <= 0):
            continue
        pt = (_float(r[key]), y, _float(r.get(lo_col)), _float(r.get(hi_col)))
        out.setdefault(r["receiver"], []).append(pt)
    return {rx: sorted(pts) for rx, pts in out.items()}


def _draw(ax, pts, label: str, style: dict, linestyle: str) -> list[tuple]:
    """One curve with its error bars; returns the points whose lower bound is -inf."""
    xs, ys, lo, hi = (list(v) for v in zip(*pts))
    ax.plot(xs, ys, ls=linestyle, ms=4, label=label, **style)
    below = [max(y - v, 0.0) if math.isfinite(v) else math.nan for y, v in zip(ys, lo)]
    above = [max(v - y, 0.0) if math.isfinite(v) else math.nan for y, v in zip(ys, hi)]
    if any(math.isfinite(v) for v in below + above):
        ax.errorbar(xs, ys, yerr=[below, above], fmt="none", ecolor=style["color"], elinewidth=1, capsize=2)
    return [(x, y, style["color"]) for x, y, v in zip(xs, ys, lo) if v == -math.inf]


def figures(run_paths: list[Path]) -> list[tuple[str, plt.Figure]]:
    """Overlay the runs: ``[(value column, figure)]``, one per metric present.

    The caller saves and closes the figures (:func:`plot_runs`).
    """
    runs = [(Path(p), *load_run(Path(p))) for p in run_paths]
    keys = {sc["sweep"]["key"] for _, sc, _ in runs}
    if len(keys) > 1:
        raise UserError(f"runs sweep different keys ({', '.join(sorted(keys))}); plot them separately", source="plot")
    key = keys.pop()
    styles = receiver_styles(r["receiver"] for _, _, rows in runs for r in rows)
    out = []
    for metric in METRICS.values():
        fig = ax = None
        open_low = []
        for i, (path, sc, rows) in enumerate(runs):
            if not rows or metric.column not in rows[0]:
                continue
            prefix = f"{sc.get('name', path.name)}: " if len(runs) > 1 else ""
            for rx, pts in _points(rows, key, metric).items():
                if fig is None:
                    fig, ax = plt.subplots(figsize=(6, 4.2))
                open_low += _draw(ax, pts, prefix + rx, styles[rx], LINESTYLES[i % len(LINESTYLES)])
        if fig is None:
            continue
        if metric.log:
            ax.set_yscale("log")
        if open_low:
            bottom = ax.get_ylim()[0]
            for x, y, color in open_low:
                ax.vlines(x, bottom, y, colors=color, lw=1)
            ax.set_ylim(bottom=bottom)
        if metric.reference is not None:
            ax.axhline(metric.reference, ls="--", color="0.4", lw=1)
        ax.set_xlabel(AXIS_LABELS.get(key, key))
        ax.set_ylabel(metric.label)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
        ax.set_title(runs[0][1].get("name", "") if len(runs) == 1 else "comparison")
        fig.tight_layout()
        out.append((metric.column, fig))
    return out


def plot_runs(run_paths: list[Path], out_dir: Path | None = None, formats=("png", "pdf")) -> list[Path]:
    """Overlay the curves of one or more runs; one figure per metric.

    Returns the written files. Figures go to ``out_dir`` (default: the first run's
    ``figures/``).
    """
    figs = figures(run_paths)
    out_dir = Path(out_dir) if out_dir else Path(run_paths[0]) / "figures"
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for col, fig in figs:
        for fmt in formats:
            target = out_dir / f"{col}.{fmt}"
            fig.savefig(target, dpi=130)
            written.append(target)
        plt.close(fig)
    return written
