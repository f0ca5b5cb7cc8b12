# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""wireguard_host_facts on the machine running the tests: read-only, files, keys, no secret out."""
from __future__ import annotations

import base64
import hashlib
import os
import shutil

import pytest

from ansible.module_utils import basic

from ansible_collections.netfleet.wireguard.plugins.modules import wireguard_host_facts

from module_runner import run_main
from wgkeys import B64, wg_genkey
from wgkeys import public_key as public_of

WG = shutil.which("wg")
needs_wg = pytest.mark.skipif(WG is None, reason="wg (wireguard-tools) is not installed; CI installs it")


def run(monkeypatch, capsys, **params):
    args = dict(params, _ansible_check_mode=params.pop("_check", False))
    return run_main(monkeypatch, capsys, wireguard_host_facts.main, args)


@needs_wg
def test_reports_files_keys_and_never_the_private_key(tmp_path, monkeypatch, capsys, calls):
    conf = tmp_path / "90-netfleet.conf"
    conf.write_text("net.ipv4.ip_forward = 1\n")
    os.chmod(conf, 0o644)
    key = tmp_path / "wg0.key"
    private = wg_genkey()
    key.write_text(private + "\n")
    bad = tmp_path / "bad.key"
    bad.write_text("not a key\n")
    other = wg_genkey()
    # the same 32 bytes with a padding bit set: wg refuses it, so it has no public key
    noncanonical = tmp_path / "noncanonical.key"
    noncanonical.write_text(other[:42] + B64[B64.index(other[42]) | 1] + "=\n")
    missing = tmp_path / "nope"

    result, raw = run(monkeypatch, capsys, paths=[str(conf), str(tmp_path), str(missing), str(key)],
                      private_keys=[str(key), str(bad), str(missing), str(noncanonical)], _check=True)

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
    assert private not in raw and other not in raw and other[:42] not in raw
    assert result["public_keys"] == {str(key): public_of(private), str(bad): None, str(missing): None,
                                     str(noncanonical): None}
    assert result["key_problems"] == {str(bad): "not a valid private key", str(missing): "missing",
                                      str(noncanonical): "not a valid private key"}
    # the public key came from wg pubkey, the private key on its standard input only
    assert [data for argv, data in calls if argv[-1:] == ["pubkey"]] == [private]
    assert [argv for argv, data in calls if argv[-1:] == ["pubkey"]] == [[WG, "pubkey"]]
    assert all(private not in " ".join(argv) for argv, data in calls)


def test_without_wg_public_keys_are_null_and_say_why(tmp_path, monkeypatch, capsys, calls):
    real = basic.AnsibleModule.get_bin_path
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path",
                        lambda self, name, *a, **kw: None if name == "wg" else real(self, name, *a, **kw))
    key = tmp_path / "wg0.key"
    private = base64.b64encode(bytes(range(32))).decode()
    key.write_text(private + "\n")
    bad = tmp_path / "bad.key"
    bad.write_text("not a key\n")
    result, raw = run(monkeypatch, capsys, private_keys=[str(key), str(bad)], _check=True)
    assert result["commands"]["wg"] is None
    assert result["public_keys"] == {str(key): None, str(bad): None}
    assert result["key_problems"] == {str(key): "wg is not installed", str(bad): "not a valid private key"}
    assert private not in raw
    assert not any(argv[-1:] == ["pubkey"] for argv, data in calls)


def test_reports_the_host_as_the_roles_read_it(monkeypatch, capsys):
    result, _raw = run(monkeypatch, capsys)
    assert result["os_family"] != ""
    assert isinstance(result["packages"], list)
    assert set(result["commands"]) == set(wireguard_host_facts.COMMANDS)
    assert set(result["routes"]) == {"ipv4_default", "ipv6_default", "ipv6_ra"}
    assert "net.ipv4.ip_forward" in result["sysctls"]
    with open("/proc/sys/net/ipv4/ip_forward") as handle:
        assert result["sysctls"]["net.ipv4.ip_forward"] == handle.read().strip()
    assert set(result["firewall"]) == {"nft_tables", "iptables_chains", "ufw", "firewalld_running"}
    assert all(t.split()[1].startswith("netfleet_") for t in result["firewall"]["nft_tables"])


def test_reports_an_active_ufw_with_its_rules_and_a_running_firewalld(tmp_path, monkeypatch, capsys):
    # stand-ins printing what ufw 0.36 and firewall-cmd print on a host where both run
    fake = {"ufw": "#!/bin/sh\ncase \"$1\" in status) echo 'Status: active';;\n"
                   "show) echo \"Added user rules (see 'ufw status' for running firewall):\"; "
                   "echo \"ufw allow 51820/udp comment 'netfleet-wireguard wg0'\";; esac\n",
            "firewall-cmd": "#!/bin/sh\necho running\n"}
    for name, text in fake.items():
        (tmp_path / name).write_text(text)
        os.chmod(tmp_path / name, 0o755)
    real = basic.AnsibleModule.get_bin_path
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, *a, **kw: str(
        tmp_path / name) if name in fake else real(self, name, *a, **kw))
    result, _raw = run(monkeypatch, capsys)
    assert result["firewall"]["ufw"] == {"active": True,
                                         "added": ["allow 51820/udp comment 'netfleet-wireguard wg0'"]}
    assert result["firewall"]["firewalld_running"] is True


@needs_wg
def test_wireguard_report_digest_and_no_secret(tmp_path, monkeypatch, capsys):
    """The interface report: SHA-1 of the file without its secret lines, the counts of those lines, whether
    the file holds the key file's key; an interface that does not run is not in sync. No key is returned."""
    private = wg_genkey()
    key = tmp_path / "wg9.key"
    key.write_text(private + "\n")
    rendered = "[Interface]\nAddress = 10.9.0.1/24\n\n# b\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.9.0.2/32\n" % public_of(private)
    conf = tmp_path / "wg9.conf"
    conf.write_text(rendered.replace("[Interface]\n", "[Interface]\nPrivateKey = %s\n" % private))
    spec = {"interface": "wg9", "path": str(conf), "private_key_path": str(key)}
    result, raw = run(monkeypatch, capsys, wireguard=spec, _check=True)
    report = result["wireguard"]
    assert report["exists"] and report["key_current"] and not report["in_sync"]
    assert report["public_sha1"] == hashlib.sha1(rendered.encode()).hexdigest()
    assert (report["private_key_lines"], report["preshared_key_lines"]) == (1, 0)
    assert private not in raw
    missing = dict(spec, path=str(tmp_path / "nope.conf"))
    assert run(monkeypatch, capsys, wireguard=missing, _check=True)[0]["wireguard"]["exists"] is False
