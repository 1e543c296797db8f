"""Probe worker rules: initial results, thresholds, hold after a kill, timing, gating."""

from __future__ import annotations

import pytest

from simpod.core.model import ProbeKind, ProbeSpec
from simpod.core.probes import ProbeResult, ProbeWorker, failure_event_message, probe_runs

K, R = ProbeKind, ProbeResult


@pytest.mark.parametrize(
    ("kind", "initial"),
    [(K.READINESS, R.FAILURE), (K.LIVENESS, R.SUCCESS), (K.STARTUP, R.UNKNOWN)],
)
def test_initial_results(kind: ProbeKind, initial: ProbeResult) -> None:
    assert ProbeWorker.fresh(kind, 0).result is initial


def run(kind: ProbeKind, spec: ProbeSpec, outcomes: str) -> list[ProbeResult]:
    worker, results = ProbeWorker.fresh(kind, 0), []
    for o in outcomes:
        worker = worker.record(spec, o == "+", issued_at=0)
        results.append(worker.result)
    return results


def test_readiness_thresholds() -> None:
    spec = ProbeSpec(success_threshold=2, failure_threshold=2)
    S, F = R.SUCCESS, R.FAILURE
    assert run(K.READINESS, spec, "+-++--+") == [F, F, F, S, S, F, F]


def test_liveness_trips_after_failure_threshold_and_holds() -> None:
    spec = ProbeSpec(failure_threshold=3)
    worker = ProbeWorker.fresh(K.LIVENESS, 0)
    for _ in range(2):
        worker = worker.record(spec, False, issued_at=0)
        assert not worker.tripped
    worker = worker.record(spec, False, issued_at=0)
    assert worker.tripped and worker.on_hold
    assert (
        worker.record(spec, True, issued_at=0) == worker
    )  # on hold until the container is replaced
    assert worker.due_at(spec, origin=0, started_at=0) is None


def test_a_success_between_failures_resets_the_count() -> None:
    spec = ProbeSpec(failure_threshold=2)
    assert run(K.LIVENESS, spec, "-+-")[-1] is R.SUCCESS


def test_timing_on_the_workers_grid_from_admission() -> None:
    spec = ProbeSpec(initial_delay_seconds=5, period_seconds=10)
    w = ProbeWorker.fresh(K.READINESS, 0)
    # admitted at 98, started at 100: ticks at 108, 118...; the first after 100 + 5
    assert w.due_at(spec, origin=98, started_at=100) == 108  # past it (gating lifted late): due
    # the first tick (at admission) never probes, even with no delay at all
    assert w.due_at(ProbeSpec(), origin=100, started_at=100) == 110
    w = w.issued(spec, 108.3)  # woken a little late: the next one a period later
    assert w.due_at(spec, origin=98, started_at=100) == 118.3


def test_a_probe_in_flight_holds_the_next_tick_until_its_outcome() -> None:
    spec = ProbeSpec(period_seconds=2, timeout_seconds=5)
    issued = ProbeWorker.fresh(K.LIVENESS, 0).issued(spec, 0)
    assert issued.next_at == 2  # the ticker goes on...
    assert not issued.free(spec, 4.9)  # ...but its tick waits for the outcome
    assert issued.free(spec, 5)  # due by the timeout, even if it never came
    assert issued.record(spec, False, issued_at=0).free(spec, 3)
    restored = ProbeWorker.from_dict(K.LIVENESS, issued.to_dict())
    assert restored == issued
    restarted = ProbeWorker.fresh(K.READINESS, 0).restarted(spec, 0)  # no probe ran
    assert restarted.next_at == 2 and restarted.free(spec, 0)


def test_a_late_outcome_ends_its_own_probe_only() -> None:
    """A probe that took its whole timeout and a little more: the tick after the timeout
    issued the next one, which the late outcome must not end (a readiness trigger would
    then run a second probe beside it, where the Go worker runs one at a time)."""
    spec = ProbeSpec(period_seconds=1, timeout_seconds=1)
    first = ProbeWorker.fresh(K.READINESS, 0).issued(spec, 0.3)
    second = first.issued(spec, 1.3)  # the bound passed: the tick's probe
    late = second.record(spec, False, issued_at=0.3)
    assert late.run == 1 and not late.free(spec, 1.32)
    assert late.record(spec, False, issued_at=1.3).free(spec, 1.32)


@pytest.mark.parametrize(
    ("kind", "started", "deleting", "runs"),
    [
        (K.STARTUP, False, False, True),
        (K.STARTUP, True, False, False),
        (K.LIVENESS, False, False, False),
        (K.READINESS, False, False, False),
        (K.LIVENESS, True, False, True),
        (K.READINESS, True, False, True),
        (K.LIVENESS, True, True, False),
        (K.STARTUP, False, True, False),
        (K.READINESS, True, True, True),
    ],
)
def test_startup_gating_and_deletion(
    kind: ProbeKind, started: bool, deleting: bool, runs: bool
) -> None:
    assert probe_runs(kind, started=started, deleting=deleting) is runs


def test_round_trip_and_event_text() -> None:
    w = (
        ProbeWorker.fresh(K.LIVENESS, 2)
        .record(ProbeSpec(), False, issued_at=1)
        .issued(ProbeSpec(), 3)
    )
    assert ProbeWorker.from_dict(K.LIVENESS, w.to_dict()) == w
    assert failure_event_message(K.LIVENESS, "HTTP probe failed with statuscode: 500") == (
        "Liveness probe failed: HTTP probe failed with statuscode: 500"
    )


def test_ticks_before_the_status_shows_the_container_are_not_run_late() -> None:
    spec = ProbeSpec(period_seconds=1)
    fresh = ProbeWorker.fresh(K.LIVENESS, 0)
    # Started at 0.3; the tick at 1 finds it in the status only if the relist came first.
    assert fresh.scheduled(spec, origin=0, started_at=0.3, now=0.8).next_at == 1
    assert fresh.scheduled(spec, origin=0, started_at=0.3, now=1.5).next_at == 2
    running = fresh.scheduled(spec, origin=0, started_at=0.3, now=1.5)
    assert running.scheduled(spec, origin=0, started_at=0.3, now=7) is running
