"""When the kubelet notices that a container exited: at its next relist, not at once.

The kubelet's pod lifecycle event generator (PLEG) lists containers every second and only
then learns of exits; the status shows a container running until that relist, and the
restart or the next init container waits for it. A runtime here reports exits the moment
they happen, so the agent shows each instance as of the last relist tick (an exit since
then stays hidden, the instance still running) and syncs again at the next tick.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

from simpod.core.runtime import Instance, InstanceState

RELIST_PERIOD_SECONDS = 1.0


@dataclass(frozen=True)
class Relisted:
    instances: Mapping[str, Instance]
    next_relist: float | None  # when a hidden exit becomes visible


def last_relist(origin: float, now: float) -> float:
    """The latest relist tick at or before ``now`` on a grid starting at ``origin``."""
    return origin + math.floor((now - origin) / RELIST_PERIOD_SECONDS) * RELIST_PERIOD_SECONDS


def as_relisted(instances: Mapping[str, Instance], *, origin: float, now: float) -> Relisted:
    tick = last_relist(origin, now)
    shown: dict[str, Instance] = {}
    hidden = False
    for name, inst in instances.items():
        shown[name] = inst
        if inst.state is InstanceState.EXITED and (inst.finished_at or tick) > tick:
            hidden = True
            was = InstanceState.RUNNING if inst.started_at is not None else InstanceState.CREATED
            shown[name] = replace(inst, state=was, finished_at=None, exit_code=0, signal=0)
    return Relisted(shown, tick + RELIST_PERIOD_SECONDS if hidden else None)
