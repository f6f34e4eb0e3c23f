"""The one plug-in mechanism (linksim.plugins.Table) and ``linksim list``."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

from linksim import plugins
from linksim.cli import LIST_KINDS, _tables, main
from linksim.errors import UserError
from linksim.plugins import Table

TABLE = Table("thing", {"dense": "linksim.diffusion.nets.layers:RealDense"},
              base="keras.layers:Layer", group="linksim.test_things")


def test_a_name_module_path_and_wrong_kind(tmp_path, monkeypatch):
    assert TABLE.load("dense").__name__ == "RealDense"
    assert TABLE.load("linksim.diffusion.nets.layers:ComplexNorm").__name__ == "ComplexNorm"
    with pytest.raises(UserError, match=r"unknown thing 'dens'.*did you mean \"dense\".*allowed: dense or module.path:ClassName"):
        TABLE.load("dens")
    with pytest.raises(UserError, match=r"'linksim.errors:UserError' is not a linksim thing \(a subclass of keras"):
        TABLE.load("linksim.errors:UserError")
    closed = Table("program", {"x": "linksim.errors"}, module_paths=False)
    assert closed.load("x").__name__ == "linksim.errors"  # a module target is the module
    with pytest.raises(UserError, match="unknown program 'linksim.errors:UserError'; allowed: x$"):
        closed.load("linksim.errors:UserError")


def test_entry_points_add_names_and_linksim_wins_a_clash(monkeypatch):
    found = [EntryPoint("extra", "linksim.diffusion.nets.layers:ComplexDense", "linksim.test_things"),
             EntryPoint("dense", "linksim.diffusion.nets.layers:MixerUnit", "linksim.test_things")]
    monkeypatch.setattr(plugins, "entry_points", lambda group: [e for e in found if e.group == group])
    entries = TABLE.entries()
    assert list(entries) == ["dense", "extra"]
    assert entries["dense"].origin == "linksim" and entries["extra"].origin.startswith("entry point of")
    assert TABLE.load("extra").__name__ == "ComplexDense"
    assert TABLE.load("dense").__name__ == "RealDense"
    assert TABLE.builtin() == ["dense"]


def test_linksim_list_shows_every_kind(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for kind in LIST_KINDS:
        assert f"# {kind}" in out, kind
    for kind, table in _tables().items():
        section = out.split(f"# {kind}\n", 1)[1].split("\n# ", 1)[0]
        for name in table.builtin():
            assert f"{name} " in section and "[linksim]" in section, (kind, name)
        assert "cannot load" not in section, kind
