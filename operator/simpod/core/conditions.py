"""Pod conditions as the kubelet writes them (pkg/kubelet/status/generate.go).

Each generator returns a condition without timestamps; :func:`pod_conditions` assembles the
kubelet's set in the order a Pod shows it and stamps ``lastTransitionTime`` only when a
condition's state changed, so status writes stay quiet while nothing happens.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from simpod.core.model import (
    Condition,
    ConditionStatus,
    ContainerStatus,
    PodPhase,
    PodSpec,
    Terminated,
)
from simpod.core.phase import has_any_regular_container_started

POD_SCHEDULED = "PodScheduled"
READY_TO_START = "PodReadyToStartContainers"
INITIALIZED = "Initialized"
CONTAINERS_READY = "ContainersReady"
READY = "Ready"
KUBELET_OWNED = (READY_TO_START, INITIALIZED, READY, CONTAINERS_READY, POD_SCHEDULED)

UNKNOWN_CONTAINER_STATUSES = "UnknownContainerStatuses"
CONTAINERS_NOT_INITIALIZED = "ContainersNotInitialized"
CONTAINERS_NOT_READY = "ContainersNotReady"
READINESS_GATES_NOT_READY = "ReadinessGatesNotReady"
POD_COMPLETED = "PodCompleted"
POD_FAILED = "PodFailed"


def _go_list(names: Sequence[str]) -> str:
    """Go's %s of a []string: "[a b]"."""
    return "[" + " ".join(names) + "]"


def _true(type_: str, reason: str = "") -> Condition:
    return Condition(type_, ConditionStatus.TRUE, reason=reason)


def _false(type_: str, reason: str, message: str = "") -> Condition:
    return Condition(type_, ConditionStatus.FALSE, reason=reason, message=message)


def _terminal(type_: str, phase: PodPhase) -> Condition:
    return _false(type_, POD_FAILED if phase is PodPhase.FAILED else POD_COMPLETED)


def _verdict(
    type_: str, reason: str, unknown: Sequence[str], adjective: str, failing: Sequence[str]
) -> Condition:
    """True, or False with the kubelet's "containers with <adjective> status: [a b]" list."""
    messages = []
    if unknown:
        messages.append(f"containers with unknown status: {_go_list(unknown)}")
    if failing:
        messages.append(f"containers with {adjective} status: {_go_list(failing)}")
    if messages:
        return _false(type_, reason, ", ".join(messages))
    return _true(type_)


def initialized_condition(
    spec: PodSpec,
    init_statuses: Sequence[ContainerStatus],
    statuses: Sequence[ContainerStatus],
    phase: PodPhase,
) -> Condition:
    """True once every init container completed (sidecars: started) or an app container ran."""
    by_name = {s.name: s for s in init_statuses}
    unknown: list[str] = []
    incomplete: list[str] = []
    for container in spec.init_containers:
        status = by_name.get(container.name)
        if status is None:
            unknown.append(container.name)
        elif container.is_sidecar:
            if not status.started:
                incomplete.append(container.name)
        elif not (isinstance(status.state, Terminated) and status.state.exit_code == 0):
            incomplete.append(container.name)
    if phase is PodPhase.SUCCEEDED and not unknown:
        return _true(INITIALIZED, POD_COMPLETED)
    if has_any_regular_container_started(spec, statuses):
        return _true(INITIALIZED)
    return _verdict(INITIALIZED, CONTAINERS_NOT_INITIALIZED, unknown, "incomplete", incomplete)


def containers_ready_condition(
    spec: PodSpec,
    init_statuses: Sequence[ContainerStatus],
    statuses: Sequence[ContainerStatus],
    phase: PodPhase,
) -> Condition:
    """True when every app container and sidecar is ready; terminal pods say why not."""
    by_name = {s.name: s for s in (*init_statuses, *statuses)}
    unknown: list[str] = []
    unready: list[str] = []
    for container in (*spec.sidecars, *spec.containers):
        status = by_name.get(container.name)
        if status is None:
            unknown.append(container.name)
        elif not status.ready:
            unready.append(container.name)
    if (phase is PodPhase.SUCCEEDED and not unknown) or phase is PodPhase.FAILED:
        return _terminal(CONTAINERS_READY, phase)
    return _verdict(CONTAINERS_READY, CONTAINERS_NOT_READY, unknown, "unready", unready)


def ready_condition(
    spec: PodSpec, containers_ready: Condition, other_conditions: Iterable[Condition]
) -> Condition:
    """ContainersReady's verdict, then every readiness gate's condition must be True."""
    if containers_ready.status is not ConditionStatus.TRUE:
        return Condition(
            READY, containers_ready.status, containers_ready.reason, containers_ready.message
        )
    by_type = {c.type: c for c in other_conditions}
    messages = []
    for gate in spec.readiness_gates:
        gate_condition = by_type.get(gate)
        if gate_condition is None:
            messages.append(
                f'corresponding condition of pod readiness gate "{gate}" does not exist.'
            )
        elif gate_condition.status is not ConditionStatus.TRUE:
            messages.append(
                f'the status of pod readiness gate "{gate}" is not "True", '
                f"but {gate_condition.status.value}"
            )
    if messages:
        return _false(READY, READINESS_GATES_NOT_READY, ", ".join(messages))
    return _true(READY)


def stamp(new: Condition, old: Condition | None, now: float) -> Condition:
    """Keep the old transition time while the state is unchanged; otherwise it is now."""
    if old is not None and old.same_state(new):
        return old
    if old is not None and old.status is new.status:
        return Condition(new.type, new.status, new.reason, new.message, old.last_transition_time)
    return Condition(new.type, new.status, new.reason, new.message, now)


def pod_conditions(
    spec: PodSpec,
    init_statuses: Sequence[ContainerStatus],
    statuses: Sequence[ContainerStatus],
    phase: PodPhase,
    *,
    sandbox_ready: bool,
    previous: Sequence[Condition],
    gates: Sequence[Condition],
    now: float,
) -> tuple[Condition, ...]:
    """The kubelet's conditions in a Pod's order, then conditions owned by others, kept as is;
    Ready from ``gates``, the readiness gates' conditions as the kubelet last saw them."""
    old = {c.type: c for c in previous}
    others = tuple(c for c in previous if c.type not in KUBELET_OWNED)
    containers_ready = containers_ready_condition(spec, init_statuses, statuses, phase)
    generated = [
        _true(READY_TO_START) if sandbox_ready else _false(READY_TO_START, ""),
        initialized_condition(spec, init_statuses, statuses, phase),
        ready_condition(spec, containers_ready, gates),
        containers_ready,
        old.get(POD_SCHEDULED) or _true(POD_SCHEDULED),
    ]
    return tuple(stamp(c, old.get(c.type), now) for c in generated) + others
