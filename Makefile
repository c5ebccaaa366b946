# Two commands do everything on a fresh Debian 12 machine with Python 3.11:
#   make run    - create .venv, install the project, start `ryu-manager controller.apps`
#   make test   - also install Open vSwitch, Mininet and friends, start OVS, run every test tier
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
APT_PACKAGES := openvswitch-switch mininet ethtool iputils-ping curl tcpdump iproute2 openssl iperf
RYU_ARGS ?=

.PHONY: install run test system-deps ovs-start bench clean

install: $(VENV)/.installed

$(VENV)/.installed: setup.cfg setup.py constraints.txt
	$(PYTHON) -m venv $(VENV)
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

test: install ovs-start
	$(BIN)/python -m pytest tests

# The benchmarks talk to emulated switches on loopback only (no OVS). BENCH_ARGS: e.g. --quick, --only rest.
bench: install
	PIP_CONSTRAINT=$(CURDIR)/constraints.txt $(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) *.egg-info
