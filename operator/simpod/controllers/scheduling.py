"""The scheduler's decisions, without I/O: filters, scores and the "0/3 nodes are available"
message, following kube-scheduler's default profile.

Filters run per node in the default plugin order (NodeUnschedulable, TaintToleration,
NodeAffinity, NodeResourcesFit) and stop at the first plugin that rejects, so each node
contributes the reasons of one plugin, as in kube-scheduler. Feasible nodes are scored by
NodeResourcesFit (least allocated, weight 1), PodTopologySpread's default spreading of pods of
the same owner across nodes (weight 2) and TaintToleration (fewest untolerated
PreferNoSchedule taints, weight 3); ties are broken at random.

A node whose Ready condition is not True counts as carrying the NoSchedule taint that the
node lifecycle controller gives it (not-ready, or unreachable when Unknown), so pods keep off
it even before that controller has written the taint, and pods tolerating it may still go.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from simpod.controllers.quantity import milli_value, whole_value
from simpod.controllers.selectors import Requirement, requirements_from_api
from simpod.controllers.taints import (
    NOT_READY,
    UNREACHABLE,
    UNSCHEDULABLE,
    Effect,
    Taint,
    Toleration,
    first_untolerated,
    tolerations_from_api,
)
from simpod.core.clock import parse_time

MAX_SCORE = 100
# kube-scheduler scores a container without requests as if it asked for this much
# (pkg/scheduler/util: DefaultMilliCPURequest, DefaultMemoryRequest).
DEFAULT_MILLI_CPU = 100
DEFAULT_MEMORY = 200 * 2**20
WEIGHT_RESOURCES = 1
WEIGHT_SPREAD = 2
WEIGHT_TAINTS = 3

NO_NODES = "no nodes available to schedule pods"
REASON_UNSCHEDULABLE = "node(s) were unschedulable"
REASON_AFFINITY = "node(s) didn't match Pod's node affinity/selector"
REASON_TOO_MANY_PODS = "Too many pods"
REASON_TAINT = "node(s) had untolerated taint {}"
_FILTERED_EFFECTS = frozenset({Effect.NO_SCHEDULE, Effect.NO_EXECUTE})


@dataclass(frozen=True)
class Resources:
    """cpu in millicores, memory in bytes, and a pod count."""

    milli_cpu: int = 0
    memory: int = 0
    pods: int = 0

    def __add__(self, other: Resources) -> Resources:
        return Resources(
            self.milli_cpu + other.milli_cpu, self.memory + other.memory, self.pods + other.pods
        )

    def __sub__(self, other: Resources) -> Resources:
        return Resources(
            self.milli_cpu - other.milli_cpu, self.memory - other.memory, self.pods - other.pods
        )

    @classmethod
    def from_api(cls, raw: Mapping[str, Any] | None) -> Resources:
        raw = raw or {}
        return cls(
            milli_cpu=milli_value(raw["cpu"]) if "cpu" in raw else 0,
            memory=whole_value(raw["memory"]) if "memory" in raw else 0,
            pods=whole_value(raw["pods"]) if "pods" in raw else 0,
        )


def _max(a: Resources, b: Resources) -> Resources:
    return Resources(max(a.milli_cpu, b.milli_cpu), max(a.memory, b.memory), 0)


def _container_requests(container: Mapping[str, Any], *, non_zero: bool) -> Resources:
    """requests, defaulting to limits as the API server does for Pods; ``non_zero`` swaps an
    absent cpu or memory request for the scheduler's scoring default."""
    resources = container.get("resources") or {}
    limits = resources.get("limits") or {}
    merged = {**limits, **(resources.get("requests") or {})}
    found = Resources.from_api({k: v for k, v in merged.items() if k in ("cpu", "memory")})
    if non_zero:
        found = Resources(
            found.milli_cpu if "cpu" in merged else DEFAULT_MILLI_CPU,
            found.memory if "memory" in merged else DEFAULT_MEMORY,
        )
    return found


def effective_requests(spec: Mapping[str, Any], *, non_zero: bool = False) -> Resources:
    """What the pod asks of a node, counting init containers the way kube-scheduler does:
    max(sum of app containers + sidecars, each init container + the sidecars started before
    it), per resource; the pod count is 1."""
    sidecars = Resources()
    init_peak = Resources()
    for container in spec.get("initContainers") or ():
        request = _container_requests(container, non_zero=non_zero)
        if container.get("restartPolicy") == "Always":
            sidecars = sidecars + request
            init_peak = _max(init_peak, sidecars)
        else:
            init_peak = _max(init_peak, request + sidecars)
    apps = Resources()
    for container in spec.get("containers") or ():
        apps = apps + _container_requests(container, non_zero=non_zero)
    total = _max(apps + sidecars, init_peak)
    return Resources(total.milli_cpu, total.memory, 1)


@dataclass(frozen=True)
class NodeTerm:
    """One nodeSelectorTerm: all its requirements on labels and on fields must hold."""

    expressions: tuple[Requirement, ...] = ()
    fields: tuple[Requirement, ...] = ()

    def matches(self, node: NodeInfo) -> bool:
        if not self.expressions and not self.fields:
            return False  # an empty term matches no node
        return all(r.matches(node.labels) for r in self.expressions) and all(
            r.matches({"metadata.name": node.name}) for r in self.fields
        )


@dataclass(frozen=True)
class NodeInfo:
    """What the scheduler reads from a SimNode; heartbeat times are left out on purpose so
    that an unchanged view means nothing relevant to scheduling changed."""

    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    taints: tuple[Taint, ...] = ()
    unschedulable: bool = False
    ready: str = "True"
    allocatable: Resources = Resources()

    @classmethod
    def from_api(cls, body: Mapping[str, Any]) -> NodeInfo:
        spec = body.get("spec") or {}
        status = body.get("status") or {}
        ready = next(
            (
                c.get("status", "Unknown")
                for c in status.get("conditions") or ()
                if c.get("type") == "Ready"
            ),
            "",
        )
        return cls(
            name=body["metadata"]["name"],
            labels=dict(body["metadata"].get("labels") or {}),
            taints=tuple(Taint.from_api(t) for t in spec.get("taints") or ()),
            unschedulable=bool(spec.get("unschedulable")),
            ready=ready,
            allocatable=Resources.from_api(status.get("allocatable") or status.get("capacity")),
        )

    def effective_taints(self) -> tuple[Taint, ...]:
        """The node's taints plus the condition taint its Ready status implies."""
        if self.ready == "True":
            return self.taints
        key = UNREACHABLE if self.ready == "Unknown" else NOT_READY
        implied = Taint(key, Effect.NO_SCHEDULE)
        if any(t.same(implied) for t in self.taints):
            return self.taints
        return (*self.taints, implied)


@dataclass(frozen=True)
class PodInfo:
    """What the scheduler reads from an unscheduled SimPod."""

    namespace: str
    name: str
    uid: str
    requests: Resources
    non_zero_requests: Resources
    node_selector: Mapping[str, str] = field(default_factory=dict)
    affinity: tuple[NodeTerm, ...] | None = None
    tolerations: tuple[Toleration, ...] = ()
    owner: str | None = None
    created: float = 0.0

    @classmethod
    def from_api(cls, body: Mapping[str, Any]) -> PodInfo:
        meta = body["metadata"]
        spec = body.get("spec") or {}
        required = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
            "requiredDuringSchedulingIgnoredDuringExecution"
        ) or None
        affinity = None
        if required is not None:
            affinity = tuple(
                NodeTerm(
                    requirements_from_api(term.get("matchExpressions") or ()),
                    requirements_from_api(term.get("matchFields") or ()),
                )
                for term in required.get("nodeSelectorTerms") or ()
            )
        owner = next(
            (o.get("uid") for o in meta.get("ownerReferences") or () if o.get("controller")),
            None,
        )
        created = meta.get("creationTimestamp")
        return cls(
            namespace=meta.get("namespace", ""),
            name=meta["name"],
            uid=meta.get("uid", ""),
            requests=effective_requests(spec),
            non_zero_requests=effective_requests(spec, non_zero=True),
            node_selector=dict(spec.get("nodeSelector") or {}),
            affinity=affinity,
            tolerations=tolerations_from_api(spec.get("tolerations")),
            owner=owner,
            created=parse_time(created) if created else 0.0,
        )

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class PodUsage:
    """What a pod bound to a node takes from it."""

    uid: str
    requests: Resources
    non_zero_requests: Resources
    owner: str | None = None

    @classmethod
    def of(cls, pod: PodInfo) -> PodUsage:
        return cls(pod.uid, pod.requests, pod.non_zero_requests, pod.owner)


@dataclass(frozen=True)
class NodeState:
    """A node with what its bound pods take."""

    node: NodeInfo
    requested: Resources = Resources()
    non_zero_requested: Resources = Resources()
    owners: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def build(cls, node: NodeInfo, pods: Iterable[PodUsage]) -> NodeState:
        requested = non_zero = Resources()
        owners: Counter[str] = Counter()
        for pod in pods:
            requested = requested + pod.requests
            non_zero = non_zero + pod.non_zero_requests
            if pod.owner:
                owners[pod.owner] += 1
        return cls(node, requested, non_zero, dict(owners))

    def with_pod(self, pod: PodUsage) -> NodeState:
        owners = dict(self.owners)
        if pod.owner:
            owners[pod.owner] = owners.get(pod.owner, 0) + 1
        return NodeState(
            self.node,
            self.requested + pod.requests,
            self.non_zero_requested + pod.non_zero_requests,
            owners,
        )


# ----------------------------------------------------------------------------- filters


def _node_unschedulable(pod: PodInfo, state: NodeState) -> tuple[str, ...]:
    if not state.node.unschedulable:
        return ()
    cordon = Taint(UNSCHEDULABLE, Effect.NO_SCHEDULE)
    if any(t.tolerates(cordon) for t in pod.tolerations):
        return ()
    return (REASON_UNSCHEDULABLE,)


def _taint_toleration(pod: PodInfo, state: NodeState) -> tuple[str, ...]:
    taint = first_untolerated(state.node.effective_taints(), pod.tolerations, _FILTERED_EFFECTS)
    return () if taint is None else (REASON_TAINT.format(taint.describe()),)


def _node_affinity(pod: PodInfo, state: NodeState) -> tuple[str, ...]:
    labels = state.node.labels
    if any(labels.get(k) != v for k, v in pod.node_selector.items()):
        return (REASON_AFFINITY,)
    if pod.affinity is not None and not any(t.matches(state.node) for t in pod.affinity):
        return (REASON_AFFINITY,)
    return ()


def _resources_fit(pod: PodInfo, state: NodeState) -> tuple[str, ...]:
    reasons = []
    free = state.node.allocatable - state.requested
    if pod.requests.pods > free.pods:
        reasons.append(REASON_TOO_MANY_PODS)
    if pod.requests.milli_cpu > 0 and pod.requests.milli_cpu > free.milli_cpu:
        reasons.append("Insufficient cpu")
    if pod.requests.memory > 0 and pod.requests.memory > free.memory:
        reasons.append("Insufficient memory")
    return tuple(reasons)


FILTERS = (_node_unschedulable, _taint_toleration, _node_affinity, _resources_fit)


def filter_node(pod: PodInfo, state: NodeState) -> tuple[str, ...]:
    """Why the pod cannot go to this node (empty: it can)."""
    for plugin in FILTERS:
        reasons = plugin(pod, state)
        if reasons:
            return reasons
    return ()


def unschedulable_message(total_nodes: int, reasons: Counter[str]) -> str:
    """kube-scheduler's FitError text: counts per reason, sorted as strings."""
    if total_nodes == 0:
        return NO_NODES
    parts = sorted(f"{count} {reason}" for reason, count in reasons.items())
    return f"0/{total_nodes} nodes are available: {', '.join(parts)}."


# ------------------------------------------------------------------------------ scores


def _least_allocated(pod: PodInfo, state: NodeState) -> int:
    """Mean over cpu and memory of the share left free once the pod is placed, 0-100."""
    wanted = state.non_zero_requested + pod.non_zero_requests
    allocatable = state.node.allocatable
    total = 0
    for capacity, requested in (
        (allocatable.milli_cpu, wanted.milli_cpu),
        (allocatable.memory, wanted.memory),
    ):
        if capacity > 0 and requested <= capacity:
            total += (capacity - requested) * MAX_SCORE // capacity
    return total // 2


def _prefer_no_schedule(pod: PodInfo, state: NodeState) -> int:
    return sum(
        1
        for taint in state.node.taints
        if taint.effect is Effect.PREFER_NO_SCHEDULE
        and not any(t.tolerates(taint) for t in pod.tolerations)
    )


def _reverse_normalized(counts: Sequence[int]) -> list[int]:
    """Fewer is better: the largest count scores 0, zero scores MAX_SCORE."""
    highest = max(counts, default=0)
    if highest == 0:
        return [MAX_SCORE] * len(counts)
    return [MAX_SCORE * (highest - c) // highest for c in counts]


def score_nodes(pod: PodInfo, feasible: Sequence[NodeState]) -> list[int]:
    """Weighted sum of the plugins' normalized scores, one per feasible node."""
    spread = _reverse_normalized([s.owners.get(pod.owner, 0) if pod.owner else 0 for s in feasible])
    taints = _reverse_normalized([_prefer_no_schedule(pod, s) for s in feasible])
    return [
        WEIGHT_RESOURCES * _least_allocated(pod, s) + WEIGHT_SPREAD * sp + WEIGHT_TAINTS * ta
        for s, sp, ta in zip(feasible, spread, taints, strict=True)
    ]


# ------------------------------------------------------------------------------ decide


@dataclass(frozen=True)
class Bind:
    node: str


@dataclass(frozen=True)
class Unschedulable:
    message: str


def schedule(
    pod: PodInfo, states: Sequence[NodeState], *, rng: random.Random
) -> Bind | Unschedulable:
    """Pick the best feasible node, or say why there is none."""
    feasible: list[NodeState] = []
    reasons: Counter[str] = Counter()
    for state in states:
        rejected = filter_node(pod, state)
        if rejected:
            reasons.update(rejected)
        else:
            feasible.append(state)
    if not feasible:
        return Unschedulable(unschedulable_message(len(states), reasons))
    scores = score_nodes(pod, feasible)
    best = max(scores)
    winners = [s.node.name for s, score in zip(feasible, scores, strict=True) if score == best]
    return Bind(rng.choice(winners))
