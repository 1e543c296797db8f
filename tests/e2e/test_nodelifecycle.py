"""Node failure through a real API server, after upstream's test/e2e/node/taints.go and the
node lifecycle controller: a node whose heartbeats stop turns Ready Unknown and gets the
unreachable taints, its pods turn NotReady, and each is evicted when its toleration of the
NoExecute taint runs out (the DefaultTolerationSeconds 300 s unless it has its own), all on
the operator's scaled clock; heartbeats coming back clear the taints."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Any

from kubernetes import client

from simpod.agent.worker import FINALIZER
from simpod.api.group import GROUP, SIMPOD, VERSION
from tests.e2e import fakenodes
from tests.e2e.conftest import Cluster, Operator
from tests.e2e.fakenodes import FakeNodes, create_pod, patch_pod_status, running_ready, wait_for

fake_nodes = fakenodes.fake_nodes  # the fixture, used by name

UNREACHABLE = "node.kubernetes.io/unreachable"
Obj = dict[str, Any]


def _condition(obj: Obj, type_: str) -> Obj:
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c["type"] == type_:
            return dict(c)
    return {}


def _taints(node: Obj) -> set[tuple[str, str]]:
    return {(t["key"], t["effect"]) for t in (node.get("spec") or {}).get("taints") or []}


def _pod(cluster: Cluster, namespace: str, name: str) -> Obj:
    obj: Obj = client.CustomObjectsApi(cluster.api).get_namespaced_custom_object(
        GROUP, VERSION, namespace, SIMPOD.plural, name
    )
    return obj


def _toleration(seconds: int | None) -> Obj:
    out: Obj = {"key": UNREACHABLE, "operator": "Exists", "effect": "NoExecute"}
    if seconds is not None:
        out["tolerationSeconds"] = seconds
    return out


def test_lost_node_pods_not_ready_then_evicted_per_toleration(
    cluster: Cluster, operator: Operator, namespace: str, fake_nodes: FakeNodes
) -> None:
    node = fake_nodes.add("lost")
    pods = {"quick": [_toleration(10)], "forever": [_toleration(None)], "default": []}
    for index, (name, tolerations) in enumerate(pods.items()):
        create_pod(
            cluster,
            namespace,
            name,
            {"nodeName": node, "tolerations": tolerations},
            finalizers=[FINALIZER],  # the agent's, which keeps an evicted pod Terminating
        )
        patch_pod_status(cluster, namespace, name, running_ready(f"10.99.0.{index + 1}"))

    fake_nodes.kill_agent(node)
    killed = time.monotonic()
    scale = operator.time_scale
    wait_for(
        lambda: _condition(fake_nodes.node(node), "Ready").get("status") == "Unknown",
        timeout=40 / scale + 10,
        what="node Ready Unknown",
    )
    # The condition (status) and the taints (spec) are two writes, as in the node
    # lifecycle controller: the taints may come a moment after.
    wait_for(
        lambda: (
            {(UNREACHABLE, "NoSchedule"), (UNREACHABLE, "NoExecute")}
            <= _taints(fake_nodes.node(node))
        ),
        timeout=10,
        what="unreachable taints",
    )
    lost = fake_nodes.node(node)
    assert _condition(lost, "Ready")["reason"] == "NodeStatusUnknown"
    assert lost["status"]["display"]["status"] == "NotReady"
    for name in pods:
        wait_for(
            lambda n=name: _condition(_pod(cluster, namespace, n), "Ready")["status"] == "False",
            timeout=20,
            what=f"{name} NotReady",
        )

    quick = wait_for(
        lambda: (
            (p := _pod(cluster, namespace, "quick"))["metadata"].get("deletionTimestamp")
            and p["status"].get("display", {}).get("status") == "Unknown"
            and p
        ),
        timeout=10 / scale + 10,
        what="quick evicted",
    )
    assert quick["status"]["reason"] == "NodeLost"
    assert _condition(quick, "DisruptionTarget")["reason"] == "DeletionByTaintManager"
    assert not _pod(cluster, namespace, "default")["metadata"].get("deletionTimestamp")

    wait_for(
        lambda: _pod(cluster, namespace, "default")["metadata"].get("deletionTimestamp"),
        timeout=300 / scale + 10,
        what="default evicted after the default toleration",
    )
    assert time.monotonic() - killed >= 300 / scale - 2
    assert not _pod(cluster, namespace, "forever")["metadata"].get("deletionTimestamp")

    fake_nodes.revive_agent(node)
    wait_for(
        lambda: not _taints(fake_nodes.node(node)) & {(UNREACHABLE, "NoExecute")},
        timeout=10,
        what="taints cleared",
    )
    # No agent finishes them: evicted pods stay Terminating, as on a real lost node.
    assert _pod(cluster, namespace, "quick")["metadata"].get("deletionTimestamp")


def _simpod(cluster: Cluster, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "simpod", *args],
        env=dict(os.environ, KUBECONFIG=str(cluster.kubeconfig)),
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return done.stdout


def test_simpod_node_fail_and_recover(cluster: Cluster, operator: Operator) -> None:
    custom = client.CustomObjectsApi(cluster.api)

    def node() -> Obj:
        obj: Obj = custom.get_cluster_custom_object(GROUP, VERSION, "simnodes", "sim-node-2")
        return obj

    assert _simpod(cluster, "node", "fail", "sim-node-2").strip() == "simnode/sim-node-2 failed"
    try:
        assert node()["spec"]["failed"] is True
        wait_for(
            lambda: (
                _condition(node(), "Ready").get("status") == "Unknown"
                and (UNREACHABLE, "NoExecute") in _taints(node())
            ),
            timeout=40 / operator.time_scale + 10,
            what="failed node unreachable",
        )
    finally:
        _simpod(cluster, "node", "recover", "sim-node-2")
    wait_for(
        lambda: _condition(node(), "Ready").get("status") == "True" and not _taints(node()),
        timeout=20,
        what="recovered node Ready without taints",
    )
