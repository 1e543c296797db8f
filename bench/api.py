"""Scenario ``api``: raw SimPod create and status-patch throughput through the API server.

The ceiling that later lifecycle figures are compared with: the same async client and
merge patches on the status subresource as the operator's hot path, N objects, fixed
concurrency, no operator running.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from kubernetes_asyncio import client, config

from bench.common import bounded
from simpod.api.group import GROUP, SIMPOD, VERSION
from simpod.cluster import controlplane
from simpod.cluster.paths import layout

COUNT = 1000
CONCURRENCY = 32


def run() -> dict[str, float]:
    result = controlplane.up(layout(), unsafe_no_fsync=True)
    return asyncio.run(_measure(str(result.kubeconfig)))


async def _rate(count: int, op: Callable[[int], Awaitable[Any]]) -> float:
    started = time.monotonic()
    await bounded(range(count), op, limit=CONCURRENCY)
    return count / (time.monotonic() - started)


async def _measure(kubeconfig: str) -> dict[str, float]:
    api_client = await config.new_client_from_config(config_file=kubeconfig)
    api_client.rest_client.pool_manager.connector._limit = CONCURRENCY
    core = client.CoreV1Api(api_client)
    custom = client.CustomObjectsApi(api_client)
    namespace = f"bench-api-{uuid.uuid4().hex[:6]}"
    await core.create_namespace({"metadata": {"name": namespace}})
    try:

        async def create(i: int) -> None:
            body = {
                "apiVersion": f"{GROUP}/{VERSION}",
                "kind": SIMPOD.kind,
                "metadata": {"name": f"p-{i}"},
                "spec": {"containers": [{"name": "app", "image": "busybox"}]},
            }
            await custom.create_namespaced_custom_object(
                GROUP, VERSION, namespace, SIMPOD.plural, body
            )

        async def patch(i: int) -> None:
            await custom.patch_namespaced_custom_object_status(
                GROUP,
                VERSION,
                namespace,
                SIMPOD.plural,
                f"p-{i}",
                {"status": {"phase": "Pending", "display": {"status": f"Bench{i}"}}},
                _content_type="application/merge-patch+json",
            )

        creates = await _rate(COUNT, create)
        patches = await _rate(COUNT, patch)
        started = time.monotonic()
        listed = await custom.list_namespaced_custom_object(
            GROUP, VERSION, namespace, SIMPOD.plural
        )
        list_seconds = time.monotonic() - started
        assert len(listed["items"]) == COUNT
        return {
            "creates_per_second": creates,
            "status_patches_per_second": patches,
            "list_1000_seconds": list_seconds,
        }
    finally:
        await core.delete_namespace(namespace)
        await api_client.close()
