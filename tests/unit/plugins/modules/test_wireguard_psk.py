# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""wireguard_psk on a temporary directory: report, create, seal, receive, prune, never print a key."""
from __future__ import annotations

import base64
import builtins
import os
import stat

import pytest

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import x25519

from ansible_collections.netfleet.wireguard.plugins.module_utils import _psk as p
from ansible_collections.netfleet.wireguard.plugins.modules import wireguard_psk

from module_runner import run_main

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def public_of(private):
    key = x25519.X25519PrivateKey.from_private_bytes(base64.b64decode(private))
    return base64.b64encode(key.public_key().public_bytes(serialization.Encoding.Raw,
                                                          serialization.PublicFormat.Raw)).decode()


def noncanonical(key):
    """The same 32 bytes written with a padding bit set (``...B=`` for ``...A=``): `wg` refuses it."""
    return key[:42] + B64[B64.index(key[42]) | 1] + "="


OWNER = dict(owner=str(os.getuid()), group=str(os.getgid()))
HUB_PRIV = base64.b64encode(bytes(range(1, 33))).decode()
SPOKE_PRIV = base64.b64encode(bytes(range(3, 35))).decode()
HUB_PUB = public_of(HUB_PRIV)
SPOKE_PUB = public_of(SPOKE_PRIV)


def run(monkeypatch, capsys, _check=False, **params):
    params = dict(OWNER, **params)
    args = dict(params, _ansible_check_mode=_check)
    return run_main(monkeypatch, capsys, wireguard_psk.main, args)


@pytest.fixture
def hosts(tmp_path):
    """Two hosts' /etc/wireguard as directories, with their private keys."""
    out = {}
    for name, priv in (("hub", HUB_PRIV), ("spoke", SPOKE_PRIV)):
        base = tmp_path / name
        base.mkdir()
        (base / "wg0.key").write_text(priv + "\n")
        out[name] = dict(path=str(base / "wg0.psk.d"), private_key_path=str(base / "wg0.key"), interface="wg0")
    return out


def key_of(host, peer):
    return open(os.path.join(host["path"], peer + ".psk")).read().strip()


def assert_no_key_in(raw, *dirs):
    for directory in dirs:
        if os.path.isdir(directory):
            for name in os.listdir(directory):
                secret = open(os.path.join(directory, name)).read().strip()
                assert secret not in raw, "a preshared key is in the module output"


def test_status_of_nothing(hosts, monkeypatch, capsys):
    r, dummy = run(monkeypatch, capsys, peers=["spoke"], _check=True, **hosts["hub"])
    assert r["changed"] is False and r["fingerprints"] == {"spoke": None}
    assert r["invalid"] == [] and r["stale"] == [] and r["sealed"] == {}
    assert not os.path.exists(hosts["hub"]["path"])


def test_send_creates_0600_file_in_0700_dir_and_seals_it_for_the_peer(hosts, monkeypatch, capsys):
    hub = hosts["hub"]
    r, raw = run(monkeypatch, capsys, name="hub", peers=["spoke"], send=["spoke"],
                 public_keys={"spoke": SPOKE_PUB}, **hub)
    assert r["changed"] and r["created"] == ["spoke"]
    key = key_of(hub, "spoke")
    assert p.is_valid(key) and key not in raw
    assert r["fingerprints"] == {"spoke": p.fingerprint(key)}
    path = os.path.join(hub["path"], "spoke.psk")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(hub["path"]).st_mode) == 0o700
    assert sorted(os.listdir(hub["path"])) == ["spoke.psk"]
    assert p.unseal(r["sealed"]["spoke"], SPOKE_PRIV, p.seal_context("wg0", "hub", "spoke")) == key


def test_send_keeps_an_existing_key_and_receive_stores_it_once(hosts, monkeypatch, capsys):
    hub, spoke = hosts["hub"], hosts["spoke"]
    first, dummy = run(monkeypatch, capsys, name="hub", peers=["spoke"], send=["spoke"],
                       public_keys={"spoke": SPOKE_PUB}, **hub)
    again, dummy = run(monkeypatch, capsys, name="hub", peers=["spoke"], send=["spoke"],
                       public_keys={"spoke": SPOKE_PUB}, **hub)
    assert again["changed"] is False and again["created"] == []
    assert again["fingerprints"] == first["fingerprints"]
    r, raw = run(monkeypatch, capsys, name="spoke", peers=["hub"], receive={"hub": again["sealed"]["spoke"]}, **spoke)
    assert r["changed"] and r["stored"] == ["hub"]
    assert key_of(spoke, "hub") == key_of(hub, "spoke")
    assert r["fingerprints"]["hub"] == first["fingerprints"]["spoke"]
    assert stat.S_IMODE(os.stat(os.path.join(spoke["path"], "hub.psk")).st_mode) == 0o600
    assert_no_key_in(raw, hub["path"], spoke["path"])
    # the same key again (sealed anew) changes nothing
    r, dummy = run(monkeypatch, capsys, name="spoke", peers=["hub"], receive={"hub": first["sealed"]["spoke"]}, **spoke)
    assert r["changed"] is False and r["stored"] == []


def test_receive_replaces_a_different_key(hosts, monkeypatch, capsys):
    hub, spoke = hosts["hub"], hosts["spoke"]
    os.makedirs(spoke["path"], mode=0o700)
    open(os.path.join(spoke["path"], "hub.psk"), "w").write(p.generate() + "\n")
    os.chmod(os.path.join(spoke["path"], "hub.psk"), 0o600)
    sent, dummy = run(monkeypatch, capsys, name="hub", peers=["spoke"], send=["spoke"],
                      public_keys={"spoke": SPOKE_PUB}, **hub)
    r, dummy = run(monkeypatch, capsys, name="spoke", peers=["hub"], receive={"hub": sent["sealed"]["spoke"]}, **spoke)
    assert r["stored"] == ["hub"] and key_of(spoke, "hub") == key_of(hub, "spoke")


@pytest.mark.parametrize("sender,receiver_name,interface", [
    ("hub", "other", "wg0"),    # opened by a host that was not the addressee
    ("branch", "spoke", "wg0"),  # claimed to come from another sender
    ("hub", "spoke", "wg1"),     # another interface
])
def test_receive_refuses_a_key_sealed_for_another_pair(hosts, monkeypatch, capsys, sender, receiver_name, interface):
    hub, spoke = hosts["hub"], hosts["spoke"]
    sent, dummy = run(monkeypatch, capsys, name="hub", peers=["spoke"], send=["spoke"],
                      public_keys={"spoke": SPOKE_PUB}, **hub)
    params = dict(spoke, interface=interface)
    r, raw = run(monkeypatch, capsys, name=receiver_name, peers=[sender], receive={sender: sent["sealed"]["spoke"]},
                 **params)
    assert r["failed"] and "does not authenticate" in r["msg"]
    assert not os.path.exists(spoke["path"])
    assert_no_key_in(raw, hub["path"])


def test_receive_needs_the_private_key(hosts, monkeypatch, capsys):
    spoke = hosts["spoke"]
    os.unlink(spoke["private_key_path"])
    r, dummy = run(monkeypatch, capsys, name="spoke", peers=["hub"], receive={"hub": "nfpsk2.x"}, **spoke)
    assert r["failed"] and "cannot read the private key" in r["msg"]


def test_regenerate_replaces_the_key(hosts, monkeypatch, capsys):
    hub = hosts["hub"]
    first, dummy = run(monkeypatch, capsys, name="hub", peers=["spoke"], send=["spoke"],
                       public_keys={"spoke": SPOKE_PUB}, **hub)
    r, dummy = run(monkeypatch, capsys, name="hub", peers=["spoke"], send=["spoke"], regenerate=["spoke"],
                   public_keys={"spoke": SPOKE_PUB}, **hub)
    assert r["changed"] and r["created"] == ["spoke"]
    assert r["fingerprints"]["spoke"] != first["fingerprints"]["spoke"]


def test_invalid_file_is_reported_and_replaced_when_sending(hosts, monkeypatch, capsys):
    hub = hosts["hub"]
    os.makedirs(hub["path"], mode=0o700)
    open(os.path.join(hub["path"], "spoke.psk"), "w").write("garbage-secret\n")
    os.chmod(os.path.join(hub["path"], "spoke.psk"), 0o600)
    r, raw = run(monkeypatch, capsys, peers=["spoke"], _check=True, **hub)
    assert r["invalid"] == ["spoke"] and r["fingerprints"] == {"spoke": None} and "garbage" not in raw
    r, dummy = run(monkeypatch, capsys, name="hub", peers=["spoke"], send=["spoke"],
                   public_keys={"spoke": SPOKE_PUB}, **hub)
    assert r["created"] == ["spoke"] and p.is_valid(key_of(hub, "spoke"))


def test_check_mode_reports_and_changes_nothing(hosts, monkeypatch, capsys):
    hub, spoke = hosts["hub"], hosts["spoke"]
    r, dummy = run(monkeypatch, capsys, _check=True, name="hub", peers=["spoke"], send=["spoke"], public_keys={},
                   **hub)
    assert r["changed"] and r["created"] == ["spoke"] and r["sealed"] == {}
    assert not os.path.exists(hub["path"])
    r, dummy = run(monkeypatch, capsys, _check=True, name="spoke", peers=["hub"], receive={"hub": ""}, **spoke)
    assert r["changed"] and r["stored"] == ["hub"] and not os.path.exists(spoke["path"])


def test_prune_removes_files_of_peers_no_longer_listed(hosts, monkeypatch, capsys):
    hub = hosts["hub"]
    run(monkeypatch, capsys, name="hub", peers=["a", "b"], send=["a", "b"], public_keys={"a": SPOKE_PUB, "b": HUB_PUB},
        **hub)
    open(os.path.join(hub["path"], "notes.txt"), "w").write("kept\n")
    r, dummy = run(monkeypatch, capsys, peers=["a"], _check=True, **hub)
    assert r["stale"] == ["b"] and r["removed"] == [] and r["changed"] is False
    r, dummy = run(monkeypatch, capsys, peers=["a"], prune=True, **hub)
    assert r["changed"] and r["removed"] == ["b"]
    assert sorted(os.listdir(hub["path"])) == ["a.psk", "notes.txt"]
    r, dummy = run(monkeypatch, capsys, peers=["a"], prune=True, **hub)
    assert r["changed"] is False


def test_loose_permissions_are_reported_and_fixed(hosts, monkeypatch, capsys):
    hub = hosts["hub"]
    run(monkeypatch, capsys, name="hub", peers=["spoke"], send=["spoke"], public_keys={"spoke": SPOKE_PUB}, **hub)
    os.chmod(os.path.join(hub["path"], "spoke.psk"), 0o644)
    os.chmod(hub["path"], 0o755)
    r, dummy = run(monkeypatch, capsys, peers=["spoke"], _check=True, **hub)
    assert r["loose"] is True and r["changed"] is True
    assert stat.S_IMODE(os.stat(hub["path"]).st_mode) == 0o755
    r, dummy = run(monkeypatch, capsys, peers=["spoke"], **hub)
    assert r["changed"] is True
    assert stat.S_IMODE(os.stat(os.path.join(hub["path"], "spoke.psk")).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(hub["path"]).st_mode) == 0o700
    r, dummy = run(monkeypatch, capsys, peers=["spoke"], _check=True, **hub)
    assert r["loose"] is False and r["changed"] is False


@pytest.mark.parametrize("params,msg", [
    (dict(peers=["../x"]), "cannot be used as a preshared key file name"),
    (dict(peers=[], send=["spoke"], name="hub", public_keys={"spoke": SPOKE_PUB}), "must also be listed in peers"),
    (dict(peers=["spoke"], send=["spoke"], public_keys={"spoke": SPOKE_PUB}), "name (this host's inventory name)"),
    (dict(peers=["spoke"], send=["spoke"], name="hub", public_keys={}), "no valid WireGuard public key"),
    (dict(peers=["spoke"], send=["spoke"], name="hub", public_keys={"spoke": "x"}), "no valid WireGuard public key"),
    (dict(peers=["spoke"], send=["spoke"], name="hub", public_keys={"spoke": noncanonical(SPOKE_PUB)}),
     "no valid WireGuard public key"),
    (dict(peers=["spoke"], send=["spoke"], name="hub", public_keys={"spoke": SPOKE_PUB + "\n"}),
     "no valid WireGuard public key"),
    (dict(peers=["spoke"], send=["spoke"], receive={"spoke": "x"}, name="hub", public_keys={"spoke": SPOKE_PUB}),
     "both send and receive"),
    (dict(peers=["spoke"], regenerate=["spoke"]), "not in send"),
    (dict(peers=["spoke"], interface="bad/name"), "not a valid interface name"),
])
def test_bad_parameters_fail_before_touching_anything(hosts, monkeypatch, capsys, params, msg):
    base = dict(hosts["hub"])
    base.update(params)
    r, dummy = run(monkeypatch, capsys, **base)
    assert r["failed"] and msg in r["msg"]
    assert not os.path.exists(hosts["hub"]["path"])


def test_received_values_are_masked_in_the_invocation(hosts, monkeypatch, capsys):
    """receive is no_log: whatever is passed in never comes back in the result."""
    spoke = hosts["spoke"]
    marker = "nfpsk2." + "Q" * 108
    r, raw = run(monkeypatch, capsys, name="spoke", peers=["hub"], receive={"hub": marker}, **spoke)
    assert r["failed"] and marker not in raw


def test_a_noncanonical_key_file_is_invalid_and_replaced_when_sending(hosts, monkeypatch, capsys):
    hub = hosts["hub"]
    os.makedirs(hub["path"], mode=0o700)
    bad = noncanonical(p.generate())
    open(os.path.join(hub["path"], "spoke.psk"), "w").write(bad + "\n")
    os.chmod(os.path.join(hub["path"], "spoke.psk"), 0o600)
    r, raw = run(monkeypatch, capsys, peers=["spoke"], _check=True, **hub)
    assert r["invalid"] == ["spoke"] and r["fingerprints"] == {"spoke": None} and bad not in raw
    r, raw = run(monkeypatch, capsys, name="hub", peers=["spoke"], send=["spoke"],
                 public_keys={"spoke": SPOKE_PUB}, **hub)
    assert r["created"] == ["spoke"] and p.is_valid(key_of(hub, "spoke")) and key_of(hub, "spoke") != bad


def test_receive_refuses_a_noncanonical_private_key(hosts, monkeypatch, capsys):
    hub, spoke = hosts["hub"], hosts["spoke"]
    sent, dummy = run(monkeypatch, capsys, name="hub", peers=["spoke"], send=["spoke"],
                      public_keys={"spoke": SPOKE_PUB}, **hub)
    open(spoke["private_key_path"], "w").write(noncanonical(SPOKE_PRIV) + "\n")
    r, raw = run(monkeypatch, capsys, name="spoke", peers=["hub"], receive={"hub": sent["sealed"]["spoke"]}, **spoke)
    assert r["failed"] and "private key is not a canonical" in r["msg"]
    assert noncanonical(SPOKE_PRIV) not in raw and not os.path.exists(spoke["path"])


def test_receive_refuses_the_old_sealed_format_with_an_explanation(hosts, monkeypatch, capsys):
    spoke = hosts["spoke"]
    old = "nfpsk1." + base64.b64encode(bytes(96)).decode()
    r, dummy = run(monkeypatch, capsys, name="spoke", peers=["hub"], receive={"hub": old}, **spoke)
    assert r["failed"] and "preshared key received from hub: the sealed preshared key is in the old nfpsk1" in r["msg"]
    assert not os.path.exists(spoke["path"])


def test_sealed_keys_open_only_with_the_receivers_key(hosts, monkeypatch, capsys):
    hub = hosts["hub"]
    r, dummy = run(monkeypatch, capsys, name="hub", peers=["spoke"], send=["spoke"],
                   public_keys={"spoke": SPOKE_PUB}, **hub)
    sealed = r["sealed"]["spoke"]
    assert sealed.startswith("nfpsk2.")
    assert p.unseal(sealed, SPOKE_PRIV, p.seal_context("wg0", "hub", "spoke")) == key_of(hub, "spoke")
    with pytest.raises(ValueError, match="does not authenticate"):
        p.unseal(sealed, HUB_PRIV, p.seal_context("wg0", "hub", "spoke"))


@pytest.mark.parametrize("params", [
    dict(name="hub", peers=["spoke"], send=["spoke"], public_keys={"spoke": SPOKE_PUB}),
    dict(name="spoke", peers=["hub"], receive={"hub": "nfpsk2.x"}),
])
def test_without_cryptography_send_and_receive_fail_before_touching_anything(hosts, monkeypatch, capsys, params):
    real_import = builtins.__import__

    def no_cryptography(name, *args, **kwargs):
        if name == "cryptography" or name.startswith("cryptography."):
            raise ImportError("No module named %r" % name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_cryptography)
    host = hosts["hub"] if "send" in params else hosts["spoke"]
    r, dummy = run(monkeypatch, capsys, **dict(host, **params))
    assert r["failed"] and r["msg"] == ("python3-cryptography is needed on hosts that use preshared keys; "
                                        "netfleet.wireguard.wireguard_install installs it")
    assert not os.path.exists(host["path"])
    # fingerprints and check mode do not need it
    r, dummy = run(monkeypatch, capsys, _check=True, **dict(host, **params))
    assert "failed" not in r and r["changed"] is True
