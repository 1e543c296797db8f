"""Exits become visible at the next relist tick (the kubelet's PLEG period)."""

from __future__ import annotations

from simpod.core.relist import as_relisted
from simpod.core.runtime import Instance, InstanceState

S = InstanceState


def test_exit_after_the_last_tick_is_hidden_until_the_next() -> None:
    exited = Instance("app", 0, S.EXITED, started_at=100.0, finished_at=102.4, exit_code=1)
    early = as_relisted({"app": exited}, origin=100.0, now=102.5)
    assert early.instances["app"].state is S.RUNNING
    assert early.instances["app"].exit_code == 0
    assert early.next_relist == 103.0
    later = as_relisted({"app": exited}, origin=100.0, now=103.0)
    assert later.instances["app"] == exited
    assert later.next_relist is None


def test_running_and_old_exits_are_shown_as_they_are() -> None:
    running = Instance("a", 0, S.RUNNING, started_at=100.0)
    old = Instance("b", 0, S.EXITED, started_at=100.0, finished_at=101.0)
    relisted = as_relisted({"a": running, "b": old}, origin=100.0, now=102.2)
    assert relisted.instances == {"a": running, "b": old}
    assert relisted.next_relist is None
