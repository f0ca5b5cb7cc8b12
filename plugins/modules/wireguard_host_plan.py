#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation for the netfleet.wireguard.wireguard_host_plan action plugin."""

from __future__ import annotations

DOCUMENTATION = r'''
---
module: wireguard_host_plan
short_description: Read a host once and decide everything the netfleet.wireguard roles put on it
version_added: 0.2.0
description:
  - Runs M(netfleet.wireguard.wireguard_host_facts) on the host (one read-only call), then decides on
    the controller, from the host's plan entry and the role settings, what the host needs - packages,
    key file, kernel settings, the firewall backend, egress interface, hook lines and rules files, the
    hardened posture - and what of it differs from what the host has.
  - The roles of the collection register its result as C(__wireguard_host) and only write what differs;
    they compute nothing themselves. The same decisions render the review copies of C(render.yml).
  - Fails, naming the host and the variable, when the host cannot be served (for example a hub that must
    NAT but has no default route and no C(wireguard_egress_interface)).
author:
  - netfleet engineers (@netfleet)
options:
  network:
    description:
      - The result of M(netfleet.wireguard.wireguard_plan). Defaults to the variable C(__wireguard_network).
    type: dict
attributes:
  check_mode:
    support: full
    description: Read-only; runs the same in check mode.
  diff_mode:
    support: none
    description: Changes nothing, so there is nothing to diff.
  platform:
    support: full
    platforms: posix
    description: Reads a POSIX host (the facts module runs there); decides on the controller.
seealso:
  - module: netfleet.wireguard.wireguard_plan
  - module: netfleet.wireguard.wireguard_host_facts
'''

EXAMPLES = r'''
- name: Compute the plan once
  netfleet.wireguard.wireguard_plan:
  run_once: true
  register: __wireguard_network

- name: Read each host once and decide what it needs
  netfleet.wireguard.wireguard_host_plan:
  register: __wireguard_host

- name: Show the hook lines this host gets
  ansible.builtin.debug:
    var: __wireguard_host.firewall.post_up
'''

RETURN = r'''
interface:
  description: The WireGuard interface.
  returned: success
  type: str
  sample: wg0
paths:
  description: Every path the collection writes for this interface on the host.
  returned: success
  type: dict
basis:
  description: Header lines of the configuration naming the facts it depends on (backend, egress interface).
  returned: success
  type: list
  elements: str
firewall:
  description:
    - Firewall backend and egress interface with their source, C(post_up)/C(post_down) hook lines, the
      nftables rules file (C(nft_path), C(nft_ruleset)), and what to do - C(package) to install,
      C(write_nft), C(reload_nft), C(remove_nft), C(cleanup) (commands removing the collection's stale
      rules).
  returned: success
  type: dict
forwarding:
  description:
    - C(sysctls) wanted (ordered C([key, value]) pairs), the sysctl.d file (C(file), C(content)) and what
      to do - C(write_file), C(remove_file), C(apply) (C(key=value) settings whose running value differs).
  returned: success
  type: dict
install:
  description: C(missing) packages, C(os_family), C(pkg_mgr).
  returned: success
  type: dict
preshared_keys:
  description: Whether a peer of this host uses a preshared key (then the interface role always calls wireguard_apply).
  returned: success
  type: bool
key_pair:
  description: C(path) of the private key file, its C(public_key) (never the key), whether to C(create) it.
  returned: success
  type: dict
harden:
  description:
    - Null when no hardened posture is wanted or left over; else C(state) (V(present) or V(absent)) and the
      files and actions to apply.
  returned: success
  type: dict
metrics:
  description:
    - Null when the metrics collector (C(wireguard_metrics_enabled)) is neither wanted nor left over; else
      C(state) (V(present) with the timer and service units and what of them differs, or V(absent) with the
      files to remove). The names file and the collector script are compared later by the filter
      netfleet.wireguard.wireguard_metrics_files.
  returned: success
  type: dict
facts:
  description: What M(netfleet.wireguard.wireguard_host_facts) returned.
  returned: success
  type: dict
'''
