"""Status writes carry only real differences (no write when nothing changed or only
bookkeeping did)."""

from __future__ import annotations

from simpod.agent.mergepatch import apply, diff, prune
from simpod.agent.worker import _only_timing

STORED = {
    "phase": "Running",
    "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "t"}],
    "sim": {"runtime": {"app": {"attempt": 0}, "side": {"attempt": 1}}},
}


def test_nulls_for_absent_keys_are_no_change() -> None:
    new = {
        "phase": "Running",
        "reason": None,
        "conditions": [
            {"type": "Ready", "status": "True", "lastTransitionTime": "t", "lastProbeTime": None}
        ],
        "sim": {"runtime": {"app": {"attempt": 0}, "side": {"attempt": 1}}},
    }
    assert diff(STORED, new) == {}


def test_vanished_keys_become_nulls_and_apply_round_trips() -> None:
    new = {**STORED, "phase": "Succeeded", "sim": {"runtime": {"app": {"attempt": 0}}}}
    patch = diff(STORED, new)
    assert patch == {"phase": "Succeeded", "sim": {"runtime": {"side": None}}}
    assert apply(STORED, patch) == prune(new)


def test_changed_list_is_replaced_whole_without_nulls() -> None:
    new = {**STORED, "conditions": [{"type": "Ready", "status": "False", "reason": None}]}
    assert diff(STORED, new) == {"conditions": [{"type": "Ready", "status": "False"}]}


def test_bookkeeping_alone_rides_along_with_the_next_write() -> None:
    """A probe run or a container's start (its Started Event posted) changes only
    bookkeeping: no write of its own; with anything observable, it is written."""
    assert _only_timing({"sim": {"announced": {"app": 0}, "probes": {}}})
    assert not _only_timing({"sim": {"announced": {"app": 0}, "backoff": {}}})
    assert not _only_timing({"phase": "Running", "sim": {"announced": {"app": 0}}})
