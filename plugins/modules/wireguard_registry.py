#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation for the netfleet.wireguard.wireguard_registry action plugin (it runs on the controller)."""

from __future__ import annotations

DOCUMENTATION = r'''
---
module: wireguard_registry
short_description: Record WireGuard public keys in the controller-side key registry
version_added: 0.1.0
description:
  - "Merges a C({host: public key}) map for one interface into the registry file
    (YAML C({interface: {host: public key}})) and writes it atomically: a new file next to it,
    fsynced, then renamed over the old one. Hosts not named in O(keys) keep their entries."
  - Holds an exclusive lock on a hidden sibling lock file (C(.<name>.lock)) while it reads, merges
    and writes, and reads the file again inside the lock, so two runs recording different hosts at
    the same time both land.
  - The file starts with a comment saying it holds public keys only and is safe to commit.
  - Runs on the controller only; it never connects to a host.
author:
  - netfleet engineers (@netfleet)
options:
  path:
    description:
      - The registry file, usually C(wireguard_key_registry).
      - The directory must exist. A symbolic link at this path is refused.
    type: path
    required: true
  interface:
    description: WireGuard interface name the keys belong to.
    type: str
    required: true
  keys:
    description:
      - Public keys to record, as a mapping of inventory hostname to public key.
      - Host names are letters, digits, C(_), C(.) and C(-); keys must be canonical WireGuard keys.
        Anything else fails the task before the file is touched.
    type: dict
    required: true
  pinned:
    description:
      - Public keys managed elsewhere (C(wireguard_public_key)), host name to key. Not written to the
        file; they override the file's entries in RV(public_keys).
    type: dict
    default: {}
  remove:
    description:
      - Host names whose keys are forgotten (hosts retired with C(wireguard_state=absent)); a name also in
        O(keys) is kept.
    type: list
    elements: str
    default: []
  lock_timeout:
    description: Seconds to wait for another run that holds the registry lock before failing.
    type: int
    default: 30
attributes:
  check_mode:
    support: full
    description: Reports whether the file would change and returns the merged registry, without writing or locking.
  diff_mode:
    support: full
    description: The registry file before and after (public keys only).
  platform:
    support: full
    platforms: all
    description: Runs on the controller only.
seealso:
  - module: netfleet.wireguard.wireguard_keypair
  - module: netfleet.wireguard.wireguard_plan
'''

EXAMPLES = r'''
- name: Record the public keys of this run
  netfleet.wireguard.wireguard_registry:
    path: "{{ wireguard_key_registry }}"
    interface: wg0
    keys: "{{ dict(ansible_play_hosts | zip(ansible_play_hosts | map('extract', hostvars, 'wg_public_key'))) }}"
  run_once: true
  register: registry_result
'''

RETURN = r'''
registry:
  description: "The whole registry after the merge, C({interface: {host: public key}})."
  returned: success
  type: dict
  sample: {wg0: {vps: xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=}}
public_keys:
  description: Every known key of O(interface), host name to key (the file's entries after the merge, then O(pinned)).
  returned: success
  type: dict
  sample: {vps: xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=}
path:
  description: Absolute path of the registry file.
  returned: success
  type: str
  sample: /srv/inventory/.wireguard_public_keys.yml
added:
  description: Hosts that had no key for the interface before.
  returned: success
  type: list
  elements: str
  sample: [laptop]
updated:
  description: Hosts whose recorded key changed.
  returned: success
  type: list
  elements: str
  sample: []
removed:
  description: Hosts whose key was forgotten (O(remove)).
  returned: success
  type: list
  elements: str
  sample: [old-branch]
'''
