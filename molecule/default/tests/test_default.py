# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Verify of the default scenario (hub + spoke, bastion topology).

Uses testinfra's podman backend (one `podman exec` per command) and, for the behaviour tests,
runs the collection's playbooks/site.yml against Molecule's inventory. The tests run in file
order and leave the network converged after each step.
"""
from __future__ import annotations

import base64
import hashlib
import os
import re
import subprocess
import time
from pathlib import Path

import pytest
import testinfra

HUB, SPOKE = "nfdefault-hub", "nfdefault-spoke"
HUB_IP, SPOKE_IP, PHONE_IP = "10.77.0.1", "10.77.0.2", "10.77.0.50"
PSK_DIR = "/etc/wireguard/wg0.psk.d"
REPO = Path(__file__).resolve().parents[3]
SITE = REPO / "playbooks" / "site.yml"


@pytest.fixture(scope="module")
def hub():
    return testinfra.get_host("podman://" + HUB)


@pytest.fixture(scope="module")
def spoke():
    return testinfra.get_host("podman://" + SPOKE)


def inventory():
    path = os.environ.get("MOLECULE_INVENTORY_FILE")
    if not path:
        path = str(Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "inventory" / "ansible_inventory.yml")
    return path


def converge(*extra, expect_ok=True):
    env = dict(os.environ)
    env["ANSIBLE_COLLECTIONS_PATH"] = str(REPO / ".cache" / "collections")
    env["ANSIBLE_ROLES_PATH"] = str(REPO / "roles")
    env.pop("ANSIBLE_CONFIG", None)
    env["ANSIBLE_NOCOLOR"] = "1"
    proc = subprocess.run(
        ["ansible-playbook", "-i", inventory(), str(SITE), *extra],
        cwd=str(REPO), env=env, capture_output=True, text=True, timeout=900, check=False,
    )
    output = proc.stdout + proc.stderr
    if expect_ok:
        assert proc.returncode == 0, output[-4000:]
    return proc.returncode, output


def ping_ok(host, target, within=10.0):
    deadline = time.monotonic() + within
    while True:
        if host.run("ping -c1 -W1 %s", target).rc == 0:
            return True
        if time.monotonic() > deadline:
            return False


def wg_peers(host):
    return set(host.check_output("wg show wg0 peers").split())


def wg_identity(host):
    """(ifindex, wireguard-go pid or 'kernel') - changes when the interface is recreated."""
    ifindex = host.check_output("cat /sys/class/net/wg0/ifindex")
    pid = host.run("pgrep -x wireguard-go").stdout.strip() or "kernel"
    return ifindex, pid


def fresh_public_key():
    x25519 = pytest.importorskip("cryptography.hazmat.primitives.asymmetric.x25519")
    serialization = pytest.importorskip("cryptography.hazmat.primitives.serialization")
    pub = x25519.X25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(pub).decode()


def running_psks(host):
    """{peer public key: preshared key or '(none)'} of the running interface (never printed)."""
    return dict(line.split("\t") for line in host.check_output("wg show wg0 preshared-keys").splitlines())


def psk_file(host, peer):
    return host.check_output("cat %s/%s.psk" % (PSK_DIR, peer)).strip()


def fingerprint(key):
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def assert_psks_agree(hub, spoke):
    """Both hosts run the same non-empty preshared key for each other, the one in their files.

    Only booleans and fingerprints reach the assertion messages, never a key.
    """
    hub_key, spoke_key = hub.check_output("wg show wg0 public-key"), spoke.check_output("wg show wg0 public-key")
    on_hub, on_spoke = running_psks(hub)[spoke_key], running_psks(spoke)[hub_key]
    assert on_hub != "(none)" and on_spoke != "(none)", "no preshared key on the running interface"
    same = on_hub == on_spoke
    assert same, "hub and spoke run different preshared keys (%s vs %s)" % (fingerprint(on_hub), fingerprint(on_spoke))
    assert psk_file(hub, SPOKE) == on_hub and psk_file(spoke, HUB) == on_spoke, "running key is not the file's"
    return on_hub


# ----------------------------------------------------------------------------- basic state

@pytest.mark.parametrize("name", [HUB, SPOKE])
def test_key_and_config_files_are_root_only(name):
    host = testinfra.get_host("podman://" + name)
    for path in ("/etc/wireguard/wg0.key", "/etc/wireguard/wg0.conf"):
        f = host.file(path)
        assert f.exists and f.user == "root" and f.group == "root"
        assert f.mode == 0o600, "%s on %s has mode %o" % (path, name, f.mode)
    assert host.service("wg-quick@wg0").is_enabled


@pytest.mark.parametrize("name,peer", [(HUB, SPOKE), (SPOKE, HUB)])
def test_preshared_key_files_are_root_only(name, peer):
    host = testinfra.get_host("podman://" + name)
    d = host.file(PSK_DIR)
    assert d.is_directory and d.user == "root" and d.group == "root" and d.mode == 0o700
    assert host.check_output("ls -A %s" % PSK_DIR).split() == [peer + ".psk"]
    f = host.file("%s/%s.psk" % (PSK_DIR, peer))
    assert f.user == "root" and f.group == "root" and f.mode == 0o600, "%s on %s has mode %o" % (f.path, name, f.mode)


def test_hub_and_spoke_run_the_same_preshared_key(hub, spoke):
    assert_psks_agree(hub, spoke)
    for host in (hub, spoke):
        assert host.check_output("grep -c '^PresharedKey = ' /etc/wireguard/wg0.conf") == "1"


def test_handshake_and_ping_through_tunnel(hub, spoke):
    assert ping_ok(spoke, HUB_IP), "spoke cannot reach the hub through the tunnel"
    assert ping_ok(hub, SPOKE_IP), "hub cannot reach the spoke through the tunnel"
    handshakes = hub.check_output("wg show wg0 latest-handshakes").split()
    assert len(handshakes) == 2 and int(handshakes[1]) > 0


def test_running_keys_match_registry(hub, spoke):
    import yaml
    registry = yaml.safe_load((Path(inventory()).parent / ".wireguard_public_keys.yml").read_text())
    assert registry["wg0"][HUB] == hub.check_output("wg show wg0 public-key")
    assert registry["wg0"][SPOKE] == spoke.check_output("wg show wg0 public-key")
    assert wg_peers(hub) == {registry["wg0"][SPOKE]}


# ----------------------------------------------------------------------------- metrics

METRICS_DIR = "/var/lib/prometheus/node-exporter"
METRICS_TIMER = "netfleet-wireguard-metrics-wg0.timer"
METRICS_FILES = ("/etc/systemd/system/netfleet-wireguard-metrics-wg0.service",
                 "/etc/systemd/system/" + METRICS_TIMER,
                 "/etc/systemd/system/timers.target.wants/" + METRICS_TIMER,
                 "/usr/local/lib/netfleet-wireguard-metrics-wg0.py", "/etc/wireguard/wg0.metrics.json",
                 METRICS_DIR + "/netfleet_wireguard_wg0.prom")


def wg_transfer(host):
    """{peer public key: (latest handshake, rx, tx)} from `wg show wg0 dump` (the first line, which holds
    the private key, is skipped)."""
    lines = host.check_output("wg show wg0 dump").splitlines()[1:]
    return {f[0]: (int(f[4]), int(f[5]), int(f[6])) for f in (line.split("\t") for line in lines)}


def collected_metrics(host):
    """Run the collector's service once (oneshot: returns when written); the dump before and after it and
    the file it wrote, parsed as Prometheus text format: {metric: {(peer name, public key): value}}."""
    from prometheus_client.parser import text_string_to_metric_families
    before = wg_transfer(host)
    host.check_output("systemctl start netfleet-wireguard-metrics-wg0.service")
    after = wg_transfer(host)
    values = {}
    for family in text_string_to_metric_families(host.check_output("cat %s/netfleet_wireguard_wg0.prom", METRICS_DIR)):
        for sample in family.samples:
            values.setdefault(sample.name, {})[(sample.labels.get("peer"), sample.labels.get("public_key"))] = \
                sample.value
    return before, after, values


@pytest.mark.parametrize("name,peer", [(HUB, SPOKE), (SPOKE, HUB)])
def test_metrics_match_wg_show_and_name_the_peer_by_its_inventory_name(name, peer):
    host, other = testinfra.get_host("podman://" + name), testinfra.get_host("podman://" + peer)
    assert host.check_output("systemctl is-active %s", METRICS_TIMER) == "active"
    assert host.check_output("systemctl is-enabled %s", METRICS_TIMER) == "enabled"
    assert ping_ok(host, SPOKE_IP if name == HUB else HUB_IP), "no traffic through the tunnel"
    key = other.check_output("wg show wg0 public-key")
    before, after, values = collected_metrics(host)
    labels = (peer, key)
    handshake = values["netfleet_wireguard_peer_latest_handshake_timestamp_seconds"][labels]
    assert handshake > 0 and handshake in (before[key][0], after[key][0])
    for index, metric in ((1, "netfleet_wireguard_peer_receive_bytes_total"),
                          (2, "netfleet_wireguard_peer_transmit_bytes_total")):
        # the keepalives may move bytes between the two reads: the file's value lies between them
        assert before[key][index] <= values[metric][labels] <= after[key][index], metric
        assert values[metric][labels] > 0
    assert 0 <= values["netfleet_wireguard_peer_handshake_age_seconds"][labels] < 180
    # the spoke behind NAT sends keepalives: the plan keeps this tunnel up on both sides
    for metric in ("peer_up", "peer_planned", "peer_expected_up"):
        assert values["netfleet_wireguard_" + metric][labels] == 1, metric
    assert values["netfleet_wireguard_planned_peer_missing"] == {labels: 0}
    assert set(values["netfleet_wireguard_peer_planned"]) == {labels}, "a peer without its inventory name"
    f = host.file(METRICS_DIR + "/netfleet_wireguard_wg0.prom")
    assert f.mode == 0o644 and f.user == "root"
    assert host.check_output("ls -A %s", METRICS_DIR) == "netfleet_wireguard_wg0.prom", "temp file left behind"


def test_metrics_off_removes_timer_units_and_files_exactly_and_on_brings_them_back(hub):
    assert all(hub.file(path).exists for path in METRICS_FILES)
    converge("--limit", HUB, "-e", '{"wireguard_metrics_enabled": false}')
    assert [path for path in METRICS_FILES if hub.file(path).exists] == []
    assert hub.run("systemctl is-active %s", METRICS_TIMER).stdout.strip() == "inactive"
    assert hub.file(METRICS_DIR).is_directory, "the textfile directory belongs to node_exporter"
    converge("--limit", HUB)
    assert all(hub.file(path).exists for path in METRICS_FILES)
    assert hub.check_output("systemctl is-active %s", METRICS_TIMER) == "active"


def test_adding_a_peer_is_live_without_packet_loss_and_vvv_shows_no_key(hub, spoke):
    """(a) live peer add under a continuous ping, and (d) a -vvv converge leaks no private key."""
    phone_key = fresh_public_key()
    before_hub, before_spoke = wg_identity(hub), wg_identity(spoke)
    spoke.check_output("rm -f /tmp/ping.log; (ping -i 0.2 -W1 %s > /tmp/ping.log 2>&1 &)" % HUB_IP)
    try:
        rc, out = converge("-vvv", "-e", '{"wireguard_external_peers": [{"name": "phone", "public_key": "%s", '
                                         '"address": "%s/32"}]}' % (phone_key, PHONE_IP))
        time.sleep(1)
    finally:
        spoke.run("pkill -INT -x ping")
    time.sleep(0.5)
    log = spoke.check_output("cat /tmp/ping.log")
    summary = [line for line in log.splitlines() if "packets transmitted" in line]
    assert summary, log[-500:]
    sent, received = int(summary[0].split()[0]), int(summary[0].split()[3])
    replies = sorted(int(m) for m in re.findall(r"icmp_seq=(\d+)", log))
    print("live add: %d sent, %d received" % (sent, received))
    # no gap in the replies; only the echo still in flight when ping was interrupted may lack one
    assert sent > 20 and replies == list(range(1, len(replies) + 1)) and sent - len(replies) <= 1, summary[0]
    assert phone_key in wg_peers(hub)
    assert wg_identity(hub) == before_hub and wg_identity(spoke) == before_spoke, "interface was restarted"
    # the spoke now routes the phone's address to the hub (the bastion relays between peers)
    assert PHONE_IP + "/32" in spoke.check_output("wg show wg0 allowed-ips")
    for host in (hub, spoke):
        private = host.check_output("cat /etc/wireguard/wg0.key").strip()
        leaked = private in out
        assert len(private) == 44 and not leaked, "private key in -vvv output"
    for host, peer in ((hub, SPOKE), (spoke, HUB)):
        psk = psk_file(host, peer)
        leaked = psk in out
        assert len(psk) == 44 and not leaked, "preshared key in -vvv output"
    # the phone (external peer) has no preshared key, the spoke keeps its own
    assert running_psks(hub)[phone_key] == "(none)"
    assert_psks_agree(hub, spoke)


def test_wrong_key_breaks_tunnel_and_limit_run_repairs_it_live_leaving_other_host_alone(hub, spoke):
    """A wrong peer key stops traffic (so the ping checks would catch a broken tunnel); a --limit run
    on the hub repairs that drift live, and the spoke (outside --limit) keeps its peers."""
    spoke_key = spoke.check_output("wg show wg0 public-key")
    spoke_allowed = spoke.check_output("wg show wg0 allowed-ips")
    wrong = fresh_public_key()
    hub.check_output("wg set wg0 peer %s remove && wg set wg0 peer %s allowed-ips %s/32"
                     % (spoke_key, wrong, SPOKE_IP))
    identity = wg_identity(hub)
    try:
        assert not ping_ok(spoke, HUB_IP, within=3), "tunnel still passed traffic with a wrong peer key"
        _before, _after, metrics = collected_metrics(hub)
    finally:
        converge("--limit", HUB)  # without the phone: the hub drops it too
    # the metrics showed the drift: the wrong key as a peer the plan does not know, the spoke missing;
    # the phone added by the previous run is still planned there, named by its device name
    planned = metrics["netfleet_wireguard_peer_planned"]
    assert planned[("", wrong)] == 0 and [value for (name, _key), value in planned.items() if name == "phone"] == [1]
    assert metrics["netfleet_wireguard_planned_peer_missing"][(SPOKE, spoke_key)] == 1
    assert ping_ok(spoke, HUB_IP, within=15)
    assert wg_peers(hub) == {spoke_key}
    assert wg_identity(hub) == identity, "drift repair restarted the interface"
    assert spoke.check_output("wg show wg0 allowed-ips") == spoke_allowed, "--limit run touched the spoke"


def test_a_config_that_fails_to_come_up_is_rolled_back(hub, spoke):
    """(c) the new listen port is taken by another program, so the interface cannot come up with the
    new file; the old file comes back and carries traffic."""
    good = hub.check_output("cat /etc/wireguard/wg0.conf")
    peers = wg_peers(hub)
    hub.check_output("setsid nohup nc -u -l 51999 >/dev/null 2>&1 < /dev/null &")
    try:
        rc, out = converge("--limit", HUB, "-e", '{"wireguard_listen_port": 51999}', expect_ok=False)
    finally:
        hub.run("pkill -f 'nc -u -l 51999'")
    assert rc != 0
    assert "previous configuration was restored" in out, out[-3000:]
    assert hub.check_output("cat /etc/wireguard/wg0.conf") == good
    assert wg_peers(hub) == peers
    assert ping_ok(spoke, HUB_IP, within=25), "old tunnel does not pass traffic after the rollback"


# ----------------------------------------------------------------------------- preshared keys

def test_differing_preshared_keys_are_repaired_live_with_the_first_hosts_key(hub, spoke):
    """The spoke's key file is replaced by hand: the next run puts the hub's key (first by name)
    back on the spoke and into its running interface, without restarting either interface."""
    before = assert_psks_agree(hub, spoke)
    identities = wg_identity(hub), wg_identity(spoke)
    spoke.check_output("wg genpsk > %s/%s.psk" % (PSK_DIR, HUB))
    tampered = psk_file(spoke, HUB)
    # --check --diff first: it sees the repair coming, changes nothing and shows no key
    rc, out = converge("--check", "--diff", "-vvv")
    assert "repaired with the key of %s" % HUB in " ".join(out.split()), out[-3000:]
    for key in (before, tampered):
        leaked = key in out
        assert not leaked, "preshared key in --check --diff -vvv output"
    unchanged = psk_file(spoke, HUB) == tampered
    assert unchanged, "check mode changed the key file"
    rc, out = converge()
    note = "%s-%s: the two hosts held different preshared keys; repaired with the key of %s" % (HUB, SPOKE, HUB)
    assert note in " ".join(out.split()), out[-3000:]
    after = assert_psks_agree(hub, spoke)
    kept = after == before
    assert kept, "the hub's key was not the one kept"
    assert (wg_identity(hub), wg_identity(spoke)) == identities, "an interface was restarted"
    assert ping_ok(spoke, HUB_IP, within=15)
    assert spoke.file("%s/%s.psk" % (PSK_DIR, HUB)).mode == 0o600


def test_turning_preshared_keys_off_and_on_is_live(hub, spoke):
    identities = wg_identity(hub), wg_identity(spoke)
    converge("-e", '{"wireguard_preshared_keys": false}')
    assert set(running_psks(hub).values()) == {"(none)"} and set(running_psks(spoke).values()) == {"(none)"}
    assert not re.search(r"^PresharedKey\s*=", hub.check_output("cat /etc/wireguard/wg0.conf"), re.M)
    assert ping_ok(spoke, HUB_IP, within=15)
    # back on: both files are still there and agree, so nothing is sealed or written, only applied
    rc, out = converge()
    assert "preshared key copied" not in out and "new preshared key" not in out
    assert_psks_agree(hub, spoke)
    assert (wg_identity(hub), wg_identity(spoke)) == identities, "an interface was restarted"
    assert ping_ok(spoke, HUB_IP, within=15)


def test_limit_without_the_peer_fails_before_any_change_when_no_key_can_be_agreed(hub, spoke):
    """--limit hub with the hub's key file gone: the pair's key cannot come from the spoke (not in
    the run), so the run fails in the pre-flight, naming host, peer and variable, and changes nothing."""
    conf = hub.check_output("sha256sum /etc/wireguard/wg0.conf")
    running = fingerprint(running_psks(hub)[spoke.check_output("wg show wg0 public-key")])
    hub.check_output("mv %s/%s.psk /root/psk.bak" % (PSK_DIR, SPOKE))
    try:
        rc, out = converge("--limit", HUB, expect_ok=False)
        assert rc != 0
        message = "%s: wireguard_preshared_keys: the pair %s-%s needs a preshared key, %s has none and %s is not " \
                  "in this run" % (HUB, HUB, SPOKE, HUB, SPOKE)
        assert message in " ".join(out.split()), out[-3000:]
        assert hub.check_output("sha256sum /etc/wireguard/wg0.conf") == conf
        assert not hub.file("%s/%s.psk" % (PSK_DIR, SPOKE)).exists, "a key was created anyway"
        assert fingerprint(running_psks(hub)[spoke.check_output("wg show wg0 public-key")]) == running
    finally:
        hub.check_output("mv /root/psk.bak %s/%s.psk" % (PSK_DIR, SPOKE))
    assert_psks_agree(hub, spoke)


def test_review_copies_equal_the_deployed_files(tmp_path):
    """render.yml with the hosts' facts writes what site.yml deployed, byte for byte, apart from the
    PrivateKey and PresharedKey lines wireguard_apply inserts on the hosts (this pair has a PSK)."""
    import sys
    import types
    sys.path.insert(0, str(REPO / "molecule" / "_shared" / "tests"))
    from lab_node import render_with_host_facts, review_differences

    def node(name):
        return types.SimpleNamespace(host=testinfra.get_host("podman://" + name))
    out = render_with_host_facts(tmp_path / "render")
    assert review_differences(node, [HUB, SPOKE], out) == []
