"""The differential comparison's rules, on hand-made timelines (no cluster)."""

from __future__ import annotations

from tests.conformance.timeline import Event, Sample, Timeline, Tolerance, compare

CREATING = ("pod: phase=Pending |", "ctr c: waiting/ContainerCreating restarts=0")
RUNNING = ("pod: phase=Running |", "ctr c: running restarts=0")
DONE = ("pod: phase=Running |", "ctr c: terminated/Completed exit=0 restarts=0")
SUCCEEDED = ("pod: phase=Succeeded |", "ctr c: terminated/Completed exit=0 restarts=0")


def timeline(side: str, window: float, *steps: tuple[float, tuple[str, ...]]) -> Timeline:
    out = Timeline(side, window=window)
    for t, state in steps:
        out.samples.append(Sample(t, state))
        out.finals.append((t, {"phase": state[0]}))
    out.final = out.finals[-1][1]
    return out


def test_a_step_past_the_horizon_counts_only_when_both_sides_have_it() -> None:
    # Both watched 4 s from their create calls; the Pod's first container starts 0.9 s
    # later, so its window ends 0.9 s earlier from there: the horizon is 2.5 - 0.5 = 2.0 s.
    pod = timeline("Pod", 4.0, (0.1, CREATING), (1.5, RUNNING), (2.5, DONE))
    sim = timeline("SimPod", 4.0, (0.1, CREATING), (0.6, RUNNING), (1.6, DONE), (2.8, SUCCEEDED))
    assert compare(pod, sim, Tolerance()).matching  # SimPod's 2.2 s step: the Pod cannot show it
    pod.samples.append(Sample(3.9, SUCCEEDED))  # the Pod shows it too: compared
    pod.finals.append((3.9, {"phase": SUCCEEDED[0]}))
    pod.final = pod.finals[-1][1]
    assert compare(pod, sim, Tolerance()).matching
    sim.samples[-1] = Sample(2.4, SUCCEEDED)  # 1.8 s: before the horizon, 0.6 s from the Pod's
    assert not compare(pod, sim, Tolerance()).times_match


def test_a_step_before_the_horizon_missing_on_the_other_side_differs() -> None:
    pod = timeline("Pod", 5.0, (0.0, CREATING), (1.0, RUNNING), (2.0, DONE))
    sim = timeline("SimPod", 5.0, (0.0, CREATING), (1.0, RUNNING), (2.0, DONE), (3.0, SUCCEEDED))
    result = compare(pod, sim, Tolerance())
    assert not result.states_match
    assert "Pod (nothing)" in result.diff[0]


def test_an_event_past_the_horizon_on_one_side_only_is_left_out() -> None:
    pod = timeline("Pod", 4.0, (0.1, CREATING), (1.5, RUNNING))
    sim = timeline("SimPod", 4.0, (0.1, CREATING), (0.6, RUNNING))
    probe = ("spec.containers{c}", "Unhealthy", "Warning", "probe failed")
    pod.events = [Event(1.5, *probe), Event(2.5, *probe)]
    sim.events = [Event(0.6, *probe), Event(1.6, *probe), Event(2.8, *probe)]
    assert compare(pod, sim, Tolerance()).events_match  # the third: past the 2.0 s horizon
    sim.events.insert(1, Event(0.7, *probe))  # one more before it: a difference
    assert not compare(pod, sim, Tolerance()).events_match


def test_labels_come_from_the_sides() -> None:
    first = timeline("Pod", 5.0, (0.0, CREATING), (1.0, RUNNING), (2.0, DONE))
    second = timeline("Pod 2", 5.0, (0.0, CREATING), (1.0, RUNNING), (3.0, DONE))
    result = compare(first, second, Tolerance())
    assert not result.times_match
    assert any(line.startswith("time: Pod 1.00s vs Pod 2 2.00s") for line in result.diff)


def test_with_a_back_off_tolerance_the_optional_tail_is_as_long_as_the_tolerance() -> None:
    backoff = ("pod: phase=Running |", "ctr c: waiting/CrashLoopBackOff restarts=1")
    pod = timeline("Pod", 20.0, (0.0, CREATING), (1.0, RUNNING), (2.0, DONE))
    sim = timeline("SimPod", 20.0, (0.0, CREATING), (1.0, RUNNING), (2.0, DONE), (15.2, backoff))
    # 14.2 s after the first start: the Pod's may come up to 35 % later, past its window.
    assert compare(pod, sim, Tolerance(0.5, 0.35)).matching
    assert not compare(pod, sim, Tolerance()).matching


def test_a_timer_from_the_pods_start_time_is_compared_from_creation() -> None:
    failed = ("pod: phase=Failed |", "ctr c: terminated/Error exit=143 restarts=0")
    # The real node takes 0.7 s longer to start the container; the deadline counts from
    # startTime (creation), not from the container's start.
    pod = timeline("Pod", 6.0, (0.0, CREATING), (1.0, RUNNING), (3.1, failed))
    sim = timeline("SimPod", 6.0, (0.0, CREATING), (0.3, RUNNING), (3.3, failed))
    assert not compare(pod, sim, Tolerance()).times_match
    assert compare(pod, sim, Tolerance(), from_creation=True).matching


def test_kubectl_columns_taken_after_a_later_restart_are_left_out() -> None:
    pod = timeline("Pod", 5.0, (0.0, CREATING), (1.0, RUNNING))
    sim = timeline("SimPod", 5.0, (0.0, CREATING), (1.0, RUNNING))
    for side in (pod, sim):
        side.final = {"phase": "Running", "ctr c": "running restarts=1 ready=True started=True"}
    pod.display = ("1/1", "Running", "1")
    sim.display = ("1/1", "Running", "2")  # read just after one more restart
    result = compare(pod, sim, Tolerance())
    assert result.final_match
    assert any("kubectl columns left out" in n for n in result.notes)
    sim.display = ("0/1", "Running", "1")  # current, and different: a difference
    assert not compare(pod, sim, Tolerance()).final_match


def test_a_state_held_a_few_milliseconds_on_one_side_only_is_a_split_write() -> None:
    """The status manager writes ``started`` and the sync's Ready in one patch or in two a
    few milliseconds apart, at random: the short state in between is left out."""
    started = ("pod: phase=Running |", "ctr c: running restarts=0 started=True")
    pod = timeline("Pod", 5.0, (0.0, CREATING), (1.0, RUNNING), (2.0, started), (2.004, DONE))
    sim = timeline("SimPod", 5.0, (0.0, CREATING), (1.0, RUNNING), (2.01, DONE))
    result = compare(pod, sim, Tolerance())
    assert result.matching
    assert any("4 ms" in note for note in result.notes)
    pod.samples[3] = Sample(2.2, DONE)  # held 0.2 s: a step of its own
    assert not compare(pod, sim, Tolerance()).states_match
