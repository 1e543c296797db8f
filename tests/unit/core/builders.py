"""Small constructors that keep the table-driven core tests readable."""

from __future__ import annotations

from typing import Any

from simpod.core.model import (
    ContainerSpec,
    ContainerStatus,
    Pod,
    PodSpec,
    RestartPolicy,
    Running,
    Terminated,
    Waiting,
)
from simpod.core.serialize import parse_pod

T0 = 1_800_000_000.0  # a fixed wall-clock origin for every test


def spec(
    *apps: str,
    init: tuple[str, ...] = (),
    sidecars: tuple[str, ...] = (),
    policy: str = "Always",
    gates: tuple[str, ...] = (),
) -> PodSpec:
    """Sidecars are listed among ``init`` by name to fix their order; ``sidecars`` marks them."""
    return PodSpec(
        containers=tuple(ContainerSpec(n) for n in apps or ("app",)),
        init_containers=tuple(
            ContainerSpec(n, restart_policy="Always" if n in sidecars else None) for n in init
        ),
        restart_policy=RestartPolicy(policy),
        readiness_gates=gates,
    )


def term(
    code: int = 0, reason: str | None = None, *, signal: int = 0, at: float = T0
) -> Terminated:
    if reason is None:
        reason = "Completed" if code == 0 else "Error"
    return Terminated(code, reason, signal=signal, started_at=at - 10, finished_at=at)


def running(
    name: str,
    *,
    ready: bool = True,
    started: bool = True,
    restarts: int = 0,
    last: Terminated | None = None,
) -> ContainerStatus:
    return ContainerStatus(
        name,
        state=Running(T0),
        ready=ready,
        started=started,
        restart_count=restarts,
        last_state=last,
    )


def waiting(
    name: str,
    reason: str = "ContainerCreating",
    *,
    restarts: int = 0,
    last: Terminated | None = None,
) -> ContainerStatus:
    return ContainerStatus(
        name, state=Waiting(reason), started=False, restart_count=restarts, last_state=last
    )


def exited(
    name: str, code: int = 0, *, reason: str | None = None, restarts: int = 0, signal: int = 0
) -> ContainerStatus:
    return ContainerStatus(
        name,
        state=term(code, reason, signal=signal),
        started=False,
        restart_count=restarts,
    )


def pod_obj(
    containers: list[dict[str, Any]],
    *,
    init: list[dict[str, Any]] | None = None,
    name: str = "p",
    **spec_fields: Any,
) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": "ns", "uid": "u1"},
        "spec": {"containers": containers, "initContainers": init or [], **spec_fields},
    }


def pod(containers: list[dict[str, Any]], **kw: Any) -> Pod:
    return parse_pod(pod_obj(containers, **kw))
