# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Metrics of a WireGuard interface for node_exporter's textfile collector (pure logic, no I/O).

The collector (``roles/wireguard_metrics/files/netfleet_wireguard_metrics.py``, run on the host by a
systemd timer) names the running peers with a map written from the plan: public key -> inventory
host or device name, and whether the plan keeps that tunnel up. This module computes that map and
the text of the timer and its service; ``_hostplan`` decides what of it differs on a host.
"""

from __future__ import annotations

import json
import re

from ._wgkey import is_valid_key

# systemd unit names allow A-Z a-z 0-9 : _ . - (and \x escapes): the interface part must fit
UNIT_INTERFACE_RE = re.compile(r"[A-Za-z0-9_.-]{1,15}")
PYTHON = "/usr/bin/python3"


def unit_name(interface, suffix):
    return "netfleet-wireguard-metrics-%s.%s" % (interface, suffix)


def check_interface(host, interface):
    """The interface name goes into unit names: ValueError naming host and variable when it cannot."""
    if not isinstance(interface, str) or not UNIT_INTERFACE_RE.fullmatch(interface):
        raise ValueError("%s: wireguard_interface: %r cannot name the metrics timer's systemd unit (only A-Z a-z 0-9 "
                         "_ . - fit; = and + do not); rename the interface or set wireguard_metrics_enabled: false"
                         % (host, interface))
    return interface


def expected_up(host, peer, plan):
    """Whether the plan keeps the tunnel to ``peer`` up without traffic: one side sends keepalives.

    Without them a tunnel is on demand (a phone, two public hosts): its handshake ages while idle,
    which is no fault, so stale-handshake alerts only look at expected peers.
    """
    if peer.get("persistent_keepalive"):
        return True
    other = plan.get(peer["name"]) or {}
    return any(back.get("name") == host and back.get("persistent_keepalive") for back in other.get("peers") or [])


def names_map(host, plan, peers):
    """``{"host", "interface", "peers": {public key: {"name", "expected_up"}}}`` for ``host``.

    ``peers`` are the host's plan peers joined with their public keys (``_peerkeys.join_peer_keys``).
    """
    entry = plan.get(host)
    if not isinstance(entry, dict):
        raise ValueError("%s: no plan entry" % host)
    named = {}
    for peer in peers:
        key = peer.get("public_key")
        if not is_valid_key(key):
            raise ValueError("%s: the public key of peer %s is not a valid WireGuard key" % (host, peer.get("name")))
        if key in named:
            raise ValueError("%s: peers %s and %s have the same public key" % (host, named[key]["name"], peer["name"]))
        named[key] = {"name": peer["name"], "expected_up": expected_up(host, peer, plan)}
    return {"host": host, "interface": entry["interface"], "peers": named}


def names_text(mapping):
    """The names file: sorted JSON, so an unchanged plan writes the same bytes."""
    return json.dumps(mapping, indent=2, sort_keys=True) + "\n"


def service_unit(interface, paths):
    return "\n".join([
        "# Managed by Ansible (netfleet.wireguard.wireguard_metrics).",
        "[Unit]",
        "Description=netfleet.wireguard metrics of %s for the node_exporter textfile collector" % interface,
        "",
        "[Service]",
        "Type=oneshot",
        "ExecStart=%s -I %s --names %s --output %s" % (PYTHON, paths["metrics_script"], paths["metrics_names"],
                                                       paths["metrics_output"]),
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "ReadWritePaths=%s" % paths["metrics_dir"],
        "",
    ])


def timer_unit(interface, interval):
    return "\n".join([
        "# Managed by Ansible (netfleet.wireguard.wireguard_metrics).",
        "[Unit]",
        "Description=netfleet.wireguard metrics of %s every %d s" % (interface, interval),
        "",
        "[Timer]",
        # once right after the timer starts (install, boot), then every interval after the last run
        "OnActiveSec=1s",
        "OnUnitActiveSec=%ds" % interval,
        "AccuracySec=1s",
        "Unit=%s" % unit_name(interface, "service"),
        "",
        "[Install]",
        "WantedBy=timers.target",
        "",
    ])
