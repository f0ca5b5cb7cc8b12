# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Print the state of one lab fleet: WireGuard peers per host and a ping matrix.

Usage: report.py INVENTORY_DIR [--ansible-inventory PATH]

For every host of the WireGuard group (``wireguard`` or ``wireguard_network_group``) it shows
listen port, and per peer: endpoint, age of the latest handshake and bytes received/sent. Keys are
read with ``wg show <if> <field>`` queries that never include the private key. Then every host pings
every tunnel address and every ``lab_probes`` address (3 tries, 1 s each) and a matrix shows
reachable (✔), unreachable (✘) and self (·).

Exit status 0 when the report could be made; 1 when a host has no WireGuard interface.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

OK, KO, SELF = "\u2714", "\u2718", "\u00b7"


def run(argv: list[str], timeout: float = 30) -> tuple[int, str]:
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return 124, ""
    return p.returncode, p.stdout


def pexec(container: str, *argv: str, timeout: float = 30) -> tuple[int, str]:
    return run(["podman", "exec", container, *argv], timeout=timeout)


def load_inventory(inventory: str, ansible_inventory: str) -> dict:
    rc = subprocess.run(
        [ansible_inventory, "-i", inventory, "--list"], capture_output=True, text=True, check=False
    )
    if rc.returncode != 0:
        sys.exit(f"report: ansible-inventory failed for {inventory}:\n{rc.stderr}")
    return json.loads(rc.stdout)


def group_hosts(inv: dict, group: str) -> list[str]:
    """Hosts of a group, including those of its child groups, in inventory order."""
    out: list[str] = []
    for h in inv.get(group, {}).get("hosts", []):
        if h not in out:
            out.append(h)
    for child in inv.get(group, {}).get("children", []):
        for h in group_hosts(inv, child):
            if h not in out:
                out.append(h)
    return out


def as_list(value) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def age(ts: int, now: float) -> str:
    if ts == 0:
        return "never"
    sec = int(now - ts)
    return f"{sec}s ago" if sec < 120 else f"{sec // 60}m ago"


def wg_field(container: str, iface: str, field: str) -> dict[str, str] | str | None:
    """One `wg show IFACE FIELD` query: per-peer fields as {public key: value}."""
    rc, out = pexec(container, "wg", "show", iface, field)
    if rc != 0:
        return None
    if field in ("public-key", "listen-port"):
        return out.strip()
    values: dict[str, str] = {}
    for line in out.splitlines():
        key, dummy, value = line.partition("\t")
        values[key] = value
    return values


def table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)


def ping(container: str, address: str) -> bool:
    for dummy in range(3):
        if pexec(container, "ping", "-c", "1", "-W", "1", address, timeout=10)[0] == 0:
            return True
    return False


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("inventory")
    ap.add_argument("--ansible-inventory", default=os.path.join(
        os.environ.get("VENV", ".venv"), "bin", "ansible-inventory"))
    args = ap.parse_args()

    inv = load_inventory(args.inventory, args.ansible_inventory)
    hv = inv.get("_meta", {}).get("hostvars", {})
    all_hosts = group_hosts(inv, "all")
    if not all_hosts:
        sys.exit(f"report: no hosts in {args.inventory}")
    first = hv.get(all_hosts[0], {})
    group = first.get("wireguard_network_group", "wireguard")
    hosts = group_hosts(inv, group)
    container = {h: hv.get(h, {}).get("ansible_host", h) for h in hosts}
    iface = {h: hv.get(h, {}).get("wireguard_interface", "wg0") for h in hosts}

    fleet = os.path.normpath(args.inventory)
    if os.path.isfile(fleet):
        fleet = os.path.dirname(fleet)
    print(f"\n=== lab fleet {os.path.basename(fleet)} "
          f"({first.get('wireguard_topology', '?')}) ===")

    # Public keys of the managed hosts, to name peers (public keys are not secret).
    pub = {h: wg_field(container[h], iface[h], "public-key") for h in hosts}
    name_of = {k: h for h, k in pub.items() if isinstance(k, str) and k}
    for ext in first.get("wireguard_external_peers", []) or []:
        if ext.get("public_key"):
            name_of[ext["public_key"]] = ext.get("name", "external")

    targets: list[tuple[str, str, str | None]] = []  # (label, address, owner host)
    for h in hosts:
        for addr in as_list(hv.get(h, {}).get("wireguard_address")):
            targets.append((h, addr.split("/")[0], h))
    for probe in first.get("lab_probes", []) or []:
        targets.append((probe["name"], probe["address"], probe.get("host")))

    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = {
            (h, t[1]): pool.submit(ping, container[h], t[1])
            for h in hosts if pub[h] is not None for t in targets if t[2] != h
        }
        result = {k: f.result() for k, f in futures.items()}

    now = time.time()
    missing = []
    rows = [["host", "if", "listen", "peer", "endpoint", "handshake", "received", "sent"]]
    for h in hosts:
        if pub[h] is None:
            missing.append(h)
            rows.append([h, iface[h], "-", "(no WireGuard interface)", "", "", "", ""])
            continue
        port = wg_field(container[h], iface[h], "listen-port") or "-"
        hs = wg_field(container[h], iface[h], "latest-handshakes") or {}
        tr = wg_field(container[h], iface[h], "transfer") or {}
        ep = wg_field(container[h], iface[h], "endpoints") or {}
        if not hs:
            rows.append([h, iface[h], port, "(no peers)", "", "", "", ""])
        for i, key in enumerate(sorted(hs, key=lambda k: name_of.get(k, "~" + k))):
            rx, dummy, tx = tr.get(key, "0\t0").partition("\t")
            rows.append([
                h if i == 0 else "", iface[h] if i == 0 else "", port if i == 0 else "",
                name_of.get(key, key[:10] + "…"),
                ep.get(key, "(none)"),
                age(int(hs[key] or 0), now),
                human_bytes(int(rx or 0)), human_bytes(int(tx or 0)),
            ])
    print("WireGuard peers (wg show, taken after the pings of the matrix below):")
    print(table(rows))

    good = sum(result.values())
    print(f"\nping matrix ({OK} reachable, {KO} not, {SELF} self): "
          f"{good}/{len(result)} reachable")
    rows = [["from \\ to"] + [f"{t[0]} {t[1]}" for t in targets]]
    for h in hosts:
        row = [h]
        for t in targets:
            if t[2] == h:
                row.append(SELF)
            elif h in missing:
                row.append("-")
            else:
                row.append(OK if result[(h, t[1])] else KO)
        rows.append(row)
    print(table(rows))
    if missing:
        print(f"report: no WireGuard interface on: {', '.join(missing)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
