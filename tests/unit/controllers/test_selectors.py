"""kubectl's selector syntax and node-selector operators."""

from __future__ import annotations

import pytest

from simpod.controllers.selectors import Operator, Requirement, parse_selector

LABELS = {"app": "web", "tier": "front", "gen": "5"}


@pytest.mark.parametrize(
    ("text", "matches"),
    [
        ("", True),
        ("app=web", True),
        ("app==web", True),
        ("app!=web", False),
        ("app=web,tier=back", False),
        ("tier in (front, back)", True),
        ("tier notin (front)", False),
        ("missing notin (x)", True),
        ("app", True),
        ("!app", False),
        ("!missing", True),
        ("app=web, tier in (a,front), !canary", True),
    ],
)
def test_parse_and_match(text: str, matches: bool) -> None:
    assert parse_selector(text).matches(LABELS) is matches


@pytest.mark.parametrize("bad", ["app=web,", "a b c", "tier in (x"])
def test_rejects(bad: str) -> None:
    with pytest.raises(ValueError, match="selector"):
        parse_selector(bad)


@pytest.mark.parametrize(
    ("requirement", "matches"),
    [
        (Requirement("gen", Operator.GT, ("4",)), True),
        (Requirement("gen", Operator.LT, ("4",)), False),
        (Requirement("app", Operator.GT, ("4",)), False),  # not an integer
        (Requirement("missing", Operator.GT, ("4",)), False),
    ],
)
def test_gt_lt(requirement: Requirement, matches: bool) -> None:
    assert requirement.matches(LABELS) is matches
