"""Kopf wiring of the node agent: SimNode registration and heartbeats, pod workers.

A thin layer: watch events for SimPods go to :class:`~simpod.agent.registry.Workers`,
which runs one worker per pod bound to one of this agent's nodes.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import kopf

from simpod.agent.ipam import AddressPool
from simpod.agent.nodes import (
    HEARTBEAT_SECONDS,
    NodeInfo,
    NodeShape,
    heartbeat_forever,
    node_addresses,
    register,
)
from simpod.agent.registry import Workers
from simpod.api.group import GROUP, SIMNODE, SIMPOD, VERSION
from simpod.core.kubelet import KubeletSettings
from simpod.memo import memo_api, memo_settings
from simpod.runtimes.select import RuntimeOptions, clean_up_orphans
from simpod.settings import Role


def _workers(memo: Any) -> Workers | None:
    workers = memo.get("workers")
    return workers if isinstance(workers, Workers) else None


def _node_field_selector(nodes: list[str]) -> str:
    """Server-side filtering of the SimPod watch: only this agent's pods reach it.

    A field selector cannot say "one of these names", so several nodes share the selector
    of every bound pod and the rest is filtered here, as the kubelet's single-node
    ``spec.nodeName=`` watch cannot be copied exactly.
    """
    return f"spec.nodeName={nodes[0]}" if len(nodes) == 1 else "spec.nodeName!="


@kopf.on.startup()
async def start_agent(
    memo: kopf.Memo, settings: kopf.OperatorSettings, logger: Any, **_: Any
) -> None:
    api = memo_api(memo)
    config = memo_settings(memo)
    nodes: dict[str, NodeInfo] = {}
    for index in range(config.first_node, config.first_node + config.nodes):
        name = await register(api, index, shape=NodeShape())
        host_ip, pod_cidr = node_addresses(index)
        nodes[name] = NodeInfo(name=name, host_ip=host_ip, pool=AddressPool(pod_cidr))
        nodes[name].up.set()  # until a heartbeat finds it failed
    runtimes = RuntimeOptions(
        enable_process=config.enable_process_runtime, allow_privileged=config.allow_privileged
    )
    for orphan in await clean_up_orphans(api, list(nodes), runtimes):
        logger.info("removed the sandbox of %s, a pod deleted while no agent ran", orphan)
    memo["workers"] = Workers(
        api=api,
        nodes=nodes,
        time_scale=config.time_scale,
        kubelet=KubeletSettings(),
        runtimes=runtimes,
    )
    if nodes:
        memo["heartbeats"] = asyncio.create_task(
            heartbeat_forever(
                api, list(nodes.values()), period=HEARTBEAT_SECONDS / config.time_scale
            )
        )
        logger.info("serving SimNodes %s", ", ".join(nodes))
    if nodes and config.roles == frozenset({Role.AGENT}):
        # Alone in its process (`simpod run --role agent`), the agent may narrow the watch;
        # with the scheduler in the same process, unbound pods must stay visible.
        selector = _node_field_selector(list(nodes))
        settings.watching.field_selectors[GROUP, SIMPOD.plural] = selector
        logger.info("watching SimPods with field selector %s", selector)


@kopf.on.event(GROUP, VERSION, SIMPOD.plural)
async def simpod_event(event: kopf.RawEvent, memo: kopf.Memo, **_: Any) -> None:
    workers = _workers(memo)
    if workers is not None:
        await workers.observe(event.get("type"), event["object"])


@kopf.on.event(GROUP, VERSION, SIMNODE.plural)
async def simnode_event(event: kopf.RawEvent, memo: kopf.Memo, **_: Any) -> None:
    """A served node's ``spec.tickPhases`` set, changed or removed."""
    workers = _workers(memo)
    body = event["object"]
    node = workers.nodes.get(body["metadata"]["name"]) if workers is not None else None
    if node is not None and event.get("type") != "DELETED":
        node.pin(body.get("spec") or {})


@kopf.on.cleanup()
async def stop_agent(memo: kopf.Memo, **_: Any) -> None:
    task = memo.get("heartbeats")
    if isinstance(task, asyncio.Task):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    workers = _workers(memo)
    if workers is not None:
        await workers.stop()
