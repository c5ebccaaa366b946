# Two commands do everything on a fresh Debian 12 machine (Python 3.11; Python 3.12 and 3.13 work the same):
#   make run    - create .venv, install the project, start `ryu-manager controller.apps`
#   make test   - also install Open vSwitch, Mininet and friends, start OVS, run every test tier (unit, protocol,
#                 end-to-end) on the default interpreter, then the unit and protocol tiers on each other of
#                 Python 3.11, 3.12 and 3.13 (PYTHONS) installed here, each in its own venv .venv-X.Y
# PYTHON picks the interpreter (`make run PYTHON=python3.13`); any but the default python3 gets its own venv,
# .venv-X.Y, unless VENV is given. .ci/find-python finds an interpreter on PATH, else through pyenv.
PYTHON ?= python3
PYTHONS ?= 3.11 3.12 3.13
ifeq ($(origin VENV),undefined)
ifeq ($(PYTHON),python3)
VENV := .venv
else
VENV := .venv-$(shell py=$$(.ci/find-python $(PYTHON)) && $$py -c 'import sys; print("%d.%d" % sys.version_info[:2])')
endif
endif
BIN := $(VENV)/bin
# chromium and chromium-driver: the web UI's browser tests (tests/protocol/test_ui.py, tests/e2e/test_ui.py);
# etcd-server and etcd-client: the 3-member cluster of the --store etcd:// tests (tests/lib/etcdcluster.py).
APT_PACKAGES := openvswitch-switch mininet ethtool iputils-ping curl tcpdump iproute2 openssl iperf chromium \
	chromium-driver etcd-server etcd-client
RYU_ARGS ?=

.PHONY: install run test system-deps ovs-start bench clean

install: $(VENV)/.installed

$(VENV)/.installed: setup.cfg setup.py constraints.txt
	@py=$$(.ci/find-python $(PYTHON)) || { echo "no working $(PYTHON) here" >&2; exit 1; }; \
	echo "$$py -m venv $(VENV)"; $$py -m venv $(VENV)
	PIP_CONSTRAINT=$(CURDIR)/constraints.txt $(BIN)/pip install --quiet --upgrade 'pip<25' 'setuptools<68' wheel
	PIP_CONSTRAINT=$(CURDIR)/constraints.txt $(BIN)/pip install --quiet -e '.[test]'
	touch $@

run: install
	$(BIN)/ryu-manager controller.apps $(RYU_ARGS)

# Installs the Debian packages the end-to-end tests need, only when one is missing.
system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi

# Starts OVS without systemd when it is not running (no kernel module here: tests use datapath_type=netdev).
ovs-start: system-deps
	@ovs-vsctl --timeout=5 show >/dev/null 2>&1 || /usr/share/openvswitch/scripts/ovs-ctl start --system-id=random
	@ovs-vsctl --timeout=5 show >/dev/null

# Every tier on the default interpreter; then the unit and protocol tiers on each other Python of PYTHONS, in
# .venv-X.Y made on demand from the same constraints. One that is not installed is skipped with a SKIPPED line.
# Every interpreter runs even when one fails; the run fails if any did. The recipe calls make as $(SUBMAKE), not
# $(MAKE): make -n runs every recipe line that names $(MAKE), and here that would be the whole test run.
SUBMAKE := $(MAKE)
test: install ovs-start
	@failed=""; default=$$($(BIN)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])'); \
	echo "== every tier on Python $$default ($(VENV))"; \
	$(BIN)/python -m pytest tests || failed="$$failed $$default"; \
	for v in $(PYTHONS); do \
	  [ "$$v" = "$$default" ] && continue; \
	  if ! py=$$(.ci/find-python $$v); then \
	    echo "SKIPPED: Python $$v is not installed here; the unit and protocol tiers did not run on it"; continue; \
	  fi; \
	  echo "== unit and protocol tiers on Python $$v (.venv-$$v, $$py)"; \
	  $(SUBMAKE) --no-print-directory install PYTHON=$$py VENV=.venv-$$v && \
	  .venv-$$v/bin/python -m pytest tests/unit tests/protocol || failed="$$failed $$v"; \
	done; \
	if [ -n "$$failed" ]; then echo "FAILED on Python$$failed"; exit 1; fi

# The benchmarks talk to emulated switches on loopback only (no OVS). BENCH_ARGS: e.g. --quick, --only rest.
# `make bench BEFORE=<commit>` then runs the packet-in path of that commit and of this tree side by side
# (bench/compare.py --together, buffered and unbuffered): what a change to a hot path shows.
bench: install
	PIP_CONSTRAINT=$(CURDIR)/constraints.txt $(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python -m bench $(BENCH_ARGS)
	@if [ -n "$(BEFORE)" ]; then \
	  dir=$$(mktemp -d) && git archive "$(BEFORE)" | tar -x -C "$$dir" && \
	  $(BIN)/python -m bench.compare --before "$$dir" --after . --together --macs 1000 \
	    --out bench/out/compare-cbench.json && \
	  $(BIN)/python -m bench.compare --before "$$dir" --after . --together --macs 1000 --load packetin \
	    --out bench/out/compare-packetin.json; \
	  status=$$?; rm -rf "$$dir"; exit $$status; \
	fi

clean:
	rm -rf .venv .venv-[0-9]* $(VENV) *.egg-info
