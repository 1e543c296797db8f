"""The agent's pod workers, keyed by UID: started, fed and stopped from watch events.

Workers are plain asyncio tasks rather than Kopf daemons because Kopf adds and removes
its own finalizer for daemons depending on its filters: several agents (each serving its
own nodes) would fight over it. The agent owns ``simpod.dev/finalizer`` instead and
removes it only when a pod's termination is finished.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from simpod.agent.nodes import NodeInfo
from simpod.agent.worker import FINALIZER, PodWorker
from simpod.api.group import SIMPOD
from simpod.core.kubelet import KubeletSettings
from simpod.kube import Api
from simpod.runtimes.select import RuntimeOptions

logger = logging.getLogger("simpod.agent")


class Workers:
    def __init__(
        self,
        *,
        api: Api,
        nodes: Mapping[str, NodeInfo],
        time_scale: float,
        kubelet: KubeletSettings,
        runtimes: RuntimeOptions | None = None,
    ) -> None:
        self.api = api
        self.runtimes = runtimes
        self.nodes = nodes
        self.time_scale = time_scale
        self.kubelet = kubelet
        self.workers: dict[str, tuple[PodWorker, asyncio.Task[None]]] = {}

    async def observe(self, event_type: str | None, body: Mapping[str, Any]) -> None:
        meta = body.get("metadata") or {}
        uid = str(meta.get("uid"))
        known = self.workers.get(uid)
        if event_type == "DELETED":
            if known is not None:
                known[0].vanish()
            return
        if known is not None:
            known[0].update(body)
            return
        node = self.nodes.get(str((body.get("spec") or {}).get("nodeName") or ""))
        if node is not None:
            self._spawn(uid, node, body)
        elif meta.get("deletionTimestamp") and not (body.get("spec") or {}).get("nodeName"):
            await self._release_unscheduled(body)

    def _spawn(self, uid: str, node: NodeInfo, body: Mapping[str, Any]) -> None:
        worker = PodWorker(
            api=self.api,
            node=node,
            body=body,
            time_scale=self.time_scale,
            kubelet=self.kubelet,
            logger=logger,
            runtimes=self.runtimes,
        )
        task = asyncio.create_task(self._run(uid, worker), name=f"pod {uid}")
        self.workers[uid] = (worker, task)

    async def _run(self, uid: str, worker: PodWorker) -> None:
        try:
            await worker.run()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # A malformed object (e.g. a hand-edited status) must never take the agent
            # down: the pod gets a Warning Event and is retried on its next change.
            logger.exception("worker of %s/%s failed", worker.namespace, worker.name)
            await worker.report_failure(exc)
        finally:
            self.workers.pop(uid, None)

    async def _release_unscheduled(self, body: Mapping[str, Any]) -> None:
        """A pod never bound to a node has nothing to stop: deleted at once (grace 0)."""
        meta = body["metadata"]
        finalizers = list(meta.get("finalizers") or [])
        if FINALIZER in finalizers:
            await self.api.patch(
                SIMPOD,
                meta["name"],
                {"metadata": {"finalizers": [f for f in finalizers if f != FINALIZER]}},
                namespace=meta["namespace"],
            )

    async def stop(self) -> None:
        """Operator exit: stop the workers without touching the pods (they resume later)."""
        tasks = [task for _, task in self.workers.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
