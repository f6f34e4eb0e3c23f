"""Result files: atomic writes with the usual file mode."""

import os
import stat

from linksim.provenance import atomic_write


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


def test_git_revision_is_dirty_for_code_not_for_results(tmp_path):
    import subprocess

    from linksim.provenance import git_revision

    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / "results").mkdir()
    (tmp_path / "code.py").write_text("a = 1\n")
    (tmp_path / "results" / "metrics.csv").write_text("x\n1\n")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "init")
    clean = git_revision(tmp_path)
    assert len(clean) == 40
    (tmp_path / "results" / "metrics.csv").unlink()      # a run overwriting a committed result
    assert git_revision(tmp_path) == clean
    (tmp_path / "code.py").write_text("a = 2\n")
    assert git_revision(tmp_path) == clean + "-dirty"


def test_atomic_write_os_error_is_a_user_error_and_leaves_no_temporary(tmp_path, monkeypatch):
    import errno

    import pytest

    from linksim.errors import UserError
    from linksim.provenance import os as results_os

    def disk_full(*args):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(results_os, "replace", disk_full)
    with pytest.raises(UserError) as caught:
        atomic_write(tmp_path / "metrics.csv", "x\n")
    assert str(caught.value) == f"{tmp_path}: cannot write metrics.csv (No space left on device)"
    assert list(tmp_path.iterdir()) == []


def test_read_only_or_forbidden_folder_is_a_user_error(tmp_path, monkeypatch):
    """What a read-only file system (EROFS) or a folder without write permission (EACCES)
    does to the first write, simulated: root writes into read-only folders, so the real
    case is only tested where the user is not root (test_bad_input.py)."""
    import errno

    import pytest

    from linksim.errors import UserError
    from linksim.provenance import tempfile as results_tempfile

    for code in (errno.EROFS, errno.EACCES):
        def refuse(*args, **kwargs):
            raise OSError(code, os.strerror(code))

        monkeypatch.setattr(results_tempfile, "mkstemp", refuse)
        with pytest.raises(UserError) as caught:
            atomic_write(tmp_path / "meta.json", "{}\n")
        assert str(caught.value) == f"{tmp_path}: cannot write meta.json ({os.strerror(code)})"
        assert list(tmp_path.iterdir()) == []
