"""What ``kubectl get pods`` prints, computed the way kubectl's printPod does.

The agent stores these strings in the status ``display`` block, which the SimPod CRD's printer
columns show, so ``kubectl get simpods`` reads like ``kubectl get pods``.
"""

from __future__ import annotations

from dataclasses import dataclass

from simpod.core.conditions import INITIALIZED, READY
from simpod.core.model import (
    ConditionStatus,
    PodSpec,
    PodStatus,
    Running,
    Terminated,
    Waiting,
)

NODE_LOST = "NodeLost"


@dataclass(frozen=True)
class PodRow:
    ready: str
    status: str
    restarts: str

    @property
    def restart_count(self) -> int:
        """The count alone: a stored "(5m ago)" would go stale in a printer column."""
        return int(self.restarts.split(" ", 1)[0])


def human_duration(seconds: float) -> str:
    """apimachinery's duration.HumanDuration: the AGE and "(5m ago)" format."""
    secs = int(seconds)
    if secs < -1:
        return "<invalid>"
    if secs < 0:
        return "0s"
    if secs < 120:
        return f"{secs}s"
    minutes = secs // 60
    if minutes < 10:
        rest = secs % 60
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = secs // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h{rest}m" if rest else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d{rest}h" if rest else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        rest = (hours // 24) % 365
        return f"{hours // 24 // 365}y{rest}d" if rest else f"{hours // 24 // 365}y"
    return f"{hours // 24 // 365}y"


def since(t: float | None, now: float) -> str:
    """kubectl's translateTimestampSince."""
    return "<unknown>" if t is None else human_duration(now - t)


def _condition_true(status: PodStatus, type_: str) -> bool:
    condition = status.condition(type_)
    return condition is not None and condition.status is ConditionStatus.TRUE


def _terminated_text(state: Terminated, prefix: str) -> str:
    if state.reason:
        return prefix + state.reason
    if state.signal:
        return f"{prefix}Signal:{state.signal}"
    return f"{prefix}ExitCode:{state.exit_code}"


def print_pod(
    spec: PodSpec, status: PodStatus, *, deletion_time: float | None, now: float
) -> PodRow:
    """READY, STATUS and RESTARTS of one pod, by kubectl's rules (sidecars counted)."""
    sidecar_names = {c.name for c in spec.sidecars}
    total = len(spec.containers) + len(sidecar_names)
    ready = 0
    reason = status.reason or status.phase.value
    sched = status.condition("PodScheduled")
    if sched is not None and sched.reason == "SchedulingGated":
        reason = "SchedulingGated"

    restarts = sidecar_restarts = 0
    last_restart: float | None = None
    last_sidecar_restart: float | None = None

    def later(a: float | None, b: float | None) -> float | None:
        return b if a is None or (b is not None and b > a) else a

    initializing = False
    for index, cs in enumerate(status.init_container_statuses):
        finished = cs.last_state.finished_at if cs.last_state else None
        restarts += cs.restart_count
        last_restart = later(last_restart, finished)
        is_sidecar = cs.name in sidecar_names
        if is_sidecar:
            sidecar_restarts += cs.restart_count
            last_sidecar_restart = later(last_sidecar_restart, finished)
        state = cs.state
        if isinstance(state, Terminated) and state.exit_code == 0:
            continue
        if is_sidecar and cs.started:
            if cs.ready:
                ready += 1
            continue
        initializing = True
        if isinstance(state, Terminated):
            reason = _terminated_text(state, "Init:")
        elif isinstance(state, Waiting) and state.reason and state.reason != "PodInitializing":
            reason = "Init:" + state.reason
        else:
            reason = f"Init:{index}/{len(spec.init_containers)}"
        break

    if not initializing or _condition_true(status, INITIALIZED):
        restarts, last_restart = sidecar_restarts, last_sidecar_restart
        has_running = False
        for cs in reversed(status.container_statuses):
            restarts += cs.restart_count
            if cs.last_state is not None:
                last_restart = later(last_restart, cs.last_state.finished_at)
            state = cs.state
            if isinstance(state, Waiting) and state.reason:
                reason = state.reason
            elif isinstance(state, Terminated):
                reason = _terminated_text(state, "")
            elif cs.ready and isinstance(state, Running):
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            reason = "Running" if _condition_true(status, READY) else "NotReady"

    if deletion_time is not None and status.reason == NODE_LOST:
        reason = "Unknown"
    elif deletion_time is not None and not status.phase.terminal:
        reason = "Terminating"

    restarts_text = str(restarts)
    if restarts and last_restart is not None:
        restarts_text = f"{restarts} ({since(last_restart, now)} ago)"
    return PodRow(ready=f"{ready}/{total}", status=reason, restarts=restarts_text)
