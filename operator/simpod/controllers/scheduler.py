"""Kopf wiring of the scheduler: binds unscheduled SimPods to SimNodes.

State comes from a Kopf index of nodes and two pod caches (pods bound to each node,
unscheduled pods; see :mod:`simpod.controllers.cache`); one loop wakes when they change and
tries the pending pods oldest first. Like kube-scheduler it
*assumes* a pod on its node as soon as it decides, so the next decisions count it before the
watch reports the binding, and it retries an unschedulable pod only after something that could
make it fit changed (a node's scheduling view, a pod on a node going away, the pod's own spec)
or after a periodic flush, never in a busy loop.

A binding is a merge patch of ``spec.nodeName`` (the CRD refuses a later change, so a bound
pod never moves), then condition PodScheduled True (guarded by the resourceVersion the binding
returned, so it never overwrites what the node agent wrote since) and Event ``Scheduled``,
posted in the background.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import kopf
from kubernetes_asyncio.client.exceptions import ApiException

from simpod.api.group import GROUP, SIMNODE, SIMPOD, VERSION
from simpod.controllers.cache import GroupedCache
from simpod.controllers.conditions import find, with_condition
from simpod.controllers.events import EventRecorder, EventType
from simpod.controllers.logs import quiet_event_handlers
from simpod.controllers.scheduling import (
    Bind,
    NodeInfo,
    NodeState,
    PodInfo,
    PodUsage,
    effective_requests,
    schedule,
)
from simpod.core.display import print_pod
from simpod.core.model import PodStatus
from simpod.core.serialize import SpecError, parse_spec
from simpod.kube import MERGE_PATCH, Api
from simpod.memo import memo_api, memo_get, memo_settings

LOG = logging.getLogger(__name__)
COMPONENT = "default-scheduler"
POD_SCHEDULED = "PodScheduled"
TERMINAL_PHASES = frozenset({"Succeeded", "Failed"})
# Bindings in flight at once (each is two patches and an event).
CONCURRENCY = 48
# kube-scheduler's podMaxInUnschedulablePodsDuration: retry every unschedulable pod this
# often (scaled) even if no event said it might fit now.
FLUSH_SECONDS = 300.0
STATUS_RETRIES = 5


@dataclass(frozen=True)
class Pending:
    """An unscheduled pod: its scheduling view plus what a status patch must send back."""

    info: PodInfo
    meta: Mapping[str, Any] = field(compare=False)
    conditions: tuple[Mapping[str, Any], ...] = field(compare=False)
    display: Mapping[str, Any] = field(compare=False, default_factory=dict)


def _terminal(status: Mapping[str, Any]) -> bool:
    return status.get("phase") in TERMINAL_PHASES


@kopf.index(GROUP, VERSION, SIMNODE.plural)
def scheduler_nodes(body: kopf.Body, name: str, **_: Any) -> dict[str, NodeInfo]:
    return {name: NodeInfo.from_api(body)}


def _bound(body: Mapping[str, Any]) -> tuple[str, PodUsage] | None:
    """A pod that holds resources on a node: bound and not terminal (terminating too)."""
    spec, status, meta = body.get("spec") or {}, body.get("status") or {}, body["metadata"]
    node = spec.get("nodeName")
    if not node or _terminal(status):
        return None
    owner = next(
        (o.get("uid") for o in meta.get("ownerReferences") or () if o.get("controller")), None
    )
    usage = PodUsage(
        meta["uid"], effective_requests(spec), effective_requests(spec, non_zero=True), owner
    )
    return node, usage


def _pending(body: Mapping[str, Any]) -> Pending | None:
    spec, status, meta = body.get("spec") or {}, body.get("status") or {}, body["metadata"]
    if spec.get("nodeName") or meta.get("deletionTimestamp") or _terminal(status):
        return None
    return Pending(
        PodInfo.from_api(body),
        {k: meta.get(k) for k in ("name", "namespace", "uid")},
        tuple(status.get("conditions") or ()),
        _pending_display(spec),
    )


def _pending_display(spec: Mapping[str, Any]) -> Mapping[str, Any]:
    """What `kubectl get` shows for a pod no node has taken yet: 0/N, Pending, 0."""
    try:
        row = print_pod(parse_spec(spec), PodStatus(), deletion_time=None, now=0.0)
    except SpecError:
        return {}
    return {"ready": row.ready, "status": row.status, "restarts": "0", "restartsCount": 0}


def _values(index: kopf.Index[Any, Any]) -> Iterable[Any]:
    for store in index.values():
        yield from store


@dataclass(frozen=True)
class _Attempt:
    """The last failed attempt: retried only when the cluster or the pod has changed."""

    generation: int
    info: PodInfo


class Scheduler:
    """The scheduling loop and its cache of assumed bindings."""

    def __init__(
        self,
        api: Api,
        *,
        nodes: kopf.Index[str, NodeInfo],
        flush_seconds: float,
        rng: random.Random | None = None,
    ) -> None:
        self.api = api
        self.events = EventRecorder(api, COMPONENT)
        self.nodes = nodes
        self.bound: GroupedCache[PodUsage] = GroupedCache()  # by node
        self.pending: GroupedCache[Pending] = GroupedCache()  # one group
        self.flush_seconds = flush_seconds
        self.rng = rng or random.Random()
        self.wakeup = asyncio.Event()
        self.generation = 0
        self.node_views: dict[str, NodeInfo] = {}
        self.attempts: dict[str, _Attempt] = {}
        self.messages: dict[str, str] = {}
        self.assumed: dict[str, tuple[str, PodUsage]] = {}
        self.slots = asyncio.Semaphore(CONCURRENCY)
        self.tasks: set[asyncio.Task[None]] = set()

    def wake(self) -> None:
        self.wakeup.set()

    def cluster_changed(self) -> None:
        """Something happened that may let an unschedulable pod fit now."""
        self.generation += 1
        self.wake()

    def node_changed(self, name: str, view: NodeInfo | None) -> None:
        """Retry unschedulable pods only when a node's scheduling view changed (not on every
        heartbeat), as kube-scheduler's queueing hints do."""
        if self.node_views.get(name) == view:
            return
        if view is None:
            self.node_views.pop(name, None)
        else:
            self.node_views[name] = view
        self.cluster_changed()

    def observe_pod(self, event_type: str | None, body: Mapping[str, Any]) -> None:
        """Keep the pod caches current; a new or changed pending pod wakes the loop (unchanged
        ones are skipped cheaply there) and a pod that stops holding resources on a node
        makes room, so unschedulable pods are retried."""
        uid = body["metadata"]["uid"]
        held = uid in self.bound
        if event_type == "DELETED":
            self.bound.remove(uid)
            self.pending.remove(uid)
        else:
            bound = _bound(body)
            self.bound.put(uid, *(bound or (None, None)))
            pending = _pending(body)
            self.pending.put(uid, "", pending)
            if pending is not None:
                self.wake()
        if held and uid not in self.bound:
            self.cluster_changed()

    async def run(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self.wakeup.wait(), timeout=self.flush_seconds)
            except TimeoutError:
                self.generation += 1
            self.wakeup.clear()
            try:
                await self.schedule_pending()
            except Exception:  # the loop must survive one bad pass; the next event retries
                LOG.exception("scheduling pass failed")

    def _states(self) -> dict[str, NodeState]:
        usage: dict[str, list[PodUsage]] = {}
        for node, pods in self.bound.groups().items():
            usage[node] = list(pods.values())
        for node, pod in self.assumed.values():
            usage.setdefault(node, []).append(pod)
        return {
            info.name: NodeState.build(info, usage.get(info.name, ()))
            for info in _values(self.nodes)
        }

    async def schedule_pending(self) -> None:
        pending = sorted(self.pending, key=lambda p: (p.info.created, p.info.key))
        uids = {p.info.uid for p in pending}
        # An assumed pod leaves the pending index when the watch reports it bound; from then
        # on the bound index counts it.
        self.assumed = {uid: a for uid, a in self.assumed.items() if uid in uids}
        self.attempts = {uid: a for uid, a in self.attempts.items() if uid in uids}
        self.messages = {uid: m for uid, m in self.messages.items() if uid in uids}
        states = self._states()
        ordered = sorted(states)
        for pod in pending:
            uid = pod.info.uid
            if uid in self.assumed:
                continue
            last = self.attempts.get(uid)
            if last is not None and last.generation == self.generation and last.info == pod.info:
                continue
            decision = schedule(pod.info, [states[n] for n in ordered], rng=self.rng)
            if isinstance(decision, Bind):
                usage = PodUsage.of(pod.info)
                states[decision.node] = states[decision.node].with_pod(usage)
                self.assumed[uid] = (decision.node, usage)
                self.attempts.pop(uid, None)
                await self.slots.acquire()
                self._spawn(self._bind(pod, decision.node))
            else:
                self.attempts[uid] = _Attempt(self.generation, pod.info)
                if self.messages.get(uid) != decision.message:
                    self.messages[uid] = decision.message
                    await self.slots.acquire()
                    self._spawn(self._unschedulable(pod, decision.message))

    def _spawn(self, work: Any) -> None:
        task: asyncio.Task[None] = asyncio.create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        self.slots.release()
        if not task.cancelled() and task.exception() is not None:
            LOG.error("scheduler API call failed", exc_info=task.exception())

    async def _bind(self, pod: Pending, node: str) -> None:
        meta = pod.meta
        try:
            bound = await self.api.patch(
                SIMPOD, meta["name"], {"spec": {"nodeName": node}}, namespace=meta["namespace"]
            )
        except ApiException as exc:
            # 404: deleted meanwhile; 422: bound by someone else (nodeName is write-once).
            self.assumed.pop(pod.info.uid, None)
            if exc.status not in (404, 422):
                LOG.warning("binding %s to %s failed: %s", pod.info.key, node, exc.reason)
                self.attempts.pop(pod.info.uid, None)
                self.wake()
            return
        await self._mark_scheduled(bound)
        self.events.record(
            SIMPOD, meta, "Scheduled", f"Successfully assigned {pod.info.key} to {node}"
        )

    async def _mark_scheduled(self, body: Mapping[str, Any]) -> None:
        """PodScheduled True, written against the resourceVersion it was computed from so it
        never undoes a status write of the node agent, which may start as soon as the
        binding lands; on a conflict, read again and retry."""
        meta = body["metadata"]
        for _ in range(STATUS_RETRIES):
            conditions = with_condition(
                body.get("status", {}).get("conditions") or (),
                POD_SCHEDULED,
                "True",
                now=time.time(),
                reason="",
                message="",
            )
            patch = {
                "metadata": {"resourceVersion": meta["resourceVersion"]},
                "status": {"conditions": conditions},
            }
            try:
                await self.api.custom.patch_namespaced_custom_object_status(
                    GROUP,
                    VERSION,
                    meta["namespace"],
                    SIMPOD.plural,
                    meta["name"],
                    patch,
                    _content_type=MERGE_PATCH,
                )
                return
            except ApiException as exc:
                if exc.status == 404:
                    return
                if exc.status != 409:
                    raise
            try:
                body = await self.api.custom.get_namespaced_custom_object(
                    GROUP, VERSION, meta["namespace"], SIMPOD.plural, meta["name"]
                )
            except ApiException as exc:
                if exc.status == 404:
                    return
                raise
            meta = body["metadata"]
        LOG.warning("PodScheduled of %s/%s not written: conflicts", meta["namespace"], meta["name"])

    async def _unschedulable(self, pod: Pending, message: str) -> None:
        meta = pod.meta
        current = find(pod.conditions, POD_SCHEDULED)
        if not (current and current.get("status") == "False" and current.get("message") == message):
            conditions = with_condition(
                pod.conditions,
                POD_SCHEDULED,
                "False",
                now=time.time(),
                reason="Unschedulable",
                message=message,
            )
            try:
                patch = {"phase": "Pending", "conditions": conditions, "display": pod.display}
                await self.api.patch_status(
                    SIMPOD, meta["name"], patch, namespace=meta["namespace"]
                )
            except ApiException as exc:
                if exc.status != 404:
                    raise
                return
        self.events.record(SIMPOD, meta, "FailedScheduling", message, type_=EventType.WARNING)


def _scheduler(memo: kopf.Memo) -> Scheduler:
    return memo_get(memo, "scheduler", Scheduler)


@kopf.on.startup()
async def start_scheduler(memo: kopf.Memo, **indexes: Any) -> None:
    """The node index is a live view, empty until Kopf has listed the nodes; the loop only
    starts working on the first event, which Kopf delivers once it is filled."""
    scheduler = Scheduler(
        memo_api(memo),
        nodes=indexes["scheduler_nodes"],
        flush_seconds=FLUSH_SECONDS / memo_settings(memo).time_scale,
    )
    memo["scheduler"] = scheduler
    memo["scheduler_task"] = asyncio.create_task(scheduler.run())


@kopf.on.cleanup()
async def stop_scheduler(memo: kopf.Memo, **_: Any) -> None:
    task = memo.get("scheduler_task")
    if isinstance(task, asyncio.Task):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await _scheduler(memo).events.close()


@kopf.on.event(GROUP, VERSION, SIMNODE.plural)
def scheduler_node_event(
    event: kopf.RawEvent, body: kopf.Body, name: str, memo: kopf.Memo, **_: Any
) -> None:
    view = None if event["type"] == "DELETED" else NodeInfo.from_api(body)
    _scheduler(memo).node_changed(name, view)


quiet_event_handlers("scheduler_node_event", "scheduler_pod_event")


@kopf.on.event(GROUP, VERSION, SIMPOD.plural)
def scheduler_pod_event(event: kopf.RawEvent, memo: kopf.Memo, **_: Any) -> None:
    _scheduler(memo).observe_pod(event["type"], event["object"])
