"""Editing a status ``conditions`` list as written to the API (dicts), for controllers.

A merge patch replaces the whole list, so a controller that changes one condition sends the
others back unchanged; ``lastTransitionTime`` moves only when the status changes, as
``UpdatePodCondition`` does upstream.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from simpod.core.clock import format_time


def find(conditions: Iterable[Mapping[str, Any]], type_: str) -> Mapping[str, Any] | None:
    return next((c for c in conditions if c.get("type") == type_), None)


def with_condition(
    conditions: Iterable[Mapping[str, Any]],
    type_: str,
    status: str,
    *,
    now: float,
    reason: str | None = None,
    message: str | None = None,
) -> list[dict[str, Any]]:
    """The list with condition ``type_`` set (appended if missing). A ``None`` reason or
    message keeps the existing one, as the node lifecycle controller does for Ready; an empty
    one removes it."""
    out: list[dict[str, Any]] = []
    found = False
    for condition in conditions:
        if condition.get("type") != type_:
            out.append(dict(condition))
            continue
        found = True
        changed = dict(condition, status=status)
        for key, value in (("reason", reason), ("message", message)):
            if value:
                changed[key] = value
            elif value is not None:
                changed.pop(key, None)
        if condition.get("status") != status:
            changed["lastTransitionTime"] = format_time(now)
        out.append(changed)
    if not found:
        new: dict[str, Any] = {
            "type": type_,
            "status": status,
            "lastProbeTime": None,
            "lastTransitionTime": format_time(now),
        }
        if reason:
            new["reason"] = reason
        if message:
            new["message"] = message
        out.append(new)
    return out
