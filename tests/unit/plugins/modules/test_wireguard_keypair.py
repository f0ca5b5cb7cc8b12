# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""wireguard_keypair with the real `wg`: wg genkey / wg pubkey (key on stdin), 0600 file, only the public key out."""
from __future__ import annotations

import os
import shutil
import stat

import pytest

from ansible.module_utils import basic

from ansible_collections.netfleet.wireguard.plugins.module_utils._wgkey import is_valid_key
from ansible_collections.netfleet.wireguard.plugins.modules import wireguard_keypair

from module_runner import run_main
from wgkeys import B64, wg_genkey
from wgkeys import public_key as public_of

ME = os.getuid()
OWNER = dict(owner=str(ME), group=str(os.getgid()))
WG = shutil.which("wg")
pytestmark = pytest.mark.skipif(WG is None, reason="wg (wireguard-tools) is not installed; CI installs it")


def run(monkeypatch, capsys, **params):
    check = params.pop("_check", False)
    params.update(OWNER)
    args = dict(params, _ansible_check_mode=check)
    return run_main(monkeypatch, capsys, wireguard_keypair.main, args)


@pytest.fixture
def no_wg(monkeypatch):
    real = basic.AnsibleModule.get_bin_path

    def get_bin_path(self, name, *a, **kw):
        return None if name == "wg" else real(self, name, *a, **kw)

    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", get_bin_path)


def test_creates_key_0600_with_wg_and_returns_only_public_key(tmp_path, monkeypatch, capsys, calls):
    path = tmp_path / "wg" / "wg0.key"
    result, raw = run(monkeypatch, capsys, path=str(path))
    assert result["changed"] is True
    assert result["path"] == str(path)
    private = path.read_text().strip()
    assert path.read_text() == private + "\n"
    assert is_valid_key(private)
    assert result["public_key"] == public_of(private)
    assert private not in raw
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    # no temp files left behind
    assert sorted(os.listdir(path.parent)) == ["wg0.key"]
    # wg made the key and derived the public key, reading the private key on stdin only
    assert [argv for argv, dummy in calls] == [[WG, "genkey"], [WG, "pubkey"]]
    assert calls[1][1] == private
    assert all(private not in " ".join(argv) for argv, dummy in calls)


def test_idempotent(tmp_path, monkeypatch, capsys):
    path = tmp_path / "wg0.key"
    first, dummy = run(monkeypatch, capsys, path=str(path))
    second, dummy = run(monkeypatch, capsys, path=str(path))
    assert second["changed"] is False
    assert second["public_key"] == first["public_key"]


@pytest.mark.parametrize("layout", ["%s\n", "%s", "  %s \n\n"])
def test_existing_key_is_used_and_mode_fixed(tmp_path, monkeypatch, capsys, calls, layout):
    path = tmp_path / "wg0.key"
    private = wg_genkey()
    path.write_text(layout % private)
    path.chmod(0o644)
    result, raw = run(monkeypatch, capsys, path=str(path))
    assert result["changed"] is True  # permissions were tightened
    assert result["public_key"] == public_of(private)
    assert path.read_text() == layout % private  # kept as it is
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert private not in raw
    assert calls == [([WG, "pubkey"], private)]


def test_check_mode_without_key(tmp_path, monkeypatch, capsys, calls):
    path = tmp_path / "wg0.key"
    result, dummy = run(monkeypatch, capsys, path=str(path), _check=True)
    assert result["changed"] is True and result["public_key"] is None
    assert not path.exists() and calls == []


def test_check_mode_with_key(tmp_path, monkeypatch, capsys):
    path = tmp_path / "wg0.key"
    first, dummy = run(monkeypatch, capsys, path=str(path))
    result, dummy = run(monkeypatch, capsys, path=str(path), _check=True)
    assert result == dict(result, changed=False, public_key=first["public_key"])


@pytest.mark.parametrize("content", ["not-a-key-but-maybe-secret\n", "noncanonical"])
def test_corrupt_or_noncanonical_key_rejected_and_untouched(tmp_path, monkeypatch, capsys, calls, content):
    path = tmp_path / "wg0.key"
    if content == "noncanonical":
        private = wg_genkey()
        # the same 32 bytes with a padding bit set: wg refuses it, so the module does too
        content = private[:42] + B64[B64.index(private[42]) | 1] + "=\n"
    path.write_text(content)
    path.chmod(0o600)
    result, raw = run(monkeypatch, capsys, path=str(path))
    assert result["failed"] is True
    assert "does not contain a valid WireGuard private key" in result["msg"]
    assert "force=true" in result["msg"]
    assert content.strip() not in raw and "maybe-secret" not in raw
    assert path.read_text() == content
    assert calls == []


def test_force_regenerates(tmp_path, monkeypatch, capsys):
    path = tmp_path / "wg0.key"
    path.write_text("garbage\n")
    result, dummy = run(monkeypatch, capsys, path=str(path), force=True)
    assert result["changed"] is True
    assert result["public_key"] == public_of(path.read_text().strip())
    again, dummy = run(monkeypatch, capsys, path=str(path), force=True)
    assert again["public_key"] != result["public_key"]
    assert again["public_key"] == public_of(path.read_text().strip())


def test_without_wg_it_fails_pointing_to_the_install_role(tmp_path, monkeypatch, capsys, no_wg):
    path = tmp_path / "wg0.key"
    result, dummy = run(monkeypatch, capsys, path=str(path))
    assert result["failed"] is True
    assert "install wireguard-tools first: netfleet.wireguard.wireguard_install" in result["msg"]
    assert not path.exists()
    private = wg_genkey()
    path.write_text(private + "\n")
    path.chmod(0o600)
    result, raw = run(monkeypatch, capsys, path=str(path))
    assert result["failed"] is True and "install wireguard-tools first" in result["msg"] and private not in raw
    assert path.read_text() == private + "\n"


def test_without_wg_check_mode_previews(tmp_path, monkeypatch, capsys, no_wg):
    """A --check run before wireguard-tools is installed: no failure, the public key is unknown."""
    warned = []
    # recorded here: whether ansible-core puts module warnings into the result depends on what else is imported
    monkeypatch.setattr(basic.AnsibleModule, "warn", lambda self, msg, *a, **kw: warned.append(msg))
    path = tmp_path / "wg0.key"
    result, dummy = run(monkeypatch, capsys, path=str(path), _check=True)
    assert result["changed"] is True and result["public_key"] is None and "failed" not in result
    path.write_text(wg_genkey() + "\n")
    path.chmod(0o600)
    result, dummy = run(monkeypatch, capsys, path=str(path), _check=True)
    assert result["changed"] is False and result["public_key"] is None and "failed" not in result
    assert len(warned) == 1 and "install wireguard-tools first: netfleet.wireguard.wireguard_install" in warned[0]


def test_a_failing_wg_fails_the_module_without_writing(tmp_path, monkeypatch, capsys):
    fake = tmp_path / "bin" / "wg"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'wg: cannot open /dev/urandom' >&2\nexit 1\n")
    fake.chmod(0o755)
    real = basic.AnsibleModule.get_bin_path
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path",
                        lambda self, name, *a, **kw: str(fake) if name == "wg" else real(self, name, *a, **kw))
    path = tmp_path / "wg0.key"
    result, dummy = run(monkeypatch, capsys, path=str(path))
    assert result["failed"] is True and "wg genkey failed (rc 1): wg: cannot open /dev/urandom" in result["msg"]
    assert not path.exists()


def test_default_path_from_interface(monkeypatch, capsys):
    result, dummy = run(monkeypatch, capsys, interface="wg-bad/../x", _check=True)
    assert result["failed"] is True and "not a valid interface name" in result["msg"]


def test_directory_in_place_of_key(tmp_path, monkeypatch, capsys):
    result, dummy = run(monkeypatch, capsys, path=str(tmp_path))
    assert result["failed"] is True and "not a regular file" in result["msg"]
