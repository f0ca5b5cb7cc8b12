# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parse, compare and transform wg-quick configuration files (no I/O, no ansible imports).

The functions here decide how a new configuration can be applied to a running interface:
live (only the peers that differ, plus route changes) when only peers change, or by restarting
the interface when a setting only ``wg-quick`` understands changes. They also mask secrets for
diffs and build the text ``wg syncconf`` (rollback) and ``wg addconf`` (live apply) read.

Secrets (``PrivateKey``, ``PresharedKey``) are never part of an exception message.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

from ._wgkey import is_valid_key

# canonical spelling of every key, looked up in lower case (wg itself is case-insensitive)
_INTERFACE_WG = {"privatekey": "PrivateKey", "listenport": "ListenPort", "fwmark": "FwMark"}
_INTERFACE_QUICK = {
    "address": "Address", "dns": "DNS", "mtu": "MTU", "table": "Table",
    "preup": "PreUp", "predown": "PreDown", "postup": "PostUp", "postdown": "PostDown",
    "saveconfig": "SaveConfig",
}
_PEER = {
    "publickey": "PublicKey", "presharedkey": "PresharedKey", "allowedips": "AllowedIPs",
    "endpoint": "Endpoint", "persistentkeepalive": "PersistentKeepalive",
}
SECRET_KEYS = ("PrivateKey", "PresharedKey")
MASK = "<redacted>"
# an all-zero preshared key is WireGuard's "no preshared key" (`wg show` prints "(none)")
NO_PRESHARED_KEY = "A" * 43 + "="
_SECTION_RE = re.compile(r"^\[(?P<name>[^\]]*)\]$")


@dataclass
class Peer:
    public_key: str
    allowed_ips: tuple = ()
    endpoint: str | None = None
    persistent_keepalive: int | None = None
    preshared_key: str | None = field(default=None, repr=False)
    name: str | None = None

    def comparable(self) -> tuple:
        return (self.public_key, tuple(sorted(self.allowed_ips)), self.endpoint,
                self.persistent_keepalive, self.preshared_key)


@dataclass
class WgConfig:
    interface: dict = field(default_factory=dict)   # canonical key -> list of values, in file order
    peers: list = field(default_factory=list)

    @property
    def private_key(self) -> str | None:
        values = self.interface.get("PrivateKey")
        return values[-1] if values else None

    def quick_settings(self) -> dict:
        """Everything in [Interface] except the private key, for comparisons."""
        return {k: list(v) for k, v in self.interface.items() if k != "PrivateKey"}

    @property
    def table(self) -> str:
        values = self.interface.get("Table")
        return values[-1].strip() if values else "auto"

    def peer_map(self) -> dict:
        return {p.public_key: p for p in self.peers}


def _split_list(value: str) -> list:
    return [item.strip() for item in value.split(",") if item.strip()]


def normalise_prefix(text: str) -> str:
    """Normalise an AllowedIPs entry the way the kernel stores it (host bits cleared)."""
    text = text.strip()
    try:
        if "/" not in text:
            net = ipaddress.ip_network(text)
        else:
            net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise ValueError("AllowedIPs entry %r is not an IP prefix" % text) from None
    return str(net)


def _strip_comment(line: str) -> str:
    # wg-quick cuts every line at the first '#'
    return line.split("#", 1)[0].strip()


def parse(text: str) -> WgConfig:
    """Parse wg-quick configuration text; raise ValueError on anything wg-quick/wg would reject."""
    cfg = WgConfig()
    section = None
    current: dict | None = None
    last_comment = None
    raw_peers: list = []
    seen_interface = False
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if stripped.startswith("#"):
            last_comment = stripped[1:].strip() or None
            continue
        line = _strip_comment(raw)
        if not line:
            continue
        m = _SECTION_RE.match(line)
        if m:
            name = m.group("name").strip().lower()
            if name == "interface":
                if seen_interface:
                    raise ValueError("line %d: a second [Interface] section" % number)
                seen_interface = True
                section = "interface"
            elif name == "peer":
                section = "peer"
                current = {"name": last_comment}
                raw_peers.append((number, current))
            else:
                raise ValueError("line %d: unknown section [%s]" % (number, m.group("name")))
            last_comment = None
            continue
        last_comment = None
        if "=" not in line:
            raise ValueError("line %d: expected 'Key = value'" % number)
        key, value = line.split("=", 1)
        key = key.strip()
        value = value.strip()
        lkey = key.lower()
        if section is None:
            raise ValueError("line %d: %s outside of a section" % (number, key))
        if section == "interface":
            canon = _INTERFACE_WG.get(lkey) or _INTERFACE_QUICK.get(lkey)
            if canon is None:
                raise ValueError("line %d: unknown [Interface] key %s" % (number, key))
            cfg.interface.setdefault(canon, []).append(value)
        else:
            canon = _PEER.get(lkey)
            if canon is None:
                raise ValueError("line %d: unknown [Peer] key %s" % (number, key))
            if canon == "AllowedIPs":
                current.setdefault("AllowedIPs", []).extend(_split_list(value))
            else:
                current[canon] = value
    if not seen_interface:
        raise ValueError("no [Interface] section")
    seen = set()
    for number, data in raw_peers:
        pk = data.get("PublicKey")
        if not pk:
            raise ValueError("[Peer] at line %d has no PublicKey" % number)
        if not is_valid_key(pk):
            raise ValueError("[Peer] at line %d: PublicKey is not a valid WireGuard key" % number)
        if pk in seen:
            raise ValueError("[Peer] at line %d: duplicate PublicKey %s" % (number, pk))
        seen.add(pk)
        psk = data.get("PresharedKey")
        if psk is not None and not is_valid_key(psk):
            raise ValueError("[Peer] at line %d: PresharedKey is not a valid key" % number)
        if psk == NO_PRESHARED_KEY:
            psk = None
        keepalive = data.get("PersistentKeepalive")
        if keepalive is not None:
            if keepalive.lower() == "off":
                keepalive = None
            else:
                try:
                    keepalive = int(keepalive)
                except ValueError:
                    raise ValueError("[Peer] at line %d: PersistentKeepalive must be a number" % number) from None
                if not 0 <= keepalive <= 65535:
                    raise ValueError("[Peer] at line %d: PersistentKeepalive out of range" % number)
                keepalive = keepalive or None
        prefixes = [normalise_prefix(p) for p in data.get("AllowedIPs", [])]
        cfg.peers.append(Peer(
            public_key=pk, allowed_ips=tuple(dict.fromkeys(prefixes)), endpoint=data.get("Endpoint") or None,
            persistent_keepalive=keepalive, preshared_key=psk, name=data.get("name"),
        ))
    pkey = cfg.interface.get("PrivateKey")
    if pkey and not is_valid_key(pkey[-1]):
        raise ValueError("[Interface] PrivateKey is not a valid WireGuard key")
    return cfg


def insert_private_key(text: str, private_key: str) -> str:
    """Return ``text`` with ``PrivateKey = <key>`` as first line of the [Interface] section."""
    lines = text.splitlines()
    out = []
    inserted = False
    for line in lines:
        out.append(line)
        if not inserted and _SECTION_RE.match(_strip_comment(line) or "-") and \
                _strip_comment(line)[1:-1].strip().lower() == "interface":
            out.append("PrivateKey = %s" % private_key)
            inserted = True
    if not inserted:
        raise ValueError("no [Interface] section to put the private key in")
    return "\n".join(out) + "\n"


def _peer_key_of(line: str) -> str | None:
    """The value of a ``PublicKey = ...`` line, else None."""
    content = _strip_comment(line)
    if "=" not in content:
        return None
    key, value = content.split("=", 1)
    return value.strip() if key.strip().lower() == "publickey" else None


def insert_preshared_keys(text: str, preshared_keys: dict) -> str:
    """Return ``text`` with ``PresharedKey = <psk>`` after the PublicKey line of each peer in the map.

    ``preshared_keys`` maps a peer's public key to its preshared key. ValueError (naming the public
    key, never the preshared key) when a peer is missing or appears twice, when its block already
    has a PresharedKey line, or when a preshared key is malformed.
    """
    for public_key, psk in preshared_keys.items():
        if not is_valid_key(psk):
            raise ValueError("the preshared key for peer %s is not a valid key" % public_key)
    # split into blocks: the lines before the first section header, then one block per section
    blocks: list = [[None, []]]
    for line in text.splitlines():
        content = _strip_comment(line)
        m = _SECTION_RE.match(content) if content else None
        if m:
            blocks.append([m.group("name").strip().lower(), []])
        blocks[-1][1].append(line)
    out = []
    done = set()
    for section, lines in blocks:
        target = None
        if section == "peer":
            keys = [k for k in map(_peer_key_of, lines) if k is not None]
            target = keys[-1] if keys and keys[-1] in preshared_keys else None
        if target is None:
            out.extend(lines)
            continue
        if target in done:
            raise ValueError("peer %s appears twice" % target)
        if any(_strip_comment(line).split("=", 1)[0].strip().lower() == "presharedkey" for line in lines):
            raise ValueError("peer %s already has a PresharedKey line" % target)
        for line in lines:
            out.append(line)
            if target not in done and _peer_key_of(line) == target:
                out.append("PresharedKey = %s" % preshared_keys[target].strip())
                done.add(target)
    missing = sorted(set(preshared_keys) - done)
    if missing:
        raise ValueError("no [Peer] with PublicKey %s to put a preshared key in" % ", ".join(missing))
    return "\n".join(out) + "\n"


def mask_secrets(text: str) -> str:
    """Replace the values of PrivateKey and PresharedKey lines by a placeholder."""
    out = []
    for line in text.splitlines(keepends=True):
        key = line.split("=", 1)[0].strip().lower() if "=" in line else ""
        if key in ("privatekey", "presharedkey"):
            ending = "\n" if line.endswith("\n") else ""
            indent = line[:len(line) - len(line.lstrip())]
            out.append("%s%s = %s%s" % (indent, _INTERFACE_WG.get(key) or _PEER[key], MASK, ending))
        else:
            out.append(line)
    return "".join(out)


def _peer_lines(peer: Peer) -> list:
    """A [Peer] section as ``wg setconf/addconf`` reads it. A peer without a preshared key gets an
    explicit all-zero one and one without a keepalive ``off``: ``wg`` only changes what the text
    names, so this is what removes them from a running peer."""
    lines = ["", "[Peer]", "PublicKey = %s" % peer.public_key,
             "PresharedKey = %s" % (peer.preshared_key or NO_PRESHARED_KEY)]
    if peer.allowed_ips:
        lines.append("AllowedIPs = %s" % ", ".join(peer.allowed_ips))
    if peer.endpoint:
        lines.append("Endpoint = %s" % peer.endpoint)
    # like the preshared key: wg keeps a running keepalive the text does not name
    lines.append("PersistentKeepalive = %s" % (peer.persistent_keepalive or "off"))
    return lines


def strip(cfg: WgConfig) -> str:
    """The part of a configuration that ``wg setconf/syncconf`` understands (like ``wg-quick strip``)."""
    lines = ["[Interface]"]
    for key in ("PrivateKey", "ListenPort", "FwMark"):
        for value in cfg.interface.get(key, []):
            lines.append("%s = %s" % (key, value))
    for peer in cfg.peers:
        lines.extend(_peer_lines(peer))
    return "\n".join(lines) + "\n"


def _fwmark(value) -> int:
    """0 for off/none, else the mark as a number (the file may say 0x.. or decimal)."""
    if value in (None, "", "off"):
        return 0
    return int(str(value), 0)


def live_changes(old: WgConfig | None, new: WgConfig, state: dict) -> dict:
    """What a live apply sends to the running interface ``state`` (``parse_dump``) to get ``new``:
    ``{"addconf": text or None, "remove": [public keys], "peers": {"added", "removed", "updated"}}``,
    the last for the report (public keys, no secret).

    Only the peers that differ are named: those the running state lacks or runs differently, and
    those whose lines changed between the files (an Endpoint given as a DNS name is only re-read
    then; without an old file, every peer). The interface's private key and listen port are never sent (a live apply only happens
    when they match): ``wg syncconf`` always sets the listen port, and wireguard-go re-opens its UDP
    socket whenever it is set, which drops packets of every tunnel on the interface.
    """
    drift = running_drift(new, state)
    files = diff_peers(old, new)
    # without the old file nothing tells which running peer came from where: all are re-sent
    from_files = set(files["updated"]) if old is not None else set(new.peer_map())
    updated = (set(drift["updated"]) | from_files) - set(drift["added"])
    changed = set(drift["added"]) | updated
    lines = ["[Interface]"]
    marks = new.interface.get("FwMark")
    if marks and _fwmark(marks[-1]) != _fwmark(state.get("fwmark")):
        lines.append("FwMark = %s" % marks[-1])
    for peer in new.peers:
        if peer.public_key in changed:
            lines.extend(_peer_lines(peer))
    return {"addconf": "\n".join(lines) + "\n" if len(lines) > 1 else None, "remove": drift["removed"],
            "peers": dict(drift, updated=sorted(updated))}


def diff_peers(old: WgConfig | None, new: WgConfig) -> dict:
    """Public keys of peers added, removed and updated between two configurations."""
    before = old.peer_map() if old else {}
    after = new.peer_map()
    return {
        "added": sorted(k for k in after if k not in before),
        "removed": sorted(k for k in before if k not in after),
        "updated": sorted(k for k in after if k in before and after[k].comparable() != before[k].comparable()),
    }


def _is_default(prefix: str) -> bool:
    return prefix.endswith("/0")


def route_prefixes(cfg: WgConfig) -> set:
    """Prefixes wg-quick routes through the interface as plain routes (no /0 unless a Table is set)."""
    table = cfg.table.lower()
    if table == "off":
        return set()
    prefixes = {p for peer in cfg.peers for p in peer.allowed_ips}
    if table == "auto":
        prefixes = {p for p in prefixes if not _is_default(p)}
    return prefixes


def default_routes(cfg: WgConfig) -> set:
    """The /0 prefixes wg-quick handles with policy routing (Table auto only)."""
    if cfg.table.lower() != "auto":
        return set()
    return {p for peer in cfg.peers for p in peer.allowed_ips if _is_default(p)}


def restart_reasons(old: WgConfig | None, new: WgConfig) -> list:
    """Why a running interface with configuration ``old`` must be restarted to get ``new``.

    An empty list means the change (if any) can be applied live.
    """
    if old is None:
        return ["no previous configuration"]
    reasons = []
    before = old.quick_settings()
    after = new.quick_settings()
    for key in sorted(set(before) | set(after)):
        if before.get(key, []) != after.get(key, []):
            reasons.append("%s changed" % key)
    if old.private_key != new.private_key:
        reasons.append("PrivateKey changed")
    if default_routes(old) != default_routes(new):
        reasons.append("default route (/0 in AllowedIPs) changed")
    return reasons


def route_table(cfg: WgConfig) -> str | None:
    """Routing table for peer routes: 'main', a table name/number, or None when Table = off."""
    table = cfg.table.lower()
    if table == "off":
        return None
    if table == "auto":
        return "main"
    return cfg.table


# ---------------------------------------------------------------- running state (wg show dump)

def _dump_int(value: str, what: str) -> int:
    """A non-negative integer field of a dump; the message names the field, never a dump value."""
    if not re.fullmatch(r"[0-9]+", value):
        raise ValueError("unexpected wg dump %s (not a non-negative integer)" % what)
    return int(value)


def parse_dump(text: str) -> dict:
    """Parse ``wg show <if> dump`` output.

    The first line carries the private key: it is dropped here and never stored.
    Returns ``{"public_key", "listen_port", "fwmark", "peers": {pubkey: {...}}}``; each peer has
    ``preshared_key``, ``endpoint``, ``allowed_ips``, ``persistent_keepalive``, ``latest_handshake``
    (unix seconds, None when never), ``transfer_rx`` and ``transfer_tx`` (bytes).
    """
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise ValueError("empty wg dump")
    head = lines[0].split("\t")
    if len(head) != 4:
        raise ValueError("unexpected wg dump interface line (%d fields)" % len(head))
    state = {
        "public_key": head[1],
        "listen_port": None if head[2] in ("0", "") else _dump_int(head[2], "listen port"),
        "fwmark": None if head[3] in ("off", "0", "") else head[3],
        "peers": {},
    }
    for line in lines[1:]:
        f = line.split("\t")
        if len(f) != 8:
            raise ValueError("unexpected wg dump peer line (%d fields)" % len(f))
        allowed = () if f[3] in ("(none)", "") else tuple(normalise_prefix(p) for p in f[3].split(","))
        state["peers"][f[0]] = {
            "preshared_key": None if f[1] == "(none)" else f[1],
            "endpoint": None if f[2] == "(none)" else f[2],
            "allowed_ips": allowed,
            "persistent_keepalive": None if f[7] in ("off", "0") else _dump_int(f[7], "persistent keepalive"),
            "latest_handshake": _dump_int(f[4], "latest handshake") or None,
            "transfer_rx": _dump_int(f[5], "transfer rx"),
            "transfer_tx": _dump_int(f[6], "transfer tx"),
        }
    return state


def _literal_endpoint(endpoint: str | None) -> str | None:
    """Normalised ``ip:port`` when the endpoint's host is an IP literal, else None (DNS names)."""
    if not endpoint:
        return None
    m = re.match(r"^\[(?P<h6>[^\]]+)\]:(?P<p6>\d+)$|^(?P<h4>[^:]+):(?P<p4>\d+)$", endpoint.strip())
    if not m:
        return None
    host = m.group("h6") or m.group("h4")
    port = m.group("p6") or m.group("p4")
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        return None
    if addr.version == 6:
        return "[%s]:%s" % (addr.compressed, port)
    return "%s:%s" % (addr, port)


def running_drift(cfg: WgConfig, state: dict) -> dict:
    """Peers whose running state differs from ``cfg``: ``{"added": [...], "removed": [...], "updated": [...]}``.

    'added' = configured but not running, 'removed' = running but not configured. Endpoints are only
    compared when configured as an IP literal (a DNS name resolves, a roaming peer moves).
    """
    running = state.get("peers", {})
    wanted = cfg.peer_map()
    updated = []
    for key, peer in wanted.items():
        if key not in running:
            continue
        run = running[key]
        if set(run["allowed_ips"]) != set(peer.allowed_ips) \
                or run["persistent_keepalive"] != peer.persistent_keepalive \
                or run["preshared_key"] != peer.preshared_key:
            updated.append(key)
            continue
        literal = _literal_endpoint(peer.endpoint)
        if literal is not None and _literal_endpoint(run["endpoint"]) != literal:
            updated.append(key)
    return {
        "added": sorted(k for k in wanted if k not in running),
        "removed": sorted(k for k in running if k not in wanted),
        "updated": sorted(updated),
    }


def interface_drift(cfg: WgConfig, state: dict, public_key: str) -> list:
    """Differences of the running interface (key, port) that need a restart."""
    reasons = []
    if state.get("public_key") != public_key:
        reasons.append("running public key differs from the key file")
    ports = cfg.interface.get("ListenPort")
    if ports and state.get("listen_port") != int(ports[-1]):
        reasons.append("running listen port differs")
    return reasons
