"""Scenario ``schedule``: how fast the scheduler binds 1,000 pending SimPods to 100 SimNodes.

The pods and nodes exist before the scheduler starts (a ``simpod run --role scheduler``
subprocess, nothing else), so the figure is the scheduler's own pace: bindings per second
between the first and the last binding seen on a watch. Half of the pods select the nodes of
one zone; the run fails unless every pod is bound, to a node its selector allows, with
PodScheduled True, and no node holds more than its allocatable cpu.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from typing import Any

from kubernetes_asyncio import client, config, watch

from simpod.api.group import API_VERSION, GROUP, SIMNODE, SIMPOD, VERSION
from simpod.cluster import controlplane
from simpod.cluster.paths import layout
from simpod.controllers.quantity import milli_value

PODS = 1000
NODES = 100
NODE_CPU = "16"
POD_CPU = "100m"
CONCURRENCY = 32
TIMEOUT = 120.0


def run() -> dict[str, float]:
    result = controlplane.up(layout(), unsafe_no_fsync=True)
    return asyncio.run(_measure(str(result.kubeconfig)))


async def _bounded(items: list[Any], op: Any) -> None:
    sem = asyncio.Semaphore(CONCURRENCY)

    async def one(item: Any) -> None:
        async with sem:
            await op(item)

    await asyncio.gather(*(one(i) for i in items))


def _zone(index: int) -> str:
    return "a" if index % 2 else "b"


async def _measure(kubeconfig: str) -> dict[str, float]:
    api_client = await config.new_client_from_config(config_file=kubeconfig)
    core = client.CoreV1Api(api_client)
    custom = client.CustomObjectsApi(api_client)
    run_id = uuid.uuid4().hex[:6]
    namespace = f"bench-schedule-{run_id}"
    nodes = [f"bench-{run_id}-{i}" for i in range(NODES)]
    await core.create_namespace({"metadata": {"name": namespace}})
    scheduler: subprocess.Popen[bytes] | None = None
    try:
        await _bounded(list(enumerate(nodes)), lambda n: _create_node(custom, run_id, *n))
        await _bounded(list(range(PODS)), lambda i: _create_pod(custom, namespace, run_id, i))
        scheduler = subprocess.Popen(
            [sys.executable, "-m", "simpod", "run", "--role", "scheduler"],
            env=dict(os.environ, KUBECONFIG=kubeconfig),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        first, last = await asyncio.wait_for(_watch_bindings(custom, namespace), TIMEOUT)
        listed = await custom.list_namespaced_custom_object(
            GROUP, VERSION, namespace, SIMPOD.plural
        )
        _check(listed["items"], nodes)
        return {"bindings_per_second": (PODS - 1) / (last - first)}
    finally:
        if scheduler is not None:
            scheduler.terminate()
            scheduler.wait(timeout=30)
        await core.delete_namespace(namespace)
        await _bounded(
            nodes,
            lambda n: custom.delete_cluster_custom_object(GROUP, VERSION, SIMNODE.plural, n),
        )
        await api_client.close()


async def _create_node(custom: Any, run_id: str, index: int, name: str) -> None:
    await custom.create_cluster_custom_object(
        GROUP,
        VERSION,
        SIMNODE.plural,
        {
            "apiVersion": API_VERSION,
            "kind": SIMNODE.kind,
            "metadata": {"name": name, "labels": {"bench": run_id, "zone": _zone(index)}},
            "spec": {},
        },
    )
    resources = {"cpu": NODE_CPU, "memory": "64Gi", "pods": "110"}
    await custom.patch_cluster_custom_object_status(
        GROUP,
        VERSION,
        SIMNODE.plural,
        name,
        {
            "status": {
                "capacity": resources,
                "allocatable": resources,
                "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
            }
        },
        _content_type="application/merge-patch+json",
    )


async def _create_pod(custom: Any, namespace: str, run_id: str, index: int) -> None:
    selector = {"bench": run_id}
    if index % 2:
        selector["zone"] = "a"
    await custom.create_namespaced_custom_object(
        GROUP,
        VERSION,
        namespace,
        SIMPOD.plural,
        {
            "apiVersion": API_VERSION,
            "kind": SIMPOD.kind,
            "metadata": {"name": f"p-{index}"},
            "spec": {
                "nodeSelector": selector,
                "containers": [
                    {
                        "name": "app",
                        "image": "busybox",
                        "resources": {"requests": {"cpu": POD_CPU, "memory": "64Mi"}},
                    }
                ],
            },
        },
    )


async def _watch_bindings(custom: Any, namespace: str) -> tuple[float, float]:
    """Monotonic times of the first and the last binding (nodeName and PodScheduled).

    The watch has no timeout_seconds, so the client resumes it whenever the server ends it
    (kube-apiserver closes a watcher that falls behind); the caller bounds the wait."""
    bound: set[str] = set()
    first = last = 0.0
    w = watch.Watch()
    async with w.stream(
        custom.list_namespaced_custom_object,
        GROUP,
        VERSION,
        namespace,
        SIMPOD.plural,
    ) as stream:
        async for event in stream:
            pod = event["object"]
            if _bound(pod) and pod["metadata"]["name"] not in bound:
                now = time.monotonic()
                first = first or now
                last = now
                bound.add(pod["metadata"]["name"])
                if len(bound) == PODS:
                    return first, last
    raise AssertionError(f"the watch ended with {len(bound)}/{PODS} pods bound")


def _bound(pod: dict[str, Any]) -> bool:
    conditions = pod.get("status", {}).get("conditions") or []
    scheduled = any(c["type"] == "PodScheduled" and c["status"] == "True" for c in conditions)
    return bool(pod.get("spec", {}).get("nodeName")) and scheduled


def _check(pods: list[dict[str, Any]], nodes: list[str]) -> None:
    zone = {name: _zone(i) for i, name in enumerate(nodes)}
    cpu: Counter[str] = Counter()
    for pod in pods:
        node = pod["spec"].get("nodeName")
        name = pod["metadata"]["name"]
        assert node in zone, f"{name} bound to {node!r}"
        wanted = pod["spec"]["nodeSelector"].get("zone")
        assert wanted in (None, zone[node]), f"{name} on {node} outside zone {wanted}"
        assert _bound(pod), f"{name} has no PodScheduled True: {pod.get('status')}"
        cpu[node] += milli_value(POD_CPU)
    assert len(pods) == PODS
    assert max(cpu.values()) <= milli_value(NODE_CPU), "a node is over-committed"
