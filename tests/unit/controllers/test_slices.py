"""EndpointSlice content as the EndpointSlice controller writes it."""

from __future__ import annotations

from typing import Any

import pytest

from simpod.controllers.slices import (
    MAX_ENDPOINTS,
    PodEndpoint,
    ServiceView,
    SliceContent,
    desired_slices,
    pair_up,
)


def service(**spec: Any) -> ServiceView:
    view = ServiceView.from_api(
        {
            "metadata": {
                "name": "web",
                "namespace": "ns",
                "uid": "s1",
                "annotations": {"simpod.dev/selector": "app=web"},
            },
            "spec": {"ports": [{"name": "http", "port": 80, "targetPort": "http"}], **spec},
        }
    )
    assert view is not None
    return view


def pod(
    name: str,
    *,
    ip: str = "10.0.0.1",
    ready: bool = True,
    deleting: bool = False,
    phase: str = "Running",
    port: int = 8080,
    app: str = "web",
) -> PodEndpoint:
    meta: dict[str, Any] = {"name": name, "uid": f"u-{name}", "labels": {"app": app}}
    if deleting:
        meta["deletionTimestamp"] = "2024-01-01T00:00:00Z"
    return PodEndpoint.from_api(
        {
            "metadata": meta,
            "spec": {
                "nodeName": "n1",
                "containers": [{"name": "c", "ports": [{"name": "http", "containerPort": port}]}],
            },
            "status": {
                "phase": phase,
                "podIP": ip,
                "conditions": [{"type": "Ready", "status": str(ready)}],
            },
        }
    )


def conditions(slices: list[SliceContent]) -> dict[str, tuple[bool, bool, bool]]:
    return {
        e["targetRef"]["name"]: (
            e["conditions"]["ready"],
            e["conditions"]["serving"],
            e["conditions"]["terminating"],
        )
        for s in slices
        for e in s.endpoints
    }


@pytest.mark.parametrize(
    ("p", "publish", "expected"),
    [
        (pod("a"), False, (True, True, False)),
        (pod("a", ready=False), False, (False, False, False)),
        (pod("a", deleting=True), False, (False, True, True)),
        (pod("a", deleting=True, ready=False), False, (False, False, True)),
        (pod("a", ready=False), True, (True, False, False)),
    ],
)
def test_conditions(p: PodEndpoint, publish: bool, expected: tuple[bool, bool, bool]) -> None:
    slices = desired_slices(service(publishNotReadyAddresses=publish), [p])
    assert conditions(slices) == {"a": expected}


@pytest.mark.parametrize(
    "p",
    [pod("noip", ip=""), pod("done", phase="Succeeded"), pod("other", app="db")],
    ids=["no IP", "terminal", "not selected"],
)
def test_left_out(p: PodEndpoint) -> None:
    assert desired_slices(service(), [p]) == [SliceContent((), ())]  # the placeholder


def test_named_port_resolved_per_pod_and_grouped() -> None:
    slices = desired_slices(service(), [pod("a", port=8080), pod("b", port=9090, ip="10.0.0.2")])
    assert [(s.ports[0]["port"], len(s.endpoints)) for s in slices] == [(8080, 1), (9090, 1)]


def test_chunks_of_100() -> None:
    pods = [pod(f"p{i:03}", ip=f"10.0.{i // 250}.{i % 250}") for i in range(MAX_ENDPOINTS + 1)]
    assert [len(s.endpoints) for s in desired_slices(service(), pods)] == [MAX_ENDPOINTS, 1]


def test_service_with_its_own_selector_is_not_ours() -> None:
    assert (
        ServiceView.from_api(
            {
                "metadata": {
                    "name": "s",
                    "namespace": "ns",
                    "annotations": {"simpod.dev/selector": "a=b"},
                },
                "spec": {"selector": {"a": "b"}},
            }
        )
        is None
    )


def test_pair_up_reuses_updates_creates_deletes() -> None:
    want = desired_slices(service(), [pod("a")])[0]
    same = {"metadata": {"name": "web-a"}, **want.body()}
    stale = {"metadata": {"name": "web-b"}, "ports": [], "endpoints": []}
    assert pair_up([same], [want]) == ([], [], [])
    assert pair_up([stale, same], [want]) == ([], [], ["web-b"])
    assert pair_up([stale], [want, want]) == ([(stale, want)], [want], [])
