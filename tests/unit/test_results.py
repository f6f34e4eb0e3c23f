"""Result files: atomic writes with the usual file mode."""

import os
import stat

from linksim.results import atomic_write


def test_atomic_write_follows_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write(tmp_path / "a.csv", "x\n")
        os.umask(0o077)
        atomic_write(tmp_path / "b.csv", "y\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.csv").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "b.csv").stat().st_mode) == 0o600
    assert (tmp_path / "a.csv").read_text() == "x\n"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left
