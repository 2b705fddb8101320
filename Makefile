# Accord: the two set-up commands are `make demo` (main job on a bundled example) and
# `make test` (everything CI runs). Both install what is missing first.
SHELL := /bin/bash
CARGO ?= cargo
VENV := .venv
PY := $(VENV)/bin/python
APT_PACKAGES := libhdf5-dev pkg-config ismrmrd-tools hdf5-tools python3-venv chromium
DEMO_FILE := tests/data/sl_r2.h5
DEMO_TABLE := tests/data/stats/traveling_5sites_2sessions.csv

.PHONY: demo test deps venv build lint bench bench-compare bench-stats bench-pulseq clean

## demo: summarise the bundled Shepp-Logan R=2 raw data (human and JSON), then analyse the
## bundled travelling-subject table and write its report into demo-report/, then build the
## T1-mapping example protocol with seqgen (.seq + sidecar) and draw its diagram
demo: deps
	$(CARGO) build --release --bin accord
	./target/release/accord info $(DEMO_FILE)
	./target/release/accord info $(DEMO_FILE) --json
	./target/release/accord analyze $(DEMO_TABLE) --report demo-report --force
	@echo "report: $(abspath demo-report/report.html)"
	$(CARGO) build --release --bin seqgen
	./target/release/seqgen --protocol examples/protocols/t1map.toml -o demo-report/t1map.seq --force
	./target/release/accord seq plot demo-report/t1map.seq -o demo-report/t1map.png --time 0..75ms --force
	@echo "sequence: $(abspath demo-report/t1map.seq) (+ .json sidecar, .png diagram)"

## test: formatting, clippy, and the whole test suite in release mode with interop checks on
test: deps venv
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --release -- -D warnings
	ACCORD_PYTHON=$(abspath $(PY)) ACCORD_REQUIRE_INTEROP=1 ACCORD_REQUIRE_BROWSER=1 \
	  $(CARGO) test --workspace --release

## deps: install the system packages (as root), or print the exact command to run
deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "missing system packages:$$missing"; \
	    echo "run:  sudo apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi

## venv: Python peers (ismrmrd-python, h5py, numpy) for interop tests and benchmarks
venv: $(VENV)/.installed
$(VENV)/.installed: tests/python/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r tests/python/requirements.txt
	touch $@

build: deps
	$(CARGO) build --workspace --release

lint: deps
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --release -- -D warnings

## bench: criterion benches; bench-compare: Accord vs ismrmrd-python vs h5py on one file
bench: deps
	$(CARGO) bench --bench ismrmrd_read --bench stats_analyze --bench seq

bench-compare: deps venv
	PYTHON=$(abspath $(PY)) benches/ismrmrd_read.sh

## bench-pulseq: seqgen/reader vs pypulseq 1.5 (build+write of a >100k-block protocol; reads)
bench-pulseq: deps venv
	PYTHON=$(abspath $(PY)) benches/pulseq_compare.sh

## bench-stats: accord analyze vs pingouin 0.7 on a 100 000-row table (own venv: pandas, pingouin)
bench-stats: deps .venv-stats/.installed
	PYTHON=$(abspath .venv-stats/bin/python) benches/stats_compare.sh
.venv-stats/.installed: benches/requirements-stats.txt
	python3 -m venv .venv-stats
	.venv-stats/bin/pip install -q --disable-pip-version-check -r benches/requirements-stats.txt
	touch $@

clean:
	$(CARGO) clean
	rm -rf $(VENV) .venv-stats demo-report
