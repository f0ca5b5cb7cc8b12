# -*- coding: utf-8 -*-
# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The network as a picture: Graphviz DOT computed from the plan (render.yml writes it).

Controller only; the ``graphviz`` Python package builds the DOT text (no binary needed for it);
``svg`` asks the ``dot`` binary, when installed, for an SVG of it. No ansible imports, ValueError.

Hosts are drawn by role (hub/relay: double octagon, gateway: box, client/member/spoke: ellipse),
hosts without an endpoint (behind NAT) dashed, devices Ansible does not manage as components,
LANs as folders. One edge per peer pair, labelled with what each side routes to the other
(summarised); pairs that reach each other only through a relay are drawn dashed and grey.
"""

from __future__ import annotations

SHAPES = {'hub': 'doubleoctagon', 'relay': 'doubleoctagon', 'gateway': 'box', 'client': 'ellipse',
          'member': 'ellipse', 'spoke': 'ellipse'}
MAX_PREFIXES = 3


def _graphviz():
    try:
        import graphviz
    except ImportError:
        raise ValueError('the network picture needs the Python package graphviz on the controller '
                         '(pip install graphviz)') from None
    return graphviz


def summary(prefixes):
    """``a, b, c (+N more)``: an edge label stays readable for a relay with hundreds of prefixes."""
    shown = ', '.join(prefixes[:MAX_PREFIXES])
    more = len(prefixes) - MAX_PREFIXES
    return shown + (' (+%d more)' % more if more > 0 else '')


def _endpoints(plan):
    """Host -> the endpoint its peers use for it (None: no endpoint, behind NAT or a client)."""
    found = {}
    for entry in plan.values():
        for peer in entry['peers']:
            if peer.get('endpoint'):
                found[peer['name']] = peer['endpoint']
    return found


def _host_node(graph, name, entry, endpoint):
    label = '%s\\n%s · %s' % (name, entry['role'], ', '.join(entry['addresses']))
    label += '\\nendpoint %s' % endpoint if endpoint else '\\nno endpoint'
    style = 'filled' + (',dashed' if not endpoint else '')
    fill = 'lightblue' if entry['role'] in ('hub', 'relay') else 'white'
    graph.node(name, label, shape=SHAPES.get(entry['role'], 'ellipse'), style=style, fillcolor=fill)
    for lan in entry['routing']['lan_subnets']:
        graph.node('lan %s' % lan, 'LAN %s' % lan, shape='folder')
        graph.edge(name, 'lan %s' % lan, style='dotted', arrowhead='none')


def _pair_edges(graph, plan):
    """One edge per pair of peers, both directions' AllowedIPs in its label."""
    routes = {(host, peer['name']): peer['allowed_ips'] for host, entry in plan.items() for peer in entry['peers']}
    done = set()
    for (host, peer), allowed in sorted(routes.items()):
        pair = tuple(sorted((host, peer)))
        if pair in done:
            continue
        done.add(pair)
        lines = ['%s → %s: %s' % (host, peer, summary(allowed))]
        if (peer, host) in routes:
            lines.append('%s → %s: %s' % (peer, host, summary(routes[(peer, host)])))
        graph.edge(pair[0], pair[1], label='\\n'.join(lines), fontsize='9')
    return done


def _devices(graph, plan):
    """Peers that are in no plan entry of their own: devices (wireguard_external_peers)."""
    for host, entry in sorted(plan.items()):
        for peer in entry['peers']:
            if peer['name'] not in plan:
                graph.node(peer['name'], '%s\\ndevice · %s' % (peer['name'], ', '.join(peer['allowed_ips'])),
                           shape='component', style='dashed')


def _relayed(graph, plan, direct):
    """Managed pairs without a peer entry, in networks with a relay: they go through it."""
    relays = [h for h, e in plan.items() if e['role'] == 'relay' and e['topology'] in ('mesh', 'site_to_site')]
    if not relays:
        return
    names = sorted(plan)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            if (a, b) not in direct:
                graph.edge(a, b, label='relayed via %s' % relays[0], style='dashed', color='grey',
                           fontcolor='grey', fontsize='9')


def network_dot(plan, group='wireguard'):
    """The DOT text of the network of ``plan`` (host -> plan entry); deterministic."""
    if not plan:
        raise ValueError('an empty plan has no picture')
    first = plan[sorted(plan)[0]]
    graph = _graphviz().Graph(name=first['interface'], strict=False, graph_attr={
        'label': '%s: %s network of the group %s (netfleet.wireguard)' % (first['interface'], first['topology'], group),
        'labelloc': 't', 'fontsize': '12', 'overlap': 'false'}, node_attr={'fontsize': '10'})
    endpoints = _endpoints(plan)
    for name in sorted(plan):
        _host_node(graph, name, plan[name], endpoints.get(name))
    _devices(graph, plan)
    direct = _pair_edges(graph, plan)
    _relayed(graph, plan, direct)
    return graph.source


def svg(dot_text):
    """SVG of ``dot_text`` from the ``dot`` binary, or None when Graphviz is not installed."""
    graphviz = _graphviz()
    try:
        return graphviz.Source(dot_text).pipe(format='svg').decode('utf-8')
    except graphviz.ExecutableNotFound:
        return None
