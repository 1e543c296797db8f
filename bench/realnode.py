"""Scenario ``realnode``: the real kubelet's own pace, beside the ``startup`` figure.

On a private control plane with the real node (kubelet, containerd, runc), 100 busybox Pods
(``sleep 3600``, image present, no probes) are created at once; the figure is Pods Ready
per second, first creation to last Ready. 100 because a kubelet admits at most 110 pods.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from typing import Any

from kubernetes_asyncio import client, config

from bench.common import bounded, private_control_plane
from simpod.cluster import node
from simpod.cluster.paths import Layout, layout

PODS = 100
CONCURRENCY = 16
TIMEOUT = 600.0


def run() -> dict[str, float]:
    try:
        node.preflight(Layout(layout().home))
    except node.NodeUnsupported as exc:
        print(f"bench: realnode skipped: {exc}", file=sys.stderr)
        return {}
    with private_control_plane(with_node=True) as kubeconfig:
        return asyncio.run(_measure(kubeconfig))


def _pod(i: int) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": f"p-{i}"},
        "spec": {
            "containers": [
                {
                    "name": "app",
                    "image": "busybox",
                    "imagePullPolicy": "Never",
                    "command": ["sleep", "3600"],
                }
            ],
            "terminationGracePeriodSeconds": 0,
        },
    }


async def _measure(kubeconfig: str) -> dict[str, float]:
    api_client = await config.new_client_from_config(config_file=kubeconfig)
    core = client.CoreV1Api(api_client)
    namespace = f"bench-realnode-{uuid.uuid4().hex[:6]}"
    await core.create_namespace({"metadata": {"name": namespace}})
    try:
        while not (await core.list_namespaced_service_account(namespace)).items:
            await asyncio.sleep(0.1)  # pods are refused until the default account exists
        started = time.monotonic()
        await bounded(
            range(PODS),
            lambda i: core.create_namespaced_pod(namespace, _pod(i)),
            limit=CONCURRENCY,
        )
        while True:
            pods = (await core.list_namespaced_pod(namespace)).items
            ready = sum(
                1
                for p in pods
                if any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or [])
            )
            if ready == PODS:
                break
            if time.monotonic() - started > TIMEOUT:
                raise TimeoutError(f"only {ready} of {PODS} Pods Ready")
            await asyncio.sleep(0.5)
        return {"pods_per_second": PODS / (time.monotonic() - started)}
    finally:
        await core.delete_namespace(namespace)
        await api_client.close()
