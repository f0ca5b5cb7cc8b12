# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every path the collection writes on a host, built in one place.

Modules use it for their defaults, the host plan for what the roles write, the renderer for its
comments: a path changed here changes everywhere. Interface names are validated by the caller
(the plan); a name that could leave /etc/wireguard is refused here all the same.
"""

from __future__ import annotations

import re

WIREGUARD_DIR = "/etc/wireguard"
SYSCTL_FILE = "/etc/sysctl.d/90-netfleet-wireguard.conf"
GUARD_RULESET = "/etc/netfleet/wireguard-guard.nft"
GUARD_UNIT_NAME = "netfleet-wireguard-guard.service"
GUARD_UNIT = "/etc/systemd/system/" + GUARD_UNIT_NAME
# the link `systemctl enable` creates (the unit is WantedBy=sysinit.target)
GUARD_ENABLED_LINK = "/etc/systemd/system/sysinit.target.wants/" + GUARD_UNIT_NAME
# node_exporter's textfile collector directory of the Debian package prometheus-node-exporter
METRICS_DIR = "/var/lib/prometheus/node-exporter"
SYSTEMD_DIR = "/etc/systemd/system"
# /run, not the world-writable /run/lock, where any local user could take the lock first
LOCK_DIR = "/run"

# the one rule for interface names (Linux IFNAMSIZ, wg-quick's file name); always fullmatch, never
# ^...$ with match (that accepts a trailing newline)
INTERFACE_RE = re.compile(r"[a-zA-Z0-9_=+.-]{1,15}")


def valid_interface(name):
    """True for a usable interface name: 1-15 of a-z A-Z 0-9 _ = + . - and not . or .."""
    return isinstance(name, str) and INTERFACE_RE.fullmatch(name) is not None and name not in (".", "..")


def _interface(name):
    if not valid_interface(name):
        raise ValueError("%r is not a valid interface name" % (name,))
    return name


def conf(interface):
    """wg-quick reads /etc/wireguard/<interface>.conf (the file name is the interface name)."""
    return "%s/%s.conf" % (WIREGUARD_DIR, _interface(interface))


def private_key(interface, override=None):
    return override or "%s/%s.key" % (WIREGUARD_DIR, _interface(interface))


def preshared_key_dir(interface, override=None):
    return override or "%s/%s.psk.d" % (WIREGUARD_DIR, _interface(interface))


def nft_rules(interface, override=None):
    return override or "%s/%s.nft" % (WIREGUARD_DIR, _interface(interface))


def apply_lock(interface):
    return "%s/netfleet-wireguard-%s.lock" % (LOCK_DIR, _interface(interface))


def metrics_paths(interface, directory=None):
    """The files of the metrics collector of one interface (wireguard_metrics role)."""
    directory = directory or METRICS_DIR
    unit = "%s/netfleet-wireguard-metrics-%s" % (SYSTEMD_DIR, _interface(interface))
    return {
        "metrics_dir": directory,
        "metrics_output": "%s/netfleet_wireguard_%s.prom" % (directory, interface),
        "metrics_names": "%s/%s.metrics.json" % (WIREGUARD_DIR, interface),
        "metrics_script": "/usr/local/lib/netfleet-wireguard-metrics-%s.py" % interface,
        "metrics_service": unit + ".service",
        "metrics_timer": unit + ".timer",
        # the link `systemctl enable` creates (the timer is WantedBy=timers.target)
        "metrics_timer_link": "%s/timers.target.wants/netfleet-wireguard-metrics-%s.timer" % (SYSTEMD_DIR, interface),
    }


def host_paths(interface, settings=None):
    """The paths of one host's interface, with the role settings that move them applied."""
    settings = settings or {}
    paths = {
        "conf": conf(interface),
        "private_key": private_key(interface, settings.get("wireguard_keys_private_key_path")),
        "preshared_key_dir": preshared_key_dir(interface, settings.get("wireguard_keys_preshared_key_dir")),
        "nft_rules": nft_rules(interface, settings.get("wireguard_firewall_nft_path")),
        "sysctl_file": settings.get("wireguard_forwarding_sysctl_file") or SYSCTL_FILE,
        "guard_ruleset": settings.get("wireguard_firewall_guard_path") or GUARD_RULESET,
        "guard_unit": GUARD_UNIT,
        "guard_enabled_link": GUARD_ENABLED_LINK,
    }
    paths.update(metrics_paths(interface, settings.get("wireguard_metrics_textfile_dir")))
    return paths
