"""linksim plot over several runs: legend names, styles per run and receiver, zero-error points."""

import matplotlib.pyplot as plt
import pytest
import yaml

from linksim.errors import UserError
from linksim.plotting import ZERO_LABEL, figures


def _run(path, name, rows, key="ebno_db"):
    path.mkdir()
    (path / "scenario.yaml").write_text(yaml.safe_dump({"name": name, "sweep": {"key": key}}))
    (path / "metrics.csv").write_text("\n".join(rows) + "\n")
    return path


def _coded(path, name, blers, hi=None):
    """Receivers ``lmmse`` and ``dm`` with BLER ``blers[rx]`` at 0, 1, 2 dB out of 100 blocks;
    ``hi`` (same layout) adds the ``bler_lo`` / ``bler_hi`` columns."""
    head = "receiver,ebno_db,blocks,block_errors,bler" + (",bler_lo,bler_hi" if hi else "")
    rows = [head]
    for rx, ys in blers.items():
        for x, y in enumerate(ys):
            bounds = f",0,{hi[rx][x]}" if hi else ""
            rows.append(f"{rx},{x},100,{round(y * 100)},{y}{bounds}")
    return _run(path, name, rows)


def _lines(fig):
    return {line.get_label(): line for line in fig.axes[0].get_lines()}


def _legend(fig):
    return [t.get_text() for t in fig.axes[0].get_legend().get_texts()]


@pytest.fixture
def close_figures():
    yield
    plt.close("all")


def test_runs_differ_by_line_style_receivers_by_colour(tmp_path, close_figures):
    a = _coded(tmp_path / "run_a", "a", {"lmmse": (1.0, 0.1, 0.01), "dm": (1.0, 0.2, 0.02)})
    b = _coded(tmp_path / "run_b", "b", {"dm": (1.0, 0.3, 0.03)})
    fig = dict(figures([a, b]))["bler"]
    lines = _lines(fig)
    assert _legend(fig) == ["a: lmmse", "a: dm", "b: dm"]
    assert lines["a: dm"].get_color() == lines["b: dm"].get_color() != lines["a: lmmse"].get_color()
    assert lines["a: dm"].get_marker() == lines["b: dm"].get_marker()
    assert lines["a: dm"].get_linestyle() == lines["a: lmmse"].get_linestyle() != lines["b: dm"].get_linestyle()


def test_runs_sharing_a_name_are_labelled_by_folder(tmp_path, close_figures):
    a = _coded(tmp_path / "run_a", "same", {"dm": (1.0, 0.2, 0.02)})
    b = _coded(tmp_path / "run_b", "same", {"dm": (1.0, 0.3, 0.03)})
    assert _legend(dict(figures([a, b]))["bler"]) == ["run_a: dm", "run_b: dm"]


def test_runs_must_sweep_one_key(tmp_path):
    a = _coded(tmp_path / "run_a", "a", {"dm": (1.0, 0.2, 0.02)})
    b = _run(tmp_path / "run_b", "b", ["receiver,snr_db,ber", "dm,0,0.1"], key="snr_db")
    with pytest.raises(UserError, match="a sweeps ebno_db, b sweeps snr_db"):
        figures([a, b])


def _zero_markers(fig):
    return [line for line in fig.axes[0].get_lines()
            if line.get_marker() == "v" and line.get_linestyle() == "None" and len(line.get_xdata())]


def test_zero_error_points_are_drawn_as_upper_bounds(tmp_path, close_figures):
    # dm has no error at 2 dB; "genie" never errs: no curve, only bounds, still in the legend
    blers = {"dm": (1.0, 0.2, 0.0), "genie": (0.0, 0.0, 0.0)}
    hi = {"dm": (1.0, 0.3, 0.037), "genie": (0.037, 0.037, 0.036)}
    fig = dict(figures([_coded(tmp_path / "run", "r", blers, hi)]))["bler"]
    lines = _lines(fig)
    assert list(lines["dm"].get_xdata()) == [0, 1]  # the zero is not on the curve
    marks = {tuple(m.get_xdata()): (list(m.get_ydata()), m.get_markeredgecolor()) for m in _zero_markers(fig)}
    assert marks[(2.0,)] == ([0.037], lines["dm"].get_color())  # at bler_hi, in the receiver's colour
    assert marks[(0.0, 1.0, 2.0)] == ([0.037, 0.037, 0.036], lines["genie"].get_color())
    assert _legend(fig) == ["dm", "genie", ZERO_LABEL]  # one legend entry for all bounds


def test_zero_error_bound_without_bound_columns_is_three_over_trials(tmp_path, close_figures):
    run = _run(tmp_path / "run", "r", ["receiver,ebno_db,bits,bit_errors,ber",
                                       "dm,0,1000,100,0.1", "dm,1,600,0,0"])
    fig = dict(figures([run]))["ber"]
    (mark,) = _zero_markers(fig)
    assert list(mark.get_xdata()) == [1.0] and list(mark.get_ydata()) == [pytest.approx(3 / 600)]
    assert ZERO_LABEL in _legend(fig)
