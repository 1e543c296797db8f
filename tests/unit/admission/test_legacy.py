"""The pre-1.6 init-containers annotation: converted at creation, refused when it disagrees."""

from __future__ import annotations

import json
from typing import Any

import pytest

from simpod.admission import legacy

A = {"name": "a", "image": "busybox", "command": ["true"]}
B = {"name": "b", "image": "busybox"}


def annotation(*containers: dict[str, Any]) -> str:
    return json.dumps(list(containers))


def test_converted_in_order_when_the_spec_has_none() -> None:
    assert legacy.converted(annotation(A, B), None) == [A, B]
    assert legacy.converted(annotation(A, B), []) == [A, B]
    assert legacy.problem(annotation(A, B), [A, B]) is None


def test_agreeing_spec_wins_even_with_defaulted_fields() -> None:
    defaulted = [{**A, "imagePullPolicy": "Always"}, {**B, "ports": []}]
    assert legacy.converted(annotation(A, B), defaulted) == defaulted
    assert legacy.problem(annotation(A, B), defaulted) is None


@pytest.mark.parametrize(
    ("spec", "why"),
    [
        ([B, A], "reordered"),
        ([A], "fewer"),
        ([A, {**B, "image": "nginx"}], "different image"),
    ],
)
def test_both_set_and_different_is_refused(spec: list[dict[str, Any]], why: str) -> None:
    assert legacy.converted(annotation(A, B), spec) is None, why
    message = legacy.problem(annotation(A, B), spec)
    assert message is not None
    assert "are both set and differ" in message
    assert "remove the annotation" in message


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("not json", "not valid JSON"),
        ('{"name": "a"}', "a JSON list of container objects"),
        ('[{"image": "x"}]', "needs a name"),
    ],
)
def test_unreadable_annotation_is_refused(value: str, reason: str) -> None:
    assert legacy.converted(value, None) is None
    message = legacy.problem(value, None)
    assert message is not None and reason in message
    assert "spec.initContainers instead" in message


def test_unconverted_annotation_says_the_webhook_did_not_run() -> None:
    message = legacy.problem(annotation(A), None)
    assert message is not None and "mutating admission webhook did not run" in message
