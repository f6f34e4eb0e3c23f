"""docs/add-a-receiver.md followed literally: the files it shows are written as shown, the
commands it shows are run with the `linksim` of this environment.

One substitution: `pip install -e ./my_receivers` (route B) installs into a folder of the
test (`pip install --target`, on PYTHONPATH) instead of this environment, so that the test
leaves the environment as it found it.
"""

import csv
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "add-a-receiver.md"
BIN = Path(sys.executable).parent

FENCE = re.compile(r"^( *)```(\w*)([^\n]*)\n(.*?)^\1```", re.S | re.M)


def _blocks(text: str) -> list[tuple[str, str, str]]:
    """``[(language, info, body)]`` of the fenced blocks, indented ones de-indented."""
    out = []
    for indent, lang, info, body in FENCE.findall(text):
        body = "".join(line[len(indent):] if line.startswith(indent) else line for line in body.splitlines(True))
        out.append((lang, info.strip(), body))
    return out


def _section(title_start: str) -> str:
    text = DOC.read_text()
    start = text.index(f"### {title_start}")
    end = text.find("\n### ", start + 1)
    return text[start:end if end > 0 else None]


def _file(blocks, name: str) -> str:
    return next(body for _, info, body in blocks if info == f"file={name}")


def _commands(blocks) -> list[str]:
    return [line for lang, info, body in blocks if lang == "bash" and info == "run"
            for line in body.splitlines() if line.strip()]


def _env(**extra) -> dict:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    env.update(extra)
    return env


def _sh(cmd: str, cwd: Path, env: dict, ok: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(["bash", "-c", cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    if ok:
        assert done.returncode == 0, f"{cmd}\n{done.stdout}\n{done.stderr}"
    return done


RECEIVER = _file(_blocks(DOC.read_text()), "smoothed_ls.py")


def test_route_a_own_module_next_to_the_scenario(tmp_path):
    blocks = _blocks(_section("A."))
    (tmp_path / "smoothed_ls.py").write_text(RECEIVER)
    (tmp_path / "my_scenario.yaml").write_text(_file(blocks, "my_scenario.yaml"))
    cmds = _commands(blocks)
    assert cmds == ["linksim run my_scenario.yaml --no-plot --no-progress"]
    for cmd in cmds:
        _sh(cmd, tmp_path, _env())
    rows = list(csv.DictReader(open(tmp_path / "results" / "smoothed" / "metrics.csv")))
    assert {r["receiver"] for r in rows} == {"ls", "smoothed_ls"}
    # smoothing the noisy comb-4 LS estimate lowers its NMSE at the low-SNR point
    low = {r["receiver"]: float(r["nmse_db"]) for r in rows if float(r["ebno_db"]) == -2}
    assert low["smoothed_ls"] < low["ls"] - 1.0, low
    # its parameters are validated like any other receiver's (the doc's example message)
    bad = (tmp_path / "my_scenario.yaml").read_text().replace("window: 5", "window: 4")
    (tmp_path / "bad.yaml").write_text(bad)
    done = _sh("linksim validate bad.yaml", tmp_path, _env(), ok=False)
    assert done.returncode == 2
    assert "receivers[1].window: window must be odd (got 4)" in done.stderr


def test_route_b_installed_package_with_an_entry_point(tmp_path):
    blocks = _blocks(_section("B."))
    pkg = tmp_path / "my_receivers"
    (pkg / "my_receivers").mkdir(parents=True)
    (pkg / "pyproject.toml").write_text(_file(blocks, "my_receivers/pyproject.toml"))
    (pkg / "my_receivers" / "__init__.py").write_text("")
    (pkg / "my_receivers" / "smoothed_ls.py").write_text(RECEIVER)
    site = tmp_path / "site"
    cmds = _commands(blocks)
    assert cmds == ["pip install -e ./my_receivers", "linksim list receivers"]
    install = cmds[0].replace("pip install -e", f"{sys.executable} -m pip install -q --no-deps --no-build-isolation "
                                                 f"--target {site}")
    _sh(install, tmp_path, _env())
    env = _env(PYTHONPATH=str(site))
    listing = _sh(cmds[1], tmp_path, env).stdout
    line = next(ln for ln in listing.splitlines() if ln.startswith("smoothed_ls "))
    assert "[entry point of my-receivers]" in line and "LS with linear interpolation" in line
    assert re.search(r"^lmmse +\[linksim\]", listing, re.M)
    # a scenario names it plainly
    scen = _file(_blocks(_section("A.")), "my_scenario.yaml").replace("smoothed_ls:SmoothedLS", "smoothed_ls")
    (tmp_path / "s.yaml").write_text(scen)
    _sh("linksim validate s.yaml", tmp_path, env)
    done = _sh("linksim validate s.yaml", tmp_path, _env(), ok=False)  # without the package
    assert done.returncode == 2 and 'unknown receiver' in done.stderr


@pytest.fixture
def package_copy(tmp_path):
    """A copy of the package, its docs and the docs test, to follow route C in."""
    copy = tmp_path / "repo"
    shutil.copytree(ROOT / "linksim", copy / "linksim", ignore=shutil.ignore_patterns("__pycache__", "zoo"))
    shutil.copytree(ROOT / "docs", copy / "docs")
    (copy / "tests" / "unit").mkdir(parents=True)
    shutil.copy(ROOT / "tests" / "unit" / "test_docs.py", copy / "tests" / "unit")
    return copy


def test_route_c_inside_linksim_keeps_the_docs_test_green(package_copy):
    repo = package_copy
    env = _env(PYTHONPATH=str(repo))
    where = _sh("python -c 'import linksim; print(linksim.__file__)'", repo, env).stdout.strip()
    assert where == str(repo / "linksim" / "__init__.py")
    blocks = _blocks(_section("C."))
    # 1. the file; 2. the registry line
    (repo / "linksim" / "receivers" / "smoothed_ls.py").write_text(RECEIVER)
    registry_block = next(body for lang, _, body in blocks if lang == "python")
    line = next(ln.strip() for ln in registry_block.splitlines() if "smoothed_ls" in ln)
    init = repo / "linksim" / "receivers" / "__init__.py"
    text = init.read_text()
    init.write_text(text[:text.rindex("}")] + f"    {line}\n" + text[text.rindex("}"):])
    docs_test = "python -m pytest -q -p no:cacheprovider tests/unit/test_docs.py"
    assert _sh(docs_test, repo, env, ok=False).returncode != 0  # without step 3 the reference is stale
    # 3. the documented regeneration command
    cmds = _commands(blocks)
    assert cmds == ["python -m linksim.schema_doc > docs/scenario-reference.md"]
    _sh(cmds[0], repo, env)
    assert "### receiver `smoothed_ls`" in (repo / "docs" / "scenario-reference.md").read_text()
    _sh(docs_test, repo, env)
