"""The real kubelet's tick phases, read from its log, for the SimNode that mirrors it.

Where a step shows up on a node depends on where in its one-second ticks the pod's life
falls: a container that exits just before a relist shows dead at once, one that exits just
after shows dead a second later; a back-off's end is picked up at the next sync-loop tick;
startTime and startedAt are truncated to whole seconds. The real kubelet's ticks have
phases of their own (the sync loop's from the kubelet's start, the relist's drifting by the
time each relist takes), and so does every SimNode (:class:`simpod.core.ticker.Tickers`).
A SimPod meeting other phases than its Pod differs from it by a tick for reasons that say
nothing about the lifecycle.

So the SimPod's node is pinned to the real node's phases (``spec.tickPhases``) and the
SimPod is created a whole number of seconds after the Pod: it then meets the relist, the
sync loop and the wall clock's seconds at the same points of its life. The kubelet logs
what tells both ticks at the verbosity the real node runs ``generic.go`` and ``kubelet.go`` with
(``--vmodule=kubelet=4,generic=5``): each relist as it begins ("GenericPLEG: Relisting":
the relist's period), each PLEG event the sync loop takes ("SyncLoop (PLEG)") and each
housekeeping tick (its ticker starts with the sync loop's, so it has its phase). The Pod's
first PLEG event gives the relist's phase as the Pod meets it: a relist inspects the pods
that changed one after the other and syncs each as it is done with it, so under the
suite's load a pod's relist comes up to ~0.1 s after the relist began.
"""

from __future__ import annotations

import datetime
import math
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

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
RELISTS_KEPT = 30
MIN_GAPS = 5


def phase(moment: float) -> float:
    return moment % TICK_SECONDS


@dataclass(frozen=True)
class Placement:
    """The real node's ticks as the Pod met them, and when the SimPod is created."""

    relist: float  # wall clock: the Pod's first PLEG event
    period: float  # the relist's recent period
    sync: float  # the sync loop's phase
    at: float  # wall clock: a whole number of seconds after the Pod
    shift: int  # that number

    def describe(self) -> str:
        return (
            f"relist at {phase(self.relist):.3f} every {self.period:.3f} s, sync loop at "
            f"{self.sync:.3f}; SimPod {self.shift} s later"
        )

    def tick_phases(self) -> dict[str, float]:
        """The SimNode's ``spec.tickPhases``: its relists fall where the real node's fell
        for the Pod, ``shift`` seconds later, with the real relist's period."""
        period = round(self.period, 4)
        relist = round((self.relist + self.shift) % period, 4) % period
        return {"relist": relist, "relistPeriod": period, "syncLoop": round(self.sync, 3)}


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
                self.relists = [*self.relists[-RELISTS_KEPT:], tick.at]
            else:
                self.events.setdefault(tick.pod, []).append(tick.at)

    def relist_period(self) -> float:
        """The relist's recent period: a second plus the time each relist takes (~10 ms
        under the suite's load), the median gap between recent relists (a mean would carry
        the odd relist that took seconds, as some do while the node starts)."""
        gaps = sorted(b - a for a, b in zip(self.relists, self.relists[1:], strict=False))
        return gaps[len(gaps) // 2] if len(gaps) >= MIN_GAPS else TICK_SECONDS

    def _first_event(self, pod: str, *, since: float, timeout: float) -> float | None:
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                self._read()
                found = [at for at in self.events.get(pod, ()) if at >= since]
            if found:
                return found[0]
            if time.monotonic() > deadline:
                return None
            time.sleep(0.02)

    def place(self, pod: str, *, created: float, timeout: float, lead: float) -> Placement | None:
        """The phases the Pod ``pod`` (``namespace/name``, created at the wall-clock
        ``created``) met, once its first PLEG event shows them (waiting up to ``timeout``),
        and the first moment a whole number of seconds after ``created`` and at least
        ``lead`` from now; None when the log does not show the real node's ticks."""
        relist = self._first_event(pod, since=created, timeout=timeout)
        with self.lock:
            period = self.relist_period()
        sync = self.housekeeping
        if sync is None or relist is None:
            return None
        shift = math.ceil(time.time() + lead - created)
        return Placement(relist, period, phase(sync), created + shift, shift)
