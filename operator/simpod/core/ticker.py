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
import itertools
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
        if any(b < a for a, b in itertools.pairwise(self.moments)):
            raise ValueError("known ticks ascend")
        if self.listed and (
            len(self.listed) != len(self.moments)
            or any(at > tick for at, tick in zip(self.listed, self.moments, strict=True))
        ):
            raise ValueError("a listing for each known tick, none after it, or none at all")

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
        if self.moments and self.moments[0] <= now < self.moments[-1]:
            return self.moments[bisect.bisect_right(self.moments, now) - 1]
        anchor = self._anchor(now)
        return anchor + self._periods(anchor, now) * self.period

    def next(self, now: float) -> float:
        """The first tick after ``now``."""
        if self.moments and self.moments[0] <= now < self.moments[-1]:
            return self.moments[bisect.bisect_right(self.moments, now)]
        anchor = self._anchor(now)
        return anchor + (self._periods(anchor, now) + 1) * self.period

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

    def seeing(self, moment: float, *, after: float | None = None) -> float:
        """The first tick (after ``after``, if given) whose listing is at or after
        ``moment``: the one that shows what happened then."""
        tick = self.at_or_after(moment)
        if after is not None and tick <= after:
            tick = self.next(after)
        while self.listing(tick) < moment:  # listed just before it: a later tick shows it
            tick = self.next(tick)
        return tick

    def _anchor(self, now: float) -> float:
        """The tick the grid counts from: the known one nearest ``now``, else the phase."""
        if not self.moments:
            return self.phase
        return self.moments[0] if now < self.moments[0] else self.moments[-1]

    def _periods(self, anchor: float, now: float) -> int:
        """Whole periods from ``anchor`` to the tick at or before ``now``, exact in floats:
        with an anchor some 1.8e9 s from zero, a tick computed as ``anchor + n * period``
        divides back to a hair under ``n``."""
        periods = math.floor((now - anchor) / self.period)
        if anchor + (periods + 1) * self.period <= now:
            return periods + 1
        if anchor + periods * self.period > now:
            return periods - 1
        return periods


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
