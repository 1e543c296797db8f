"""Grace periods and deadlines (pod-lifecycle.md §9 and §2)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from simpod.core.grace import (
    GRACE_ANNOTATION,
    active_deadline_at,
    deletion_deadline,
    deletion_grace_seconds,
    probe_kill_grace_seconds,
    stop_timeout,
)
from simpod.core.model import ProbeSpec
from tests.unit.core.builders import pod

APP = [{"name": "app"}]


@pytest.mark.parametrize(
    ("annotation", "spec_grace", "expected"),
    [(None, None, 30), (None, 5, 5), ("3", 5, 3), ("0", None, 0), ("bogus", 7, 7)],
)
def test_deletion_grace(annotation: str | None, spec_grace: int | None, expected: int) -> None:
    p = pod(APP, terminationGracePeriodSeconds=spec_grace)
    if annotation is not None:
        p = replace(p, annotations={GRACE_ANNOTATION: annotation})
    assert deletion_grace_seconds(p) == expected


def test_grace_counts_from_first_sighting_not_deletion_timestamp() -> None:
    p = replace(pod(APP, terminationGracePeriodSeconds=20), deletion_time=95.0)
    assert deletion_deadline(p, None, now=100) == 120


def test_later_deletion_may_only_shorten() -> None:
    p = pod(APP, terminationGracePeriodSeconds=60)
    first = deletion_deadline(p, None, now=100)
    assert first == 160
    assert deletion_deadline(p, first, now=110) == 160  # same grace again: unchanged
    shorter = replace(p, annotations={GRACE_ANNOTATION: "5"})
    assert deletion_deadline(shorter, first, now=110) == 115
    longer = replace(p, annotations={GRACE_ANNOTATION: "600"})
    assert deletion_deadline(longer, 115, now=111) == 115


@pytest.mark.parametrize(
    ("grace", "pre_stop", "expected"),
    [(30, 0, 30), (30, 10, 20), (30, 30, 2), (30, 29, 2), (1, 0, 2), (0, 0, 0)],
)
def test_stop_timeout_keeps_two_seconds(grace: float, pre_stop: float, expected: float) -> None:
    assert stop_timeout(grace, pre_stop) == expected


def test_probe_grace_override() -> None:
    p = pod(APP, terminationGracePeriodSeconds=40)
    assert probe_kill_grace_seconds(p.spec, ProbeSpec()) == 40
    assert probe_kill_grace_seconds(p.spec, ProbeSpec(termination_grace_period_seconds=3)) == 3


def test_active_deadline_counts_from_start_time() -> None:
    p = pod(APP, activeDeadlineSeconds=60)
    assert active_deadline_at(p.spec, 1000) == 1060
    assert active_deadline_at(p.spec, 1000.9) == 1060  # startTime in whole seconds
    assert active_deadline_at(p.spec, None) is None
    assert active_deadline_at(pod(APP).spec, 1000) is None
