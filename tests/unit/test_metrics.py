"""Metrics: Wilson and ratio intervals, estimation sums, csv rows, plot styles, compare."""

import math

import numpy as np
import pytest
import yaml

from linksim import metrics, sums
from linksim.metrics import Accumulator, columns, wilson
from linksim.results import RunDir, read_metrics

Z = 1.96


# --------------------------------------------------------------------------- Wilson
@pytest.mark.parametrize("k, n", [(0, 10), (10, 10), (3, 20), (1, 1000), (500, 1000), (0, 1)])
def test_wilson_matches_closed_form(k, n):
    # (k + z^2/2 +- z sqrt(k (n - k) / n + z^2 / 4)) / (n + z^2)
    centre = k + Z * Z / 2
    half = Z * math.sqrt(k * (n - k) / n + Z * Z / 4)
    lo, hi = wilson(k, n)
    assert lo == pytest.approx((centre - half) / (n + Z * Z), abs=1e-12)
    assert hi == pytest.approx((centre + half) / (n + Z * Z), abs=1e-12)
    assert lo <= k / n <= hi


def test_wilson_edges():
    # no errors: [0, z^2 / (n + z^2)]; all errors: [n / (n + z^2), 1]
    assert wilson(0, 50) == (0.0, pytest.approx(Z * Z / (50 + Z * Z)))
    assert wilson(50, 50) == (pytest.approx(50 / (50 + Z * Z)), 1.0)
    assert all(math.isnan(v) for v in wilson(0, 0))


# --------------------------------------------------------------------------- ratio intervals
def test_ratio_interval_covers_the_truth_about_95_percent():
    """Per batch: 64 REs with |h|^2 ~ Exp(1) and |e|^2 = R |h|^2 Exp(1), so E[sum e] /
    E[sum h] = R. With 20 batches per run the normal-approximation interval should cover R
    in about 93 % of runs (it is a little short of 95 % for few batches)."""
    rng = np.random.default_rng(7)
    truth, runs, batches = 0.3, 2000, 20
    covered, widths = 0, []
    for _ in range(runs):
        acc = Accumulator()
        for _ in range(batches):
            h2 = rng.exponential(1.0, 64)
            e2 = truth * h2 * rng.exponential(1.0, 64)
            acc.add({"ev_reported": e2.sum(), "ev_measured": h2.sum()})
        r, lo, hi = acc.ratio("err_var_ratio")
        covered += lo <= truth <= hi
        widths.append(hi - lo)
    coverage = covered / runs
    assert 0.90 <= coverage <= 0.98, coverage
    assert 0.01 < np.median(widths) < 0.3 * truth  # informative, not vacuous


def test_ratio_interval_by_hand():
    # a = [1, 3], f = [1, 1]: r = 2, sum (a - r f)^2 = 2, var = 2 / (2 * 1 * 1) = 1
    acc = Accumulator()
    for a in (1.0, 3.0):
        acc.add({"nmse_err": a, "nmse_ref": 1.0})
    r, lo, hi = acc.ratio("nmse_db")
    assert (r, lo, hi) == pytest.approx((2.0, 2.0 - Z, 2.0 + Z))
    values = acc.values(None)
    assert values["nmse_db"] == pytest.approx(10 * math.log10(2.0))
    assert values["nmse_db_lo"] == pytest.approx(10 * math.log10(2.0 - Z))
    assert values["nmse_db_hi"] == pytest.approx(10 * math.log10(2.0 + Z))


def test_ratio_interval_edge_cases():
    one = Accumulator()
    one.add({"nmse_err": 1.0, "nmse_ref": 2.0})
    v = one.values(None)
    assert v["nmse_db"] == pytest.approx(10 * math.log10(0.5))
    assert math.isnan(v["nmse_db_lo"]) and math.isnan(v["nmse_db_hi"])  # one batch: no spread
    wide = Accumulator()
    for a in (1.0, 100.0, 1.0):
        wide.add({"nmse_err": a, "nmse_ref": 1.0})
    assert wide.values(None)["nmse_db_lo"] == -math.inf  # linear lower bound <= 0
    genie = Accumulator()
    genie.add({"nmse_ref": 1.0})
    genie.add({"nmse_ref": 1.0})
    assert all(math.isnan(genie.values(None)[c]) for c in ("nmse_db", "nmse_db_lo", "nmse_db_hi",
                                                           "err_var_ratio", "err_var_ratio_lo"))


# --------------------------------------------------------------------------- estimation sums
def _estimation_case():
    """Nr = 2, Ns = 2, S = 1, F = 3; errors only on antenna 0."""
    h0 = np.array([[1, 2, 1j], [1, -1, 2]])                  # |h|^2: 1 4 1 / 1 1 4 = 12
    e0 = np.array([[1, 2j, 0], [3, 0, 1]])                   # |e|^2: 1 4 0 / 9 0 1 = 15
    h = np.stack([h0, h0])[None, None, :, None, :, None, :]   # [1,1,2,1,2,1,3]
    e = np.stack([e0, 0 * e0])[None, None, :, None, :, None, :]
    mask = np.array([[1, 0, 1], [0, 1, 1]], np.float64)[:, None, :]  # [Ns,S,F]
    return (h + e).astype(np.complex64), h.astype(np.complex64), mask


@pytest.mark.parametrize("err_var, reported", [
    (np.float32(0.5), 0.5 * 4 * 2),                                          # 4 data REs x 2 antennas
    (np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]], np.float32)[None, None, None, None, :, None, :],
     (0.1 + 0.3 + 0.5 + 0.6) * 2),                                           # per RE, shared by antennas
    (np.array([1.0, 2.0, 3.0], np.float32).reshape(1, 1, 1, 1, 1, 1, 3), (1 + 3 + 2 + 3) * 2),  # per subcarrier
])
def test_estimation_stats_by_hand(err_var, reported):
    h_hat, h, mask = _estimation_case()
    out = {k: float(v) for k, v in sums.estimation_stats(h_hat, err_var, h, mask).items()}
    assert out["nmse_err"] == pytest.approx(15.0)
    assert out["nmse_ref"] == pytest.approx(24.0)
    # measured on data REs only: stream 0 keeps |e|^2 1 and 0, stream 1 keeps 0 and 1
    assert out["ev_measured"] == pytest.approx(2.0)
    assert out["ev_reported"] == pytest.approx(reported)


def test_coding_and_se_stats():
    b = np.zeros([2, 1, 2, 4], np.float32)
    b_hat = b.copy()
    b_hat[0, 0, 1, 2] = 1  # one bit error in one of 4 blocks
    out = {k: float(v) for k, v in sums.coding_stats(b, b_hat, 2, 4).items()}
    assert out == {"bits": 16, "bit_errors": 1, "blocks": 4, "block_errors": 1, "info_bits_ok": 12}
    assert set(sums.coding_stats(b, b_hat, 0, 0)) == {"bits", "bit_errors"}
    se = {k: float(v) for k, v in sums.se_stats(np.array([[1.0, 2.0], [3.0, 4.0]])).items()}
    assert se == {"se_sum": 10.0, "se_count": 4.0}
    assert set(sums.zero_stats()) == set(metrics.STAT_KEYS)


# --------------------------------------------------------------------------- csv rows
ALL = ["ber", "bler", "goodput", "nmse", "se", "calibration"]


def test_columns_layout():
    assert columns("snr_db", ALL) == [
        "receiver", "snr_db", "bits", "bit_errors", "blocks", "block_errors",
        "ber", "ber_lo", "ber_hi", "bler", "bler_lo", "bler_hi", "goodput_mbps",
        "nmse_db", "nmse_db_lo", "nmse_db_hi", "se", "se_lo", "se_hi",
        "err_var_ratio", "err_var_ratio_lo", "err_var_ratio_hi", "batches"]
    assert columns("x", ["nmse", "ber"])[6:] == ["nmse_db", "nmse_db_lo", "nmse_db_hi", "ber", "ber_lo", "ber_hi", "batches"]


def test_row_round_trip_through_metrics_csv(tmp_path):
    acc = Accumulator()
    for a in (1.0, 100.0, 1.0):  # NMSE lower bound -inf
        acc.add({"bits": 100, "bit_errors": 3, "blocks": 2, "block_errors": 1, "info_bits_ok": 50,
                 "slots": 1, "nmse_err": a, "nmse_ref": 1.0, "se_sum": 4.0 + a, "se_count": 2.0,
                 "ev_reported": 2.0 * a, "ev_measured": a + 1})
    row = {"receiver": "ls", "snr_db": 5.0, **acc.row(ALL, 1e-3)}
    cols = columns("snr_db", ALL)
    run = RunDir(tmp_path)
    run.write_point(cols, "snr_db", [5.0], [row])
    back = read_metrics(tmp_path / "metrics.csv")
    assert list(back[0]) == cols
    assert back[0]["receiver"] == "ls" and back[0]["batches"] == "3" and back[0]["bit_errors"] == "9"
    for c in cols[1:]:
        assert float(back[0][c]) == float(row[c]) or math.isnan(float(row[c])), c  # exact, incl. -inf
    assert float(back[0]["nmse_db_lo"]) == -math.inf
    assert float(back[0]["goodput_mbps"]) == pytest.approx(150 / 3e-3 / 1e6)
    assert float(back[0]["bler_lo"]) == pytest.approx(wilson(3, 6)[0])
    assert float(back[0]["err_var_ratio"]) == pytest.approx(204 / 105)


# --------------------------------------------------------------------------- plotting
def _write_run(path, rows, key="ebno_db", name="t"):
    path.mkdir()
    (path / "scenario.yaml").write_text(yaml.safe_dump({"name": name, "sweep": {"key": key}}))
    (path / "metrics.csv").write_text("\n".join(rows) + "\n")
    return path


def _run_with_bounds(path, name="t"):
    rows = ["receiver,ebno_db,ber,ber_lo,ber_hi,nmse_db,nmse_db_lo,nmse_db_hi,err_var_ratio,err_var_ratio_lo,err_var_ratio_hi"]
    for x in (0, 1):
        # "genie" first, without an estimate: "est" is the first curve of the NMSE figure
        rows.append(f"genie,{x},0.1,0.05,0.2,nan,nan,nan,nan,nan,nan")
        rows.append(f"est,{x},0.2,0.1,0.3,-10,-11,-9,1.2,0.9,1.5")
        rows.append(f"other,{x},0.3,0.2,0.4,-12,-inf,-11,0.8,0.7,0.9")
    return _write_run(path, rows, name=name)


def _line(fig, label):
    return next(line for line in fig.axes[0].get_lines() if line.get_label() == label)


def test_receiver_keeps_colour_and_marker_in_every_figure(tmp_path):
    import matplotlib.pyplot as plt

    from linksim.plotting import figures

    figs = dict(figures([_run_with_bounds(tmp_path / "run")]))
    assert set(figs) == {"ber", "nmse_db", "err_var_ratio"}
    for label in ("est", "other"):
        styles = {(_line(f, label).get_color(), _line(f, label).get_marker()) for f in figs.values()}
        assert len(styles) == 1, (label, styles)
    assert _line(figs["ber"], "est").get_color() != _line(figs["ber"], "genie").get_color()
    assert _line(figs["ber"], "est").get_marker() != _line(figs["ber"], "genie").get_marker()
    # error bars drawn; calibration figure has the dashed line at 1
    assert figs["ber"].axes[0].collections
    ref = [ln for ln in figs["err_var_ratio"].axes[0].get_lines() if list(ln.get_ydata()) == [1, 1]]
    assert ref and ref[0].get_linestyle() == "--"
    for f in figs.values():
        plt.close(f)


def test_plot_old_files_and_overlays(tmp_path):
    import matplotlib.pyplot as plt

    from linksim.plotting import figures, plot_runs

    old = _write_run(tmp_path / "old", ["receiver,ebno_db,ber,bler", "a,0,0.1,0.5", "est,0,0.2,0.6",
                                        "a,1,0.01,0.1", "est,1,0.02,0.2"])
    written = plot_runs([old])
    assert {p.name for p in written} == {"ber.png", "ber.pdf", "bler.png", "bler.pdf"}
    figs = dict(figures([old]))
    assert not figs["ber"].axes[0].collections  # no bounds, no error bars
    new = _run_with_bounds(tmp_path / "new", name="n")
    both = dict(figures([new, old]))
    est_new, est_old = _line(both["ber"], "n: est"), _line(both["ber"], "t: est")
    assert est_new.get_color() == est_old.get_color() and est_new.get_marker() == est_old.get_marker()
    assert est_new.get_linestyle() != est_old.get_linestyle()  # runs differ by line style
    assert _line(both["ber"], "t: a").get_color() not in {est_new.get_color(), _line(both["ber"], "n: genie").get_color()}
    for f in list(figs.values()) + list(both.values()):
        plt.close(f)


def test_plot_and_compare_do_not_import_tensorflow(tmp_path):
    import subprocess
    import sys

    run = _run_with_bounds(tmp_path / "run")
    code = ("import sys; from linksim.cli import main; "
            f"assert main(['plot', {str(run)!r}]) == 0; "
            f"assert main(['compare', {str(run)!r}, '--reference', 'est']) == 0; "
            "assert 'tensorflow' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, timeout=120)


# --------------------------------------------------------------------------- compare
def test_compare_crossing_interval(tmp_path, capsys):
    from linksim.cli import main

    rows = ["receiver,ebno_db,blocks,block_errors,bler,bler_lo,bler_hi"]
    curves = {"lmmse": ((1.0, 0.01, 0.001), (0.5, 0.001, 0.0001), (1.0, 0.1, 0.01)),
              "dm": ((1.0, 0.1, 0.0), (0.9, 0.01, 0.0), (1.0, 0.3, 0.03))}
    for rx, (bler, lo, hi) in curves.items():
        for x in range(3):
            rows.append(f"{rx},{x},100,{int(bler[x] * 100)},{bler[x]},{lo[x]},{hi[x]}")
    run = _write_run(tmp_path / "run", rows)
    assert main(["compare", str(run), "--reference", "lmmse"]) == 0
    out = capsys.readouterr().out
    # by hand, log-linear between the points around 0.1
    ref, ref_lo, ref_hi = 0.5, math.log(5) / math.log(500), 1.0
    x, x_lo, x_hi = 1.0, math.log(9) / math.log(90), 1 + math.log(3) / math.log(10)
    lines = {line.split()[0]: line for line in out.splitlines()[1:] if line.strip()}
    assert f"{ref:.2f} [{ref_lo:.2f}, {ref_hi:.2f}]" in lines["lmmse"]
    assert f"{x:.2f} [{x_lo:.2f}, {x_hi:.2f}]" in lines["dm"]
    assert f"{x - ref:+.2f} [{x_lo - ref_hi:+.2f}, {x_hi - ref_lo:+.2f}]" in lines["dm"]
    assert lines["receiver"].split()[1] == "ebno_db"  # the table has column headers
