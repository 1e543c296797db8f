"""Starts and exits become visible at the next relist tick (the kubelet's PLEG period)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from simpod.core.relist import relist
from simpod.core.runtime import Instance, InstanceState
from simpod.core.ticker import Ticker

S = InstanceState


def test_exit_after_the_last_tick_is_hidden_until_the_next() -> None:
    exited = Instance("app", 0, S.EXITED, started_at=100.0, finished_at=102.4, exit_code=1)
    early = relist({"app": exited}, seen={}, now=102.5)
    assert early.acting["app"].state is S.RUNNING
    assert early.shown["app"].state is S.RUNNING
    assert early.shown["app"].exit_code == 0
    assert early.next_relist == 103.0
    later = relist({"app": exited}, seen=early.shown, now=103.0)
    assert later.acting["app"] == later.shown["app"] == exited
    assert later.next_relist is None


def test_running_and_old_exits_are_shown_as_they_are() -> None:
    running = Instance("a", 0, S.RUNNING, started_at=100.0)
    old = Instance("b", 0, S.EXITED, started_at=100.0, finished_at=101.0)
    relisted = relist({"a": running, "b": old}, seen={}, now=102.2)
    assert relisted.acting == relisted.shown == {"a": running, "b": old}
    assert relisted.next_relist is None


def test_a_start_since_the_tick_is_in_flight_and_shows_the_previous_instance() -> None:
    before = Instance("app", 0, S.EXITED, started_at=100.0, finished_at=101.5, exit_code=1)
    restarted = Instance("app", 1, S.RUNNING, started_at=102.1)
    relisted = relist({"app": restarted}, seen={"app": before}, now=102.2)
    assert relisted.acting["app"].state is S.CREATED  # the kubelet waits for it
    assert relisted.acting["app"].attempt == 1
    assert relisted.shown["app"] == before
    assert relisted.next_relist == 103.0
    fresh = relist({"app": restarted}, seen={}, now=102.2)
    assert "app" not in fresh.shown  # a new pod: nothing to show yet (ContainerCreating)
    later = relist({"app": restarted}, seen=relisted.shown, now=103.0)
    assert later.shown["app"] == later.acting["app"] == restarted


def test_the_exit_of_a_killed_container_is_acted_on_at_once() -> None:
    killed = Instance(
        "app", 0, S.EXITED, started_at=100.0, finished_at=102.3, exit_code=137, stopping=True
    )
    relisted = relist({"app": killed}, seen={}, now=102.4)
    assert relisted.acting["app"] == killed
    assert relisted.shown["app"].state is S.RUNNING


def test_a_failed_start_is_reported_at_once() -> None:
    failed = Instance("app", 0, S.CREATED, reason="CreateContainerConfigError", message="m")
    relisted = relist({"app": failed}, seen={}, now=100.2)
    assert relisted.shown["app"] == failed


def test_a_node_relists_at_its_own_phase() -> None:
    grid = Ticker(phase=0.3)
    assert grid.last(102.2) == pytest.approx(101.3)
    assert grid.next(102.2) == pytest.approx(102.3)
    assert grid.last(102.3) == pytest.approx(102.3)
    exited = Instance("app", 0, S.EXITED, started_at=100.0, finished_at=102.25, exit_code=1)
    early = relist({"app": exited}, seen={}, now=102.28, grid=grid)
    assert early.shown["app"].state is S.RUNNING
    assert early.next_relist == pytest.approx(102.3)
    assert relist({"app": exited}, seen={}, now=102.3, grid=grid).shown["app"] == exited


def test_node_phases_are_stable_and_spread_over_the_period() -> None:
    phases = {Ticker.for_node(f"sim-node-{i}").phase for i in range(1, 11)}
    assert Ticker.for_node("sim-node-1") == Ticker.for_node("sim-node-1")
    assert all(0.0 <= phase < 1.0 for phase in phases)
    assert len(phases) == 10


def test_an_exit_after_the_relists_listing_waits_for_the_next_relist() -> None:
    """The relist that syncs the pod at 1.25 listed the containers at 1.2: an exit at
    1.22 is news for the relist after."""
    grid = Ticker(moments=(1.25, 2.25), listed=(1.2, 2.2))
    up = Instance("app", 0, S.RUNNING, started_at=0.1)
    exited = Instance("app", 0, S.EXITED, started_at=0.1, finished_at=1.22, exit_code=1)
    view = relist({"app": exited}, seen={"app": up}, now=1.25, grid=grid)
    assert view.shown["app"].state is S.RUNNING
    assert view.next_relist == 2.25
    view = relist({"app": exited}, seen=view.shown, now=2.25, grid=grid)
    assert view.shown["app"] == exited


def test_the_runtime_reports_an_exit_a_little_after_it() -> None:
    """An exit 20 ms before a relist is news for the relist after; one 50 ms before is not."""
    up = Instance("app", 0, S.RUNNING, started_at=100.0)
    late = Instance("app", 0, S.EXITED, started_at=100.0, finished_at=102.98, exit_code=1)
    view = relist({"app": late}, seen={"app": up}, now=103.0)
    assert view.shown["app"] == up
    assert view.next_relist == 104.0
    early = replace(late, finished_at=102.95)
    assert relist({"app": early}, seen={"app": up}, now=103.0).shown["app"] == early
