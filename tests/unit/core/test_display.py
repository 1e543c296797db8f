"""READY / STATUS / RESTARTS as kubectl's printPod computes them (cases after printers_test.go)."""

from __future__ import annotations

import pytest

from simpod.core.display import PodRow, human_duration, print_pod
from simpod.core.model import (
    Condition,
    ConditionStatus,
    ContainerStatus,
    PodPhase,
    PodSpec,
    PodStatus,
    Running,
    Terminated,
    Waiting,
)
from tests.unit.core.builders import T0, exited, running, spec, term, waiting

NOW = T0 + 600
TRUE = ConditionStatus.TRUE


def cs(
    name: str, state: object, *, ready: bool = False, restarts: int = 0, **kw: object
) -> ContainerStatus:
    return ContainerStatus(name, state=state, ready=ready, restart_count=restarts, **kw)  # type: ignore[arg-type]


def status(
    phase: PodPhase,
    apps: list[ContainerStatus],
    inits: list[ContainerStatus] | None = None,
    *,
    reason: str = "",
    ready: bool = False,
    initialized: bool = False,
) -> PodStatus:
    conditions = []
    if ready:
        conditions.append(Condition("Ready", TRUE))
    if initialized:
        conditions.append(Condition("Initialized", TRUE))
    return PodStatus(
        phase=phase,
        container_statuses=tuple(apps),
        init_container_statuses=tuple(inits or []),
        reason=reason,
        conditions=tuple(conditions),
    )


RUN = Running(T0)
CASES: list[tuple[str, PodSpec, PodStatus, float | None, PodRow]] = [
    (
        "phase shown when nothing else says more",
        spec("a", "b"),
        status(
            PodPhase.RUNNING, [cs("a", RUN, ready=True, restarts=3), cs("b", Waiting(), restarts=3)]
        ),
        None,
        PodRow("1/2", "Running", "6"),
    ),
    (
        "waiting reason",
        spec("a", "b"),
        status(
            PodPhase.RUNNING,
            [
                cs("a", Waiting("ContainerWaitingReason"), restarts=3),
                cs("b", RUN, ready=True, restarts=3),
            ],
        ),
        None,
        PodRow("1/2", "ContainerWaitingReason", "6"),
    ),
    (
        "terminated reason",
        spec("a", "b"),
        status(
            PodPhase.RUNNING,
            [
                cs("a", Terminated(1, "ContainerTerminatedReason"), restarts=3),
                cs("b", RUN, ready=True, restarts=3),
            ],
        ),
        None,
        PodRow("1/2", "ContainerTerminatedReason", "6"),
    ),
    (
        "terminated without reason shows the exit code",
        spec(),
        status(PodPhase.FAILED, [cs("app", Terminated(2))]),
        None,
        PodRow("0/1", "ExitCode:2", "0"),
    ),
    (
        "terminated by signal",
        spec(),
        status(PodPhase.FAILED, [cs("app", Terminated(137, signal=9))]),
        None,
        PodRow("0/1", "Signal:9", "0"),
    ),
    (
        "node lost while deleting is Unknown",
        spec("a", "b"),
        status(
            PodPhase.RUNNING,
            [cs("a", RUN, ready=True), cs("b", RUN, ready=True)],
            reason="NodeLost",
        ),
        T0,
        PodRow("2/2", "Unknown", "0"),
    ),
    (
        "deleting is Terminating",
        spec(),
        status(PodPhase.RUNNING, [cs("app", RUN, ready=True)]),
        T0,
        PodRow("1/1", "Terminating", "0"),
    ),
    (
        "deleting a terminal pod keeps its status",
        spec(),
        status(PodPhase.SUCCEEDED, [cs("app", term(0))]),
        T0,
        PodRow("0/1", "Completed", "0"),
    ),
    (
        "completed with another running and Ready is Running",
        spec("a", "b"),
        status(PodPhase.RUNNING, [cs("a", RUN, ready=True), cs("b", term(0))], ready=True),
        None,
        PodRow("1/2", "Running", "0"),
    ),
    (
        "completed with another running, pod not Ready is NotReady",
        spec("a", "b"),
        status(PodPhase.RUNNING, [cs("a", RUN, ready=True), cs("b", term(0))]),
        None,
        PodRow("1/2", "NotReady", "0"),
    ),
    (
        "crash loop with restarts ago",
        spec(),
        status(
            PodPhase.RUNNING,
            [waiting("app", "CrashLoopBackOff", restarts=5, last=term(1, at=T0 + 480))],
        ),
        None,
        PodRow("0/1", "CrashLoopBackOff", "5 (2m ago)"),
    ),
    (
        "init progress",
        spec(init=("i1", "i2")),
        status(
            PodPhase.PENDING,
            [waiting("app", "PodInitializing")],
            [exited("i1"), running("i2")],
        ),
        None,
        PodRow("0/1", "Init:1/2", "0"),
    ),
    (
        "init waiting PodInitializing counts as progress",
        spec(init=("i1",)),
        status(
            PodPhase.PENDING,
            [waiting("app", "PodInitializing")],
            [waiting("i1", "PodInitializing")],
        ),
        None,
        PodRow("0/1", "Init:0/1", "0"),
    ),
    (
        "init error",
        spec(init=("i1",)),
        status(PodPhase.FAILED, [waiting("app", "PodInitializing")], [exited("i1", 1)]),
        None,
        PodRow("0/1", "Init:Error", "0"),
    ),
    (
        "init exit code without reason",
        spec(init=("i1",)),
        status(PodPhase.PENDING, [waiting("app", "PodInitializing")], [cs("i1", Terminated(3))]),
        None,
        PodRow("0/1", "Init:ExitCode:3", "0"),
    ),
    (
        "init signal without reason",
        spec(init=("i1",)),
        status(
            PodPhase.PENDING,
            [waiting("app", "PodInitializing")],
            [cs("i1", Terminated(137, signal=9))],
        ),
        None,
        PodRow("0/1", "Init:Signal:9", "0"),
    ),
    (
        "init crash loop with restarts",
        spec(init=("i1",)),
        status(
            PodPhase.PENDING,
            [waiting("app", "PodInitializing")],
            [waiting("i1", "CrashLoopBackOff", restarts=2, last=term(1, at=T0 + 590))],
        ),
        None,
        PodRow("0/1", "Init:CrashLoopBackOff", "2 (10s ago)"),
    ),
    (
        "sidecar started counts as ready and in total",
        spec(init=("s",), sidecars=("s",)),
        status(
            PodPhase.RUNNING,
            [running("app")],
            [running("s", restarts=1, last=term(1, at=T0))],
            initialized=True,
        ),
        None,
        PodRow("2/2", "Running", "1 (10m ago)"),
    ),
    (
        "sidecar not yet started",
        spec(init=("s",), sidecars=("s",)),
        status(
            PodPhase.PENDING,
            [waiting("app", "PodInitializing")],
            [running("s", started=False, ready=False)],
        ),
        None,
        PodRow("0/2", "Init:0/1", "0"),
    ),
    (
        "restarts of init containers are dropped once initialised",
        spec(init=("i",)),
        status(
            PodPhase.RUNNING, [running("app")], [cs("i", term(0), restarts=4)], initialized=True
        ),
        None,
        PodRow("1/1", "Running", "0"),
    ),
    (
        "status reason wins",
        spec(),
        status(PodPhase.FAILED, [cs("app", Terminated(137, "Error"))], reason="DeadlineExceeded"),
        None,
        PodRow("0/1", "Error", "0"),
    ),
    (
        "status reason shown while containers say nothing",
        spec(),
        status(PodPhase.FAILED, [cs("app", RUN)], reason="DeadlineExceeded"),
        None,
        PodRow("0/1", "DeadlineExceeded", "0"),
    ),
]


@pytest.mark.parametrize(
    ("spec_", "status_", "deleted", "row"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_print_pod(spec_: PodSpec, status_: PodStatus, deleted: float | None, row: PodRow) -> None:
    assert print_pod(spec_, status_, deletion_time=deleted, now=NOW) == row


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (-3, "<invalid>"),
        (-1, "0s"),
        (1, "1s"),
        (70, "70s"),
        (190, "3m10s"),
        (600, "10m"),
        (70 * 60, "70m"),
        (3 * 3600, "3h"),
        (3 * 3600 + 600, "3h10m"),
        (47 * 3600, "47h"),
        (49 * 3600, "2d1h"),
        ((8 * 24 + 2) * 3600, "8d"),
        (367 * 24 * 3600, "367d"),
        ((365 * 2 * 24 + 25) * 3600, "2y1d"),
        ((365 * 8 * 24 + 2) * 3600, "8y"),
    ],
)
def test_human_duration(seconds: float, text: str) -> None:
    assert human_duration(seconds) == text
