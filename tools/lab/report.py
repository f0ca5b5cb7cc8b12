# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Print the state of one lab fleet: WireGuard peers per host and a ping matrix.

Usage: report.py INVENTORY_DIR [--ansible-inventory PATH]

For every host of the WireGuard group (``wireguard`` or ``wireguard_network_group``) it shows
listen port, and per peer: endpoint, age of the latest handshake and bytes received/sent. Keys are
read with ``wg show <if> <field>`` queries that never include the private key. Then every host pings
every tunnel address and every ``lab_probes`` address and a matrix shows reachable (✔), unreachable
(✘) and self (·). A tunnel carries nothing until its handshake is done, so right after a deployment
a first ping may fail: the pairs that did not answer are pinged again, every 2 s, for up to 30 s
(``probe``); a pair still silent then is unreachable.

Exit status 0 when every pair answered; 1, with a line naming each unreachable pair, when one did
not, or when a host has no WireGuard interface.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

OK, KO, SELF = "\u2714", "\u2718", "\u00b7"
PROBE_BUDGET = 30.0   # seconds: the whole wait for every pair to answer once
PROBE_PAUSE = 2.0     # seconds between two rounds over the pairs that did not answer yet

Pair = tuple[str, str]   # (host, address it pings)


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
    return pexec(container, "ping", "-c", "1", "-W", "1", address, timeout=10)[0] == 0


def probe(pairs: list[Pair], check: Callable[[list[Pair]], dict[Pair, bool]],
          budget: float = PROBE_BUDGET, pause: float = PROBE_PAUSE,
          clock: Callable[[], float] | None = None,
          sleep: Callable[[float], None] | None = None) -> tuple[dict[Pair, bool], int]:
    """Ping every pair, then again only those that did not answer, with ``pause`` between rounds,
    until all answered or ``budget`` seconds are spent: a first ping right after a deployment may
    go out before the tunnel's handshake, one that still fails after the budget is a real failure.
    ``check`` pings a list of pairs (in parallel) and says which answered. Returns (reachable per
    pair, rounds made)."""
    clock, sleep = clock or time.monotonic, sleep or time.sleep
    result = dict.fromkeys(pairs, False)
    pending, rounds, start = list(pairs), 0, clock()
    while pending:
        rounds += 1
        began = clock()
        answered = check(pending)
        for pair in pending:
            result[pair] = bool(answered.get(pair))
        pending = [pair for pair in pending if not result[pair]]
        now = clock()
        # stop when the pause and one more round as long as this one would overrun the budget
        if not pending or (now - start) + pause + (now - began) > budget:
            break
        sleep(pause)
    return result, rounds


def unreachable(result: dict[Pair, bool], names: dict[str, str]) -> list[str]:
    """One line per pair that never answered, naming both ends (empty when all did)."""
    return [f"unreachable: {host} -> {names.get(address, address)} {address}"
            for (host, address), ok in result.items() if not ok]


def exit_status(result: dict[Pair, bool], missing: list[str]) -> int:
    """The report fails when a host has no interface or a pair is unreachable: nothing to retry."""
    return 1 if missing or not all(result.values()) else 0


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
    for extra in first.get("lab_probes", []) or []:
        targets.append((extra["name"], extra["address"], extra.get("host")))

    pairs = [(h, t[1]) for h in hosts if pub[h] is not None for t in targets if t[2] != h]
    with ThreadPoolExecutor(max_workers=8) as pool:
        def check(pending: list[Pair]) -> dict[Pair, bool]:
            return dict(zip(pending, pool.map(lambda pair: ping(container[pair[0]], pair[1]), pending)))
        started = time.monotonic()
        result, rounds = probe(pairs, check)
        waited = time.monotonic() - started

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
          f"{good}/{len(result)} reachable"
          + (f" (pairs that did not answer retried: {rounds} rounds in {waited:.0f} s)" if rounds > 1 else ""))
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
    print(table(rows), flush=True)   # before the stderr lines below, also through a pipe
    if missing:
        print(f"report: no WireGuard interface on: {', '.join(missing)}", file=sys.stderr)
    for line in unreachable(result, {t[1]: t[0] for t in targets}):
        print(f"report: {line} (no answer within {PROBE_BUDGET:.0f} s)", file=sys.stderr)
    return exit_status(result, missing)


if __name__ == "__main__":
    sys.exit(main())
