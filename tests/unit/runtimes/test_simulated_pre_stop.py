"""When the simulated runtime reports a failed preStop hook: as kubelet 1.35, whose wait
for the hook ends with the grace but whose hook goes on until it ends or its container does."""

from __future__ import annotations

from typing import Any

import pytest

from simpod.core.model import ContainerSpec
from simpod.runtimes.simulated.runtime import Record, timeline
from simpod.runtimes.simulated.script import resolve

HOOK = {"exec": {"command": ["drain"]}}


def pre_stop_failure(sim: dict[str, Any], *, grace: float) -> float | None:
    c = ContainerSpec("app", pre_stop=HOOK)
    record = Record(attempt=0, created_at=0.0, kill_at=10.0, kill_grace=grace)
    return timeline(c, record, resolve(sim, container="app", attempt=0)).pre_stop_failure


@pytest.mark.parametrize(
    ("sim", "grace", "expected"),
    [
        ({"preStop": {"seconds": 1}}, 30, None),  # done in time
        ({"preStop": {"seconds": 1, "succeed": False}}, 30, 11.0),  # fails at its end
        # Longer than the 2 s grace: TERM at 12; exits on TERM at once, the hook with it.
        ({"preStop": {"seconds": 10}}, 2, 12.0),
        # TERM ignored: KILL 2 s (the minimum) after TERM, and the hook dies then.
        ({"preStop": {"seconds": 10}, "onTerm": {"ignore": True}}, 2, 14.0),
        # Ends after the grace but before the KILL: a success, nothing to report.
        ({"preStop": {"seconds": 3}, "onTerm": {"ignore": True}}, 2, None),
    ],
)
def test_pre_stop_failure_time(sim: dict[str, Any], grace: float, expected: float | None) -> None:
    assert pre_stop_failure(sim, grace=grace) == expected
