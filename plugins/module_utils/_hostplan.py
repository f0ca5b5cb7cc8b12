# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Per-host decisions: from a host's plan entry, its facts and the role settings to what it needs.

``decide()`` is the one place that turns the network plan into everything the roles put on one
host: packages, the key file, kernel settings, firewall rules and files, the hardened posture,
and the basis (firewall backend, egress interface) the wg-quick file is rendered with. It also
compares the wanted state with the host facts (``wireguard_host_facts``), so each role only
writes what differs and computes nothing itself.

Without facts (``render.yml`` without connecting) the values a host would report are assumed
and the result says so; the renderer writes those assumptions into the file's header.
"""

from __future__ import annotations

import hashlib
import posixpath

from . import _hooks, _metrics, _multinet, _paths, _ufw
from ._peerkeys import join_peer_keys
from ._variables import VARIABLES

# Package names per OS family (Debian is tested in the lab; the others only on the controller).
PACKAGES = {
    "Debian": {"base": ["wireguard-tools"], "userspace": ["wireguard-go"], "resolvconf": ["openresolv"],
               "cryptography": ["python3-cryptography"], "nftables": ["nftables"], "iptables": ["iptables"]},
    "RedHat": {"base": ["wireguard-tools"], "userspace": [], "resolvconf": [],
               "cryptography": ["python3-cryptography"], "nftables": ["nftables"], "iptables": ["iptables"]},
    "Archlinux": {"base": ["wireguard-tools"], "userspace": ["wireguard-go"], "resolvconf": ["openresolv"],
                  "cryptography": ["python-cryptography"], "nftables": ["nftables"], "iptables": ["iptables"]},
}
# an unknown family gets the package every distribution calls the same
FALLBACK_PACKAGES = {"base": ["wireguard-tools"], "userspace": [], "resolvconf": [], "cryptography": [],
                     "nftables": ["nftables"], "iptables": ["iptables"]}

# every role setting with its default (the variable table is the one source; see docs/variables.md)
SETTINGS_DEFAULTS = {var.name: var.default for var in VARIABLES if var.scope == "role"}

ASSUMED_BACKEND = "nftables"
ASSUMED_EGRESS = "eth0"
SSH_CONNECTIONS = ("ssh", "smart", "paramiko", "paramiko_ssh", "ansible.builtin.ssh", "ansible.builtin.paramiko_ssh",
                   "ansible.netcommon.libssh")
SYSCTL_HEADER = ("# Managed by Ansible (netfleet.wireguard.wireguard_forwarding): kernel settings this host needs\n"
                 "# to route WireGuard traffic. The role removes this file when the host stops routing.\n")


def sha1(text):
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def file_differs(info, content, mode):
    """The one "file differs" check: a root-owned file with this content and mode, or not."""
    if not info or not info.get("exists"):
        return True
    return (info.get("checksum") != sha1(content) or info.get("mode") != mode
            or info.get("uid") != 0 or info.get("gid") != 0)


def _exists(facts, path):
    return bool(((facts or {}).get("files") or {}).get(path, {}).get("exists"))


def settings_with_defaults(settings):
    merged = dict(SETTINGS_DEFAULTS)
    merged.update({k: v for k, v in (settings or {}).items() if v is not None})
    return merged


def _parent(path):
    return posixpath.dirname(path) or "/"


def facts_module_args(interface, settings):
    """Arguments of the one wireguard_host_facts call ``decide`` needs: the files it compares (checksums,
    existence), the private key whose public key it reads, and the interface it judges."""
    paths = _paths.host_paths(interface, settings)
    wanted = [paths["private_key"], paths["nft_rules"], paths["sysctl_file"], paths["guard_ruleset"],
              paths["guard_unit"], paths["guard_enabled_link"], _parent(paths["nft_rules"]),
              _parent(paths["guard_ruleset"]), _metrics.PYTHON]
    wanted += [paths[name] for name in METRICS_FILES + ("metrics_dir",)]
    return {"paths": sorted(set(wanted)), "private_keys": [paths["private_key"]],
            "wireguard": {"interface": interface, "path": paths["conf"], "private_key_path": paths["private_key"]}}


# ------------------------------------------------------------------------------ firewall basis

def _routes_anything(routing):
    return bool(routing.get("forward_ipv4") or routing.get("forward_ipv6") or routing.get("relay")
                or routing.get("forward_to_egress") or routing.get("masquerade"))


def _needs_egress(routing):
    # a masquerade entry with a destination matches addresses, not the default-route interface
    return bool(routing.get("forward_to_egress") or any(
        not m.get("egress_interface") and not m.get("destination") for m in routing.get("masquerade") or []))


def firewall_basis(entry, facts, settings):
    """(backend, where it comes from), (egress interface, where it comes from)."""
    routing = entry.get("routing") or {}
    if settings["wireguard_firewall_backend"] in _hooks.BACKENDS:
        backend = (settings["wireguard_firewall_backend"], "wireguard_firewall_backend")
    elif facts is not None:
        backend = ("nftables" if facts["commands"].get("nft") else "iptables", "detected: nft is %sinstalled"
                   % ("" if facts["commands"].get("nft") else "not "))
    else:
        backend = (ASSUMED_BACKEND, "ASSUMED by render.yml: set wireguard_firewall_backend or render with host facts")
    planned = [m["egress_interface"] for m in routing.get("masquerade") or [] if m.get("egress_interface")]
    if planned:
        egress = (planned[0], "wireguard_egress_interface")
    elif not _needs_egress(routing):
        egress = (None, None)
    elif facts is not None:
        routes = facts.get("routes") or {}
        found = (routes.get("ipv4_default") or []) + (routes.get("ipv6_default") or [])
        egress = (found[0], "detected: default route") if found else (None, "no default route on the host")
    else:
        egress = (ASSUMED_EGRESS, "ASSUMED by render.yml: set wireguard_egress_interface or render with host facts")
    return backend, egress


def basis_lines(decisions):
    """Header comments naming the facts the file depends on (empty when it has no rules)."""
    fw = decisions["firewall"]
    if not fw["post_up"]:
        return []
    lines = ["firewall backend: %s (%s)" % (fw["backend"], fw["backend_source"])]
    if (fw.get("ufw") or {}).get("managed"):
        lines.append("ufw rules: %s (ufw filters, the backend NATs)" % _ufw.comment(decisions["interface"]))
    if fw["egress"]:
        lines.append("egress interface: %s (%s)" % (fw["egress"], fw["egress_source"]))
    return lines


def _firewall(host, entry, facts, settings, paths):
    (backend, backend_source), (egress, egress_source) = firewall_basis(entry, facts, settings)
    if egress is None and _needs_egress(entry.get("routing") or {}):
        raise ValueError("%s: wireguard_egress_interface: the plan NATs or forwards to the internet but the host "
                         "has no default route; set wireguard_egress_interface" % host)
    hooks = _hooks.build_hooks(entry, backend, egress_interface=egress, nft_path=paths["nft_rules"], host=host)
    fw = {"backend": backend, "backend_source": backend_source, "egress": egress, "egress_source": egress_source,
          "post_up": hooks["post_up"], "post_down": hooks["post_down"], "nft_path": paths["nft_rules"],
          "nft_ruleset": hooks["nft_ruleset"], "nft_table": hooks["nft_table"], "package": [],
          "write_nft": False, "reload_nft": False, "remove_nft": False, "cleanup": [], "nft_bin": "/usr/sbin/nft",
          "pending": False}
    fw["ufw"] = _ufw.decision(host, entry, facts, settings, egress)
    if facts is None:
        return fw
    fw["nft_bin"] = (facts.get("commands") or {}).get("nft") or fw["nft_bin"]
    routes = _routes_anything(entry.get("routing") or {})
    package = (PACKAGES.get(facts.get("os_family")) or FALLBACK_PACKAGES)[
        "nftables" if backend == "nftables" or settings["wireguard_firewall_harden"] else "iptables"]
    installed = set(facts.get("packages") or [])
    if settings["wireguard_firewall_install_packages"] and (routes or settings["wireguard_firewall_harden"]):
        fw["package"] = [p for p in package if p not in installed]
    files = facts.get("files") or {}
    loaded = set((facts.get("firewall") or {}).get("nft_tables") or []) | set(
        (facts.get("firewall") or {}).get("iptables_chains") or [])
    if hooks["nft_ruleset"] is not None:
        fw["write_nft"] = file_differs(files.get(paths["nft_rules"]), hooks["nft_ruleset"], "0600")
        fw["reload_nft"] = fw["write_nft"] and ("inet " + hooks["nft_table"]) in loaded
        fw["nft_dir_missing"] = not _exists(facts, _parent(paths["nft_rules"]))
    else:
        fw["remove_nft"] = _exists(facts, paths["nft_rules"])
    fw["cleanup"] = [snippet for snippet, obj in zip(hooks["cleanup"] + hooks["access_cleanup"],
                                                     hooks["cleanup_objects"] + hooks["access_cleanup_objects"])
                     if obj in loaded]
    fw["pending"] = bool(fw["package"] or fw["write_nft"] or fw["remove_nft"] or fw["cleanup"]
                         or (fw["ufw"] or {}).get("pending"))
    return fw


def _ssh(ssh_connection):
    """(client address, server port) from SSH_CONNECTION ("client cport server sport"), or (None, None)."""
    words = (ssh_connection or "").split()
    return (words[0], int(words[3])) if len(words) == 4 and words[3].isdigit() else (None, None)


def guard_unit(nft_bin, ruleset_path):
    teardown = "%s 'table inet %s; delete table inet %s'" % (nft_bin, _hooks.GUARD_TABLE, _hooks.GUARD_TABLE)
    return "\n".join([
        "# Managed by Ansible (netfleet.wireguard.wireguard_firewall).",
        "# Hardened firewall of netfleet.wireguard: loads the table inet %s and nothing else." % _hooks.GUARD_TABLE,
        "[Unit]",
        "Description=netfleet.wireguard hardened firewall (nftables table inet %s)" % _hooks.GUARD_TABLE,
        "Documentation=man:nft(8)",
        "Wants=network-pre.target",
        "Before=network-pre.target shutdown.target",
        "Conflicts=shutdown.target",
        "DefaultDependencies=no",
        "",
        "[Service]",
        "Type=oneshot",
        "RemainAfterExit=yes",
        "StandardInput=null",
        "ExecStart=%s -f %s" % (nft_bin, ruleset_path),
        "ExecReload=%s -f %s" % (nft_bin, ruleset_path),
        "ExecStop=%s" % teardown,
        "",
        "[Install]",
        "WantedBy=sysinit.target",
        "",
    ])


def _harden(host, entry, facts, settings, paths, fw, connection, ssh_connection):
    """The hardened posture (seed 003) or its removal; None when neither applies."""
    loaded = "inet %s" % _hooks.GUARD_TABLE in ((facts.get("firewall") or {}).get("nft_tables") or [])
    nft_bin = fw["nft_bin"]
    if not settings["wireguard_firewall_harden"]:
        present = [p for p in (paths["guard_unit"], paths["guard_ruleset"]) if _exists(facts, p)]
        if not present and not loaded:
            return None
        return {"state": "absent", "remove_files": present, "unit_present": _exists(facts, paths["guard_unit"]),
                "table_loaded": loaded, "nft_bin": nft_bin, "pending": True}
    client, server_port = _ssh(ssh_connection)
    sources = list(settings["wireguard_firewall_ssh_sources"]) + ([client] if client else [])
    over_ssh = client is not None or (connection or "ssh") in SSH_CONNECTIONS
    if over_ssh and not sources:
        raise ValueError("%s: wireguard_firewall_ssh_sources: wireguard_firewall_harden is true, Ansible reaches this "
                         "host over SSH and the list is empty; list the addresses or prefixes that may use SSH (the "
                         "address Ansible connects from is added automatically)" % host)
    if not facts.get("systemd"):
        raise ValueError("%s: wireguard_firewall_harden: needs systemd (the ruleset is loaded by %s)"
                         % (host, _paths.GUARD_UNIT_NAME))
    ports = [int(settings["wireguard_firewall_ssh_port"])] + ([server_port] if server_port else [])
    ruleset = _hooks.hardened_ruleset(
        entry, egress_interface=fw["egress"], ssh_sources=sources, ssh_ports=ports,
        allow_tunnel_input=bool(settings["wireguard_firewall_allow_tunnel_input"]),
        tcp_ports=[int(p) for p in settings["wireguard_firewall_allowed_tcp_ports"]],
        udp_ports=[int(p) for p in settings["wireguard_firewall_allowed_udp_ports"]], host=host)
    unit = guard_unit(nft_bin, paths["guard_ruleset"])
    files = facts.get("files") or {}
    write_ruleset = file_differs(files.get(paths["guard_ruleset"]), ruleset, "0600")
    write_unit = file_differs(files.get(paths["guard_unit"]), unit, "0644")
    load = write_ruleset or write_unit or not loaded
    enable = write_unit or not _exists(facts, paths["guard_enabled_link"])
    return {"state": "present", "ruleset": ruleset, "unit": unit, "nft_bin": nft_bin,
            "write_ruleset": write_ruleset, "write_unit": write_unit, "table_loaded": loaded,
            "dir_missing": not _exists(facts, _parent(paths["guard_ruleset"])),
            "load": load, "enable": enable, "pending": load or enable}


# what the metrics role owns on a host, in the order it removes them
METRICS_FILES = ("metrics_timer", "metrics_service", "metrics_timer_link", "metrics_script", "metrics_names",
                 "metrics_output")


def _metrics_decision(host, entry, facts, settings, paths):
    """The metrics collector and its timer, or their removal; None when neither applies. The names
    file and the script are compared by ``metrics_files`` once the peers' public keys are known."""
    if not settings["wireguard_metrics_enabled"]:
        present = [paths[name] for name in METRICS_FILES if _exists(facts, paths[name])]
        if not present:
            return None
        return {"state": "absent", "remove_files": present, "pending": True,
                "timer_present": _exists(facts, paths["metrics_timer"]),
                "units_present": any(_exists(facts, paths[name]) for name in ("metrics_timer", "metrics_service"))}
    if not facts.get("systemd"):
        raise ValueError("%s: wireguard_metrics_enabled: needs systemd (a timer runs the collector)" % host)
    if not _exists(facts, _metrics.PYTHON):
        raise ValueError("%s: wireguard_metrics_enabled: the collector needs %s on the host" % (host, _metrics.PYTHON))
    interface = _metrics.check_interface(host, entry["interface"])
    service = _metrics.service_unit(interface, paths)
    timer = _metrics.timer_unit(interface, int(settings["wireguard_metrics_interval"]))
    files = facts.get("files") or {}
    write_service = file_differs(files.get(paths["metrics_service"]), service, "0644")
    write_timer = file_differs(files.get(paths["metrics_timer"]), timer, "0644")
    enable = write_timer or not _exists(facts, paths["metrics_timer_link"])
    out = {"state": "present", "service": service, "timer": timer, "timer_name": _metrics.unit_name(interface, "timer"),
           "service_name": _metrics.unit_name(interface, "service"), "write_service": write_service,
           "write_timer": write_timer, "dir_missing": not _exists(facts, paths["metrics_dir"]), "enable": enable,
           "restart": write_service or write_timer}
    out["pending"] = bool(out["dir_missing"] or enable or out["restart"])
    return out


def metrics_files(decisions, plan, public_keys, script, pending=()):
    """The names file and whether it and the collector script differ on the host.

    Called by the metrics role after the keys role, when every peer's public key is known;
    ``pending`` as for ``_peerkeys.join_peer_keys`` (check mode before the first run).
    """
    host = decisions["host"]
    peers = join_peer_keys(plan[host].get("peers") or [], public_keys, host, pending=pending)
    names = _metrics.names_text(_metrics.names_map(host, plan, peers))
    files = (decisions.get("facts") or {}).get("files") or {}
    paths = decisions["paths"]
    out = {"names": names, "write_names": file_differs(files.get(paths["metrics_names"]), names, "0644"),
           "write_script": file_differs(files.get(paths["metrics_script"]), script, "0644")}
    out["pending"] = out["write_names"] or out["write_script"]
    return out


def _forwarding(entry, facts, settings, paths):
    routing = entry.get("routing") or {}
    v4, v6 = bool(routing.get("forward_ipv4")), bool(routing.get("forward_ipv6"))
    ra = []
    if v6:
        if settings["wireguard_forwarding_keep_ra"] and facts is not None:
            ra += (facts.get("routes") or {}).get("ipv6_ra") or []
        ra += list(settings["wireguard_forwarding_accept_ra_interfaces"])
    # accept_ra before forwarding: turning forwarding on makes the kernel ignore RAs where accept_ra is 1
    sysctls = [("net.ipv6.conf.%s.accept_ra" % dev.replace(".", "/"), "2") for dev in dict.fromkeys(ra)]
    if v4:
        sysctls.append(("net.ipv4.ip_forward", "1"))
    if v6:
        sysctls.append(("net.ipv6.conf.all.forwarding", "1"))
    if routing.get("loose_rp_filter"):
        sysctls += [("net.ipv4.conf.all.rp_filter", "2"), ("net.ipv4.conf.default.rp_filter", "2")]
    content = SYSCTL_HEADER + "".join("%s = %s\n" % item for item in sysctls) if sysctls else None
    out = {"sysctls": [list(item) for item in sysctls], "file": paths["sysctl_file"], "content": content,
           "write_file": False, "remove_file": False, "apply": [], "pending": False}
    if facts is None:
        return out
    if content is None:
        out["remove_file"] = _exists(facts, paths["sysctl_file"])
    else:
        out["write_file"] = file_differs((facts.get("files") or {}).get(paths["sysctl_file"]), content, "0644")
    running = facts.get("sysctls") or {}
    out["apply"] = ["%s=%s" % (key, value) for key, value in sysctls if running.get(key) != value]
    out["pending"] = bool(out["write_file"] or out["remove_file"] or out["apply"])
    return out


def _install(entry, facts, settings, psk):
    family = PACKAGES.get(facts.get("os_family")) or FALLBACK_PACKAGES
    mode = str(settings["wireguard_install_userspace"]).lower()
    userspace = mode in ("true", "yes") or (mode == "auto" and not facts.get("kernel_wireguard"))
    resolvconf = bool(settings["wireguard_install_resolvconf"] and entry.get("dns")
                      and not (facts.get("commands") or {}).get("resolvconf"))
    wanted = family["base"] + (family["userspace"] if userspace else []) + (family["resolvconf"] if resolvconf else [])
    wanted += (family["cryptography"] if psk else []) + list(settings["wireguard_install_extra_packages"])
    installed = set(facts.get("packages") or [])
    return {"missing": [p for p in dict.fromkeys(wanted) if p not in installed], "os_family": facts.get("os_family"),
            "pkg_mgr": facts.get("pkg_mgr")}


def _keys(host, facts, settings, paths, pinned_public_key):
    info = ((facts.get("files") or {}).get(paths["private_key"])) or {}
    public = (facts.get("public_keys") or {}).get(paths["private_key"])
    if pinned_public_key and public != pinned_public_key:
        why = (facts.get("key_problems") or {}).get(paths["private_key"]) or "holds the key %s" % public
        raise ValueError("%s: wireguard_public_key: the key is managed outside this collection, but %s does not "
                         "match it (%s)" % (host, paths["private_key"], why))
    create = not pinned_public_key and bool(
        settings["wireguard_keys_rotate"] or public is None or info.get("mode") != "0600"
        or info.get("uid") != 0 or info.get("gid") != 0)
    return {"path": paths["private_key"], "public_key": pinned_public_key or public, "create": create,
            "pinned": bool(pinned_public_key)}


def decide(host, entry, facts=None, settings=None, pinned_public_key=None, connection=None, ssh_connection=None,
           render_only=False, forwarding_entries=None):
    """Everything one host needs, and what of it differs from ``facts`` (None: rendering without the host).

    ``forwarding_entries``: the host's plan entries in all its networks (several networks): the kernel
    settings are their union, as the host has one sysctl.d file.

    ``render_only``: only what the rendered files depend on (render.yml with host facts), not the
    packages, key pair and hardened posture a deployment also decides.

    :raises ValueError: naming the host and the variable.
    """
    settings = settings_with_defaults(settings)
    paths = _paths.host_paths(entry["interface"], settings)
    out = {"host": host, "interface": entry["interface"], "paths": paths, "with_facts": facts is not None,
           "preshared_keys": any(peer.get("preshared_key") for peer in entry.get("peers") or [])}
    out["firewall"] = _firewall(host, entry, facts, settings, paths)
    forwarding = _multinet.forwarding_entry(forwarding_entries) if forwarding_entries else entry
    out["forwarding"] = _forwarding(forwarding, facts, settings, paths)
    out["basis"] = basis_lines(out)
    if facts is None or render_only:
        return out
    if settings["wireguard_firewall_harden"] and len(forwarding_entries or ()) > 1:
        raise ValueError("%s: wireguard_firewall_harden: not available yet for a host in several networks (the "
                         "hardened ruleset is built from one network)" % host)
    out["install"] = _install(entry, facts, settings, out["preshared_keys"])
    out["key_pair"] = _keys(host, facts, settings, paths, pinned_public_key)
    out["harden"] = _harden(host, entry, facts, settings, paths, out["firewall"], connection, ssh_connection)
    out["metrics"] = _metrics_decision(host, entry, facts, settings, paths)
    return out


def roles_missing(decisions, role_names):
    """Roles whose part of this host is still undone but that are not in the play: the interface role
    fails naming them instead of bringing up an interface that silently does less."""
    names = {name.rsplit(".", 1)[-1] for name in role_names or []}
    install, forwarding, firewall = decisions["install"], decisions["forwarding"], decisions["firewall"]
    work = (
        ("wireguard_install", install["missing"], "packages missing: %s" % ", ".join(install["missing"])),
        ("wireguard_forwarding", forwarding["pending"],
         "kernel settings not in place: %s" % ", ".join("%s=%s" % tuple(item) for item in forwarding["sysctls"])),
        ("wireguard_firewall", firewall["pending"], "%s rules not in place" % firewall["backend"]),
    )
    return ["netfleet.wireguard.%s (%s)" % (role, why) for role, pending, why in work if pending and role not in names]


def apply_needed(decisions, content, key_pair_changed=False):
    """Whether wireguard_apply has anything to do for ``content`` (the rendered text).

    No when the host reported its interface in sync with a file that is ``content`` plus exactly one
    PrivateKey line holding the key file's key, and the key pair did not change in this run. Hosts
    with preshared keys always run it (only the host can compare those lines).
    """
    state = ((decisions or {}).get("facts") or {}).get("wireguard")
    if (decisions or {}).get("preshared_keys", True) or key_pair_changed:
        return True
    if not state or not state.get("in_sync") or not state.get("key_current"):
        return True
    if state.get("private_key_lines") != 1 or state.get("preshared_key_lines") != 0:
        return True
    return state.get("public_sha1") != sha1(content)
