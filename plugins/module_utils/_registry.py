# -*- coding: utf-8 -*-
# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller-side public-key registry: ``{interface: {host: public key}}`` in YAML.

Controller only (stdlib + PyYAML, no ansible imports, ValueError for bad input). ``update``
merges one interface's host keys under an exclusive ``fcntl`` lock on a sibling lock file and
re-reads the file inside the lock, so two runs that record different hosts at the same time
both land; the file is replaced atomically (see ``_secretfile.write_file``), never written
through a symlink.
"""

from __future__ import annotations

import os

try:
    import yaml
except ImportError:  # module_utils may be imported where PyYAML is absent; the registry is controller-only
    yaml = None

from ._paths import valid_interface
from ._secretfile import lock_file, write_file
from ._variables import HOST_NAME_RE
from ._wgkey import is_valid_key

HEADER = (
    "# WireGuard PUBLIC keys of the hosts, written by netfleet.wireguard.wireguard_keys.\n"
    "# Public keys only (no secrets): safe to commit. Layout: <interface>: {<host>: <public key>}\n"
)
# the one rule for inventory host and device names (_variables.HOST_NAME_RE): every name the plan
# accepts can be recorded (an IPv6-named host such as fd00::1, a device named bob@phone)
HOST_RE = HOST_NAME_RE


def lock_path(path):
    """The sibling lock file of a registry (hidden, next to it: same file system, same owner)."""
    return os.path.join(os.path.dirname(path) or ".", ".%s.lock" % os.path.basename(path).lstrip("."))


def load(path):
    """The registry as ``{interface: {host: key}}`` (strings); ``{}`` when the file does not exist."""
    _need_yaml()
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except FileNotFoundError:
        return {}
    except yaml.YAMLError as exc:
        raise ValueError("%s is not valid YAML: %s" % (path, str(exc).splitlines()[0])) from None
    if data is None:
        return {}
    if not isinstance(data, dict) or any(not isinstance(v or {}, dict) for v in data.values()):
        raise ValueError("%s must map interface -> {host: public key}" % path)
    return {str(iface): {str(h): str(k) for h, k in (hosts or {}).items()} for iface, hosts in data.items()}


def _need_yaml():
    if yaml is None:
        raise ValueError("the public-key registry needs PyYAML (it is read and written on the controller)")


def validate(interface, keys):
    """ValueError naming the first bad interface name, host name or key (keys are public)."""
    if not valid_interface(interface):
        raise ValueError("interface %r is not a valid interface name" % (interface,))
    if not isinstance(keys, dict):
        raise ValueError("keys must map host -> public key")
    for host, key in keys.items():
        if not isinstance(host, str) or not HOST_RE.fullmatch(host):
            raise ValueError("host name %r cannot be recorded in the registry" % (host,))
        if not is_valid_key(key):
            raise ValueError("%s: %r is not a valid WireGuard public key" % (host, key))


def merge(data, interface, keys, remove=()):
    """``(merged registry, {"added": [...], "updated": [...], "removed": [...]})``; ``data`` is not modified.

    ``remove``: names whose keys are forgotten (a revoked device: its key must not come back).
    """
    validate(interface, keys)
    # plain str (not a str subclass a caller may pass, e.g. tagged template results): safe_dump needs it
    interface, keys = str(interface), {str(h): str(k) for h, k in keys.items()}
    merged = {iface: dict(hosts) for iface, hosts in data.items()}
    current = merged.setdefault(interface, {})
    added = sorted(h for h in keys if h not in current)
    updated = sorted(h for h in keys if h in current and current[h] != keys[h])
    current.update(keys)
    removed = sorted(str(h) for h in remove if str(h) in current and str(h) not in keys)
    for host in removed:
        del current[host]
    if not current:
        del merged[interface]
    return merged, {"added": added, "updated": updated, "removed": removed}


def render(data):
    """File text: the header, then the YAML (sorted, block style, like to_nice_yaml(indent=2))."""
    _need_yaml()
    body = yaml.safe_dump(data, default_flow_style=False, sort_keys=True, indent=2, allow_unicode=False)
    return HEADER + ("" if body.strip() == "{}" else body)


def _plan(path, interface, keys, remove=()):
    """(merged, changes, new text or None when the file already holds exactly that text)."""
    merged, changes = merge(load(path), interface, keys, remove)
    text = render(merged)
    try:
        with open(path, encoding="utf-8") as handle:
            if handle.read() == text:
                text = None
    except FileNotFoundError:
        pass
    return merged, changes, text


def update(path, interface, keys, check=False, timeout=30, remove=()):
    """Merge ``keys`` (host -> public key) for ``interface`` into the registry file at ``path``.

    Returns ``(merged registry, changes, changed)``. In check mode nothing is locked or written.
    The file is re-read under the lock, so concurrent updates of different hosts all land.
    """
    validate(interface, keys)
    if check:
        merged, changes, text = _plan(path, interface, keys, remove)
        return merged, changes, text is not None
    fd = lock_file(lock_path(path), timeout, mode=0o644)
    try:
        merged, changes, text = _plan(path, interface, keys, remove)
        if text is not None:
            write_file(path, text, mode=0o644)
        return merged, changes, text is not None
    finally:
        os.close(fd)
