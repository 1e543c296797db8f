"""The embedded control plane is a real one: GC cascades and namespace deletion work."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.e2e.conftest import Cluster


def _eventually(check: Callable[[], bool], *, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout}s")
        time.sleep(0.2)


def _gone(read: Callable[[], object]) -> bool:
    try:
        read()
    except ApiException as exc:
        return exc.status == 404
    return False


def test_version_is_the_pinned_release(cluster: Cluster) -> None:
    version = client.VersionApi(cluster.api).get_code()
    assert version.git_version == "v1.35.4"


def test_garbage_collector_deletes_dependents(cluster: Cluster, namespace: str) -> None:
    core = client.CoreV1Api(cluster.api)
    owner = core.create_namespaced_config_map(
        namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="owner"))
    )
    ref = client.V1OwnerReference(
        api_version="v1", kind="ConfigMap", name="owner", uid=owner.metadata.uid
    )
    core.create_namespaced_config_map(
        namespace,
        client.V1ConfigMap(metadata=client.V1ObjectMeta(name="dependent", owner_references=[ref])),
    )
    core.delete_namespaced_config_map("owner", namespace)
    _eventually(lambda: _gone(lambda: core.read_namespaced_config_map("dependent", namespace)))


def test_namespace_deletion_finishes(cluster: Cluster) -> None:
    core = client.CoreV1Api(cluster.api)
    name = "e2e-ns-deletion"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    core.create_namespaced_config_map(
        name, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="inside"))
    )
    core.delete_namespace(name)
    _eventually(lambda: _gone(lambda: core.read_namespace(name)))
