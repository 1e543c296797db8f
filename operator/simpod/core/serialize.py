"""Plain dicts (the SimPod as JSON from the API, core/v1 field names) to core values and back.

Parsing applies the core/v1 defaults the API server would have filled in for a Pod, because a
custom resource gets no such defaulting. Malformed input raises :class:`SpecError` with a
message fit for a condition or an Event: the operator must refuse a bad object, not crash.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from simpod.core.clock import format_time, parse_time, to_kubelet, to_wall
from simpod.core.model import (
    Condition,
    ConditionStatus,
    ContainerSpec,
    ContainerState,
    ContainerStatus,
    Pod,
    PodPhase,
    PodSpec,
    PodStatus,
    ProbeKind,
    ProbeSpec,
    RestartPolicy,
    Running,
    Terminated,
    Waiting,
)

JSON = dict[str, Any]


class SpecError(ValueError):
    """The object cannot be run as given; the message says which field and why."""


# ---------------------------------------------------------------------------- helpers


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise SpecError(f"{where}: expected an object")
    return value


def _int(
    source: Mapping[str, Any], key: str, where: str, *, default: int | None, minimum: int = 0
) -> int | None:
    value = source.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise SpecError(f"{where}.{key}: expected an integer")
    if value < minimum:
        raise SpecError(f"{where}.{key}: must be greater than or equal to {minimum}")
    return value


def _req_int(source: Mapping[str, Any], key: str, where: str, *, default: int, minimum: int) -> int:
    value = _int(source, key, where, default=default, minimum=minimum)
    assert value is not None  # a default was given
    return value


def _time(value: object, where: str, scale: float) -> float | None:
    """A wall-clock timestamp as kubelet time (see :func:`simpod.core.clock.to_kubelet`)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise SpecError(f"{where}: expected an RFC 3339 timestamp")
    try:
        return to_kubelet(parse_time(value), scale)
    except ValueError as exc:
        raise SpecError(f"{where}: {exc}") from exc


def _fmt(t: float | None, scale: float) -> str | None:
    """Kubelet time written as a wall-clock timestamp: statuses always show real time."""
    return None if t is None else format_time(to_wall(t, scale))


# ---------------------------------------------------------------------------- spec


def parse_probe(raw: object, kind: ProbeKind, where: str) -> ProbeSpec | None:
    if raw is None:
        return None
    src = _mapping(raw, where)
    success = _req_int(src, "successThreshold", where, default=1, minimum=1)
    if kind is not ProbeKind.READINESS and success != 1:
        raise SpecError(f"{where}.successThreshold: must be 1 for {kind.value} probes")
    handlers = {k: v for k, v in src.items() if k in ("exec", "httpGet", "tcpSocket", "grpc")}
    if len(handlers) != 1:
        raise SpecError(f"{where}: exactly one of exec, httpGet, tcpSocket, grpc is required")
    return ProbeSpec(
        initial_delay_seconds=_req_int(src, "initialDelaySeconds", where, default=0, minimum=0),
        period_seconds=_req_int(src, "periodSeconds", where, default=10, minimum=1),
        timeout_seconds=_req_int(src, "timeoutSeconds", where, default=1, minimum=1),
        success_threshold=success,
        failure_threshold=_req_int(src, "failureThreshold", where, default=3, minimum=1),
        termination_grace_period_seconds=_int(
            src, "terminationGracePeriodSeconds", where, default=None, minimum=1
        ),
        handler=handlers,
    )


def parse_container(raw: object, where: str, *, init: bool) -> ContainerSpec:
    src = _mapping(raw, where)
    name = src.get("name")
    if not isinstance(name, str) or not name:
        raise SpecError(f"{where}.name: required")
    where = f"{where}[{name}]"
    restart_policy = src.get("restartPolicy")
    if restart_policy is not None and (not init or restart_policy != "Always"):
        raise SpecError(f"{where}.restartPolicy: only 'Always' on an init container is supported")
    lifecycle = _mapping(src.get("lifecycle"), f"{where}.lifecycle")
    probes = {
        k: parse_probe(src.get(k.spec_field), k, f"{where}.{k.spec_field}") for k in ProbeKind
    }
    if init and restart_policy is None and (lifecycle or any(probes.values())):
        raise SpecError(
            f"{where}: probes and lifecycle are only allowed on sidecar init containers"
        )
    post_start = lifecycle.get("postStart")
    pre_stop = lifecycle.get("preStop")
    return ContainerSpec(
        name=name,
        image=str(src.get("image") or ""),
        restart_policy=restart_policy,
        readiness_probe=probes[ProbeKind.READINESS],
        liveness_probe=probes[ProbeKind.LIVENESS],
        startup_probe=probes[ProbeKind.STARTUP],
        post_start=_mapping(post_start, f"{where}.lifecycle.postStart") if post_start else None,
        pre_stop=_mapping(pre_stop, f"{where}.lifecycle.preStop") if pre_stop else None,
        raw=src,
    )


def _containers(raw: object, where: str, *, init: bool) -> tuple[ContainerSpec, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        raise SpecError(f"{where}: expected a list")
    return tuple(parse_container(c, f"{where}", init=init) for c in raw)


def parse_spec(raw: object) -> PodSpec:
    src = _mapping(raw, "spec")
    containers = _containers(src.get("containers"), "spec.containers", init=False)
    if not containers:
        raise SpecError("spec.containers: at least one container is required")
    init_containers = _containers(src.get("initContainers"), "spec.initContainers", init=True)
    names = [c.name for c in (*init_containers, *containers)]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise SpecError(f"spec: duplicate container names {duplicates}")
    try:
        policy = RestartPolicy(src.get("restartPolicy") or "Always")
    except ValueError as exc:
        raise SpecError("spec.restartPolicy: must be Always, OnFailure or Never") from exc
    gates = src.get("readinessGates") or []
    if not isinstance(gates, Sequence) or isinstance(gates, str):
        raise SpecError("spec.readinessGates: expected a list")
    gate_types = tuple(
        str(_mapping(g, "spec.readinessGates").get("conditionType", "")) for g in gates
    )
    node_name = src.get("nodeName")
    return PodSpec(
        containers=containers,
        init_containers=init_containers,
        restart_policy=policy,
        termination_grace_period_seconds=_int(
            src, "terminationGracePeriodSeconds", "spec", default=None, minimum=0
        ),
        active_deadline_seconds=_int(src, "activeDeadlineSeconds", "spec", default=None, minimum=1),
        readiness_gates=tuple(g for g in gate_types if g),
        node_name=node_name if isinstance(node_name, str) and node_name else None,
    )


def parse_pod(obj: Mapping[str, Any], *, scale: float = 1.0) -> Pod:
    """The kubelet's view of a SimPod object (metadata + spec)."""
    meta = _mapping(obj.get("metadata"), "metadata")
    annotations = _mapping(meta.get("annotations"), "metadata.annotations")
    return Pod(
        name=str(meta.get("name") or ""),
        namespace=str(meta.get("namespace") or "default"),
        uid=str(meta.get("uid") or ""),
        spec=parse_spec(obj.get("spec")),
        creation_time=_time(meta.get("creationTimestamp"), "metadata.creationTimestamp", scale),
        deletion_time=_time(meta.get("deletionTimestamp"), "metadata.deletionTimestamp", scale),
        annotations={str(k): str(v) for k, v in annotations.items()},
    )


# ---------------------------------------------------------------------------- status


def _parse_state(raw: object, where: str, scale: float) -> ContainerState | None:
    src = _mapping(raw, where)
    if "running" in src:
        running = _mapping(src["running"], f"{where}.running")
        return Running(
            started_at=_time(running.get("startedAt"), f"{where}.running.startedAt", scale)
        )
    if "terminated" in src:
        return _parse_terminated(src["terminated"], f"{where}.terminated", scale)
    if "waiting" in src:
        waiting = _mapping(src["waiting"], f"{where}.waiting")
        return Waiting(str(waiting.get("reason") or ""), str(waiting.get("message") or ""))
    return None


def _parse_terminated(raw: object, where: str, scale: float) -> Terminated:
    t = _mapping(raw, where)
    return Terminated(
        exit_code=int(t.get("exitCode") or 0),
        reason=str(t.get("reason") or ""),
        message=str(t.get("message") or ""),
        signal=int(t.get("signal") or 0),
        started_at=_time(t.get("startedAt"), f"{where}.startedAt", scale),
        finished_at=_time(t.get("finishedAt"), f"{where}.finishedAt", scale),
    )


def _parse_container_status(raw: object, where: str, scale: float) -> ContainerStatus:
    src = _mapping(raw, where)
    last = _parse_state(src.get("lastState"), f"{where}.lastState", scale)
    started = src.get("started")
    return ContainerStatus(
        name=str(src.get("name") or ""),
        image=str(src.get("image") or ""),
        state=_parse_state(src.get("state"), f"{where}.state", scale) or Waiting(),
        last_state=last if isinstance(last, Terminated) else None,
        ready=bool(src.get("ready")),
        started=None if started is None else bool(started),
        restart_count=int(src.get("restartCount") or 0),
    )


def parse_status(raw: object, *, scale: float = 1.0) -> PodStatus:
    """A core/v1 PodStatus dict (unknown keys such as ``sim`` or ``display`` are ignored)."""
    src = _mapping(raw, "status")
    conditions = tuple(
        Condition(
            type=str(c.get("type") or ""),
            status=ConditionStatus(c.get("status") or "Unknown"),
            reason=str(c.get("reason") or ""),
            message=str(c.get("message") or ""),
            last_transition_time=_time(c.get("lastTransitionTime"), "condition", scale),
            last_probe_time=_time(c.get("lastProbeTime"), "condition", scale),
        )
        for c in (_mapping(x, "status.conditions") for x in src.get("conditions") or [])
    )
    try:
        phase = PodPhase(src.get("phase") or "Pending")
    except ValueError as exc:
        raise SpecError("status.phase: unknown phase") from exc
    return PodStatus(
        phase=phase,
        conditions=conditions,
        init_container_statuses=tuple(
            _parse_container_status(s, "status.initContainerStatuses", scale)
            for s in src.get("initContainerStatuses") or []
        ),
        container_statuses=tuple(
            _parse_container_status(s, "status.containerStatuses", scale)
            for s in src.get("containerStatuses") or []
        ),
        start_time=_time(src.get("startTime"), "status.startTime", scale),
        reason=str(src.get("reason") or ""),
        message=str(src.get("message") or ""),
        pod_ip=str(src.get("podIP") or ""),
        host_ip=str(src.get("hostIP") or ""),
    )


def state_to_dict(state: ContainerState | None, *, scale: float = 1.0) -> JSON:
    if state is None:
        return {}
    if isinstance(state, Waiting):
        waiting: JSON = {"reason": state.reason} if state.reason else {}
        if state.message:
            waiting["message"] = state.message
        return {"waiting": waiting}
    if isinstance(state, Running):
        return {"running": {"startedAt": _fmt(state.started_at, scale)}}
    terminated: JSON = {"exitCode": state.exit_code}
    if state.signal:
        terminated["signal"] = state.signal
    if state.reason:
        terminated["reason"] = state.reason
    if state.message:
        terminated["message"] = state.message
    terminated["startedAt"] = _fmt(state.started_at, scale)
    terminated["finishedAt"] = _fmt(state.finished_at, scale)
    return {"terminated": terminated}


def container_status_to_dict(status: ContainerStatus, *, scale: float = 1.0) -> JSON:
    out: JSON = {
        "name": status.name,
        "image": status.image,
        "imageID": "",
        "ready": status.ready,
        "restartCount": status.restart_count,
        "state": state_to_dict(status.state, scale=scale),
        "lastState": state_to_dict(status.last_state, scale=scale),
    }
    if status.started is not None:
        out["started"] = status.started
    return out


def condition_to_dict(c: Condition, *, scale: float = 1.0) -> JSON:
    out: JSON = {
        "type": c.type,
        "status": c.status.value,
        "lastProbeTime": _fmt(c.last_probe_time, scale),
        "lastTransitionTime": _fmt(c.last_transition_time, scale),
    }
    if c.reason:
        out["reason"] = c.reason
    if c.message:
        out["message"] = c.message
    return out


def status_to_dict(status: PodStatus, *, scale: float = 1.0) -> JSON:
    """core/v1 PodStatus field names; empty optional fields are set to None so that a JSON
    merge patch clears what a previous status had (e.g. ``reason`` after a pod restart)."""
    out: JSON = {
        "phase": status.phase.value,
        "conditions": [condition_to_dict(c, scale=scale) for c in status.conditions],
        "startTime": _fmt(status.start_time, scale),
        "containerStatuses": [
            container_status_to_dict(s, scale=scale) for s in status.container_statuses
        ],
        "reason": status.reason or None,
        "message": status.message or None,
        "podIP": status.pod_ip or None,
        "hostIP": status.host_ip or None,
    }
    if status.init_container_statuses:
        out["initContainerStatuses"] = [
            container_status_to_dict(s, scale=scale) for s in status.init_container_statuses
        ]
    return out
