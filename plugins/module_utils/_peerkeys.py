# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Join a host's planned peers with the known public keys (pure logic, raises ValueError)."""

from __future__ import annotations

import base64
import hashlib

from ._wgkey import is_valid_key


def placeholder_key(name):
    """Stand-in public key for a peer whose key pair does not exist yet (check mode preview).

    Valid WireGuard key syntax, different per peer name, and never a real host's key.
    """
    digest = hashlib.sha256(("netfleet.wireguard placeholder public key of %s" % name).encode("utf-8")).digest()
    return base64.b64encode(digest).decode("ascii")


def join_peer_keys(peers, keys, host="this host", pending=()):
    """Return copies of ``peers`` with ``public_key`` filled from ``keys`` (peer name -> key).

    A peer's own non-empty ``public_key`` (external peers) wins. A peer named in ``pending`` whose
    key is not known yet (its host creates it on the first real run) gets ``placeholder_key`` and
    ``pending: true``, so check mode can preview the rest of the configuration. Raises ValueError
    naming the host and every other peer without a usable key.
    """
    if not isinstance(peers, (list, tuple)):
        raise ValueError("%s: peers must be a list" % host)
    keys = keys or {}
    if not isinstance(keys, dict):
        raise ValueError("%s: the public key map must be a dict" % host)
    out, missing, invalid = [], [], []
    for peer in peers:
        if not isinstance(peer, dict) or "name" not in peer:
            raise ValueError("%s: every peer needs a name" % host)
        key = peer.get("public_key") or keys.get(peer["name"])
        if not key and peer["name"] in pending:
            joined = dict(peer, public_key=placeholder_key(peer["name"]), pending=True)
            out.append(joined)
            continue
        if not key:
            missing.append(str(peer["name"]))
            continue
        if not is_valid_key(key):
            invalid.append(str(peer["name"]))
            continue
        joined = dict(peer)
        joined["public_key"] = key
        out.append(joined)
    problems = []
    if missing:
        problems.append("no public key known for peer(s) %s" % ", ".join(missing))
    if invalid:
        problems.append("public key of peer(s) %s is not a valid WireGuard key" % ", ".join(invalid))
    if problems:
        raise ValueError("%s: %s" % (host, "; ".join(problems)))
    return out
