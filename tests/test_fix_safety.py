"""``--fix`` never loses code: concurrent edits, symlinks, read-only and foreign files."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from flake8_modreg import cli, fixer
from flake8_modreg.settings import Config

from test_cli import run  # noqa: E402

TYPO = "import torch.nn as nn\n\n\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.w = nn.Paramter(1)\n"
FIXED = TYPO.replace("Paramter", "Parameter")
EDITED = TYPO + "# the user's edit, saved while --fix ran\n"


def test_an_edit_saved_while_fixing_is_kept(tmp_path, monkeypatch):
    f = tmp_path / "m.py"
    f.write_text(TYPO)
    real_fix = fixer.fix

    def slow_fix(*a, **k):  # the editor saves while the fix is being computed
        result = real_fix(*a, **k)
        f.write_text(EDITED)
        return result

    monkeypatch.setattr(fixer, "fix", slow_fix)
    report = cli.process(cli.Task(str(f), Config(), None, "fix"))
    assert f.read_text() == EDITED and not report.written
    assert report.error == "changed while being fixed; not written (run again)"
    monkeypatch.undo()
    # the same edit with the same size and a restored mtime is still noticed (the bytes are compared)
    f.write_text(TYPO)
    same_size = TYPO.replace("Net", "Neu")

    def sneaky_fix(*a, **k):
        st = os.stat(f)
        result = real_fix(*a, **k)
        f.write_text(same_size)
        os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
        return result

    monkeypatch.setattr(fixer, "fix", sneaky_fix)
    report = cli.process(cli.Task(str(f), Config(), None, "fix"))
    assert f.read_text() == same_size and "changed while being fixed" in report.error


def test_fix_through_a_symlink_fixes_the_target_and_keeps_the_link(tmp_path):
    target = tmp_path / "real" / "m.py"
    target.parent.mkdir()
    target.write_text(TYPO)
    (tmp_path / "src").mkdir()
    link = tmp_path / "src" / "m.py"
    link.symlink_to(target)
    code, out, err = run("check", "--fix", "--no-cache", "src", cwd=tmp_path)
    assert code == 0 and "Fixed 1 problem" in out, err
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text() == FIXED
    assert [p.name for p in target.parent.iterdir()] == ["m.py"]  # no temp file left behind


def test_a_read_only_file_is_refused_with_exit_2(tmp_path):
    f = tmp_path / "m.py"
    f.write_text(TYPO)
    f.chmod(0o444)
    code, out, err = run("check", "--fix", "--no-cache", "m.py", cwd=tmp_path)
    assert code == 2 and err == "m.py: error: read-only file (no write permission); not fixed\n"
    assert f.read_text() == TYPO and stat.S_IMODE(f.stat().st_mode) == 0o444


@pytest.mark.parametrize(
    "mode, file_uid, uid, gids, refused",
    [
        (0o644, 1000, 1000, {1000}, None),
        (0o444, 1000, 1000, {1000}, "read-only"),
        (0o444, 0, 0, {0}, "read-only"),  # even root: chmod 444 means "do not touch"
        (0o644, 0, 1000, {1000}, "no write permission"),  # a world-writable folder is not enough
        (0o664, 0, 1000, {0}, "owned by another user"),  # writable through the group, but the owner would change
        (0o666, 0, 1000, {1000}, "owned by another user"),
        (0o644, 1000, 0, {0}, None),  # root gives the file back to its owner
    ],
)
def test_write_refusal(mode, file_uid, uid, gids, refused):
    st = os.stat_result((stat.S_IFREG | mode, 1, 1, 1, file_uid, 0, 10, 0, 0, 0))
    why = cli.write_refusal(st, uid, gids)
    assert (why is None) if refused is None else (refused in why)


def _as_nobody_possible() -> bool:
    return os.geteuid() == 0 and shutil.which("setpriv") is not None


@pytest.mark.skipif(not _as_nobody_possible(), reason="needs root and setpriv to run as another user")
def test_another_users_file_in_a_world_writable_folder_is_refused():
    d = Path(tempfile.mkdtemp(prefix="modreg-ww-"))
    try:
        d.chmod(0o777)  # world-writable, no sticky bit: anyone may rename over anything here
        theirs, shared = d / "theirs.py", d / "shared.py"
        theirs.write_text(TYPO)
        shared.write_text(TYPO)
        shared.chmod(0o666)
        nobody = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
        cmd = [*nobody, sys.executable, "-m", "flake8_modreg", "check", "--fix", "--no-cache", "theirs.py", "shared.py"]
        env = dict(os.environ, PYTHONPATH=str(Path(cli.__file__).parent.parent), HOME=str(d))
        probe = subprocess.run([*nobody, sys.executable, "-c", "import flake8_modreg.cli"], cwd=d,
                               capture_output=True, text=True, env=env, timeout=120)
        if probe.returncode != 0:  # e.g. the checkout lives in a folder only root may enter (mktemp -d)
            pytest.skip(f"nobody cannot import this checkout: {probe.stderr.strip().splitlines()[-1:]}")
        p = subprocess.run(cmd, cwd=d, capture_output=True, text=True, env=env, timeout=120)
        assert p.returncode == 2, p.stderr
        assert "theirs.py: error: no write permission; not fixed" in p.stderr
        assert "shared.py: error: owned by another user" in p.stderr
        assert "Traceback" not in p.stderr
        for f in (theirs, shared):
            assert f.read_text() == TYPO and f.stat().st_uid == 0
        # root fixing a file of another user keeps that user the owner
        os.chown(theirs, 65534, 65534)
        assert run("check", "--fix", "--no-cache", "theirs.py", cwd=d)[0] == 0
        assert theirs.read_text() == FIXED and (theirs.stat().st_uid, theirs.stat().st_gid) == (65534, 65534)
    finally:
        shutil.rmtree(d)


def test_a_full_disk_is_not_reported_as_cannot_read(tmp_path, monkeypatch):
    f = tmp_path / "m.py"
    f.write_text(TYPO)

    def full(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    report = cli.process(cli.Task(str(f), Config(), None, "fix"))
    assert report.error == "cannot write: No space left on device"
    assert f.read_text() == TYPO and [p.name for p in tmp_path.iterdir()] == ["m.py"]


def test_stdin_fix_of_unparsable_input_says_why(tmp_path):
    code, out, err = run("check", "--fix", "--stdin-filename", "x.py", stdin="import torch\nclass A(:\n", cwd=tmp_path)
    assert code == 1 and out == "import torch\nclass A(:\n"
    assert err.startswith("x.py:2:") and "error: syntax error" in err and err.count("\n") == 1


def test_add_noqa_on_a_read_only_file_says_so(tmp_path):
    f = tmp_path / "m.py"
    f.write_text("import torch.nn as nn\n\n\nclass N(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.l = [nn.Linear(1, 1)]\n")
    f.chmod(0o444)
    code, out, err = run("check", "--no-cache", "--add-noqa", "m.py", cwd=tmp_path)
    assert code != 0 and err == "m.py: error: read-only file (no write permission); not fixed\n"
    assert "noqa" not in f.read_text()
