"""Service endpoints through a real API server, after upstream's
test/e2e/network/endpointslice.go: a selector-less Service annotated with a SimPod selector
gets an EndpointSlice that follows the pods' IPs and readiness, and during a rolling
deletion a pod leaves the ready set as soon as its deletion starts (``terminating``, still
``serving`` while its readiness lasts) and the slice once it is gone."""

from __future__ import annotations

from typing import Any

from kubernetes import client

from simpod.api.group import GROUP, SIMPOD, VERSION
from tests.e2e import fakenodes
from tests.e2e.conftest import Cluster, Operator
from tests.e2e.fakenodes import FakeNodes, create_pod, patch_pod_status, running_ready, wait_for

fake_nodes = fakenodes.fake_nodes  # the fixture, used by name

HOLD = "e2e.simpod.dev/hold"  # keeps a deleted pod Terminating until the test lets go
TIMEOUT = 20.0
Obj = dict[str, Any]


def _endpoints(cluster: Cluster, namespace: str, service: str) -> dict[str, Obj]:
    slices = client.DiscoveryV1Api(cluster.api).list_namespaced_endpoint_slice(
        namespace,
        label_selector=f"kubernetes.io/service-name={service},"
        "endpointslice.kubernetes.io/managed-by=simpod.dev",
    )
    out = {}
    for item in slices.items:
        for ep in item.endpoints or []:
            c = ep.conditions
            out[ep.target_ref.name] = {
                "ip": ep.addresses[0],
                "ports": [(p.name, p.port) for p in item.ports or []],
                "conditions": (c.ready, c.serving, c.terminating),
            }
    return out


def _wait(cluster: Cluster, namespace: str, wanted: dict[str, tuple[bool, bool, bool]]) -> None:
    def matches() -> bool:
        got = _endpoints(cluster, namespace, "web")
        return {name: e["conditions"] for name, e in got.items()} == wanted

    wait_for(matches, timeout=TIMEOUT, what=f"endpoints {wanted}")


def test_slice_tracks_readiness_and_rolling_deletion(
    cluster: Cluster, operator: Operator, namespace: str, fake_nodes: FakeNodes
) -> None:
    node = fake_nodes.add("web")
    client.CoreV1Api(cluster.api).create_namespaced_service(
        namespace,
        {
            "metadata": {"name": "web", "annotations": {"simpod.dev/selector": "app=web"}},
            "spec": {"ports": [{"name": "http", "port": 80, "targetPort": 8080}]},
        },
    )
    names = ["web-0", "web-1", "web-2"]
    for index, name in enumerate(names):
        create_pod(
            cluster,
            namespace,
            name,
            {"nodeName": node},
            labels={"app": "web"},
            finalizers=[HOLD],
        )
        patch_pod_status(cluster, namespace, name, running_ready(f"10.98.0.{index + 1}"))
    create_pod(cluster, namespace, "other", {"nodeName": node}, labels={"app": "db"})
    patch_pod_status(cluster, namespace, "other", running_ready("10.98.0.9"))

    ready = (True, True, False)
    _wait(cluster, namespace, dict.fromkeys(names, ready))
    first = _endpoints(cluster, namespace, "web")["web-0"]
    assert first["ip"] == "10.98.0.1"
    assert first["ports"] == [("http", 8080)]
    listing = cluster.kubectl("get", "endpointslices", "-n", namespace).stdout
    assert "web-" in listing and "8080" in listing

    patch_pod_status(cluster, namespace, "web-1", running_ready("10.98.0.2", ready=False))
    _wait(cluster, namespace, {"web-0": ready, "web-1": (False, False, False), "web-2": ready})

    custom = client.CustomObjectsApi(cluster.api)
    for step, name in enumerate(names):
        custom.delete_namespaced_custom_object(GROUP, VERSION, namespace, SIMPOD.plural, name)
        rest = {n: ready for n in names[step + 1 :] if n != "web-1"} | (
            {"web-1": (False, False, False)} if step < 1 else {}
        )
        serving = name != "web-1"
        _wait(cluster, namespace, {**rest, name: (False, serving, True)})
        custom.patch_namespaced_custom_object(
            GROUP, VERSION, namespace, SIMPOD.plural, name, {"metadata": {"finalizers": None}}
        )
        _wait(cluster, namespace, rest)
