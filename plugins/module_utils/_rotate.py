# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Staged private-key rotation: what to do, in which order, and how to undo it (pure, no ansible import).

The order ``playbooks/rotate.yml`` follows for one host H (old key O, new key N):

1. ``stage-key``: H writes N next to its key file (``<key>.next``, 0600); only N's public key returns.
2. ``stage``: every managed peer P adds N as a peer without AllowedIPs (O keeps carrying traffic).
3. ``watch``: P waits (in the background) for a handshake on N, then moves O's AllowedIPs,
   endpoint and keepalive to N in one ``wg set`` and removes O, and rewrites ``PublicKey`` in its file.
4. ``switch``: H runs ``wg set private-key <key>.next`` and sends one datagram into the tunnel per
   peer, so each handshake happens now; it waits for a handshake with every peer.
5. ``commit``: H renames ``<key>.next`` over its key file and rewrites ``PrivateKey`` in its file;
   the controller records N in the registry.

A failure before ``commit`` undoes the steps in reverse: each P puts O back (``restore``) and H
takes its old key again (``revert``): O is in every file and in every running peer again.
Messages never contain a key other than public ones.
"""

from __future__ import annotations

from ._wgkey import is_valid_key

STEPS = ("stage-key", "stage", "watch", "switch", "commit", "registry")


def undo_steps(failed_step):
    """The undo actions, in order, after ``failed_step`` failed: peers first, then the host."""
    if failed_step not in STEPS:
        raise ValueError("unknown rotation step %r" % (failed_step,))
    done = STEPS[:STEPS.index(failed_step) + 1]
    if "commit" in done and failed_step != "commit":
        return []   # the new key is the host's key now: nothing to undo (the registry is retried)
    undo = []
    if "stage" in done:
        undo.append("restore")      # every peer: the old key back, the new one gone
    if "switch" in done:
        undo.append("revert")       # the host: its old key again, one handshake per peer
    if "stage-key" in done:
        undo.append("discard")      # the host: the staged key file removed
    return undo


def rotation(plan, public_keys, pinned, host, batch=()):
    """What rotating ``host``'s private key involves.

    ``public_keys``: name -> public key (registry and pinned keys). Returns ``{"old_key": public key
    now, "peers": {peer: {"key": its public key, "address": trigger address}}, "devices": [names]}``:
    ``peers`` are the managed hosts that learn the new key live (``address``: one address of the
    peer that ``host`` routes to it, a datagram there starts the handshake), ``devices`` the
    external peers that do not (they need new profiles), and ``undo``: step -> ``undo_steps(step)``. Raises ValueError naming the host and the
    variable.
    """
    if host not in plan:
        raise ValueError("%s: wireguard_rotate_hosts: not a host of the network (outside the group, or retired "
                         "with wireguard_state: absent)" % host)
    if host in (pinned or {}):
        raise ValueError("%s: wireguard_public_key: the key is pinned in the inventory (managed elsewhere); "
                         "rotate it where it is managed" % host)
    old = (public_keys or {}).get(host)
    if not is_valid_key(old):
        raise ValueError("%s: wireguard_key_registry: no public key recorded for this host; run site.yml first"
                         % host)
    peers, devices = {}, []
    for peer in plan[host]["peers"]:
        name = peer["name"]
        if name not in plan:
            devices.append(name)
            continue
        if name in batch and name != host:
            raise ValueError("%s: wireguard_rotate_serial: %s is a peer of this host and in the same batch; "
                             "rotate peers in different batches (serial: 1)" % (host, name))
        key = (public_keys or {}).get(name)
        if not is_valid_key(key):
            raise ValueError("%s: wireguard_key_registry: no public key recorded for the peer %s" % (host, name))
        peers[name] = {"key": key, "address": trigger_address(plan[name]["addresses"], peer["allowed_ips"], name)}
    return {"old_key": old, "peers": peers, "devices": sorted(devices),
            "undo": {step: undo_steps(step) for step in STEPS}}


def trigger_address(addresses, allowed_ips, name):
    """The peer's first tunnel address that the host routes to it (``10.0.0.2/24`` -> ``10.0.0.2``)."""
    import ipaddress  # pylint: disable=import-outside-toplevel
    routed = [ipaddress.ip_network(prefix, strict=False) for prefix in allowed_ips]
    for address in addresses:
        ip = ipaddress.ip_interface(address).ip
        if any(ip in net for net in routed):
            return str(ip)
    raise ValueError("%s: wireguard_address: no tunnel address of this peer is in its AllowedIPs" % name)


def peer_action(peers, old, new, mode):
    """What one peer does in ``mode`` (``stage``, ``move`` or ``restore``), given its running ``peers``
    (``_wgconf.parse_dump(...)["peers"]``): ``add``, ``move``, ``remove-new``, ``move-back`` or ``none``.

    Repeating a step is harmless: a peer already staged or already moved does nothing.
    """
    has_old, has_new = old in peers, new in peers
    new_routes = has_new and bool(peers[new]["allowed_ips"])
    if mode == "stage":
        if has_new:
            return "none"
        if not has_old:
            raise ValueError("the running interface has no peer %s (the old key): run site.yml first" % old)
        return "add"
    if mode == "move":
        if has_new and not has_old:
            return "none"
        if not (has_new and has_old):
            raise ValueError("peer %s is not staged next to %s" % (new, old))
        return "move"
    if mode == "restore":
        if not has_new:
            return "none"
        if has_old and not new_routes:
            return "remove-new"
        return "move-back"
    raise ValueError("unknown mode %r" % (mode,))


def handshake_after(peers, key, before):
    """True when ``key`` has a handshake later than ``before`` (unix seconds or None)."""
    entry = peers.get(key)
    seen = entry and entry.get("latest_handshake")
    return bool(seen) and (before is None or seen > before)


def waiting_for(peers, keys, before):
    """Keys of ``keys`` without a handshake later than their ``before[key]``, sorted."""
    return sorted(key for key in keys if not handshake_after(peers, key, before.get(key)))


def _replace_value(text, field, old, new, what):
    lines = text.splitlines(keepends=True)
    hits = [i for i, line in enumerate(lines) if _field(line) == field and (old is None or _value(line) == old)]
    if len(hits) != 1:
        raise ValueError("%s: expected one %s line, found %d" % (what, field, len(hits)))
    line = lines[hits[0]]
    lines[hits[0]] = "%s = %s%s" % (field, new, "\n" if line.endswith("\n") else "")
    return "".join(lines)


def _field(line):
    return line.split("=", 1)[0].strip() if "=" in line and not line.lstrip().startswith("#") else None


def _value(line):
    return line.split("=", 1)[1].strip()


def replace_peer_key(text, old, new):
    """The wg-quick text with the ``PublicKey = old`` line naming ``new`` (exactly one such line)."""
    if not (is_valid_key(old) and is_valid_key(new)):
        raise ValueError("public keys must be canonical WireGuard keys")
    return _replace_value(text, "PublicKey", old, new, "peer %s" % old)


def replace_private_key(text, private_key):
    """The wg-quick text with its one ``PrivateKey`` line holding ``private_key`` (never in a message)."""
    if not is_valid_key(private_key):
        raise ValueError("the new private key is not a valid WireGuard key")
    return _replace_value(text, "PrivateKey", None, private_key, "[Interface]")
