#!/usr/bin/python
# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: wireguard_status_info
short_description: Report the running state of a WireGuard interface with its peers named
version_added: 0.2.0
description:
  - Reads, without changing anything, the running state of one WireGuard interface with
    C(wg show <interface> dump) - its public key and listen port, and for every peer its endpoint,
    allowed IPs, latest handshake and its age, bytes received and sent, keepalive and whether it
    uses a preshared key.
  - Peers are named through O(names) (public key to inventory host or device name); the running
    peers nobody named and the named peers that are not running are listed apart.
  - An interface that does not exist is reported with RV(up=false) and no peers, not as a failure.
  - The private key (first line of the dump) and the preshared keys are never returned nor put in a
    message; the output of C(wg) is not returned.
author:
  - netfleet engineers (@netfleet)
requirements:
  - wireguard-tools (the C(wg) command) on the managed host
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  interface:
    description:
      - Name of the WireGuard interface, for example V(wg0).
    type: str
    required: true
  names:
    description:
      - Peer names by public key (a mapping of public key to name), for example the inventory host
        names of the public key registry (see EXAMPLES).
      - Every key must be a valid WireGuard key and every name a different non-empty string.
    type: dict
    default: {}
attributes:
  check_mode:
    support: full
    details: Read-only; runs the same in check mode.
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - C(wg show) needs root (or C(CAP_NET_ADMIN)); run the task with C(become=true).
  - RV(up) says whether the WireGuard interface exists (C(wg) can read it), not whether its link is
    administratively up.
seealso:
  - module: netfleet.wireguard.wireguard_host_facts
  - module: netfleet.wireguard.wireguard_apply
"""

EXAMPLES = r"""
- name: Read the public key registry (public keys by interface and host) on the controller
  ansible.builtin.include_vars:
    file: "{{ inventory_dir }}/.wireguard_public_keys.yml"
    name: wg_registry

- name: Read wg0 with its peers named by inventory host
  netfleet.wireguard.wireguard_status_info:
    interface: wg0
    names: "{{ wg_registry.wg0 | dict2items | items2dict(key_name='value', value_name='key') }}"
  become: true
  register: wg0

- name: Peers that never completed a handshake, and those silent for more than three minutes
  ansible.builtin.debug:
    msg:
      never: "{{ wg0.peers | selectattr('handshake_age', 'none') | map(attribute='public_key') | list }}"
      stale: "{{ wg0.peers | rejectattr('handshake_age', 'none') | selectattr('handshake_age', 'gt', 180)
                 | map(attribute='name') | list }}"

- name: Fail unless the running peers are exactly the named ones
  ansible.builtin.assert:
    that:
      - wg0.up
      - wg0.missing_peers == []
      - wg0.unknown_peers == []
"""

RETURN = r"""
up:
  description: Whether the WireGuard interface exists; when V(false), RV(peers) is empty.
  type: bool
  returned: always
  sample: true
interface:
  description: The interface - C(name), C(public_key) and C(listen_port) (null when the interface does not
    exist, has no key or no port).
  type: dict
  returned: always
  contains:
    name:
      description: The interface name (O(interface)).
      type: str
      sample: wg0
    public_key:
      description: Its public key (the private key is never returned).
      type: str
      sample: xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=
    listen_port:
      description: The UDP port it listens on.
      type: int
      sample: 51820
peers:
  description: The running peers, named ones sorted by name first, then the unnamed ones by public key.
  type: list
  elements: dict
  returned: always
  contains:
    name:
      description: The name O(names) gives its public key, null when none does.
      type: str
      sample: hq
    public_key:
      description: The peer's public key.
      type: str
      sample: HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=
    endpoint:
      description: Its current endpoint (C(ip:port), C([ipv6]:port)), null when not known yet.
      type: str
      sample: "[fd00::1]:51820"
    allowed_ips:
      description: Its allowed IPs, as the kernel stores them.
      type: list
      elements: str
      sample: ["10.100.0.1/32", "10.0.1.0/24"]
    latest_handshake:
      description: Unix time of the latest handshake, null when there was none.
      type: int
      sample: 1767225600
    handshake_age:
      description: Seconds since the latest handshake (measured on the host), null when there was none.
      type: int
      sample: 42
    transfer_rx:
      description: Bytes received from the peer.
      type: int
      sample: 1024
    transfer_tx:
      description: Bytes sent to the peer.
      type: int
      sample: 2048
    persistent_keepalive:
      description: Keepalive interval in seconds, null when off.
      type: int
      sample: 25
    preshared_key:
      description: Whether the peer uses a preshared key (the key itself is never returned).
      type: bool
      sample: false
unknown_peers:
  description: Public keys of running peers that O(names) does not name.
  type: list
  elements: str
  returned: always
  sample: []
missing_peers:
  description: Names from O(names) whose public key is not a peer of the running interface.
  type: list
  elements: str
  returned: always
  sample: ["remote"]
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netfleet.wireguard.plugins.module_utils import _wgstatus as wgstatus
from ansible_collections.netfleet.wireguard.plugins.module_utils._paths import valid_interface

# wg's "Unable to access interface: ..." when no such interface exists: ENODEV, EPROTONOSUPPORT (no
# WireGuard in the kernel, no userspace socket either), ENOENT (userspace-only platforms)
ABSENT_ERRORS = ("No such device", "Protocol not supported", "No such file or directory")


def read_status(module, interface, names):
    """The status dict; wg's stdout (it holds the private key) goes nowhere else."""
    wg = module.get_bin_path("wg", required=True)
    rc, out, err = module.run_command([wg, "show", interface, "dump"], check_rc=False)
    if rc != 0:
        message = " ".join((err or "").split())[:300]
        if any(text in message for text in ABSENT_ERRORS):
            return wgstatus.down(names)
        module.fail_json(msg="wg show %s dump failed (rc %d): %s" % (interface, rc, message))
    try:
        return wgstatus.status(out, names, time.time())
    except ValueError as exc:
        module.fail_json(msg="cannot read the output of wg show %s dump: %s" % (interface, exc))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            interface=dict(type="str", required=True),
            names=dict(type="dict", default={}),
        ),
        supports_check_mode=True,
    )
    interface = module.params["interface"]
    if not valid_interface(interface):
        module.fail_json(msg="interface: %r is not a valid interface name" % (interface,))
    try:
        names = wgstatus.check_names(module.params["names"])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    result = read_status(module, interface, names)
    result["interface"] = dict(result["interface"], name=interface)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
