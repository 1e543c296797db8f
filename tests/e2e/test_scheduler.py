"""The scheduler through a real API server, after upstream's test/e2e/scheduling/predicates.go:
a pod without a node lands on one; node selectors, taints and resources are respected, with
kube-scheduler's message while a pod waits, and the pod is bound as soon as a change lets it
fit (no busy retry loop is needed for that)."""

from __future__ import annotations

import re
from typing import Any

from kubernetes import client

from simpod.api.group import GROUP, SIMNODE, SIMPOD, VERSION
from tests.e2e import fakenodes
from tests.e2e.conftest import Cluster, Operator
from tests.e2e.fakenodes import FakeNodes, create_pod, wait_for

fake_nodes = fakenodes.fake_nodes  # the fixture, used by name

TIMEOUT = 30.0
Obj = dict[str, Any]


def _pod(cluster: Cluster, namespace: str, name: str) -> Obj:
    obj: Obj = client.CustomObjectsApi(cluster.api).get_namespaced_custom_object(
        GROUP, VERSION, namespace, SIMPOD.plural, name
    )
    return obj


def _scheduled(pod: Obj) -> Obj:
    for c in (pod.get("status") or {}).get("conditions") or []:
        if c["type"] == "PodScheduled":
            return dict(c)
    return {}


def wait_bound(cluster: Cluster, namespace: str, name: str) -> Obj:
    def bound() -> Obj | None:
        pod = _pod(cluster, namespace, name)
        ok = pod["spec"].get("nodeName") and _scheduled(pod).get("status") == "True"
        return pod if ok else None

    result: Obj = wait_for(bound, timeout=TIMEOUT, what=f"{name} bound")
    return result


def wait_unschedulable(cluster: Cluster, namespace: str, name: str, reason: str) -> str:
    def waiting() -> str | None:
        condition = _scheduled(_pod(cluster, namespace, name))
        message = str(condition.get("message", ""))
        ok = condition.get("reason") == "Unschedulable" and reason in message
        return message if ok else None

    message: str = wait_for(waiting, timeout=TIMEOUT, what=f"{name} unschedulable: {reason}")
    assert re.fullmatch(r"0/\d+ nodes are available: .+\.", message), message
    assert not _pod(cluster, namespace, name)["spec"].get("nodeName")
    return message


def events(cluster: Cluster, namespace: str, name: str) -> list[tuple[str, str, str]]:
    listed = client.CoreV1Api(cluster.api).list_namespaced_event(
        namespace, field_selector=f"involvedObject.name={name}"
    )
    return [(e.reason, e.message, e.source.component if e.source else "") for e in listed.items]


def test_pod_without_node_lands_on_a_node(
    cluster: Cluster, operator: Operator, namespace: str
) -> None:
    create_pod(cluster, namespace, "web")
    pod = wait_bound(cluster, namespace, "web")
    node = pod["spec"]["nodeName"]
    wanted = ("Scheduled", f"Successfully assigned {namespace}/web to {node}", "default-scheduler")
    wait_for(lambda: wanted in events(cluster, namespace, "web"), timeout=TIMEOUT, what="event")


def test_impossible_pod_stays_pending_with_the_reason(
    cluster: Cluster, operator: Operator, namespace: str
) -> None:
    create_pod(
        cluster,
        namespace,
        "huge",
        {"containers": [{"name": "app", "image": "x", "resources": {"requests": {"cpu": "1k"}}}]},
    )
    message = wait_unschedulable(cluster, namespace, "huge", "Insufficient cpu")
    wait_for(
        lambda: (
            ("FailedScheduling", message, "default-scheduler") in events(cluster, namespace, "huge")
        ),
        timeout=TIMEOUT,
        what="FailedScheduling event",
    )


def test_node_selector_respected_and_retried_when_a_node_matches(
    cluster: Cluster, operator: Operator, namespace: str, fake_nodes: FakeNodes
) -> None:
    label = {"e2e-selector": fake_nodes.run_id}
    create_pod(cluster, namespace, "picky", {"nodeSelector": label})
    wait_unschedulable(
        cluster, namespace, "picky", "node(s) didn't match Pod's node affinity/selector"
    )
    node = fake_nodes.add("labelled", labels=label)
    assert wait_bound(cluster, namespace, "picky")["spec"]["nodeName"] == node


def test_required_node_affinity(
    cluster: Cluster, operator: Operator, namespace: str, fake_nodes: FakeNodes
) -> None:
    fake_nodes.add("gen2", labels={"gen": "2"})
    wanted = fake_nodes.add("gen5", labels={"gen": "5"})
    term = {
        "matchExpressions": [
            {"key": "e2e-run", "operator": "In", "values": [fake_nodes.run_id]},
            {"key": "gen", "operator": "Gt", "values": ["3"]},
        ]
    }
    affinity = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}
        }
    }
    create_pod(cluster, namespace, "affine", {"affinity": affinity})
    assert wait_bound(cluster, namespace, "affine")["spec"]["nodeName"] == wanted


def test_taints_respected_until_tolerated(
    cluster: Cluster, operator: Operator, namespace: str, fake_nodes: FakeNodes
) -> None:
    taint = {"key": f"e2e-{fake_nodes.run_id}", "value": "gpu", "effect": "NoSchedule"}
    node = fake_nodes.add("tainted", taints=[taint])
    create_pod(cluster, namespace, "intolerant", {"nodeSelector": {"e2e-run": fake_nodes.run_id}})
    wait_unschedulable(
        cluster,
        namespace,
        "intolerant",
        f"1 node(s) had untolerated taint {{e2e-{fake_nodes.run_id}: gpu}}",
    )
    toleration = {"key": taint["key"], "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}
    client.CustomObjectsApi(cluster.api).patch_namespaced_custom_object(
        GROUP,
        VERSION,
        namespace,
        SIMPOD.plural,
        "intolerant",
        {"spec": {"tolerations": [toleration]}},
    )
    assert wait_bound(cluster, namespace, "intolerant")["spec"]["nodeName"] == node


def test_resources_counted_and_freed_by_terminated_pods(
    cluster: Cluster, operator: Operator, namespace: str, fake_nodes: FakeNodes
) -> None:
    node = fake_nodes.add("small", cpu="1")
    spec = {
        "nodeSelector": {"e2e-run": fake_nodes.run_id},
        "containers": [{"name": "app", "image": "x", "resources": {"requests": {"cpu": "600m"}}}],
    }
    create_pod(cluster, namespace, "first", spec)
    assert wait_bound(cluster, namespace, "first")["spec"]["nodeName"] == node
    create_pod(cluster, namespace, "second", spec)
    wait_unschedulable(cluster, namespace, "second", "1 Insufficient cpu")
    # The first pod finishing frees its share: the waiting pod is retried and bound.
    client.CustomObjectsApi(cluster.api).patch_namespaced_custom_object_status(
        GROUP, VERSION, namespace, SIMPOD.plural, "first", {"status": {"phase": "Succeeded"}}
    )
    assert wait_bound(cluster, namespace, "second")["spec"]["nodeName"] == node


def test_cordoned_node_gets_no_new_pods(
    cluster: Cluster, operator: Operator, namespace: str, fake_nodes: FakeNodes
) -> None:
    node = fake_nodes.add("cordoned", unschedulable=True)
    custom = client.CustomObjectsApi(cluster.api)
    create_pod(cluster, namespace, "waits", {"nodeSelector": {"e2e-run": fake_nodes.run_id}})
    wait_unschedulable(cluster, namespace, "waits", "1 node(s) were unschedulable")
    custom.patch_cluster_custom_object(
        GROUP, VERSION, SIMNODE.plural, node, {"spec": {"unschedulable": False}}
    )
    assert wait_bound(cluster, namespace, "waits")["spec"]["nodeName"] == node
