# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_registry: merge, validation, atomic write under a lock; concurrent runs both land."""
from __future__ import annotations

import multiprocessing
import os

import pytest
import yaml

from ansible_collections.netfleet.wireguard.plugins.module_utils import _registry as reg
from ansible_collections.netfleet.wireguard.plugins.module_utils._secretfile import lock_file
from ansible_collections.netfleet.wireguard.plugins.module_utils._wgkey import encode_key


def key(n):
    return encode_key(bytes([n]) * 32)


def test_first_update_writes_header_and_keys(tmp_path):
    path = str(tmp_path / ".wireguard_public_keys.yml")
    merged, changes, changed = reg.update(path, "wg0", {"vps": key(1), "laptop": key(2)})
    assert changed and changes == {"added": ["laptop", "vps"], "updated": [], "removed": []}
    text = open(path).read()
    assert text.startswith(reg.HEADER) and "Public keys only" in text and "safe to commit" in text
    assert yaml.safe_load(text) == merged == {"wg0": {"vps": key(1), "laptop": key(2)}}
    assert text.index("laptop") < text.index("vps")      # sorted: stable diffs in version control
    assert oct(os.stat(path).st_mode & 0o777) == "0o644"
    assert sorted(os.listdir(tmp_path)) == [".wireguard_public_keys.yml", ".wireguard_public_keys.yml.lock"]


def test_merge_keeps_other_hosts_and_interfaces_and_is_idempotent(tmp_path):
    path = str(tmp_path / "reg.yml")
    reg.update(path, "wg0", {"a": key(1), "b": key(2)})
    reg.update(path, "wg1", {"a": key(3)})
    merged, changes, changed = reg.update(path, "wg0", {"b": key(4), "c": key(5)})
    assert changed and changes == {"added": ["c"], "updated": ["b"], "removed": []}
    assert merged == {"wg0": {"a": key(1), "b": key(4), "c": key(5)}, "wg1": {"a": key(3)}}
    before = os.stat(path)
    merged2, changes, changed = reg.update(path, "wg0", {"a": key(1)})
    assert not changed and merged2 == merged and os.stat(path).st_ino == before.st_ino


def test_registry_written_by_the_old_role_is_read(tmp_path):
    path = tmp_path / "reg.yml"
    path.write_text(reg.HEADER + "wg0:\n  a: %s\n\n" % key(1))
    assert reg.load(str(path)) == {"wg0": {"a": key(1)}}
    merged, changes, changed = reg.update(str(path), "wg0", {"a": key(1)})
    assert changes == {"added": [], "updated": [], "removed": []} and changed  # only the trailing blank line goes


def test_check_mode_writes_nothing(tmp_path):
    path = str(tmp_path / "reg.yml")
    merged, changes, changed = reg.update(path, "wg0", {"a": key(1)}, check=True)
    assert changed and merged == {"wg0": {"a": key(1)}} and os.listdir(tmp_path) == []


@pytest.mark.parametrize("interface,keys,msg", [
    ("wg0", {"a": "not-a-key"}, "not a valid WireGuard public key"),
    ("wg0", {"a": key(1)[:-2] + "B="}, "not a valid WireGuard public key"),
    ("wg0", {"../etc": key(1)}, "cannot be recorded"),
    ("wg0", {"a b": key(1)}, "cannot be recorded"),
    ("wg0", {"a\nb: x": key(1)}, "cannot be recorded"),
    ("wg0", {"-a": key(1)}, "cannot be recorded"),
    ("wg0", {"{{ lookup('pipe','id') }}": key(1)}, "cannot be recorded"),
    ("wg0/x", {"a": key(1)}, "not a valid interface name"),
    ("wg0", ["a"], "must map host"),
])
def test_bad_input_is_refused_before_the_file_is_touched(tmp_path, interface, keys, msg):
    path = tmp_path / "reg.yml"
    path.write_text(reg.HEADER + "wg0:\n  a: %s\n" % key(1))
    with pytest.raises(ValueError, match=msg):
        reg.update(str(path), interface, keys)
    assert path.read_text() == reg.HEADER + "wg0:\n  a: %s\n" % key(1)


@pytest.mark.parametrize("text", ["- a\n- b\n", "wg0: [a]\n", "wg0: {a: [\n"])
def test_a_malformed_registry_is_an_error_not_overwritten(tmp_path, text):
    path = tmp_path / "reg.yml"
    path.write_text(text)
    with pytest.raises(ValueError):
        reg.update(str(path), "wg0", {"a": key(1)})
    assert path.read_text() == text


def test_a_symlinked_registry_is_refused(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    path = tmp_path / "reg.yml"
    path.symlink_to(victim)
    with pytest.raises(ValueError):
        reg.update(str(path), "wg0", {"a": key(1)})
    assert victim.read_text() == "precious\n"


def test_the_lock_is_waited_for_then_fails_clearly(tmp_path):
    path = str(tmp_path / "reg.yml")
    fd = lock_file(reg.lock_path(path), 0)
    try:
        with pytest.raises(TimeoutError, match="another run holds the lock"):
            reg.update(path, "wg0", {"a": key(1)}, timeout=0.2)
    finally:
        os.close(fd)
    assert not os.path.exists(path)


def _writer(path, prefix, count, start):
    start.wait()
    for i in range(count):
        reg.update(path, "wg0", {"%s%d" % (prefix, i): key(i + 1)})


def test_two_processes_updating_different_hosts_both_land(tmp_path):
    """Each process re-reads inside the lock: no update is lost to a read-modify-write race."""
    path = str(tmp_path / "reg.yml")
    ctx = multiprocessing.get_context("fork")
    start = ctx.Event()
    procs = [ctx.Process(target=_writer, args=(path, prefix, 40, start)) for prefix in ("left", "right")]
    for proc in procs:
        proc.start()
    start.set()
    for proc in procs:
        proc.join(60)
        assert proc.exitcode == 0
    hosts = reg.load(path)["wg0"]
    assert len(hosts) == 80 and {"left0", "left39", "right0", "right39"} <= set(hosts)
    assert [n for n in os.listdir(tmp_path) if not n.startswith("reg.yml") and not n.startswith(".reg.yml.lock")] == []


@pytest.mark.parametrize("name", ["fd00::1", "bob@phone", "host+1", "a=b", "gw.example.org", "x" * 64])
def test_every_name_the_inventory_accepts_can_be_recorded(tmp_path, name):
    from ansible_collections.netfleet.wireguard.plugins.module_utils._variables import validate_host_name
    assert validate_host_name(name) == name
    path = str(tmp_path / ".wireguard_public_keys.yml")
    reg.update(path, "wg0", {name: key(1)})
    assert reg.load(path) == {"wg0": {name: key(1)}}
