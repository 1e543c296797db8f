"""getPhase against pod-lifecycle.md §2 and the kubelet's rule, including sidecars."""

from __future__ import annotations

import pytest

from simpod.core.model import ContainerStatus, PodPhase, PodSpec
from simpod.core.phase import get_phase
from tests.unit.core.builders import exited, running, spec, term, waiting

P = PodPhase
CASES: list[tuple[str, PodSpec, list[ContainerStatus], list[ContainerStatus], PodPhase]] = [
    ("creating", spec(), [], [waiting("app")], P.PENDING),
    ("running", spec(), [], [running("app")], P.RUNNING),
    ("one running one waiting", spec("a", "b"), [], [running("a"), waiting("b")], P.PENDING),
    (
        "crashloop keeps Running",
        spec(),
        [],
        [waiting("app", "CrashLoopBackOff", restarts=3, last=term(1))],
        P.RUNNING,
    ),
    ("Always, all exited 0 is Running", spec(), [], [exited("app", 0)], P.RUNNING),
    ("Always, all exited 1 is Running", spec(), [], [exited("app", 1)], P.RUNNING),
    ("OnFailure, exit 0 Succeeded", spec(policy="OnFailure"), [], [exited("app")], P.SUCCEEDED),
    ("OnFailure, exit 1 Running", spec(policy="OnFailure"), [], [exited("app", 1)], P.RUNNING),
    ("Never, exit 0 Succeeded", spec(policy="Never"), [], [exited("app")], P.SUCCEEDED),
    ("Never, exit 1 Failed", spec(policy="Never"), [], [exited("app", 1)], P.FAILED),
    (
        "Never, one fails one runs",
        spec("a", "b", policy="Never"),
        [],
        [exited("a", 1), running("b")],
        P.RUNNING,
    ),
    (
        "Never, mixed exits Failed",
        spec("a", "b", policy="Never"),
        [],
        [exited("a", 0), exited("b", 137, reason="Error")],
        P.FAILED,
    ),
    (
        "init running is Pending",
        spec(init=("i",)),
        [running("i")],
        [waiting("app", "PodInitializing")],
        P.PENDING,
    ),
    (
        "init failed with Never is Failed",
        spec(init=("i",), policy="Never"),
        [exited("i", 1)],
        [waiting("app", "PodInitializing")],
        P.FAILED,
    ),
    (
        "init failed with OnFailure is Pending",
        spec(init=("i",), policy="OnFailure"),
        [waiting("i", "CrashLoopBackOff", last=term(1))],
        [waiting("app", "PodInitializing")],
        P.PENDING,
    ),
    (
        "init done, app running",
        spec(init=("i",)),
        [exited("i")],
        [running("app")],
        P.RUNNING,
    ),
    (
        "sidecar not started keeps Pending",
        spec(init=("s",), sidecars=("s",)),
        [running("s", started=False, ready=False)],
        [waiting("app", "PodInitializing")],
        P.PENDING,
    ),
    (
        "sidecar running does not block Succeeded once stopped",
        spec(init=("s",), sidecars=("s",), policy="Never"),
        [exited("s", 143)],
        [exited("app", 0)],
        P.SUCCEEDED,
    ),
    (
        "sidecar running while app done is Running",
        spec(init=("s",), sidecars=("s",), policy="Never"),
        [running("s")],
        [exited("app", 0)],
        P.RUNNING,
    ),
    (
        "sidecar restarting after init stays Running",
        spec(init=("s",), sidecars=("s",)),
        [waiting("s", "CrashLoopBackOff", last=term(1))],
        [running("app")],
        P.RUNNING,
    ),
    (
        "sidecar failing with Never does not fail the pod",
        spec(init=("s", "i"), sidecars=("s",), policy="Never"),
        [waiting("s", "CrashLoopBackOff", last=term(1)), running("i")],
        [waiting("app", "PodInitializing")],
        P.PENDING,
    ),
]


@pytest.mark.parametrize(
    ("spec_", "inits", "apps", "expected"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_get_phase(
    spec_: PodSpec, inits: list[ContainerStatus], apps: list[ContainerStatus], expected: PodPhase
) -> None:
    assert get_phase(spec_, inits, apps) is expected


@pytest.mark.parametrize(
    ("apps", "expected"),
    [
        ([exited("app", 0)], P.SUCCEEDED),
        ([exited("app", 143)], P.FAILED),
        ([exited("app", 137, reason="Error")], P.FAILED),
    ],
    ids=["all exit 0", "TERM", "KILL"],
)
def test_terminal_phase_on_deletion(apps: list[ContainerStatus], expected: PodPhase) -> None:
    """On deletion an Always pod still ends Succeeded or Failed by its exit codes."""
    assert get_phase(spec(), [], apps, pod_is_terminal=True) is expected
