"""JSON merge patches (RFC 7386) computed from the last written status to the next.

Writing only the difference keeps each status write small, and setting vanished keys to
null is what makes a merge patch delete them (e.g. a runtime record after a pod restart).
Nulls mean "absent": the API server stores none, so a null inside a list item, or for a
key already absent, is no change (comparing them naively would rewrite every list).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def prune(value: Any) -> Any:
    """The value as the server stores it: no null-valued keys, at any depth."""
    if isinstance(value, Mapping):
        return {k: prune(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [prune(v) for v in value]
    return value


def diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    patch: dict[str, Any] = {}
    for key, value in new.items():
        before = old.get(key)
        if value is None:
            if before is not None:
                patch[key] = None
        elif isinstance(value, Mapping) and isinstance(before, Mapping):
            nested = diff(before, value)
            if nested:
                patch[key] = nested
        elif before != prune(value):
            patch[key] = prune(value)
    for key in old:
        if key not in new and old[key] is not None:
            patch[key] = None
    return patch


def apply(target: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    result = dict(target)
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, Mapping):
            base = result.get(key)
            result[key] = apply(base if isinstance(base, Mapping) else {}, value)
        else:
            result[key] = value
    return result
