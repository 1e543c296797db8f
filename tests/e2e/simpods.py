"""Helpers for e2e tests of SimPods: create, read, and wait for a status, with timeouts in
kubelet seconds (divided by the operator's time scale)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from simpod.api.group import API_VERSION, GROUP, SIMPOD, VERSION
from tests.e2e.conftest import Cluster, Operator

Obj = dict[str, Any]


@dataclass(frozen=True)
class SimPods:
    cluster: Cluster
    operator: Operator
    namespace: str

    @property
    def custom(self) -> client.CustomObjectsApi:
        return client.CustomObjectsApi(self.cluster.api)

    def create(self, name: str, spec: Obj, **metadata: Any) -> Obj:
        body = {
            "apiVersion": API_VERSION,
            "kind": SIMPOD.kind,
            "metadata": {"name": name, **metadata},
            "spec": {"nodeName": "sim-node-1", **spec},
        }
        obj: Obj = self.custom.create_namespaced_custom_object(
            GROUP, VERSION, self.namespace, SIMPOD.plural, body
        )
        return obj

    def get(self, name: str) -> Obj | None:
        try:
            obj: Obj = self.custom.get_namespaced_custom_object(
                GROUP, VERSION, self.namespace, SIMPOD.plural, name
            )
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise
        return obj

    def patch(self, name: str, patch: Obj) -> None:
        self.custom.patch_namespaced_custom_object(
            GROUP, VERSION, self.namespace, SIMPOD.plural, name, patch
        )

    def delete(self, name: str) -> None:
        self.custom.delete_namespaced_custom_object(
            GROUP, VERSION, self.namespace, SIMPOD.plural, name
        )

    def wait(
        self, name: str, check: Callable[[Obj], bool], *, kubelet_seconds: float, what: str = ""
    ) -> Obj:
        """Poll until ``check(pod)``; the timeout is in kubelet seconds, plus 10 s of slack."""
        deadline = time.monotonic() + kubelet_seconds / self.operator.time_scale + 10
        last: Obj | None = None
        while time.monotonic() < deadline:
            last = self.get(name)
            if last is not None and check(last):
                return last
            time.sleep(0.1)
        pytest.fail(f"{name}: {what or 'condition'} not reached; last status: {_status(last)}")

    def gone(self, name: str, *, kubelet_seconds: float) -> None:
        deadline = time.monotonic() + kubelet_seconds / self.operator.time_scale + 10
        while time.monotonic() < deadline:
            if self.get(name) is None:
                return
            time.sleep(0.1)
        pytest.fail(f"{name} still exists")

    def wait_events(self, name: str, *reasons: str, timeout: float = 15.0) -> list[tuple[str, str]]:
        """The pod's Events once every reason in ``reasons`` is among them: Events are
        posted after the status write they belong to, as the kubelet's recorder does."""
        deadline = time.monotonic() + timeout
        while not set(reasons) <= _reasons(events := self.events(name)):
            if time.monotonic() > deadline:
                pytest.fail(f"{name}: events {sorted(reasons)} not all seen in {events}")
            time.sleep(0.1)
        return events

    def events(self, name: str) -> list[tuple[str, str]]:
        listed = client.CoreV1Api(self.cluster.api).list_namespaced_event(
            self.namespace, field_selector=f"involvedObject.name={name}"
        )
        items = sorted(
            listed.items, key=lambda e: (e.last_timestamp, e.metadata.creation_timestamp)
        )
        return [(e.reason, e.message) for e in items]


def _reasons(events: list[tuple[str, str]]) -> set[str]:
    return {reason for reason, _ in events}


def _status(obj: Obj | None) -> Any:
    if obj is None:
        return "(no object)"
    status = dict(obj.get("status") or {})
    status.pop("sim", None)
    return status


def phase(obj: Obj) -> str:
    return str((obj.get("status") or {}).get("phase") or "")


def condition(obj: Obj, type_: str) -> Obj:
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c.get("type") == type_:
            return dict(c)
    return {}


def container(obj: Obj, name: str, *, init: bool = False) -> Obj:
    key = "initContainerStatuses" if init else "containerStatuses"
    for c in (obj.get("status") or {}).get(key) or []:
        if c.get("name") == name:
            return dict(c)
    return {}


def display(obj: Obj) -> str:
    return str(((obj.get("status") or {}).get("display") or {}).get("status") or "")
