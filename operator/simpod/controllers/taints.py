"""Taints and tolerations: which pods a node repels (scheduler) and evicts (node lifecycle).

Matching follows core/v1 (``Toleration.ToleratesTaint``); eviction timing follows the taint
eviction controller: a pod that does not tolerate every NoExecute taint of its node goes at
once, otherwise after the smallest ``tolerationSeconds`` among the tolerations it uses (none
set: it stays). Pods get the DefaultTolerationSeconds admission plug-in's two tolerations
(not-ready and unreachable, 300 s) when they have none of their own for those taints.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from simpod.core.clock import format_time, parse_time

NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"
UNSCHEDULABLE = "node.kubernetes.io/unschedulable"


class Effect(enum.Enum):
    NO_SCHEDULE = "NoSchedule"
    PREFER_NO_SCHEDULE = "PreferNoSchedule"
    NO_EXECUTE = "NoExecute"


@dataclass(frozen=True)
class Taint:
    key: str
    effect: Effect
    value: str = ""
    time_added: float | None = None

    @classmethod
    def from_api(cls, raw: Mapping[str, Any]) -> Taint:
        added = raw.get("timeAdded")
        return cls(
            key=str(raw["key"]),
            effect=Effect(raw["effect"]),
            value=str(raw.get("value") or ""),
            time_added=parse_time(added) if added else None,
        )

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {"key": self.key, "effect": self.effect.value}
        if self.value:
            out["value"] = self.value
        if self.time_added is not None:
            out["timeAdded"] = format_time(self.time_added)
        return out

    def same(self, other: Taint) -> bool:
        """Same key and effect: a node holds at most one taint per pair."""
        return (self.key, self.effect) == (other.key, other.effect)

    def describe(self) -> str:
        """The scheduler's rendering in messages: ``{key: value}``."""
        return f"{{{self.key}: {self.value}}}"


@dataclass(frozen=True)
class Toleration:
    key: str = ""
    exists: bool = False
    value: str = ""
    effect: Effect | None = None
    seconds: int | None = None

    @classmethod
    def from_api(cls, raw: Mapping[str, Any]) -> Toleration:
        effect = raw.get("effect") or None
        seconds = raw.get("tolerationSeconds")
        return cls(
            key=str(raw.get("key") or ""),
            exists=raw.get("operator") == "Exists",
            value=str(raw.get("value") or ""),
            effect=Effect(effect) if effect else None,
            seconds=int(seconds) if seconds is not None else None,
        )

    def tolerates(self, taint: Taint) -> bool:
        if self.effect is not None and self.effect is not taint.effect:
            return False
        if self.key and self.key != taint.key:
            return False
        return self.exists or self.value == taint.value


def tolerations_from_api(raw: Iterable[Mapping[str, Any]] | None) -> tuple[Toleration, ...]:
    return tuple(Toleration.from_api(t) for t in raw or ())


def first_untolerated(
    taints: Sequence[Taint], tolerations: Sequence[Toleration], effects: frozenset[Effect]
) -> Taint | None:
    """The first taint with one of ``effects`` that no toleration tolerates."""
    for taint in taints:
        if taint.effect in effects and not any(t.tolerates(taint) for t in tolerations):
            return taint
    return None


def with_default_tolerations(
    tolerations: tuple[Toleration, ...], *, seconds: int
) -> tuple[Toleration, ...]:
    """Add DefaultTolerationSeconds' not-ready/unreachable NoExecute tolerations where the pod
    has no toleration for that key (or for every key) with effect NoExecute (or any)."""
    added = []
    for key in (NOT_READY, UNREACHABLE):
        if not any(
            (not t.key or t.key == key) and t.effect in (None, Effect.NO_EXECUTE)
            for t in tolerations
        ):
            added.append(
                Toleration(key=key, exists=True, effect=Effect.NO_EXECUTE, seconds=seconds)
            )
    return tolerations + tuple(added)


def eviction_delay(taints: Sequence[Taint], tolerations: Sequence[Toleration]) -> float | None:
    """Seconds after the NoExecute taints appeared at which the pod is evicted: 0 when one is
    not tolerated, the smallest ``tolerationSeconds`` (negative counts as 0) among the
    tolerations used, or None (never) when none of those sets a limit or no taint applies."""
    used: list[Toleration] = []
    for taint in taints:
        if taint.effect is not Effect.NO_EXECUTE:
            continue
        matching = [t for t in tolerations if t.tolerates(taint)]
        if not matching:
            return 0.0
        used.extend(matching)
    limits = [max(0, t.seconds) for t in used if t.seconds is not None]
    return float(min(limits)) if limits else None
