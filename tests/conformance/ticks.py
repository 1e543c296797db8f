"""The real kubelet's tick phases, read from its log, for the SimNode that mirrors it.

Where a step shows up on a node depends on where in its one-second ticks the pod's life
falls: a container that exits just before a relist shows dead at once, one that exits just
after shows dead a second later; a back-off's end is picked up at the next sync-loop tick;
startTime and startedAt are truncated to whole seconds. The real kubelet's ticks have
phases of their own (the sync loop's from the kubelet's start, the relist's drifting by the
time each relist takes), and so does every SimNode (:class:`simpod.core.ticker.Tickers`).
A SimPod meeting other phases than its Pod differs from it by a tick for reasons that say
nothing about the lifecycle.

So the SimPod's node is pinned to the real node's ticks (``spec.tickPhases``: the very
relists the Pod met, and the sync loop's phase) and the SimPod is created a whole number of
seconds after the Pod, once the Pod's window is over: it then meets the relists, the sync
loop and the wall clock's seconds at the same points of its life. A phase and a period do
not do for the relist: its period stretches and shrinks with the node's load. The kubelet logs
what tells both ticks at the verbosity the real node runs ``generic.go`` and ``kubelet.go`` with
(``--vmodule=kubelet=4,generic=5``): each relist as it begins ("GenericPLEG: Relisting":
when it lists the containers), each PLEG event the sync loop takes ("SyncLoop (PLEG)") and
each housekeeping tick (its ticker starts with the sync loop's, so it has its phase). The
Pod's PLEG events tell when each relist came to the Pod: a relist inspects the pods that
changed one after the other and syncs each as it is done with it, a few milliseconds
after it began (up to ~0.1 s under the suite's load).
"""

from __future__ import annotations

import bisect
import datetime
import itertools
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simpod.core.ticker import TICK_SECONDS

_LINE = re.compile(
    r"^[IWEF](?P<month>\d\d)(?P<day>\d\d) (?P<clock>\d\d:\d\d:\d\d\.\d+)\s+\d+ "
    r'(?:kubelet\.go:\d+\] "SyncLoop \((?P<source>PLEG|housekeeping)\)'
    r'(?:: event for pod" pod="(?P<pod>[^"]+)")?'
    r'|generic\.go:\d+\] "GenericPLEG: (?P<relist>Relisting)")'
)


@dataclass(frozen=True)
class Tick:
    """One logged tick: its wall-clock time, and the pod (``namespace/name``) for PLEG."""

    at: float
    source: str
    pod: str = ""


def parse(line: str, *, year: int) -> Tick | None:
    """A relist, PLEG event or housekeeping line of the kubelet's log (klog's local time,
    which has no year), or None for any other line."""
    found = _LINE.match(line)
    if found is None:
        return None
    moment = datetime.datetime.strptime(
        f"{year}-{found['month']}-{found['day']} {found['clock']}", "%Y-%m-%d %H:%M:%S.%f"
    )
    source = "relist" if found["relist"] else found["source"]
    return Tick(moment.timestamp(), source, found["pod"] or "")


TAIL_BYTES = 256 * 1024
RELIST_MEMORY_SECONDS = 180.0  # longer than any scenario's two windows
MIN_GAPS = 5
BEYOND_SECONDS = 1.5  # relists known before and after the Pod's window


def phase(moment: float) -> float:
    return moment % TICK_SECONDS


def median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


@dataclass(frozen=True)
class Placement:
    """The real node's relists as the Pod met them, and when the SimPod is created."""

    relists: tuple[tuple[float, float], ...]  # wall clock: each relist's listing and sync
    period: float  # the relist's median period over them
    sync: float  # the sync loop's phase
    at: float  # wall clock: a whole number of seconds after the Pod
    shift: int  # that number

    def describe(self) -> str:
        return (
            f"{len(self.relists)} relists from {phase(self.relists[0][0]):.3f} past the second "
            f"(median period {self.period:.3f} s), sync loop at {self.sync:.3f}; SimPod "
            f"{self.shift} s later"
        )

    def tick_phases(self) -> dict[str, Any]:
        """The SimNode's ``spec.tickPhases``: its relists fall where the real node's fell
        for the Pod, ``shift`` seconds later; after them, every period."""
        return {
            "relists": [
                {"at": round(at + self.shift, 4), "syncAt": round(sync + self.shift, 4)}
                for at, sync in self.relists
            ],
            "relistPeriod": round(self.period, 4),
            "syncLoop": round(self.sync, 3),
        }


class KubeletLog:
    """The real node's kubelet log, read as it grows (one reader for all scenarios)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # From the log's last lines on: the latest housekeeping tick is known from the start
        # (one every two seconds), the PLEG events of earlier pods are never needed.
        self.offset = max(0, path.stat().st_size - TAIL_BYTES) if path.exists() else 0
        self.housekeeping: float | None = None  # the latest housekeeping tick
        self.events: dict[str, list[float]] = {}  # PLEG events by pod
        self.relists: list[float] = []  # the starts of the recent relists
        self.lock = threading.Lock()

    def _read(self) -> None:
        with self.path.open("rb") as log:
            log.seek(self.offset)
            chunk = log.read()
        complete = chunk.rfind(b"\n") + 1
        self.offset += complete
        year = datetime.datetime.now().year
        for line in chunk[:complete].decode(errors="replace").splitlines():
            tick = parse(line, year=year)
            if tick is None:
                continue
            if tick.source == "housekeeping":
                self.housekeeping = tick.at
            elif tick.source == "relist":
                self.relists.append(tick.at)
            else:
                self.events.setdefault(tick.pod, []).append(tick.at)
        if self.relists:
            kept = bisect.bisect_left(self.relists, self.relists[-1] - RELIST_MEMORY_SECONDS)
            del self.relists[:kept]

    def relist_period(self, since: float, until: float) -> float:
        """The relist's period between two moments: a second plus the time each relist
        takes (~10 ms under the suite's load), the median gap (a mean would carry the odd
        relist that took seconds, as some do while the node starts)."""
        gaps = [b - a for a, b in itertools.pairwise(self._starts(since, until))]
        return median(gaps) if len(gaps) >= MIN_GAPS else TICK_SECONDS

    def met(self, pod: str, since: float, until: float) -> list[tuple[float, float]]:
        """The relists between two moments as the Pod met them: when each listed the
        containers (its start: the listing itself takes a few milliseconds; the runtime's
        delay in reporting an exit is the SimNode's own) and when it synced the Pod: its
        PLEG event where it had one (a relist syncs the pods that changed one after the
        other), else the relist's start plus the Pod's median such delay."""
        starts = self._starts(since, until)
        firsts: dict[int, float] = {}
        for at in self.events.get(pod, []):
            index = bisect.bisect_right(starts, at) - 1
            if index >= 0 and at <= until:
                firsts.setdefault(index, at)
        delay = median([at - starts[i] for i, at in firsts.items()]) if firsts else 0.0
        ends = [*starts[1:], math.inf]  # no sync after the next relist starts
        return [
            (start, firsts.get(i, min(start + delay, end)))
            for i, (start, end) in enumerate(zip(starts, ends, strict=False))
        ]

    def _starts(self, since: float, until: float) -> list[float]:
        """The starts of the relists between two moments."""
        return self.relists[
            bisect.bisect_left(self.relists, since) : bisect.bisect_right(self.relists, until)
        ]

    def relists_so_far(self) -> list[float]:
        """The starts of the recent relists, the log's new lines read."""
        with self.lock:
            self._read()
            return list(self.relists)

    def _wait(self, found: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                self._read()
                if found():
                    return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)

    def place(
        self, pod: str, *, created: float, seconds: float, timeout: float, lead: float
    ) -> Placement | None:
        """The relists the Pod ``pod`` (``namespace/name``, created at the wall-clock
        ``created``) met over its ``seconds``, once the log shows them all (waiting up to
        ``timeout`` past that window), and the first moment a whole number of seconds
        after ``created`` and at least ``lead`` from now; None when the log does not show
        the real node's ticks. So the SimPod runs after the Pod, on the very relists its
        Pod met: a real relist's period stretches with the node's load (1.006 s at one
        moment, 1.018 s over the next 14), more than a phase and a period can follow."""
        until = created + seconds + BEYOND_SECONDS
        ready = self._wait(
            lambda: (
                any(at >= created for at in self.events.get(pod, ()))
                and bool(self.relists)
                and self.relists[-1] > until
            ),
            max(0.0, until - time.time()) + timeout,
        )
        with self.lock:
            relists = self.met(pod, created - BEYOND_SECONDS, until)
            period = self.relist_period(created - BEYOND_SECONDS, until)
        sync = self.housekeeping
        if not ready or sync is None or not relists:
            return None
        shift = math.ceil(time.time() + lead - created)
        return Placement(tuple(relists), period, phase(sync), created + shift, shift)
