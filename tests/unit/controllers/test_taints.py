"""Taint/toleration matching and the taint eviction controller's timing."""

from __future__ import annotations

from typing import Any

import pytest

from simpod.controllers.taints import (
    NOT_READY,
    UNREACHABLE,
    Effect,
    Taint,
    Toleration,
    eviction_delay,
    tolerations_from_api,
    with_default_tolerations,
)

NO_EXEC = Taint(UNREACHABLE, Effect.NO_EXECUTE)
GPU = Taint("gpu", Effect.NO_SCHEDULE, "yes")


@pytest.mark.parametrize(
    ("toleration", "taint", "tolerated"),
    [
        ({"key": "gpu", "value": "yes"}, GPU, True),
        ({"key": "gpu", "operator": "Equal", "value": "no"}, GPU, False),
        ({"key": "gpu", "operator": "Exists"}, GPU, True),
        ({"key": "gpu", "operator": "Exists", "effect": "NoExecute"}, GPU, False),
        ({"operator": "Exists"}, GPU, True),
        ({"operator": "Exists", "effect": "NoSchedule"}, GPU, True),
        ({"key": "other", "operator": "Exists"}, GPU, False),
        ({"key": "gpu"}, GPU, False),  # Equal with an empty value
    ],
)
def test_tolerates(toleration: dict[str, Any], taint: Taint, tolerated: bool) -> None:
    assert Toleration.from_api(toleration).tolerates(taint) is tolerated


def tol(seconds: int | None, key: str = UNREACHABLE) -> dict[str, Any]:
    out: dict[str, Any] = {"key": key, "operator": "Exists", "effect": "NoExecute"}
    if seconds is not None:
        out["tolerationSeconds"] = seconds
    return out


@pytest.mark.parametrize(
    ("taints", "tolerations", "delay"),
    [
        pytest.param([NO_EXEC], [], 0.0, id="not tolerated: at once"),
        pytest.param([NO_EXEC], [tol(None)], None, id="tolerated forever"),
        pytest.param([NO_EXEC], [tol(60)], 60.0, id="tolerationSeconds"),
        pytest.param([NO_EXEC], [tol(-5)], 0.0, id="negative counts as zero"),
        pytest.param([NO_EXEC], [tol(60), tol(30)], 30.0, id="smallest of the matching"),
        pytest.param(
            [NO_EXEC, Taint(NOT_READY, Effect.NO_EXECUTE)],
            [tol(None), tol(20, NOT_READY)],
            20.0,
            id="smallest over all taints",
        ),
        pytest.param(
            [NO_EXEC, Taint("x", Effect.NO_EXECUTE)], [tol(None)], 0.0, id="one not tolerated"
        ),
        pytest.param([GPU], [], None, id="NoSchedule never evicts"),
    ],
)
def test_eviction_delay(
    taints: list[Taint], tolerations: list[dict[str, Any]], delay: float | None
) -> None:
    assert eviction_delay(taints, tolerations_from_api(tolerations)) == delay


@pytest.mark.parametrize(
    ("own", "added_keys"),
    [
        ([], {NOT_READY, UNREACHABLE}),
        ([tol(10)], {NOT_READY}),
        ([{"operator": "Exists"}], set()),
        (
            [{"key": NOT_READY, "operator": "Exists", "effect": "NoSchedule"}],
            {NOT_READY, UNREACHABLE},
        ),
    ],
)
def test_default_tolerations(own: list[dict[str, Any]], added_keys: set[str]) -> None:
    tolerations = tolerations_from_api(own)
    added = with_default_tolerations(tolerations, seconds=300)[len(tolerations) :]
    assert {t.key for t in added} == added_keys
    assert all(t.seconds == 300 and t.effect is Effect.NO_EXECUTE for t in added)
