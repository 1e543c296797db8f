"""A kubelet's one-second tickers, each with the phase of its own start.

Two of them decide when things happen on a node: the PLEG's relist (a container's start
or exit shows, and is acted on, at the next relist) and the sync loop's ``syncCh`` (a pod
whose requeue is due, such as the end of a crash-loop back-off, or that is past its
activeDeadlineSeconds, is synced at its next tick; kubelet.go ``getPodsToSync``). Both run
from the kubelet's start, so every node has its own phases, and the two are not in step
(the relist's period also stretches by the time each relist takes).
"""

from __future__ import annotations

import bisect
import math
import zlib
from dataclasses import dataclass

TICK_SECONDS = 1.0


@dataclass(frozen=True)
class Ticker:
    """Ticks at ``phase + n * period`` seconds since the epoch: with the default period,
    every second at ``phase`` seconds past. A real relist's period is a little longer
    than its nominal second (it waits a second after each relist ends), which a node
    pinned to a real one's ticks reproduces.

    ``moments`` (ascending, seconds since the epoch) are ticks known one by one, as a real
    node's relists read from its log: a real relist's period stretches and shrinks with
    the node's load, so no phase and period place its ticks over more than a few seconds.
    Within them the ticker ticks at each; before and after them every ``period`` from the
    nearest one (``phase`` is then unused). ``listed`` (as many, or none) says when each
    of those ticks listed the runtime: a real relist lists every container first, then
    syncs the pods that changed one after the other, so a pod's sync (its tick) comes a
    few milliseconds after the listing that decides what it sees.
    """

    phase: float = 0.0
    period: float = TICK_SECONDS
    moments: tuple[float, ...] = ()
    listed: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if self.listed and len(self.listed) != len(self.moments):
            raise ValueError("a listing for each known tick, or none")

    @classmethod
    def for_node(cls, name: str, *, loop: str = "") -> Ticker:
        """A phase drawn from the node's name (and the loop's): the same on every run
        (timelines are reproducible), and spread over the period across nodes and loops,
        so that many simulated nodes do not all tick on the same instant as they would not
        in a cluster."""
        key = f"{name}/{loop}" if loop else name
        return cls(phase=zlib.crc32(key.encode()) % 1000 / 1000 * TICK_SECONDS)

    def last(self, now: float) -> float:
        """The latest tick at or before ``now``."""
        if not self.moments:
            return self._grid_last(self.phase, now)
        if now < self.moments[0]:
            return self._grid_last(self.moments[0], now)
        index = bisect.bisect_right(self.moments, now) - 1
        if index < len(self.moments) - 1:
            return self.moments[index]
        return self._grid_last(self.moments[-1], now)

    def next(self, now: float) -> float:
        """The first tick after ``now``."""
        index = bisect.bisect_right(self.moments, now)
        if 0 < index < len(self.moments):
            return self.moments[index]
        return self.last(now) + self.period

    def at_or_after(self, moment: float) -> float:
        """The first tick at or after ``moment``."""
        last = self.last(moment)
        return moment if last == moment else self.next(moment)

    def listing(self, tick: float) -> float:
        """When the tick ``tick`` listed the runtime: it shows what changed before then."""
        index = bisect.bisect_left(self.moments, tick)
        if self.listed and index < len(self.moments) and self.moments[index] == tick:
            return self.listed[index]
        return tick

    def seeing(self, moment: float) -> float:
        """The first tick that lists the runtime after ``moment``: the one that shows what
        happened then."""
        tick = self.next(moment)
        while self.listing(tick) <= moment:  # listed just before it: the tick after does
            tick = self.next(tick)
        return tick

    def _grid_last(self, anchor: float, now: float) -> float:
        periods = math.floor((now - anchor) / self.period)
        return periods * self.period + anchor


WHOLE_SECONDS = Ticker()  # ticks on whole seconds: the default for a lone node


@dataclass(frozen=True)
class Tickers:
    """One node's relist and sync-loop tickers."""

    relist: Ticker = WHOLE_SECONDS
    sync: Ticker = WHOLE_SECONDS

    @classmethod
    def for_node(cls, name: str) -> Tickers:
        return cls(relist=Ticker.for_node(name), sync=Ticker.for_node(name, loop="sync"))


LONE_NODE = Tickers()  # both on whole seconds
