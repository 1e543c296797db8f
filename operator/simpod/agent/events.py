"""Events on SimPods, shaped like the kubelet's (``kubectl describe simpod`` lists them)."""

from __future__ import annotations

import datetime
import time
from collections.abc import Mapping
from typing import Any

from kubernetes_asyncio.client.exceptions import ApiException

from simpod.api.group import API_VERSION, SIMPOD
from simpod.core.kubelet import Event
from simpod.kube import Api


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def post_event(
    api: Api, pod: Mapping[str, Any], event: Event, *, node: str, component: str = "kubelet"
) -> None:
    """Create one core/v1 Event; failures are logged by the caller, never fatal (as in
    the kubelet, events are best effort)."""
    meta = pod["metadata"]
    stamp = _now()
    involved: dict[str, Any] = {
        "apiVersion": API_VERSION,
        "kind": SIMPOD.kind,
        "name": meta["name"],
        "namespace": meta["namespace"],
        "uid": meta.get("uid"),
    }
    if event.field_path:
        involved["fieldPath"] = event.field_path
    body = {
        "metadata": {
            "name": f"{meta['name']}.{time.time_ns():x}",
            "namespace": meta["namespace"],
        },
        "involvedObject": involved,
        "reason": event.reason,
        "message": event.message,
        "type": event.type.value,
        "source": {"component": component, "host": node},
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "count": 1,
        "reportingComponent": component,
        "reportingInstance": node,
    }
    try:
        await api.core.create_namespaced_event(meta["namespace"], body)
    except ApiException as exc:
        if exc.status not in (403, 404, 409):  # namespace going away, or a duplicate name
            raise
