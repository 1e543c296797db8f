"""Node lifecycle decisions: staleness, condition taints, display, eviction times."""

from __future__ import annotations

from typing import Any

import pytest

from simpod.controllers.nodehealth import (
    NodeView,
    PodView,
    assess,
    eviction_time,
    node_display,
    reconcile_taints,
    wanted_taints,
)
from simpod.controllers.taints import NOT_READY, UNREACHABLE, UNSCHEDULABLE, Effect, Taint
from simpod.core.clock import format_time

T0 = 1_700_000_000.0


def node(
    ready: str | None = "True", *, beat: float = T0, taints: list[dict[str, Any]] | None = None
) -> NodeView:
    conditions = []
    if ready is not None:
        conditions.append(
            {"type": "Ready", "status": ready, "lastHeartbeatTime": format_time(beat)}
        )
    return NodeView.from_api(
        {
            "metadata": {"name": "n"},
            "spec": {"taints": taints or []},
            "status": {"conditions": conditions},
        }
    )


@pytest.mark.parametrize(
    ("lease", "beat", "now", "stale"),
    [
        (None, T0, T0 + 39, False),
        (None, T0, T0 + 41, True),
        (T0 + 30, T0, T0 + 41, False),  # the Lease counts as a heartbeat
        (T0 + 30, T0, T0 + 71, True),
    ],
)
def test_stale_after_grace(lease: float | None, beat: float, now: float, stale: bool) -> None:
    plan = assess(node(beat=beat), lease_renewed=lease, now=now, grace=40, watching_since=T0 - 99)
    assert (plan.conditions is not None) is stale
    if stale:
        assert plan.conditions == [
            {
                "type": "Ready",
                "status": "Unknown",
                "reason": "NodeStatusUnknown",
                "message": "Kubelet stopped posting node status.",
                "lastHeartbeatTime": format_time(beat),
                "lastTransitionTime": format_time(now),
            }
        ]
        assert plan.taints is not None
        assert {(t.key, t.effect) for t in plan.taints} == {
            (UNREACHABLE, Effect.NO_SCHEDULE),
            (UNREACHABLE, Effect.NO_EXECUTE),
        }
        assert plan.display == {"status": "NotReady", "roles": "<none>"}


def test_controller_start_counts_as_a_heartbeat() -> None:
    plan = assess(node(beat=T0), lease_renewed=None, now=T0 + 100, grace=40, watching_since=T0 + 90)
    assert plan.conditions is None


def test_already_unknown_is_left_alone() -> None:
    plan = assess(node("Unknown"), lease_renewed=None, now=T0 + 100, grace=40, watching_since=T0)
    assert plan.conditions is None


@pytest.mark.parametrize(
    ("ready", "unschedulable", "keys"),
    [
        ("True", False, set()),
        ("True", True, {(UNSCHEDULABLE, Effect.NO_SCHEDULE)}),
        ("False", False, {(NOT_READY, Effect.NO_SCHEDULE), (NOT_READY, Effect.NO_EXECUTE)}),
        ("Unknown", False, {(UNREACHABLE, Effect.NO_SCHEDULE), (UNREACHABLE, Effect.NO_EXECUTE)}),
        ("", False, {(NOT_READY, Effect.NO_SCHEDULE)}),
    ],
)
def test_wanted_taints(ready: str, unschedulable: bool, keys: set[tuple[str, Effect]]) -> None:
    assert {(t.key, t.effect) for t in wanted_taints(ready, unschedulable=unschedulable)} == keys


def test_reconcile_keeps_foreign_taints_and_stamps_no_execute() -> None:
    user = Taint("gpu", Effect.NO_SCHEDULE, "yes")
    stale = Taint(NOT_READY, Effect.NO_EXECUTE, time_added=T0)
    result = reconcile_taints(
        [user, stale], wanted_taints("Unknown", unschedulable=False), now=T0 + 5
    )
    assert result == (
        user,
        Taint(UNREACHABLE, Effect.NO_SCHEDULE),
        Taint(UNREACHABLE, Effect.NO_EXECUTE, time_added=T0 + 5),
    )
    assert reconcile_taints([user], wanted_taints("True", unschedulable=False), now=T0) is None


@pytest.mark.parametrize(
    ("ready", "unschedulable", "labels", "shown"),
    [
        ("True", False, {}, {"status": "Ready", "roles": "<none>"}),
        ("False", True, {}, {"status": "NotReady,SchedulingDisabled", "roles": "<none>"}),
        ("Unknown", False, {}, {"status": "NotReady", "roles": "<none>"}),
        ("", False, {}, {"status": "Unknown", "roles": "<none>"}),
        (
            "True",
            False,
            {"node-role.kubernetes.io/worker": "", "node-role.kubernetes.io/gpu": ""},
            {"status": "Ready", "roles": "gpu,worker"},
        ),
    ],
)
def test_node_display(
    ready: str, unschedulable: bool, labels: dict[str, str], shown: dict[str, str]
) -> None:
    assert node_display(ready, unschedulable=unschedulable, labels=labels) == shown


def pod(tolerations: list[dict[str, Any]]) -> PodView:
    return PodView.from_api(
        {"metadata": {"name": "p", "namespace": "ns"}, "spec": {"tolerations": tolerations}}
    )


@pytest.mark.parametrize(
    ("tolerations", "scale", "due"),
    [
        pytest.param([], 1.0, T0 + 300, id="default toleration"),
        pytest.param([], 10.0, T0 + 30, id="scaled"),
        pytest.param(
            [
                {
                    "key": UNREACHABLE,
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": 5,
                }
            ],
            1.0,
            T0 + 5,
            id="own toleration",
        ),
        pytest.param(
            [{"key": UNREACHABLE, "operator": "Exists", "effect": "NoExecute"}],
            1.0,
            None,
            id="forever",
        ),
    ],
)
def test_eviction_time(tolerations: list[dict[str, Any]], scale: float, due: float | None) -> None:
    taints = (Taint(UNREACHABLE, Effect.NO_EXECUTE, time_added=T0),)
    got = eviction_time(
        pod(tolerations), taints, default_toleration_seconds=300, time_scale=scale, first_seen={}
    )
    assert got == due


def test_eviction_clock_for_taints_without_time_added() -> None:
    taints = (Taint("custom", Effect.NO_EXECUTE),)
    tolerating = pod(
        [{"key": "custom", "operator": "Exists", "tolerationSeconds": 7, "effect": "NoExecute"}]
    )
    seen = {("custom", Effect.NO_EXECUTE): T0}
    assert (
        eviction_time(
            tolerating, taints, default_toleration_seconds=300, time_scale=1, first_seen=seen
        )
        == T0 + 7
    )
    assert (
        eviction_time(
            tolerating, taints, default_toleration_seconds=300, time_scale=1, first_seen={}
        )
        is None
    )
