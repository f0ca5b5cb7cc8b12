# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""wireguard_diagnose_info with fake `ip`, `wg`, `ping` and `nft`: what it reads, never the private key."""
from __future__ import annotations

import pytest

from ansible.module_utils import basic

from ansible_collections.netfleet.wireguard.plugins.module_utils._wgkey import encode_key
from ansible_collections.netfleet.wireguard.plugins.modules import wireguard_diagnose_info

from module_runner import run_main
from wgkeys import public_of_raw as public_of

PRIV = encode_key(bytes(range(1, 33)))
OWN = public_of(bytes(range(1, 33)))
RELAY = public_of(b"\x01" * 32)
DUMP = (f"{PRIV}\t{OWN}\t51820\toff\n"
        f"{RELAY}\t(none)\t10.89.191.10:51820\t10.89.198.0/24,10.89.199.254/32\t1000\t1024\t2048\toff\n")
FAKES = {
    "wg": """[ "$1 $2 $3" = "show wg0 dump" ] && cat "$(dirname "$0")/dump" && exit 0
echo "Unable to access interface: No such device" >&2; exit 1""",
    "ip": """case "$*" in
  "-j link show dev wg0") echo '[{"ifname":"wg0","flags":["POINTOPOINT","UP"],"mtu":1420}]' ;;
  "-j addr show dev wg0") echo '[{"addr_info":[{"family":"inet","local":"10.89.199.1","prefixlen":24,"scope":"global"}]}]' ;;
  "-j route show table main scope link") echo '[{"dst":"10.89.191.0/24","dev":"eth0"}]' ;;
  "-4 -j route show default") echo '[{"dst":"default","dev":"eth0"}]' ;;
  "-o route get 10.89.198.1") echo '10.89.198.1 dev wg0 src 10.89.199.1 uid 0 \\    cache ' ;;
  "-o route get 10.89.199.2 from 10.89.197.1 iif wg0") echo 'RTNETLINK answers: Invalid argument' >&2; exit 2 ;;
  *link*|*addr*) echo '[]'; exit 1 ;;
  *) echo '[]' ;;
esac""",
    "ping": """case "$*" in
  *" -s 56 "*) echo '3 packets transmitted, 3 received, 0% packet loss' ;;
  *) echo '3 packets transmitted, 0 received, 100% packet loss'; exit 1 ;;
esac""",
    "nft": """echo 'table inet netfleet_wg_wg0 {'; echo '}'""",
}


@pytest.fixture
def fake_bin(tmp_path, monkeypatch):
    """Fake commands in a folder; iptables and ip6tables are not installed."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for name, body in FAKES.items():
        (folder / name).write_text("#!/bin/sh\n" + body + "\n")
        (folder / name).chmod(0o755)
    (folder / "dump").write_text(DUMP)
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path",
                        lambda self, name, required=False, *a, **kw: str(folder / name) if name in FAKES else None)
    return folder


def run(monkeypatch, capsys, **params):
    return run_main(monkeypatch, capsys, wireguard_diagnose_info.main, dict(params, _ansible_check_mode=True))


def test_reads_the_host_and_never_returns_the_private_key(fake_bin, monkeypatch, capsys, calls):
    result, raw = run(monkeypatch, capsys, interface="wg0", prefixes=["10.89.198.0/24"], pings=["10.89.199.254"],
                      relay_paths=[{"source": "10.89.197.1", "destination": "10.89.199.2"}], names=["localhost"])
    assert result["changed"] is False and "failed" not in result, result.get("msg")
    assert result["link"] == {"exists": True, "up": True, "mtu": 1420, "addresses": ["10.89.199.1/24"]}
    assert result["routes"]["10.89.198.0/24"]["dev"] == "wg0" and result["routes"]["10.89.198.0/24"]["address"] == "10.89.198.1"
    assert result["relay_paths"][0]["error"] == "Invalid argument" and result["relay_paths"][0]["dev"] is None
    # a small ping answered, the one at the MTU (1420 - 28 bytes of headers) not
    assert result["pings"]["10.89.199.254"] == {"size": 1392, "small": [3, 3], "mtu": [3, 0]}
    assert result["wg_after"]["peers"][0]["public_key"] == RELAY and result["default_routes"]["ipv4"] == ["eth0"]
    assert result["firewall"]["nft"] is True and result["firewall"]["nft_table"].startswith("table inet netfleet_wg_wg0")
    assert result["resolved"]["localhost"]["addresses"]
    assert PRIV not in raw
    pings = [argv for argv, _data in calls if argv[0].endswith("ping")]
    assert all("-M" in argv and "do" in argv and "-I" in argv for argv in pings)


def test_an_absent_interface_is_reported_not_a_failure(fake_bin, monkeypatch, capsys):
    result, _raw = run(monkeypatch, capsys, interface="wg9", pings=["10.89.199.254"])
    assert "failed" not in result and result["link"]["exists"] is False and result["wg_after"]["up"] is False
    assert result["pings"] == {}


def test_a_bad_interface_name_fails_before_running_anything(fake_bin, monkeypatch, capsys, calls):
    result, _raw = run(monkeypatch, capsys, interface="wg0;rm")
    assert result["failed"] is True and "not a valid interface name" in result["msg"] and calls == []
