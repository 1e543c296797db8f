"""Deadlines: graceful termination and activeDeadlineSeconds.

The API server ignores a delete's gracePeriodSeconds for custom resources, so a deletion's grace
comes from the annotation ``simpod.dev/grace-period-seconds`` (set by ``simpod delete
--grace-period``), else ``spec.terminationGracePeriodSeconds``, else 30 s. The kubelet's stop
sequence is preStop (counted against the grace), TERM, then KILL when the grace is spent, but
never less than 2 s after TERM.
"""

from __future__ import annotations

import math

from simpod.core.model import Pod, PodSpec, ProbeSpec

GRACE_ANNOTATION = "simpod.dev/grace-period-seconds"
DEFAULT_GRACE_SECONDS = 30
MINIMUM_STOP_SECONDS = 2.0

DEADLINE_EXCEEDED_REASON = "DeadlineExceeded"
DEADLINE_EXCEEDED_MESSAGE = "Pod was active on the node longer than the specified deadline"


def spec_grace_seconds(spec: PodSpec) -> int:
    if spec.termination_grace_period_seconds is None:
        return DEFAULT_GRACE_SECONDS
    return spec.termination_grace_period_seconds


def deletion_grace_seconds(pod: Pod) -> int:
    """The grace of this deletion: the override annotation wins when it is a valid integer."""
    override = pod.annotations.get(GRACE_ANNOTATION, "").strip()
    if override.isdigit():
        return int(override)
    return spec_grace_seconds(pod.spec)


def probe_kill_grace_seconds(spec: PodSpec, probe: ProbeSpec) -> int:
    """A liveness/startup kill uses the probe's own terminationGracePeriodSeconds if set."""
    if probe.termination_grace_period_seconds is not None:
        return probe.termination_grace_period_seconds
    return spec_grace_seconds(spec)


def deletion_deadline(pod: Pod, previous: float | None, now: float) -> float:
    """When KILL is due for a deleted pod. As in the kubelet, the grace counts from when the
    node starts stopping the pod (the first sighting, kept in the bookkeeping), not from
    ``deletionTimestamp``: that is whole seconds, and times the time scale a second of
    rounding could eat most of a grace. A later, shorter grace (the annotation lowered)
    counts from now and may only shorten."""
    grace = deletion_grace_seconds(pod)
    if previous is None:
        return now + grace
    return min(previous, now + grace)


def stop_timeout(grace: float, pre_stop_elapsed: float) -> float:
    """Seconds between TERM and KILL: what preStop left of the grace, at least 2 s.
    A grace of 0 (force) means KILL at once."""
    if grace <= 0:
        return 0.0
    return max(grace - pre_stop_elapsed, MINIMUM_STOP_SECONDS)


def active_deadline_at(spec: PodSpec, start_time: float | None) -> float | None:
    """activeDeadlineSeconds counts from status.startTime, init containers included, as
    the status manager keeps it: in whole seconds (normalizeStatus), so up to a second
    early."""
    if spec.active_deadline_seconds is None or start_time is None:
        return None
    return math.floor(start_time) + spec.active_deadline_seconds
