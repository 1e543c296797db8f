"""The pod as the kubelet sees it: frozen values with core/v1 meanings.

Spec views hold only what the lifecycle needs (plus the raw dict, which the runtimes read for
everything else); status values mirror core/v1 PodStatus. Times are epoch seconds. Parsing
from and rendering to plain dicts lives in :mod:`simpod.core.serialize`.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class PodPhase(enum.StrEnum):
    PENDING = "Pending"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    UNKNOWN = "Unknown"

    @property
    def terminal(self) -> bool:
        return self in (PodPhase.SUCCEEDED, PodPhase.FAILED)


class RestartPolicy(enum.StrEnum):
    ALWAYS = "Always"
    ON_FAILURE = "OnFailure"
    NEVER = "Never"


class ProbeKind(enum.StrEnum):
    READINESS = "readiness"
    LIVENESS = "liveness"
    STARTUP = "startup"

    @property
    def spec_field(self) -> str:
        return f"{self.value}Probe"

    @property
    def label(self) -> str:
        """As event messages spell it: "Liveness probe failed: ..."."""
        return self.value.capitalize()


class ConditionStatus(enum.StrEnum):
    TRUE = "True"
    FALSE = "False"
    UNKNOWN = "Unknown"


# ---------------------------------------------------------------------------- spec views


@dataclass(frozen=True)
class ProbeSpec:
    """A probe with core/v1 defaults; ``handler`` is the raw exec/httpGet/tcpSocket/grpc dict."""

    initial_delay_seconds: int = 0
    period_seconds: int = 10
    timeout_seconds: int = 1
    success_threshold: int = 1
    failure_threshold: int = 3
    termination_grace_period_seconds: int | None = None
    handler: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ContainerSpec:
    """One container or init container; ``raw`` is its spec dict as the API holds it."""

    name: str
    image: str = ""
    restart_policy: str | None = None
    readiness_probe: ProbeSpec | None = None
    liveness_probe: ProbeSpec | None = None
    startup_probe: ProbeSpec | None = None
    post_start: Mapping[str, Any] | None = None
    pre_stop: Mapping[str, Any] | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_sidecar(self) -> bool:
        """A native sidecar: an init container with ``restartPolicy: Always``."""
        return self.restart_policy == "Always"

    def probe(self, kind: ProbeKind) -> ProbeSpec | None:
        if kind is ProbeKind.READINESS:
            return self.readiness_probe
        if kind is ProbeKind.LIVENESS:
            return self.liveness_probe
        return self.startup_probe

    @property
    def spec_hash(self) -> str:
        """Identifies this definition: a change restarts the container and resets its backoff."""
        source = self.raw or {"name": self.name, "image": self.image}
        text = json.dumps(source, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:8]


@dataclass(frozen=True)
class PodSpec:
    containers: tuple[ContainerSpec, ...]
    init_containers: tuple[ContainerSpec, ...] = ()
    restart_policy: RestartPolicy = RestartPolicy.ALWAYS
    termination_grace_period_seconds: int | None = None
    active_deadline_seconds: int | None = None
    readiness_gates: tuple[str, ...] = ()
    node_name: str | None = None

    @property
    def sidecars(self) -> tuple[ContainerSpec, ...]:
        return tuple(c for c in self.init_containers if c.is_sidecar)

    def container(self, name: str) -> ContainerSpec | None:
        for c in (*self.init_containers, *self.containers):
            if c.name == name:
                return c
        return None


@dataclass(frozen=True)
class Pod:
    """What the kubelet reads of a pod object: identity, deletion and the spec."""

    name: str
    namespace: str
    uid: str
    spec: PodSpec
    creation_time: float | None = None
    deletion_time: float | None = None
    annotations: Mapping[str, str] = field(default_factory=dict)

    @property
    def ref(self) -> str:
        """``name_namespace(uid)``, the kubelet's format.Pod, used in messages."""
        return f"{self.name}_{self.namespace}({self.uid})"


# ---------------------------------------------------------------------------- status values


@dataclass(frozen=True)
class Waiting:
    reason: str = ""
    message: str = ""


@dataclass(frozen=True)
class Running:
    started_at: float | None = None


@dataclass(frozen=True)
class Terminated:
    exit_code: int
    reason: str = ""
    message: str = ""
    signal: int = 0
    started_at: float | None = None
    finished_at: float | None = None


ContainerState = Waiting | Running | Terminated


@dataclass(frozen=True)
class ContainerStatus:
    name: str
    image: str = ""
    state: ContainerState = field(default_factory=Waiting)
    last_state: Terminated | None = None
    ready: bool = False
    started: bool | None = None
    restart_count: int = 0


@dataclass(frozen=True)
class Condition:
    type: str
    status: ConditionStatus
    reason: str = ""
    message: str = ""
    last_transition_time: float | None = None
    last_probe_time: float | None = None

    def same_state(self, other: Condition) -> bool:
        """Equal except for the timestamps, which only move when the state moves."""
        return (self.type, self.status, self.reason, self.message) == (
            other.type,
            other.status,
            other.reason,
            other.message,
        )


@dataclass(frozen=True)
class PodStatus:
    phase: PodPhase = PodPhase.PENDING
    conditions: tuple[Condition, ...] = ()
    init_container_statuses: tuple[ContainerStatus, ...] = ()
    container_statuses: tuple[ContainerStatus, ...] = ()
    start_time: float | None = None
    reason: str = ""
    message: str = ""
    pod_ip: str = ""
    host_ip: str = ""

    def condition(self, type_: str) -> Condition | None:
        for c in self.conditions:
            if c.type == type_:
                return c
        return None

    def status_of(self, name: str) -> ContainerStatus | None:
        for s in (*self.init_container_statuses, *self.container_statuses):
            if s.name == name:
                return s
        return None
