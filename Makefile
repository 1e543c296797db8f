# simpod: the README's two commands are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SIMPOD := $(BIN)/simpod
PYTEST := $(BIN)/pytest
TIME_SCALE ?= 10
NODES ?= 3

.PHONY: setup run test test-unit e2e bench lint format crds e2e-kind clean node conformance

$(BIN)/simpod: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'
	@touch $@

setup: $(BIN)/simpod ## Python deps into .venv and the control-plane binaries into $SIMPOD_HOME
	$(BIN)/python -c 'from simpod.cluster.build import ensure_binaries; from simpod.cluster.paths import layout; ensure_binaries(layout())'

run: setup ## the operator on the current cluster, or on the embedded control plane if none answers
	$(SIMPOD) run --ensure-cluster --nodes $(NODES) --time-scale $(TIME_SCALE)

test: test-unit e2e ## the whole suite

test-unit: $(BIN)/simpod
	$(PYTEST) -q tests/unit

e2e: setup ## starts (or reuses) the embedded control plane; KUBECONFIG=... SIMPOD_E2E_CLUSTER=current uses yours
	$(PYTEST) -q tests/e2e

bench: setup ## BENCH=<scenario> runs one scenario
	$(BIN)/python -m bench $(if $(BENCH),--scenario $(BENCH),)

lint: $(BIN)/simpod
	$(BIN)/ruff check operator tests bench
	$(BIN)/ruff format --check operator tests bench
	$(BIN)/mypy

format: $(BIN)/simpod
	$(BIN)/ruff check --fix operator tests bench
	$(BIN)/ruff format operator tests bench

node: setup ## the embedded control plane plus a real node (kubelet, containerd; root only)
	$(SIMPOD) cluster up --with-node

conformance: setup ## Pod-vs-SimPod differential tests on a real node of its own (root; CONFORMANCE_ARGS="--list", names, --jobs N)
	$(BIN)/python -m tests.conformance $(CONFORMANCE_ARGS)

crds: $(BIN)/simpod ## regenerate crds/ from the Python model
	$(BIN)/python -m simpod.api.crds crds

e2e-kind: $(BIN)/simpod ## the e2e suite on a kind cluster (needs Docker and kind)
	@command -v docker >/dev/null && docker info >/dev/null 2>&1 || { echo "e2e-kind: no running Docker engine here (docker info failed); use 'make e2e', which builds and starts a local control plane instead"; exit 1; }
	@command -v kind >/dev/null || { echo "e2e-kind: kind is not installed (go install sigs.k8s.io/kind@latest)"; exit 1; }
	kind get clusters | grep -qx simpod || kind create cluster --name simpod
	kind get kubeconfig --name simpod > .kind-kubeconfig
	KUBECONFIG=.kind-kubeconfig $(BIN)/kubectl apply -f crds/ 2>/dev/null || KUBECONFIG=.kind-kubeconfig kubectl apply -f crds/
	KUBECONFIG=.kind-kubeconfig SIMPOD_E2E_CLUSTER=current $(PYTEST) -q tests/e2e

clean:
	-$(SIMPOD) cluster down
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .kind-kubeconfig
