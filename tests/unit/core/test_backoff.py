"""Crash-loop backoff: 0, 10, 20, 40, ... capped at 300 s, reset after 600 s of running."""

from __future__ import annotations

import pytest

from simpod.core.backoff import Backoff, BackoffSettings, go_duration

KEY = "app_abc"


def schedule(backoff: Backoff, exits: int, run_seconds: float) -> list[float]:
    """Delays between each exit and the restart that follows, for a container that always
    runs ``run_seconds`` then exits."""
    delays, now = [], 0.0
    for _ in range(exits):
        now += run_seconds
        finished = now
        wait = backoff.wait_until(KEY, finished)
        restart_at = finished if wait is None else max(wait, finished)
        delays.append(restart_at - finished)
        now = restart_at
        backoff = backoff.record_restart(KEY, finished, now)
    return delays


def test_default_schedule_and_cap() -> None:
    assert schedule(Backoff(), 10, 1) == [0, 10, 20, 40, 80, 160, 300, 300, 300, 300]


def test_reset_after_running_longer_than_600s() -> None:
    assert schedule(Backoff(), 4, 601) == [0, 0, 0, 0]
    assert schedule(Backoff(), 3, 599) == [0, 10, 20]


def test_settings_are_tunable() -> None:
    b = Backoff(BackoffSettings(initial=1, cap=4, reset_after=100))
    assert schedule(b, 6, 0) == [0, 1, 2, 4, 4, 4]


def test_changed_definition_has_its_own_window() -> None:
    b = Backoff().record_restart(KEY, 0, 0)
    assert b.wait_until(KEY, 1) == 11
    assert b.wait_until("app_other", 1) is None
    assert b.retain({"app_other"}).entries == {}


def test_round_trip_through_status_dict() -> None:
    b = Backoff().record_restart(KEY, 0, 0).record_restart(KEY, 5, 15)
    again = Backoff.from_dict(b.to_dict(), BackoffSettings())
    assert again == b
    assert again.current_delay(KEY) == 20


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(10, "10s"), (40, "40s"), (80, "1m20s"), (160, "2m40s"), (300, "5m0s"), (3600, "1h0m0s")],
)
def test_go_duration(seconds: float, text: str) -> None:
    assert go_duration(seconds) == text
