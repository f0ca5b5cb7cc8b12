# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""write_secret / write_file / stage / lock_file: atomic, mode from the first byte, no symlink followed, no temporary file left behind."""
from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.netfleet.wireguard.plugins.module_utils._secretfile import (
    discard, install, lock_file, stage, write_file, write_secret)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_writes_0600_in_a_new_0700_directory(tmp_path):
    path = tmp_path / "new" / "wg0.key"
    seen = []
    write_secret(str(path), "secret\n", prefix=".wgkey-", prepare=lambda tmp: seen.append((tmp, mode(tmp))))
    assert path.read_text() == "secret\n" and mode(path) == 0o600
    assert mode(path.parent) == 0o700
    # prepare saw the complete 0600 temporary file next to the target, under the given prefix
    (tmp, tmp_mode), = seen
    assert os.path.dirname(tmp) == str(path.parent) and os.path.basename(tmp).startswith(".wgkey-")
    assert tmp_mode == 0o600
    assert os.listdir(path.parent) == ["wg0.key"]


def test_a_failure_keeps_the_old_file_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "wg0.conf"
    path.write_text("old\n")

    def refuse(tmp):
        raise OSError("chown refused")

    with pytest.raises(OSError, match="chown refused"):
        write_secret(str(path), "new\n", prepare=refuse)
    assert path.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["wg0.conf"]


# ---------------------------------------------------------------- write_file, stage, lock_file

def _planted(monkeypatch, names):
    """Make mkstemp try ``names`` first (what an attacker who guessed the random part would plant at)."""
    import tempfile
    seq = iter(names + ["fresh%d" % i for i in range(100)])
    monkeypatch.setattr(tempfile, "_get_candidate_names", lambda: seq)


def test_write_file_mode_and_content(tmp_path):
    path = tmp_path / "review.conf"
    write_file(str(path), "text\n")
    assert path.read_text() == "text\n" and mode(path) == 0o644
    write_file(str(path), "again\n", mode=0o640)
    assert path.read_text() == "again\n" and mode(path) == 0o640
    assert os.listdir(tmp_path) == ["review.conf"]


def test_write_file_never_follows_a_symlink_at_the_temporary_name(tmp_path, monkeypatch):
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    path = tmp_path / "out" / "review.conf"
    path.parent.mkdir()
    planted = path.parent / ".review.conf.guess"
    planted.symlink_to(victim)
    _planted(monkeypatch, ["guess"])
    write_file(str(path), "new\n")
    assert victim.read_text() == "precious\n"
    assert os.readlink(planted) == str(victim)
    assert path.read_text() == "new\n" and not path.is_symlink()


def test_the_old_predictable_tmp_name_is_not_used(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    path = tmp_path / "review.conf"
    (tmp_path / "review.conf.tmp").symlink_to(victim)
    write_file(str(path), "new\n")
    assert victim.read_text() == "precious\n" and path.read_text() == "new\n"


def test_write_file_refuses_a_symlink_at_the_target(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    path = tmp_path / "review.conf"
    path.symlink_to(victim)
    with pytest.raises(ValueError, match="symbolic link"):
        write_file(str(path), "new\n")
    assert victim.read_text() == "precious\n" and path.is_symlink()
    assert sorted(os.listdir(tmp_path)) == ["review.conf", "victim"]


def test_write_file_refuses_a_directory_at_the_target(tmp_path):
    (tmp_path / "d").mkdir()
    with pytest.raises(ValueError, match="not a regular file"):
        write_file(str(tmp_path / "d"), "x")


def test_write_secret_also_ignores_planted_temporary_names(tmp_path, monkeypatch):
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    (tmp_path / ".wg0.key.guess").symlink_to(victim)
    _planted(monkeypatch, ["guess"])
    write_secret(str(tmp_path / "wg0.key"), "secret\n")
    assert victim.read_text() == "precious\n" and mode(tmp_path / "wg0.key") == 0o600


def test_stage_writes_bytes_and_install_or_discard(tmp_path):
    path = str(tmp_path / "wg0.conf")
    tmp = stage(path, b"a\r\nb\r\n", mode=0o600)
    assert os.path.dirname(tmp) == str(tmp_path) and mode(tmp) == 0o600 and not os.path.exists(path)
    install(tmp, path)
    assert open(path, "rb").read() == b"a\r\nb\r\n" and not os.path.exists(tmp)
    tmp = stage(path, "new\n")
    discard(tmp)
    discard(tmp)
    assert os.listdir(tmp_path) == ["wg0.conf"]


def test_lock_file_is_exclusive_and_released_on_close(tmp_path):
    path = str(tmp_path / "x.lock")
    fd = lock_file(path, 0)
    with pytest.raises(TimeoutError, match="another run holds the lock"):
        lock_file(path, 0.2)
    os.close(fd)
    os.close(lock_file(path, 0))


def test_lock_file_does_not_follow_a_symlink(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    (tmp_path / "x.lock").symlink_to(victim)
    with pytest.raises(OSError):
        lock_file(str(tmp_path / "x.lock"), 0)
