"""What the kubelet knows of its containers: the runtime as of its last relist, not as of now.

The kubelet's pod lifecycle event generator (PLEG) lists containers every second and its
syncs read that cache, never the runtime itself. So a container that started or exited
since the last relist is not in the status yet: a new pod shows ``ContainerCreating`` until
the relist after its containers started, a restarted container keeps showing its previous
instance, an exit is noticed (and acted on) at the first relist that lists it (the
runtime reports an exit a little after it, so one just before a relist waits for the one
after). The one exception is a
container the kubelet killed itself: the kill waits for the exit, so the same sync goes on
(a liveness restart starts the next instance at once) — but the status still shows the
killed instance as of the last relist.

A runtime here reports the truth at once; :func:`relist` turns it into the two views the
kubelet has: ``acting`` (what a sync decides on) and ``shown`` (what a status shows).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from simpod.core.runtime import Instance, InstanceState
from simpod.core.ticker import WHOLE_SECONDS, Ticker

# The runtime reports an exit some time after it (runc's shim, containerd's task exit event,
# the CRI's container status): of 160 exits timed inside real containers against the real
# node's relists, the 12 that came 27-48 ms before a relist began were seen by it 5 times,
# none within 23 ms was, every one 54 ms or more before was.
EXIT_REPORT_SECONDS = 0.035


def exit_listed(inst: Instance) -> float | None:
    """When a listing first shows the instance exited."""
    return None if inst.finished_at is None else inst.finished_at + EXIT_REPORT_SECONDS


@dataclass(frozen=True)
class Relisted:
    acting: Mapping[str, Instance]
    shown: Mapping[str, Instance]
    next_relist: float | None  # the next relist, when something is hidden now


def unexited(inst: Instance) -> Instance:
    """``inst`` as it was before it exited."""
    was = InstanceState.RUNNING if inst.started_at is not None else InstanceState.CREATED
    return replace(inst, state=was, finished_at=None, exit_code=0, signal=0, reason="")


def _in_flight(inst: Instance) -> Instance:
    """A start the kubelet made but has not relisted: it waits for it, shows nothing yet."""
    return replace(inst, state=InstanceState.CREATED, finished_at=None, exit_code=0, signal=0)


def relist(
    instances: Mapping[str, Instance],
    *,
    seen: Mapping[str, Instance],
    now: float,
    grid: Ticker = WHOLE_SECONDS,
) -> Relisted:
    """The two views of ``instances`` at ``now``; ``seen`` is the ``shown`` view of the
    previous sync (the instance a restarted container keeps showing until the relist)."""
    tick = grid.last(now)
    cut = grid.listing(tick)  # what changed after it is news for the next tick
    acting: dict[str, Instance] = {}
    shown: dict[str, Instance] = {}
    hidden = False
    for name, inst in instances.items():
        old = seen.get(name)
        first = inst.started_at if inst.started_at is not None else exit_listed(inst)
        listed = first is not None and first <= cut
        if old is not None and old.attempt == inst.attempt:
            listed = True  # shown before: only its exit can be news
        if inst.state is InstanceState.CREATED and inst.reason:
            listed = True  # a start that failed (e.g. a missing ConfigMap) is reported at once
        if not listed:
            hidden = True
            acting[name] = _in_flight(inst)
            if old is not None:
                shown[name] = old
            continue
        exited_since = inst.state is InstanceState.EXITED and (exit_listed(inst) or cut) > cut
        if exited_since:
            hidden = True
            acting[name] = inst if inst.stopping else unexited(inst)
            shown[name] = unexited(inst)
        else:
            acting[name] = shown[name] = inst
    return Relisted(acting, shown, grid.next(tick) if hidden else None)
