# Development, test and lab entry points of netfleet.wireguard (Debian 12 host, run as root).
#
#   make test      everything CI runs: host-deps venv image cleanup lint unit sanity build molecule
#   make lab       a podman fleet per seed topology, deployed with playbooks/site.yml, then a report
#   make lab-down  remove the lab fleets
#
# Podman always runs with the project's settings (.lab/containers.conf, written by host-deps),
# the tests use the image tagged with the hash of its package list (tools/lab/image.sh).

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV ?= $(CURDIR)/.venv
export VENV
export CONTAINERS_CONF := $(CURDIR)/.lab/containers.conf
NETFLEET_LAB_IMAGE ?= $(shell $(CURDIR)/tools/lab/image.sh --print-tag)
export NETFLEET_LAB_IMAGE
export PATH := $(VENV)/bin:$(PATH)

# Lab fleets (directories under inventories/lab); LAB="bastion" limits make lab / lab-down.
LAB ?=

.PHONY: help venv lock host-deps image lint unit sanity build molecule test lab lab-down rehearse rehearse-down rehearse-examples bench bench-render bench-site bench-fleet clean

help:
	@echo "targets: test venv lock host-deps image lint unit sanity build molecule lab lab-down bench clean"
	@echo "  make test                  full CI run (stages stop at the first failure)"
	@echo "  make molecule [SCENARIOS='default bastion']"
	@echo "  make lab [LAB=bastion]   make lab-down"
	@echo "  make rehearse INVENTORY=path [KEEP=1]   make rehearse-down   make rehearse-examples"
	@echo "  make bench | bench-render [RENDER_ARGS=--quick] | bench-site [LAB_FLEET=bastion]"
	@echo "  make bench-fleet [NS='4 8 16 32'] [FLEET_ARGS='--rounds 2 --profile --forks 20']"

host-deps:
	@tools/lab/host-deps.sh

venv:
	@tools/lab/venv.sh

lock:
	@tools/lab/lock.sh

image:
	@tools/lab/image.sh

lint:
	@test -x tools/lint.sh || { echo "make lint: tools/lint.sh is missing (not written yet) - FAILED" >&2; exit 1; }
	@tools/lint.sh

unit:
	@test -d tests/unit || { echo "make unit: tests/unit is missing - FAILED" >&2; exit 1; }
	@$(VENV)/bin/pytest tests/unit -q

sanity:
	@test -x tools/sanity.sh || { echo "make sanity: tools/sanity.sh is missing (not written yet) - FAILED" >&2; exit 1; }
	@tools/sanity.sh

# Build the collection tarball, install it offline, render every plugin and role with ansible-doc.
build:
	@tools/build_check.sh

molecule:
	@tools/lab/molecule.sh $(SCENARIOS)

test:
	@tools/lab/test.sh

lab: host-deps venv image
	@tools/lab/lab.sh up $(LAB)

lab-down:
	@tools/lab/lab.sh down $(LAB)

# A container lab that mirrors a real inventory: site.yml on it, then the plan's reachability
# matrix next to what the pings found (tools/rehearse/rehearse.py; the inventory is only read).
rehearse: host-deps venv image
	@test -n "$(INVENTORY)" || { echo "usage: make rehearse INVENTORY=path [KEEP=1]" >&2; exit 2; }
	@$(VENV)/bin/python tools/rehearse/rehearse.py $(if $(KEEP),--keep) "$(INVENTORY)"

# Removes a lab kept with KEEP=1 (every container and network labelled netfleet.wireguard.lab=rehearse).
rehearse-down:
	@tools/lab/cleanup.sh rehearse

# The three example inventories and tests/rehearse/mixed_nat, rehearsed one after another.
rehearse-examples:
	@tools/rehearse/examples.sh

# Benchmarks print figures (ratios measured side by side); they assert nothing about speed.
bench: bench-render bench-site

# render.yml on generated inventories: N=100/200 mesh next to a ping play, 1,000 mesh, 10,000 hub.
bench-render:
	@$(VENV)/bin/python tests/bench/bench_render.py $(RENDER_ARGS)

# site.yml on a lab fleet (LAB_FLEET, default bastion): tasks per host, no-change run vs ping play.
bench-site: host-deps venv image
	@$(VENV)/bin/python tests/bench/bench_site.py --fleet $(or $(LAB_FLEET),bastion) $(SITE_ARGS)

# site.yml on generated hub-and-spoke fleets of N hosts (podman 10.93.<N>.0/24, containers bench-n<N>-*):
# first and no-change runs next to a ping play per N, controller and fleet CPU, a linear fit against N.
bench-fleet: host-deps venv image
	@$(VENV)/bin/python tests/bench/bench_fleet.py --sizes "$(or $(NS),4 8 16 32)" $(FLEET_ARGS)

# Removes the project's containers/networks and generated files; keeps .venv and the podman image
# (they are caches: rm -rf .venv / podman rmi localhost/netfleet-wireguard-lab to drop them).
clean:
	@tools/lab/cleanup.sh
	@rm -rf .cache/logs tests/output .pytest_cache render
	@find . -path ./.venv -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
	@rm -f inventories/lab/*/.wireguard_public_keys.yml
	@echo "make clean: done (kept .venv and the lab image)"
