"""SimNodes that a test controls instead of an agent: created with given labels, taints and
capacity, heartbeated from a thread (Lease renewals, as the agent does) until the test stops
one, as if its agent were killed. Pods bound to them are never run: tests write their status.

The cluster is shared, so names carry a random suffix and teardown deletes the nodes (pod
GC then collects their pods after its quarantine).
"""

from __future__ import annotations

import contextlib
import datetime
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from simpod.agent.nodes import LEASE_NAMESPACE
from simpod.api.group import API_VERSION, GROUP, SIMNODE, SIMPOD, VERSION
from tests.e2e.conftest import Cluster

MERGE = "application/merge-patch+json"
Obj = dict[str, Any]


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class FakeNodes:
    cluster: Cluster
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:6])
    names: list[str] = field(default_factory=list)
    silent: set[str] = field(default_factory=set)
    stop: threading.Event = field(default_factory=threading.Event)

    @property
    def custom(self) -> client.CustomObjectsApi:
        return client.CustomObjectsApi(self.cluster.api)

    def add(
        self,
        suffix: str,
        *,
        cpu: str = "4",
        labels: dict[str, str] | None = None,
        taints: list[Obj] | None = None,
        unschedulable: bool = False,
    ) -> str:
        name = f"e2e-{self.run_id}-{suffix}"
        body = {
            "apiVersion": API_VERSION,
            "kind": SIMNODE.kind,
            "metadata": {"name": name, "labels": {"e2e-run": self.run_id, **(labels or {})}},
            "spec": {"taints": taints or [], "unschedulable": unschedulable},
        }
        self.custom.create_cluster_custom_object(GROUP, VERSION, SIMNODE.plural, body)
        self.names.append(name)
        resources = {"cpu": cpu, "memory": "8Gi", "pods": "110"}
        now = _now()
        self.custom.patch_cluster_custom_object_status(
            GROUP,
            VERSION,
            SIMNODE.plural,
            name,
            {
                "status": {
                    "capacity": resources,
                    "allocatable": resources,
                    "conditions": [
                        {
                            "type": "Ready",
                            "status": "True",
                            "reason": "KubeletReady",
                            "lastHeartbeatTime": now[:19] + "Z",
                            "lastTransitionTime": now[:19] + "Z",
                        }
                    ],
                }
            },
        )
        self._renew(name)
        return name

    def node(self, name: str) -> Obj:
        obj: Obj = self.custom.get_cluster_custom_object(GROUP, VERSION, SIMNODE.plural, name)
        return obj

    def kill_agent(self, name: str) -> None:
        self.silent.add(name)

    def revive_agent(self, name: str) -> None:
        """Heartbeats again, with a Ready True condition, as a restarted agent posts."""
        self.silent.discard(name)
        now = _now()[:19] + "Z"
        self.custom.patch_cluster_custom_object_status(
            GROUP,
            VERSION,
            SIMNODE.plural,
            name,
            {
                "status": {
                    "conditions": [
                        {
                            "type": "Ready",
                            "status": "True",
                            "reason": "KubeletReady",
                            "lastHeartbeatTime": now,
                            "lastTransitionTime": now,
                        }
                    ]
                }
            },
        )

    def _renew(self, name: str) -> None:
        leases = client.CoordinationV1Api(self.cluster.api)
        spec = {"holderIdentity": name, "leaseDurationSeconds": 40, "renewTime": _now()}
        try:
            leases.patch_namespaced_lease(name, LEASE_NAMESPACE, {"spec": spec})
        except ApiException as exc:
            if exc.status != 404:
                raise
            leases.create_namespaced_lease(
                LEASE_NAMESPACE, {"metadata": {"name": name}, "spec": spec}
            )

    def heartbeat_forever(self) -> None:
        while not self.stop.wait(0.3):
            for name in list(self.names):
                if name not in self.silent:
                    with contextlib.suppress(ApiException):  # the next beat retries
                        self._renew(name)

    def delete_all(self) -> None:
        leases = client.CoordinationV1Api(self.cluster.api)
        for name in self.names:
            for delete in (
                lambda n=name: self.custom.delete_cluster_custom_object(
                    GROUP, VERSION, SIMNODE.plural, n
                ),
                lambda n=name: leases.delete_namespaced_lease(n, LEASE_NAMESPACE),
            ):
                try:
                    delete()
                except ApiException as exc:
                    if exc.status != 404:
                        raise


@pytest.fixture
def fake_nodes(cluster: Cluster) -> Iterator[FakeNodes]:
    nodes = FakeNodes(cluster)
    core = client.CoreV1Api(cluster.api)
    try:
        core.create_namespace({"metadata": {"name": LEASE_NAMESPACE}})
    except ApiException as exc:
        if exc.status != 409:
            raise
    beats = threading.Thread(target=nodes.heartbeat_forever, daemon=True)
    beats.start()
    try:
        yield nodes
    finally:
        nodes.stop.set()
        beats.join(timeout=5)
        nodes.delete_all()


def create_pod(
    cluster: Cluster, namespace: str, name: str, spec: Obj | None = None, **metadata: Any
) -> Obj:
    """A SimPod as given (no nodeName unless ``spec`` has one): the scheduler's input."""
    body = {
        "apiVersion": API_VERSION,
        "kind": SIMPOD.kind,
        "metadata": {"name": name, **metadata},
        "spec": {"containers": [{"name": "app", "image": "busybox"}], **(spec or {})},
    }
    obj: Obj = client.CustomObjectsApi(cluster.api).create_namespaced_custom_object(
        GROUP, VERSION, namespace, SIMPOD.plural, body
    )
    return obj


def patch_pod_status(cluster: Cluster, namespace: str, name: str, status: Obj) -> None:
    """Write a pod's status as its kubelet would (the fake nodes have none)."""
    client.CustomObjectsApi(cluster.api).patch_namespaced_custom_object_status(
        GROUP, VERSION, namespace, SIMPOD.plural, name, {"status": status}
    )


def running_ready(ip: str, *, ready: bool = True) -> Obj:
    stamp = _now()[:19] + "Z"
    return {
        "phase": "Running",
        "podIP": ip,
        "conditions": [
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": stamp},
            {"type": "Ready", "status": "True" if ready else "False", "lastTransitionTime": stamp},
        ],
    }


def wait_for(check: Any, *, timeout: float, what: str) -> Any:
    """Poll ``check()`` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.1)
    pytest.fail(f"{what} not reached within {timeout}s")
