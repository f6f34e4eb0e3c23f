"""linksim from Python: scenarios, one batch of the link with every receiver's estimate,
and whole runs as tables.

>>> from linksim import api
>>> sc = api.scenario("scenarios/quickstart.yaml", {"sweep.max_batches": 2})
>>> link = api.Link(sc)
>>> batch = link.sample(8, ebno_db=5.0)
>>> batch.estimates["lmmse"].h_hat.shape, batch.nmse_db("lmmse")
>>> result = api.run(sc, output="results/my_run")
>>> result.table          # pandas.DataFrame if pandas is installed, else a list of dicts

Everything here is a thin layer over the same objects ``linksim run`` uses (the
scenario schema, the link blocks, the runner, the results folder), so a number from
Python is the number the command line writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import apply_overrides
from .errors import NonFiniteOutput, UserError
from .receivers.contract import Estimate
from .results import RunDir
from .scenario import Scenario, load_scenario, validate_scenario

__all__ = ["scenario", "Link", "Batch", "Estimate", "run", "RunOutput", "read_table"]


def _override_strings(overrides) -> list[str]:
    """``{"sweep.max_batches": 2}`` or ``["sweep.max_batches=2"]`` -> ``["key=value", ...]``
    (values as YAML flow text, parsed back by the scenario loader)."""
    import yaml

    if overrides is None:
        return []
    if isinstance(overrides, dict):
        return [f"{k}={yaml.safe_dump(v, default_flow_style=True, width=1 << 20).strip().removesuffix('...').strip()}"
                for k, v in overrides.items()]
    return list(overrides)


def scenario(source: str | Path | dict | Scenario, overrides: dict | list | None = None) -> Scenario:
    """A validated scenario from a YAML file, a dict of plain data or a Scenario, with
    overrides (``{"dotted.key": value}`` or ``["dotted.key=value"]``, as ``--set``).

    Raises :class:`~linksim.errors.UserError` with the file, the field and what is allowed.
    """
    texts = _override_strings(overrides)
    if isinstance(source, Scenario):
        source = source.resolved()
    if isinstance(source, dict):
        data = apply_overrides(source, texts, source="<dict>")
        return validate_scenario(data, source="<dict>")
    return load_scenario(source, texts)


@dataclass
class Batch:
    """One batch through the link (:meth:`Link.sample`); tensors are TensorFlow tensors.

    Attributes: ``bits`` (data links), ``x`` transmitted grid, ``y`` received grid, ``h``
    the channel the receivers estimate (effective channel after precoding; for SRS
    sounding, the channel at the occasions), ``h_eval`` (sounding only: the channel at
    evaluation time), ``component`` mixture component per realisation, ``no`` the noise
    variance as receivers know it, ``estimates`` ``{receiver label: Estimate}``.
    """

    x: Any
    y: Any
    h: Any
    component: Any
    no: Any
    estimates: dict = field(default_factory=dict)
    bits: Any = None
    h_eval: Any = None

    def nmse_db(self, label: str) -> float:
        """NMSE of one receiver's ``h_hat`` against ``h`` on this batch [dB]."""
        import numpy as np

        est = self.estimates[label].h_hat.numpy()
        h = self.h.numpy()
        return float(10 * np.log10(np.sum(np.abs(est - h) ** 2) / np.sum(np.abs(h) ** 2)))


class Link:
    """The link of a scenario with its receivers, built as ``linksim run`` builds it
    (same seed, same receiver statistics and fits).

    Parameters
    ----------
    sc : Scenario | str | Path | dict
        A scenario or what :func:`scenario` accepts.
    """

    def __init__(self, sc):
        from sionna.phy import config as sionna_config

        from .links.registry import build_link

        self.scenario = sc if isinstance(sc, Scenario) else scenario(sc)
        if not self.scenario.link.ofdm:
            raise UserError("a link without OFDM has no channel estimation to look at; Link needs link.ofdm: true",
                            field="link.ofdm")
        sionna_config.precision = self.scenario.precision
        sionna_config.seed = self.scenario.seed
        self.block = build_link(self.scenario)
        self._executor = None

    def run(self, output: str | Path | None = None, resume: bool = False, overwrite: bool = False,
            quick: bool = False, progress: bool = False, pandas: bool | None = None) -> "RunOutput":
        """:func:`run` of this link's scenario in this process, on the link built here (the
        same numbers as :func:`run`, without building the link again)."""
        from .executors import LocalExecutor

        if self._executor is None:
            self._executor = LocalExecutor()
            self._executor.adopt(self.scenario.resolved(), self.block)
        return _run(self.scenario, output, resume, overwrite, quick, progress, pandas, self._executor)

    @property
    def receivers(self) -> dict:
        """``{label: receiver}``; :meth:`sample` gives every receiver's estimate of a batch
        (a Sionna-block receiver can also be called as ``rx(batch.y, batch.no)``)."""
        return dict(self.block.receivers)

    def noise_variance(self, snr_db: float | None = None, ebno_db: float | None = None) -> float:
        """Noise variance per resource element for an SNR or an Eb/N0 (exactly one)."""
        if (snr_db is None) == (ebno_db is None):
            raise UserError("give exactly one of snr_db, ebno_db")
        if ebno_db is not None and not self.scenario.carries_bits:
            raise UserError("Eb/N0 needs coded information bits: use snr_db for a sounding link")
        return self.block.noise_variance(*(("snr_db", snr_db) if snr_db is not None else ("ebno_db", ebno_db)))

    def sample(self, batch_size: int, snr_db: float | None = None, ebno_db: float | None = None,
               num_samples: int = 0, seed: int | None = None) -> Batch:
        """One batch: signals, the true channel and every receiver's ``(h_hat, err_var)``,
        plus ``num_samples`` posterior samples from receivers that offer them.

        ``seed`` reseeds linksim's generators first (same seed, same batch). A receiver
        returning NaN or inf raises :class:`~linksim.errors.UserError` naming it.
        """
        import tensorflow as tf
        from sionna.phy import config as sionna_config

        from .sums import all_finite

        if seed is not None:
            sionna_config.seed = seed
        out = self.block.transmit(int(batch_size), self.noise_variance(snr_db, ebno_db))
        batch = Batch(x=out["x"], y=out["y"], h=out["h"], component=out["component"], no=out["no"],
                      bits=out.get("bits"), h_eval=out.get("h_eval"))
        for label, rx in self.block.receivers:
            h_hat, err_var = self.block.estimate(rx, out["y"], out["no"], out["h"], out["component"])
            samples = None
            if num_samples and rx.offers_samples:
                samples = rx.posterior_samples(out["y"], out["no"], int(num_samples))
            parts = [t for t in (h_hat, err_var, samples) if t is not None]
            if not bool(all_finite(*parts)):
                raise UserError(str(NonFiniteOutput(label, "h_hat, err_var or samples")), field=f"receivers: {label}")
            batch.estimates[label] = Estimate(h_hat, tf.convert_to_tensor(err_var), samples)
        return batch


@dataclass
class RunOutput:
    """A finished (or resumed) run: ``table`` of metrics.csv (pandas DataFrame if pandas
    is installed, else a list of dicts with numbers as floats), its ``path``, and the
    runner's ``result`` (points run now, points kept)."""

    table: Any
    path: Path
    result: Any


def _number(v: str):
    """A metrics.csv field as int, float or (the receiver label) str."""
    for kind in (int, float):
        try:
            return kind(v)
        except (TypeError, ValueError):
            pass
    return v


def read_table(path: str | Path, pandas: bool | None = None):
    """metrics.csv of a run folder as a table: a pandas DataFrame when pandas is installed
    (or ``pandas=True``), else a list of dicts (``pandas=False`` forces it)."""
    run = RunDir(Path(path))
    if not run.metrics_path.is_file():
        raise UserError("no metrics.csv in this folder", source=str(path))
    if pandas is not False:
        try:
            import pandas as pd
        except ImportError:
            if pandas:
                raise UserError("pandas is not installed (pip install pandas)") from None
        else:
            return pd.read_csv(run.metrics_path)
    return [{k: _number(v) for k, v in row.items()} for row in run.rows()]


def run(sc, output: str | Path | None = None, resume: bool = False, overwrite: bool = False,
        quick: bool = False, progress: bool = False, pandas: bool | None = None) -> RunOutput:
    """Run a scenario's sweep as ``linksim run`` does (same folder layout, same numbers)
    and return its metrics table.

    ``output`` overrides the scenario's results folder; ``resume`` / ``overwrite`` /
    ``quick`` are the command's flags.
    """
    return _run(sc if isinstance(sc, Scenario) else scenario(sc), output, resume, overwrite, quick, progress, pandas)


def _run(s: Scenario, output, resume, overwrite, quick, progress, pandas, executor=None) -> RunOutput:
    from .runner import run as run_sweep

    if output is not None:
        s = scenario(s, {"output": str(output)})
    result = run_sweep(s, resume=resume, overwrite=overwrite, quick=quick, progress=progress, executor=executor)
    return RunOutput(read_table(result.run_dir.path, pandas), result.run_dir.path, result)
