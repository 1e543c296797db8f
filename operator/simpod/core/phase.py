"""The pod phase from container statuses: the kubelet's getPhase rule.

Native sidecars are counted apart from regular init containers: a terminated or crash-looping
sidecar never decides the phase, so a Job-style pod succeeds while its sidecars are stopped,
and a sidecar restart after initialisation does not send the pod back to Pending.
"""

from __future__ import annotations

from collections.abc import Iterable

from simpod.core.model import (
    ContainerStatus,
    PodPhase,
    PodSpec,
    RestartPolicy,
    Running,
    Terminated,
    Waiting,
)


def _by_name(statuses: Iterable[ContainerStatus]) -> dict[str, ContainerStatus]:
    return {s.name: s for s in statuses}


def has_any_regular_container_started(spec: PodSpec, statuses: Iterable[ContainerStatus]) -> bool:
    """Once an app container ran, the pod has been initialised, whatever sidecars do now."""
    by_name = _by_name(statuses)
    for container in spec.containers:
        status = by_name.get(container.name)
        if status is None:
            continue
        if isinstance(status.state, Running | Terminated):
            return True
        if isinstance(status.state, Waiting) and status.last_state is not None:
            return True
    return False


def get_phase(
    spec: PodSpec,
    init_statuses: Iterable[ContainerStatus],
    statuses: Iterable[ContainerStatus],
    *,
    pod_is_terminal: bool = False,
) -> PodPhase:
    """Phase per the kubelet; ``pod_is_terminal`` once a deleted pod's containers all stopped."""
    init_by_name = _by_name(init_statuses)
    app_statuses = list(statuses)
    app_by_name = _by_name(app_statuses)
    pending_init = failed_init = 0
    unknown = running = waiting = stopped = succeeded = 0

    for container in spec.init_containers:
        status = init_by_name.get(container.name)
        if container.is_sidecar:
            if status is None:
                unknown += 1
            elif isinstance(status.state, Running):
                if not status.started:
                    pending_init += 1
                running += 1
            elif isinstance(status.state, Waiting) and status.last_state is None:
                pending_init += 1
                waiting += 1
            # a terminated or restarting sidecar does not count for the phase
            continue
        if status is None or isinstance(status.state, Running):
            pending_init += 1
        elif isinstance(status.state, Terminated):
            if status.state.exit_code != 0:
                failed_init += 1
        elif status.last_state is not None:
            if status.last_state.exit_code != 0:
                failed_init += 1
        else:
            pending_init += 1

    for container in spec.containers:
        status = app_by_name.get(container.name)
        if status is None:
            unknown += 1
        elif isinstance(status.state, Running):
            running += 1
        elif isinstance(status.state, Terminated):
            stopped += 1
            if status.state.exit_code == 0:
                succeeded += 1
        elif status.last_state is not None:
            stopped += 1
        else:
            waiting += 1

    if failed_init > 0 and spec.restart_policy is RestartPolicy.NEVER:
        return PodPhase.FAILED
    initialized_before = has_any_regular_container_started(spec, app_statuses)
    if (pending_init > 0 and not initialized_before) or waiting > 0:
        return PodPhase.PENDING
    if running > 0 and unknown == 0:
        return PodPhase.RUNNING
    if running == 0 and stopped > 0 and unknown == 0:
        if pod_is_terminal:
            return PodPhase.SUCCEEDED if stopped == succeeded else PodPhase.FAILED
        if spec.restart_policy is RestartPolicy.ALWAYS:
            return PodPhase.RUNNING
        if stopped == succeeded:
            return PodPhase.SUCCEEDED
        if spec.restart_policy is RestartPolicy.NEVER:
            return PodPhase.FAILED
        return PodPhase.RUNNING
    return PodPhase.PENDING
