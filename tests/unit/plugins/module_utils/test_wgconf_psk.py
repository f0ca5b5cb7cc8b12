# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preshared keys in wg-quick texts: insertion, masking, syncconf text, running drift."""
from __future__ import annotations

import pytest


from ansible_collections.netfleet.wireguard.plugins.module_utils import _wgconf as w
from ansible_collections.netfleet.wireguard.plugins.module_utils._wgkey import encode_key

from wgkeys import noncanonical
from wgkeys import public_of_raw as public_of


PRIV = encode_key(bytes(range(1, 33)))
K1 = public_of(b"\x01" * 32)
K2 = public_of(b"\x02" * 32)
K3 = public_of(b"\x03" * 32)
PSK1 = encode_key(b"\x07" * 32)
PSK2 = encode_key(b"\x08" * 32)
ZERO = "A" * 43 + "="

TEXT = f"""[Interface]
Address = 10.0.0.1/24

# one
[Peer]
PublicKey = {K1}
AllowedIPs = 10.0.0.2/32

# two
[Peer]
# a comment inside the block
PublicKey = {K2}
AllowedIPs = 10.0.0.3/32
Endpoint = 198.51.100.7:51820
"""


def psk_lines(text):
    """[(public key of the block, preshared key)] in file order."""
    out, current = [], None
    for line in text.splitlines():
        if line.startswith("PublicKey = "):
            current = line.split(" = ", 1)[1]
        if line.startswith("PresharedKey = "):
            out.append((current, line.split(" = ", 1)[1]))
    return out


@pytest.mark.parametrize("keys,expected", [
    ({}, []),
    ({K1: PSK1}, [(K1, PSK1)]),
    ({K2: PSK2}, [(K2, PSK2)]),
    ({K2: PSK2, K1: PSK1}, [(K1, PSK1), (K2, PSK2)]),
])
def test_insert_preshared_keys_truth_table(keys, expected):
    out = w.insert_preshared_keys(TEXT, keys)
    assert psk_lines(out) == expected
    # nothing else moved: removing the inserted lines gives the input back
    assert "\n".join(line for line in out.splitlines() if not line.startswith("PresharedKey")) + "\n" == TEXT
    cfg = w.parse(out)
    assert {p.public_key: p.preshared_key for p in cfg.peers} == {K1: dict(expected).get(K1), K2: dict(expected).get(K2)}


def test_insert_preshared_key_goes_right_after_public_key():
    lines = w.insert_preshared_keys(TEXT, {K2: PSK2}).splitlines()
    assert lines[lines.index("PublicKey = " + K2) + 1] == "PresharedKey = " + PSK2


def test_insert_preshared_keys_with_private_key_roundtrip():
    text = w.insert_preshared_keys(w.insert_private_key(TEXT, PRIV), {K1: PSK1})
    cfg = w.parse(text)
    assert cfg.private_key == PRIV and cfg.peers[0].preshared_key == PSK1 and cfg.peers[1].preshared_key is None


@pytest.mark.parametrize("text,keys,msg", [
    (TEXT, {K3: PSK1}, "no [Peer] with PublicKey " + K3),
    (TEXT, {K1: "not-a-key"}, "preshared key for peer %s is not a valid key" % K1),
    (TEXT, {K1: noncanonical(PSK1)}, "preshared key for peer %s is not a valid key" % K1),
    # keys come in canonical (wireguard_apply reads files with _psk.normalise); file text is refused
    (TEXT, {K1: PSK1 + "\n"}, "preshared key for peer %s is not a valid key" % K1),
    (TEXT.replace("AllowedIPs = 10.0.0.2/32", "PresharedKey = %s\nAllowedIPs = 10.0.0.2/32" % PSK2), {K1: PSK1},
     "already has a PresharedKey"),
    (TEXT + f"\n[Peer]\nPublicKey = {K1}\n", {K1: PSK1}, "appears twice"),
    ("[Interface]\nPublicKey = %s\n" % K1, {K1: PSK1}, "no [Peer]"),
])
def test_insert_preshared_keys_errors_never_echo_a_key(text, keys, msg):
    with pytest.raises(ValueError) as err:
        w.insert_preshared_keys(text, keys)
    assert msg in str(err.value)
    assert PSK1 not in str(err.value) and PSK2 not in str(err.value) and noncanonical(PSK1) not in str(err.value)


@pytest.mark.parametrize("line,masked", [
    ("PresharedKey = " + PSK1, "PresharedKey = <redacted>"),
    ("presharedkey=" + PSK1, "PresharedKey = <redacted>"),
    ("  PresharedKey   =   " + PSK1, "  PresharedKey = <redacted>"),
    ("PrivateKey = " + PRIV, "PrivateKey = <redacted>"),
    ("PublicKey = " + K1, "PublicKey = " + K1),
    ("# PresharedKey: set on the hosts", "# PresharedKey: set on the hosts"),
])
def test_mask_secrets_truth_table(line, masked):
    assert w.mask_secrets(line + "\n") == masked + "\n"


def test_masked_diff_of_a_full_file_holds_no_secret():
    text = w.insert_preshared_keys(w.insert_private_key(TEXT, PRIV), {K1: PSK1, K2: PSK2})
    masked = w.mask_secrets(text)
    for secret in (PRIV, PSK1, PSK2):
        assert secret not in masked
    assert masked.count("<redacted>") == 3 and len(masked.splitlines()) == len(text.splitlines())


def test_zero_preshared_key_means_none():
    cfg = w.parse(TEXT.replace("AllowedIPs = 10.0.0.2/32", "PresharedKey = %s\nAllowedIPs = 10.0.0.2/32" % ZERO))
    assert cfg.peers[0].preshared_key is None


def test_strip_names_a_preshared_key_for_every_peer():
    """wg syncconf keeps a running preshared key the text does not name: peers without one get zeros."""
    cfg = w.parse(w.insert_preshared_keys(w.insert_private_key(TEXT, PRIV), {K2: PSK2}))
    stripped = w.strip(cfg)
    assert psk_lines(stripped) == [(K1, ZERO), (K2, PSK2)]
    assert [p.comparable() for p in w.parse(stripped).peers] == [p.comparable() for p in cfg.peers]


def dump(psk1="(none)", psk2="(none)"):
    return (f"{PRIV}\t{public_of(bytes(range(1, 33)))}\t0\toff\n"
            f"{K1}\t{psk1}\t(none)\t10.0.0.2/32\t0\t0\t0\toff\n"
            f"{K2}\t{psk2}\t198.51.100.7:51820\t10.0.0.3/32\t0\t0\t0\toff\n")


# (keys in the config, running psk of K1, running psk of K2) -> peers whose preshared key differs
@pytest.mark.parametrize("keys,run1,run2,updated", [
    ({}, "(none)", "(none)", []),
    ({K1: PSK1}, PSK1, "(none)", []),
    ({K1: PSK1}, "(none)", "(none)", [K1]),          # new PSK
    ({K1: PSK1}, PSK2, "(none)", [K1]),              # changed PSK
    ({}, PSK1, "(none)", [K1]),                      # PSK no longer wanted
    ({K1: PSK1, K2: PSK2}, PSK1, PSK1, [K2]),
])
def test_running_drift_compares_preshared_keys(keys, run1, run2, updated):
    cfg = w.parse(w.insert_preshared_keys(TEXT, keys))
    state = w.parse_dump(dump(run1, run2))
    assert w.running_drift(cfg, state) == {"added": [], "removed": [], "updated": updated}


def test_preshared_key_change_is_live_not_a_restart():
    old = w.parse(w.insert_preshared_keys(w.insert_private_key(TEXT, PRIV), {K1: PSK1}))
    new = w.parse(w.insert_preshared_keys(w.insert_private_key(TEXT, PRIV), {K1: PSK2}))
    gone = w.parse(w.insert_private_key(TEXT, PRIV))
    assert w.restart_reasons(old, new) == [] and w.restart_reasons(old, gone) == []
    assert w.diff_peers(old, new)["updated"] == [K1] and w.diff_peers(old, gone)["updated"] == [K1]
