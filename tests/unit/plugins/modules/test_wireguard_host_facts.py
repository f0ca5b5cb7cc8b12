# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""wireguard_host_facts on the machine running the tests: read-only, files, keys, no secret out."""
from __future__ import annotations

import hashlib
import os

from ansible_collections.netfleet.wireguard.plugins.module_utils import _x25519 as x
from ansible_collections.netfleet.wireguard.plugins.modules import wireguard_host_facts

from module_runner import run_main


def run(monkeypatch, capsys, **params):
    args = dict(params, _ansible_check_mode=params.pop("_check", False))
    return run_main(monkeypatch, capsys, wireguard_host_facts.main, args)


def test_reports_files_keys_and_never_the_private_key(tmp_path, monkeypatch, capsys):
    conf = tmp_path / "90-netfleet.conf"
    conf.write_text("net.ipv4.ip_forward = 1\n")
    os.chmod(conf, 0o644)
    key = tmp_path / "wg0.key"
    private = x.encode_key(x.generate_private_key())
    key.write_text(private + "\n")
    bad = tmp_path / "bad.key"
    bad.write_text("not a key\n")
    missing = tmp_path / "nope"

    result, raw = run(monkeypatch, capsys, paths=[str(conf), str(tmp_path), str(missing), str(key)],
                      private_keys=[str(key), str(bad), str(missing)], _check=True)

    assert result["changed"] is False
    files = result["files"]
    assert files[str(conf)] == {"exists": True, "type": "file", "mode": "0644", "uid": os.getuid(),
                                "gid": os.getgid(),
                                "checksum": hashlib.sha1(conf.read_bytes()).hexdigest()}
    assert files[str(tmp_path)]["type"] == "directory" and files[str(tmp_path)]["checksum"] is None
    assert files[str(missing)]["exists"] is False
    # a private key listed in paths gets no checksum, and the key itself never appears
    assert files[str(key)]["exists"] is True and files[str(key)]["checksum"] is None
    assert private not in raw and hashlib.sha1(key.read_bytes()).hexdigest() not in raw
    assert result["public_keys"] == {str(key): x.public_key_b64(private), str(bad): None, str(missing): None}
    assert result["key_problems"] == {str(bad): "not a valid private key", str(missing): "missing"}


def test_reports_the_host_as_the_roles_read_it(monkeypatch, capsys):
    result, _raw = run(monkeypatch, capsys)
    assert result["os_family"] != ""
    assert isinstance(result["packages"], list)
    assert set(result["commands"]) == set(wireguard_host_facts.COMMANDS)
    assert set(result["routes"]) == {"ipv4_default", "ipv6_default", "ipv6_ra"}
    assert "net.ipv4.ip_forward" in result["sysctls"]
    with open("/proc/sys/net/ipv4/ip_forward") as handle:
        assert result["sysctls"]["net.ipv4.ip_forward"] == handle.read().strip()
    assert set(result["firewall"]) == {"nft_tables", "iptables_chains"}
    assert all(t.split()[1].startswith("netfleet_") for t in result["firewall"]["nft_tables"])
