"""Scenario ``lifecycle``: the node agent's pace with thousands of SimPods.

1,000 SimPods already bound round-robin to 10 SimNodes (no scheduler involved) are created
while one agent (``simpod run --role agent --nodes 10``) runs them; the figures are pods
reaching Running per second (creation of the first to Running of the last), pods fully
deleted per second (graceful deletion, default sim: exits at once on TERM), and the agent's
resident memory with all pods running.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from kubernetes_asyncio import client, config

from bench.common import bounded, rss_mb, start_operator
from simpod.api.group import API_VERSION, GROUP, SIMNODE, SIMPOD, VERSION
from simpod.cluster import controlplane
from simpod.cluster.paths import layout

PODS = 1000
NODES = 10
CONCURRENCY = 32
TIMEOUT = 300.0


def run() -> dict[str, float]:
    result = controlplane.up(layout(), unsafe_no_fsync=True)
    with tempfile.TemporaryDirectory() as tmp:
        operator = start_operator(
            str(result.kubeconfig),
            "--role=agent",
            f"--nodes={NODES}",
            "--time-scale=10",
            log=Path(tmp) / "operator.log",
        )
        try:
            return asyncio.run(_measure(str(result.kubeconfig), operator.pid))
        finally:
            operator.terminate()
            operator.wait(timeout=30)


async def _count(custom: Any, namespace: str, phase: str | None) -> int:
    listed = await custom.list_namespaced_custom_object(GROUP, VERSION, namespace, SIMPOD.plural)
    items = listed["items"]
    if phase is None:
        return len(items)
    return sum(1 for p in items if (p.get("status") or {}).get("phase") == phase)


async def _until(check: Any, what: str) -> float:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if await check():
            return time.monotonic()
        await asyncio.sleep(0.2)
    raise TimeoutError(what)


async def _measure(kubeconfig: str, operator_pid: int) -> dict[str, float]:
    api_client = await config.new_client_from_config(config_file=kubeconfig)
    core = client.CoreV1Api(api_client)
    custom = client.CustomObjectsApi(api_client)
    namespace = f"bench-lifecycle-{uuid.uuid4().hex[:6]}"
    await core.create_namespace({"metadata": {"name": namespace}})
    try:
        await _until(
            lambda: _node_exists(custom, f"sim-node-{NODES}"), "the agent registered its nodes"
        )

        async def create(i: int) -> None:
            body = {
                "apiVersion": API_VERSION,
                "kind": SIMPOD.kind,
                "metadata": {"name": f"p-{i}"},
                "spec": {
                    "nodeName": f"sim-node-{i % NODES + 1}",
                    "containers": [{"name": "app", "image": "busybox"}],
                },
            }
            await custom.create_namespaced_custom_object(
                GROUP, VERSION, namespace, SIMPOD.plural, body
            )

        started = time.monotonic()
        await bounded(range(PODS), create, limit=CONCURRENCY)
        running_at = await _until(lambda: _all(custom, namespace, "Running"), "every pod Running")
        rss = rss_mb(operator_pid)
        deleting = time.monotonic()
        await bounded(
            range(PODS),
            lambda i: custom.delete_namespaced_custom_object(
                GROUP, VERSION, namespace, SIMPOD.plural, f"p-{i}"
            ),
            limit=CONCURRENCY,
        )
        gone_at = await _until(lambda: _none_left(custom, namespace), "every pod gone")
        return {
            "pods_running_per_second": PODS / (running_at - started),
            "pods_deleted_per_second": PODS / (gone_at - deleting),
            "agent_rss_mb": rss,
        }
    finally:
        await core.delete_namespace(namespace)
        await api_client.close()


async def _node_exists(custom: Any, name: str) -> bool:
    listed = await custom.list_cluster_custom_object(GROUP, VERSION, SIMNODE.plural)
    return any(n["metadata"]["name"] == name for n in listed["items"])


async def _all(custom: Any, namespace: str, phase: str) -> bool:
    return await _count(custom, namespace, phase) == PODS


async def _none_left(custom: Any, namespace: str) -> bool:
    return await _count(custom, namespace, None) == 0
