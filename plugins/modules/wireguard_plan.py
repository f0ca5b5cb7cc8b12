#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation for the netfleet.wireguard.wireguard_plan action plugin (it runs on the controller)."""

from __future__ import annotations

DOCUMENTATION = r'''
---
module: wireguard_plan
short_description: Compute and validate every host's WireGuard peers from inventory variables
version_added: 0.1.0
description:
  - Reads the C(wireguard_*) variables of every host of the network group and computes, for every
    host, its WireGuard interface and peers (AllowedIPs, Endpoint, PersistentKeepalive) and the
    routing facts (forwarding, masquerade, relay) for the full_tunnel, site_to_site, bastion and
    mesh topologies.
  - "Validates the inventory first and fails with B(all) problems at once, one
    C(host: variable: problem) line each, before any host is touched. Checked among others:
    malformed or host-bit-set prefixes, addresses outside the tunnel network, duplicate tunnel
    addresses, one prefix claimed by two peers of a host, LANs overlapping the tunnel network,
    AllowedIPs that contain the peer's own endpoint (tunnel inside the tunnel), remote prefixes
    capturing a local subnet (see C(wireguard_overlap_strategy) in the README), pairs that
    cannot handshake, IPv4-only full tunnels, invalid ports, interface names and keys."
  - Runs once on the controller (use C(run_once=true)); it never connects to a host.
  - The plan format (dict keyed by inventory hostname) is described in docs/architecture.md.
  - Optionally writes each host's configuration in wg-quick format to O(render_dir) for review.
    The rendered files never contain a private or preshared key.
author:
  - netfleet engineers (@netfleet)
options:
  group:
    description:
      - Inventory group of the network. Defaults to the variable C(wireguard_network_group), else C(wireguard).
      - With several O(groups), the plan of this group is computed with the others and checked together.
    type: str
  groups:
    description:
      - Every network group of the inventory (one network each). Defaults to the variable
        C(wireguard_network_groups), else only O(group).
      - Each network is read with the vars of its own group only (the other listed groups' vars are left
        out) and with each host's C(wireguard_networks[<group>]) host variables laid over its own.
      - With O(render_dir) and more than one group, every network is planned, the hosts in several of them
        are checked (interface, listen port, overlapping tunnel networks or routed prefixes) before anything
        is written, and every interface of every host is rendered (no C(plan.json); RV(plans) instead of RV(plan)).
      - Without O(render_dir) (C(site.yml), one play per network), RV(plan) is the plan of O(group) and
        RV(forwarding_entries) gives each host in several networks its plan entries in all of them (the
        host plan writes one sysctl file with their union). A host that leaves O(group) with
        C(wireguard_state=absent) but stays in another keeps the shared sysctl file and hardened posture
        (C(retired)).
    type: list
    elements: str
  registry:
    description:
      - "Controller-side public key registry (YAML C({interface: {host: public key}}))."
      - Read and validated on every run, returned as RV(registry) and used for rendering.
      - Defaults to C(wireguard_key_registry), else C(.wireguard_public_keys.yml) next to the inventory.
    type: path
  render_dir:
    description:
      - When set, write every file the hosts get into C(<render_dir>/<inventory_hostname>/) -
        C(<interface>.conf), and where needed C(<interface>.nft) and C(90-netfleet-wireguard.conf) - with the
        renderer the roles deploy with, so a review copy equals the deployed file apart from the
        C(PrivateKey)/C(PresharedKey) lines inserted on the host.
      - Values only a host can tell (firewall backend, egress interface) come from the inventory, from the
        host facts (O(render_host_facts)), or are assumed and named in the file's header.
      - Unknown public keys are written as a visible placeholder. Files of hosts that left the inventory
        are removed (a manifest lists what was rendered); a symlink in the folder is refused.
      - Also writes C(plan.json), the plan artifact O(plan_file) takes (no secret; sorted keys, so an
        unchanged inventory renders it byte for byte again).
    type: path
  plan_file:
    description:
      - Use the plan artifact C(plan.json) that O(render_dir) wrote (from the whole inventory) instead of
        computing the plan from the hosts this run sees, for a run that sees only a slice of the network
        (AWX job slicing). RV(plan) is then the artifact's plan of every host.
      - "Refused, with one C(host: variable: problem) line each, when it is stale: a host of the group this
        run sees is not in it or one of its C(wireguard_*) plan variables differs from what it was rendered
        from; the key registry holds another key for one of its hosts (or none); a device's state changed
        (revoked, expired, key made); the group differs; a host had no public key when it was rendered; the
        file was edited (checksum)."
      - Excludes O(render_dir).
    type: path
  render_host_facts:
    description:
      - Render each host with what it reported to M(netfleet.wireguard.wireguard_host_plan) (the variable
        C(__wireguard_host) of the host, set by an earlier task of the run), as C(render.yml) does with
        C(-e wireguard_render_host_facts=true).
    type: bool
    default: false
  play_hosts:
    description:
      - Hosts of this run. When given, fail (before any host changes) when a peer of one of them has no
        public key that this run can know - not in the registry, not pinned with C(wireguard_public_key),
        not an external peer's and not created by this run.
    type: list
    elements: str
  return_plan:
    description:
      - Return the plan in RV(plan). Set to V(false) when only rendering a large network.
    type: bool
    default: true
  fast_hostvars:
    description:
      - Read the C(wireguard_*) variables by merging the inventory sources once per distinct group
        membership (same precedence as C(hostvars)), which is much faster for large inventories.
      - Hosts whose values contain templates are always read through C(hostvars).
      - Set to V(false) to read every host through C(hostvars).
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: In check mode nothing is written to O(render_dir); the files that would change are reported.
  diff_mode:
    support: none
    description: Nothing on the managed hosts changes; rendered files are reported in RV(rendered).
  platform:
    support: full
    platforms: all
    description: Runs on the controller only.
notes:
  - Variables are documented in docs/variables.md of the collection (C(wireguard_topology), C(wireguard_hub),
    C(wireguard_address), C(wireguard_endpoint), and more). Unknown C(wireguard_*) variables are errors
    with a suggestion (C(wireguard_unknown_variables=warn) makes them warnings).
  - Fails before anything else when the controller lacks the Python library netaddr.
seealso:
  - name: Architecture and plan format
    description: docs/architecture.md in the collection.
    link: https://example.invalid/netfleet/wireguard/docs/architecture.md
'''

EXAMPLES = r'''
- name: Compute the plan once for the whole fleet
  netfleet.wireguard.wireguard_plan:
    group: wireguard
    play_hosts: "{{ ansible_play_hosts_all }}"
  run_once: true
  register: __wireguard_network

- name: Show this host's peers
  ansible.builtin.debug:
    var: __wireguard_network.plan[inventory_hostname].peers

- name: Render every file the hosts get, for review, without connecting to any host
  netfleet.wireguard.wireguard_plan:
    render_dir: /tmp/wireguard-review
    return_plan: false
  run_once: true
  delegate_to: localhost
'''

RETURN = r'''
plan:
  description:
    - Per inventory hostname, the host's interface, addresses, listen port, routing facts and peers.
  returned: success and O(return_plan=true)
  type: dict
  sample:
    laptop:
      interface: wg0
      topology: full_tunnel
      role: client
      addresses: [10.0.0.2/24]
      tunnel_networks: [10.0.0.0/24]
      listen_port: null
      dns: [1.1.1.1, 9.9.9.9]
      mtu: null
      routing:
        forward_ipv4: false
        forward_ipv6: false
        relay: false
        masquerade: []
        forward_to_egress: false
        lan_subnets: []
        loose_rp_filter: false
      peers:
        - name: vps
          public_key: null
          allowed_ips: [0.0.0.0/0, "::/0"]
          endpoint: 203.0.113.1:51820
          persistent_keepalive: 25
          preshared_key: false
plans:
  description: With several O(groups) and O(render_dir), the plan of each network group (as RV(plan)).
  returned: success, several O(groups), O(render_dir) and O(return_plan=true)
  type: dict
forwarding_entries:
  description: With several O(groups) and without O(render_dir), each host of O(group) that is in several networks
    -> its plan entries in all of them.
  returned: success, several O(groups), no O(render_dir)
  type: dict
networks:
  description: With several O(groups) and O(render_dir), the hosts of each network group.
  returned: success, several O(groups) and O(render_dir)
  type: dict
  sample: {vpn_laptops: [laptop, vps], vpn_sites: [office, vps]}
registry_path:
  description: The public key registry file read (O(registry) or its default).
  returned: success
  type: str
  sample: inventories/prod/.wireguard_public_keys.yml
registry:
  description:
    - "Content of the registry, C({interface: {host: public key}}); empty when the file does not exist."
    - A registry that is not such a mapping, or a bad key for a host of the network, fails the task.
  returned: success
  type: dict
  sample: {wg0: {vps: xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=}}
preshared_keys:
  description: Whether any pair of the network uses a preshared key (C(wireguard_preshared_keys)).
  returned: success
  type: bool
hosts:
  description: Number of hosts in the plan.
  returned: success
  type: int
  sample: 2
errors:
  description: 'Every validation problem, one C(host: variable: problem) line each.'
  returned: failure
  type: list
  elements: str
  sample: ["laptop: wireguard_address: '10.0.1.2/24' is not inside the tunnel network 10.0.0.0/24"]
timing:
  description: Seconds spent reading variables, computing the plan and rendering.
  returned: success
  type: dict
  sample: {read_vars: 0.41, plan: 2.3, render: 3.1}
public_keys_pinned:
  description: Hosts whose key is managed elsewhere (C(wireguard_public_key)), mapped to that key.
  returned: success
  type: dict
plan_file:
  description: The artifact used (O(plan_file)) and every host's public key as the plan was computed with it.
  returned: when O(plan_file) is set
  type: dict
  sample: {path: /srv/wg/render/plan.json, public_keys: {hub: "aGVsbG8gd29ybGQgaGVsbG8gd29ybGQgaGVsbG8gd28="}}
rendered:
  description: What was written when O(render_dir) is set.
  returned: when O(render_dir) is set
  type: dict
  contains:
    dir:
      description: Absolute path of the folder.
      type: str
    files:
      description: Number of files rendered.
      type: int
    changed_count:
      description: Number of files written because their content changed.
      type: int
    changed:
      description: Paths of changed files (at most 50).
      type: list
      elements: str
    removed_count:
      description: Number of files removed because their host left the inventory (or no longer needs them).
      type: int
    removed:
      description: Paths of removed files (at most 50).
      type: list
      elements: str
'''
