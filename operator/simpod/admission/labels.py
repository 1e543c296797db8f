"""Label selectors (metav1.LabelSelector) evaluated against an object's labels.

Same semantics as ``metav1.LabelSelectorAsSelector``: requirements are ANDed, and an empty
or absent selector matches everything (a preset without a selector applies to every pod).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def selector_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    for key, value in ((selector or {}).get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    return all(
        _requirement_matches(requirement, labels)
        for requirement in (selector or {}).get("matchExpressions") or ()
    )


def _requirement_matches(requirement: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    key = requirement["key"]
    operator = requirement["operator"]
    values = requirement.get("values") or ()
    if operator == "In":
        return key in labels and labels[key] in values
    if operator == "NotIn":
        return key not in labels or labels[key] not in values
    if operator == "Exists":
        return key in labels
    if operator == "DoesNotExist":
        return key not in labels
    raise ValueError(f"unknown label selector operator {operator!r}")
