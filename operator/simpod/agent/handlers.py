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
    NodeShape,
    heartbeat_forever,
    node_addresses,
    register,
)
from simpod.agent.registry import Workers
from simpod.agent.worker import NodeInfo
from simpod.api.group import GROUP, SIMPOD, VERSION
from simpod.core.kubelet import KubeletSettings
from simpod.memo import memo_api, memo_settings


def _workers(memo: Any) -> Workers | None:
    workers = memo.get("workers")
    return workers if isinstance(workers, Workers) else None


@kopf.on.startup()
async def start_agent(memo: kopf.Memo, logger: Any, **_: Any) -> None:
    settings = memo_settings(memo)
    api = memo_api(memo)
    nodes: dict[str, NodeInfo] = {}
    for index in range(1, settings.nodes + 1):
        name = await register(api, index, shape=NodeShape())
        host_ip, pod_cidr = node_addresses(index)
        nodes[name] = NodeInfo(name=name, host_ip=host_ip, pool=AddressPool(pod_cidr))
    memo["workers"] = Workers(
        api=api, nodes=nodes, time_scale=settings.time_scale, kubelet=KubeletSettings()
    )
    if nodes:
        memo["heartbeats"] = asyncio.create_task(
            heartbeat_forever(api, list(nodes), period=HEARTBEAT_SECONDS / settings.time_scale)
        )
        logger.info("serving SimNodes %s", ", ".join(nodes))


@kopf.on.event(GROUP, VERSION, SIMPOD.plural)
async def simpod_event(event: kopf.RawEvent, memo: kopf.Memo, **_: Any) -> None:
    workers = _workers(memo)
    if workers is not None:
        await workers.observe(event.get("type"), event["object"])


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
