#!/usr/bin/env bash
# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# The lab: one fleet of podman containers per directory of inventories/lab/, each deployed with
# the real playbooks/site.yml, then a report per fleet (wg show summary + ping matrix).
#
# Usage: tools/lab/lab.sh up   [FLEET...]   containers up, site.yml, report (default: every fleet)
#        tools/lab/lab.sh down [FLEET...]   remove containers and networks, forget public keys
#        tools/lab/lab.sh report [FLEET...] only the report
# Run it through make (make lab / make lab-down): that prepares podman, the venv and the image.
# Each fleet is used as `-i inventories/lab/<fleet>/hosts.yml` (the file, not the directory: the
# public-key registry the roles keep next to it is not an inventory source).
set -euo pipefail
# shellcheck source=tools/lab/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

action=${1:-}
shift || true
[[ "$action" =~ ^(up|down|report)$ ]] || die "usage: $0 up|down|report [FLEET...]"

cd "$ROOT"
export PATH="$VENV/bin:$PATH"
export ANSIBLE_CONFIG=$ROOT/ansible.cfg
[ -x "$VENV/bin/ansible-playbook" ] || die "$VENV missing: run 'make venv' first"
need_cmd podman
need_podman_conf

if [ "$#" -gt 0 ]; then
    fleets=("$@")
else
    fleets=()
    for d in inventories/lab/*/hosts.yml; do
        [ -e "$d" ] && fleets+=("$(basename "$(dirname "$d")")")
    done
fi
[ "${#fleets[@]}" -gt 0 ] || die "no lab fleet found under inventories/lab/"
for f in "${fleets[@]}"; do
    [ -f "inventories/lab/$f/hosts.yml" ] || die "unknown fleet '$f' (no inventories/lab/$f/hosts.yml)"
done

# What render.yml shows for review must be what site.yml deployed, and a --check --diff run right
# after must find nothing to change.
review_check() {
    local f=$1 out=$ROOT/.cache/render/$1 log=$ROOT/.cache/logs/lab-$1-review.log
    if ! ansible-playbook -i "inventories/lab/$f/hosts.yml" playbooks/render.yml -e "wireguard_render_dir=$out" \
            -e wireguard_render_host_facts=true >"$log" 2>&1; then
        warn "fleet $f: render.yml failed (log: ${log#"$ROOT"/})"
        return 1
    fi
    "$VENV/bin/python" tools/lab/review_check.py "inventories/lab/$f/hosts.yml" "$out" || return 1
    local check=$ROOT/.cache/logs/lab-$1-check.log
    if ! ansible-playbook -i "inventories/lab/$f/hosts.yml" playbooks/site.yml --check --diff >"$check" 2>&1 \
            || grep -A20 'PLAY RECAP' "$check" | grep -q 'changed=[1-9]'; then
        warn "fleet $f: site.yml --check --diff after the deployment reports changes (log: ${check#"$ROOT"/})"
        return 1
    fi
    echo "site.yml --check --diff after render.yml: 0 changed"
}

case "$action" in
    down)
        for f in "${fleets[@]}"; do
            log "fleet $f: removing containers and networks (log: .cache/logs/lab-$f-down.log)"
            mkdir -p .cache/logs
            if ! ansible-playbook -i "inventories/lab/$f/hosts.yml" tools/lab/down.yml >".cache/logs/lab-$f-down.log" 2>&1; then
                tail -n 30 ".cache/logs/lab-$f-down.log" >&2
                die "fleet $f: removal failed"
            fi
            rm -f "inventories/lab/$f/.wireguard_public_keys.yml"
        done
        if [ "$#" -eq 0 ]; then
            # Also whatever an earlier version of the lab left (fleets renamed or removed since).
            tools/lab/cleanup.sh lab
        fi
        log "lab down (${fleets[*]})"
        ;;
    up)
        [ -f playbooks/site.yml ] || die "playbooks/site.yml missing: nothing to deploy"
        image=${NETFLEET_LAB_IMAGE:-$LAB_IMAGE_REPO:latest}
        podman image exists "$image" || die "image $image missing: run 'make image'"
        logdir=$ROOT/.cache/logs
        mkdir -p "$logdir"
        for f in "${fleets[@]}"; do
            log "fleet $f: containers up (log: .cache/logs/lab-$f-up.log)"
            if ! ansible-playbook -i "inventories/lab/$f/hosts.yml" tools/lab/up.yml >"$logdir/lab-$f-up.log" 2>&1; then
                tail -n 40 "$logdir/lab-$f-up.log" >&2
                die "fleet $f: containers did not come up"
            fi
        done
        failed=()
        for f in "${fleets[@]}"; do
            log "fleet $f: ansible-playbook -i inventories/lab/$f/hosts.yml playbooks/site.yml (log: .cache/logs/lab-$f-site.log)"
            t0=$SECONDS
            if ansible-playbook -i "inventories/lab/$f/hosts.yml" playbooks/site.yml >"$logdir/lab-$f-site.log" 2>&1; then
                log "fleet $f: deployed in $((SECONDS - t0)) s ($(grep -A20 'PLAY RECAP' "$logdir/lab-$f-site.log" | grep -c 'failed=0') host(s) ok)"
            else
                tail -n 40 "$logdir/lab-$f-site.log" >&2
                warn "fleet $f: site.yml FAILED (full log: .cache/logs/lab-$f-site.log)"
                failed+=("$f")
            fi
        done
        # report.py waits (up to 30 s) for every pair to answer, then exits 1 naming each one that
        # did not: an unreachable pair fails make lab.
        bad=()
        for f in "${fleets[@]}"; do
            rc=0
            "$VENV/bin/python" tools/lab/report.py "inventories/lab/$f/hosts.yml" || rc=1
            review_check "$f" || rc=1
            [ "$rc" -eq 0 ] || bad+=("$f")
        done
        echo
        if [ "${#failed[@]}" -gt 0 ]; then
            echo "make lab: site.yml FAILED for: ${failed[*]} (the lab stays up: make lab-down removes it)"
            exit 1
        fi
        if [ "${#bad[@]}" -gt 0 ]; then
            echo "make lab: FAILED for: ${bad[*]}: an unreachable pair or a review difference (see above)"
            exit 1
        fi
        echo "make lab: fleets up and deployed: ${fleets[*]} (make lab-down removes them)"
        ;;
    report)
        rc=0
        for f in "${fleets[@]}"; do
            "$VENV/bin/python" tools/lab/report.py "inventories/lab/$f/hosts.yml" || rc=1
        done
        exit "$rc"
        ;;
esac
