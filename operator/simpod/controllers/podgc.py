"""Kopf wiring of pod garbage collection: a sweep every 20 s (scaled), as PodGC's loop.

Pods come from a cache fed by watch events (see :mod:`simpod.controllers.cache`), nodes
from a Kopf index. A node missing from the index is only trusted to be gone after the
quarantine (40 s, scaled) and a direct read that returns 404, as upstream does, so a slow
watch never costs a pod.

Deletion is by force: the pod is deleted and the agent's finalizer removed, since the
agent that would normally finish it is gone (orphans) or has nothing to stop (terminated
or never scheduled). A non-terminal pod first gets phase Failed and condition
DisruptionTarget (reason DeletionByPodGC), as upstream does since 1.26.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping
from typing import Any

import kopf
from kubernetes_asyncio.client.exceptions import ApiException

from simpod.agent.worker import FINALIZER
from simpod.api.group import GROUP, SIMNODE, SIMPOD, VERSION
from simpod.controllers.cache import GroupedCache
from simpod.controllers.conditions import with_condition
from simpod.controllers.gc import (
    GCPod,
    orphaned,
    terminated_over_threshold,
    unscheduled_terminating,
)
from simpod.controllers.logs import quiet_event_handlers
from simpod.kube import Api
from simpod.memo import memo_api, memo_get, memo_settings
from simpod.settings import Settings

LOG = logging.getLogger(__name__)
GC_PERIOD = 20.0
QUARANTINE = 40.0
# Deletions in flight at once, like PodGC's worker pool.
CONCURRENCY = 10


@kopf.index(GROUP, VERSION, SIMNODE.plural)
def podgc_nodes(name: str, **_: Any) -> dict[str, str]:
    return {name: name}


class PodGC:
    def __init__(self, api: Api, settings: Settings, *, nodes: kopf.Index[str, str]) -> None:
        self.api = api
        self.scale = settings.time_scale
        self.threshold = settings.terminated_pod_gc_threshold
        self.nodes = nodes
        self.pods: GroupedCache[GCPod] = GroupedCache()  # one group
        self.missing_since: dict[str, float] = {}
        self.slots = asyncio.Semaphore(CONCURRENCY)

    def observe_pod(self, event_type: str | None, body: Mapping[str, Any]) -> None:
        uid = body["metadata"]["uid"]
        if event_type == "DELETED":
            self.pods.remove(uid)
        else:
            self.pods.put(uid, "", GCPod.from_api(body))

    async def run(self) -> None:
        while True:
            await asyncio.sleep(GC_PERIOD / self.scale)
            try:
                await self.sweep()
            except Exception:  # one failed sweep must not stop collection
                LOG.exception("pod GC sweep failed")

    async def sweep(self) -> None:
        pods = list(self.pods)
        doomed = terminated_over_threshold(pods, self.threshold)
        doomed += await self._orphans(pods, now=time.time())
        doomed += unscheduled_terminating(pods)
        if doomed:
            LOG.info("pod GC: deleting %d pods", len(doomed))
        await asyncio.gather(*(self._bounded(pod) for pod in doomed))

    async def _orphans(self, pods: list[GCPod], *, now: float) -> list[GCPod]:
        by_node = orphaned(pods, self.nodes.keys())
        self.missing_since = {n: self.missing_since.get(n, now) for n in by_node}
        out: list[GCPod] = []
        for node, since in self.missing_since.items():
            if now - since >= QUARANTINE / self.scale and await self._gone(node):
                out += by_node[node]
        return out

    async def _gone(self, node: str) -> bool:
        try:
            await self.api.custom.get_cluster_custom_object(GROUP, VERSION, SIMNODE.plural, node)
        except ApiException as exc:
            if exc.status == 404:
                return True
            raise
        return False

    async def _bounded(self, pod: GCPod) -> None:
        async with self.slots:
            try:
                await self._force_delete(pod)
            except ApiException as exc:
                if exc.status not in (404, 409):
                    LOG.warning(
                        "pod GC could not delete %s/%s: %s", pod.namespace, pod.name, exc.reason
                    )

    async def _force_delete(self, pod: GCPod) -> None:
        if not pod.terminated and not pod.deleting:
            await self._mark_failed(pod)
        if not pod.deleting:
            deleted = await self.api.custom.delete_namespaced_custom_object(
                GROUP,
                VERSION,
                pod.namespace,
                SIMPOD.plural,
                pod.name,
                body={"preconditions": {"uid": pod.uid}},
            )
            if deleted.get("kind") != SIMPOD.kind:
                return  # gone at once
            body = deleted
        else:
            body = await self.api.custom.get_namespaced_custom_object(
                GROUP, VERSION, pod.namespace, SIMPOD.plural, pod.name
            )
        finalizers = list(body["metadata"].get("finalizers") or [])
        if FINALIZER in finalizers:
            await self.api.patch(
                SIMPOD,
                pod.name,
                {
                    "metadata": {
                        "resourceVersion": body["metadata"]["resourceVersion"],
                        "finalizers": [f for f in finalizers if f != FINALIZER],
                    }
                },
                namespace=pod.namespace,
            )

    async def _mark_failed(self, pod: GCPod) -> None:
        body = await self.api.custom.get_namespaced_custom_object(
            GROUP, VERSION, pod.namespace, SIMPOD.plural, pod.name
        )
        reason = "node no longer exists" if pod.node else "pod was never scheduled"
        conditions = with_condition(
            (body.get("status") or {}).get("conditions") or (),
            "DisruptionTarget",
            "True",
            now=time.time(),
            reason="DeletionByPodGC",
            message=f"PodGC: {reason}",
        )
        await self.api.patch_status(
            SIMPOD,
            pod.name,
            {"phase": "Failed", "conditions": conditions},
            namespace=pod.namespace,
        )


def _gc(memo: kopf.Memo) -> PodGC:
    return memo_get(memo, "podgc", PodGC)


@kopf.on.startup()
async def start_pod_gc(memo: kopf.Memo, **indexes: Any) -> None:
    gc = PodGC(memo_api(memo), memo_settings(memo), nodes=indexes["podgc_nodes"])
    memo["podgc"] = gc
    memo["podgc_task"] = asyncio.create_task(gc.run())


@kopf.on.cleanup()
async def stop_pod_gc(memo: kopf.Memo, **_: Any) -> None:
    task = memo.get("podgc_task")
    if isinstance(task, asyncio.Task):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


quiet_event_handlers("podgc_pod_event")


@kopf.on.event(GROUP, VERSION, SIMPOD.plural)
def podgc_pod_event(event: kopf.RawEvent, memo: kopf.Memo, **_: Any) -> None:
    _gc(memo).observe_pod(event["type"], event["object"])
