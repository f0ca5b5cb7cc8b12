# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_wgtool with the real `wg` binary: keys from wg genkey, public keys from wg pubkey on stdin."""
from __future__ import annotations

import base64
import shutil
import subprocess

import pytest

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import x25519

from ansible_collections.netfleet.wireguard.plugins.module_utils import _wgtool as t
from ansible_collections.netfleet.wireguard.plugins.module_utils._wgkey import is_valid_key

WG = shutil.which("wg")
needs_wg = pytest.mark.skipif(WG is None, reason="wg (wireguard-tools) is not installed; CI installs it")
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


class Runner:
    """Stands in for AnsibleModule.run_command (same signature and stdin handling) and records each call."""

    def __init__(self):
        self.calls = []

    def run_command(self, argv, data=None, check_rc=False):
        self.calls.append((list(argv), data))
        stdin = None if data is None else data + "\n"
        proc = subprocess.run(argv, input=stdin, capture_output=True, text=True, check=False)
        return proc.returncode, proc.stdout, proc.stderr


def public_of(private_b64):
    key = x25519.X25519PrivateKey.from_private_bytes(base64.b64decode(private_b64))
    return base64.b64encode(key.public_key().public_bytes(serialization.Encoding.Raw,
                                                          serialization.PublicFormat.Raw)).decode()


@needs_wg
def test_genkey_and_pubkey_agree_with_cryptography_and_keep_the_key_off_argv():
    run = Runner()
    private = t.genkey(run, WG)
    assert is_valid_key(private)
    public = t.pubkey(run, WG, private + "\n")
    assert public == public_of(private)
    assert [argv for argv, dummy in run.calls] == [[WG, "genkey"], [WG, "pubkey"]]
    assert run.calls[1][1] == private  # on standard input, canonical, without the file's newline
    assert all(private not in " ".join(argv) for argv, dummy in run.calls)


@needs_wg
def test_pubkey_of_bytes_with_surrounding_whitespace():
    private = t.genkey(Runner(), WG)
    assert t.pubkey(Runner(), WG, ("  %s \n" % private).encode()) == public_of(private)


@needs_wg
@pytest.mark.parametrize("bad", ["not-a-key-but-secret", "Q" * 43, "Q" * 42 + "R=", " " * 44, ""])
def test_pubkey_refuses_malformed_or_noncanonical_keys_before_running_wg(bad):
    run = Runner()
    with pytest.raises(ValueError, match="private key") as err:
        t.pubkey(run, WG, bad)
    assert run.calls == [] and (not bad or bad not in str(err.value))


@needs_wg
def test_wg_itself_refuses_a_noncanonical_key():
    """Why the canonical form matters: the same 32 bytes with a padding bit set are refused by wg."""
    private = t.genkey(Runner(), WG)
    bad = private[:42] + B64[B64.index(private[42]) | 1] + "="
    assert base64.b64decode(bad) == base64.b64decode(private)
    proc = subprocess.run([WG, "pubkey"], input=bad + "\n", capture_output=True, text=True, check=False)
    assert proc.returncode != 0


def test_missing_wg_points_to_the_install_role():
    for call in (lambda: t.genkey(Runner(), None), lambda: t.pubkey(Runner(), None, "A" * 43 + "=")):
        with pytest.raises(ValueError, match="install wireguard-tools first: netfleet.wireguard.wireguard_install"):
            call()


def test_wg_failures_never_echo_the_key(tmp_path):
    fake = tmp_path / "wg"
    key = "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="
    # a broken wg that prints its input (the real one never does): the message must not carry it
    fake.write_text("#!/bin/sh\nread k\necho \"broken: $k\" >&2\nexit 3\n")
    fake.chmod(0o755)
    with pytest.raises(ValueError, match=r"wg pubkey failed \(rc 3\): broken: <key>") as err:
        t.pubkey(Runner(), str(fake), key)
    assert key not in str(err.value)
    fake.write_text("#!/bin/sh\necho %s\necho 'no entropy' >&2\nexit 1\n" % key)
    with pytest.raises(ValueError, match=r"wg genkey failed \(rc 1\): no entropy") as err:
        t.genkey(Runner(), str(fake))
    assert key not in str(err.value)


def test_garbage_output_of_wg_is_refused(tmp_path):
    fake = tmp_path / "wg"
    fake.write_text("#!/bin/sh\necho garbage\n")
    fake.chmod(0o755)
    with pytest.raises(ValueError, match="the output of wg genkey"):
        t.genkey(Runner(), str(fake))
    with pytest.raises(ValueError, match="the output of wg pubkey"):
        t.pubkey(Runner(), str(fake), "A" * 43 + "=")
