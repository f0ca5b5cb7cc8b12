# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""wireguard_status_info with a fake `wg` printing a dump: peers named, no secret out, absent is not a failure."""
from __future__ import annotations

import shutil

import pytest

from ansible.module_utils import basic

from ansible_collections.netfleet.wireguard.plugins.module_utils._wgkey import encode_key
from ansible_collections.netfleet.wireguard.plugins.modules import wireguard_status_info

from module_runner import run_main
from wgkeys import public_of_raw as public_of

PRIV = encode_key(bytes(range(1, 33)))
PSK = encode_key(b"\x07" * 32)
OWN = public_of(bytes(range(1, 33)))
HQ = public_of(b"\x01" * 32)
REMOTE = public_of(b"\x02" * 32)
STRAY = public_of(b"\x03" * 32)
DUMP = (f"{PRIV}\t{OWN}\t51820\toff\n"
        f"{HQ}\t{PSK}\t[fd00::1]:51820\t10.100.0.1/32,10.0.1.0/24\t1000\t1024\t2048\t25\n"
        f"{STRAY}\t(none)\t(none)\t10.100.0.9/32\t0\t0\t0\toff\n")
REAL_WG = shutil.which("wg")

# wg0 prints DUMP; nope0 does not exist; denied0 is refused; junk0 prints a dump with a bad line
FAKE_WG = """#!/bin/sh
[ "$1 $3" = "show dump" ] || { echo "fake wg: unexpected $*" >&2; exit 2; }
case "$2" in
    wg0) cat "$(dirname "$0")/dump" ;;
    nope0) echo "Unable to access interface: No such device" >&2; exit 1 ;;
    denied0) echo "Unable to access interface: Operation not permitted" >&2; exit 1 ;;
    junk0) head -1 "$(dirname "$0")/dump"; printf 'garbage\\tline\\n' ;;
esac
"""


@pytest.fixture
def fake_wg(tmp_path, monkeypatch):
    """Path of a `wg` script that answers `wg show <if> dump` as FAKE_WG says."""
    wg = tmp_path / "bin" / "wg"
    wg.parent.mkdir()
    wg.write_text(FAKE_WG)
    wg.chmod(0o755)
    (wg.parent / "dump").write_text(DUMP)
    real = basic.AnsibleModule.get_bin_path
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path",
                        lambda self, name, *a, **kw: str(wg) if name == "wg" else real(self, name, *a, **kw))
    return str(wg)


def run(monkeypatch, capsys, **params):
    args = dict(params, _ansible_check_mode=params.pop("_check", False))
    return run_main(monkeypatch, capsys, wireguard_status_info.main, args)


def assert_no_secret(raw):
    assert PRIV not in raw and PSK not in raw


@pytest.mark.parametrize("check", [False, True])
def test_running_interface_with_named_peers(fake_wg, monkeypatch, capsys, calls, check):
    monkeypatch.setattr(wireguard_status_info.time, "time", lambda: 1042.7)
    result, raw = run(monkeypatch, capsys, interface="wg0", names={HQ: "hq", REMOTE: "remote"}, _check=check)
    assert result["changed"] is False and result["up"] is True
    assert result["interface"] == {"name": "wg0", "public_key": OWN, "listen_port": 51820}
    assert [p["name"] for p in result["peers"]] == ["hq", None]
    assert result["peers"][0] == {
        "name": "hq", "public_key": HQ, "endpoint": "[fd00::1]:51820",
        "allowed_ips": ["10.100.0.1/32", "10.0.1.0/24"], "latest_handshake": 1000, "handshake_age": 42,
        "transfer_rx": 1024, "transfer_tx": 2048, "persistent_keepalive": 25, "preshared_key": True}
    assert result["peers"][1]["latest_handshake"] is None and result["peers"][1]["handshake_age"] is None
    assert result["unknown_peers"] == [STRAY] and result["missing_peers"] == ["remote"]
    assert [argv for argv, data in calls] == [[fake_wg, "show", "wg0", "dump"]]
    assert_no_secret(raw)
    assert "stdout" not in result


def test_absent_interface_is_down_not_a_failure(fake_wg, monkeypatch, capsys):
    result, raw = run(monkeypatch, capsys, interface="nope0", names={HQ: "hq"})
    assert "failed" not in result and result["up"] is False
    assert result["interface"] == {"name": "nope0", "public_key": None, "listen_port": None}
    assert (result["peers"], result["unknown_peers"], result["missing_peers"]) == ([], [], ["hq"])


@pytest.mark.skipif(REAL_WG is None, reason="wg (wireguard-tools) is not installed; CI installs it")
def test_absent_interface_with_the_real_wg(monkeypatch, capsys):
    result, raw = run(monkeypatch, capsys, interface="nfstatus9", _check=True)
    assert "failed" not in result, result.get("msg")
    assert result["up"] is False and result["peers"] == []


@pytest.mark.parametrize("interface,msg", [
    ("denied0", "wg show denied0 dump failed (rc 1): Unable to access interface: Operation not permitted"),
    ("junk0", "cannot read the output of wg show junk0 dump: unexpected wg dump peer line (2 fields)"),
])
def test_wg_errors_fail_without_the_dump(fake_wg, monkeypatch, capsys, interface, msg):
    result, raw = run(monkeypatch, capsys, interface=interface)
    assert result["failed"] is True and result["msg"] == msg
    assert_no_secret(raw)


@pytest.mark.parametrize("params,msg", [
    ({"interface": "wg0/../x"}, "interface: 'wg0/../x' is not a valid interface name"),
    ({"interface": "wg0\n"}, "is not a valid interface name"),
    ({"interface": "wg0", "names": {"nope": "hq"}}, "names: the key given for 'hq' is not a valid WireGuard public key"),
    ({"interface": "wg0", "names": {HQ: "hq", REMOTE: "hq"}}, "names: 'hq' is given to two keys"),
])
def test_bad_options_fail_before_running_wg(fake_wg, monkeypatch, capsys, calls, params, msg):
    result, raw = run(monkeypatch, capsys, **params)
    assert result["failed"] is True and msg in result["msg"]
    assert calls == []


def test_without_wg_it_fails(monkeypatch, capsys):
    real = basic.AnsibleModule.get_bin_path

    def no_wg(self, name, *a, **kw):
        if name != "wg":
            return real(self, name, *a, **kw)
        if kw.get("required"):
            self.fail_json(msg="Failed to find required executable wg")
        return None

    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", no_wg)
    result, raw = run(monkeypatch, capsys, interface="wg0")
    assert result["failed"] is True and "wg" in result["msg"]
