"""``simpod cluster up --with-node``: real Pods on a real kubelet, the oracle for SimPods.

The node runs on its own control plane under a temporary ``$SIMPOD_HOME`` (sharing the
built binaries), so it never touches the session's shared cluster, and is torn down, with
everything it created, at the end. Skipped, with the reason, where the machine cannot run a
real node (not root, no containerd/runc/cgroups, another kubelet already running).
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config

from simpod.cluster import controlplane, node
from simpod.cluster.build import NODE_TARGETS, ensure_binaries
from simpod.cluster.paths import Layout, layout

POD_TIMEOUT = 60.0


@dataclass(frozen=True)
class RealNode:
    api: client.ApiClient
    kubeconfig: Path
    kubectl: Path

    def status_column(self, namespace: str, pod: str) -> str:
        """kubectl's STATUS column, the display a SimPod's must match."""
        out = subprocess.run(
            [
                str(self.kubectl),
                f"--kubeconfig={self.kubeconfig}",
                "-n",
                namespace,
                "get",
                "pod",
                pod,
                "--no-headers",
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout
        return out.split()[2]


@pytest.fixture(scope="module")
def real_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealNode]:
    if os.environ.get("SIMPOD_E2E_CLUSTER") == "current":
        pytest.skip("the real node joins only the embedded control plane")
    shared = layout()
    home = Layout(tmp_path_factory.mktemp("real-node-home"))
    try:
        node.preflight(home)
    except node.NodeUnsupported as exc:
        pytest.skip(str(exc))
    ensure_binaries(shared)
    ensure_binaries(shared, targets=NODE_TARGETS)
    (home.home / "bin").symlink_to(shared.bin_dir.parent)
    try:
        result = controlplane.up(home, unsafe_no_fsync=True, with_node=True)
        api = config.new_client_from_config(config_file=str(result.kubeconfig))
        try:
            yield RealNode(api, result.kubeconfig, home.binary("kubectl"))
        finally:
            api.close()
    finally:
        controlplane.down(home, purge=True)


@pytest.fixture
def pod_namespace(real_node: RealNode) -> Iterator[str]:
    core = client.CoreV1Api(real_node.api)
    name = f"real-{uuid.uuid4().hex[:8]}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    _wait_for_default_service_account(core, name)
    try:
        yield name
    finally:
        core.delete_namespace(name, propagation_policy="Background")


def _wait_for_default_service_account(core: client.CoreV1Api, namespace: str) -> None:
    """Pod admission rejects pods until the controller manager has made this account."""
    deadline = time.monotonic() + 30
    while not core.list_namespaced_service_account(namespace).items:
        if time.monotonic() > deadline:
            pytest.fail(f"no default service account in {namespace} after 30s")
        time.sleep(0.1)


def _busybox(name: str, command: str) -> dict[str, Any]:
    return {
        "name": name,
        "image": "busybox",
        "imagePullPolicy": "Never",
        "command": ["sh", "-c", command],
    }


def _run_pod(api: client.ApiClient, namespace: str, spec: dict[str, Any]) -> client.V1Pod:
    """Create the pod on the real node and wait for a terminal phase."""
    core = client.CoreV1Api(api)
    body = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "pod"},
        "spec": {
            "restartPolicy": "Never",
            "nodeSelector": {node.NODE_LABEL: "true"},
            "terminationGracePeriodSeconds": 1,
            **spec,
        },
    }
    core.create_namespaced_pod(namespace, body)
    deadline = time.monotonic() + POD_TIMEOUT
    while True:
        pod = core.read_namespaced_pod("pod", namespace)
        if pod.status.phase in ("Succeeded", "Failed"):
            return pod
        if time.monotonic() > deadline:
            pytest.fail(f"pod still {pod.status.phase} after {POD_TIMEOUT}s: {pod.status}")
        time.sleep(0.2)


def test_busybox_pod_prints_and_succeeds(real_node: RealNode, pod_namespace: str) -> None:
    pod = _run_pod(
        real_node.api,
        pod_namespace,
        {"containers": [_busybox("main", "echo hello from a real kubelet")]},
    )
    assert pod.status.phase == "Succeeded"
    assert pod.spec.node_name == node.NODE_NAME
    (state,) = pod.status.container_statuses
    assert state.state.terminated.reason == "Completed"
    assert state.state.terminated.exit_code == 0
    log = client.CoreV1Api(real_node.api).read_namespaced_pod_log("pod", pod_namespace)
    assert log == "hello from a real kubelet\n"
    assert real_node.status_column(pod_namespace, "pod") == "Completed"


def test_failing_init_container_fails_the_pod(real_node: RealNode, pod_namespace: str) -> None:
    pod = _run_pod(
        real_node.api,
        pod_namespace,
        {
            "initContainers": [_busybox("init", "exit 3")],
            "containers": [_busybox("main", "echo never")],
        },
    )
    assert pod.status.phase == "Failed"
    (init,) = pod.status.init_container_statuses
    assert (init.state.terminated.reason, init.state.terminated.exit_code) == ("Error", 3)
    (main,) = pod.status.container_statuses
    assert main.state.waiting.reason == "PodInitializing"
    initialized = {c.type: c for c in pod.status.conditions}["Initialized"]
    assert (initialized.status, initialized.reason) == ("False", "ContainersNotInitialized")
    assert real_node.status_column(pod_namespace, "pod") == "Init:Error"
