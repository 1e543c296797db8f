"""A per-controller view of many objects, grouped by a key (a node, a namespace), fed from a
Kopf ``on.event`` handler.

It does what a Kopf index does, on purpose without one: Kopf makes every object of an
indexed resource wait for the whole initial listing with a toggle per object, which costs
O(N²) wake-ups at start-up (seconds for 1,000 SimPods, minutes for 10,000). SimNodes are
few, so controllers use real Kopf indexes for them; SimPods go through this.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Generic, TypeVar

V = TypeVar("V")


class GroupedCache(Generic[V]):
    """Values by object UID, each in at most one group."""

    def __init__(self) -> None:
        self._where: dict[str, str] = {}
        self._groups: dict[str, dict[str, V]] = {}

    def put(self, uid: str, group: str | None, value: V | None) -> None:
        """Store the object's value under ``group``; a None group or value forgets it."""
        self.remove(uid)
        if group is None or value is None:
            return
        self._where[uid] = group
        self._groups.setdefault(group, {})[uid] = value

    def remove(self, uid: str) -> None:
        group = self._where.pop(uid, None)
        if group is None:
            return
        members = self._groups[group]
        del members[uid]
        if not members:
            del self._groups[group]

    def group(self, key: str) -> Mapping[str, V]:
        """The group's values by UID (empty if none)."""
        return self._groups.get(key, {})

    def groups(self) -> Mapping[str, Mapping[str, V]]:
        return self._groups

    def __contains__(self, uid: object) -> bool:
        return uid in self._where

    def __iter__(self) -> Iterator[V]:
        for members in self._groups.values():
            yield from members.values()

    def __len__(self) -> int:
        return len(self._where)
