"""Pod GC selection: never a running pod; oldest terminated first."""

from __future__ import annotations

from simpod.controllers.gc import (
    GCPod,
    orphaned,
    terminated_over_threshold,
    unscheduled_terminating,
)


def p(
    name: str,
    phase: str = "Running",
    *,
    created: float = 0,
    node: str = "n1",
    deleting: bool = False,
) -> GCPod:
    return GCPod("ns", name, f"uid-{name}", phase, node, deleting, created)


PODS = [
    p("new-done", "Succeeded", created=30),
    p("old-done", "Succeeded", created=10),
    p("mid-failed", "Failed", created=20),
    p("running", created=0),
    p("pending", "Pending", created=1),
    p("going", "Succeeded", created=5, deleting=True),
]


def test_terminated_oldest_first_down_to_threshold() -> None:
    assert [x.name for x in terminated_over_threshold(PODS, 1)] == ["old-done", "mid-failed"]
    assert terminated_over_threshold(PODS, 3) == []
    assert terminated_over_threshold(PODS, 0) == []  # disabled


def test_orphans_by_missing_node() -> None:
    pods = [p("a", node="gone"), p("b", node="n1"), p("c", node=""), p("d", node="gone")]
    assert {n: [x.name for x in ps] for n, ps in orphaned(pods, ["n1"]).items()} == {
        "gone": ["a", "d"]
    }


def test_unscheduled_terminating() -> None:
    pods = [p("a", node="", deleting=True), p("b", node="n1", deleting=True), p("c", node="")]
    assert [x.name for x in unscheduled_terminating(pods)] == ["a"]
