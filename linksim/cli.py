"""Command line: ``linksim run | validate | list | plot | train | compare``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .errors import UserError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="linksim", description="Link-level 5G NR simulation with diffusion receivers.")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="run scenario sweeps and write results/<name>/ (several runs share one pool of workers)")
    r.add_argument("scenarios", nargs="+", help="scenario YAML file(s)")
    r.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a scenario key, e.g. --set sweep.batch_size=32 (repeatable)")
    r.add_argument("--grid", dest="grids", action="append", default=[], metavar="KEY=V1,V2,...",
                   help="one run per value (repeatable: every combination), e.g. --grid receivers.3.steps=5,10,20; "
                        "results go to <output>-KEY=V")
    r.add_argument("--resume", action="store_true", help="continue an interrupted run in the same folder")
    r.add_argument("--overwrite", action="store_true", help="replace existing results in the folder")
    r.add_argument("--quick", action="store_true", help="tiny version: first and last point, 2 small batches")
    r.add_argument("--no-plot", action="store_true", help="do not write figures")
    r.add_argument("--no-progress", action="store_true", help="no progress bars")

    v = sub.add_parser("validate", help="check scenario files and print the resolved scenario")
    v.add_argument("scenarios", nargs="+")
    v.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    v.add_argument("--print", dest="show", action="store_true", help="print the resolved scenario")

    ls = sub.add_parser("list", help="list what a scenario or spec can name: receivers (per link family), "
                                     "reconstructions, networks, trainers, links, channels, metrics")
    ls.add_argument("what", nargs="?", default="all", choices=["all"] + LIST_KINDS)

    t = sub.add_parser("train", help="train diffusion models from training specs (scenarios/train/*.yaml)")
    t.add_argument("specs", nargs="+", help="training spec YAML files")
    t.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    t.add_argument("--resume", action="store_true", help="continue from the last checkpoint in the work folder")
    t.add_argument("--no-progress", action="store_true")

    pl = sub.add_parser("plot", help="plot one or more run folders (overlaid: receivers by colour, runs by line style)")
    pl.add_argument("runs", nargs="+", help="results folders (same swept key)")
    pl.add_argument("--out", help="folder for the figures (default: first run's figures/)")

    c = sub.add_parser("compare", help="NMSE gaps and Eb/N0 (or SNR) at a BLER target, relative to one receiver")
    c.add_argument("runs", nargs="+", help="results folders (same swept key)")
    c.add_argument("--reference", default="lmmse",
                   help="receiver label to compare against (default lmmse); RUN/LABEL where the label is in several runs")
    c.add_argument("--bler", type=float, default=0.1, help="BLER target, in (0, 1) (default 0.1)")
    return p


def _cmd_run(args) -> int:
    from .jobs import load_jobs, shared_executor
    from .plotting import plot_runs
    from .runner import run, summary_table

    jobs = load_jobs(args.scenarios, args.overrides, args.grids)  # every run validated before the first starts
    executor = shared_executor(jobs)
    try:
        for job in jobs:
            if len(jobs) > 1:
                print(f"=== {job.title}")
            try:
                result = run(job.scenario, resume=args.resume, overwrite=args.overwrite, quick=args.quick,
                             progress=not args.no_progress, executor=executor, scenario_file=job.path)
            except UserError as err:
                raise (err if err.source else err.at(source=job.path)) from None
            print(summary_table(result.run_dir, job.scenario.sweep.key, job.scenario.metrics))
            built = result.run_dir.read_meta().get("receivers", {})
            slow = [f"{label} {info['build_s']:g} s" for label, info in built.items() if info.get("build_s", 0) >= 1]
            if slow:
                print("receiver set-up (statistics, fits, models; in meta.json): " + ", ".join(slow))
            for label, info in built.items():
                if info.get("mismatch"):
                    print(f"WARNING: {label} uses a model trained for other settings (allow_mismatch; in meta.json): "
                          + "; ".join(info["mismatch"]))
            if result.skipped:
                print(f"resumed: {len(result.skipped)} finished point(s) kept")
            if not args.no_plot:
                files = plot_runs([result.run_dir.path])
                if not args.quick:  # a quick run checks the chain; the grid builds the link again
                    files += _image_examples(job.scenario, result.run_dir.path)
                pngs = [str(f) for f in files if f.suffix == ".png"]
                print("figures: " + ", ".join(pngs))
            print(f"results: {result.run_dir.path}")
    finally:
        executor.close()
    return 0


def _image_examples(s, run_path: Path) -> list[Path]:
    """figures/examples.png for an image source on a flat link: sent, received and
    reconstructed images at the first, middle and last swept noise value (at the
    scenario's own values when a structural key is swept)."""
    from .links.registry import build_link
    from .runner import noise_setting

    if s.source.type == "bits" or s.link.ofdm:
        return []
    from .plotting import image_grid
    from .system.images import example_images

    link = build_link(s)
    vals = s.sweep.values
    if s.sweep.key not in ("snr_db", "ebno_db"):  # a structural sweep: the scenario's value, its noise level
        vals = [noise_setting(s, vals[0])[1]]
    picks = sorted({vals[0], vals[len(vals) // 2], vals[-1]}, key=vals.index)
    examples = example_images(link, noise_setting(s, s.sweep.values[0])[0], picks, seed=s.seed)
    return [image_grid(examples, run_path / "figures" / "examples.png", s.sweep.key)]


def _cmd_validate(args) -> int:
    import yaml

    from .results import check_writable
    from .scenario import load_scenario

    for path in args.scenarios:
        s = load_scenario(path, args.overrides)
        check_writable(s.output_dir)
        print(f"{path}: ok")
        if args.show:
            print(yaml.safe_dump(s.resolved(), sort_keys=False))
    return 0


def _tables():
    """Every plug-in table, by the name ``linksim list`` gives it."""
    from .diffusion.nets import NETWORKS
    from .links.registry import LINKS, RECEIVER_TABLES
    from .reconstruction import RECONSTRUCTIONS
    from .training import TRAINERS

    return {"receivers": RECEIVER_TABLES["ofdm"], "narrowband-receivers": RECEIVER_TABLES["narrowband"],
            "srs-receivers": RECEIVER_TABLES["srs_precoding"], "reconstructions": RECONSTRUCTIONS,
            "networks": NETWORKS, "trainers": TRAINERS, "links": LINKS}


LIST_KINDS = ["receivers", "narrowband-receivers", "srs-receivers", "reconstructions", "networks",
              "trainers", "links", "channels", "metrics"]


def _print_table(table) -> None:
    """One line per entry: name, origin and the first line of its docstring (a broken
    plug-in is shown as such and does not hide the others)."""
    from .plugins import first_line

    entries = table.entries()
    width = max(len(n) for n in entries)
    for name, entry in entries.items():
        try:
            doc = first_line(table.load(name))
        except (UserError, ImportError, AttributeError) as err:
            doc = f"(cannot load {entry.target}: {err})"
        print(f"{name:{width}s}  [{entry.origin}]  {doc}")
    if table.module_paths:
        print(f"Any {table.kind} class can also be named in a scenario as module.path:ClassName.")


def _cmd_list(args) -> int:
    from typing import get_args

    from .metrics import metric_names
    from .system.config import Channel

    kinds = LIST_KINDS if args.what == "all" else [args.what]
    tables = _tables()
    for kind in kinds:
        if len(kinds) > 1:
            print(f"\n# {kind}")
        if kind == "channels":
            print("\n".join(get_args(Channel.model_fields["model"].annotation)))
        elif kind == "metrics":
            print("\n".join(metric_names()))
        else:
            _print_table(tables[kind])
    return 0


def _trainer(path):
    """The training module for a spec file, from its ``kind`` (default: channel)."""
    from .config import read_yaml
    from .training import TRAINERS

    data = read_yaml(path)
    kind = data.pop("kind", "channel") if isinstance(data, dict) else "channel"
    try:
        return TRAINERS.load(kind)
    except UserError as err:
        raise UserError(err.message, source=str(path), field="kind") from None


def _cmd_train(args) -> int:
    specs = []
    for path in args.specs:  # validate all first
        module = _trainer(path)
        specs.append((path, module, module.load_spec(path, args.overrides)))
    for path, module, spec in specs:
        out = module.train(spec, resume=args.resume, progress=not args.no_progress, source=str(path))
        print((out / "card.md").read_text())
        print(f"model: {out}")
    return 0


def _cmd_plot(args) -> int:
    from .plotting import plot_runs

    files = plot_runs([Path(p) for p in args.runs], args.out)
    for f in files:
        print(f)
    return 0


def _cmd_compare(args) -> int:
    from .compare import compare

    print(compare([Path(p) for p in args.runs], args.reference, args.bler))
    return 0


COMMANDS = {"run": _cmd_run, "validate": _cmd_validate, "list": _cmd_list, "plot": _cmd_plot,
            "train": _cmd_train, "compare": _cmd_compare}


def import_tensorflow_quietly() -> None:
    """Import TensorFlow with the C++ start-up chatter (absl, oneDNN, CUDA probing) kept
    off stderr, so that a user error stays a single line. Python errors still surface."""
    if "tensorflow" in sys.modules:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    if args.command not in ("plot", "compare"):
        import_tensorflow_quietly()
    try:
        return COMMANDS[args.command](args)
    except UserError as err:
        print(f"linksim: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("linksim: interrupted; finished points are saved (continue with --resume)", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
