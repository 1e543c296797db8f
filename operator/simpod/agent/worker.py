"""One pod's worker: the kubelet's sync loop for one SimPod on one of this agent's nodes.

Each round reads the live object, asks the core what to do (:func:`sync_pod`), has the
runtime do it, repeats at the same instant until nothing is left to do, then writes the
status once (a merge patch with only the difference) and posts the round's Events. It then
sleeps until the core's or the runtime's next moment, or until the object changes.

Everything needed after an operator restart is in the status: the core's bookkeeping and
the runtime's records under ``status.sim``, the pod IP in ``status.podIP``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from kubernetes_asyncio.client.exceptions import ApiException

from simpod.agent.events import PodEvents
from simpod.agent.mergepatch import apply, diff
from simpod.agent.nodes import NodeInfo
from simpod.api.group import SIMPOD
from simpod.core.clock import to_kubelet
from simpod.core.display import print_pod
from simpod.core.kubelet import (
    Event,
    EventType,
    KubeletSettings,
    PodBook,
    PodDecision,
    status_document,
    sync_pod,
)
from simpod.core.model import Condition, Pod, PodStatus
from simpod.core.relist import relist
from simpod.core.runtime import Instance
from simpod.core.serialize import SpecError, parse_pod, parse_status
from simpod.kube import Api
from simpod.runtimes.base import PodRuntime
from simpod.runtimes.select import (
    RuntimeContext,
    RuntimeOptions,
    RuntimeUnavailable,
    create_runtime,
)

FINALIZER = "simpod.dev/finalizer"
KUBELET_CONDITIONS = frozenset(
    {"PodReadyToStartContainers", "Initialized", "ContainersReady", "Ready"}
)
MAX_ROUNDS = 32  # actions at one instant settle in a few rounds; this only bounds a bug


# Bookkeeping that changes without anything observable in the status: the probe workers'
# counters and due times, when the pod worker last synced or will sync for a queued
# update, and which instances had their Started Event (posted as the process runs, a
# create-and-start's time after the sync that started it).
_RIDE_ALONG = frozenset({"probes", "syncedAt", "pendingSyncAt", "announced"})


def _only_timing(patch: Mapping[str, Any]) -> bool:
    """A probe run, a sync that changed nothing observable or a container's start moves
    only bookkeeping. It is not worth a write of its own (1,000 pods probed every 10 s would
    be 6,000 writes a minute; a start would cost each pod one more): it rides along with
    the next real write, and after a restart a slightly stale copy only makes a probe run
    early, as after a kubelet restart, a verdict wait a relist more or less, or a Started
    Event come twice for a container that started less than a relist before."""
    return set(patch) == {"sim"} and set(patch["sim"]) <= _RIDE_ALONG


def _rv(obj: Mapping[str, Any]) -> int:
    return int(obj.get("metadata", {}).get("resourceVersion") or 0)


class PodWorker:
    """Runs until the pod is finished (deleted and stopped) or gone."""

    def __init__(
        self,
        *,
        api: Api,
        node: NodeInfo,
        body: Mapping[str, Any],
        time_scale: float,
        kubelet: KubeletSettings,
        logger: logging.Logger | logging.LoggerAdapter[Any],
        runtimes: RuntimeOptions | None = None,
    ) -> None:
        self.api = api
        self.runtimes = runtimes or RuntimeOptions()
        self.node = node
        self.body: Mapping[str, Any] = body
        self.scale = time_scale
        self.kubelet = kubelet
        self.logger = logger
        self.poke = asyncio.Event()
        self.gone = False
        # The kubelet admits a pod as its watch brings it: simpod's own set-up (the
        # runtime's sandbox directory, the finalizer) is not kubelet time, so a new pod's
        # first sync is made as of now (its startTime, its probes' ticks).
        self.received: float | None = self.now()
        self.written: dict[str, Any] = dict(body.get("status") or {})
        self.written_rv = _rv(body)
        self.spec_error = ""
        self.events = PodEvents(api, node=node.name)
        self.next_relist: float | None = None
        self.seen: Mapping[str, Instance] = {}  # what the last status showed of each container
        self.relisted = False  # seen holds a relist of this worker's

    @property
    def name(self) -> str:
        return str(self.body["metadata"]["name"])

    @property
    def namespace(self) -> str:
        return str(self.body["metadata"]["namespace"])

    def update(self, body: Mapping[str, Any]) -> None:
        """A new version of the object. The echo of this worker's own status write changes
        nothing it does not know, so it does not wake the worker: the kubelet's pod config
        ignores status-only updates too. (Every write would otherwise cost a second sync.)"""
        echo = _rv(body) == self.written_rv
        self.body = body
        if not echo:
            self.poke.set()

    def vanish(self) -> None:
        self.gone = True
        self.poke.set()

    def now(self) -> float:
        return to_kubelet(time.time(), self.scale)

    def _baseline(self) -> dict[str, Any]:
        """The server's status as best known: our last write, or a newer one by others."""
        if _rv(self.body) > self.written_rv:
            return dict(self.body.get("status") or {})
        return self.written

    async def run(self) -> None:
        status_raw = self._baseline()
        sim = status_raw.get("sim") or {}
        book = PodBook.from_dict(sim, self.kubelet)
        previous = parse_status(status_raw, scale=self.scale)
        pod_ip = previous.pod_ip or self.node.pool.allocate()
        self.node.pool.claim(pod_ip)
        previous = replace(previous, pod_ip=pod_ip, host_ip=self.node.host_ip)
        context = RuntimeContext(
            pod_ip=pod_ip,
            restore=sim.get("runtime") or {},
            notify=self.poke.set,
            time_scale=self.scale,
            node_name=self.node.name,
            host_ip=self.node.host_ip,
            pod_cidr=str(self.node.pool.network),
            api=self.api,
            options=self.runtimes,
        )
        try:
            runtime = await create_runtime(self.body, context)
        except RuntimeUnavailable as exc:
            self.node.pool.release(pod_ip)
            await self._post(Event("FailedCreatePodSandBox", str(exc), EventType.WARNING))
            await self._stay_pending()
            return
        ended = False  # finished or gone; not when the operator stops or the worker fails
        try:
            await self._ensure_finalizer()
            while not self.gone:
                if not self.node.up.is_set():
                    self.received = None  # admitted when the node is back, not before
                await self.node.up.wait()  # a failed node neither acts nor reports
                self.poke.clear()
                pod = await self._parse()
                received, self.received = self.received, None
                if pod is None:
                    await self.poke.wait()
                    continue
                now = (
                    received if received is not None and previous.start_time is None else self.now()
                )
                previous = self._with_foreign_conditions(previous)
                decision, events = await self._settle(pod, previous, book, runtime, now)
                previous, book = decision.status, decision.book
                if not decision.hold:
                    await self._write(pod, previous, book, runtime, now)
                for event in events:
                    await self._post(event)
                if decision.finished:
                    await self._remove_finalizer()
                    break
                await self._sleep(decision, runtime.next_change(pod, now))
            ended = True
        finally:
            # Otherwise the pod's containers carry on: a new worker (or the next agent)
            # re-attaches to them from the status.
            if ended:
                await runtime.release()
            self.node.pool.release(pod_ip)

    async def _stay_pending(self) -> None:
        """No sandbox can be made: the pod stays Pending (as with a missing RuntimeClass)
        until it is deleted, which then has nothing to stop."""
        while not self.gone and not self.body["metadata"].get("deletionTimestamp"):
            self.poke.clear()
            await self.poke.wait()
        if not self.gone:
            await self._remove_finalizer()

    async def _parse(self) -> Pod | None:
        try:
            pod = parse_pod(self.body, scale=self.scale)
        except SpecError as exc:
            if str(exc) != self.spec_error:
                self.spec_error = str(exc)
                self.logger.warning("cannot run %s: %s", self.name, exc)
                await self._post(Event("FailedSync", str(exc), EventType.WARNING))
            return None
        self.spec_error = ""
        return pod

    def _with_foreign_conditions(self, previous: PodStatus) -> PodStatus:
        """Conditions the kubelet does not own (PodScheduled, DisruptionTarget, readiness
        gates) are taken from the server, so a whole-list write never undoes them."""
        foreign = parse_status(self._baseline(), scale=self.scale).conditions
        ours = [c for c in previous.conditions if c.type in KUBELET_CONDITIONS]
        theirs: list[Condition] = [c for c in foreign if c.type not in KUBELET_CONDITIONS]
        return replace(previous, conditions=(*theirs, *ours))

    async def _settle(
        self,
        pod: Pod,
        previous: PodStatus,
        book: PodBook,
        runtime: PodRuntime,
        now: float,
    ) -> tuple[PodDecision, list[Event]]:
        """Sync repeatedly at one instant until no action is left: one write per instant."""
        events: list[Event] = []
        for _ in range(MAX_ROUNDS):
            tickers = self.node.tickers
            relisted = relist(
                runtime.instances(pod, now), seen=self.seen, now=now, grid=tickers.relist
            )
            # A change since this worker's last relist (none for its first: after an agent
            # restart the containers are known already, from the status).
            news = self.relisted and relisted.shown != self.seen
            self.next_relist, self.seen = relisted.next_relist, relisted.shown
            self.relisted = True
            decision = sync_pod(
                pod,
                previous,
                book,
                relisted.acting,
                shown=relisted.shown,
                now=now,
                tickers=tickers,
                relist_news=news,
                observations=runtime.take_observations(pod, now),
            )
            events.extend(decision.events)
            previous, book = decision.status, decision.book
            if not decision.actions:
                return decision, events
            for action in decision.actions:
                await runtime.apply(pod, action, now)
        self.logger.error("pod %s did not settle in %d rounds", self.name, MAX_ROUNDS)
        return decision, events

    async def _write(
        self, pod: Pod, pod_status: PodStatus, book: PodBook, runtime: PodRuntime, now: float
    ) -> None:
        status = status_document(pod_status, book, scale=self.scale)
        status["sim"] = {**status["sim"], "runtime": dict(runtime.state())}
        row = print_pod(pod.spec, pod_status, deletion_time=pod.deletion_time, now=now)
        status["display"] = {
            "ready": row.ready,
            "status": row.status,
            "restarts": str(row.restart_count),
            "restartsCount": row.restart_count,
        }
        baseline = self._baseline()
        patch = diff(baseline, status)
        if not patch or _only_timing(patch):
            return
        try:
            result = await self.api.patch_status(SIMPOD, self.name, patch, namespace=self.namespace)
        except ApiException as exc:
            if exc.status == 404:
                self.vanish()
                return
            raise
        self.written = dict(result.get("status") or apply(baseline, patch))
        self.written_rv = _rv(result)

    async def report_failure(self, exc: Exception) -> None:
        message = f"error syncing pod, will retry on its next change: {exc!r}"
        await self._post(Event("FailedSync", message[:1024], EventType.WARNING))

    async def _post(self, event: Event) -> None:
        try:
            await self.events.post(self.body, event)
        except ApiException as exc:
            self.logger.warning("event %s on %s not recorded: %s", event.reason, self.name, exc)

    async def _sleep(self, decision: PodDecision, runtime_wake: float | None) -> None:
        """Until the next moment something is due (from the clock's now: the sync may have
        been made as of an earlier moment, and its writes took time)."""
        moments = [t for t in (decision.wake_at, runtime_wake, self.next_relist) if t is not None]
        timeout = max(0.0, (min(moments) - self.now()) / self.scale) if moments else None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.poke.wait(), timeout)

    async def _patch_finalizers(self, finalizers: list[str]) -> None:
        try:
            await self.api.patch(
                SIMPOD,
                self.name,
                {"metadata": {"finalizers": finalizers}},
                namespace=self.namespace,
            )
        except ApiException as exc:
            if exc.status != 404:
                raise
            self.vanish()

    async def _ensure_finalizer(self) -> None:
        """Normally added by the admission webhook at creation; added here if it was not
        running, so that a deletion always waits for graceful termination."""
        finalizers = list(self.body["metadata"].get("finalizers") or [])
        if FINALIZER not in finalizers and not self.body["metadata"].get("deletionTimestamp"):
            await self._patch_finalizers([*finalizers, FINALIZER])

    async def _remove_finalizer(self) -> None:
        finalizers = list(self.body["metadata"].get("finalizers") or [])
        if FINALIZER in finalizers:
            await self._patch_finalizers([f for f in finalizers if f != FINALIZER])
