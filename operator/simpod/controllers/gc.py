"""Pod garbage collection decisions, without I/O (pkg/controller/podgc).

Three sweeps, each deleting pods by force (their agent may be gone, so nobody else would
finish them): terminated pods beyond the threshold, oldest first; pods bound to a node that
no longer exists (after a quarantine, checked by the caller); pods that never got a node and
are being deleted. A running pod is never chosen.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from simpod.core.clock import parse_time

TERMINAL_PHASES = frozenset({"Succeeded", "Failed"})


@dataclass(frozen=True)
class GCPod:
    namespace: str
    name: str
    uid: str
    phase: str = ""
    node: str = ""
    deleting: bool = False
    created: float = 0.0

    @classmethod
    def from_api(cls, body: Mapping[str, Any]) -> GCPod:
        meta = body["metadata"]
        created = meta.get("creationTimestamp")
        return cls(
            namespace=meta["namespace"],
            name=meta["name"],
            uid=meta.get("uid", ""),
            phase=(body.get("status") or {}).get("phase") or "",
            node=(body.get("spec") or {}).get("nodeName") or "",
            deleting=bool(meta.get("deletionTimestamp")),
            created=parse_time(created) if created else 0.0,
        )

    @property
    def terminated(self) -> bool:
        return self.phase in TERMINAL_PHASES


def terminated_over_threshold(pods: Iterable[GCPod], threshold: int) -> list[GCPod]:
    """The oldest terminated pods beyond ``threshold`` (threshold ≤ 0 disables the sweep)."""
    if threshold <= 0:
        return []
    terminated = sorted(
        (p for p in pods if p.terminated and not p.deleting),
        key=lambda p: (p.created, p.namespace, p.name),
    )
    return terminated[: max(0, len(terminated) - threshold)]


def orphaned(pods: Iterable[GCPod], nodes: Iterable[str]) -> dict[str, list[GCPod]]:
    """Pods bound to nodes not in ``nodes``, by missing node."""
    known = set(nodes)
    out: dict[str, list[GCPod]] = {}
    for pod in pods:
        if pod.node and pod.node not in known:
            out.setdefault(pod.node, []).append(pod)
    return out


def unscheduled_terminating(pods: Iterable[GCPod]) -> list[GCPod]:
    return [p for p in pods if p.deleting and not p.node]
