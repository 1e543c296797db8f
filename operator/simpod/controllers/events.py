"""core/v1 Events about SimPods and SimNodes, posted the way the controllers they stand in for
post them (``kubectl describe`` lists them under Events, with the component as "From").

Events are best effort, as in client-go's recorder: a failure to post one is logged, never
raised, so it cannot fail the work it reports on. :class:`EventRecorder` posts them in the
background from a bounded queue (dropping when full, like client-go's broadcaster), so that
reporting a binding does not slow the next binding down.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kubernetes_asyncio.client.exceptions import ApiException

from simpod.api.group import API_VERSION, Kind
from simpod.core.clock import format_time
from simpod.kube import Api

LOG = logging.getLogger(__name__)


class EventType(enum.Enum):
    NORMAL = "Normal"
    WARNING = "Warning"


async def post_event(
    api: Api,
    kind: Kind,
    meta: Mapping[str, Any],
    reason: str,
    message: str,
    *,
    component: str,
    type_: EventType = EventType.NORMAL,
) -> None:
    """Record one event about the object with metadata ``meta``."""
    namespace = meta.get("namespace") or "default"
    now = format_time(time.time())
    body = {
        "metadata": {"name": f"{meta['name']}.{uuid.uuid4().hex[:16]}", "namespace": namespace},
        "involvedObject": {
            "apiVersion": API_VERSION,
            "kind": kind.kind,
            "name": meta["name"],
            "namespace": meta.get("namespace"),
            "uid": meta.get("uid"),
        },
        "reason": reason,
        "message": message,
        "type": type_.value,
        "source": {"component": component},
        "reportingComponent": component,
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
    }
    try:
        await api.create_event(namespace, body)
    except ApiException as exc:
        LOG.warning("could not post event %s for %s: %s", reason, meta["name"], exc.reason)


@dataclass(frozen=True)
class _Event:
    kind: Kind
    meta: Mapping[str, Any]
    reason: str
    message: str
    type_: EventType


class EventRecorder:
    """Posts events for one component from a queue, ``workers`` at a time."""

    def __init__(self, api: Api, component: str, *, workers: int = 4, size: int = 1000) -> None:
        self.api = api
        self.component = component
        self.queue: asyncio.Queue[_Event] = asyncio.Queue(maxsize=size)
        self.workers = [asyncio.create_task(self._work()) for _ in range(workers)]

    def record(
        self,
        kind: Kind,
        meta: Mapping[str, Any],
        reason: str,
        message: str,
        *,
        type_: EventType = EventType.NORMAL,
    ) -> None:
        try:
            self.queue.put_nowait(_Event(kind, meta, reason, message, type_))
        except asyncio.QueueFull:
            LOG.warning("event queue full, dropping %s for %s", reason, meta.get("name"))

    async def _work(self) -> None:
        while True:
            event = await self.queue.get()
            try:  # post_event handles API errors; this keeps the worker alive on the rest
                await post_event(
                    self.api,
                    event.kind,
                    event.meta,
                    event.reason,
                    event.message,
                    component=self.component,
                    type_=event.type_,
                )
            except Exception:
                LOG.exception("could not post event %s", event.reason)
            finally:
                self.queue.task_done()

    async def close(self) -> None:
        for worker in self.workers:
            worker.cancel()
        for worker in self.workers:
            with contextlib.suppress(asyncio.CancelledError):
                await worker
