# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The running state of a WireGuard interface, its peers named (no I/O, no ansible imports).

Built on ``_wgconf.parse_dump``, which drops the dump's private key. Preshared keys are reduced to
"set or not". Messages never contain a dump value: a malformed dump could hold a secret anywhere.
"""

from __future__ import annotations

from ._wgconf import parse_dump
from ._wgkey import is_valid_key

# `wg show` prints this for an interface without a private key (hence without a public key)
NO_KEY = "(none)"


def check_names(names) -> dict:
    """``names`` ({public key: name}) if usable; ValueError naming the name, never the bad key."""
    if not isinstance(names, dict):
        raise ValueError("names must be a mapping of public key to name")
    owners: dict = {}
    for key, name in names.items():
        if not isinstance(name, str) or not name:
            raise ValueError("names: every name must be a non-empty string")
        if not is_valid_key(key):
            raise ValueError("names: the key given for %r is not a valid WireGuard public key" % name)
        if name in owners:
            raise ValueError("names: %r is given to two keys (names identify peers)" % name)
        owners[name] = key
    return names


def _interface(state: dict) -> dict:
    public_key = state["public_key"]
    if public_key == NO_KEY:
        public_key = None
    elif not is_valid_key(public_key):
        raise ValueError("unexpected wg dump: the interface public key is not a valid key")
    return {"public_key": public_key, "listen_port": state["listen_port"]}


def _peer(public_key: str, run: dict, name, now: int) -> dict:
    handshake = run["latest_handshake"]
    return {
        "name": name,
        "public_key": public_key,
        "endpoint": run["endpoint"],
        "allowed_ips": list(run["allowed_ips"]),
        "latest_handshake": handshake,
        # a clock set back after the handshake would give a negative age
        "handshake_age": None if handshake is None else max(0, now - handshake),
        "transfer_rx": run["transfer_rx"],
        "transfer_tx": run["transfer_tx"],
        "persistent_keepalive": run["persistent_keepalive"],
        "preshared_key": run["preshared_key"] is not None,
    }


def _sort_key(peer: dict) -> tuple:
    # named peers by name, then the unknown ones by public key
    return (peer["name"] is None, peer["name"] or "", peer["public_key"])


def status(dump_text: str, names: dict, now) -> dict:
    """The state of a running interface from ``wg show <if> dump`` output.

    ``names`` maps public keys to peer names; ``now`` is the current unix time (handshake ages).
    Returns ``up`` (True), ``interface``, ``peers`` (sorted by name, unnamed ones last),
    ``unknown_peers`` (running keys not in ``names``) and ``missing_peers`` (names not running).
    """
    check_names(names)
    state = parse_dump(dump_text)
    running = state["peers"]
    if not all(is_valid_key(key) for key in running):
        raise ValueError("unexpected wg dump: a peer public key is not a valid key")
    peers = [_peer(key, run, names.get(key), int(now)) for key, run in running.items()]
    return {
        "up": True,
        "interface": _interface(state),
        "peers": sorted(peers, key=_sort_key),
        "unknown_peers": sorted(key for key in running if key not in names),
        "missing_peers": sorted(name for key, name in names.items() if key not in running),
    }


def down(names: dict) -> dict:
    """The same shape for an interface that does not exist: no peers, every named peer missing."""
    check_names(names)
    return {
        "up": False,
        "interface": {"public_key": None, "listen_port": None},
        "peers": [],
        "unknown_peers": [],
        "missing_peers": sorted(names.values()),
    }
