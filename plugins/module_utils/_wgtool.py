# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""WireGuard keys made and derived by the ``wg`` tool itself (no ansible import, raises ValueError).

The modules that run on a managed host use these instead of any cryptography of their own:
``wg genkey`` creates a private key, ``wg pubkey`` derives its public key reading the private key
on standard input, never from a command line. ``module`` is anything with Ansible's
``run_command(argv, data=..., check_rc=False) -> (rc, stdout, stderr)``.

Messages never contain a key.
"""

from __future__ import annotations

from ._wgkey import decode_key, encode_key

WG_MISSING = ("the wg command is not installed on this host; install wireguard-tools first: "
              "netfleet.wireguard.wireguard_install")


def _message(err, secret):
    """wg's own message (it never prints a key), with the key removed should it ever appear."""
    text = " ".join((err or "").split())[:300]
    return text.replace(secret, "<key>") if secret else text


def genkey(module, wg):
    """A new private key, canonical base64 text, from ``wg genkey`` (it only lives in this process)."""
    if not wg:
        raise ValueError(WG_MISSING)
    rc, out, err = module.run_command([wg, "genkey"], check_rc=False)
    if rc != 0:
        raise ValueError("wg genkey failed (rc %d): %s" % (rc, _message(err, (out or "").strip())))
    return encode_key(decode_key(out, "the output of wg genkey", strip=True))


def pubkey(module, wg, private_key):
    """The public key of ``private_key`` (base64 text, a file's surrounding whitespace allowed) from ``wg pubkey``.

    The key is checked first (canonical form, ValueError otherwise) and given to ``wg`` on
    standard input.
    """
    if not wg:
        raise ValueError(WG_MISSING)
    private = encode_key(decode_key(private_key, "private key", strip=True))
    rc, out, err = module.run_command([wg, "pubkey"], data=private, check_rc=False)
    if rc != 0:
        raise ValueError("wg pubkey failed (rc %d): %s" % (rc, _message(err, private)))
    return encode_key(decode_key(out, "the output of wg pubkey", strip=True))
