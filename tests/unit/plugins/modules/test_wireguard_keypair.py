# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import os
import stat

from ansible_collections.netfleet.wireguard.plugins.module_utils import _x25519 as x
from ansible_collections.netfleet.wireguard.plugins.modules import wireguard_keypair

from module_runner import run_main

ME = os.getuid()
OWNER = dict(owner=str(ME), group=str(os.getgid()))


def run(monkeypatch, capsys, **params):
    check = params.pop("_check", False)
    params.update(OWNER)
    args = dict(params, _ansible_check_mode=check)
    return run_main(monkeypatch, capsys, wireguard_keypair.main, args)


def test_creates_key_0600_and_returns_only_public_key(tmp_path, monkeypatch, capsys):
    path = tmp_path / "wg" / "wg0.key"
    result, raw = run(monkeypatch, capsys, path=str(path))
    assert result["changed"] is True
    assert result["path"] == str(path)
    private = path.read_text().strip()
    assert x.is_valid_key(private)
    assert result["public_key"] == x.public_key_b64(private)
    assert private not in raw
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    # no temp files left behind
    assert sorted(os.listdir(path.parent)) == ["wg0.key"]


def test_idempotent(tmp_path, monkeypatch, capsys):
    path = tmp_path / "wg0.key"
    first, dummy = run(monkeypatch, capsys, path=str(path))
    second, dummy = run(monkeypatch, capsys, path=str(path))
    assert second["changed"] is False
    assert second["public_key"] == first["public_key"]


def test_existing_key_is_used_and_mode_fixed(tmp_path, monkeypatch, capsys):
    path = tmp_path / "wg0.key"
    private = x.encode_key(x.generate_private_key())
    path.write_text(private + "\n")
    path.chmod(0o644)
    result, raw = run(monkeypatch, capsys, path=str(path))
    assert result["changed"] is True  # permissions were tightened
    assert result["public_key"] == x.public_key_b64(private)
    assert path.read_text().strip() == private
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert private not in raw


def test_check_mode_without_key(tmp_path, monkeypatch, capsys):
    path = tmp_path / "wg0.key"
    result, dummy = run(monkeypatch, capsys, path=str(path), _check=True)
    assert result["changed"] is True and result["public_key"] is None
    assert not path.exists()


def test_check_mode_with_key(tmp_path, monkeypatch, capsys):
    path = tmp_path / "wg0.key"
    first, dummy = run(monkeypatch, capsys, path=str(path))
    result, dummy = run(monkeypatch, capsys, path=str(path), _check=True)
    assert result == dict(result, changed=False, public_key=first["public_key"])


def test_corrupt_key_rejected_and_untouched(tmp_path, monkeypatch, capsys):
    path = tmp_path / "wg0.key"
    garbage = "not-a-key-but-maybe-secret\n"
    path.write_text(garbage)
    path.chmod(0o600)
    result, raw = run(monkeypatch, capsys, path=str(path))
    assert result["failed"] is True
    assert "does not contain a valid WireGuard private key" in result["msg"]
    assert "force=true" in result["msg"]
    assert "maybe-secret" not in raw
    assert path.read_text() == garbage


def test_force_regenerates(tmp_path, monkeypatch, capsys):
    path = tmp_path / "wg0.key"
    path.write_text("garbage\n")
    result, dummy = run(monkeypatch, capsys, path=str(path), force=True)
    assert result["changed"] is True
    assert result["public_key"] == x.public_key_b64(path.read_text())
    again, dummy = run(monkeypatch, capsys, path=str(path), force=True)
    assert again["public_key"] != result["public_key"]


def test_default_path_from_interface(monkeypatch, capsys):
    result, dummy = run(monkeypatch, capsys, interface="wg-bad/../x", _check=True)
    assert result["failed"] is True and "not a valid interface name" in result["msg"]


def test_directory_in_place_of_key(tmp_path, monkeypatch, capsys):
    result, dummy = run(monkeypatch, capsys, path=str(tmp_path))
    assert result["failed"] is True and "not a regular file" in result["msg"]
