# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Per-peer metrics of one WireGuard interface for node_exporter's textfile collector.

Installed by the netfleet.wireguard.wireguard_metrics role and run by its systemd timer:

    python3 -I netfleet_wireguard_metrics.py --names /etc/wireguard/wg0.metrics.json \\
        --output /var/lib/prometheus/node-exporter/netfleet_wireguard_wg0.prom

Reads ``wg show all dump`` and the names file the role writes from the plan (public key -> inventory
host or device name, whether the plan keeps the tunnel up) and replaces the output file atomically
(temp file in the same directory, then rename: node_exporter never reads half a file, and it ignores
names not ending in .prom). Standard library only: hosts need no extra package. The private key the
dump prints is never kept.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

PREFIX = "netfleet_wireguard_"
# WireGuard's Reject-After-Time: session keys older than this carry no data, a new handshake must come first
UP_WITHIN_SECONDS = 180
# name (without the prefix), type, help; every metric the file holds, in this order
METRICS = (
    ("interface_up", "gauge", "1 when the interface exists"),
    ("peer_latest_handshake_timestamp_seconds", "gauge", "Unix time of the latest handshake with the peer, 0 for never"),
    ("peer_handshake_age_seconds", "gauge", "Seconds since the latest handshake with the peer, +Inf for never"),
    ("peer_up", "gauge", "1 when the latest handshake is younger than %d s (the session can carry data)"
     % UP_WITHIN_SECONDS),
    ("peer_receive_bytes", "counter", "Bytes received from the peer"),
    ("peer_transmit_bytes", "counter", "Bytes sent to the peer"),
    ("peer_planned", "gauge", "1 when the plan has this peer, 0 for a peer the plan does not know"),
    ("peer_expected_up", "gauge", "1 when the plan keeps the tunnel up without traffic (persistent keepalive)"),
    ("planned_peer_missing", "gauge", "1 when a peer of the plan is not configured on the interface"),
)
TYPES = {name: kind for name, kind, _help in METRICS}


def parse_all_dump(text, interface):
    """(interface found, {public key: {latest_handshake, transfer_rx, transfer_tx}}) from ``wg show all dump``."""
    found, peers = False, {}
    for line in text.splitlines():
        fields = line.split("\t")
        if fields[0] != interface:
            continue
        if len(fields) == 5:
            # interface line: name, private key, public key, port, fwmark (the private key is not kept)
            found = True
        elif len(fields) == 9:
            peers[fields[1]] = {"latest_handshake": int(fields[5]), "transfer_rx": int(fields[6]),
                                "transfer_tx": int(fields[7])}
        else:
            raise ValueError("unexpected line in wg show all dump (%d fields)" % len(fields))
    return found, peers


def samples(names, found, peers, now):
    """[(metric, labels, value)] for the interface ``names`` describes."""
    interface = names["interface"]
    planned = names.get("peers") or {}
    out = [("interface_up", {"host": names.get("host", ""), "interface": interface}, 1 if found else 0)]
    for key in sorted(peers, key=lambda k: ((planned.get(k) or {}).get("name") or "~", k)):
        run, plan = peers[key], planned.get(key) or {}
        labels = {"interface": interface, "peer": plan.get("name", ""), "public_key": key}
        handshake = run["latest_handshake"]
        age = max(0, now - handshake) if handshake else math.inf
        out += [
            ("peer_latest_handshake_timestamp_seconds", labels, handshake),
            ("peer_handshake_age_seconds", labels, age),
            ("peer_up", labels, 1 if age < UP_WITHIN_SECONDS else 0),
            ("peer_receive_bytes", labels, run["transfer_rx"]),
            ("peer_transmit_bytes", labels, run["transfer_tx"]),
            ("peer_planned", labels, 1 if plan else 0),
            ("peer_expected_up", labels, 1 if plan.get("expected_up") else 0),
        ]
    for key in sorted(planned, key=lambda k: planned[k]["name"]):
        labels = {"interface": interface, "peer": planned[key]["name"], "public_key": key}
        out.append(("planned_peer_missing", labels, 0 if key in peers else 1))
    return out


def _escape(value):
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value):
    if value == math.inf:
        return "+Inf"
    return repr(value) if isinstance(value, float) else str(int(value))


def exposition(rows):
    """Prometheus text format (version 0.0.4) of ``rows``, grouped by metric in the order of METRICS."""
    lines = []
    for name, kind, help_text in METRICS:
        mine = [(labels, value) for metric, labels, value in rows if metric == name]
        if not mine:
            continue
        full = PREFIX + name + ("_total" if kind == "counter" else "")
        lines += ["# HELP %s %s" % (full, help_text), "# TYPE %s %s" % (full, kind)]
        for labels, value in mine:
            text = ",".join('%s="%s"' % (key, _escape(labels[key])) for key in sorted(labels))
            lines.append("%s{%s} %s" % (full, text, _number(value)))
    return "\n".join(lines) + "\n"


def write_atomically(path, text):
    """Replace ``path`` with ``text``: a temp file in the same directory, then rename."""
    directory, base = os.path.split(path)
    handle, temp = tempfile.mkstemp(prefix="." + base + ".", suffix=".tmp", dir=directory or ".")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fchmod(stream.fileno(), 0o644)
            os.fsync(stream.fileno())
        os.replace(temp, path)
    except BaseException:
        os.unlink(temp)
        raise


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--names", required=True, help="names file written by the wireguard_metrics role")
    parser.add_argument("--output", required=True, help="the .prom file to replace")
    parser.add_argument("--wg", default="wg", help="the wg command")
    args = parser.parse_args(argv)
    with open(args.names, encoding="utf-8") as stream:
        names = json.load(stream)
    dump = subprocess.run([args.wg, "show", "all", "dump"], capture_output=True, text=True, check=False)
    if dump.returncode != 0:
        sys.stderr.write("wg show all dump failed (%d): %s\n" % (dump.returncode, dump.stderr.strip()))
        return 1
    found, peers = parse_all_dump(dump.stdout, names["interface"])
    write_atomically(args.output, exposition(samples(names, found, peers, int(time.time()))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
