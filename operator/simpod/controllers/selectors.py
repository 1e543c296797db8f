"""Label selectors: kubectl's string form (``app=web,tier in (a,b),!canary``) and the
node-selector requirements of node affinity (In, NotIn, Exists, DoesNotExist, Gt, Lt).

Services point at SimPods through a selector string in an annotation, and the scheduler
matches nodes against ``nodeSelector`` and affinity terms; both live here so the two agree
on what a selector means.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


class Operator(enum.Enum):
    IN = "In"
    NOT_IN = "NotIn"
    EXISTS = "Exists"
    DOES_NOT_EXIST = "DoesNotExist"
    GT = "Gt"
    LT = "Lt"


@dataclass(frozen=True)
class Requirement:
    """One requirement on one key; ``values`` as the API spells them."""

    key: str
    operator: Operator
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        match self.operator:
            case Operator.EXISTS:
                return present
            case Operator.DOES_NOT_EXIST:
                return not present
            case Operator.IN:
                return present and labels[self.key] in self.values
            case Operator.NOT_IN:
                # Absent keys satisfy NotIn, as in Kubernetes.
                return not present or labels[self.key] not in self.values
            case Operator.GT | Operator.LT:
                return present and _compare(labels[self.key], self.values, self.operator)
        return False  # pragma: no cover - the match is exhaustive


def _compare(label: str, values: tuple[str, ...], op: Operator) -> bool:
    """Gt/Lt compare integers; a label or value that is not one never matches."""
    try:
        have, want = int(label), int(values[0])
    except (ValueError, IndexError):
        return False
    return have > want if op is Operator.GT else have < want


@dataclass(frozen=True)
class Selector:
    """All requirements must hold; no requirements selects everything."""

    requirements: tuple[Requirement, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(r.matches(labels) for r in self.requirements)


_SET = re.compile(r"^\s*(\S+)\s+(in|notin)\s*\((.*)\)\s*$")
_EQUALITY = re.compile(r"^\s*([^!=\s]+)\s*(==|=|!=)\s*(\S*)\s*$")
_EXISTS = re.compile(r"^\s*(!?)\s*([^!=\s(),]+)\s*$")


def parse_selector(text: str) -> Selector:
    """Parse kubectl's selector syntax; raises ValueError with the offending part."""
    requirements = []
    for part in _split_top_level(text):
        if not part.strip():
            raise ValueError(f"empty requirement in selector {text!r}")
        requirements.append(_parse_requirement(part))
    return Selector(tuple(requirements))


def _split_top_level(text: str) -> list[str]:
    """Split on commas outside parentheses (``a in (x,y),b`` → two parts)."""
    if not text.strip():
        return []
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _parse_requirement(part: str) -> Requirement:
    if m := _SET.match(part):
        values = tuple(v.strip() for v in m.group(3).split(",") if v.strip())
        op = Operator.IN if m.group(2) == "in" else Operator.NOT_IN
        return Requirement(m.group(1), op, values)
    if m := _EQUALITY.match(part):
        op = Operator.NOT_IN if m.group(2) == "!=" else Operator.IN
        return Requirement(m.group(1), op, (m.group(3),))
    if m := _EXISTS.match(part):
        op = Operator.DOES_NOT_EXIST if m.group(1) else Operator.EXISTS
        return Requirement(m.group(2), op)
    raise ValueError(f"cannot parse selector requirement {part.strip()!r}")


def requirements_from_api(raw: Iterable[Mapping[str, Any]]) -> tuple[Requirement, ...]:
    """``matchExpressions``/``matchFields`` entries (key, operator, values) as requirements."""
    return tuple(
        Requirement(str(r["key"]), Operator(r["operator"]), tuple(r.get("values") or ()))
        for r in raw
    )
