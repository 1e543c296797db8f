"""E2E fixtures: one real control plane per test session, one namespace per test.

By default the embedded control plane is started (or reused if already up) and stopped at
the end if this session started it. ``SIMPOD_E2E_CLUSTER=current`` uses the current
kubeconfig's cluster instead (CRDs must be installed there).
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from kubernetes import client, config

from simpod.cluster import controlplane
from simpod.cluster.install import apply_crds
from simpod.cluster.paths import layout


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
