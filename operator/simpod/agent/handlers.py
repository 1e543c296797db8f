"""Kopf wiring of the node agent: SimNode registration and heartbeats.

The per-pod workers are added by the lifecycle work; this module stays a thin layer.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import kopf

from simpod.agent.nodes import HEARTBEAT_SECONDS, NodeShape, heartbeat_forever, register
from simpod.memo import memo_api, memo_settings


@kopf.on.startup()
async def register_nodes(memo: kopf.Memo, logger: Any, **_: Any) -> None:
    settings = memo_settings(memo)
    if settings.nodes <= 0:
        return
    api = memo_api(memo)
    names = [
        await register(api, index, shape=NodeShape()) for index in range(1, settings.nodes + 1)
    ]
    memo["node_names"] = frozenset(names)
    memo["heartbeats"] = asyncio.create_task(
        heartbeat_forever(api, names, period=HEARTBEAT_SECONDS / settings.time_scale)
    )
    logger.info("registered SimNodes %s", ", ".join(names))


@kopf.on.cleanup()
async def stop_heartbeats(memo: kopf.Memo, **_: Any) -> None:
    task = memo.get("heartbeats")
    if isinstance(task, asyncio.Task):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
