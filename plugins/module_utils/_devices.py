# -*- coding: utf-8 -*-
# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Devices Ansible does not manage (``wireguard_external_peers``): their state and their profile.

Controller only; stdlib + cryptography (key pairs) + PyYAML (revocation file); no ansible imports,
ValueError for bad input.

* ``settle`` decides, before the plan is computed, which external peers the hub carries now:
  ``active``, ``pending`` (``key_mode: controller`` and no key pair made yet), ``revoked``
  (``playbooks/clients.yml -e state=absent``, recorded in the revocation file) or ``expired``
  (``expires`` reached, UTC). Only active devices reach the hub's plan; the others stay validated,
  so their addresses stay reserved.
* ``profile_entry`` computes a device's plan entry (same shape as a host's) from the plan; the
  one renderer (``_render.render_conf``) writes it, and ``with_private_key`` puts the device's
  private key (controller mode) or a marked place for it (device mode) into the text.
* ``generate_key_pair`` makes a WireGuard key pair with the cryptography library (X25519; the
  private key in the clamped form ``wg genkey`` prints).
"""

from __future__ import annotations

import datetime
import os

try:
    import yaml
except ImportError:  # controller-only module; PyYAML comes with ansible-core
    yaml = None

from ._addr import collapse_keys, key_str
from ._secretfile import lock_file, write_file
from ._wgkey import decode_key, encode_key

STATES = ('active', 'pending', 'revoked', 'expired')
FULL_ROUTES = ('0.0.0.0/0', '::/0')
# the two halves of each default route: more specific than /0, for clients that treat /0 as a kill switch
HALF_ROUTES = ('0.0.0.0/1', '128.0.0.0/1', '::/1', '8000::/1')
PRIVATE_KEY_MARK = '# PrivateKey = <the private key this device made; `wg genkey` or the app writes it here>'
REVOKED_HEADER = (
    "# WireGuard devices revoked with playbooks/clients.yml -e state=absent (no secrets; safe to commit).\n"
    "# Layout: <interface>: {<device>: <date revoked>}. A revoked device stays off the hub while listed.\n"
)


def today_utc():
    return datetime.datetime.now(datetime.timezone.utc).date()


# ---------------------------------------------------------------------------- state

def device_state(spec, keys, revoked, today):
    """One of STATES for an external peer ``spec`` (a _validate.HostSpec)."""
    if spec.name in revoked:
        return 'revoked'
    if spec.expires is not None and today >= spec.expires:
        return 'expired'
    if spec.key_mode == 'controller' and spec.name not in keys:
        return 'pending'
    return 'active'


def _warning(spec, state, revoked):
    where = 'wireguard_external_peers[%s]' % spec.name
    if state == 'revoked':
        return ('%s: %s: revoked on %s (playbooks/clients.yml -e state=absent); not on the hub. Delete the entry, '
                'or enrol it again with -e client=%s -e state=present' % (spec.name, where, revoked[spec.name], spec.name))
    if state == 'expired':
        return ('%s: %s.expires: expired on %s; removed from the hub. Delete the entry, or set a later date'
                % (spec.name, where, spec.expires.isoformat()))
    return ('%s: %s.key_mode: controller and no key pair yet; not on the hub until '
            '`ansible-playbook playbooks/clients.yml -e client=%s` makes it' % (spec.name, where, spec.name))


def settle(net, keys, revoked, today, warnings=None):
    """Leave the external peers that must not be on the hub now out of ``net``.

    ``keys``: device name -> public key from the key registry (controller-mode devices);
    ``revoked``: device name -> date text; ``today``: a ``datetime.date`` (UTC).
    Returns ``{name: {state, key_mode, addresses, expires}}`` for every external peer (active ones
    also ``public_key``).
    """
    report = {}
    for name in sorted(net.externals):
        spec = net.externals[name]
        state = device_state(spec, keys, revoked, today)
        report[name] = {'state': state, 'key_mode': spec.key_mode, 'addresses': list(spec.address_strs),
                        'expires': spec.expires.isoformat() if spec.expires else None}
        if state == 'active':
            if spec.key_mode == 'controller':
                spec.public_key = keys[name]
            report[name]['public_key'] = spec.public_key
            continue
        del net.externals[name]
        if warnings is not None:
            warnings.append(_warning(spec, state, revoked))
    return report


# ---------------------------------------------------------------------------- profile

def _split_keys(net, spec):
    """Split profile: the tunnel networks, every LAN of the network except the device's own, extras."""
    keys = list(net.tunnel_keys) + list(spec.extra_keys)
    for peer in net.all_peers().values():
        if peer is not spec:
            keys.extend(peer.lan_keys)
    return [key_str(k) for k in collapse_keys(keys)]


def allowed_ips(net, spec, full_default):
    """AllowedIPs of the device's one peer (the hub)."""
    full = spec.full_tunnel if spec.full_tunnel is not None else full_default
    if full:
        return list(HALF_ROUTES if spec.default_route_halves else FULL_ROUTES)
    return _split_keys(net, spec)


def profile_entry(net, spec, client_dns):
    """The device's plan entry: its addresses, DNS, MTU and one peer, the hub (or the mesh relay)."""
    hub = net.hosts[net.hub]
    dns = spec.dns if spec.dns is not None else client_dns
    return {
        'interface': net.interface,
        'topology': net.topology,
        'role': 'device',
        'addresses': list(spec.address_strs),
        'tunnel_networks': [key_str(k) for k in net.tunnel_keys],
        'listen_port': None,
        'dns': list(dns or []),
        'mtu': spec.mtu,
        'table': None,
        'hooks': None,
        'routing': {'forward_ipv4': False, 'forward_ipv6': False, 'relay': False, 'masquerade': [],
                    'forward_to_egress': False, 'lan_subnets': [], 'loose_rp_filter': False},
        'notes': [],
        'peers': [{
            'name': hub.name,
            'public_key': hub.public_key,
            'allowed_ips': allowed_ips(net, spec, net.topology == 'full_tunnel'),
            'endpoint': hub.endpoint,
            'persistent_keepalive': spec.keepalive or None,
            'preshared_key': spec.psk,
        }],
    }


def with_private_key(text, private_key=None, preshared_key=None):
    """The rendered profile with the device's private key, or the marked place for it (device mode),
    and the preshared key of its one peer when it has one."""
    line = PRIVATE_KEY_MARK if private_key is None else 'PrivateKey = %s' % private_key
    head, sep, rest = text.partition('[Interface]\n')
    if not sep:
        raise ValueError('a profile without an [Interface] section')
    if preshared_key is not None:
        before, found, after = rest.partition('\n[Peer]\n')
        key_line, newline, peer_rest = after.partition('\n')
        if not found or not key_line.startswith('PublicKey = '):
            raise ValueError('a profile without a [Peer] section')
        rest = before + found + key_line + newline + 'PresharedKey = %s\n' % preshared_key + peer_rest
    return head + sep + line + '\n' + rest


def profile_key(text, field='PrivateKey'):
    """The key a profile holds in ``field`` (``PrivateKey`` or ``PresharedKey``), or None when it has none."""
    for line in text.splitlines():
        name, sep, value = line.partition('=')
        if sep and name.strip() == field:
            decode_key(value.strip(), 'the %s of the profile' % field)   # ValueError when damaged
            return value.strip()
    return None


# ---------------------------------------------------------------------------- keys

def public_key_of(private_key):
    """The public key of a WireGuard private key (base64), with the cryptography library."""
    x25519, serialization = _x25519()
    private = x25519.X25519PrivateKey.from_private_bytes(decode_key(private_key, 'private key'))
    return encode_key(private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))


def _x25519():
    try:
        from cryptography.hazmat.primitives.asymmetric import x25519
        from cryptography.hazmat.primitives import serialization
    except ImportError:
        raise ValueError('device key pairs are made on the controller with the Python library cryptography '
                         '(it comes with ansible-core)') from None
    return x25519, serialization


def generate_key_pair():
    """``(private, public)`` in WireGuard's base64 form, made with the cryptography library."""
    _x25519()
    raw = bytearray(os.urandom(32))
    # the clamped form wg genkey prints (X25519 clamps anyway; this makes the text canonical)
    raw[0] &= 248
    raw[31] = (raw[31] & 127) | 64
    private = encode_key(bytes(raw))
    return private, public_key_of(private)


# ---------------------------------------------------------------------------- revocation file

def revoked_path(registry_path):
    """The revocation file sits next to the key registry."""
    return os.path.join(os.path.dirname(registry_path) or '.', '.wireguard_revoked_devices.yml')


def load_revoked(path):
    """``{interface: {device: date text}}``; {} when the file does not exist."""
    if yaml is None:
        raise ValueError('the revocation file needs PyYAML')
    try:
        with open(path, encoding='utf-8') as handle:
            data = yaml.safe_load(handle) or {}
    except FileNotFoundError:
        return {}
    except yaml.YAMLError as exc:
        raise ValueError('%s is not valid YAML: %s' % (path, str(exc).splitlines()[0])) from None
    if not isinstance(data, dict) or any(not isinstance(v or {}, dict) for v in data.values()):
        raise ValueError('%s must map interface -> {device: date}' % path)
    return {str(i): {str(d): str(when) for d, when in (devs or {}).items()} for i, devs in data.items()}


def update_revoked(path, interface, revoke=(), restore=(), today=None, timeout=30):
    """Add ``revoke`` and remove ``restore`` for ``interface``, under a lock; True when the file changed."""
    fd = lock_file(os.path.join(os.path.dirname(path) or '.', '.wireguard_revoked_devices.lock'), timeout, mode=0o644)
    try:
        data = load_revoked(path)
        devices = data.setdefault(str(interface), {})
        before = dict(devices)
        for name in revoke:
            devices.setdefault(str(name), (today or today_utc()).isoformat())
        for name in restore:
            devices.pop(str(name), None)
        if devices == before:
            return False
        if not devices:
            del data[str(interface)]
        body = yaml.safe_dump(data, default_flow_style=False, sort_keys=True) if data else ''
        write_file(path, REVOKED_HEADER + body, mode=0o644)
        return True
    finally:
        os.close(fd)


# ---------------------------------------------------------------------------- listing

def _age(seconds):
    if seconds is None:
        return 'never'
    for unit, size in (('d', 86400), ('h', 3600), ('min', 60)):
        if seconds >= size:
            return '%d %s ago' % (seconds // size, unit)
    return '%d s ago' % seconds


def _bytes(count):
    for unit, size in (('GiB', 1 << 30), ('MiB', 1 << 20), ('KiB', 1 << 10)):
        if count >= size:
            return '%.1f %s' % (count / size, unit)
    return '%d B' % count


def device_table(devices, peers):
    """Lines of a table of the devices (``wireguard_clients`` report) with the hub's running state
    (``wireguard_status_info`` peers): last handshake and transfer per device."""
    running = {peer['name']: peer for peer in peers or [] if peer.get('name')}
    rows = [('device', 'state', 'profile', 'address', 'expires', 'last handshake', 'received', 'sent')]
    for device in devices:
        peer = running.get(device['name'])
        rows.append((device['name'], device['state'], device.get('profile') or '-', ', '.join(device['addresses']),
                     device.get('expires') or '-',
                     _age(peer['handshake_age']) if peer else 'not on the hub',
                     _bytes(peer['transfer_rx']) if peer else '-', _bytes(peer['transfer_tx']) if peer else '-'))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ['  '.join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
