"""Kopf wiring of the node lifecycle controller: node health, condition taints, evictions.

A monitor loop runs every ``nodeMonitorPeriod`` (5 s, scaled), as upstream's
monitorNodeHealth does: it reads the SimNodes from a Kopf index, their pods from a cache
(:mod:`simpod.controllers.cache`) and the
heartbeat Leases from ``simpod-node-lease``, then writes what
:mod:`simpod.controllers.nodehealth` decides. Writes that could undo someone else's are
guarded by the resourceVersion they were computed from; a conflict waits for the next pass.

An evicted pod is deleted (it keeps the agent's finalizer, so it stays Terminating until its
node returns or it is force-deleted); when its node is unreachable its status also says
``reason: NodeLost``, which ``kubectl get`` shows as STATUS ``Unknown``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import kopf
from kubernetes_asyncio.client.exceptions import ApiException

from simpod.agent.nodes import LEASE_NAMESPACE
from simpod.api.group import GROUP, SIMNODE, SIMPOD, VERSION
from simpod.controllers.cache import GroupedCache
from simpod.controllers.conditions import with_condition
from simpod.controllers.events import EventRecorder, EventType
from simpod.controllers.logs import quiet_event_handlers
from simpod.controllers.nodehealth import (
    READY,
    NodePlan,
    NodeView,
    PodView,
    assess,
    eviction_time,
)
from simpod.controllers.taints import Effect, Taint
from simpod.core.display import NODE_LOST, print_pod
from simpod.core.serialize import SpecError, parse_pod, parse_status
from simpod.kube import MERGE_PATCH, Api
from simpod.memo import memo_api, memo_get, memo_settings
from simpod.settings import Settings

LOG = logging.getLogger(__name__)
COMPONENT = "node-controller"
MONITOR_PERIOD = 5.0
TERMINAL_PHASES = frozenset({"Succeeded", "Failed"})
DISRUPTION_TARGET = "DisruptionTarget"


@kopf.index(GROUP, VERSION, SIMNODE.plural)
def nodelifecycle_nodes(body: kopf.Body, name: str, **_: Any) -> dict[str, _Node]:
    return {name: _Node(NodeView.from_api(body), body["metadata"]["resourceVersion"])}


def _on_node(body: Mapping[str, Any]) -> tuple[str, PodView] | None:
    """A pod the controller watches over: bound to a node and not terminal."""
    node = (body.get("spec") or {}).get("nodeName")
    if not node or (body.get("status") or {}).get("phase") in TERMINAL_PHASES:
        return None
    return node, PodView.from_api(body)


@dataclass(frozen=True)
class _Node:
    view: NodeView
    resource_version: str


class NodeLifecycle:
    def __init__(
        self,
        api: Api,
        settings: Settings,
        *,
        nodes: kopf.Index[str, _Node],
    ) -> None:
        self.api = api
        self.scale = settings.time_scale
        self.grace = settings.node_monitor_grace_period / settings.time_scale
        self.default_toleration = settings.default_toleration_seconds
        self.nodes = nodes
        self.pods: GroupedCache[PodView] = GroupedCache()  # by node
        self.events = EventRecorder(api, COMPONENT)
        self.started = time.time()
        # When a NoExecute taint without timeAdded was first seen, per node.
        self.first_seen: dict[str, dict[tuple[str, Effect], float]] = {}
        self.evicting: set[str] = set()

    def observe_pod(self, event_type: str | None, body: Mapping[str, Any]) -> None:
        uid = body["metadata"]["uid"]
        if event_type == "DELETED":
            self.pods.remove(uid)
        else:
            self.pods.put(uid, *(_on_node(body) or (None, None)))

    async def run(self) -> None:
        while True:
            try:
                await self.monitor()
            except Exception:  # one failed pass must not stop node monitoring
                LOG.exception("node monitor pass failed")
            await asyncio.sleep(MONITOR_PERIOD / self.scale)

    async def monitor(self) -> None:
        now = time.time()
        leases = await self._leases()
        names = set()
        for store in self.nodes.values():
            for node in store:
                names.add(node.view.name)
                await self._node(node, leases.get(node.view.name), now)
        self.first_seen = {n: s for n, s in self.first_seen.items() if n in names}

    async def _leases(self) -> dict[str, float]:
        try:
            leases = await self.api.coordination.list_namespaced_lease(LEASE_NAMESPACE)
        except ApiException as exc:
            if exc.status == 404:
                return {}
            raise
        out = {}
        for lease in leases.items:
            renewed = lease.spec.renew_time if lease.spec else None
            if renewed is not None:
                out[lease.metadata.name] = renewed.timestamp()
        return out

    async def _node(self, node: _Node, lease: float | None, now: float) -> None:
        view = node.view
        plan = assess(
            view, lease_renewed=lease, now=now, grace=self.grace, watching_since=self.started
        )
        if not await self._write_node(node, plan):
            return
        taints = plan.taints if plan.taints is not None else view.taints
        ready = "Unknown" if plan.conditions is not None else view.ready
        if plan.conditions is not None:
            self.events.record(
                SIMNODE,
                {"name": view.name},
                "NodeNotReady",
                f"Node {view.name} status is now: NodeNotReady",
            )
        seen = self.first_seen.setdefault(view.name, {})
        current = {(t.key, t.effect) for t in taints if t.effect is Effect.NO_EXECUTE}
        for key in list(seen):
            if key not in current:
                del seen[key]
        for taint in taints:
            if taint.effect is Effect.NO_EXECUTE and taint.time_added is None:
                seen.setdefault((taint.key, taint.effect), now)
        for pod in list(self.pods.group(view.name).values()):
            await self._pod(pod, view.name, taints, ready, now)

    async def _write_node(self, node: _Node, plan: NodePlan) -> bool:
        """Apply the plan; False when a conflict says the view it came from was stale (a
        heartbeat, a cordon since). Each write is guarded by the resourceVersion of the view,
        then of the previous write, so no decision lands on a node that changed under it."""
        version = node.resource_version
        status: dict[str, Any] = {}
        if plan.conditions is not None:
            status["conditions"] = plan.conditions
        if plan.display is not None:
            status["display"] = plan.display
        try:
            if status:
                result = await self.api.custom.patch_cluster_custom_object_status(
                    GROUP,
                    VERSION,
                    SIMNODE.plural,
                    node.view.name,
                    {"metadata": {"resourceVersion": version}, "status": status},
                    _content_type=MERGE_PATCH,
                )
                version = result["metadata"]["resourceVersion"]
            if plan.taints is not None:
                await self.api.custom.patch_cluster_custom_object(
                    GROUP,
                    VERSION,
                    SIMNODE.plural,
                    node.view.name,
                    {
                        "metadata": {"resourceVersion": version},
                        "spec": {"taints": [t.to_api() for t in plan.taints]},
                    },
                    _content_type=MERGE_PATCH,
                )
        except ApiException as exc:
            if exc.status in (404, 409):
                return False
            raise
        return True

    async def _pod(
        self, pod: PodView, node: str, taints: tuple[Taint, ...], ready: str, now: float
    ) -> None:
        if ready != "True" and pod.ready and not pod.deleting:
            await self._mark_not_ready(pod, now)
        if pod.deleting or pod.uid in self.evicting:
            return
        due = eviction_time(
            pod,
            taints,
            default_toleration_seconds=self.default_toleration,
            time_scale=self.scale,
            first_seen=self.first_seen.get(node, {}),
        )
        if due is not None and now >= due:
            self.evicting.add(pod.uid)
            try:
                await self._evict(pod, node, lost=ready == "Unknown", now=now)
            finally:
                self.evicting.discard(pod.uid)

    async def _mark_not_ready(self, pod: PodView, now: float) -> None:
        """MarkPodsNotReady: only the Ready condition's status changes."""
        conditions = with_condition(pod.conditions, READY, "False", now=now)
        try:
            await self.api.patch_status(
                SIMPOD, pod.name, {"conditions": conditions}, namespace=pod.namespace
            )
        except ApiException as exc:
            if exc.status != 404:
                raise
            return
        self.events.record(
            SIMPOD,
            {"name": pod.name, "namespace": pod.namespace, "uid": pod.uid},
            "NodeNotReady",
            "Node is not ready",
            type_=EventType.WARNING,
        )

    async def _evict(self, pod: PodView, node: str, *, lost: bool, now: float) -> None:
        meta = {"name": pod.name, "namespace": pod.namespace, "uid": pod.uid}
        self.events.record(
            SIMPOD,
            meta,
            "TaintManagerEviction",
            f"Marking for deletion Pod {pod.namespace}/{pod.name}",
        )
        try:
            deleted = await self.api.custom.delete_namespaced_custom_object(
                GROUP,
                VERSION,
                pod.namespace,
                SIMPOD.plural,
                pod.name,
                body={"preconditions": {"uid": pod.uid}},
            )
        except ApiException as exc:
            if exc.status in (404, 409):
                return
            raise
        if deleted.get("kind") != SIMPOD.kind:
            return  # gone at once (no finalizer)
        status = _eviction_status(deleted, node, lost=lost, now=now)
        with contextlib.suppress(ApiException):
            await self.api.patch_status(SIMPOD, pod.name, status, namespace=pod.namespace)


def _eviction_status(
    body: Mapping[str, Any], node: str, *, lost: bool, now: float
) -> dict[str, Any]:
    """The taint manager's DisruptionTarget condition and, for a lost node, the node
    controller's ``NodeLost`` reason with the STATUS column it makes kubectl print."""
    status = dict(body.get("status") or {})
    patch: dict[str, Any] = {
        "conditions": with_condition(
            status.get("conditions") or (),
            DISRUPTION_TARGET,
            "True",
            now=now,
            reason="DeletionByTaintManager",
            message="Taint manager: deleting due to NoExecute taint",
        )
    }
    if lost:
        patch["reason"] = NODE_LOST
        patch["message"] = (
            f"Node {node} which was running pod {body['metadata']['name']} is unresponsive"
        )
        try:
            pod = parse_pod(body)
            parsed = parse_status({**status, **patch})
        except SpecError:
            return patch
        row = print_pod(pod.spec, parsed, deletion_time=pod.deletion_time, now=now)
        patch["display"] = {**(status.get("display") or {}), "status": row.status}
    return patch


def _controller(memo: kopf.Memo) -> NodeLifecycle:
    return memo_get(memo, "nodelifecycle", NodeLifecycle)


@kopf.on.startup()
async def start_node_lifecycle(memo: kopf.Memo, **indexes: Any) -> None:
    controller = NodeLifecycle(
        memo_api(memo),
        memo_settings(memo),
        nodes=indexes["nodelifecycle_nodes"],
    )
    memo["nodelifecycle"] = controller
    memo["nodelifecycle_task"] = asyncio.create_task(controller.run())


quiet_event_handlers("nodelifecycle_pod_event")


@kopf.on.event(GROUP, VERSION, SIMPOD.plural)
def nodelifecycle_pod_event(event: kopf.RawEvent, memo: kopf.Memo, **_: Any) -> None:
    _controller(memo).observe_pod(event["type"], event["object"])


@kopf.on.cleanup()
async def stop_node_lifecycle(memo: kopf.Memo, **_: Any) -> None:
    task = memo.get("nodelifecycle_task")
    if isinstance(task, asyncio.Task):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await _controller(memo).events.close()
