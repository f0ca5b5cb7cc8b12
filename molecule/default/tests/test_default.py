# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Verify of the default scenario (hub + spoke, bastion topology).

Uses testinfra's podman backend (one `podman exec` per command) and, for the behaviour tests,
runs the collection's playbooks/site.yml against Molecule's inventory. The tests run in file
order and leave the network converged after each step.
"""
from __future__ import annotations

import base64
import os
import subprocess
import time
from pathlib import Path

import pytest
import testinfra

HUB, SPOKE = "nfdefault-hub", "nfdefault-spoke"
HUB_IP, SPOKE_IP, PHONE_IP = "10.77.0.1", "10.77.0.2", "10.77.0.50"
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


# ----------------------------------------------------------------------------- basic state

@pytest.mark.parametrize("name", [HUB, SPOKE])
def test_key_and_config_files_are_root_only(name):
    host = testinfra.get_host("podman://" + name)
    for path in ("/etc/wireguard/wg0.key", "/etc/wireguard/wg0.conf"):
        f = host.file(path)
        assert f.exists and f.user == "root" and f.group == "root"
        assert f.mode == 0o600, "%s on %s has mode %o" % (path, name, f.mode)
    assert host.service("wg-quick@wg0").is_enabled


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
    print("live add: %d sent, %d received" % (sent, received))
    assert sent > 20 and received == sent, summary[0]
    assert phone_key in wg_peers(hub)
    assert wg_identity(hub) == before_hub and wg_identity(spoke) == before_spoke, "interface was restarted"
    # the spoke now routes the phone's address to the hub (the bastion relays between peers)
    assert PHONE_IP + "/32" in spoke.check_output("wg show wg0 allowed-ips")
    for host in (hub, spoke):
        private = host.check_output("cat /etc/wireguard/wg0.key").strip()
        assert len(private) == 44 and private not in out, "private key in -vvv output"


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
    finally:
        converge("--limit", HUB)  # without the phone: the hub drops it too
    assert ping_ok(spoke, HUB_IP, within=15)
    assert wg_peers(hub) == {spoke_key}
    assert wg_identity(hub) == identity, "drift repair restarted the interface"
    assert spoke.check_output("wg show wg0 allowed-ips") == spoke_allowed, "--limit run touched the spoke"


def test_a_config_that_fails_to_come_up_is_rolled_back(hub, spoke):
    """(c) a failing PostUp hook makes wg-quick abort; the old file comes back and carries traffic."""
    good = hub.check_output("cat /etc/wireguard/wg0.conf")
    peers = wg_peers(hub)
    rc, out = converge("--limit", HUB, "-e", '{"__wireguard_hooks": {"post_up": ["false"], "post_down": []}}',
                       expect_ok=False)
    assert rc != 0
    assert "previous configuration was restored" in out, out[-3000:]
    assert hub.check_output("cat /etc/wireguard/wg0.conf") == good
    assert wg_peers(hub) == peers
    assert ping_ok(spoke, HUB_IP, within=25), "old tunnel does not pass traffic after the rollback"
