"""Scenario tests of sync_pod: whole lifecycles on an in-memory node, seconds of kubelet time
in microseconds of test time."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from simpod.core.display import PodRow
from simpod.core.kubelet import (
    CREATE_SECONDS,
    SANDBOX_SECONDS,
    SYNC_AFTER_RELIST_SECONDS,
    KubeletSettings,
    PodBook,
    status_document,
    sync_pod,
)
from simpod.core.model import (
    Condition,
    ConditionStatus,
    PodPhase,
    PodStatus,
    ProbeKind,
    Running,
    Terminated,
    Waiting,
)
from simpod.core.runtime import (
    Instance,
    InstanceState,
    KillContainer,
    KillReason,
    ResetPod,
    StartContainer,
)
from simpod.core.serialize import parse_status, status_to_dict
from simpod.core.ticker import Ticker, Tickers
from tests.unit.core.builders import T0, pod
from tests.unit.core.harness import Node

P = PodPhase
EXEC = {"exec": {"command": ["true"]}}


def app(name: str = "app", **fields: Any) -> dict[str, Any]:
    return {"name": name, "image": "busybox", **fields}


def started_names(node: Node) -> list[str]:
    return [e.field_path.split("{")[1].rstrip("}") for e in node.events if e.reason == "Started"]


def test_simple_pod_runs_and_is_ready() -> None:
    node = Node(pod([app()]))
    node.settle()
    assert node.status.phase is P.RUNNING
    assert node.condition("Ready") == ("True", "", "")
    assert node.reasons() == ["Created", "Started"]
    assert node.row() == PodRow("1/1", "Running", "0")
    assert node.status.start_time == T0  # admitted then; the container started with its sandbox
    assert node.instances["app"].started_at == T0 + SANDBOX_SECONDS
    assert node.sync().actions == () and node.sync().events == ()  # idempotent


def test_crash_loop_backoff_keeps_running_and_waits_10s_then_20s() -> None:
    """As kubelet 1.35 on a real node: the sync that refuses the restart wrote its status
    before refusing, and the next sync is when the back-off ends, so the container shows
    terminated (STATUS Error) until then; CrashLoopBackOff shows in that last sync's status."""
    node = Node(pod([app()]))
    node.settle()
    node.advance(1)
    node.exit("app", 1)
    d = node.sync()  # the first restart is immediate
    assert [type(a) for a in d.actions] == [StartContainer]
    node.sync()
    cs = node.status.container_statuses[0]
    assert (cs.restart_count, cs.last_state is not None, isinstance(cs.state, Running)) == (
        1,
        True,
        True,
    )

    node.advance(1)
    node.exit("app", 1)
    d = node.sync()
    cs = node.status.container_statuses[0]
    assert isinstance(cs.state, Terminated) and cs.state.exit_code == 1
    assert node.status.phase is P.RUNNING
    # requeued for the back-off's end, jittered by up to half again (wait.Jitter)
    assert d.wake_at is not None and node.now + 10 <= d.wake_at <= node.now + 15
    restart_at = d.wake_at
    assert node.events[-1].message == "Back-off restarting failed container app in pod p_ns(u1)"
    assert node.row().status == "Error"
    assert node.row().restarts == "1 (1s ago)"  # kubectl: the lastState's finish

    node.advance(5)
    assert node.sync().actions == ()  # still backing off, no second BackOff event
    assert node.events[-1].reason == "BackOff" and node.reasons().count("BackOff") == 1
    node.advance(restart_at - node.now - 0.1)
    assert node.sync().actions == ()  # the back-off is over, but the pod is not synced yet
    node.advance(0.1)
    node.sync()
    assert node.instances["app"].attempt == 2
    cs = node.status.container_statuses[0]
    assert cs.state == Waiting(
        "CrashLoopBackOff", "back-off 10s restarting failed container=app pod=p_ns(u1)"
    )
    assert isinstance(cs.last_state, Terminated) and cs.last_state.exit_code == 1
    node.advance(1)
    node.exit("app", 1)
    wake = node.sync().wake_at
    assert wake is not None and node.now + 20 <= wake <= node.now + 30


def test_restart_policies() -> None:
    for policy, code, phase, display in [
        ("OnFailure", 0, P.SUCCEEDED, "Completed"),
        ("Never", 0, P.SUCCEEDED, "Completed"),
        ("Never", 2, P.FAILED, "Error"),
        ("Always", 0, P.RUNNING, "Running"),
    ]:
        node = Node(pod([app()], restartPolicy=policy))
        node.settle()
        node.advance(3)
        node.exit("app", code)
        node.settle()
        if phase.terminal:
            # the conditions turn at once; the phase waits for the sandbox teardown
            reason = "PodCompleted" if phase is P.SUCCEEDED else "PodFailed"
            assert node.status.phase is P.RUNNING
            assert node.condition("Ready") == ("False", reason, "")
            assert node.condition("PodReadyToStartContainers")[0] == "True"
            node.teardown()
        assert node.status.phase is phase, policy
        if phase.terminal:
            assert node.row().status == display
            assert node.condition("Ready") == ("False", reason, "")
            assert node.condition("PodReadyToStartContainers")[0] == "False"


def test_last_state_goes_with_the_older_dead_container() -> None:
    """OnFailure: a failed then successful container keeps lastState until the relist
    after the one that saw the success (the kubelet keeps one dead container a name)."""
    node = Node(pod([app()], restartPolicy="OnFailure"))
    node.settle()
    node.advance(2)
    node.exit("app", 2)
    node.settle()
    node.advance(2)
    node.exit("app", 0)
    node.settle()
    cs = node.status.container_statuses[0]
    assert isinstance(cs.state, Terminated) and cs.state.exit_code == 0
    assert isinstance(cs.last_state, Terminated) and cs.last_state.exit_code == 2
    node.teardown()
    node.advance(1)
    node.settle()
    cs = node.status.container_statuses[0]
    assert cs.restart_count == 1 and cs.last_state is None


def test_init_containers_run_in_order() -> None:
    node = Node(pod([app()], init=[app("i1"), app("i2")]))
    node.settle()
    assert set(node.instances) == {"i1"}
    assert node.row().status == "Init:0/2"
    assert node.status.phase is P.PENDING
    assert node.condition("Initialized") == (
        "False",
        "ContainersNotInitialized",
        "containers with incomplete status: [i1 i2]",
    )
    assert node.status.container_statuses[0].state == Waiting("PodInitializing")
    node.exit("i1")
    node.settle()
    assert node.row().status == "Init:1/2"
    node.exit("i2")
    node.settle()
    assert node.status.phase is P.RUNNING
    assert started_names(node) == ["i1", "i2", "app"]
    assert node.row().status == "Running"


def test_init_failure_with_never_fails_the_pod() -> None:
    node = Node(pod([app()], init=[app("i1")], restartPolicy="Never"))
    node.settle()
    node.exit("i1", 1)
    node.settle()
    node.teardown()
    assert node.status.phase is P.FAILED
    assert "app" not in node.instances
    assert node.row().status == "Init:Error"


def test_init_failure_otherwise_restarts_only_that_container() -> None:
    node = Node(pod([app()], init=[app("i1"), app("i2")], restartPolicy="Always"))
    node.settle()
    node.exit("i1", 1)
    node.settle()
    assert node.instances["i1"].attempt == 1 and "i2" not in node.instances
    node.advance(1)
    node.exit("i1", 1)
    node.sync()
    assert node.row().status == "Init:Error"  # CrashLoopBackOff shows as the back-off ends
    node.advance(15)
    node.sync()
    assert node.row().status == "Init:CrashLoopBackOff"
    assert node.status.phase is P.PENDING


def sidecar(name: str, **fields: Any) -> dict[str, Any]:
    return app(name, restartPolicy="Always", **fields)


def test_sidecar_must_start_before_the_next_init_container() -> None:
    node = Node(
        pod(
            [app()],
            init=[sidecar("s", startupProbe={**EXEC, "periodSeconds": 2}), app("i")],
            restartPolicy="Never",
        )
    )
    node.settle()
    assert set(node.instances) == {"s"} and not node.probes  # first tick: nothing running yet
    node.advance(2)
    node.settle()
    assert [p.kind for p in node.probes] == [ProbeKind.STARTUP]
    assert node.status.init_container_statuses[0].started is False
    node.answer("s", ProbeKind.STARTUP, True)
    assert node.status.init_container_statuses[0].started is True  # shown at once...
    assert set(node.instances) == {"s"}  # ...acted on by the sync after the next relist
    node.advance(1 + SYNC_AFTER_RELIST_SECONDS)
    node.settle()
    assert set(node.instances) == {"s", "i"}
    node.exit("i")
    node.settle()
    assert node.status.phase is P.RUNNING
    assert node.row().ready == "2/2"
    node.exit("app", 0)
    node.settle()  # app done: the sidecar is stopped and does not block Succeeded
    assert node.kills[-1].container.name == "s"
    node.teardown()
    assert node.status.phase is P.SUCCEEDED


def test_a_sidecars_startup_initializes_the_pod_at_the_sync_that_acts_on_it() -> None:
    """sidecar-startup on a real node: the status manager writes the sidecar's ``started``
    as its startup probe passes; Initialized comes with the sync after the next relist."""
    node = Node(pod([app()], init=[sidecar("s", startupProbe={**EXEC, "periodSeconds": 2})]))
    node.settle()
    node.advance(2)
    node.settle()
    node.answer("s", ProbeKind.STARTUP, True)
    assert node.status.init_container_statuses[0].started is True
    assert node.condition("Initialized")[0] == "False"
    node.advance(1 + SYNC_AFTER_RELIST_SECONDS)
    node.settle()
    assert node.condition("Initialized") == ("True", "", "")
    assert set(node.instances) == {"s", "app"}


def test_sidecar_restarts_whenever_it_exits() -> None:
    node = Node(pod([app()], init=[sidecar("s")]))
    node.settle()
    node.exit("s", 0)
    node.settle()
    assert node.instances["s"].attempt == 1
    assert node.status.phase is P.RUNNING
    assert node.condition("Initialized")[0] == "True"


def test_liveness_kills_restart_at_once_unless_an_earlier_exit_was_recent() -> None:
    """The kubelet checks the crash-loop window against the exit before the killed one."""
    probe = {**EXEC, "failureThreshold": 1, "periodSeconds": 1}
    node = Node(pod([app(livenessProbe=probe)]))
    node.settle()
    for attempt in (1, 2):
        node.advance(1)
        node.settle()
        node.answer("app", ProbeKind.LIVENESS, False)
        node.settle()
        assert node.instances["app"].attempt == attempt  # restarted at once, no back-off
    node.advance(1)
    node.settle()
    node.answer("app", ProbeKind.LIVENESS, False)
    node.settle()
    assert node.instances["app"].attempt == 2  # the previous exit was 1 s ago: back-off
    assert node.reasons()[-1] == "BackOff"


def test_sidecar_is_not_restarted_once_the_app_containers_are_done() -> None:
    node = Node(pod([app()], init=[sidecar("s")], restartPolicy="Never"))
    node.settle()
    node.exit("app", 0)
    node.settle()
    assert node.instances["s"].attempt == 0
    assert node.status.init_container_statuses[0].restart_count == 0
    node.teardown()
    assert node.status.phase is P.SUCCEEDED


def test_a_completed_pods_sandbox_goes_with_the_sidecars_the_kubelet_stops() -> None:
    """Once the app is done the kubelet stops the sidecar and the sandbox in one go: the
    status that shows the sidecar stopped shows the sandbox down, the phase still held.
    With nothing to stop, the sandbox is shown up until the phase turns."""
    node = Node(pod([app()], init=[sidecar("s")], restartPolicy="Never"), kill_exits=False)
    node.settle()
    node.exit("app", 0)
    node.settle()
    assert [k.container.name for k in node.kills] == ["s"]
    node.exit("s", 0)
    node.sync()
    assert node.status.phase is P.RUNNING  # held until the terminating sync
    assert node.condition("PodReadyToStartContainers")[0] == "False"
    alone = Node(pod([app()], restartPolicy="Never"))
    alone.settle()
    alone.exit("app", 0)
    alone.settle()
    assert alone.status.phase is P.RUNNING
    assert alone.condition("PodReadyToStartContainers")[0] == "True"


def test_sidecars_stop_after_app_containers_in_reverse_order() -> None:
    node = Node(pod([app("a"), app("b")], init=[sidecar("s1"), sidecar("s2")]), kill_exits=False)
    node.settle()
    node.delete()
    node.sync()
    assert [k.container.name for k in node.kills] == ["a", "b"]
    node.exit("a", 143)
    node.sync()
    assert [k.container.name for k in node.kills] == ["a", "b"]  # b still running
    node.exit("b", 143)
    node.sync()
    assert [k.container.name for k in node.kills] == ["a", "b", "s2"]
    node.exit("s2", 143)
    node.sync()
    assert [k.container.name for k in node.kills] == ["a", "b", "s2", "s1"]
    node.exit("s1", 143)
    d = node.sync()  # stopped by the kubelet itself: the terminal status comes at once
    assert d.finished and node.status.phase is P.FAILED


def test_liveness_failure_kills_and_restarts() -> None:
    probe = {**EXEC, "failureThreshold": 2, "terminationGracePeriodSeconds": 4}
    node = Node(pod([app(livenessProbe=probe)], terminationGracePeriodSeconds=60))
    node.settle()
    node.advance(10)
    node.settle()
    assert node.probes[-1].kind is ProbeKind.LIVENESS
    node.answer("app", ProbeKind.LIVENESS, False, "boom")
    assert not node.kills
    d = node.answer("app", ProbeKind.LIVENESS, False, "boom")
    kill = node.kills[-1]
    assert (kill.reason, kill.grace_seconds) == (KillReason.LIVENESS_PROBE, 4)
    assert [(e.reason, e.message) for e in d.events] == [
        ("Unhealthy", "Liveness probe failed: boom"),
        ("Killing", "Container app failed liveness probe, will be restarted"),
    ]
    node.settle()
    assert node.instances["app"].attempt == 1
    assert node.status.container_statuses[0].restart_count == 1


def test_readiness_gates_ready_but_never_restarts() -> None:
    node = Node(pod([app(readinessProbe={**EXEC, "initialDelaySeconds": 5, "periodSeconds": 3})]))
    d = node.settle()
    assert node.condition("ContainersReady") == (
        "False",
        "ContainersNotReady",
        "containers with unready status: [app]",
    )
    # Shown running at once: a manual run now and at the sync after the next relist, both
    # held back by the 5 s delay, the ticker restarted from the last (every 3 s): the first
    # probe is at 7 (and the sync's latency after the relist).
    after_relist = 1 + SYNC_AFTER_RELIST_SECONDS
    assert d.wake_at == pytest.approx(T0 + after_relist, abs=1e-6) and not node.probes
    node.at(after_relist)
    assert node.sync().wake_at == pytest.approx(node.now + 6, abs=1e-6) and not node.probes
    node.advance(6)
    d = node.sync()
    assert [p.kind for p in node.probes] == [ProbeKind.READINESS]
    assert d.wake_at == node.now + 3
    node.answer("app", ProbeKind.READINESS, True)
    assert node.condition("Ready")[0] == "True"
    for _ in range(5):
        node.answer("app", ProbeKind.READINESS, False, "nope")
    assert node.condition("Ready")[0] == "False" and not node.kills


def test_a_slow_readiness_probe_holds_the_triggers_until_its_outcome() -> None:
    """A grpc probe against a closed port lasts its whole timeout: the kubelet's worker runs
    one probe at a time, so the trigger at the next relist waits for the outcome, then
    runs at once (prober worker.go: the trigger channel holds it)."""
    probe = {**EXEC, "periodSeconds": 5, "timeoutSeconds": 3}
    node = Node(pod([app(readinessProbe=probe)]))
    node.settle()
    assert len(node.probes) == 1  # the manual run when the status first shows it running
    node.advance(1)
    d = node.sync()
    assert len(node.probes) == 1 and d.wake_at == node.now + 2  # held: one in flight
    node.advance(1.5)
    node.answer("app", ProbeKind.READINESS, False, "timeout")
    assert len(node.probes) == 2  # the held trigger, as soon as the worker is free
    node.answer("app", ProbeKind.READINESS, False, "timeout")
    assert len(node.probes) == 2  # nothing else held: the ticker's next tick is 5 s away


def test_startup_probe_gates_liveness_and_readiness() -> None:
    node = Node(pod([app(startupProbe=EXEC, livenessProbe=EXEC, readinessProbe=EXEC)]))
    node.settle()
    node.advance(10)
    node.settle()
    assert [p.kind for p in node.probes] == [ProbeKind.STARTUP]
    node.answer("app", ProbeKind.STARTUP, True)
    assert node.status.container_statuses[0].started is True
    node.advance(1 + SYNC_AFTER_RELIST_SECONDS)  # the sync that acts on it
    node.settle()
    assert {p.kind for p in node.probes[1:]} == {ProbeKind.READINESS}  # its manual run
    node.advance(10)  # liveness: at its ticker's next tick
    node.settle()
    assert ProbeKind.LIVENESS in {p.kind for p in node.probes[2:]}


def test_a_startup_failure_is_acted_on_after_a_relist_newer_than_the_first_results_sync() -> None:
    """The worker's first result (its initial one) syncs the pod at the next relist; the
    failure's sync then waits for the relist after (pod workers' GetNewerThan)."""
    late = Tickers(relist=Ticker(phase=0.7))
    probe = {**EXEC, "periodSeconds": 1, "failureThreshold": 2}
    node = Node(pod([app(startupProbe=probe)], restartPolicy="Always"), tickers=late)
    node.settle()
    node.at(1)
    node.settle()
    assert [p.kind for p in node.probes] == [ProbeKind.STARTUP]  # its first sync at 1.7
    node.answer("app", ProbeKind.STARTUP, False, "no")
    node.at(2)
    node.settle()
    d = node.answer("app", ProbeKind.STARTUP, False, "no")  # tripped at 2: not yet
    assert not node.kills
    assert d.wake_at == pytest.approx(node.now + 0.7 + SYNC_AFTER_RELIST_SECONDS, abs=1e-6)
    node.advance(0.7 + SYNC_AFTER_RELIST_SECONDS)
    node.settle()
    assert [k.reason for k in node.kills] == [KillReason.STARTUP_PROBE]


def test_with_a_readiness_probe_too_the_first_results_make_one_sync() -> None:
    """startup-delayed at -v=4 on a real node, six runs: the startup and readiness workers'
    first results came in one sync-loop pass and synced the pod once, at the next relist;
    a startup success after that relist is acted on at once."""
    late = Tickers(relist=Ticker(phase=0.5))
    startup = {**EXEC, "periodSeconds": 1, "failureThreshold": 10}
    spec = pod([app(startupProbe=startup, readinessProbe={**EXEC, "periodSeconds": 1})])
    node = Node(spec, tickers=late)
    node.settle()
    node.at(1)
    node.settle()  # first probe at 1: the first results' sync at 1.5
    node.answer("app", ProbeKind.STARTUP, False, "no")
    node.at(2.8)
    node.answer("app", ProbeKind.STARTUP, True)  # after the relist at 2.5: at once
    assert node.status.container_statuses[0].started is True
    assert any(p.kind is ProbeKind.READINESS for p in node.probes)


def test_a_liveness_failure_soon_after_a_sync_waits_for_a_newer_relist() -> None:
    """liveness-tcp-crashloop on a real node: the relist that shows the new container
    syncs the pod; a failure a moment later is acted on at the next relist, not at once."""
    half = Tickers(relist=Ticker(phase=0.5))
    probe = {"tcpSocket": {"port": 80}, "periodSeconds": 1, "failureThreshold": 1}
    node = Node(pod([app(livenessProbe=probe)], restartPolicy="Always"), tickers=half)
    node.settle()
    node.at(0.5)
    node.sync(relist_news=True)  # the relist shows it running: a PLEG event, a sync
    node.advance(0.5)
    node.settle()
    d = node.answer("app", ProbeKind.LIVENESS, False, "refused")
    assert not node.kills
    assert d.wake_at == pytest.approx(node.now + 0.5 + SYNC_AFTER_RELIST_SECONDS, abs=1e-6)
    node.advance(0.5 + SYNC_AFTER_RELIST_SECONDS)
    node.settle()
    assert [k.reason for k in node.kills] == [KillReason.LIVENESS_PROBE]


def test_a_startup_success_shows_started_until_its_sync_acts() -> None:
    """The status shows ``started`` as the result comes in (SetContainerStartup); the sync
    it triggers writes what follows: here, Ready (no readiness probe). That sync waits for a
    relist newer than the one the worker's first result synced the pod at."""
    node = Node(pod([app(startupProbe=EXEC)]))
    node.settle()
    node.at(10)
    node.settle()  # the first probe: its initial result syncs the pod at the next relist
    d = node.answer("app", ProbeKind.STARTUP, True)  # before that sync: it acts on this
    status = d.status.container_statuses[0]
    assert (status.started, status.ready) == (True, False)
    assert d.wake_at == pytest.approx(node.now + 1 + SYNC_AFTER_RELIST_SECONDS, abs=1e-6)
    node.advance(1 + SYNC_AFTER_RELIST_SECONDS)
    d = node.settle()
    assert d.status.container_statuses[0].ready is True


def test_deletion_uses_grace_and_ends_terminal() -> None:
    node = Node(pod([app()], terminationGracePeriodSeconds=20), kill_exits=False)
    node.settle()
    node.advance(2)
    node.delete()
    d = node.sync()
    assert [(k.container.name, k.grace_seconds) for k in node.kills] == [("app", 20)]
    assert node.events[-1].message == "Stopping container app"
    assert node.row().status == "Terminating" and not d.finished
    node.advance(3)
    node.sync()
    assert len(node.kills) == 1  # once
    node.exit("app", 0)
    d = node.sync()
    assert d.finished and node.status.phase is P.SUCCEEDED


def test_deletion_grace_override_and_remaining_grace() -> None:
    node = Node(pod([app("a"), app("b")]), kill_exits=False)
    node.settle()
    node.delete(**{"simpod.dev/grace-period-seconds": "5"})
    node.sync()
    assert {k.grace_seconds for k in node.kills} == {5}
    assert node.book.grace_deadline == node.now + 5


def test_active_deadline_fails_the_pod() -> None:
    node = Node(pod([app()], activeDeadlineSeconds=30, restartPolicy="Always"))
    d = node.settle()
    assert d.wake_at == T0 + 30
    node.advance(30)
    node.settle()
    assert node.status.phase is P.RUNNING and not node.status.reason  # held: teardown
    assert node.condition("Ready")[1] == "PodFailed"
    node.teardown()
    assert node.status.phase is P.FAILED
    assert (node.status.reason, node.status.message) == (
        "DeadlineExceeded",
        "Pod was active on the node longer than the specified deadline",
    )
    assert "DeadlineExceeded" in node.reasons()
    # kubectl shows a terminated container's reason before status.reason
    assert node.row().status == "Error"
    assert node.instances["app"].state is InstanceState.EXITED


def test_the_sync_loop_notices_the_deadline_at_its_next_tick() -> None:
    """kubelet.go getPodsToSync: the active deadline handler asks for a sync, which the
    sync loop makes at its one-second tick, whose phase is the node's own."""
    late = Tickers(sync=Ticker(phase=0.4))
    node = Node(pod([app()], activeDeadlineSeconds=3, restartPolicy="Always"), tickers=late)
    d = node.settle()
    assert d.wake_at == T0 + 3.4
    node.now = T0 + 3.2  # a relist finding nothing new: the pod is not synced for it
    node.settle()
    assert node.condition("Ready")[1] != "PodFailed"
    node.now = T0 + 3.4
    node.settle()
    assert node.condition("Ready")[1] == "PodFailed"


def test_the_deadline_sync_waits_for_a_relist_newer_than_the_last_sync() -> None:
    """The sync the sync loop asks for reads the pod cache with GetNewerThan(last sync):
    when a PLEG event synced the pod after the last relist, it waits for the next one
    (deadline-during-init on a real node: DeadlineExceeded at the relist, not the tick)."""
    ticks = Tickers(relist=Ticker(phase=0.9), sync=Ticker(phase=0.2))
    node = Node(pod([app()], activeDeadlineSeconds=3, restartPolicy="Always"), tickers=ticks)
    node.settle()
    node.now = T0 + 2.92
    node.sync(relist_news=True)  # a PLEG event just before the deadline
    node.settle()
    node.now = T0 + 3.2  # the sync loop's tick: its sync waits for the relist at 3.9
    node.settle()
    assert node.condition("Ready")[1] != "PodFailed"
    node.now = T0 + 3.9 + SYNC_AFTER_RELIST_SECONDS
    node.settle()
    assert node.condition("Ready")[1] == "PodFailed"


def test_a_late_worker_stops_a_deadline_pod_at_the_relist_after_the_sync_as_due() -> None:
    """A relist 14 ms after the sync loop's tick (deadline-during-init on a real node):
    the terminating sync comes at that relist, even when this worker ran the deadline's
    sync after it."""
    ticks = Tickers(relist=Ticker(phase=0.881), sync=Ticker(phase=0.867))
    node = Node(pod([app()], activeDeadlineSeconds=3, restartPolicy="Always"), tickers=ticks)
    node.settle()
    node.now = T0 + 3.867 + 0.03
    node.settle()
    assert node.condition("Ready")[1] == "PodFailed"
    assert node.book.terminating_at == pytest.approx(T0 + 3.881, abs=1e-6)


def test_a_queued_sync_past_the_deadline_fails_the_pod() -> None:
    """Any sync of the pod checks the deadline: a queued one too."""
    ticks = Tickers(relist=Ticker(phase=0.9), sync=Ticker(phase=0.2))
    node = Node(pod([app()], activeDeadlineSeconds=3, restartPolicy="Always"), tickers=ticks)
    node.settle()
    node.book = replace(node.book, pending_sync_at=T0 + 3.9 + SYNC_AFTER_RELIST_SECONDS)
    node.now = T0 + 3.9 + SYNC_AFTER_RELIST_SECONDS
    node.settle()
    assert node.condition("Ready")[1] == "PodFailed"


def test_a_late_worker_with_news_stops_a_deadline_pod_after_the_sync_loops_sync() -> None:
    """The sync loop's sync found the deadline before the relist whose news this late
    worker syncs with it: the stop comes at that relist, not at the one after."""
    ticks = Tickers(relist=Ticker(phase=0.881), sync=Ticker(phase=0.867))
    node = Node(pod([app()], activeDeadlineSeconds=3, restartPolicy="Always"), tickers=ticks)
    node.settle()
    node.now = T0 + 3.881 + 0.03
    node.sync(relist_news=True)
    assert node.book.terminating_at == pytest.approx(T0 + 3.881, abs=1e-6)


def test_a_pleg_event_after_the_deadline_syncs_the_pod_before_the_sync_loop_does() -> None:
    late = Tickers(sync=Ticker(phase=0.4))
    node = Node(pod([app()], activeDeadlineSeconds=3, restartPolicy="Always"), tickers=late)
    node.settle()
    node.now = T0 + 3.2
    node.exit("app", 1)
    node.sync(relist_news=True)
    assert node.condition("Ready")[1] == "PodFailed"


def test_a_refusal_before_the_relist_shows_the_death_is_repeated_at_that_relist() -> None:
    """A probe-killed container is restarted in the killing sync, so a refusal can come
    before a relist showed it dead: that relist's sync (a PLEG event) refuses again and its
    status shows CrashLoopBackOff (liveness-tcp-crashloop on a real node)."""
    node = Node(pod([app()]))
    node.settle()
    node.at(1)
    node.exit("app", 1)
    node.settle()  # the first restart is immediate
    node.at(2)
    still = node.instances["app"]
    node.exit("app", 137)
    d = node.sync(shown={"app": still})
    assert node.reasons().count("BackOff") == 1
    assert d.wake_at == pytest.approx(T0 + 3, abs=1e-6)  # the next relist
    node.advance(1)
    node.sync()
    assert node.reasons().count("BackOff") == 2
    assert node.row().status == "CrashLoopBackOff"


def test_a_relist_during_the_first_sync_queues_one_sync_per_relist_with_news() -> None:
    """crashloop at -v=4 on a real node: a relist fell within the pod's first sync, so each
    later relist's news came while a sync waited and queued one more; the refusal is then
    repeated one relist after the exit, and that status shows CrashLoopBackOff."""
    node = Node(pod([app()]), tickers=Tickers(relist=Ticker(phase=0.1)))
    node.settle()  # admitted at 0: the relist at 0.1 comes during the first sync
    assert node.book.pending_sync_at == T0 + 1.1
    node.at(1.1)
    node.exit("app", 1)
    node.sync(relist_news=True)  # the queued sync, at a relist with news: one more queued
    node.settle()  # restarted at once
    assert node.book.pending_sync_at == T0 + 2.1
    node.at(2.1)
    node.exit("app", 1)
    d = node.sync(relist_news=True)  # refused, and one more sync queued for 3.1
    assert node.reasons().count("BackOff") == 1
    assert node.row().status == "Error"
    assert d.wake_at == pytest.approx(T0 + 3.1, abs=1e-6)
    node.at(3.1)
    node.sync()  # no news: the queued sync refuses again, and the chain ends
    assert node.reasons().count("BackOff") == 2
    assert node.row().status == "CrashLoopBackOff"
    assert node.book.pending_sync_at is None


def test_no_queued_sync_when_no_relist_comes_during_the_first_sync() -> None:
    node = Node(pod([app()]), tickers=Tickers(relist=Ticker(phase=0.5)))
    node.settle()
    assert node.book.pending_sync_at is None


def test_no_queued_sync_when_the_relist_comes_before_the_sandbox_is_made() -> None:
    """sidecar-restarts at -v=4 on a real node: a relist 0.1 s into a slow first sync (the
    sandbox not made yet) reported nothing, and no sync was queued."""
    node = Node(pod([app()]), tickers=Tickers(relist=Ticker(phase=0.05)))
    node.settle()
    assert node.book.pending_sync_at is None


def test_a_back_off_requeue_is_picked_up_at_the_sync_loops_tick() -> None:
    late = Tickers(sync=Ticker(phase=0.7))
    node = Node(pod([app()], restartPolicy="Always"), tickers=late)
    node.settle()
    for _ in range(2):  # the first exit restarts at once, the second is backed off
        node.advance(1)
        node.exit("app", 1)
        d = node.settle()
    assert "BackOff" in node.reasons()
    assert d.wake_at is not None
    assert (d.wake_at - late.sync.phase) % 1 == pytest.approx(0, abs=1e-6)


def test_changing_an_init_image_restarts_the_pod() -> None:
    node = Node(pod([app()], init=[app("i1")]))
    node.settle()
    node.exit("i1")
    node.settle()
    node.pod = pod([app()], init=[app("i1", image="busybox:2")])
    d = node.sync()
    assert d.events[0].reason == "SandboxChanged"
    assert any(isinstance(a, KillContainer) for a in d.actions)
    d = node.sync()
    assert isinstance(d.actions[0], ResetPod)
    assert [a.container.name for a in d.actions if isinstance(a, StartContainer)] == ["i1"]
    node.exit("i1")
    node.settle()
    assert node.instances["app"].attempt == 1
    assert node.status.phase is P.RUNNING


def test_failed_post_start_hook_kills_the_container() -> None:
    node = Node(pod([app()], restartPolicy="Never"))
    node.sync()
    node.instances["app"] = Instance(
        "app", 0, InstanceState.CREATED, started_at=node.now, post_start_error="hook said no"
    )
    d = node.sync()
    assert [(e.reason, e.message) for e in d.events] == [
        ("Started", "Container started"),
        ("FailedPostStartHook", "PostStartHook failed"),
        ("Killing", "FailedPostStartHook"),
    ]
    node.settle()
    node.teardown()
    assert node.status.phase is P.FAILED


def test_everything_survives_an_operator_restart() -> None:
    node = Node(pod([app()]))
    node.settle()
    for _ in range(3):
        node.advance(1)
        node.exit("app", 1)
        node.settle()
    d = node.decision
    assert d is not None and d.wake_at is not None
    stored = status_document(d.status, d.book)
    restored_status = parse_status(stored)
    restored_book = PodBook.from_dict(stored["sim"], settings=KubeletSettings())
    again = sync_pod(node.pod, restored_status, restored_book, node.instances, now=node.now)
    assert again.actions == () and again.events == ()
    assert again.wake_at == d.wake_at
    # As the API keeps them: timestamps in whole seconds.
    assert status_to_dict(again.status) == status_to_dict(node.status)


def test_runtime_waiting_reason_shows_until_the_container_can_be_created() -> None:
    """The kubelet's CreateContainerConfigError: waiting with the runtime's reason and one
    "Failed" Event per new reason, phase Pending, no restart counted."""
    node = Node(pod([app()]))
    node.sync()
    blocked = Instance(
        "app",
        0,
        InstanceState.CREATED,
        reason="CreateContainerConfigError",
        message='configmap "cfg" not found',
    )
    node.instances["app"] = blocked
    node.sync()
    node.sync()
    status = node.status.status_of("app")
    assert status is not None
    assert status.state == Waiting("CreateContainerConfigError", 'configmap "cfg" not found')
    assert status.restart_count == 0
    assert node.status.phase is P.PENDING
    failed = [e for e in node.events if e.reason == "Failed"]
    assert [e.message for e in failed] == ['Error: configmap "cfg" not found']
    node.instances["app"] = Instance("app", 0, InstanceState.RUNNING, started_at=node.now)
    node.sync()
    status = node.status.status_of("app")
    assert status is not None and isinstance(status.state, Running)


def test_a_new_pods_first_container_starts_once_its_sandbox_is_made() -> None:
    """The first sync makes the sandbox before it creates the first container: nothing to
    write until then (the first status comes with the start), the pod admitted already."""
    spec = pod([app()])
    first = sync_pod(spec, PodStatus(), PodBook(), {}, now=T0)
    assert first.hold and first.actions == () and first.events == ()
    assert first.wake_at == T0 + SANDBOX_SECONDS
    assert first.status.start_time == T0
    early = sync_pod(spec, first.status, first.book, {}, now=T0 + SANDBOX_SECONDS / 2)
    assert early.hold and early.actions == ()
    made = sync_pod(spec, early.status, early.book, {}, now=T0 + SANDBOX_SECONDS)
    assert not made.hold
    assert [type(a) for a in made.actions] == [StartContainer]
    assert made.status.start_time == T0
    # its process runs once the create and start calls are done
    start = made.actions[0]
    assert isinstance(start, StartContainer)
    assert start.starts_at == T0 + SANDBOX_SECONDS + CREATE_SECONDS


def test_a_readiness_gate_set_soon_after_a_sync_shows_in_ready_a_relist_later() -> None:
    """readiness-gate at -v=4 on a real node: the gate was set 10 ms after a sync (the one
    queued behind the first), and Ready followed at the next relist: the reconcile's sync
    waits for a relist newer than the last sync (pod workers' GetNewerThan)."""
    gate = "example.com/lb"
    node = Node(pod([app()], readinessGates=[{"conditionType": gate}]))
    node.settle()
    node.at(1)
    node.sync(relist_news=True)  # the relist shows the container running: a sync
    assert node.condition("Ready")[1] == "ReadinessGatesNotReady"
    node.at(1.01)
    conditions = (*node.status.conditions, Condition(gate, ConditionStatus.TRUE))
    node.status = replace(node.status, conditions=conditions)
    d = node.sync()
    assert node.condition("Ready")[1] == "ReadinessGatesNotReady"
    assert d.wake_at == pytest.approx(T0 + 2 + SYNC_AFTER_RELIST_SECONDS, abs=1e-6)
    node.at(2 + SYNC_AFTER_RELIST_SECONDS)
    node.sync()
    assert node.condition("Ready")[0] == "True"
    node.at(3.5)  # a gate set long after the last sync is acted on at once
    off = tuple(c for c in node.status.conditions if c.type != gate)
    node.status = replace(node.status, conditions=(*off, Condition(gate, ConditionStatus.FALSE)))
    node.sync()
    assert node.condition("Ready")[1] == "ReadinessGatesNotReady"


def test_a_deletion_soon_after_a_sync_is_acted_on_at_the_next_relist() -> None:
    """pod_workers.go: the terminating sync waits for a relist newer than the last sync
    ("this adds ~1s of latency on all transitions from sync to terminating"); the grace
    counts from that sync."""
    node = Node(pod([app()], terminationGracePeriodSeconds=5), kill_exits=False)
    node.settle()
    node.at(1)
    node.sync(relist_news=True)  # the relist shows it running: a sync
    node.at(1.5)
    node.delete()
    d = node.sync()
    assert not node.kills
    assert d.wake_at == pytest.approx(T0 + 2 + SYNC_AFTER_RELIST_SECONDS, abs=1e-6)
    node.at(2 + SYNC_AFTER_RELIST_SECONDS)
    node.sync()
    assert [k.container.name for k in node.kills] == ["app"]
    assert node.book.grace_deadline == pytest.approx(T0 + 7 + SYNC_AFTER_RELIST_SECONDS, abs=1e-6)
