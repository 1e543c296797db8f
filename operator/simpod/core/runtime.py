"""The contract between the core and a runtime: what a runtime reports and what it is told.

A runtime (simulated or process) keeps, per container name, its latest *instance* and reports
it as :class:`Instance`; the core answers with :data:`Action` values. Instances are numbered by
``attempt`` (0 for the first run, then the restart count), which is how the core tells a new
instance from the one it saw before. A runtime keeps exited instances until :class:`ResetPod`,
and after an operator restart it restores them from the stored status, so nothing runs twice.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from simpod.core.model import ContainerSpec, ProbeKind, ProbeSpec
from simpod.core.probes import ProbeOutcome

KILL_EXIT_CODE = 137  # 128 + SIGKILL, as the kubelet reports a KILLed container


class InstanceState(enum.StrEnum):
    CREATED = "created"  # started but not yet running: start delay, postStart hook
    RUNNING = "running"  # postStart done
    EXITED = "exited"


@dataclass(frozen=True)
class Instance:
    """The latest instance of one container as the runtime sees it."""

    name: str
    attempt: int
    state: InstanceState
    started_at: float | None = None  # the process started (before postStart)
    finished_at: float | None = None
    exit_code: int = 0
    signal: int = 0
    # Exited: e.g. OOMKilled (empty means Completed or Error). Created: why it cannot be
    # created yet (e.g. CreateContainerConfigError), shown as the waiting reason.
    reason: str = ""
    message: str = ""
    post_start_error: str | None = None  # postStart failed: the core kills the container
    stopping: bool = False  # a KillContainer was given (it may have exited since)

    @property
    def live(self) -> bool:
        return self.state is not InstanceState.EXITED


@dataclass(frozen=True)
class PreStopFailed:
    """A preStop hook's run ended in an error (reported once): when it failed, or when the
    container ended under it (an exec dies with the container; the kubelet stops waiting
    for the hook at the grace's end but does not stop the hook). Termination goes on
    regardless."""

    container: str


Observation = ProbeOutcome | PreStopFailed


class KillReason(enum.StrEnum):
    POD_TERMINATION = "PodTermination"  # deletion, deadline, pod done, pod restart
    LIVENESS_PROBE = "LivenessProbe"
    STARTUP_PROBE = "StartupProbe"
    FAILED_POST_START_HOOK = "FailedPostStartHook"
    DEFINITION_CHANGED = "DefinitionChanged"


@dataclass(frozen=True)
class StartContainer:
    """Create and start instance ``attempt``, its process running from ``starts_at`` (the
    create and start calls take that long); then run postStart and report RUNNING."""

    container: ContainerSpec
    attempt: int
    init: bool
    starts_at: float


@dataclass(frozen=True)
class KillContainer:
    """Run preStop (if any, at most ``grace_seconds``), send TERM, and KILL after
    :func:`simpod.core.grace.stop_timeout` of what the hook left."""

    container: ContainerSpec
    attempt: int
    grace_seconds: float
    reason: KillReason


@dataclass(frozen=True)
class RunProbe:
    """Run one probe (bounded by its timeoutSeconds) and report a ProbeOutcome."""

    container: ContainerSpec
    attempt: int
    kind: ProbeKind
    probe: ProbeSpec
    issued_at: float  # the sync's moment: its outcome names it (ProbeOutcome.issued_at)


@dataclass(frozen=True)
class ResetPod:
    """Forget every (stopped) instance: the pod starts again from its first init container."""


Action = StartContainer | KillContainer | RunProbe | ResetPod
