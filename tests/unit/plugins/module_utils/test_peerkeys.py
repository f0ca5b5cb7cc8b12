# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.netfleet.wireguard.plugins.filter.wireguard_peer_keys import wireguard_peer_keys
from ansible_collections.netfleet.wireguard.plugins.module_utils._peerkeys import join_peer_keys

K1 = "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo="
K2 = "3p7bfXt9wbTTW2HC7OQ1Nz+DQ8hbeGdNrfx+FG+IK08="


def test_join_fills_keys_and_keeps_external_key():
    peers = [{"name": "a", "public_key": None, "allowed_ips": ["10.0.0.2/32"]},
             {"name": "phone", "public_key": K2}]
    out = join_peer_keys(peers, {"a": K1, "phone": K1}, "hub")
    assert out == [{"name": "a", "public_key": K1, "allowed_ips": ["10.0.0.2/32"]},
                   {"name": "phone", "public_key": K2}]
    assert peers[0]["public_key"] is None  # input not mutated


def test_missing_and_invalid_keys_name_host_and_peers():
    with pytest.raises(ValueError) as err:
        join_peer_keys([{"name": "a"}, {"name": "b"}, {"name": "c"}], {"c": "nope"}, "hub")
    msg = str(err.value)
    assert msg.startswith("hub: ") and "a, b" in msg and "peer(s) c is not a valid" in msg


def test_filter_wraps_errors():
    with pytest.raises(AnsibleFilterError, match="gw1: no public key known for peer"):
        wireguard_peer_keys([{"name": "x"}], {}, "gw1")
    assert wireguard_peer_keys([], {}, "gw1") == []


@pytest.mark.parametrize("peers,keys", [("x", {}), ([{"nope": 1}], {}), ([], "x")])
def test_bad_shapes(peers, keys):
    with pytest.raises(ValueError):
        join_peer_keys(peers, keys)


def test_pending_peers_get_distinct_placeholder_keys_and_others_still_fail():
    from ansible_collections.netfleet.wireguard.plugins.module_utils._peerkeys import placeholder_key
    from ansible_collections.netfleet.wireguard.plugins.module_utils._wgkey import is_valid_key
    peers = [{"name": "a"}, {"name": "b"}, {"name": "c"}]
    out = join_peer_keys(peers, {"c": K1}, "hub", pending=("a", "b"))
    assert [p.get("pending", False) for p in out] == [True, True, False]
    assert out[0]["public_key"] == placeholder_key("a") != out[1]["public_key"] == placeholder_key("b")
    assert all(is_valid_key(p["public_key"]) for p in out) and out[2]["public_key"] == K1
    # a known key wins over the placeholder; a peer not pending and without key still fails
    assert join_peer_keys([{"name": "a"}], {"a": K2}, "hub", pending=("a",))[0] == {"name": "a", "public_key": K2}
    with pytest.raises(ValueError, match="hub: no public key known for peer.s. b"):
        join_peer_keys(peers, {"c": K1}, "hub", pending=("a",))
    assert wireguard_peer_keys(peers, {"c": K1}, "hub", pending=["a", "b"]) == out


@pytest.mark.parametrize("bad", [
    K1[:42] + "p=",      # K1 ends in "o=": the same bytes with a padding bit set, which wg refuses
    K1 + "\n",           # registry and inventory values are taken exactly
    " " + K1,
])
def test_noncanonical_or_padded_keys_are_refused(bad):
    with pytest.raises(ValueError, match="peer.s. a is not a valid WireGuard key"):
        join_peer_keys([{"name": "a"}], {"a": bad}, "hub")
    with pytest.raises(ValueError, match="peer.s. phone is not a valid WireGuard key"):
        join_peer_keys([{"name": "phone", "public_key": bad}], {}, "hub")
