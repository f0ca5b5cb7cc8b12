#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation for the netfleet.wireguard.wireguard_clients action plugin (it runs on the controller)."""

from __future__ import annotations

DOCUMENTATION = r'''
---
module: wireguard_clients
short_description: Enrol, update and revoke WireGuard devices Ansible does not manage, and write their profiles
version_added: 0.3.0
description:
  - Works on the devices of C(wireguard_external_peers) (phones, laptops) of one network, on the controller only;
    it never connects to a host. C(playbooks/clients.yml) runs it and then applies the result on the hub.
  - "O(state=present): a device with C(key_mode: controller) that has no key pair yet (or O(rekey=true)) gets one,
    made with the cryptography library; its public key is recorded in the key registry, its private key is
    written only into the device's profile files. A revoked device is enrolled again; a controller-made key
    pair is then always a new one."
  - "O(state=absent): the devices are recorded as revoked in C(.wireguard_revoked_devices.yml) next to the key
    registry (safe to commit), the registry forgets a controller-made key, and the profile files are deleted.
    Every later run (C(site.yml) too) leaves a revoked device off the hub and warns while the inventory still lists it."
  - For every selected device that is active, writes C(<name>.conf) (the profile, rendered by the same renderer
    as the hosts' files), C(<name>.png), C(<name>.svg) and C(<name>.qr.txt) (a QR code of exactly that text, as
    UTF-8 blocks for a terminal) into O(dir), a 0700 folder with 0600 files and a C(.gitignore) that ignores
    everything. Files already right are not touched. Profiles of revoked and expired devices are deleted.
  - "The result never holds a private key. The QR codes of a C(key_mode: controller) device hold its private key
    like the C(.conf) does; protect them, or delete them once the device has imported its profile."
author:
  - netfleet engineers (@netfleet)
options:
  clients:
    description:
      - Device names (C(name) of C(wireguard_external_peers) entries), or V(all). Empty selects none - the task
        then only reports every device's state.
    type: list
    elements: str
    default: []
  state:
    description: V(present) enrols or updates the devices, V(absent) revokes them.
    type: str
    choices: [present, absent]
    default: present
  rekey:
    description:
      - "Make a new key pair for the selected C(key_mode: controller) devices (the device must import its new
        profile). Refused for C(key_mode: device) devices, which make their own keys."
    type: bool
    default: false
  dir:
    description: Folder of the profiles.
    type: path
    default: C(wireguard_client_dir), else C(<inventory dir>/wireguard-clients/<interface>)
  svg:
    description: Also write the QR code as SVG.
    type: bool
    default: true
  group:
    description: Inventory group of the network.
    type: str
    default: C(wireguard_network_group), else C(wireguard)
  registry:
    description: The public-key registry file.
    type: path
    default: C(wireguard_key_registry), else C(.wireguard_public_keys.yml) next to the inventory
  fast_hostvars:
    description: Read the inventory variables the fast way (see M(netfleet.wireguard.wireguard_plan)).
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: Reports what would be enrolled, revoked and written; writes nothing.
  diff_mode:
    support: none
    description: Profiles hold private keys; they are never shown as a diff.
  platform:
    support: full
    platforms: all
    description: Runs on the controller only.
notes:
  - The devices and their fields stay in the inventory, the source of truth; this module only adds what the
    inventory cannot hold (key pairs made on the controller, revocations).
  - Expiry (C(expires)) needs no action here; every run computes it from the date (UTC).
seealso:
  - module: netfleet.wireguard.wireguard_status_info
  - module: netfleet.wireguard.wireguard_plan
'''

EXAMPLES = r'''
- name: Enrol the phone (profile and QR code on the controller)
  netfleet.wireguard.wireguard_clients:
    clients: [phone]
  run_once: true
  register: clients

- name: Revoke it
  netfleet.wireguard.wireguard_clients:
    clients: [phone]
    state: absent
  run_once: true
'''

RETURN = r'''
hub:
  description: Inventory name of the host the devices attach to (hub, bastion or mesh relay).
  returned: success
  type: str
  sample: vps1
dir:
  description: The folder of the profiles.
  returned: success
  type: str
  sample: /srv/inventory/wireguard-clients/wg0
clients:
  description:
    - One entry per device of the network - C(name), C(state) (V(active), V(pending), V(revoked), V(expired)),
      C(key_mode), C(addresses), C(expires), C(profile) (V(full), V(split), or null when not on the hub) and
      C(files) (the files written or deleted by this run); C(note) when the profile cannot be written.
  returned: success
  type: list
  elements: dict
names:
  description: Public key -> peer name for every host and active device, to name the peers of a running interface.
  returned: success
  type: dict
'''
