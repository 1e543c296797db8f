"""Conditions and their reasons/messages as pkg/kubelet/status/generate.go words them."""

from __future__ import annotations

from simpod.core.conditions import (
    containers_ready_condition,
    initialized_condition,
    pod_conditions,
    ready_condition,
)
from simpod.core.model import Condition, ConditionStatus, PodPhase
from tests.unit.core.builders import exited, running, spec, waiting

F, T = ConditionStatus.FALSE, ConditionStatus.TRUE


def test_initialized_lists_incomplete_init_containers() -> None:
    s = spec(init=("a", "b", "c"))
    inits = [exited("a"), running("b"), waiting("c", "PodInitializing")]
    c = initialized_condition(s, inits, [waiting("app", "PodInitializing")], PodPhase.PENDING)
    assert (c.status, c.reason, c.message) == (
        F,
        "ContainersNotInitialized",
        "containers with incomplete status: [b c]",
    )


def test_initialized_counts_unstarted_sidecar_as_incomplete() -> None:
    s = spec(init=("s",), sidecars=("s",))
    c = initialized_condition(s, [running("s", started=False)], [waiting("app")], PodPhase.PENDING)
    assert c.message == "containers with incomplete status: [s]"


def test_initialized_stays_true_while_sidecar_restarts() -> None:
    s = spec(init=("s",), sidecars=("s",))
    c = initialized_condition(
        s, [waiting("s", "CrashLoopBackOff")], [running("app")], PodPhase.RUNNING
    )
    assert c.status is T


def test_initialized_on_success_is_pod_completed() -> None:
    c = initialized_condition(spec(init=("i",)), [exited("i")], [exited("app")], PodPhase.SUCCEEDED)
    assert (c.status, c.reason) == (T, "PodCompleted")


def test_containers_ready_lists_unready_including_sidecars() -> None:
    s = spec("a", "b", init=("s",), sidecars=("s",))
    c = containers_ready_condition(
        s, [running("s", ready=False)], [running("a"), running("b", ready=False)], PodPhase.RUNNING
    )
    assert (c.status, c.reason, c.message) == (
        F,
        "ContainersNotReady",
        "containers with unready status: [s b]",
    )


def test_terminal_pods_are_completed_or_failed() -> None:
    ok = containers_ready_condition(spec(), [], [exited("app")], PodPhase.SUCCEEDED)
    bad = containers_ready_condition(spec(), [], [exited("app", 1)], PodPhase.FAILED)
    assert (ok.reason, bad.reason) == ("PodCompleted", "PodFailed")
    assert ready_condition(spec(), bad, []).reason == "PodFailed"


def test_readiness_gates() -> None:
    s = spec(gates=("example.com/a", "example.com/b"))
    cr = containers_ready_condition(s, [], [running("app")], PodPhase.RUNNING)
    others = [Condition("example.com/b", F)]
    c = ready_condition(s, cr, others)
    assert (c.status, c.reason) == (F, "ReadinessGatesNotReady")
    assert c.message == (
        'corresponding condition of pod readiness gate "example.com/a" does not exist., '
        'the status of pod readiness gate "example.com/b" is not "True", but False'
    )
    both = [Condition("example.com/a", T), Condition("example.com/b", T)]
    assert ready_condition(s, cr, both).status is T


def test_transition_time_moves_only_with_status() -> None:
    s = spec()
    first = pod_conditions(
        s,
        [],
        [running("app", ready=False)],
        PodPhase.RUNNING,
        sandbox_ready=True,
        previous=(),
        gates=(),
        now=10,
    )
    assert [c.type for c in first] == [
        "PodReadyToStartContainers",
        "Initialized",
        "Ready",
        "ContainersReady",
        "PodScheduled",
    ]
    same = pod_conditions(
        s,
        [],
        [running("app", ready=False)],
        PodPhase.RUNNING,
        sandbox_ready=True,
        previous=first,
        gates=(),
        now=20,
    )
    assert same == first
    ready = pod_conditions(
        s,
        [],
        [running("app")],
        PodPhase.RUNNING,
        sandbox_ready=True,
        previous=first,
        gates=(),
        now=30,
    )
    by_type = {c.type: c for c in ready}
    assert by_type["Ready"].last_transition_time == 30
    assert by_type["Initialized"].last_transition_time == 10


def test_foreign_conditions_are_kept() -> None:
    gate = Condition("example.com/gate", T, last_transition_time=5)
    out = pod_conditions(
        spec(),
        [],
        [running("app")],
        PodPhase.RUNNING,
        sandbox_ready=True,
        previous=(gate,),
        gates=(gate,),
        now=9,
    )
    assert out[-1] == gate
