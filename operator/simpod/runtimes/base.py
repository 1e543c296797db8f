"""The one small interface every runtime implements, one object per pod.

The lifecycle core decides (:func:`simpod.core.kubelet.sync_pod`); a runtime only carries
out :data:`~simpod.core.runtime.Action` values and reports what its containers are doing.
All times are kubelet seconds (the agent converts for ``--time-scale``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from simpod.core.model import Pod
from simpod.core.runtime import Action, Instance, Observation


class PodRuntime(Protocol):
    def instances(self, pod: Pod, now: float) -> Mapping[str, Instance]:
        """The latest instance of every container that was started (until a ResetPod)."""

    def take_observations(self, pod: Pod, now: float) -> Sequence[Observation]:
        """One-shot reports (probe outcomes, preStop failures) due by ``now``; each once."""

    def next_change(self, pod: Pod, now: float) -> float | None:
        """When a container will change by itself (a scripted exit, a probe answer), if known.

        Runtimes that learn of changes asynchronously return None and call the ``notify``
        callback they were built with instead.
        """

    async def apply(self, pod: Pod, action: Action, now: float) -> None:
        """Carry out one action; it must be reflected by the next :meth:`instances`."""

    def state(self) -> Mapping[str, Any]:
        """What must survive an operator restart (stored in ``status.sim.runtime``)."""

    async def release(self) -> None:
        """The pod is gone: free everything it held."""
