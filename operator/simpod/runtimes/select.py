"""Which runtime runs a pod: ``spec.runtimeClassName`` (``simulated`` by default)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from simpod.api.group import GROUP, SIMPOD, VERSION
from simpod.kube import Api
from simpod.runtimes.base import PodRuntime
from simpod.runtimes.process.container import ConfigRefused
from simpod.runtimes.process.runtime import ProcessPodRuntime
from simpod.runtimes.process.sandbox import SandboxError, reap_orphans
from simpod.runtimes.simulated.runtime import SimulatedPodRuntime

SIMULATED = "simulated"
PROCESS = "process"


class RuntimeUnavailable(Exception):
    """This agent cannot run the pod's runtime; the message says why and how to fix it."""


@dataclass(frozen=True)
class RuntimeOptions:
    """The agent's choices about runtimes (from the operator's settings)."""

    enable_process: bool = False
    allow_privileged: bool = False


@dataclass(frozen=True)
class RuntimeContext:
    """What a runtime may need beyond the pod: set once per pod by the agent."""

    pod_ip: str
    restore: Mapping[str, Any]
    notify: Callable[[], None]
    time_scale: float = 1.0
    node_name: str = ""
    host_ip: str = ""
    pod_cidr: str = ""
    api: Api | None = None  # ConfigMaps and Secrets for the process runtime
    options: RuntimeOptions = field(default_factory=RuntimeOptions)


async def create_runtime(body: Mapping[str, Any], context: RuntimeContext) -> PodRuntime:
    spec = body.get("spec") or {}
    name = spec.get("runtimeClassName") or SIMULATED
    if name == SIMULATED:
        seed = int((spec.get("sim") or {}).get("seed") or 0)
        return SimulatedPodRuntime(seed=seed, pod_ip=context.pod_ip, restore=context.restore)
    if name == PROCESS:
        return await _process_runtime(body, context)
    raise RuntimeUnavailable(f'runtime "{name}" is not available on this agent')


async def _process_runtime(body: Mapping[str, Any], context: RuntimeContext) -> PodRuntime:
    if not context.options.enable_process:
        raise RuntimeUnavailable(
            'runtime "process" is not enabled on this agent: it runs the pod\'s commands on '
            "the agent's machine; start the agent with --enable-process-runtime "
            "(SIMPOD_ENABLE_PROCESS_RUNTIME=1) to allow it"
        )
    runtime = ProcessPodRuntime(
        body=body,
        pod_ip=context.pod_ip,
        host_ip=context.host_ip,
        pod_cidr=context.pod_cidr,
        node_name=context.node_name,
        time_scale=context.time_scale,
        api=context.api,
        allow_privileged=context.options.allow_privileged,
        notify=context.notify,
        restore=context.restore,
    )
    try:
        runtime.check()
        await runtime.open()
    except (ConfigRefused, SandboxError, FileNotFoundError) as exc:
        raise RuntimeUnavailable(str(exc)) from exc
    return runtime


async def clean_up_orphans(api: Api, nodes: Collection[str], options: RuntimeOptions) -> list[str]:
    """At agent start-up, before any worker: free what pods deleted while no agent ran
    (force deletions, or a finalizer removed by hand) left on this machine."""
    if not options.enable_process:
        return []
    live: set[str] = set()
    for node in nodes:
        listed = await api.custom.list_cluster_custom_object(
            GROUP, VERSION, SIMPOD.plural, field_selector=f"spec.nodeName={node}"
        )
        live.update(str(item["metadata"]["uid"]) for item in listed.get("items") or ())
    return await reap_orphans(nodes, live)
