# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Per-pair WireGuard preshared keys: generation, fingerprints, sealing, and the per-pair decision.

Pure logic (standard library, plus the ``cryptography`` package for sealing only; no ansible
import). Errors are ValueError and their messages never contain a key.

How a preshared key (PSK) reaches the two hosts of a pair:

* each host reports, per peer, the SHA-256 fingerprint of the PSK file it holds (safe to reveal for
  a 256-bit random secret); :func:`decide` compares the two fingerprints of every pair on the
  controller, so a run where both sides agree moves nothing;
* when one side must receive a key, the other side *seals* it to the receiver's WireGuard public
  key (:func:`seal`), with a standard composition of ``cryptography`` primitives and nothing
  hand-rolled: an ephemeral X25519 key agreement with the receiver's key, HKDF-SHA256 binding a
  version label, both public keys, the interface and both host names, and ChaCha20-Poly1305 with
  that context as associated data. Only the sealed form crosses the controller; only the
  receiving host, with its WireGuard private key, can open it (:func:`unseal`).

``cryptography`` is imported when a key is sealed or opened, so fingerprints and :func:`decide`
work without it (the controller's filter and the read-only pre-flight do not need it).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import secrets

from ._wgkey import KEY_LEN, decode_key, encode_key

SUFFIX = ".psk"
SEAL_PREFIX = "nfpsk2."
# formats earlier versions produced; refused with an explanation instead of "not a sealed key"
_OLD_PREFIXES = ("nfpsk1.",)
SEAL_VERSION = b"netfleet.wireguard psk seal v2"
_TAG_LEN = 16  # Poly1305
_SEALED_LEN = KEY_LEN + KEY_LEN + _TAG_LEN  # ephemeral public key, ciphertext, tag
# one key per message (the ephemeral key is new for every seal), so one fixed nonce is safe
_NONCE = bytes(12)
CRYPTOGRAPHY_MISSING = ("python3-cryptography is needed on hosts that use preshared keys; "
                        "netfleet.wireguard.wireguard_install installs it")
# inventory names as file names: no path separator, no leading dot, nothing a shell or ls mangles
_NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:@+=-]{0,199}")


# ----------------------------------------------------------------------------- keys and files

def generate() -> str:
    """A new preshared key: 32 random bytes from the OS CSPRNG, base64 (what ``wg genpsk`` does)."""
    return encode_key(secrets.token_bytes(KEY_LEN))


def normalise(psk: str | bytes) -> str:
    """The canonical base64 form of a preshared key (surrounding whitespace, e.g. a file's newline,
    allowed); ValueError, never echoing it, when malformed or not canonical."""
    return encode_key(decode_key(psk, "preshared key", strip=True))


def is_valid(psk: object) -> bool:
    try:
        normalise(psk)  # type: ignore[arg-type]
    except ValueError:
        return False
    return True


def fingerprint(psk: str | bytes) -> str:
    """Hex SHA-256 of the 32 raw key bytes: identifies a key without revealing it."""
    return hashlib.sha256(decode_key(psk, "preshared key", strip=True)).hexdigest()


def check_name(name: object) -> str:
    """A peer (inventory) name that is safe as a file name, else ValueError."""
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise ValueError("peer name %r cannot be used as a preshared key file name (letters, digits "
                         "and _.:@+=- only, not starting with '.' or '-', at most 200 characters)" % (name,))
    return name


def file_name(peer: str) -> str:
    """File name of the PSK shared with ``peer`` (``<peer>.psk``)."""
    return check_name(peer) + SUFFIX


def peer_of(file: str) -> str | None:
    """The peer a directory entry belongs to, or None for anything that is not ``<peer>.psk``."""
    if not file.endswith(SUFFIX):
        return None
    name = file[:-len(SUFFIX)]
    return name if _NAME_RE.fullmatch(name) else None


# ----------------------------------------------------------------------------- sealing

def _crypto():
    """The ``cryptography`` names sealing uses, imported on first use; ValueError when missing."""
    try:
        from cryptography.exceptions import InvalidTag, UnsupportedAlgorithm
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import x25519
        from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF
    except ImportError:
        raise ValueError(CRYPTOGRAPHY_MISSING) from None
    return {"InvalidTag": InvalidTag, "UnsupportedAlgorithm": UnsupportedAlgorithm, "hashes": hashes,
            "serialization": serialization, "x25519": x25519, "ChaCha20Poly1305": ChaCha20Poly1305, "HKDF": HKDF}


def require_cryptography() -> None:
    """ValueError (:data:`CRYPTOGRAPHY_MISSING`) unless :func:`seal` and :func:`unseal` can work here.

    Modules call it before they change anything, so a host without the library fails cleanly.
    """
    c = _crypto()
    try:
        c["x25519"].X25519PrivateKey.generate()
        c["ChaCha20Poly1305"](bytes(KEY_LEN))
    except c["UnsupportedAlgorithm"]:
        raise ValueError("this host's cryptography/OpenSSL offers no X25519 or ChaCha20-Poly1305 (FIPS mode?), "
                         "which sealed preshared keys need") from None


def seal_context(interface: str, sender: str, receiver: str) -> bytes:
    """What a sealed key is bound to: it only opens for this interface and this ordered pair."""
    for value in (interface, sender, receiver):
        if not isinstance(value, str) or not value or "\0" in value:
            raise ValueError("interface and host names must be non-empty strings")
    return b"\0".join(v.encode("utf-8") for v in ("netfleet.wireguard psk", interface, sender, receiver))


def _raw_public(c, key) -> bytes:
    # public_bytes(Raw, Raw) rather than public_bytes_raw(): the latter needs cryptography >= 40
    return key.public_bytes(c["serialization"].Encoding.Raw, c["serialization"].PublicFormat.Raw)


def _aead(c, private, peer_public: bytes, ephemeral_pub: bytes, recipient_pub: bytes, context: bytes):
    """ChaCha20-Poly1305 keyed by HKDF-SHA256 over the X25519 shared secret of ``private`` and ``peer_public``.

    HKDF salt: the version label; info: ephemeral public key, recipient public key, then the
    context (two fixed-length fields first, so the encoding is unambiguous).
    """
    try:
        shared = private.exchange(c["x25519"].X25519PublicKey.from_public_bytes(peer_public))
    except ValueError:
        # cryptography refuses an all-zero shared secret (a low-order point)
        shared = bytes(KEY_LEN)
    if not any(shared):
        raise ValueError("the recipient public key is not usable (low-order point)")
    key = c["HKDF"](algorithm=c["hashes"].SHA256(), length=KEY_LEN, salt=SEAL_VERSION,
                    info=ephemeral_pub + recipient_pub + context).derive(shared)
    return c["ChaCha20Poly1305"](key)


def seal(psk: str, recipient_public_key: str, context: bytes, ephemeral: bytes | None = None) -> str:
    """Encrypt ``psk`` so that only the holder of ``recipient_public_key``'s private key opens it.

    Returns ``nfpsk2.`` + base64(ephemeral public key (32) || ChaCha20-Poly1305 ciphertext (32) and
    tag (16)); the associated data is ``context`` (:func:`seal_context`). A fresh ephemeral X25519
    key per call; ``ephemeral`` (32 raw bytes) is for test vectors only.
    """
    raw = decode_key(psk, "preshared key", strip=True)
    recipient = decode_key(recipient_public_key, "recipient public key", strip=True)
    if not isinstance(context, bytes) or not context:
        raise ValueError("the seal context must be non-empty bytes (seal_context)")
    c = _crypto()
    try:
        eph = (c["x25519"].X25519PrivateKey.generate() if ephemeral is None
               else c["x25519"].X25519PrivateKey.from_private_bytes(ephemeral))
        eph_pub = _raw_public(c, eph.public_key())
        sealed = _aead(c, eph, recipient, eph_pub, recipient, context).encrypt(_NONCE, raw, context)
    except c["UnsupportedAlgorithm"]:
        raise ValueError("this host's cryptography/OpenSSL offers no X25519 or ChaCha20-Poly1305") from None
    return SEAL_PREFIX + base64.b64encode(eph_pub + sealed).decode("ascii")


def unseal(sealed: str, private_key: str | bytes, context: bytes) -> str:
    """Open a key sealed by :func:`seal` with the recipient's base64 private key (file text is fine).

    ValueError when the text is malformed or in an old format, was sealed for another key or
    another context, or was altered.
    """
    if isinstance(sealed, str) and sealed.startswith(_OLD_PREFIXES):
        raise ValueError("the sealed preshared key is in the old %s format, which this version of "
                         "netfleet.wireguard no longer opens; run the sending host with the same collection "
                         "version so it seals the key again (%s)" % (sealed.split(".", 1)[0], SEAL_PREFIX.rstrip(".")))
    if not isinstance(sealed, str) or not sealed.startswith(SEAL_PREFIX):
        raise ValueError("not a sealed preshared key (expected the %s format)" % SEAL_PREFIX.rstrip("."))
    try:
        blob = base64.b64decode(sealed[len(SEAL_PREFIX):], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("sealed preshared key is not valid base64") from None
    if len(blob) != _SEALED_LEN:
        raise ValueError("sealed preshared key has the wrong length")
    if not isinstance(context, bytes) or not context:
        raise ValueError("the seal context must be non-empty bytes (seal_context)")
    raw_private = decode_key(private_key, "private key", strip=True)
    eph_pub, ciphertext = blob[:KEY_LEN], blob[KEY_LEN:]
    c = _crypto()
    try:
        priv = c["x25519"].X25519PrivateKey.from_private_bytes(raw_private)
        aead = _aead(c, priv, eph_pub, eph_pub, _raw_public(c, priv.public_key()), context)
        opened = aead.decrypt(_NONCE, ciphertext, context)
    except c["InvalidTag"]:
        raise ValueError("sealed preshared key does not authenticate: sealed for another host key, "
                         "interface or pair, or altered") from None
    except c["UnsupportedAlgorithm"]:
        raise ValueError("this host's cryptography/OpenSSL offers no X25519 or ChaCha20-Poly1305") from None
    except ValueError as exc:
        if "low-order" in str(exc):
            raise ValueError("sealed preshared key does not authenticate: its ephemeral key is not usable") from None
        raise
    return encode_key(opened)


# ----------------------------------------------------------------------------- the per-pair decision

def psk_peers(entry: dict) -> list:
    """Names of the peers of one plan entry that need a preshared key, sorted."""
    return sorted({str(p["name"]) for p in entry.get("peers") or [] if p.get("preshared_key")})


def _pairs(plan: dict) -> tuple[dict, list]:
    """{(low, high): set of hosts whose plan marks the pair}, plus errors for one-sided marks."""
    marks: dict = {}
    for host in sorted(plan):
        for peer in psk_peers(plan[host] or {}):
            marks.setdefault(tuple(sorted((host, peer))), set()).add(host)
    errors = []
    for (low, high), sides in sorted(marks.items()):
        # an external peer (in no plan) never gets a PSK; a managed peer must mark the pair too
        if len(sides) == 1 and (set((low, high)) - sides) & set(plan):
            lone = next(iter(sides))
            other = high if lone == low else low
            errors.append((lone, "wireguard_preshared_keys: the plan asks for a preshared key with %s, "
                                 "but the plan of %s does not (internal inconsistency)" % (other, other)))
    return marks, errors


def decide(plan: dict, status: dict, present: list, rotate: bool = False) -> dict:
    """Decide, for every pair with a preshared key, who keeps, sends and receives which key.

    ``plan``: host -> plan entry (``peers`` with ``name`` and ``preshared_key``).
    ``status``: host -> {peer: fingerprint or None (no valid file)} for the hosts that reported.
    ``present``: hosts taking part in this run (they can send and receive keys).
    ``rotate``: replace the key of every pair whose two hosts are present.

    Per pair (``low`` = the host whose name sorts first): both sides equal -> nothing; one side has
    a key -> it is sealed for the other; neither -> ``low`` generates it; both differ -> ``low``'s
    wins. A present host without a key whose peer is absent cannot get one: that is an error
    naming the host, the peer and ``wireguard_preshared_keys``.

    Returns ``{"hosts": {host: {"send": [peers], "regenerate": [peers], "receive": [peers]}},
    "errors": {host: [messages]}, "notes": [messages]}`` with an entry in ``hosts`` for every
    present host of the plan. ``send`` lists the peers to seal a key for (created first when
    missing), ``receive`` the peers a sealed key comes from.
    """
    present_set = set(present or [])
    status = status or {}
    hosts = {h: {"send": [], "regenerate": [], "receive": []} for h in sorted(present_set & set(plan))}
    errors: dict = {}
    notes = []
    marks, plan_errors = _pairs(plan)
    for host, message in plan_errors:
        if host in present_set:
            errors.setdefault(host, []).append("%s: %s" % (host, message))

    def fp(host, peer):
        if host not in status or status[host] is None:
            raise ValueError("%s: no preshared key status was reported for this host" % host)
        return (status[host] or {}).get(peer)

    def transfer(src, dst, regenerate=False):
        hosts[src]["send"].append(dst)
        if regenerate:
            hosts[src]["regenerate"].append(dst)
        hosts[dst]["receive"].append(src)

    for (low, high), sides in sorted(marks.items()):
        if len(sides) != 2:
            continue
        low_in, high_in = low in present_set, high in present_set
        if not low_in and not high_in:
            continue
        if low_in and high_in:
            f_low, f_high = fp(low, high), fp(high, low)
            if rotate:
                transfer(low, high, regenerate=True)
                notes.append("%s-%s: new preshared key (rotation)" % (low, high))
            elif f_low is not None and f_low == f_high:
                continue
            elif f_low is None and f_high is None:
                transfer(low, high)
                notes.append("%s-%s: new preshared key created on %s" % (low, high, low))
            elif f_high is None:
                transfer(low, high)
                notes.append("%s-%s: preshared key copied from %s to %s" % (low, high, low, high))
            elif f_low is None:
                transfer(high, low)
                notes.append("%s-%s: preshared key copied from %s to %s" % (low, high, high, low))
            else:
                transfer(low, high)
                notes.append("%s-%s: the two hosts held different preshared keys; repaired with the key of %s"
                             % (low, high, low))
            continue
        here, away = (low, high) if low_in else (high, low)
        if fp(here, away) is None:
            errors.setdefault(here, []).append(
                "%s: wireguard_preshared_keys: the pair %s-%s needs a preshared key, %s has none and %s "
                "is not in this run (--limit?), so none can be agreed. Run the play once with both hosts, or "
                "turn wireguard_preshared_keys off on both." % (here, low, high, here, away))
        elif rotate:
            notes.append("%s-%s: preshared key not rotated, %s is not in this run" % (low, high, away))
    for actions in hosts.values():
        for key in actions:
            actions[key] = sorted(actions[key])
    return {"hosts": hosts, "errors": {h: errors[h] for h in sorted(errors)}, "notes": notes}
