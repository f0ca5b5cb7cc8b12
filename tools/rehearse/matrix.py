# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rehearsal's report (pure): the matrix the plan intends next to what the pings found, and a
diagnosis of every pair that differs from the plan's intention."""
from __future__ import annotations

YES, NO, SELF, NONE = '\u2714', '\u2718', '\u00b7', '-'


def cell(verdict, answered):
    """``plan found``: ✔ ✔ intended and answered, ✔ ✘ intended but silent, - - neither, - ✔ an answer
    the plan does not intend (a leak or a path around the tunnel)."""
    return '%s %s' % (YES if verdict.intended else NONE, (YES if answered else NO) if verdict.intended or answered else NONE)


def table(rows):
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return '\n'.join('  '.join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)


def render(inventory, group, plan, columns, intended, found):
    """The heading, the legend and the matrix (one row per host, one column per target)."""
    topology = next(iter(plan.values()))['topology'] if plan else '?'
    wanted = sum(1 for v in intended.values() if v.intended)
    as_planned = sum(1 for pair, v in intended.items() if v.intended == found[pair])
    rows = [['from \\ to'] + ['%s %s' % (t.label, t.address) for t in columns]]
    for host in sorted(plan):
        rows.append([host] + [SELF if t.owner == host else cell(intended[(host, t.address)], found[(host, t.address)])
                              for t in columns])
    lines = [
        '',
        '=== rehearsal of %s (group %s, %s, %d hosts) ===' % (inventory, group, topology, len(plan)),
        'each cell: what the plan intends, then what the ping found (%s reachable, %s no answer, %s not intended, %s self)'
        % (YES, NO, NONE, SELF),
        table(rows),
        '%d of %d pairs as the plan intends (%d intended reachable)%s' % (
            as_planned, len(intended), wanted, '' if as_planned == len(intended) else ': FAILED'),
    ]
    lines[4:4] = ['LANs: ' + ', '.join('%s %s (LAN host %s)' % (t.label, t.prefix, t.address) for t in columns if t.kind == 'lan')] \
        if any(t.kind == 'lan' for t in columns) else []
    return '\n'.join(lines)


def _peer_line(host, status, peer):
    """One peer of wireguard_status_info's result: endpoint, handshake age, transfer."""
    for entry in (status or {}).get('peers') or []:
        if entry.get('name') == peer:
            age = entry.get('handshake_age')
            return ('  %s: peer %s: endpoint %s, latest handshake %s, received %d B, sent %d B'
                    % (host, peer, entry.get('endpoint') or '(none)', 'never' if age is None else '%d s ago' % age,
                       entry.get('transfer_rx') or 0, entry.get('transfer_tx') or 0))
    if status and not status.get('up'):
        return '  %s: no WireGuard interface %s' % (host, (status.get('interface') or {}).get('name', ''))
    return '  %s: peer %s is not running on the interface' % (host, peer)


def diagnosis(failures, intended, found):
    """Per failing pair: the plan's path or reason, ip route get on the source, and the WireGuard
    state both ends of its first hop report for each other."""
    lines = ['', 'diagnosis:']
    for host, address in failures:
        verdict = intended[(host, address)]
        if verdict.intended:
            lines.append('%s -> %s: no answer; the plan routes it %s' % (host, address, ' -> '.join(verdict.path)))
        else:
            lines.append('%s -> %s: answered, but the plan does not intend it (%s)' % (host, address, verdict.reason))
        route = ((found.get(host) or {}).get('routes') or {}).get(address)
        lines.append('  %s: ip route get %s: %s' % (host, address, ' '.join((route or '(not read)').split())))
        for hop in verdict.path[1:2]:
            lines.append(_peer_line(host, (found.get(host) or {}).get('status'), hop))
            lines.append(_peer_line(hop, (found.get(hop) or {}).get('status'), host))
    return '\n'.join(lines)
