"""EndpointSlices for a Service from the SimPods it selects, without I/O
(pkg/controller/endpointslice).

Per pod, as the EndpointSlice controller writes it: ``serving`` is the pod's Ready
condition, ``terminating`` is a deletion in progress, and ``ready`` is serving and not
terminating (or always, with ``publishNotReadyAddresses``). Pods without an IP or in a
terminal phase are left out; terminating pods stay in, so consumers can drain them.
Endpoints are grouped by the ports they resolve to (a named ``targetPort`` may map to
different numbers on different pods) and split into slices of at most 100.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from simpod.api.group import API_VERSION, SIMPOD
from simpod.controllers.selectors import Selector, parse_selector

SELECTOR_ANNOTATION = "simpod.dev/selector"
SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
MANAGED_BY = "simpod.dev"
MAX_ENDPOINTS = 100
TERMINAL_PHASES = frozenset({"Succeeded", "Failed"})


@dataclass(frozen=True)
class ServicePort:
    name: str
    port: int
    protocol: str = "TCP"
    target: int | str | None = None


@dataclass(frozen=True)
class ServiceView:
    namespace: str
    name: str
    uid: str
    selector: Selector
    ports: tuple[ServicePort, ...] = ()
    publish_not_ready: bool = False

    @classmethod
    def from_api(cls, body: Mapping[str, Any]) -> ServiceView | None:
        """The view of an annotated Service without a selector of its own, else None;
        raises ValueError for an annotation that does not parse."""
        meta = body["metadata"]
        spec = body.get("spec") or {}
        text = (meta.get("annotations") or {}).get(SELECTOR_ANNOTATION, "")
        if not text.strip() or spec.get("selector"):
            return None
        return cls(
            namespace=meta["namespace"],
            name=meta["name"],
            uid=meta.get("uid", ""),
            selector=parse_selector(text),
            ports=tuple(
                ServicePort(
                    name=p.get("name") or "",
                    port=int(p["port"]),
                    protocol=p.get("protocol") or "TCP",
                    target=p.get("targetPort"),
                )
                for p in spec.get("ports") or ()
            ),
            publish_not_ready=bool(spec.get("publishNotReadyAddresses")),
        )


@dataclass(frozen=True)
class PodEndpoint:
    """What the endpoints controller reads from a SimPod."""

    name: str
    uid: str
    labels: Mapping[str, str] = field(default_factory=dict)
    ip: str = ""
    ready: bool = False
    deleting: bool = False
    terminal: bool = False
    node: str = ""
    named_ports: Mapping[tuple[str, str], int] = field(default_factory=dict)

    @classmethod
    def from_api(cls, body: Mapping[str, Any]) -> PodEndpoint:
        meta = body["metadata"]
        spec = body.get("spec") or {}
        status = body.get("status") or {}
        ports = {
            (str(p["name"]), p.get("protocol") or "TCP"): int(p["containerPort"])
            for c in spec.get("containers") or ()
            for p in c.get("ports") or ()
            if p.get("name") and "containerPort" in p
        }
        return cls(
            name=meta["name"],
            uid=meta.get("uid", ""),
            labels=dict(meta.get("labels") or {}),
            ip=status.get("podIP") or "",
            ready=any(
                c.get("type") == "Ready" and c.get("status") == "True"
                for c in status.get("conditions") or ()
            ),
            deleting=bool(meta.get("deletionTimestamp")),
            terminal=status.get("phase") in TERMINAL_PHASES,
            node=spec.get("nodeName") or "",
            named_ports=ports,
        )


def _resolve(port: ServicePort, pod: PodEndpoint) -> dict[str, Any] | None:
    target = port.port if port.target is None else port.target
    if isinstance(target, str) and not target.isdigit():
        number = pod.named_ports.get((target, port.protocol))
        if number is None:
            return None
    else:
        number = int(target)
    return {"name": port.name, "port": number, "protocol": port.protocol}


def endpoint(pod: PodEndpoint, namespace: str, *, publish_not_ready: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "addresses": [pod.ip],
        "conditions": {
            "ready": publish_not_ready or (pod.ready and not pod.deleting),
            "serving": pod.ready,
            "terminating": pod.deleting,
        },
        "targetRef": {
            "apiVersion": API_VERSION,
            "kind": SIMPOD.kind,
            "namespace": namespace,
            "name": pod.name,
            "uid": pod.uid,
        },
    }
    if pod.node:
        out["nodeName"] = pod.node
    return out


@dataclass(frozen=True)
class SliceContent:
    """The part of an EndpointSlice this controller owns."""

    ports: tuple[Mapping[str, Any], ...]
    endpoints: tuple[Mapping[str, Any], ...]

    def body(self) -> dict[str, Any]:
        return {
            "addressType": "IPv4",
            "ports": [dict(p) for p in self.ports],
            "endpoints": [dict(e) for e in self.endpoints],
        }


def desired_slices(service: ServiceView, pods: Iterable[PodEndpoint]) -> list[SliceContent]:
    """The slices the Service should have, in a stable order."""
    groups: dict[tuple[tuple[str, int, str], ...], list[dict[str, Any]]] = {}
    ports_of: dict[tuple[tuple[str, int, str], ...], tuple[dict[str, Any], ...]] = {}
    for pod in sorted(pods, key=lambda p: p.name):
        if not pod.ip or pod.terminal or not service.selector.matches(pod.labels):
            continue
        ports = tuple(p for p in (_resolve(sp, pod) for sp in service.ports) if p is not None)
        key = tuple((p["name"], p["port"], p["protocol"]) for p in ports)
        ports_of[key] = ports
        groups.setdefault(key, []).append(
            endpoint(pod, service.namespace, publish_not_ready=service.publish_not_ready)
        )
    out: list[SliceContent] = []
    for key in sorted(groups):
        members = groups[key]
        for start in range(0, len(members), MAX_ENDPOINTS):
            out.append(SliceContent(ports_of[key], tuple(members[start : start + MAX_ENDPOINTS])))
    return out or [SliceContent((), ())]  # an empty placeholder, as upstream keeps one


def same_content(existing: Mapping[str, Any], wanted: SliceContent) -> bool:
    """Whether a stored slice already holds exactly this (fields the API may default are
    compared as written)."""
    return list(existing.get("ports") or []) == [dict(p) for p in wanted.ports] and list(
        existing.get("endpoints") or []
    ) == [dict(e) for e in wanted.endpoints]


def pair_up(
    existing: Sequence[Mapping[str, Any]], wanted: Sequence[SliceContent]
) -> tuple[list[tuple[Mapping[str, Any], SliceContent]], list[SliceContent], list[str]]:
    """Reuse existing slices (by name order) for wanted content: (updates, creates, deletes
    by name); slices that already match are left out of the updates."""
    ordered = sorted(existing, key=lambda s: s["metadata"]["name"])
    updates = [
        (have, want)
        for have, want in zip(ordered, wanted, strict=False)
        if not same_content(have, want)
    ]
    creates = list(wanted[len(ordered) :])
    deletes = [s["metadata"]["name"] for s in ordered[len(wanted) :]]
    return updates, creates, deletes
