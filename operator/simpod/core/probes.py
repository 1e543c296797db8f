"""Probe workers' state (pkg/kubelet/prober/worker.go), one per container and probe kind.

The core decides *when* a probe runs and what its outcome means; the runtime only executes it
and reports success or failure. A worker belongs to one container instance (its attempt
number): a restart resets it to the kind's initial result. Results only flip after
``successThreshold``/``failureThreshold`` consecutive outcomes; a liveness or startup failure
puts the worker on hold until the container is replaced, as the kubelet does.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from simpod.core.model import ProbeKind, ProbeSpec


class ProbeResult(enum.StrEnum):
    SUCCESS = "Success"
    FAILURE = "Failure"
    UNKNOWN = "Unknown"


INITIAL_RESULT: Mapping[ProbeKind, ProbeResult] = {
    ProbeKind.READINESS: ProbeResult.FAILURE,
    ProbeKind.LIVENESS: ProbeResult.SUCCESS,
    ProbeKind.STARTUP: ProbeResult.UNKNOWN,
}


@dataclass(frozen=True)
class ProbeOutcome:
    """One probe run reported by the runtime for container instance ``attempt``."""

    container: str
    kind: ProbeKind
    attempt: int
    success: bool
    message: str = ""
    # The moment the probe was issued (its RunProbe's ``issued_at``): which run it ends.
    issued_at: float = field(kw_only=True)


def probe_runs(kind: ProbeKind, *, started: bool, deleting: bool) -> bool:
    """Startup probes run until the container started; the others only after. Deletion stops
    liveness and startup probes, readiness goes on (the kubelet never forces Ready False)."""
    if deleting and kind is not ProbeKind.READINESS:
        return False
    return (kind is ProbeKind.STARTUP) != started


@dataclass(frozen=True)
class ProbeWorker:
    kind: ProbeKind
    attempt: int
    result: ProbeResult
    last: ProbeResult | None = None
    run: int = 0
    on_hold: bool = False
    next_at: float | None = None
    # Readiness only: the kubelet runs a probe at once (resetting the worker's ticker) in
    # each sync that finds a started container not ready: the one that first shows it
    # running, the next (the worker's first result), and the one after a change to failure.
    listed: bool = False
    trigger_at: float | None = None
    # A worker runs one probe at a time: ticks and triggers that come while one is in flight
    # wait for its outcome (the Go worker's ticker and trigger channels hold one each). The
    # outcome is due by the probe's timeout, which bounds the wait if it is lost; an outcome
    # that comes later still (a probe that took its whole timeout, and then some) ends its
    # own run only, never the one issued after it.
    in_flight: float | None = None  # when the probe in flight was issued
    # Startup only: the worker's first result for an instance (its initial one) is news,
    # so the kubelet syncs the pod for it, at the next relist (a pod's sync waits for a
    # relist newer than its previous sync). A readiness worker's first result, at the same
    # tick, is news too: queued behind that sync, it makes another at the relist after
    # (kubelet -v=4 logs show both; see _Sync.verdict_sync).
    synced_at: float | None = None
    # Startup and liveness: when the sync that acts on the verdict (kill, or started) runs.
    acts_at: float | None = None

    @classmethod
    def fresh(cls, kind: ProbeKind, attempt: int) -> ProbeWorker:
        return cls(kind=kind, attempt=attempt, result=INITIAL_RESULT[kind])

    @property
    def tripped(self) -> bool:
        """A liveness or startup probe reached its failure threshold: kill the container."""
        return self.kind is not ProbeKind.READINESS and self.result is ProbeResult.FAILURE

    def record(self, spec: ProbeSpec, success: bool, *, issued_at: float) -> ProbeWorker:
        """Count one outcome (of the probe issued at ``issued_at``, which it ends if that
        one is in flight); the result changes only once a threshold is reached."""
        done = replace(self, in_flight=None) if issued_at == self.in_flight else self
        if done.on_hold:
            return done
        outcome = ProbeResult.SUCCESS if success else ProbeResult.FAILURE
        run = done.run + 1 if outcome is done.last else 1
        threshold = spec.success_threshold if success else spec.failure_threshold
        if run < threshold:
            return replace(done, last=outcome, run=run)
        worker = replace(done, last=outcome, run=run, result=outcome)
        if worker.tripped:
            return replace(worker, on_hold=True, run=0)
        return worker

    def due_at(self, spec: ProbeSpec, *, origin: float, started_at: float) -> float | None:
        """When this worker next probes. As the kubelet's prober, a worker ticks every
        period from when the pod was admitted (``origin``); its first tick finds no running
        container, and ticks before initialDelaySeconds from the container's start (or
        before gating lifts) are skipped. So the first probe is the first tick after that,
        never at the very instant a container starts."""
        if self.on_hold:
            return None
        # The prober reads startedAt from the status, in whole seconds.
        earliest = math.floor(started_at) + spec.initial_delay_seconds
        period = spec.period_seconds
        if self.next_at is not None:
            return _tick_from(self.next_at, earliest, period)
        # Already past, when first shown: see scheduled.
        return max(origin + period, _tick_from(origin, earliest, period))

    def scheduled(
        self, spec: ProbeSpec, *, origin: float, started_at: float, now: float
    ) -> ProbeWorker:
        """The worker with its next tick fixed, from the first sync whose status shows the
        container ready to probe (running; started, for liveness and readiness): the ticks
        before found nothing to probe in the status and passed, so a tick already past is
        not run late but replaced by the first one from now."""
        if self.next_at is not None:
            return self
        due = self.due_at(spec, origin=origin, started_at=started_at)
        if due is None:
            return self
        if due < now:
            due = _tick_from(origin, now, spec.period_seconds)
        return replace(self, next_at=due)

    def triggered(self, spec: ProbeSpec, now: float, *, started_at: float) -> bool:
        """Whether a trigger is due now (the ticker restarts from it either way); the probe
        itself runs only once the initial delay has passed."""
        if self.trigger_at is None or self.trigger_at > now or self.result is ProbeResult.SUCCESS:
            return False
        return now >= math.floor(started_at) + spec.initial_delay_seconds

    def restarted(self, spec: ProbeSpec, now: float) -> ProbeWorker:
        """The ticker restarts from now: its next tick is a period away."""
        return replace(self, next_at=now + spec.period_seconds)

    def issued(self, spec: ProbeSpec, now: float) -> ProbeWorker:
        """A probe was handed to the runtime now: the ticker restarts, and nothing else runs
        until its outcome is in (see :meth:`free`)."""
        return replace(self.restarted(spec, now), in_flight=now)

    def busy_until(self, spec: ProbeSpec) -> float | None:
        """When the probe in flight is over at the latest (its outcome due by its timeout)."""
        return None if self.in_flight is None else self.in_flight + spec.timeout_seconds

    def free(self, spec: ProbeSpec, now: float) -> bool:
        """No probe of this worker is in flight."""
        until = self.busy_until(spec)
        return until is None or now >= until

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"attempt": self.attempt, "result": self.result.value}
        if self.last is not None:
            out["last"] = self.last.value
            out["run"] = self.run
        if self.on_hold:
            out["onHold"] = True
        if self.next_at is not None:
            out["nextAt"] = self.next_at
        if self.listed:
            out["listed"] = True
        if self.trigger_at is not None:
            out["triggerAt"] = self.trigger_at
        if self.in_flight is not None:
            out["inFlight"] = self.in_flight
        if self.synced_at is not None:
            out["syncedAt"] = self.synced_at
        if self.acts_at is not None:
            out["actsAt"] = self.acts_at
        return out

    @classmethod
    def from_dict(cls, kind: ProbeKind, raw: Mapping[str, Any]) -> ProbeWorker:
        last = raw.get("last")
        next_at, trigger_at, flight = raw.get("nextAt"), raw.get("triggerAt"), raw.get("inFlight")
        synced, acts = raw.get("syncedAt"), raw.get("actsAt")
        return cls(
            kind=kind,
            attempt=int(raw["attempt"]),
            result=ProbeResult(raw["result"]),
            last=ProbeResult(last) if last else None,
            run=int(raw.get("run", 0)),
            on_hold=bool(raw.get("onHold", False)),
            next_at=float(next_at) if next_at is not None else None,
            listed=bool(raw.get("listed", False)),
            trigger_at=float(trigger_at) if trigger_at is not None else None,
            in_flight=float(flight) if flight is not None else None,
            synced_at=float(synced) if synced is not None else None,
            acts_at=float(acts) if acts is not None else None,
        )


def _tick_from(base: float, moment: float, period: float) -> float:
    """The first tick at or after ``moment`` of a ticker that ticks at ``base`` and every
    ``period`` after (``base`` itself when ``moment`` is earlier)."""
    return base + max(0, math.ceil((moment - base) / period - 1e-9)) * period


def failure_event_message(kind: ProbeKind, output: str) -> str:
    """The Unhealthy event's text."""
    return f"{kind.label} probe failed: {output}"
