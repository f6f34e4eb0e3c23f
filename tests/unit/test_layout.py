"""The package's shape: the import-linter contracts of setup.cfg hold (and fail when an
upward import is added), no import cycle exists (deferred imports inside functions
included, so none of them dodges one), and no module outgrows about 400 lines."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]


def _lint_imports(root: Path) -> subprocess.CompletedProcess:
    """``lint-imports`` on the ``linksim`` package under ``root`` with ``root/setup.cfg``."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    code = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"
    return subprocess.run([sys.executable, "-c", code, "setup.cfg"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=300)


def _copy_package(dst: Path) -> Path:
    """The Python files of ``linksim/`` and ``setup.cfg`` copied to ``dst``."""
    shutil.copytree(ROOT / "linksim", dst / "linksim",
                    ignore=lambda d, names: [n for n in names if n in ("zoo", "__pycache__")
                                             or (Path(d, n).is_file() and not n.endswith(".py"))])
    shutil.copy(ROOT / "setup.cfg", dst / "setup.cfg")
    return dst


def _strongly_connected(graph) -> list[list[str]]:
    """Import cycles: the strongly connected components of more than one module (Tarjan)."""
    index, low, on_stack, stack, out = {}, {}, set(), [], []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.find_modules_directly_imported_by(v):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for m in sorted(graph.modules):
        if m not in index:
            visit(m)
    return out


def test_import_contracts_hold():
    done = _lint_imports(ROOT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_contracts_fail_on_an_upward_import(tmp_path):
    """The diffusion core importing the scenario (an arrow pointing up) breaks the layers
    contract, naming the import."""
    root = _copy_package(tmp_path)
    target = root / "linksim" / "diffusion" / "schedules.py"
    target.write_text(target.read_text() + "\nfrom ..scenario import Scenario  # noqa: E402,F401\n")
    done = _lint_imports(root)
    assert done.returncode != 0
    assert "BROKEN" in done.stdout and "linksim.diffusion.schedules -> linksim.scenario" in done.stdout


def test_no_import_cycle():
    graph = grimp.build_graph("linksim")
    assert _strongly_connected(graph) == []


MAX_LINES = 420  # "split a file by concept once it passes ~400 lines"


def test_no_module_is_much_over_400_lines():
    long = {str(p.relative_to(ROOT)): n for p in sorted((ROOT / "linksim").rglob("*.py"))
            if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}, f"split these by concept: {long}"
