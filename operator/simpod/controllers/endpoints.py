"""Kopf wiring of the endpoints controller: EndpointSlices for Services that select SimPods.

A core/v1 Service without a selector and with annotation ``simpod.dev/selector`` gets
EndpointSlices labelled ``kubernetes.io/service-name`` and managed-by ``simpod.dev`` and
owned by the Service (so they go with it), listing the selected SimPods as
:mod:`simpod.controllers.slices` computes. Like the upstream controller it works from a
queue of services: a pod event marks the services of its namespace whose selector matches
its old or new labels, a service event marks that service, and one worker syncs them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

import kopf
from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException

from simpod.api.group import GROUP, SIMPOD, VERSION
from simpod.controllers.cache import GroupedCache
from simpod.controllers.logs import quiet_event_handlers
from simpod.controllers.slices import (
    MANAGED_BY,
    MANAGED_BY_LABEL,
    SERVICE_NAME_LABEL,
    PodEndpoint,
    ServiceView,
    SliceContent,
    desired_slices,
    pair_up,
)
from simpod.kube import MERGE_PATCH, Api
from simpod.memo import memo_api, memo_get

LOG = logging.getLogger(__name__)
ServiceKey = tuple[str, str]


class Endpoints:
    def __init__(self, api: Api) -> None:
        self.discovery = client.DiscoveryV1Api(api.client)
        self.pods: GroupedCache[PodEndpoint] = GroupedCache()  # by namespace
        self.services: dict[ServiceKey, ServiceView] = {}
        self.dirty: set[ServiceKey] = set()
        self.wakeup = asyncio.Event()

    def _mark(self, key: ServiceKey) -> None:
        self.dirty.add(key)
        self.wakeup.set()

    def observe_service(self, event_type: str | None, body: Mapping[str, Any]) -> None:
        meta = body["metadata"]
        key = (meta["namespace"], meta["name"])
        known = key in self.services
        view = None
        if event_type != "DELETED":
            try:
                view = ServiceView.from_api(body)
            except ValueError as exc:
                LOG.warning("service %s/%s: %s", *key, exc)
        if view is None:
            self.services.pop(key, None)
            if known and event_type != "DELETED":
                self._mark(key)  # no longer ours: remove its slices
            return
        if self.services.get(key) != view:
            self.services[key] = view
            self._mark(key)

    def observe_pod(self, event_type: str | None, body: Mapping[str, Any]) -> None:
        meta = body["metadata"]
        namespace, uid = meta["namespace"], meta["uid"]
        before = self.pods.group(namespace).get(uid)
        after = None if event_type == "DELETED" else PodEndpoint.from_api(body)
        if before == after:
            return
        self.pods.put(uid, namespace, after)
        for key, service in self.services.items():
            if key[0] == namespace and any(
                p is not None and service.selector.matches(p.labels) for p in (before, after)
            ):
                self._mark(key)

    async def run(self) -> None:
        while True:
            await self.wakeup.wait()
            self.wakeup.clear()
            while self.dirty:
                key = self.dirty.pop()
                try:
                    await self.sync(key)
                except ApiException as exc:
                    LOG.warning("endpoints of service %s/%s: %s; retrying", *key, exc.reason)
                    await asyncio.sleep(1)
                    self._mark(key)

    async def sync(self, key: ServiceKey) -> None:
        namespace, name = key
        selector = f"{SERVICE_NAME_LABEL}={name},{MANAGED_BY_LABEL}={MANAGED_BY}"
        listed = await self.discovery.list_namespaced_endpoint_slice(
            namespace, label_selector=selector
        )
        existing = [self.discovery.api_client.sanitize_for_serialization(s) for s in listed.items]
        service = self.services.get(key)
        wanted = (
            [] if service is None else desired_slices(service, self.pods.group(namespace).values())
        )
        updates, creates, deletes = pair_up(existing, wanted)
        for have, want in updates:
            await self.discovery.patch_namespaced_endpoint_slice(
                have["metadata"]["name"], namespace, want.body(), _content_type=MERGE_PATCH
            )
        for want in creates:
            assert service is not None  # nothing is wanted without a service
            await self.discovery.create_namespaced_endpoint_slice(
                namespace, self._new_slice(service, want)
            )
        for slice_name in deletes:
            with contextlib.suppress(ApiException):
                await self.discovery.delete_namespaced_endpoint_slice(slice_name, namespace)

    @staticmethod
    def _new_slice(service: ServiceView, content: SliceContent) -> dict[str, Any]:
        return {
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {
                "generateName": f"{service.name}-",
                "namespace": service.namespace,
                "labels": {SERVICE_NAME_LABEL: service.name, MANAGED_BY_LABEL: MANAGED_BY},
                "ownerReferences": [
                    {
                        "apiVersion": "v1",
                        "kind": "Service",
                        "name": service.name,
                        "uid": service.uid,
                        "controller": True,
                        "blockOwnerDeletion": True,
                    }
                ],
            },
            **content.body(),
        }


def _endpoints(memo: kopf.Memo) -> Endpoints:
    return memo_get(memo, "endpoints", Endpoints)


@kopf.on.startup()
async def start_endpoints(memo: kopf.Memo, **_: Any) -> None:
    endpoints = Endpoints(memo_api(memo))
    memo["endpoints"] = endpoints
    memo["endpoints_task"] = asyncio.create_task(endpoints.run())


@kopf.on.cleanup()
async def stop_endpoints(memo: kopf.Memo, **_: Any) -> None:
    task = memo.get("endpoints_task")
    if isinstance(task, asyncio.Task):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


quiet_event_handlers("endpoints_service_event", "endpoints_pod_event")


@kopf.on.event("", "v1", "services")
def endpoints_service_event(event: kopf.RawEvent, memo: kopf.Memo, **_: Any) -> None:
    _endpoints(memo).observe_service(event["type"], event["object"])


@kopf.on.event(GROUP, VERSION, SIMPOD.plural)
def endpoints_pod_event(event: kopf.RawEvent, memo: kopf.Memo, **_: Any) -> None:
    _endpoints(memo).observe_pod(event["type"], event["object"])
