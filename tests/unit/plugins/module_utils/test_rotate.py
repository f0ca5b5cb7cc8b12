# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_rotate: what a staged key rotation involves, the order of its steps, and their undo."""
from __future__ import annotations

import pytest

from ansible_collections.netfleet.wireguard.plugins.module_utils import _rotate as rot
from ansible_collections.netfleet.wireguard.plugins.module_utils._topology import build_plan
from ansible_collections.netfleet.wireguard.plugins.module_utils._wgkey import encode_key


def key(n):
    return encode_key(bytes([n]) * 32)


def bastion(**extra):
    hv = {
        "hub": {"wireguard_topology": "bastion", "wireguard_hub": "hub", "wireguard_address": "10.0.0.1/24",
                "wireguard_endpoint": "198.51.100.1"},
        "c1": {"wireguard_topology": "bastion", "wireguard_hub": "hub", "wireguard_address": "10.0.0.2/24"},
        "c2": {"wireguard_topology": "bastion", "wireguard_hub": "hub", "wireguard_address": "10.0.0.3/24"},
    }
    for host, values in extra.items():
        hv[host].update(values)
    return build_plan(hv)


KEYS = {"hub": key(1), "c1": key(2), "c2": key(3)}


def test_hub_rotation_reaches_every_client_at_its_tunnel_address():
    out = rot.rotation(bastion(), KEYS, {}, "hub", ["hub"])
    assert out["old_key"] == key(1)
    assert out["peers"] == {"c1": {"key": key(2), "address": "10.0.0.2"}, "c2": {"key": key(3), "address": "10.0.0.3"}}
    assert out["devices"] == []
    assert out["undo"]["switch"] == ["restore", "revert", "discard"]


def test_client_rotation_triggers_the_hub():
    out = rot.rotation(bastion(), KEYS, {}, "c1")
    assert out["peers"] == {"hub": {"key": key(1), "address": "10.0.0.1"}}


def test_devices_are_listed_not_rotated():
    phone = [{"name": "phone", "public_key": key(9), "address": "10.0.0.50"}]
    plan = bastion(**{h: {"wireguard_external_peers": phone} for h in ("hub", "c1", "c2")})
    out = rot.rotation(plan, KEYS, {}, "hub")
    assert out["devices"] == ["phone"] and "phone" not in out["peers"]


@pytest.mark.parametrize("host,keys,pinned,batch,message", [
    ("gone", KEYS, {}, [], "gone: wireguard_rotate_hosts: not a host of the network"),
    ("hub", KEYS, {"hub": key(1)}, [], "hub: wireguard_public_key: the key is pinned"),
    ("hub", {"c1": key(2), "c2": key(3)}, {}, [], "hub: wireguard_key_registry: no public key recorded"),
    ("hub", {"hub": key(1), "c1": key(2)}, {}, [], "hub: wireguard_key_registry: no public key recorded for the peer c2"),
    ("hub", KEYS, {}, ["hub", "c2"], "hub: wireguard_rotate_serial: c2 is a peer of this host and in the same batch"),
])
def test_refusals_name_host_and_variable(host, keys, pinned, batch, message):
    with pytest.raises(ValueError, match="^" + message):
        rot.rotation(bastion(), keys, pinned, host, batch)


def test_clients_that_are_not_peers_may_share_a_batch():
    assert rot.rotation(bastion(), KEYS, {}, "c1", ["c1", "c2"])["peers"] == {"hub": {"key": key(1), "address": "10.0.0.1"}}


def test_trigger_address_must_be_routed_to_the_peer():
    assert rot.trigger_address(["10.0.0.2/24", "fd00::2/64"], ["fd00::2/128"], "c1") == "fd00::2"
    with pytest.raises(ValueError, match="c1: wireguard_address"):
        rot.trigger_address(["10.0.0.2/24"], ["10.9.0.0/16"], "c1")


# ------------------------------------------------------------------ order and undo

def test_undo_reverses_what_was_done_before_commit():
    assert rot.undo_steps("stage-key") == ["discard"]
    assert rot.undo_steps("stage") == ["restore", "discard"]
    assert rot.undo_steps("watch") == ["restore", "discard"]
    assert rot.undo_steps("switch") == ["restore", "revert", "discard"]
    # a failed commit has not renamed the key (the file is written first): the old key comes back
    assert rot.undo_steps("commit") == ["restore", "revert", "discard"]
    # after the commit the new key is the key: only the registry is left to record, nothing undone
    assert rot.undo_steps("registry") == []
    with pytest.raises(ValueError):
        rot.undo_steps("reboot")


def running(*entries):
    return {k: {"allowed_ips": tuple(a), "latest_handshake": h} for k, a, h in entries}


OLD, NEW = key(10), key(11)


@pytest.mark.parametrize("peers,mode,action", [
    (running((OLD, ["10.0.0.1/32"], 100)), "stage", "add"),
    (running((OLD, ["10.0.0.1/32"], 100), (NEW, [], None)), "stage", "none"),         # repeated
    (running((OLD, ["10.0.0.1/32"], 100), (NEW, [], 200)), "move", "move"),
    (running((NEW, ["10.0.0.1/32"], 200)), "move", "none"),                           # already moved
    (running((OLD, ["10.0.0.1/32"], 100)), "restore", "none"),                        # never staged
    (running((OLD, ["10.0.0.1/32"], 100), (NEW, [], None)), "restore", "remove-new"),  # staged only
    (running((NEW, ["10.0.0.1/32"], 200)), "restore", "move-back"),                   # moved
])
def test_peer_actions_are_repeatable(peers, mode, action):
    assert rot.peer_action(peers, OLD, NEW, mode) == action


def test_peer_without_the_old_key_is_refused_before_anything_changes():
    with pytest.raises(ValueError, match="no peer %s" % OLD.replace("+", r"\+")):
        rot.peer_action(running((key(12), [], None)), OLD, NEW, "stage")
    with pytest.raises(ValueError, match="not staged"):
        rot.peer_action(running((OLD, [], None)), OLD, NEW, "move")


def test_handshakes_count_only_after_the_switch():
    peers = running((key(2), [], 100), (key(3), [], 105), (key(4), [], None))
    assert rot.waiting_for(peers, [key(2), key(3), key(4)], {key(2): 100, key(3): 100, key(4): None}) == \
        sorted([key(2), key(4)])
    assert rot.handshake_after(peers, key(3), None) and not rot.handshake_after(peers, key(9), None)


# ------------------------------------------------------------------ the files, as site.yml writes them

CONF = ("[Interface]\nPrivateKey = %s\nAddress = 10.0.0.2/24\n\n# hub\n[Peer]\nPublicKey = %s\n"
        "PresharedKey = %s\nAllowedIPs = 10.0.0.0/24\n" % (key(20), OLD, key(21)))


def test_peer_key_line_is_replaced_and_nothing_else():
    out = rot.replace_peer_key(CONF, OLD, NEW)
    assert out == CONF.replace("PublicKey = " + OLD, "PublicKey = " + NEW)
    with pytest.raises(ValueError, match="expected one PublicKey line, found 0"):
        rot.replace_peer_key(CONF, NEW, OLD)


def test_private_key_line_is_replaced_and_never_named_in_errors():
    assert rot.replace_private_key(CONF, key(22)) == CONF.replace(key(20), key(22))
    with pytest.raises(ValueError) as exc:
        rot.replace_private_key(CONF.replace("PrivateKey = %s\n" % key(20), ""), key(22))
    assert key(22) not in str(exc.value)
    with pytest.raises(ValueError) as exc:
        rot.replace_private_key(CONF, "not-a-key")
    assert "not-a-key" not in str(exc.value)
