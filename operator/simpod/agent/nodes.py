"""Registration and heartbeats of the SimNodes this agent serves.

Like a kubelet: the node object is created if missing, its status carries capacity and a
Ready condition whose ``lastHeartbeatTime`` moves every heartbeat, and a Lease in
``simpod-node-lease`` (the counterpart of ``kube-node-lease``) is renewed as well.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kubernetes_asyncio.client.exceptions import ApiException

from simpod.agent.ipam import AddressPool
from simpod.api.group import API_VERSION, GROUP, SIMNODE, VERSION
from simpod.core.ticker import TICK_SECONDS, Ticker, Tickers
from simpod.kube import Api

LEASE_NAMESPACE = "simpod-node-lease"
HEARTBEAT_SECONDS = 10.0
LEASE_DURATION_SECONDS = 40


@dataclass
class NodeInfo:
    """A node this agent serves. ``up`` is cleared while the node is failed on purpose
    (``simpod node fail``): like a kubelet cut off from the API, its pods are neither
    synced nor reported until it recovers. ``tickers`` are the node's own unless its
    ``spec.tickPhases`` pins them (:meth:`pin`)."""

    name: str
    host_ip: str
    pool: AddressPool
    up: asyncio.Event = field(default_factory=asyncio.Event)
    tickers: Tickers = field(init=False)

    def __post_init__(self) -> None:
        self.pin({})

    def pin(self, spec: Mapping[str, Any]) -> None:
        """Follow the node's ``spec.tickPhases``, or its own phases where none are set."""
        phases = spec.get("tickPhases")
        relists = phases.get("relists", []) if phases else []
        self.tickers = (
            Tickers(
                relist=Ticker(
                    phase=phases.get("relist", 0.0),
                    period=phases.get("relistPeriod", TICK_SECONDS),
                    moments=tuple(r.get("syncAt", r["at"]) for r in relists),
                    listed=tuple(r["at"] for r in relists),
                ),
                sync=Ticker(phase=phases["syncLoop"]),
            )
            if phases
            else Tickers.for_node(self.name)
        )


@dataclass(frozen=True)
class NodeShape:
    """Capacity of a simulated node (a laptop-sized default, like KWOK's fake nodes)."""

    cpu: str = "8"
    memory: str = "32Gi"
    pods: str = "110"

    def resources(self) -> dict[str, str]:
        return {"cpu": self.cpu, "memory": self.memory, "pods": self.pods}


def node_name(index: int) -> str:
    return f"sim-node-{index}"


def node_addresses(index: int) -> tuple[str, str]:
    """(internal IP, pod CIDR): 172.30.0.0/16 for hosts, 10.244.<index>.0/24 for pods.

    Addresses only; nothing is ever sent to a simulated pod.
    """
    host = ipaddress.ip_address("172.30.0.0") + index
    return str(host), f"10.244.{index % 256}.0/24"


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ready_condition(*, now: str, transition: str | None = None) -> dict[str, Any]:
    return {
        "type": "Ready",
        "status": "True",
        "reason": "KubeletReady",
        "message": "simpod agent is posting ready status",
        "lastHeartbeatTime": now,
        "lastTransitionTime": transition or now,
    }


async def register(api: Api, index: int, *, shape: NodeShape) -> str:
    """Create or refresh one SimNode; returns its name."""
    name = node_name(index)
    host_ip, pod_cidr = node_addresses(index)
    body = {
        "apiVersion": API_VERSION,
        "kind": SIMNODE.kind,
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "type": "simpod",
            },
        },
        "spec": {"podCIDR": pod_cidr},
    }
    try:
        await api.custom.create_cluster_custom_object(GROUP, VERSION, SIMNODE.plural, body)
    except ApiException as exc:
        if exc.status != 409:
            raise
    now = _now()
    await api.patch_status(
        SIMNODE,
        name,
        {
            "capacity": shape.resources(),
            "allocatable": shape.resources(),
            "addresses": [
                {"type": "InternalIP", "address": host_ip},
                {"type": "Hostname", "address": name},
            ],
            "conditions": [ready_condition(now=now)],
        },
    )
    return name


async def heartbeat_forever(api: Api, nodes: list[NodeInfo], *, period: float) -> None:
    """Renew every node's Ready heartbeat and Lease each ``period`` (scaled) seconds."""
    await _ensure_lease_namespace(api)
    while True:
        now = _now()
        await asyncio.gather(*(_beat(api, node, now) for node in nodes))
        await asyncio.sleep(period)


async def _beat(api: Api, info: NodeInfo, now: str) -> None:
    name = info.name
    node = await api.custom.get_cluster_custom_object(GROUP, VERSION, SIMNODE.plural, name)
    if node.get("spec", {}).get("failed"):
        info.up.clear()
        return  # failed on purpose: no heartbeats, so the node lifecycle controller notices
    info.up.set()
    conditions = node.get("status", {}).get("conditions", [])
    previous = next((c for c in conditions if c.get("type") == "Ready"), None)
    transition = (
        previous.get("lastTransitionTime")
        if previous and previous.get("status") == "True"
        else None
    )
    await api.patch_status(
        SIMNODE, name, {"conditions": [ready_condition(now=now, transition=transition)]}
    )
    await _renew_lease(api, name, now)


async def _ensure_lease_namespace(api: Api) -> None:
    try:
        await api.core.create_namespace({"metadata": {"name": LEASE_NAMESPACE}})
    except ApiException as exc:
        if exc.status != 409:
            raise


async def _renew_lease(api: Api, name: str, now: str) -> None:
    micro = now.replace("Z", ".000000Z")
    spec = {
        "holderIdentity": name,
        "leaseDurationSeconds": LEASE_DURATION_SECONDS,
        "renewTime": micro,
    }
    try:
        await api.coordination.patch_namespaced_lease(
            name, LEASE_NAMESPACE, {"spec": spec}, _content_type="application/merge-patch+json"
        )
    except ApiException as exc:
        if exc.status != 404:
            raise
        await api.coordination.create_namespaced_lease(
            LEASE_NAMESPACE, {"metadata": {"name": name}, "spec": spec}
        )
