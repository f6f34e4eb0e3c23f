"""Where Monte-Carlo batches run: in this process (``local``) or on Ray actors (``ray``).

The runner (:mod:`linksim.runner`) asks an executor for the batches of one point as a
stream in batch-index order: ``executor.batches(work, start, stop)`` yields
``(batch index, outcome)`` for ``start, start + 1, ...``. A batch depends only on its
seed (scenario seed, swept value, batch index: :func:`batch_seed`), never on
where or after what it ran, so the runner merges the same counts in the same order and
applies early stopping in that order whatever the executor: a local run and a Ray run of
a scenario write the same metrics.csv. The runner closes a stream once the point has its
statistics; batches a Ray executor had already started beyond that are discarded.

- :class:`LocalExecutor` runs each batch when the runner asks for it.
- :class:`RayExecutor` keeps long-lived actors (each builds a link once per
  :class:`Work` and runs batches of it), up to two batches in flight per actor, and
  reruns on another actor the batches of an actor that died.

An outcome is a dict: ``stats`` ({receiver label: {stat: value}}) and ``info`` (the
link's ``slot_s``, ``receivers`` set-up record and ``xla_fallback``), or ``nonfinite``
([receiver, what]) when a receiver returned NaN/inf.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from .errors import NonFiniteOutput, UserError
from .links.registry import build_link
from .scenario import Scenario

INSTALL_HINT = 'runtime.executor: ray needs Ray: pip install -e ".[cluster]" (or pip install "ray>=2.9"), or use runtime.executor: local'
IN_FLIGHT_PER_WORKER = 2  # one running, one queued: a worker never waits for the driver
LINKS_KEPT = 2  # links a worker keeps built (one per work unit; oldest dropped)
NOT_IN_LINK = ("name", "output", "sweep")  # scenario sections a link's build does not read
POOL_KEYS = ("executor", "address", "workers", "cpus_per_worker", "gpus_per_worker")  # runtime: where, not what


def batch_seed(seed: int, value: float, batch: int) -> int:
    """Seed of one Monte-Carlo batch, from the scenario seed, the swept value and the
    batch index only: a point can be continued (``--resume`` with more batches), values
    added, and the batches spread over workers, with the numbers of a single run."""
    digest = hashlib.sha256(f"{int(seed)}|{float(value)!r}|{int(batch)}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % (2**31 - 1)


@dataclass(frozen=True)
class Work:
    """What a worker needs to build one link and run its batches: the resolved scenario
    (with the point's value set for a structural sweep), the noise setting of the point,
    the batch size, and the folders a ``module:Class`` receiver is imported from.

    ``key`` identifies the link: the scenario without the parts a link does not depend on
    (:data:`NOT_IN_LINK`), so that a worker reuses a link across the points of a noise
    sweep, across runs that differ only in their sweep (a grid over ``sweep.*``, a grown
    run) and on ``--resume``."""

    scenario: dict
    noise: tuple  # (key, value): ("ebno_db" | "snr_db", float)
    seed_of: tuple  # (scenario seed, swept value): batch b runs with batch_seed(*seed_of, b)
    batch_size: int
    paths: tuple = ()
    cwd: str = field(default_factory=os.getcwd)
    key: str = field(init=False)  # computed once here, travels with the work to the workers

    def __post_init__(self):
        object.__setattr__(self, "key", link_key(self.scenario))


def link_key(scenario: dict) -> str:
    """The key of the link a resolved scenario builds: the scenario without the parts a
    link does not depend on (:data:`NOT_IN_LINK`, and where the batches run)."""
    data = {k: v for k, v in scenario.items() if k not in NOT_IN_LINK}
    data["runtime"] = {k: v for k, v in data.get("runtime", {}).items() if k not in POOL_KEYS}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


class LinkWorker:
    """Builds links from :class:`Work` (the last :data:`LINKS_KEPT` kept) and runs batches.
    Runs in the driver for ``local`` and inside each Ray actor for ``ray``."""

    def __init__(self, threads: int | None = None, hide_gpus: bool = False):
        import tensorflow as tf

        if hide_gpus:
            try:
                tf.config.set_visible_devices([], "GPU")
            except RuntimeError:
                pass
        if threads:
            try:
                tf.config.threading.set_intra_op_parallelism_threads(threads)
                tf.config.threading.set_inter_op_parallelism_threads(threads)
            except RuntimeError:
                pass  # TensorFlow already started in this process: its pools stay
        self._links: dict = {}

    def link(self, work: Work):
        """The link of ``work``, built on first use."""
        from sionna.phy import config as sionna_config

        link = self._links.get(work.key)
        if link is None:
            for p in work.paths:
                if p not in sys.path and Path(p).is_dir():
                    sys.path.append(p)  # a module:Class receiver next to the scenario
            if work.cwd and Path(work.cwd).is_dir() and os.getcwd() != work.cwd:
                os.chdir(work.cwd)  # relative paths in the scenario, as in the driver
            s = Scenario.model_validate(work.scenario)
            sionna_config.precision = s.precision
            sionna_config.seed = s.seed  # receiver statistics and fits: the same on every worker
            link = build_link(s)
            while len(self._links) >= LINKS_KEPT:
                self._links.pop(next(iter(self._links)))
            self._links[work.key] = link
        return link

    def adopt(self, scenario: dict, link) -> None:
        """Use ``link``, built by the caller as :meth:`link` builds it (seed and precision of
        the scenario set first), for the works of the resolved ``scenario``."""
        self._links[link_key(scenario)] = link

    def forget(self) -> None:
        """Drop the links built so far."""
        self._links.clear()

    def run(self, work: Work, batch: int) -> dict:
        """One batch of ``work``: its outcome (see the module docstring)."""
        from sionna.phy import config as sionna_config

        link = self.link(work)
        no = link.noise_variance(*work.noise)
        sionna_config.seed = batch_seed(*work.seed_of, batch)
        try:
            stats = link.run_batch(work.batch_size, no)
        except NonFiniteOutput as err:
            return {"nonfinite": [err.receiver, err.what]}
        info = {"slot_s": getattr(link, "slot_duration", None), "receivers": getattr(link, "receiver_info", None),
                "xla_fallback": getattr(link, "xla_fallback", None),
                "reconstruction": link.image_outputs.info if link.image_outputs is not None else None}
        return {"stats": stats, "info": info}


class LocalExecutor:
    """Batches in this process, one at a time, when the runner asks for them."""

    name = "local"
    workers = 1

    def __init__(self):
        self._worker = LinkWorker()

    def describe(self) -> dict:
        return {"executor": "local"}

    def adopt(self, scenario: dict, link) -> None:
        """See :meth:`LinkWorker.adopt`."""
        self._worker.adopt(scenario, link)

    def batches(self, work: Work, start: int, stop: int) -> Iterator[tuple[int, dict]]:
        for b in range(start, stop):
            yield b, self._worker.run(work, b)

    def close(self) -> None:
        self._worker.forget()


class RayWorker:
    """The Ray actor: a :class:`LinkWorker` whose user errors travel back as data."""

    def __init__(self, threads: int, hide_gpus: bool):
        self._worker = LinkWorker(threads, hide_gpus)

    def run(self, work: Work, batch: int) -> dict:
        try:
            return self._worker.run(work, batch)
        except UserError as err:
            return {"error": [err.message, err.source, err.field]}

    def pid(self) -> int:
        return os.getpid()


def import_ray():
    try:
        import ray
    except ImportError:
        raise UserError(INSTALL_HINT, field="runtime.executor") from None
    return ray


class RayExecutor:
    """Batches on long-lived Ray actors (see the module docstring).

    Parameters
    ----------
    runtime : linksim.scenario.Runtime
        ``address`` (None: start Ray on this machine), ``workers``, ``cpus_per_worker``,
        ``gpus_per_worker``.
    """

    name = "ray"

    def __init__(self, runtime):
        ray = import_ray()
        self._ray = ray
        self._started = False
        if not ray.is_initialized():
            kwargs = dict(include_dashboard=False, log_to_driver=False, configure_logging=False)
            if runtime.address:
                try:
                    ray.init(address=runtime.address, **kwargs)
                except (ConnectionError, RuntimeError, ValueError) as err:
                    raise UserError(f"cannot join the Ray cluster at {runtime.address}: {str(err).splitlines()[0]}",
                                    field="runtime.address") from None
            else:
                need = (runtime.workers or 0) * runtime.cpus_per_worker
                ray.init(num_cpus=max(need, os.cpu_count() or 1), **kwargs)
                self._started = True
        have = ray.cluster_resources()
        cpus, gpus = int(have.get("CPU", 0)), float(have.get("GPU", 0))
        self.workers = runtime.workers or max(1, cpus // runtime.cpus_per_worker)
        problems = []
        if self.workers * runtime.cpus_per_worker > cpus:
            problems.append(UserError(f"{self.workers} workers x {runtime.cpus_per_worker} CPUs do not fit the "
                                      f"cluster's {cpus} CPUs; allowed: workers x cpus_per_worker <= {cpus}",
                                      field="runtime.workers"))
        if self.workers * runtime.gpus_per_worker > gpus:
            problems.append(UserError(f"{self.workers} workers x {runtime.gpus_per_worker:g} GPUs do not fit the "
                                      f"cluster's {gpus:g} GPUs; allowed: workers x gpus_per_worker <= {gpus:g}",
                                      field="runtime.gpus_per_worker"))
        if problems:
            if self._started:
                ray.shutdown()
            raise UserError.collect(problems)
        self._actor_cls = ray.remote(num_cpus=runtime.cpus_per_worker, num_gpus=runtime.gpus_per_worker,
                                     max_restarts=0)(RayWorker)
        self._args = (runtime.cpus_per_worker, not runtime.gpus_per_worker)
        self.actors = [self._new_actor() for _ in range(self.workers)]
        self.replaced = 0  # actors that died and were replaced
        self.address = runtime.address

    def _new_actor(self):
        return self._actor_cls.remote(*self._args)

    def describe(self) -> dict:
        return {"executor": "ray", "workers": self.workers, "address": self.address or "local Ray",
                "replaced_workers": self.replaced}

    def _replace(self, dead) -> None:
        index = next((i for i, a in enumerate(self.actors) if a is dead), None)
        if index is None:
            return  # already replaced (several of its batches failed)
        if self.replaced >= 2 * self.workers + 2:
            raise UserError(f"Ray workers keep dying ({self.replaced} replaced); see the Ray logs "
                            "(/tmp/ray/session_latest/logs)", field="runtime.executor")
        self.actors[index] = self._new_actor()
        self.replaced += 1

    def batches(self, work: Work, start: int, stop: int) -> Iterator[tuple[int, dict]]:
        ray = self._ray
        work_ref = ray.put(work)
        pending: dict = {}  # ObjectRef -> (actor, batch)
        done: dict = {}  # batch -> outcome, waiting for the batches before it
        todo: list[int] = []  # batches to (re)submit, lowest first
        next_new, next_out = start, start

        def submit(batch: int) -> None:
            load = {id(a): 0 for a in self.actors}
            for actor, _ in pending.values():
                if id(actor) in load:
                    load[id(actor)] += 1
            actor = min(self.actors, key=lambda a: load[id(a)])
            pending[actor.run.remote(work_ref, batch)] = (actor, batch)

        while next_out < stop:
            while len(pending) < IN_FLIGHT_PER_WORKER * len(self.actors) and (todo or next_new < stop):
                if todo:
                    submit(todo.pop(0))
                else:
                    submit(next_new)
                    next_new += 1
            while next_out in done:
                outcome = done.pop(next_out)
                if "error" in outcome:
                    message, source, fld = outcome["error"]
                    raise UserError(message, source=source, field=fld)
                yield next_out, outcome
                next_out += 1
            if next_out >= stop:
                break
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                actor, batch = pending.pop(ref)
                try:
                    done[batch] = ray.get(ref)
                except ray.exceptions.RayActorError:
                    self._replace(actor)  # its batches run again elsewhere: nothing lost, nothing twice
                    todo.append(batch)
                    todo.sort()

    def close(self) -> None:
        for actor in self.actors:
            self._ray.kill(actor)
        self.actors = []
        if self._started:
            self._ray.shutdown()


def make_executor(runtime):
    """The executor for a scenario's ``runtime`` section."""
    if runtime.executor == "ray":
        return RayExecutor(runtime)
    return LocalExecutor()
