"""Nothing non-finite becomes a result: a receiver that returns NaN stops its point with an
error naming the receiver, the point and the batch seed; finished points stay."""

import csv
import os
import subprocess
import sys
import textwrap

from linksim.executors import batch_seed

FAILING = textwrap.dedent('''
    import tensorflow as tf
    from linksim.receivers.ls import LSEstimator


    class NaNOnThirdBatch(LSEstimator):
        """LS that returns NaN from its third call on."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.calls = tf.Variable(0)

        def call(self, y, no, genie=None):
            h_hat, err_var = super().call(y, no)
            self.calls.assign_add(1)
            nan = tf.fill(tf.shape(h_hat), tf.cast(float("nan"), h_hat.dtype))
            return tf.where(self.calls >= 3, nan, h_hat), err_var
''')

SCENARIO = textwrap.dedent('''
    name: nan
    carrier: {num_prbs: 2}
    pilots: {type: dmrs, symbols: [2, 11], comb: 2}
    link: {bits_per_symbol: 2, coderate: 0.5}
    receivers:
      - name: ls
      - name: failing_rx:NaNOnThirdBatch
        label: failing
    sweep: {key: ebno_db, values: [0, 5], batch_size: 4, max_batches: 2, target_block_errors: null}
    metrics: [bler, nmse]
    runtime: {xla: false}
''')


def test_nan_on_third_batch_stops_the_point_and_keeps_the_first(tmp_path):
    (tmp_path / "failing_rx.py").write_text(FAILING)
    (tmp_path / "s.yaml").write_text(SCENARIO)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run([sys.executable, "-m", "linksim", "run", "s.yaml", "--no-progress", "--no-plot"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 2, done.stderr
    err = done.stderr.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    # batches 0, 1 of ebno_db=0 are fine; the third call is batch 0 of ebno_db=5
    assert "receiver 'failing' returned non-finite h_hat or err_var at ebno_db=5, batch 0" in err
    assert f"(batch seed {batch_seed(42, 5.0, 0)})" in err
    rows = list(csv.DictReader(open(tmp_path / "results" / "nan" / "metrics.csv")))
    assert [(r["receiver"], float(r["ebno_db"])) for r in rows] == [("ls", 0.0), ("failing", 0.0)]
    assert all(r["nmse_db"] not in ("nan", "") for r in rows)
