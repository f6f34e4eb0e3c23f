"""Several runs as one job: scenario files x a grid of overrides, sharing one executor."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from .config import parse_override
from .errors import UserError, clip, echo
from .executors import POOL_KEYS
from .scenario import Scenario, load_scenario


@dataclass
class Job:
    path: str
    scenario: Scenario
    title: str


def parse_grid(text: str) -> tuple[str, list[str]]:
    """``key=v1,v2`` -> ("key", ["v1", "v2"]) (each value later parsed as YAML)."""
    key, _, raw = text.partition("=")
    values = [v.strip() for v in raw.split(",")]
    if not key.strip() or not raw.strip() or not all(values):
        raise UserError("a grid looks like dotted.key=value1,value2,... (values without commas)",
                        source="--grid", field=clip(text))
    for v in values:
        parse_override(f"{key.strip()}={v}")  # YAML check, with the override's message
    return key.strip(), values


def load_jobs(paths: list[str], overrides: list[str], grids: list[str]) -> list[Job]:
    """One job per scenario file and grid combination. A grid run's results folder is its
    scenario's with ``-key=value`` appended per grid key."""
    axes = [parse_grid(g) for g in grids]
    jobs = []
    for path in paths:
        base = load_scenario(path, overrides)
        for combo in itertools.product(*[[(k, v) for v in vals] for k, vals in axes]):
            if not combo:
                jobs.append(Job(path, base, path))
                continue
            tag = "-".join(f"{k}={v}" for k, v in combo)
            extra = [f"{k}={v}" for k, v in combo] + [f"output={base.output_dir}-{tag}"]
            jobs.append(Job(path, load_scenario(path, list(overrides) + extra), f"{path} [{tag}]"))
    outputs = {}
    for job in jobs:
        other = outputs.setdefault(job.scenario.output_dir.resolve(), job)
        if other is not job:
            raise UserError(f"writes to the same results folder as {other.title}: {job.scenario.output_dir}; "
                            "give each run its own output", source=job.title, field="output")
    return jobs


def shared_executor(jobs: list[Job]):
    """The one executor of a job, from its runs' ``runtime`` (which must agree on it)."""
    from .executors import make_executor

    first = jobs[0].scenario.runtime
    for job in jobs[1:]:
        for key in POOL_KEYS:
            mine, theirs = getattr(job.scenario.runtime, key), getattr(first, key)
            if mine != theirs:
                raise UserError(f"runs of one job share their workers: {echo(theirs)} in {jobs[0].title}, {echo(mine)} here",
                                source=job.title, field=f"runtime.{key}")
    return make_executor(first)
