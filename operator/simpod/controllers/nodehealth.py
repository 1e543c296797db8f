"""The node lifecycle controller's decisions, without I/O (pkg/controller/nodelifecycle and the
taint eviction controller).

- A node whose agent has not heartbeated (Lease renewal or Ready ``lastHeartbeatTime``) for
  the grace period gets every condition set to Unknown, reason ``NodeStatusUnknown``.
- The Ready condition maps to the controller's taints: False → ``not-ready``, Unknown →
  ``unreachable``, each NoSchedule + NoExecute; ``spec.unschedulable`` → ``unschedulable``
  NoSchedule. Taints it no longer wants are removed (recovery clears them).
- Pods of a not-ready node get Ready False; pods that do not tolerate a NoExecute taint long
  enough are evicted (see :func:`simpod.controllers.taints.eviction_delay`).
- ``status.display`` is what ``kubectl get nodes`` prints (printNode).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from simpod.controllers.conditions import find
from simpod.controllers.taints import (
    NOT_READY,
    UNREACHABLE,
    UNSCHEDULABLE,
    Effect,
    Taint,
    Toleration,
    eviction_delay,
    tolerations_from_api,
    with_default_tolerations,
)
from simpod.core.clock import format_time, parse_time

READY = "Ready"
STATUS_UNKNOWN = "NodeStatusUnknown"
STATUS_UNKNOWN_MESSAGE = "Kubelet stopped posting node status."
CONTROLLER_TAINT_KEYS = frozenset({NOT_READY, UNREACHABLE, UNSCHEDULABLE})
ROLE_PREFIX = "node-role.kubernetes.io/"


@dataclass(frozen=True)
class NodeView:
    """What the node lifecycle controller reads from a SimNode."""

    name: str
    conditions: tuple[Mapping[str, Any], ...] = ()
    taints: tuple[Taint, ...] = ()
    unschedulable: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)
    display: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_api(cls, body: Mapping[str, Any]) -> NodeView:
        spec = body.get("spec") or {}
        status = body.get("status") or {}
        return cls(
            name=body["metadata"]["name"],
            conditions=tuple(status.get("conditions") or ()),
            taints=tuple(Taint.from_api(t) for t in spec.get("taints") or ()),
            unschedulable=bool(spec.get("unschedulable")),
            labels=dict(body["metadata"].get("labels") or {}),
            display=dict(status.get("display") or {}),
        )

    @property
    def ready(self) -> str:
        """The Ready condition's status; "" when the node has none yet."""
        condition = find(self.conditions, READY)
        return str(condition.get("status", "Unknown")) if condition else ""

    def last_heartbeat(self) -> float | None:
        condition = find(self.conditions, READY)
        stamp = condition.get("lastHeartbeatTime") if condition else None
        return parse_time(stamp) if stamp else None


@dataclass(frozen=True)
class NodePlan:
    """Changes to write; None means leave it as it is."""

    conditions: list[dict[str, Any]] | None = None
    taints: tuple[Taint, ...] | None = None
    display: dict[str, str] | None = None


def unknown_conditions(
    conditions: Sequence[Mapping[str, Any]], *, now: float
) -> list[dict[str, Any]] | None:
    """Every condition Unknown (Ready added if missing), or None if they all are already."""
    if conditions and all(c.get("status") == "Unknown" for c in conditions):
        return None
    stamp = format_time(now)
    out = [
        dict(c)
        if c.get("status") == "Unknown"
        else dict(
            c,
            status="Unknown",
            reason=STATUS_UNKNOWN,
            message=STATUS_UNKNOWN_MESSAGE,
            lastTransitionTime=stamp,
        )
        for c in conditions
    ]
    if find(out, READY) is None:
        out.append(
            {
                "type": READY,
                "status": "Unknown",
                "reason": STATUS_UNKNOWN,
                "message": STATUS_UNKNOWN_MESSAGE,
                "lastHeartbeatTime": stamp,
                "lastTransitionTime": stamp,
            }
        )
    return out


def wanted_taints(ready: str, *, unschedulable: bool) -> tuple[Taint, ...]:
    """The taints this controller keeps on a node in this state (without timeAdded)."""
    taints: list[Taint] = []
    if ready == "":  # not reported yet: kept off as a kubelet registers, nothing to evict
        taints.append(Taint(NOT_READY, Effect.NO_SCHEDULE))
    elif ready != "True":
        key = UNREACHABLE if ready == "Unknown" else NOT_READY
        taints += [Taint(key, Effect.NO_SCHEDULE), Taint(key, Effect.NO_EXECUTE)]
    if unschedulable:
        taints.append(Taint(UNSCHEDULABLE, Effect.NO_SCHEDULE))
    return tuple(taints)


def reconcile_taints(
    current: Sequence[Taint], wanted: Sequence[Taint], *, now: float
) -> tuple[Taint, ...] | None:
    """Current taints with the controller's ones made to match ``wanted`` (other taints kept;
    NoExecute ones stamped with timeAdded when added), or None when nothing changes."""
    kept = [
        t for t in current if t.key not in CONTROLLER_TAINT_KEYS or any(t.same(w) for w in wanted)
    ]
    added = [
        Taint(w.key, w.effect, w.value, now if w.effect is Effect.NO_EXECUTE else None)
        for w in wanted
        if not any(t.same(w) for t in current)
    ]
    if not added and len(kept) == len(current):
        return None
    return (*kept, *added)


def node_display(ready: str, *, unschedulable: bool, labels: Mapping[str, str]) -> dict[str, str]:
    """kubectl's STATUS and ROLES columns for a node."""
    status = {"True": "Ready", "": "Unknown"}.get(ready, "NotReady")
    if unschedulable:
        status += ",SchedulingDisabled"
    roles = sorted(
        {k.removeprefix(ROLE_PREFIX) for k in labels if k.startswith(ROLE_PREFIX)}
        | ({labels["kubernetes.io/role"]} if labels.get("kubernetes.io/role") else set())
    )
    return {"status": status, "roles": ",".join(r for r in roles if r) or "<none>"}


def assess(
    node: NodeView,
    *,
    lease_renewed: float | None,
    now: float,
    grace: float,
    watching_since: float,
) -> NodePlan:
    """What to change on one node. A node is stale when neither its Lease nor its Ready
    heartbeat moved within ``grace``; the controller's own start counts as a heartbeat, so
    a restart does not fail every node at once."""
    beats = [t for t in (lease_renewed, node.last_heartbeat(), watching_since) if t is not None]
    conditions = None
    if now - max(beats) > grace:
        conditions = unknown_conditions(node.conditions, now=now)
    ready = "Unknown" if conditions is not None else node.ready
    taints = reconcile_taints(
        node.taints, wanted_taints(ready, unschedulable=node.unschedulable), now=now
    )
    display = node_display(ready, unschedulable=node.unschedulable, labels=node.labels)
    return NodePlan(
        conditions=conditions,
        taints=taints,
        display=None if display == node.display else display,
    )


@dataclass(frozen=True)
class PodView:
    """What the node lifecycle controller reads from a SimPod bound to a node."""

    namespace: str
    name: str
    uid: str
    tolerations: tuple[Toleration, ...] = ()
    conditions: tuple[Mapping[str, Any], ...] = ()
    deleting: bool = False

    @classmethod
    def from_api(cls, body: Mapping[str, Any]) -> PodView:
        meta = body["metadata"]
        return cls(
            namespace=meta["namespace"],
            name=meta["name"],
            uid=meta.get("uid", ""),
            tolerations=tolerations_from_api((body.get("spec") or {}).get("tolerations")),
            conditions=tuple((body.get("status") or {}).get("conditions") or ()),
            deleting=bool(meta.get("deletionTimestamp")),
        )

    @property
    def ready(self) -> bool:
        condition = find(self.conditions, READY)
        return bool(condition and condition.get("status") == "True")


def eviction_time(
    pod: PodView,
    taints: Sequence[Taint],
    *,
    default_toleration_seconds: int,
    time_scale: float,
    first_seen: Mapping[tuple[str, Effect], float],
) -> float | None:
    """When (epoch seconds) the pod is to be evicted from a node with these taints, or None.
    The clock starts at the earliest NoExecute taint's ``timeAdded`` (or when the controller
    first saw a taint without one); tolerationSeconds are divided by ``time_scale``."""
    tolerations = with_default_tolerations(pod.tolerations, seconds=default_toleration_seconds)
    delay = eviction_delay(taints, tolerations)
    if delay is None:
        return None
    starts = [
        t.time_added if t.time_added is not None else first_seen.get((t.key, t.effect))
        for t in taints
        if t.effect is Effect.NO_EXECUTE
    ]
    known = [s for s in starts if s is not None]
    if not known:
        return None
    return min(known) + delay / time_scale
