"""Curves from results folders (reads metrics.csv and scenario.yaml only, no TensorFlow).

One figure per metric of the registry (:data:`linksim.metrics.METRICS`) found in the runs,
named after its value column (``ber.png``, ``nmse_db.png``, ``err_var_ratio.png``, ...).
Where metrics.csv has the ``<column>_lo`` / ``<column>_hi`` bounds, each point carries
its 95 % interval as an error bar (older files without them plot as plain curves); a
lower bound of ``-inf`` (NMSE in dB) is drawn down to the bottom of the axes.

Each receiver label keeps one colour and one marker in every figure, assigned in the
order receivers first appear in metrics.csv (first run first); overlaid runs are told
apart by line style, and their legend entries start with the run's name (the folder name
where two runs share a name, :func:`run_names`).

A BER or BLER point without errors has no place on a log axis: it is drawn as an upper
bound instead, a hollow downward triangle in the receiver's colour at the upper end of its
95 % interval (``<column>_hi``; for older files without bounds, the rule of three,
``3 / trials``), with one legend entry "0 errors: upper 95 % bound".
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import NamedTuple

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from .config import read_yaml  # noqa: E402
from .errors import UserError  # noqa: E402
from .metrics import METRICS, Metric  # noqa: E402
from .results import RunDir  # noqa: E402

AXIS_LABELS = {"ebno_db": "Eb/N0 [dB]", "snr_db": "SNR [dB]"}
COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple",
          "tab:brown", "tab:pink", "tab:gray", "tab:olive", "tab:cyan")
MARKERS = ("o", "s", "^", "v", "D", "P", "X")  # 7 and 10 are coprime: 70 distinct pairs
LINESTYLES = ("-", "--", ":", "-.")
ZERO_LABEL = "0 errors: upper 95 % bound"
RULE_OF_THREE = 3.0  # 95 % one-sided upper bound on a rate with zero events: 3 / trials


def save_curves(fig, ax, path, xlabel: str, ylabel: str) -> None:
    """Label, grid and legend ``ax``, write ``fig`` to ``path`` (PNG, 130 dpi) and close it
    (the finishing steps of the experiment and benchmark curves)."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def load_run(run_path: Path):
    """``(resolved scenario dict, metrics rows)`` of a run folder."""
    run = RunDir(run_path)
    if not run.metrics_path.is_file():
        raise UserError("no metrics.csv in this folder (is it a finished or running linksim run?)", source=str(run_path))
    scenario = read_yaml(run.scenario_path)
    return scenario, run.rows()


class Run(NamedTuple):
    """A loaded run folder: display name, folder, swept key and metrics rows."""

    name: str
    path: Path
    key: str | None
    rows: list[dict]


def run_names(paths, names) -> list[str]:
    """One display name per run: its scenario ``name``; where two runs share it, their
    folder name (the path as given where the folder names clash too)."""
    paths = [Path(p) for p in paths]
    names = [n or p.name for n, p in zip(names, paths)]
    folders = [p.name for p in paths]
    out = []
    for n, p, folder in zip(names, paths, folders):
        if names.count(n) == 1:
            out.append(n)
        else:
            out.append(folder if folders.count(folder) == 1 else str(p))
    return out


def load_runs(run_paths, command: str) -> tuple[list[Run], str]:
    """``(runs, swept key)`` of run folders that must all sweep the same key; a
    :class:`UserError` (from ``command``) naming each run's key otherwise."""
    loaded = [(Path(p), *load_run(Path(p))) for p in run_paths]
    names = run_names([p for p, _, _ in loaded], [sc.get("name") for _, sc, _ in loaded])
    runs = [Run(n, p, (sc.get("sweep") or {}).get("key"), rows) for n, (p, sc, rows) in zip(names, loaded)]
    keys = {r.key for r in runs}
    if len(keys) > 1:
        which = ", ".join(f"{r.name} sweeps {r.key}" for r in runs)
        raise UserError(f"runs sweep different keys ({which}); {command} them separately", source=command)
    return runs, keys.pop()


def receiver_styles(labels) -> dict[str, dict]:
    """``{label: {"color": ..., "marker": ...}}`` in the order labels first appear in
    ``labels`` (an iterable with repeats, e.g. the receiver column of metrics.csv)."""
    styles: dict[str, dict] = {}
    for label in labels:
        if label not in styles:
            i = len(styles)
            styles[label] = {"color": COLORS[i % len(COLORS)], "marker": MARKERS[i % len(MARKERS)]}
    return styles


def as_float(v) -> float:
    """A metrics.csv field as a float (NaN when empty or not a number)."""
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
        y = as_float(r.get(col))
        if math.isnan(y) or (metric.log and y <= 0):
            continue
        pt = (as_float(r[key]), y, as_float(r.get(lo_col)), as_float(r.get(hi_col)))
        out.setdefault(r["receiver"], []).append(pt)
    return {rx: sorted(pts) for rx, pts in out.items()}


def _zero_points(rows, key: str, metric: Metric) -> dict[str, list[tuple]]:
    """``{receiver: sorted [(x, upper bound)]}`` of the points of an error rate
    (``wilson`` metric) without errors; the bound is ``<column>_hi``, or ``3 / trials``
    where that column is missing."""
    if metric.interval != "wilson":
        return {}
    hi_col, trials_col = metric.bounds[1], metric.sums[1]
    out: dict[str, list] = {}
    for r in rows:
        if as_float(r.get(metric.column)) != 0:
            continue
        hi = as_float(r.get(hi_col))
        if not hi > 0:
            trials = as_float(r.get(trials_col))
            hi = RULE_OF_THREE / trials if trials > 0 else math.nan
        if hi > 0:
            out.setdefault(r["receiver"], []).append((as_float(r[key]), hi))
    return {rx: sorted(pts) for rx, pts in out.items()}


def _draw_zeros(ax, pts, style: dict) -> None:
    """Upper bounds of zero-error points: hollow downward triangles, unlabelled."""
    xs, his = zip(*pts)
    ax.plot(xs, his, ls="none", marker="v", mfc="none", mec=style["color"], ms=6, label="_nolegend_")


def _draw(ax, pts, label: str, style: dict, linestyle: str) -> list[tuple]:
    """One curve with its error bars; returns the points whose lower bound is -inf.

    With no points the curve is still added, empty, for its legend entry."""
    ax.plot([p[0] for p in pts], [p[1] for p in pts], ls=linestyle, ms=4, label=label, **style)
    if not pts:
        return []
    xs, ys, lo, hi = (list(v) for v in zip(*pts))
    below = [max(y - v, 0.0) if math.isfinite(v) else math.nan for y, v in zip(ys, lo)]
    above = [max(v - y, 0.0) if math.isfinite(v) else math.nan for y, v in zip(ys, hi)]
    if any(math.isfinite(v) for v in below + above):
        ax.errorbar(xs, ys, yerr=[below, above], fmt="none", ecolor=style["color"], elinewidth=1, capsize=2)
    return [(x, y, style["color"]) for x, y, v in zip(xs, ys, lo) if v == -math.inf]


def figures(run_paths: list[Path]) -> list[tuple[str, plt.Figure]]:
    """Overlay the runs: ``[(value column, figure)]``, one per metric present.

    The caller saves and closes the figures (:func:`plot_runs`).
    """
    runs, key = load_runs(run_paths, "plot")
    styles = receiver_styles(r["receiver"] for run in runs for r in run.rows)
    out = []
    for metric in METRICS.values():
        fig = ax = None
        open_low = []
        zeros = False
        for i, run in enumerate(runs):
            if not run.rows or metric.column not in run.rows[0]:
                continue
            prefix = f"{run.name}: " if len(runs) > 1 else ""
            curves, bounded = _points(run.rows, key, metric), _zero_points(run.rows, key, metric)
            for rx in dict.fromkeys([*curves, *bounded]):
                if fig is None:
                    fig, ax = plt.subplots(figsize=(6, 4.2))
                open_low += _draw(ax, curves.get(rx, []), prefix + rx, styles[rx], LINESTYLES[i % len(LINESTYLES)])
                if rx in bounded:
                    _draw_zeros(ax, bounded[rx], styles[rx])
                    zeros = True
        if fig is None:
            continue
        if zeros:
            ax.plot([], [], ls="none", marker="v", mfc="none", mec="0.3", label=ZERO_LABEL)
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
        ax.set_title(runs[0].name if len(runs) == 1 else "comparison")
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


def image_grid(examples: dict, path: Path, key: str) -> Path:
    """Example images (:func:`linksim.system.images.example_images`) as one PNG: the sent
    images on top, then per swept value one row per receiver/stage."""
    rows = [("sent", examples["sent"])]
    for value, stages in examples["rows"].items():
        rows += [(f"{label}\n{key}={value:g}", imgs) for label, imgs in stages.items()]
    count = len(rows[0][1])
    fig, axes = plt.subplots(len(rows), count, figsize=(0.75 * count + 1.8, 0.75 * len(rows)), squeeze=False)
    for r, (label, imgs) in enumerate(rows):
        for c in range(count):
            ax = axes[r][c]
            ax.imshow(imgs[c], cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r][0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=7)
    fig.tight_layout(pad=0.2)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
