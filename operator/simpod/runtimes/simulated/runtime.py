"""The `simulated` runtime: containers are timelines computed from their `sim` scripts.

Nothing runs and nothing is timed by this module: each container instance is a record of
when it was created (and asked to stop), and its state at any moment follows from its
script (:mod:`simpod.runtimes.simulated.script`). That makes thousands of pods cheap,
deterministic, and restorable from ``status.sim.runtime`` after an operator restart.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from simpod.core.grace import stop_timeout
from simpod.core.model import ContainerSpec, Pod, ProbeSpec
from simpod.core.probes import ProbeOutcome
from simpod.core.runtime import (
    KILL_EXIT_CODE,
    Action,
    Instance,
    InstanceState,
    KillContainer,
    Observation,
    PreStopFailed,
    ResetPod,
    RunProbe,
    StartContainer,
)
from simpod.runtimes.simulated.script import AttemptScript, resolve

SIGKILL = 9


@dataclass(frozen=True)
class Record:
    """One container instance: what was asked of it and when (kubelet seconds)."""

    attempt: int
    # When it was created and started: the start action's starts_at, the kubelet's create
    # and start calls' time after the sync (the stored name predates that latency).
    created_at: float
    kill_at: float | None = None
    kill_grace: float | None = None
    pre_stop_reported: bool = False


@dataclass(frozen=True)
class Timeline:
    """The moments one instance goes through, derived from its record and script."""

    start: float  # the process runs
    running: float  # postStart done
    post_start_error: str | None
    exit: float  # math.inf: still running
    exit_code: int
    signal: int
    pre_stop_failure: float | None  # when the preStop hook's run ends in an error


def _hook_message(hook: str, handler: Mapping[str, Any]) -> str:
    if "httpGet" in handler:
        return f"{hook} hook failed: HTTP lifecycle hook returned status 500"
    if "sleep" in handler:
        return f"{hook} hook failed: sleep interrupted"
    command = (handler.get("exec") or {}).get("command") or []
    return f"{hook} hook failed: command {command!r} exited with 1"


def timeline(c: ContainerSpec, record: Record, script: AttemptScript) -> Timeline:
    start = record.created_at + script.start_delay
    post_start = script.post_start.seconds if c.post_start else 0.0
    running = start + post_start
    error = None
    if c.post_start and not script.post_start.succeed:
        error = _hook_message("PostStartHook", c.post_start)
    exit_at, code, signal = math.inf, 0, 0
    if script.run_seconds is not None:
        exit_at, code = start + script.run_seconds, script.exit_code
    pre_stop_failure = None
    if record.kill_at is not None and record.kill_grace is not None:
        grace = record.kill_grace
        pre_stop = min(script.pre_stop.seconds, grace) if c.pre_stop else 0.0
        term_at = max(record.kill_at + pre_stop, start) if grace > 0 else record.kill_at
        kill_at = term_at + stop_timeout(grace, pre_stop)
        term = script.on_term
        killed = (kill_at, KILL_EXIT_CODE, SIGKILL)
        if not term.ignore and term_at + term.exit_after < kill_at:
            killed = (term_at + term.exit_after, term.exit_code, 0)
        if record.kill_at < start:
            killed = (record.kill_at, KILL_EXIT_CODE, SIGKILL)  # never started
        if killed[0] < exit_at:
            exit_at, code, signal = killed
        if c.pre_stop and grace > 0:
            hook_end = record.kill_at + script.pre_stop.seconds
            if hook_end > exit_at:
                pre_stop_failure = exit_at  # still running when the container ended
            elif not script.pre_stop.succeed:
                pre_stop_failure = hook_end
    return Timeline(start, running, error, exit_at, code, signal, pre_stop_failure)


def _probe_message(probe: ProbeSpec, pod_ip: str, *, timed_out: bool) -> str:
    """Failure texts in the shapes the kubelet's probers report."""
    handler = probe.handler
    if "httpGet" in handler:
        get = handler["httpGet"]
        scheme = str(get.get("scheme", "HTTP")).lower()
        url = f"{scheme}://{pod_ip}:{get.get('port')}{get.get('path', '/')}"
        if timed_out:
            return (
                f'Get "{url}": context deadline exceeded '
                "(Client.Timeout exceeded while awaiting headers)"
            )
        return "HTTP probe failed with statuscode: 503"
    if "tcpSocket" in handler:
        reason = "i/o timeout" if timed_out else "connect: connection refused"
        return f"dial tcp {pod_ip}:{handler['tcpSocket'].get('port')}: {reason}"
    if "grpc" in handler:
        if timed_out:
            return "timeout: health rpc did not complete within 1s"
        return 'service unhealthy (responded with "NOT_SERVING")'
    command = (handler.get("exec") or {}).get("command") or []
    return f"command {' '.join(map(str, command))!r} timed out" if timed_out else ""


class SimulatedPodRuntime:
    """One pod's containers on the simulated runtime (see :class:`PodRuntime`)."""

    def __init__(
        self, *, seed: int = 0, pod_ip: str = "", restore: Mapping[str, Any] | None = None
    ) -> None:
        self.seed = seed
        self.pod_ip = pod_ip
        self.records: dict[str, Record] = {
            name: Record(**raw) for name, raw in (restore or {}).items()
        }
        self.pending: list[tuple[float, ProbeOutcome]] = []

    def _script(self, c: ContainerSpec, attempt: int) -> AttemptScript:
        return resolve(c.raw.get("sim"), container=c.name, attempt=attempt, seed=self.seed)

    def _timelines(self, pod: Pod) -> dict[str, tuple[ContainerSpec, Record, Timeline]]:
        out = {}
        for name, record in self.records.items():
            c = pod.spec.container(name)
            if c is not None:
                out[name] = (c, record, timeline(c, record, self._script(c, record.attempt)))
        return out

    def instances(self, pod: Pod, now: float) -> Mapping[str, Instance]:
        result = {}
        for name, (_, record, t) in self._timelines(pod).items():
            started = t.start if now >= t.start else None
            if now >= t.exit:
                state = InstanceState.EXITED
            elif now >= t.running and t.post_start_error is None:
                state = InstanceState.RUNNING
            else:
                state = InstanceState.CREATED
            result[name] = Instance(
                name=name,
                attempt=record.attempt,
                state=state,
                started_at=started if t.start <= t.exit else None,
                finished_at=t.exit if state is InstanceState.EXITED else None,
                exit_code=t.exit_code,
                signal=t.signal,
                post_start_error=t.post_start_error if now >= t.running else None,
                stopping=record.kill_at is not None,
            )
        return result

    def take_observations(self, pod: Pod, now: float) -> Sequence[Observation]:
        due: list[Observation] = [o for at, o in self.pending if at <= now]
        self.pending = [(at, o) for at, o in self.pending if at > now]
        for name, (_, record, t) in self._timelines(pod).items():
            failed = t.pre_stop_failure
            if failed is not None and not record.pre_stop_reported and failed <= now:
                self.records[name] = replace(record, pre_stop_reported=True)
                due.append(PreStopFailed(name))
        return due

    def next_change(self, pod: Pod, now: float) -> float | None:
        moments = [at for at, _ in self.pending]
        for _, record, t in self._timelines(pod).values():
            moments += [t.start, t.running, t.exit]
            if t.pre_stop_failure is not None and not record.pre_stop_reported:
                moments.append(t.pre_stop_failure)
        future = [m for m in moments if now < m < math.inf]
        return min(future) if future else None

    async def apply(self, pod: Pod, action: Action, now: float) -> None:
        if isinstance(action, StartContainer):
            self.records[action.container.name] = Record(
                attempt=action.attempt, created_at=action.starts_at
            )
        elif isinstance(action, KillContainer):
            record = self.records.get(action.container.name)
            if record is not None and record.attempt == action.attempt and record.kill_at is None:
                self.records[action.container.name] = replace(
                    record, kill_at=now, kill_grace=action.grace_seconds
                )
        elif isinstance(action, RunProbe):
            self._probe(pod, action, now)
        elif isinstance(action, ResetPod):
            self.records.clear()
            self.pending.clear()

    def _probe(self, pod: Pod, action: RunProbe, now: float) -> None:
        record = self.records.get(action.container.name)
        if record is None:
            return
        script = self._script(action.container, record.attempt)
        probe_script = script.probe(action.kind)
        started = timeline(action.container, record, script).start
        success = probe_script.passes(now - started)
        at = now + action.probe.timeout_seconds if probe_script.hang else now
        hang = probe_script.hang
        message = "" if success else _probe_message(action.probe, self.pod_ip, timed_out=hang)
        outcome = ProbeOutcome(
            action.container.name,
            action.kind,
            action.attempt,
            success,
            message,
            issued_at=action.issued_at,
        )
        self.pending.append((at, outcome))

    def state(self) -> Mapping[str, Any]:
        return {name: asdict(record) for name, record in self.records.items()}

    async def release(self) -> None:
        self.records.clear()
        self.pending.clear()
