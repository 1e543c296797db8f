"""One kubelet sync of one pod: the decision at the heart of the agent.

:func:`sync_pod` is the equivalent of the kubelet's computePodActions plus status generation.
It takes the pod, the status the core produced last time (with its bookkeeping, stored under
``status.sim``), the runtime's report on each container's latest instance, one-shot
observations (probe outcomes, preStop failures) and the time, and returns a
:class:`PodDecision`: the new status, what the runtime must do, the Events to record and when
to call again. It is level-based: calling it twice with the same inputs asks for nothing new,
and an operator restart loses nothing as long as the status and the runtime's instances
survive.

Order of work, as the kubelet's: init containers one at a time (sidecars start in order and
the next one waits until the sidecar has *started*), app containers in parallel once
initialised, restarts per restartPolicy with crash-loop backoff, probe-driven kills; on
deletion, deadline or completion every app container is stopped first, then sidecars one by
one in reverse order.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from simpod.core.backoff import (
    Backoff,
    BackoffSettings,
    backoff_key,
    go_duration,
    requeue_jitter,
)
from simpod.core.conditions import pod_conditions
from simpod.core.grace import (
    DEADLINE_EXCEEDED_MESSAGE,
    DEADLINE_EXCEEDED_REASON,
    active_deadline_at,
    deletion_deadline,
    probe_kill_grace_seconds,
    spec_grace_seconds,
)
from simpod.core.model import (
    Condition,
    ConditionStatus,
    ContainerSpec,
    ContainerState,
    ContainerStatus,
    Pod,
    PodPhase,
    PodStatus,
    ProbeKind,
    ProbeSpec,
    RestartPolicy,
    Running,
    Terminated,
    Waiting,
)
from simpod.core.phase import get_phase
from simpod.core.probes import (
    ProbeOutcome,
    ProbeResult,
    ProbeWorker,
    failure_event_message,
    probe_runs,
)
from simpod.core.relist import exit_listed, unexited
from simpod.core.runtime import (
    Action,
    Instance,
    InstanceState,
    KillContainer,
    KillReason,
    Observation,
    PreStopFailed,
    ResetPod,
    RunProbe,
    StartContainer,
)
from simpod.core.serialize import JSON, status_to_dict
from simpod.core.ticker import LONE_NODE, Tickers

CRASH_LOOP = "CrashLoopBackOff"
DEADLINE_SYNCS = 4  # DeadlineExceeded Events per pod: see _Sync.deadline_event
RESYNC_SECONDS = 60.0  # the kubelet's syncFrequency: a pod is synced at least this often
# A sync that waits for the next relist starts once that relist has come to the pod and the
# pod worker has picked the pod up: about 20 ms after the relist's tick on the real node
# (the second readiness trigger comes that long after the probe ticker's own tick).
SYNC_AFTER_RELIST_SECONDS = 0.02
# A new pod's first sync creates its sandbox (RunPodSandbox: the pause container, the
# network) before its first container: that container's process starts 0.12-0.15 s after
# the sync began on the real node (one container, bridge CNI, quiet machine), 0.15-0.2 s
# under the conformance suite's load: the sandbox, then the container's own start
# (CREATE_SECONDS). Whether a relist shows the container running depends on it.
SANDBOX_SECONDS = 0.08
# A container's process runs this long after the sync that starts it: the image check,
# CreateContainer and StartContainer. Measured on the real node with containers that
# print the wall clock as they start (busybox adjtimex): 62-64 ms after the sync on a
# quiet node, 46-97 ms (median 68) with six pods restarting together, more when a relist
# hands many pods over at once. The process runtime adds its own ~6 ms (the held
# container's release until its command runs). A container that runs for whole seconds
# ends just before or after a relist depending on it (sidecar-restarts: the app's exit).
CREATE_SECONDS = 0.065
# How long a new pod's first sync takes on the real node (SyncPod enter to exit: sandbox,
# first container's start, its Events), median of 36 pods under the conformance suite's
# load (0.12-0.34 s). A relist within it reports the sandbox while the pod worker is busy.
FIRST_SYNC_SECONDS = 0.18


class _Step(enum.Enum):
    """An init container's verdict for the ones after it."""

    DONE = "done"
    WAIT = "wait"
    FAILED = "failed"


class EventType(enum.StrEnum):
    NORMAL = "Normal"
    WARNING = "Warning"


@dataclass(frozen=True)
class Event:
    """An Event on the pod; ``field_path`` names the container as the kubelet's do."""

    reason: str
    message: str
    type: EventType = EventType.NORMAL
    field_path: str = ""


@dataclass(frozen=True)
class KubeletSettings:
    backoff: BackoffSettings = field(default_factory=BackoffSettings)


@dataclass(frozen=True)
class CrashWait:
    """The kubelet's reason cache for a start refused by the crash-loop back-off.

    The status of the sync that refuses was written before the refusal, so the container
    shows its terminated state; the ``CrashLoopBackOff`` reason appears with the pod's next
    sync, which the kubelet schedules for when the back-off ends (or its one-minute resync,
    if sooner). Each refusing sync posts a ``BackOff`` Event.
    """

    attempt: int  # the exited instance the refusal is about
    until: float  # the back-off's end: the restart
    shown_from: float  # the next sync: the reason is in the status from then on
    next_sync: float  # the next refusing sync (a resync), or ``until``
    message: str

    def to_dict(self) -> JSON:
        return {
            "attempt": self.attempt,
            "until": self.until,
            "shownFrom": self.shown_from,
            "nextSync": self.next_sync,
            "message": self.message,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> CrashWait:
        return cls(
            attempt=int(raw["attempt"]),
            until=float(raw["until"]),
            shown_from=float(raw["shownFrom"]),
            next_sync=float(raw["nextSync"]),
            message=str(raw.get("message") or ""),
        )


def _terminated_to_dict(t: Terminated) -> JSON:
    return {
        "exitCode": t.exit_code,
        "reason": t.reason,
        "message": t.message,
        "signal": t.signal,
        "startedAt": t.started_at,
        "finishedAt": t.finished_at,
    }


def _terminated_from_dict(raw: Mapping[str, Any]) -> Terminated:
    started, finished = raw.get("startedAt"), raw.get("finishedAt")
    return Terminated(
        exit_code=int(raw.get("exitCode") or 0),
        reason=str(raw.get("reason") or ""),
        message=str(raw.get("message") or ""),
        signal=int(raw.get("signal") or 0),
        started_at=float(started) if started is not None else None,
        finished_at=float(finished) if finished is not None else None,
    )


@dataclass(frozen=True)
class PodBook:
    """The kubelet's memory that a Pod's status does not show; stored as ``status.sim``."""

    backoff: Backoff = field(default_factory=Backoff)
    probes: Mapping[str, ProbeWorker] = field(default_factory=dict)
    hashes: Mapping[str, str] = field(default_factory=dict)  # spec hash each ran with
    announced: Mapping[str, int] = field(default_factory=dict)  # last attempt with "Started"
    waits: Mapping[str, CrashWait] = field(default_factory=dict)
    # How each container's previous instance ended: its lastState once the next instance
    # is relisted (the status may never have shown that instance terminated).
    replaced: Mapping[str, Terminated] = field(default_factory=dict)
    grace_deadline: float | None = None
    deadline_events: int = 0  # DeadlineExceeded Events posted (see _Sync.deadline_event)
    restarting: bool = False
    terminating_at: float | None = None  # when the kubelet stops the pod for good
    stopped_at: float | None = None  # every container stopped after that
    # The pod completed and the kubelet stopped what still ran (sidecars) together with the
    # sandbox (killPodWithSyncResult): the sandbox is down once they are.
    completed_pod_killed: bool = False
    # When the kubelet last synced the pod for news: a container change a relist found (a
    # PLEG event) or a probe verdict acted on. A verdict's sync waits for a newer relist.
    synced_at: float | None = None
    # A sync queued behind one in progress: the pod worker holds one pending update, whose
    # sync waits for a relist newer than the one before (see _Sync.pending_chain).
    pending_sync_at: float | None = None
    # Each readiness gate's condition status as the pod was last synced with (none: the
    # condition was missing); another client's change to one is acted on by a sync.
    gates: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> JSON:
        return {
            "backoff": self.backoff.to_dict(),
            "probes": {k: w.to_dict() for k, w in self.probes.items()},
            "hashes": dict(self.hashes),
            "announced": dict(self.announced),
            "waits": {k: w.to_dict() for k, w in self.waits.items()},
            "replaced": {k: _terminated_to_dict(t) for k, t in self.replaced.items()},
            "graceDeadline": self.grace_deadline,
            "deadlineEvents": self.deadline_events,
            "restarting": self.restarting,
            "terminatingAt": self.terminating_at,
            "stoppedAt": self.stopped_at,
            "completedPodKilled": self.completed_pod_killed,
            "syncedAt": self.synced_at,
            "pendingSyncAt": self.pending_sync_at,
            "gates": dict(self.gates),
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any] | None, settings: KubeletSettings) -> PodBook:
        """Read ``status.sim``; a missing or partial block means a fresh pod."""
        raw = raw or {}
        probes = {}
        for key, value in (raw.get("probes") or {}).items():
            kind = ProbeKind(str(key).rsplit("/", 1)[1])
            probes[str(key)] = ProbeWorker.from_dict(kind, value)

        def moment(key: str) -> float | None:
            value = raw.get(key)
            return float(value) if value is not None else None

        return cls(
            backoff=Backoff.from_dict(raw.get("backoff") or {}, settings.backoff),
            probes=probes,
            hashes={str(k): str(v) for k, v in (raw.get("hashes") or {}).items()},
            announced={str(k): int(v) for k, v in (raw.get("announced") or {}).items()},
            waits={str(k): CrashWait.from_dict(v) for k, v in (raw.get("waits") or {}).items()},
            replaced={
                str(k): _terminated_from_dict(v) for k, v in (raw.get("replaced") or {}).items()
            },
            grace_deadline=moment("graceDeadline"),
            deadline_events=int(raw.get("deadlineEvents") or 0),
            restarting=bool(raw.get("restarting")),
            terminating_at=moment("terminatingAt"),
            stopped_at=moment("stoppedAt"),
            completed_pod_killed=bool(raw.get("completedPodKilled")),
            synced_at=moment("syncedAt"),
            pending_sync_at=moment("pendingSyncAt"),
            gates={str(k): str(v) for k, v in (raw.get("gates") or {}).items()},
        )


@dataclass(frozen=True)
class PodDecision:
    status: PodStatus
    book: PodBook
    actions: tuple[Action, ...]
    events: tuple[Event, ...]
    wake_at: float | None
    finished: bool  # a deleted pod with nothing left running: write status, drop finalizer
    # Nothing to write yet: a new pod whose sandbox is being made. The kubelet writes its
    # first status (Pending, ContainerCreating) as the sync begins; simpod writes it with
    # the sync that starts the first container, a tenth of a second later: one write per
    # pod fewer.
    hold: bool = False


def status_document(status: PodStatus, book: PodBook, *, scale: float = 1.0) -> JSON:
    """The status to write: core/v1 fields plus the bookkeeping under ``sim`` (which stays
    in kubelet seconds: only the agent reads it)."""
    return {**status_to_dict(status, scale=scale), "sim": book.to_dict()}


def sync_pod(
    pod: Pod,
    previous: PodStatus,
    book: PodBook,
    runtime: Mapping[str, Instance],
    *,
    now: float,
    observations: Sequence[Observation] = (),
    shown: Mapping[str, Instance] | None = None,
    tickers: Tickers = LONE_NODE,
    relist_news: bool = False,
) -> PodDecision:
    """Decide one sync. ``runtime`` maps container names to the instance the sync acts on,
    ``shown`` to the one its status shows (see :mod:`simpod.core.relist`; the same when
    not given); ``tickers`` are the node's relist and sync-loop timing; ``relist_news``:
    the relist behind ``shown`` found a change in the pod's containers (a PLEG event)."""
    sync = _Sync(
        pod, previous, book, runtime, shown=shown, now=now, tickers=tickers, news=relist_news
    )
    return sync.run(observations)


def _probe_key(name: str, kind: ProbeKind) -> str:
    return f"{name}/{kind.value}"


def _terminated(inst: Instance) -> Terminated:
    return Terminated(
        exit_code=inst.exit_code,
        reason=inst.reason or ("Completed" if inst.exit_code == 0 else "Error"),
        message=inst.message,
        signal=inst.signal,
        started_at=inst.started_at,
        finished_at=inst.finished_at,
    )


def _field_path(c: ContainerSpec, init: bool) -> str:
    return f"spec.{'initContainers' if init else 'containers'}{{{c.name}}}"


class _Sync:
    """The working state of one :func:`sync_pod` call (mutable, never escapes it)."""

    def __init__(
        self,
        pod: Pod,
        previous: PodStatus,
        book: PodBook,
        runtime: Mapping[str, Instance],
        *,
        shown: Mapping[str, Instance] | None,
        now: float,
        tickers: Tickers,
        news: bool,
    ) -> None:
        self.pod, self.spec, self.previous, self.now = pod, pod.spec, previous, now
        self.grid, self.ticks = tickers.relist, tickers.sync
        self.runtime = dict(runtime)
        self.shown = dict(runtime if shown is None else shown)
        self.view = self.shown  # what the status is made of: see run()
        self.book = book
        self.backoff = book.backoff
        self.probes = dict(book.probes)
        self.hashes = dict(book.hashes)
        self.announced = dict(book.announced)
        self.actions: list[Action] = []
        self.events: list[Event] = []
        self.wakes: list[float] = []
        self.waits = dict(book.waits)
        self.replaced = dict(book.replaced)
        self.forgotten: dict[str, Instance] = {}  # instances dropped by a pod restart
        self.busy: set[str] = set()  # started or killed in this sync
        self.news = news
        self.synced_at = now if news else book.synced_at  # a PLEG event is a sync
        self.pending_sync_at = book.pending_sync_at
        self.init_names = {c.name for c in self.spec.init_containers}

    # ------------------------------------------------------------------ helpers

    def emit(self, reason: str, message: str, *, warning: bool = False, path: str = "") -> None:
        kind = EventType.WARNING if warning else EventType.NORMAL
        self.events.append(Event(reason, message, kind, path))

    def path(self, c: ContainerSpec) -> str:
        return _field_path(c, c.name in self.init_names)

    def live(self, name: str) -> Instance | None:
        inst = self.runtime.get(name)
        return inst if inst is not None and inst.live else None

    def worker(self, c: ContainerSpec, kind: ProbeKind) -> ProbeWorker | None:
        return self.probes.get(_probe_key(c.name, kind)) if c.probe(kind) else None

    def started(
        self, c: ContainerSpec, view: Mapping[str, Instance] | None = None, *, shown: bool = False
    ) -> bool:
        """Running, postStart done and the startup probe (if any) passed: as the pod's
        sync sees it, or as the status shows it (``shown``: the status manager sets it as
        the probe passes, before the sync that acts on it)."""
        inst = (self.runtime if view is None else view).get(c.name)
        if inst is None or inst.state is not InstanceState.RUNNING:
            return False
        startup = self.worker(c, ProbeKind.STARTUP)
        if startup is None:
            return True
        return startup.result is ProbeResult.SUCCESS and (
            shown or self.acted_on(c, ProbeKind.STARTUP)
        )

    def as_synced(self, statuses: tuple[ContainerStatus, ...]) -> tuple[ContainerStatus, ...]:
        """Init container statuses as the pod's last sync made them: the conditions are the
        sync's (generateAPIPodStatus). A sidecar's startup probe passing between syncs shows
        as ``started`` at once (the status manager's SetContainerStartup sets that alone),
        and the pod is Initialized by the sync that acts on it."""
        by_name = {c.name: c for c in self.spec.init_containers}
        return tuple(
            replace(s, started=False)
            if s.started and not self.acted_on(by_name[s.name], ProbeKind.STARTUP)
            else s
            for s in statuses
        )

    def ready(self, c: ContainerSpec) -> bool:
        """As the status shows it."""
        if not c.is_sidecar and c.name in self.init_names:
            inst = self.view.get(c.name)
            return inst is not None and inst.state is InstanceState.EXITED and inst.exit_code == 0
        if not self.started(c, self.view):
            return False
        readiness = self.worker(c, ProbeKind.READINESS)
        return readiness is None or readiness.result is ProbeResult.SUCCESS

    def tripped(self, c: ContainerSpec, kind: ProbeKind) -> bool:
        w = self.worker(c, kind)
        return w is not None and w.tripped

    def update_sync(self) -> float:
        """When the sync for a new version of the pod runs (its deletion, another client's
        readiness gate): behind a queued sync already waiting for its relist (that one
        took the old version), at the relist after it; else as a verdict's."""
        if self.pending_sync_at is not None and self.now < self.pending_sync_at:
            return self.grid.next(self.pending_sync_at) + SYNC_AFTER_RELIST_SECONDS
        return self.verdict_sync()

    def verdict_sync(self, startup: ProbeWorker | None = None) -> float:
        """When the sync that acts on a probe verdict reached now runs: the sync a
        ``startup`` worker's first result asked for, if still to come, sees it (with a
        readiness probe too, both workers' first results come in one sync-loop pass and
        make one sync: six real runs at -v=4); else the next sync, which waits for a relist
        newer than the pod's last sync (the pod workers' GetNewerThan), so a verdict that
        comes soon after one waits a relist."""
        first = None if startup is None else startup.synced_at
        if first is not None and self.now <= first:
            return first
        last = max((t for t in (first, self.synced_at) if t is not None), default=None)
        return self.runs_at(self.now, last=last)

    def runs_at(self, asked: float, *, last: float | None) -> float:
        """When a sync asked for at ``asked`` runs: at once if a relist came since the
        ``last`` sync, else at the next relist (the pod worker reads the pod cache with
        GetNewerThan(last sync), and only a relist makes the cache newer: it stamps the
        cache with the moment it listed the runtime)."""
        if last is None or self.grid.listing(self.grid.last(asked)) > last:
            return asked
        return self.grid.next(last) + SYNC_AFTER_RELIST_SECONDS

    def acted_on(self, c: ContainerSpec, kind: ProbeKind) -> bool:
        """Whether the sync acting on the probe's verdict has come (see
        :attr:`ProbeWorker.acts_at`); until then, a wake for it."""
        w = self.worker(c, kind)
        if w is None or w.acts_at is None or self.now >= w.acts_at:
            return True
        self.wakes.append(w.acts_at)
        return False

    # ------------------------------------------------------------------ actions

    def start(self, c: ContainerSpec, attempt: int) -> None:
        init = c.name in self.init_names
        self.actions.append(StartContainer(c, attempt, init, starts_at=self.now + CREATE_SECONDS))
        self.hashes[c.name] = c.spec_hash
        self.busy.add(c.name)
        self.emit("Created", "Container created", path=self.path(c))

    def kill(self, c: ContainerSpec, grace: float, reason: KillReason, message: str) -> None:
        inst = self.runtime[c.name]
        self.actions.append(KillContainer(c, inst.attempt, max(grace, 0.0), reason))
        self.busy.add(c.name)
        self.emit("Killing", message, path=self.path(c))

    def first_attempt(self, c: ContainerSpec) -> int:
        """Attempt number for a container with no instance: 0 unless it ran before."""
        prev = self.previous.status_of(c.name)
        if prev is None:
            return 0
        ran = prev.last_state is not None or not isinstance(prev.state, Waiting)
        return prev.restart_count + 1 if ran else 0

    def sandbox_made(self) -> bool:
        """The sandbox counts as ready once a container process ran in it (a real node
        shows False while its first container is still being created) and stays so while
        containers restart in it."""
        before = self.previous.condition("PodReadyToStartContainers")
        if before is not None and before.status is ConditionStatus.TRUE:
            return True
        return any(i.state is not InstanceState.CREATED for i in self.view.values())

    def backoff_reference(self, c: ContainerSpec, finished: float) -> float | None:
        """The exit the crash-loop window is measured from; None: no window at all.

        After a liveness or startup kill the kubelet kills and restarts in one sync, with
        the container statuses taken before the kill: it measures the window from the
        container that exited *before* the killed one, and with none there it neither
        backs off nor opens a window. So the first two probe kills restart at once.
        """
        if not (self.tripped(c, ProbeKind.LIVENESS) or self.tripped(c, ProbeKind.STARTUP)):
            return finished
        prev = self.previous.status_of(c.name)
        return prev.last_state.finished_at if prev and prev.last_state else None

    def restart(self, c: ContainerSpec, inst: Instance) -> None:
        """Start the next instance now, or wait out the crash-loop backoff."""
        key = backoff_key(c.name, c.spec_hash)
        finished = inst.finished_at if inst.finished_at is not None else self.now
        reference = self.backoff_reference(c, finished)
        until = None if reference is None else self.backoff.wait_until(key, reference)
        wait = self.waits.get(c.name)
        requeued = wait is not None and wait.attempt == inst.attempt and self.now < wait.next_sync
        if until is not None and (self.now < until or requeued):
            self.refuse(c, inst, until, go_duration(self.backoff.current_delay(key)))
            return
        if reference is not None:
            self.backoff = self.backoff.record_restart(key, reference, self.now)
        self.replaced[c.name] = _terminated(inst)
        self.start(c, inst.attempt + 1)

    def reconcile_gates(self) -> Mapping[str, str]:
        """The readiness gates' condition statuses the Ready condition goes by. Another
        client's change to one syncs the pod (HandlePodReconcile), and that sync, like
        any, waits for a relist newer than the pod's last sync: until then Ready goes by
        what the last sync saw."""
        gates = set(self.spec.readiness_gates)
        current = {c.type: c.status.value for c in self.previous.conditions if c.type in gates}
        if current == self.book.gates:
            return current
        if not self.news and self.now < (due := self.update_sync()):
            self.wakes.append(due)
            return self.book.gates
        self.synced_at = self.now
        return current

    def pending_chain(self, *, admitted: float) -> None:
        """The pod worker's queued syncs (pod_workers.go: one pending update at a time,
        seen at -v=4 on the real node). A relist within the pod's first sync that finds
        the sandbox made reports it, an update that is queued; its sync waits for a relist
        newer than the first sync's end. An update that comes while a sync waits or runs
        (that relist's news) is queued in turn: one sync per relist for as long as each
        brings news. (A relist before the sandbox exists reports nothing: no queue.)"""
        if self.pending_sync_at is None and self.previous.start_time is None:
            tick = self.grid.next(admitted)
            made = admitted + SANDBOX_SECONDS <= self.grid.listing(tick)
            if made and tick < admitted + FIRST_SYNC_SECONDS:
                self.pending_sync_at = self.grid.next(admitted + FIRST_SYNC_SECONDS)
        elif self.pending_sync_at is not None and self.now >= self.pending_sync_at:
            self.synced_at = self.now
            self.pending_sync_at = self.grid.next(self.now) if self.news else None
        if self.pending_sync_at is not None:
            self.wakes.append(self.pending_sync_at)

    def refuse(self, c: ContainerSpec, inst: Instance, until: float, delay: str) -> None:
        """A restart refused by the back-off: a BackOff Event per refusing sync of the
        kubelet (the first, then its resyncs), the reason cached for the status."""
        wait = self.waits.get(c.name)
        if wait is not None and wait.attempt == inst.attempt and self.now < wait.next_sync:
            self.wakes.append(wait.next_sync)
            return
        # The refusing sync requeues the pod for the back-off's end (at most the resync
        # period), jittered by up to half again as the pod workers do (wait.Jitter, 0.5);
        # the sync loop picks the requeued pod up at its next tick.
        delay_left = max(min(until - self.now, RESYNC_SECONDS), 0.0)
        seed = f"{self.pod.uid}/{c.name}/{inst.attempt}/{wait.next_sync if wait else 0}"
        next_sync = self.ticks.at_or_after(self.now + requeue_jitter(delay_left, seed=seed))
        shown = self.shown.get(c.name)
        if shown is not None and shown.attempt == inst.attempt and shown.live:
            # Killed by the kubelet (a probe) and not relisted yet: the next relist reports
            # the death (a PLEG event), and the sync for it refuses again, showing
            # CrashLoopBackOff in the status it writes.
            listed = exit_listed(inst)
            next_sync = (
                self.grid.next(self.now)
                if listed is None
                else self.grid.seeing(listed, after=self.now)
            )
        if self.pending_sync_at is not None and self.now < self.pending_sync_at < next_sync:
            next_sync = self.pending_sync_at  # a queued sync refuses again
        if wait is None or wait.attempt != inst.attempt:
            wait = CrashWait(
                attempt=inst.attempt,
                until=until,
                shown_from=next_sync,
                next_sync=next_sync,
                message=f"back-off {delay} restarting failed container={c.name} pod={self.pod.ref}",
            )
        else:
            wait = replace(wait, next_sync=next_sync)
        self.waits[c.name] = wait
        self.emit(
            "BackOff",
            f"Back-off restarting failed container {c.name} in pod {self.pod.ref}",
            warning=True,
            path=self.path(c),
        )
        self.wakes += [wait.next_sync, wait.shown_from]

    # ------------------------------------------------------------------ the sync

    def run(self, observations: Sequence[Observation]) -> PodDecision:
        start_time = self.previous.start_time if self.previous.start_time is not None else self.now
        self.pending_chain(admitted=start_time)
        self.refresh_workers()
        for obs in observations:
            self.observe(obs)
        self.announce_started()

        deleting = self.pod.deletion_time is not None
        terminating_at = self.book.terminating_at
        grace_deadline = self.book.grace_deadline
        if deleting and (terminating_at is None or terminating_at > self.now):
            # The terminating sync waits, as any, for a relist newer than the last sync
            # (pod_workers.go: "this adds ~1s of latency on all transitions from sync to
            # terminating"); the grace counts from it.
            due = max(self.now, self.update_sync())
            terminating_at = due if terminating_at is None else min(terminating_at, due)
            grace_deadline = deletion_deadline(self.pod, grace_deadline, terminating_at)
        deadline_at = active_deadline_at(self.spec, start_time)
        deadline_events = self.book.deadline_events
        # The deadline is checked whenever the pod is synced: a PLEG event's sync, a queued
        # one, or the one the sync loop asks for at its first tick from the deadline on (the
        # active deadline handler's ShouldSync), which waits for a relist if the last sync
        # before it came after the last relist (a relist with no news does not sync a pod).
        deadline_sync: float | None = None
        deadline_hit = deadline_events > 0
        if deadline_at is not None:
            asked = self.ticks.at_or_after(deadline_at)
            deadline_sync = self.runs_at(asked, last=self.book.synced_at)
            syncing = self.news or self.synced_at == self.now
            deadline_hit = deadline_hit or (
                self.now >= deadline_at
                and (syncing or self.now >= deadline_sync)
                and not self.previous.phase.terminal
            )
            if not deadline_hit:
                self.wakes.append(deadline_sync)
        if deadline_hit and deadline_events == 0:
            deadline_events = self.deadline_event(deadline_events)

        # The kubelet stops a pod for good in its own sync (syncTerminatingPod): for a
        # deletion, the sync above; at the next relist after the sync that found it done or
        # out of time (the sync loop's, as due, if that came first: this worker may run
        # late, past a relist that came a few milliseconds after that sync on the real node).
        if deadline_hit and terminating_at is None:
            found = self.now if deadline_sync is None else min(self.now, deadline_sync)
            terminating_at = self.grid.next(found)
        terminating = self.previous.phase.terminal or (
            terminating_at is not None and self.now >= terminating_at
        )
        if deadline_hit and terminating and deadline_events == 1 and not deleting:
            deadline_events = self.deadline_event(deadline_events)

        restarting = self.book.restarting
        completed_pod_killed = self.book.completed_pod_killed
        sandbox_at = start_time + SANDBOX_SECONDS
        making_sandbox = False
        if terminating:
            grace: float = spec_grace_seconds(self.spec)
            if grace_deadline is not None:
                grace = max(grace_deadline - self.now, 0.0)
            self.stop_all(grace)
        elif terminating_at is not None:
            self.wakes.append(terminating_at)
        elif not self.runtime and not self.sandbox_made() and self.now < sandbox_at:
            making_sandbox = True
            self.wakes.append(sandbox_at)
        else:
            restarting = self.check_pod_restart()
            if restarting:
                restarting = self.restart_pod()
            if not restarting:
                self.kill_failed_hooks()
                if self.sync_init_containers() and self.sync_app_containers():
                    before = len(self.actions)
                    self.stop_all(spec_grace_seconds(self.spec))
                    completed_pod_killed |= len(self.actions) > before  # it stopped some
        self.schedule_probes(deleting=deleting, origin=start_time)

        anything_live = any(i.live for i in self.runtime.values())
        if terminating and anything_live:
            # Busy stopping the pod, the kubelet writes nothing new until all is stopped.
            self.view = {n: unexited(i) if i.stopping else i for n, i in self.shown.items()}
        elif terminating:
            self.view = self.runtime  # it then reads the runtime afresh
        pod_is_terminal = (deleting or deadline_hit) and not anything_live
        init_statuses = tuple(self.status_for(c) for c in self.spec.init_containers)
        # Init containers in spec order, the others by name: as the kubelet lists them
        # (kubectl's STATUS column depends on that order).
        app_statuses = tuple(
            sorted((self.status_for(c) for c in self.spec.containers), key=lambda cs: cs.name)
        )
        phase = get_phase(self.spec, init_statuses, app_statuses, pod_is_terminal=pod_is_terminal)
        if pod_is_terminal and not phase.terminal:
            phase = PodPhase.FAILED
        reason = message = ""
        if deadline_hit:
            phase, reason, message = (
                PodPhase.FAILED,
                DEADLINE_EXCEEDED_REASON,
                DEADLINE_EXCEEDED_MESSAGE,
            )
        elif self.previous.phase.terminal:
            phase = self.previous.phase
        if phase is self.previous.phase and not reason:
            reason, message = self.previous.reason, self.previous.message
        if phase.terminal and terminating_at is None:
            terminating_at = self.grid.next(self.now)
            self.wakes.append(terminating_at)
        # The status manager never reports a terminal phase while containers could still
        # run (couldHaveRunningContainers): the terminal conditions come first, the phase
        # once the terminating sync has found everything stopped.
        holding = (
            phase.terminal
            and not self.previous.phase.terminal
            and (not terminating or anything_live)
        )
        stopped_at = self.book.stopped_at
        if phase.terminal and not holding and stopped_at is None:
            stopped_at = self.now
            if deadline_hit:
                deadline_events = self.deadline_event(deadline_events)
        if deadline_hit and stopped_at is not None and deadline_events < DEADLINE_SYNCS:
            # ... and once more as it cleans up after the pod (syncTerminatedPod).
            cleaned_up = self.grid.next(stopped_at)
            if self.now >= cleaned_up:
                deadline_events = self.deadline_event(deadline_events)
            else:
                self.wakes.append(cleaned_up)
        gates = self.reconcile_gates()
        conditions = pod_conditions(
            self.spec,
            self.as_synced(init_statuses),
            app_statuses,
            phase,
            sandbox_ready=(
                anything_live
                or not phase.terminal
                or (holding and not self.book.completed_pod_killed)
            )
            and self.sandbox_made(),
            previous=self.previous.conditions,
            gates=tuple(Condition(t, ConditionStatus(v)) for t, v in gates.items()),
            now=self.now,
        )
        if holding:
            phase, reason, message = (
                self.previous.phase,
                self.previous.reason,
                self.previous.message,
            )
        status = replace(
            self.previous,
            phase=phase,
            conditions=conditions,
            init_container_statuses=init_statuses,
            container_statuses=app_statuses,
            start_time=start_time,
            reason=reason,
            message=message,
        )
        names = {c.name for c in (*self.spec.init_containers, *self.spec.containers)}
        book = PodBook(
            backoff=self.backoff.retain(
                {
                    backoff_key(c.name, c.spec_hash)
                    for c in (*self.spec.init_containers, *self.spec.containers)
                }
            ),
            probes={k: w for k, w in self.probes.items() if k.rsplit("/", 1)[0] in names},
            hashes={k: v for k, v in self.hashes.items() if k in names},
            announced={k: v for k, v in self.announced.items() if k in names},
            waits={k: w for k, w in self.waits.items() if self.wait_applies(k, w)},
            replaced={k: v for k, v in self.replaced.items() if k in names},
            grace_deadline=grace_deadline,
            deadline_events=deadline_events,
            restarting=restarting,
            terminating_at=terminating_at,
            stopped_at=stopped_at,
            completed_pod_killed=completed_pod_killed,
            synced_at=self.synced_at,
            pending_sync_at=self.pending_sync_at,
            gates=gates,
        )
        future = [t for t in self.wakes if t > self.now]
        return PodDecision(
            status=status,
            book=book,
            actions=tuple(self.actions),
            events=tuple(self.events),
            wake_at=min(future) if future else None,
            finished=deleting and not anything_live and not self.actions and not holding,
            hold=making_sandbox,
        )

    def deadline_event(self, count: int) -> int:
        """The kubelet posts DeadlineExceeded each time it makes the pod's status once the
        deadline passed: the sync that finds it, the terminating sync before and after
        stopping the containers, the final clean-up."""
        self.emit(DEADLINE_EXCEEDED_REASON, DEADLINE_EXCEEDED_MESSAGE)
        return count + 1

    def wait_applies(self, name: str, wait: CrashWait) -> bool:
        """A cached back-off reason holds until a newer instance of its container shows."""
        inst = self.view.get(name)
        return inst is None or inst.attempt <= wait.attempt

    # ------------------------------------------------------------------ probes

    def probed(self) -> tuple[ContainerSpec, ...]:
        return (*self.spec.sidecars, *self.spec.containers)

    def refresh_workers(self) -> None:
        """A worker follows its container's current instance; a new one starts afresh."""
        for c in self.probed():
            inst = self.runtime.get(c.name)
            for kind in ProbeKind:
                key = _probe_key(c.name, kind)
                if c.probe(kind) is None:
                    self.probes.pop(key, None)
                elif inst is not None and (
                    key not in self.probes or self.probes[key].attempt != inst.attempt
                ):
                    self.probes[key] = ProbeWorker.fresh(kind, inst.attempt)

    def observe(self, obs: Observation) -> None:
        c = self.spec.container(obs.container)
        if c is None:
            return
        if isinstance(obs, PreStopFailed):
            # Never the hook's output: it may hold secrets (kuberuntime's executePreStopHook).
            self.emit("FailedPreStopHook", "PreStopHook failed", warning=True, path=self.path(c))
            return
        self.observe_probe(c, obs)

    def observe_probe(self, c: ContainerSpec, obs: ProbeOutcome) -> None:
        key = _probe_key(c.name, obs.kind)
        worker, probe = self.probes.get(key), c.probe(obs.kind)
        inst = self.live(c.name)
        if worker is None or probe is None or inst is None or inst.stopping:
            return
        if worker.attempt != obs.attempt or worker.on_hold:
            return
        if not obs.success:
            self.emit(
                "Unhealthy",
                failure_event_message(obs.kind, obs.message),
                warning=True,
                path=self.path(c),
            )
        recorded = worker.record(probe, obs.success, issued_at=obs.issued_at)
        if (
            obs.kind is ProbeKind.READINESS
            and worker.result is ProbeResult.SUCCESS
            and recorded.result is ProbeResult.FAILURE
        ):
            recorded = replace(recorded, trigger_at=self.now)  # the change syncs the pod
        if obs.kind is ProbeKind.STARTUP and recorded.result is not worker.result:
            acts_at = self.verdict_sync(recorded)
            recorded = replace(recorded, acts_at=acts_at)
        elif obs.kind is ProbeKind.LIVENESS and recorded.tripped and not worker.tripped:
            recorded = replace(recorded, acts_at=self.verdict_sync())
        self.probes[key] = recorded

    def schedule_probes(self, *, deleting: bool, origin: float) -> None:
        for c in self.probed():
            # The prober reads the status: it probes once the status shows the instance.
            inst, shown = self.runtime.get(c.name), self.shown.get(c.name)
            if (
                inst is None
                or inst.state is not InstanceState.RUNNING
                or inst.stopping
                or inst.started_at is None
                or c.name in self.busy
                or shown is None
                or shown.attempt != inst.attempt
                or shown.state is not InstanceState.RUNNING
            ):
                continue
            started = self.started(c, self.shown)
            for kind in ProbeKind:
                probe, worker = c.probe(kind), self.worker(c, kind)
                if probe is None or worker is None:
                    continue
                if not probe_runs(kind, started=started, deleting=deleting):
                    continue
                worker = worker.scheduled(
                    probe, origin=origin, started_at=inst.started_at, now=self.now
                )
                due = worker.due_at(probe, origin=origin, started_at=inst.started_at)
                if due is None:
                    continue
                if due <= self.now and worker.free(probe, self.now):
                    self.actions.append(RunProbe(c, inst.attempt, kind, probe, self.now))
                    worker = worker.issued(probe, self.now)
                    if kind is ProbeKind.STARTUP and worker.synced_at is None:
                        first = self.grid.next(self.now) + SYNC_AFTER_RELIST_SECONDS
                        worker = replace(worker, synced_at=first)
                if kind is ProbeKind.READINESS:
                    worker = self.trigger_readiness(c, inst, probe, worker, started=started)
                self.probes[_probe_key(c.name, kind)] = worker
                due = worker.due_at(probe, origin=origin, started_at=inst.started_at)
                wakes = [t for t in (due, worker.trigger_at) if t is not None]
                busy_until = worker.busy_until(probe)
                if busy_until is not None and self.now < busy_until:
                    wakes = [max(t, busy_until) for t in wakes]
                self.wakes += wakes

    def trigger_readiness(
        self, c: ContainerSpec, inst: Instance, probe: ProbeSpec, w: ProbeWorker, *, started: bool
    ) -> ProbeWorker:
        """The kubelet's manual readiness runs (see :attr:`ProbeWorker.trigger_at`): a run
        now, on top of any the ticker has due, and the ticker restarted from now."""
        if not started:
            return w
        first = not w.listed
        trigger_at = self.now if first else w.trigger_at
        if trigger_at is None or trigger_at > self.now:
            return w
        if not w.free(probe, self.now):
            return replace(w, trigger_at=trigger_at)  # held until the probe in flight is done
        w = replace(w, listed=True, trigger_at=trigger_at)
        assert inst.started_at is not None
        if w.triggered(probe, self.now, started_at=inst.started_at):
            self.actions.append(RunProbe(c, inst.attempt, ProbeKind.READINESS, probe, self.now))
            w = w.issued(probe, self.now)
        elif w.result is not ProbeResult.SUCCESS:
            w = w.restarted(probe, self.now)  # held back by the initial delay
        again = self.grid.next(self.now) + SYNC_AFTER_RELIST_SECONDS
        return replace(w, trigger_at=again if first else None)

    def announce_started(self) -> None:
        """ "Started" once per instance, when the runtime reports the process running."""
        for c in (*self.spec.init_containers, *self.spec.containers):
            inst = self.runtime.get(c.name)
            if inst is None or inst.started_at is None:
                continue
            if self.announced.get(c.name, -1) < inst.attempt:
                self.announced[c.name] = inst.attempt
                self.emit("Started", "Container started", path=self.path(c))

    # ------------------------------------------------------------------ stopping

    def stop_all(self, grace: float) -> None:
        """Stop app (and regular init) containers together, then sidecars last-first."""
        others = [
            c for c in (*self.spec.init_containers, *self.spec.containers) if not c.is_sidecar
        ]
        for c in others:
            inst = self.live(c.name)
            if inst is not None and not inst.stopping and c.name not in self.busy:
                self.kill(c, grace, KillReason.POD_TERMINATION, f"Stopping container {c.name}")
        if any(self.live(c.name) for c in others):
            return
        for c in reversed(self.spec.sidecars):
            inst = self.live(c.name)
            if inst is None:
                continue
            if not inst.stopping and c.name not in self.busy:
                self.kill(c, grace, KillReason.POD_TERMINATION, f"Stopping container {c.name}")
            return

    def check_pod_restart(self) -> bool:
        """Changing a regular init container's definition restarts the whole pod (unless
        restartPolicy is Never, where nothing restarts)."""
        if self.book.restarting:
            return True
        if self.spec.restart_policy is RestartPolicy.NEVER:
            return False
        changed = any(
            c.name in self.hashes and self.hashes[c.name] != c.spec_hash
            for c in self.spec.init_containers
            if not c.is_sidecar
        )
        if changed:
            self.emit("SandboxChanged", "Pod sandbox changed, it will be killed and re-created.")
        return changed

    def restart_pod(self) -> bool:
        """Stop everything; once stopped, forget the instances. True while still stopping."""
        pending = False
        for c in (*self.spec.init_containers, *self.spec.containers):
            inst = self.live(c.name)
            if inst is None:
                continue
            pending = True
            if not inst.stopping:
                self.kill(
                    c,
                    spec_grace_seconds(self.spec),
                    KillReason.POD_TERMINATION,
                    f"Stopping container {c.name}",
                )
        if pending:
            return True
        self.actions.append(ResetPod())
        self.forgotten = dict(self.runtime)
        self.runtime.clear()
        self.hashes.clear()
        return False

    def kill_failed_hooks(self) -> None:
        for c in (*self.spec.init_containers, *self.spec.containers):
            inst = self.live(c.name)
            if inst is None or inst.stopping or inst.post_start_error is None:
                continue
            # The kubelet keeps the hook's output out of the Event (it may hold secrets).
            self.emit(
                "FailedPostStartHook", "PostStartHook failed", warning=True, path=self.path(c)
            )
            self.kill(
                c,
                spec_grace_seconds(self.spec),
                KillReason.FAILED_POST_START_HOOK,
                "FailedPostStartHook",
            )

    def probe_kill(self, c: ContainerSpec, *, sidecar: bool) -> bool:
        """Kill a running container whose definition changed or whose liveness/startup
        probe tripped. True if it is being killed."""
        will_restart = sidecar or self.spec.restart_policy is not RestartPolicy.NEVER
        suffix = ", will be restarted" if will_restart and not sidecar else ""
        noun = "Init container" if sidecar else "Container"
        kind: ProbeKind | None = None
        if self.hashes.get(c.name, c.spec_hash) != c.spec_hash:
            reason, what = KillReason.DEFINITION_CHANGED, "definition changed"
        elif self.tripped(c, ProbeKind.STARTUP):
            if not self.acted_on(c, ProbeKind.STARTUP):
                return False
            reason, what, kind = KillReason.STARTUP_PROBE, "failed startup probe", ProbeKind.STARTUP
        elif self.tripped(c, ProbeKind.LIVENESS):
            if not self.acted_on(c, ProbeKind.LIVENESS):
                return False
            reason, what = KillReason.LIVENESS_PROBE, "failed liveness probe"
            kind = ProbeKind.LIVENESS
        else:
            return False
        probe = c.probe(kind) if kind else None
        grace = (
            probe_kill_grace_seconds(self.spec, probe) if probe else spec_grace_seconds(self.spec)
        )
        self.kill(c, grace, reason, f"{noun} {c.name} {what}{suffix}")
        self.synced_at = self.now
        return True

    # ------------------------------------------------------------------ init containers

    def sync_init_containers(self) -> bool:
        """Advance initialisation; True once the pod is initialised (now or before). After
        that only sidecars are looked after: they restart without holding anything up."""
        initialized_before = any(self.runtime.get(c.name) for c in self.spec.containers)
        if initialized_before and self.apps_done():
            return True  # sidecars are only stopped now, never restarted
        for c in self.spec.init_containers:
            if initialized_before and not c.is_sidecar:
                continue
            step = self.init_step(c)
            if step is _Step.FAILED:
                self.stop_all(spec_grace_seconds(self.spec))
                return False
            if step is _Step.WAIT and not initialized_before:
                return False
        return True

    def init_step(self, c: ContainerSpec) -> _Step:
        """Act on one init container and say whether the next one may start."""
        inst = self.runtime.get(c.name)
        if c.name in self.busy:
            return _Step.WAIT
        if inst is None:
            self.start(c, self.first_attempt(c))
            return _Step.WAIT
        if inst.live:
            if inst.stopping or inst.state is InstanceState.CREATED or not c.is_sidecar:
                return _Step.WAIT
            if self.probe_kill(c, sidecar=True) or not self.started(c):
                return _Step.WAIT
            return _Step.DONE
        if c.is_sidecar:
            self.restart(c, inst)
            return _Step.WAIT
        if inst.exit_code == 0:
            return _Step.DONE
        if self.spec.restart_policy is RestartPolicy.NEVER:
            return _Step.FAILED
        self.restart(c, inst)
        return _Step.WAIT

    # ------------------------------------------------------------------ app containers

    def sync_app_containers(self) -> bool:
        """Start, restart or kill app containers. True when none runs or will run again:
        the pod is done and its sidecars must be stopped."""
        done = True
        for c in self.spec.containers:
            inst = self.runtime.get(c.name)
            if c.name in self.busy:
                done = False
                continue
            if inst is None:
                self.start(c, self.first_attempt(c))
                done = False
            elif inst.live:
                done = False
                if inst.state is InstanceState.RUNNING and not inst.stopping:
                    self.probe_kill(c, sidecar=False)
            elif self.should_restart(inst):
                self.restart(c, inst)
                done = False
        return done

    def apps_done(self) -> bool:
        """Every app container ran and exited for good (the kubelet then stops sidecars)."""
        instances = [self.runtime.get(c.name) for c in self.spec.containers]
        return all(i is not None and not i.live and not self.should_restart(i) for i in instances)

    def should_restart(self, inst: Instance) -> bool:
        policy = self.spec.restart_policy
        if policy is RestartPolicy.ALWAYS:
            return True
        return policy is RestartPolicy.ON_FAILURE and inst.exit_code != 0

    # ------------------------------------------------------------------ status

    def created_wait(
        self, c: ContainerSpec, inst: Instance, prev: ContainerStatus | None
    ) -> Waiting | None:
        """A runtime that cannot create the container yet (a missing ConfigMap: reason
        CreateContainerConfigError) reports why; it shows as the waiting state, with the
        kubelet's "Failed" Event when it first appears or changes."""
        if not inst.reason:
            return None
        wait = Waiting(inst.reason, inst.message)
        if prev is None or prev.state != wait:
            self.emit("Failed", f"Error: {inst.message}", warning=True, path=self.path(c))
        return wait

    def pruned(self, inst: Instance) -> bool:
        """Whether the instance before this exited one is gone from the runtime.

        The kubelet keeps one dead container per container name: the relist that reports
        an exit (its ContainerDied event) has the older dead one removed, and the status
        takes lastState only from a previous instance still in the runtime. So a container
        that exited and is not restarted (OnFailure after success, a finished pod) loses
        its lastState from the relist after the one that saw the exit, at the pod's next
        sync."""
        listed = exit_listed(inst)
        if listed is None:
            return False
        return self.now >= self.grid.next(self.grid.seeing(listed))

    def status_for(self, c: ContainerSpec) -> ContainerStatus:
        """convertToAPIContainerStatuses for one container."""
        prev = self.previous.status_of(c.name)
        restart_count = prev.restart_count if prev else 0
        last = prev.last_state if prev else None
        default = Waiting("PodInitializing" if self.spec.init_containers else "ContainerCreating")
        inst = self.view.get(c.name)
        gone = self.forgotten.get(c.name)
        new_instance = inst is None or (prev is not None and inst.attempt != prev.restart_count)
        if new_instance and prev is not None and isinstance(prev.state, Terminated):
            last = prev.state  # what the previous instance ended with is history now
        if inst is not None and new_instance and inst.attempt > 0 and c.name in self.replaced:
            last = self.replaced[c.name]  # it may never have shown as terminated
        state: ContainerState
        if inst is None:
            state = default
            if gone is not None:
                last, restart_count = _terminated(gone), gone.attempt
        else:
            restart_count = inst.attempt
            if inst.state is InstanceState.CREATED:
                state = self.created_wait(c, inst, prev) or default
            elif inst.state is InstanceState.RUNNING:
                state = Running(inst.started_at)
            else:
                state = _terminated(inst)
                if self.pruned(inst):
                    last = None
        wait = self.waits.get(c.name)
        if (
            wait is not None
            and isinstance(state, Terminated)
            and inst is not None
            and inst.attempt == wait.attempt
            and self.now >= wait.shown_from
        ):
            last, state = state, Waiting(CRASH_LOOP, wait.message)
        return ContainerStatus(
            name=c.name,
            image=c.image,
            state=state,
            last_state=last,
            ready=self.ready(c),
            started=self.started(c, self.view, shown=True),
            restart_count=restart_count,
        )
