"""A tiny in-memory node for scenario tests of :func:`simpod.core.kubelet.sync_pod`.

Starts run at once, kills exit at once with 143 (unless told otherwise), probes are queued for
the test to answer. Time only moves when the test says so.
"""

from __future__ import annotations

from dataclasses import replace

from simpod.core.display import PodRow, print_pod
from simpod.core.kubelet import Event, PodBook, PodDecision, sync_pod
from simpod.core.model import Pod, PodStatus, ProbeKind
from simpod.core.probes import ProbeOutcome
from simpod.core.runtime import (
    Instance,
    InstanceState,
    KillContainer,
    Observation,
    ResetPod,
    RunProbe,
    StartContainer,
)
from simpod.core.ticker import LONE_NODE, TICK_SECONDS, Tickers
from tests.unit.core.builders import T0


class Node:
    def __init__(self, pod: Pod, *, kill_exits: bool = True, tickers: Tickers = LONE_NODE) -> None:
        self.pod = pod
        self.tickers = tickers
        self.now = T0
        self.status = PodStatus()
        self.book = PodBook()
        self.instances: dict[str, Instance] = {}
        self.events: list[Event] = []
        self.kills: list[KillContainer] = []
        self.probes: list[RunProbe] = []
        self.kill_exits = kill_exits
        self.decision: PodDecision | None = None

    def sync(
        self,
        *observations: Observation,
        relist_news: bool = False,
        shown: dict[str, Instance] | None = None,
    ) -> PodDecision:
        """One sync; ``shown``: what the last relist saw, where it lags the runtime."""
        d = sync_pod(
            self.pod,
            self.status,
            self.book,
            dict(self.instances),
            now=self.now,
            observations=observations,
            tickers=self.tickers,
            relist_news=relist_news,
            shown=None if shown is None else {**self.instances, **shown},
        )
        self.status, self.book, self.decision = d.status, d.book, d
        self.events.extend(d.events)
        for action in d.actions:
            self.apply(action)
        if d.hold and d.wake_at is not None:  # the sandbox is being made: wait for it
            self.now = d.wake_at
            return self.sync()
        return d

    def apply(self, action: object) -> None:
        # A start runs at once here (not at its starts_at): the rules are checked against
        # the moments the runtime reports, whatever the create latency.
        if isinstance(action, StartContainer):
            self.instances[action.container.name] = Instance(
                action.container.name, action.attempt, InstanceState.RUNNING, started_at=self.now
            )
        elif isinstance(action, KillContainer):
            self.kills.append(action)
            inst = self.instances[action.container.name]
            if self.kill_exits:
                self.instances[inst.name] = replace(
                    inst, state=InstanceState.EXITED, exit_code=143, finished_at=self.now
                )
            else:
                self.instances[inst.name] = replace(inst, stopping=True)
        elif isinstance(action, RunProbe):
            self.probes.append(action)
        elif isinstance(action, ResetPod):
            self.instances.clear()

    def settle(self, limit: int = 20) -> PodDecision:
        """Sync until nothing is started, killed or reset."""
        for _ in range(limit):
            d = self.sync()
            if not any(isinstance(a, StartContainer | KillContainer | ResetPod) for a in d.actions):
                return d
        raise AssertionError("the pod never settled")

    def exit(self, name: str, code: int = 0) -> None:
        inst = self.instances[name]
        self.instances[name] = replace(
            inst, state=InstanceState.EXITED, exit_code=code, finished_at=self.now
        )

    def answer(self, name: str, kind: ProbeKind, success: bool, message: str = "") -> PodDecision:
        """The outcome of the last probe of this kind issued for the container."""
        inst = self.instances[name]
        issued = next(
            p for p in reversed(self.probes) if (p.container.name, p.kind) == (name, kind)
        )
        outcome = ProbeOutcome(
            name, kind, inst.attempt, success, message, issued_at=issued.issued_at
        )
        return self.sync(outcome)

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def at(self, seconds: float) -> None:
        """Move the clock to ``seconds`` after the pod's admission (the first container
        starts a sandbox's making later, so relist ticks are easier to count from here)."""
        self.now = T0 + seconds

    def teardown(self) -> PodDecision:
        """Let the sandbox teardown pass: a terminal phase is reported a relist later."""
        self.advance(TICK_SECONDS)
        return self.settle()

    def row(self) -> PodRow:
        return print_pod(
            self.pod.spec, self.status, deletion_time=self.pod.deletion_time, now=self.now
        )

    def delete(self, **annotations: str) -> None:
        self.pod = replace(self.pod, deletion_time=self.now, annotations=annotations)

    def reasons(self) -> list[str]:
        return [e.reason for e in self.events]

    def condition(self, type_: str) -> tuple[str, str, str]:
        c = self.status.condition(type_)
        assert c is not None
        return c.status.value, c.reason, c.message
