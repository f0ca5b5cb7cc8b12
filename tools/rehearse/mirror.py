# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The container lab that mirrors a user's inventory (pure: no podman, no Ansible).

``design(plan, variables)`` takes the plan ``wireguard_plan`` computed from the user's inventory and
each host's templated ``wireguard_*`` variables, and lays out the lab:

* one podman network ``rehearse-inet`` (10.92.0.0/24) is "the internet"; every public side sits on it
  and reaches every other one directly (a default route on the link, so any address is one ARP away);
* a host whose ``wireguard_endpoint`` is an IPv4 address keeps that address (put on its internet
  interface, or on its NAT's); an endpoint name resolves, through ``/etc/hosts`` in every container
  (podman ``--add-host``), to the lab address of the host or its NAT;
* a host with ``wireguard_behind_nat`` sits on its own carrier network behind a NAT container that
  lets nothing in but replies, and, when the host has an endpoint, the port forward to its listen port;
* every LAN of a gateway is a network with one LAN host whose default route is the gateway.

``lab_inventory`` writes the inventory ``tools/lab/up.yml`` and ``playbooks/site.yml`` run on: only
the WireGuard variables are carried over, ``ansible_*`` variables are dropped and every host gets
the podman connection to its container. ``listing_problems`` checks the inventory Ansible actually
reads from that file, so nothing of the real hosts is contacted.
"""
from __future__ import annotations

import ipaddress
import re

from ansible_collections.netfleet.wireguard.plugins.module_utils._addr import split_endpoint

LABEL = 'rehearse'
PREFIX = 'rehearse-'
PLUMBING = ipaddress.ip_network('10.92.0.0/16')
INTERNET = ipaddress.ip_network('10.92.0.0/24')
CARRIER_BASE, LAN_BASE = 10, 100          # third octet of the first carrier and LAN link network
MAX_NATS, MAX_LANS, MAX_PUBLIC = 89, 150, 240
CONNECTION = 'containers.podman.podman'
# inventory host names that become container names (podman: [a-zA-Z0-9][a-zA-Z0-9_.-]*)
NAME_RE = re.compile(r'[A-Za-z0-9][A-Za-z0-9_.-]{0,40}')
# variables the lab replaces: the registry goes to the rehearsal's temporary folder, the lab makes
# its own keys, containers have no interface named like the real machine's, site.yml names the group
DROPPED = {
    'wireguard_key_registry': None,
    'wireguard_public_key': 'the lab hosts make their own key pairs',
    'wireguard_egress_interface': 'the lab NATs out of the default-route interface instead',
    'wireguard_network_group': None,
    'wireguard_client_dir': None,
    'wireguard_render_dir': None,
}


def container_name(host):
    """``rehearse-<host>``; a name that cannot be a container name is refused, naming the host."""
    if not isinstance(host, str) or not NAME_RE.fullmatch(host):
        raise ValueError('%r: inventory host name not rehearsed: a lab container name takes 1-41 of '
                         'A-Z a-z 0-9 _ . - and starts with a letter or digit' % (host,))
    return PREFIX + host


def public_endpoint(host, value):
    """``(name or None, IPv4 address or None, port or None)`` of a host's wireguard_endpoint."""
    if value in (None, ''):
        return None, None, None
    if not isinstance(value, str) or value != value.strip():
        raise ValueError('%s: wireguard_endpoint: %r: not a plain name or address' % (host, value))
    try:
        name, port, ip = split_endpoint(value)
    except ValueError as exc:
        raise ValueError('%s: wireguard_endpoint: %s' % (host, exc)) from None
    if ip is None:
        return name, None, port
    if ip.version == 6:
        raise ValueError('%s: wireguard_endpoint: %s: IPv6 endpoint addresses are not mirrored by the '
                         'rehearsal (give a DNS name or an IPv4 address)' % (host, value))
    if ip in PLUMBING or not ip.is_global and not ip.is_private or ip.is_loopback or ip.is_link_local \
            or ip.is_multicast or ip.is_unspecified:
        raise ValueError('%s: wireguard_endpoint: %s cannot be mirrored: the lab uses 10.92.0.0/16 and needs a '
                         'unicast address outside it' % (host, ip))
    return None, ip, port


def lan_addresses(prefix):
    """(gateway address, LAN host address) inside a LAN prefix: the first and the last usable one;
    None for a LAN too small to hold both (a /31, /32, /127 or /128)."""
    net = ipaddress.ip_network(prefix)
    if net.num_addresses < 4:
        return None
    last = net.broadcast_address - 1 if net.version == 4 else net.network_address + 0xfe
    return net.network_address + 1, last


def _sh_rule(table, rule):
    return 'iptables -t %s -C %s 2>/dev/null || iptables -t %s -A %s' % (table, rule, table, rule)


def _iface(var, network):
    return '%s=$(ip -o -4 addr show to %s | awk \'{print $2; exit}\')' % (var, network)


# Every lab container answers ARP only for addresses of the interface asked: otherwise a host would
# answer for its tunnel address on the lab internet and a ping could bypass the tunnel.
ARP_STRICT = 'sysctl -qw net.ipv4.conf.all.arp_ignore=1'


def public_script(public_ip, own):
    """Put a host (or NAT) on the internet: its public address, a default route on the link."""
    lines = ['set -e', ARP_STRICT, _iface('inet', INTERNET)]
    if public_ip is not None:
        lines.append('ip addr replace %s/32 dev "$inet"' % public_ip)
    lines.append('ip route replace default dev "$inet" src %s' % (public_ip or own))
    return lines


def nat_script(public_ip, own, carrier, customer, forward):
    """A NAT in front of one host: SNAT out, replies back in, and the port forward ``forward``
    (public port, listen port) when the host has an endpoint."""
    source = public_ip or own
    lines = public_script(public_ip, own) + [
        _iface('priv', carrier),
        'sysctl -qw net.ipv4.ip_forward=1',
        _sh_rule('nat', 'POSTROUTING -s %s -o "$inet" -j SNAT --to-source %s' % (carrier, source)),
        _sh_rule('filter', 'FORWARD -i "$priv" -o "$inet" -j ACCEPT'),
        _sh_rule('filter', 'FORWARD -i "$inet" -o "$priv" -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT'),
    ]
    if forward is not None:
        lines += [
            _sh_rule('nat', 'PREROUTING -i "$inet" -d %s -p udp --dport %d -j DNAT --to-destination %s:%d'
                     % (source, forward[0], customer, forward[1])),
            _sh_rule('filter', 'FORWARD -i "$inet" -o "$priv" -d %s -p udp --dport %d -m conntrack --ctstate DNAT -j ACCEPT'
                     % (customer, forward[1])),
        ]
    lines.append('iptables -P FORWARD DROP')
    return lines


def _ip(address):
    return 'ip -6' if address.version == 6 else 'ip'


def _addr_line(address, plen):
    """``ip addr replace`` of a LAN address (IPv6 without duplicate detection: usable at once)."""
    return '%s addr replace %s/%d dev "$lan"%s' % (_ip(address), address, plen, ' nodad' if address.version == 6 else '')


class _Layout:
    """Addresses and names handed out while the lab is laid out."""

    def __init__(self):
        self.networks = [{'name': PREFIX + 'inet', 'subnet': str(INTERNET)}]
        self.nodes = {}          # container -> {inventory_name, networks: [(net, ip)], setup: [lines], kind}
        self.public = {}         # inventory host -> lab address its peers reach it at
        self.etc_hosts = {}      # endpoint name -> lab address
        self.lans = []
        self.notes = []
        self._next_public = 10
        self.taken_public = set()

    def internet_address(self):
        if self._next_public - 10 >= MAX_PUBLIC:
            raise ValueError('rehearsal: more than %d public sides do not fit the lab internet' % MAX_PUBLIC)
        address = INTERNET.network_address + self._next_public
        self._next_public += 1
        return address

    def node(self, container, inventory_name, kind):
        if container in self.nodes:
            raise ValueError('%s: container name %s is used twice (rename the host)' % (inventory_name, container))
        self.nodes[container] = {'inventory_name': inventory_name, 'networks': [], 'setup': [], 'kind': kind}
        return self.nodes[container]


def _public_side(layout, host, variables, entry):
    """Place a WireGuard host on the internet, directly or behind its NAT."""
    name, ip, port = public_endpoint(host, variables.get('wireguard_endpoint'))
    if ip is not None:
        if ip in layout.taken_public:
            raise ValueError('%s: wireguard_endpoint: %s is also the endpoint of another host: hosts sharing a public '
                             'address are not mirrored' % (host, ip))
        layout.taken_public.add(ip)
    container = container_name(host)
    wg = layout.node(container, host, 'wireguard')
    own = layout.internet_address()
    behind_nat = bool(variables.get('wireguard_behind_nat'))
    if behind_nat:
        index = sum(1 for n in layout.nodes.values() if n['kind'] == 'nat')
        if index >= MAX_NATS:
            raise ValueError('%s: wireguard_behind_nat: more than %d hosts behind NAT do not fit the lab' % (host, MAX_NATS))
        carrier = ipaddress.ip_network('10.92.%d.0/24' % (CARRIER_BASE + index))
        customer, router = carrier.network_address + 10, carrier.network_address + 254
        net_name = '%s%s-carrier' % (PREFIX, host)
        layout.networks.append({'name': net_name, 'subnet': str(carrier)})
        nat = layout.node(container + '-nat', container + '-nat', 'nat')
        nat['networks'] += [(PREFIX + 'inet', own), (net_name, router)]
        forward = None
        if entry.get('listen_port') is not None and (name or ip):
            forward = (port or entry['listen_port'], entry['listen_port'])
        nat['setup'] = nat_script(ip, own, carrier, customer, forward)
        wg['networks'].append((net_name, customer))
        wg['setup'] = ['set -e', ARP_STRICT, 'ip route replace default via %s' % router]
    else:
        wg['networks'].append((PREFIX + 'inet', own))
        wg['setup'] = public_script(ip, own)
    layout.public[host] = ip or own
    if name is not None:
        if name.lower() in layout.etc_hosts:
            raise ValueError('%s: wireguard_endpoint: the name %s is also the endpoint of another host: hosts sharing '
                             'a public address are not mirrored' % (host, name))
        layout.etc_hosts[name.lower()] = str(own)


def _clashes(host, entry):
    """Tunnel addresses and LANs inside the lab's own range would be routed into the lab's plumbing."""
    for var, prefixes in (('wireguard_address', entry.get('addresses') or []),
                          ('wireguard_lan_subnets', entry.get('routing', {}).get('lan_subnets') or [])):
        for prefix in prefixes:
            if ipaddress.ip_interface(prefix).network.overlaps(PLUMBING):
                raise ValueError('%s: %s: %s overlaps 10.92.0.0/16, the range the rehearsal lab uses for its own '
                                 'networks' % (host, var, prefix))


def _lan_sides(layout, host, entry):
    for prefix in entry.get('routing', {}).get('lan_subnets', []):
        pair = lan_addresses(prefix)
        if pair is None:
            layout.notes.append('%s: LAN %s not mirrored: too small for a gateway and a LAN host' % (host, prefix))
            continue
        index = len(layout.lans)
        if index >= MAX_LANS:
            raise ValueError('%s: wireguard_lan_subnets: more than %d LANs do not fit the lab' % (host, MAX_LANS))
        link = ipaddress.ip_network('10.92.%d.0/24' % (LAN_BASE + index))
        net_name = '%slan%d' % (PREFIX, index + 1)
        layout.networks.append({'name': net_name, 'subnet': str(link)})
        plen = ipaddress.ip_network(prefix).prefixlen
        gateway, lan_host = pair
        wg = layout.nodes[container_name(host)]
        wg['networks'].append((net_name, link.network_address + 10))
        wg['setup'] += [_iface('lan', link), _addr_line(gateway, plen)]
        container = '%slan%d-%s' % (PREFIX, index + 1, host)
        node = layout.node(container, container, 'lan')
        node['networks'].append((net_name, link.network_address + 20))
        node['setup'] = ['set -e', ARP_STRICT, _iface('lan', link), _addr_line(lan_host, plen),
                         '%s route replace default via %s dev "$lan"' % (_ip(gateway), gateway)]
        layout.lans.append({'gateway': host, 'prefix': str(ipaddress.ip_network(prefix)), 'gateway_address': str(gateway),
                            'address': str(lan_host), 'container': container})


def design(plan, variables):
    """The lab for ``plan`` (host -> plan entry) and ``variables`` (host -> templated wireguard_* values).

    Returns ``{networks, nodes, hosts, public, etc_hosts, lans, notes}``; ``hosts`` maps each inventory
    host to its container. Raises ValueError naming the host and variable for what cannot be mirrored.
    """
    layout = _Layout()
    for host in sorted(plan):
        _clashes(host, plan[host])
    for host in sorted(plan):
        _public_side(layout, host, variables.get(host) or {}, plan[host])
    for host in sorted(plan):
        _lan_sides(layout, host, plan[host])
        for var, why in DROPPED.items():
            if why and (variables.get(host) or {}).get(var) not in (None, '', []):
                layout.notes.append('%s: %s not used in the lab: %s' % (host, var, why))
    for node in layout.nodes.values():
        node['networks'] = [[net, str(ip)] for net, ip in node['networks']]
        node['network'] = ','.join('%s:ip=%s' % (net, ip) for net, ip in node['networks'])
    return {'networks': layout.networks, 'nodes': layout.nodes, 'hosts': {h: container_name(h) for h in sorted(plan)},
            'public': {h: str(a) for h, a in layout.public.items()}, 'etc_hosts': layout.etc_hosts,
            'lans': layout.lans, 'notes': layout.notes}


def lab_variables(values):
    """The variables a host keeps in the lab copy: its wireguard_* ones minus those the lab replaces."""
    return {k: v for k, v in sorted(values.items()) if k.startswith('wireguard_') and k not in DROPPED}


def lab_inventory(lab, variables, group='wireguard'):
    """The lab copy of the inventory (tools/lab format): every host's connection is podman to its container."""
    def host_vars(container, node, extra):
        out = dict(extra)
        out.update({'ansible_host': container, 'ansible_connection': CONNECTION,
                    'ansible_python_interpreter': '/usr/bin/python3', 'lab_network': node['network'],
                    'lab_setup': '\n'.join(node['setup']) + '\n'})
        if lab['etc_hosts']:
            out['lab_etc_hosts'] = dict(sorted(lab['etc_hosts'].items()))
        return out

    wireguard, plumbing = {}, {}
    for container, node in sorted(lab['nodes'].items()):
        if node['kind'] == 'wireguard':
            name = node['inventory_name']
            wireguard[name] = host_vars(container, node, lab_variables(variables.get(name) or {}))
        else:
            # NATs and LAN hosts only need the kernel: no systemd to boot
            plumbing[container] = host_vars(container, node, {'lab_command': 'sleep infinity'})
    return {'lab': {
        'vars': {'ansible_connection': CONNECTION, 'lab_label': LABEL, 'lab_networks': lab['networks']},
        'children': {group: {'hosts': wireguard}, 'rehearse_plumbing': {'hosts': plumbing}},
    }}


def listing_problems(listing, lab):
    """What is wrong with ``ansible-inventory --list`` of the lab copy: a host that is not a lab
    container, a connection other than podman, a container not named ``rehearse-...``."""
    hostvars = (listing.get('_meta') or {}).get('hostvars') or {}
    expected = {node['inventory_name']: container for container, node in lab['nodes'].items()}
    problems = []
    if set(hostvars) != set(expected):
        problems.append('hosts %s differ from the lab containers %s' % (sorted(hostvars), sorted(expected)))
    for host, values in sorted(hostvars.items()):
        if values.get('ansible_connection') != CONNECTION:
            problems.append('%s: ansible_connection is %r, not %s' % (host, values.get('ansible_connection'), CONNECTION))
        target = values.get('ansible_host')
        if target != expected.get(host) or not str(target).startswith(PREFIX):
            problems.append('%s: ansible_host is %r, not its lab container %s' % (host, target, expected.get(host)))
    return problems
