"""Which runtime runs a pod: ``spec.runtimeClassName`` (``simulated`` by default)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from simpod.runtimes.base import PodRuntime
from simpod.runtimes.simulated.runtime import SimulatedPodRuntime

SIMULATED = "simulated"


class RuntimeUnavailable(Exception):
    """This agent cannot run the pod's runtime; the message says why and how to fix it."""


@dataclass(frozen=True)
class RuntimeContext:
    """What a runtime may need beyond the pod: set once per pod by the agent."""

    pod_ip: str
    restore: Mapping[str, Any]
    notify: Callable[[], None]


async def create_runtime(body: Mapping[str, Any], context: RuntimeContext) -> PodRuntime:
    spec = body.get("spec") or {}
    name = spec.get("runtimeClassName") or SIMULATED
    if name == SIMULATED:
        seed = int((spec.get("sim") or {}).get("seed") or 0)
        return SimulatedPodRuntime(seed=seed, pod_ip=context.pod_ip, restore=context.restore)
    raise RuntimeUnavailable(f'runtime "{name}" is not available on this agent')
