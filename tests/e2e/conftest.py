"""E2E fixtures: one real control plane per test session, one namespace per test.

By default the embedded control plane is started (or reused if already up) and stopped at
the end if this session started it. ``SIMPOD_E2E_CLUSTER=current`` uses the current
kubeconfig's cluster instead (CRDs must be installed there).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from simpod.api.group import GROUP, SIMNODE, VERSION
from simpod.cluster import controlplane
from simpod.cluster.install import apply_crds
from simpod.cluster.paths import layout

# Kubelet time runs this many times faster in e2e tests (lifecycle waits are divided by it).
TIME_SCALE = 10.0
NODES = 3


@dataclass(frozen=True)
class Cluster:
    kubeconfig: Path
    api: client.ApiClient

    def kubectl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        binary = layout().binary("kubectl")
        kubectl = str(binary) if binary.is_file() else "kubectl"
        return subprocess.run(
            [kubectl, f"--kubeconfig={self.kubeconfig}", *args],
            capture_output=True,
            text=True,
            check=check,
            timeout=60,
        )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e" in str(item.path):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    started_here = False
    if os.environ.get("SIMPOD_E2E_CLUSTER") == "current":
        kubeconfig = Path(os.environ.get("KUBECONFIG", Path.home() / ".kube" / "config"))
        apply_crds(kubeconfig)
    else:
        result = controlplane.up(layout(), unsafe_no_fsync=True)
        kubeconfig = result.kubeconfig
        started_here = not result.already_running
    api = config.new_client_from_config(config_file=str(kubeconfig))
    try:
        yield Cluster(kubeconfig=kubeconfig, api=api)
    finally:
        api.close()
        if started_here and not os.environ.get("SIMPOD_E2E_KEEP_CLUSTER"):
            controlplane.down(layout())


@pytest.fixture
def namespace(cluster: Cluster) -> Iterator[str]:
    name = f"e2e-{uuid.uuid4().hex[:8]}"
    core = client.CoreV1Api(cluster.api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    try:
        yield name
    finally:
        core.delete_namespace(name, propagation_policy="Background")


@dataclass(frozen=True)
class Operator:
    """The operator under test, a ``simpod run`` subprocess; ``log`` holds its output."""

    time_scale: float
    log: Path


@pytest.fixture(scope="session")
def operator(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Operator]:
    """One operator for the session with every role, ``NODES`` SimNodes and ``TIME_SCALE``."""
    log = tmp_path_factory.mktemp("operator") / "operator.log"
    env = dict(os.environ, KUBECONFIG=str(cluster.kubeconfig))
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "simpod",
                "run",
                f"--nodes={NODES}",
                f"--time-scale={TIME_SCALE}",
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for_nodes(cluster, proc, log)
        yield Operator(time_scale=TIME_SCALE, log=log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_for_nodes(cluster: Cluster, proc: subprocess.Popen[bytes], log: Path) -> None:
    custom = client.CustomObjectsApi(cluster.api)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"operator exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
        try:
            custom.get_cluster_custom_object(GROUP, VERSION, SIMNODE.plural, f"sim-node-{NODES}")
            return
        except ApiException as exc:
            if exc.status != 404:
                raise
        time.sleep(0.2)
    pytest.fail(f"operator did not register SimNodes within 60s:\n{log.read_text()[-3000:]}")


@pytest.fixture
def simpods(cluster: Cluster, operator: Operator, namespace: str) -> Any:
    from tests.e2e.simpods import SimPods  # noqa: PLC0415 - it imports this module

    return SimPods(cluster=cluster, operator=operator, namespace=namespace)
