"""Events on SimPods, shaped like the kubelet's (``kubectl describe simpod`` lists them).

Repeats are aggregated as client-go's event correlator does for the kubelet: the same
reason, message and container on the same pod bump ``count`` and ``lastTimestamp`` of the
first Event instead of creating another ("x5 over 2m" in ``kubectl describe``).
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kubernetes_asyncio.client.exceptions import ApiException

from simpod.api.group import API_VERSION, SIMPOD
from simpod.core.kubelet import Event
from simpod.kube import Api

AGGREGATION_WINDOW_SECONDS = 600.0  # the correlator's default: repeats within 10 minutes


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class _Posted:
    name: str
    count: int
    at: float


class PodEvents:
    """The Events of one pod, as recorded by one node's kubelet."""

    def __init__(self, api: Api, *, node: str, component: str = "kubelet") -> None:
        self.api = api
        self.node = node
        self.component = component
        self.posted: dict[tuple[str, str, str, str], _Posted] = {}

    async def post(self, pod: Mapping[str, Any], event: Event) -> None:
        """Best effort, as in the kubelet: a lost Event never stops the pod's sync."""
        meta = pod["metadata"]
        key = (event.reason, event.message, event.type.value, event.field_path)
        stamp = _now()
        previous = self.posted.get(key)
        if previous is not None and time.monotonic() - previous.at < AGGREGATION_WINDOW_SECONDS:
            try:
                await self.api.patch_event(
                    previous.name,
                    meta["namespace"],
                    {"count": previous.count + 1, "lastTimestamp": stamp},
                )
            except ApiException as exc:
                if exc.status != 404:
                    raise
            else:
                self.posted[key] = _Posted(previous.name, previous.count + 1, previous.at)
                return
        name = f"{meta['name']}.{time.time_ns():x}"
        await self.api.create_event(
            meta["namespace"], self._body(meta, event, name=name, stamp=stamp)
        )
        self.posted[key] = _Posted(name, 1, time.monotonic())

    def _body(
        self, meta: Mapping[str, Any], event: Event, *, name: str, stamp: str
    ) -> dict[str, Any]:
        involved: dict[str, Any] = {
            "apiVersion": API_VERSION,
            "kind": SIMPOD.kind,
            "name": meta["name"],
            "namespace": meta["namespace"],
            "uid": meta.get("uid"),
        }
        if event.field_path:
            involved["fieldPath"] = event.field_path
        return {
            "metadata": {"name": name, "namespace": meta["namespace"]},
            "involvedObject": involved,
            "reason": event.reason,
            "message": event.message,
            "type": event.type.value,
            "source": {"component": self.component, "host": self.node},
            "firstTimestamp": stamp,
            "lastTimestamp": stamp,
            "count": 1,
            "reportingComponent": self.component,
            "reportingInstance": self.node,
        }
