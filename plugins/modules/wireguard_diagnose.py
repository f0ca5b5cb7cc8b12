#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation for the netfleet.wireguard.wireguard_diagnose action plugin."""

from __future__ import annotations

DOCUMENTATION = r'''
---
module: wireguard_diagnose
short_description: Judge a running WireGuard host against the plan, one verdict per check
version_added: 0.3.0
description:
  - Reads the host once with M(netfleet.wireguard.wireguard_diagnose_info) (read-only; the only packets sent
    are a few pings to the peer hosts' tunnel addresses), then compares on the controller what it found with
    the host's plan entry and the rules C(_hooks.py) computes for it.
  - "Checks, in the order an operator looks for the cause: C(interface) (up, planned addresses, port, MTU and
    key), C(handshake) (age per peer), C(transfer) (bytes came back while pinging each peer host),
    C(route) (C(ip route get) of a representative address of every AllowedIPs prefix picks the interface and
    WireGuard the planned peer), C(allowed_ips) (running peers and AllowedIPs equal the plan), C(forwarding),
    C(rules) (the NAT and forward rules of the nftables table or iptables chains are loaded, nothing else),
    C(rp_filter) (not strict where the plan asks for loose), C(relay) (the kernel forwards packets from what
    lives behind each peer to the next peer and to the egress), C(mtu) (a Don't-Fragment ping at the
    interface MTU gets through where small pings do), C(endpoint_dns) (endpoint names resolve)."
  - Each failed verdict names the host, the peer where there is one, the likely cause and the fix.
    The filter P(netfleet.wireguard.wireguard_diagnose_report#filter) orders the network's problems and
    renders the tables; C(playbooks/diagnose.yml) runs both.
author:
  - netfleet engineers (@netfleet)
options:
  network:
    description:
      - The result of M(netfleet.wireguard.wireguard_plan). Defaults to the variable C(__wireguard_network).
    type: dict
  max_handshake_age:
    description:
      - Oldest acceptable latest handshake per peer, in seconds. Peers that are hosts of the network were just
        pinged, so an older one is a failure; for devices it is a warning (they may be offline).
    type: int
    default: 180
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
    description: Reads a POSIX host; judges on the controller.
seealso:
  - module: netfleet.wireguard.wireguard_diagnose_info
  - module: netfleet.wireguard.wireguard_plan
'''

EXAMPLES = r'''
- name: Compute the plan once
  netfleet.wireguard.wireguard_plan:
  run_once: true
  register: __wireguard_network

- name: Judge each host
  netfleet.wireguard.wireguard_diagnose:
    max_handshake_age: 300
  become: true
  register: diagnosis

- name: Show the failed checks of this host
  ansible.builtin.debug:
    msg: "{{ diagnosis.verdicts | selectattr('status', 'eq', 'fail') | list }}"
'''

RETURN = r'''
verdicts:
  description:
    - One per check and subject - C(host), C(check), C(peer) (null for the host itself), C(subject), C(status)
      (V(ok), V(fail), V(warn) or V(skip)), C(found), C(expected), C(cause) and C(fix) (null unless failed or warned).
  returned: success
  type: list
  elements: dict
ok:
  description: Whether no verdict of this host failed.
  returned: success
  type: bool
state:
  description: What M(netfleet.wireguard.wireguard_diagnose_info) read (no key material).
  returned: success
  type: dict
'''
