"""Scenario ``steady``: 1,000 Running SimPods, each with a readiness probe every 10 s.

Nothing changes, so the agent should only run probes: its CPU share (of one core) over a
60 s window, and the status writes per minute in that window (from kube-apiserver's own
``apiserver_request_total``), which should be zero. No time scale: real 10 s periods.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from kubernetes_asyncio import client, config

from bench.common import (
    bounded,
    cpu_seconds,
    private_control_plane,
    simpod_body,
    start_operator,
    wait_for_log,
    write_requests,
)
from simpod.api.group import GROUP, SIMPOD, VERSION

PODS = 1000
NODES = 10
CONCURRENCY = 32
WINDOW = 60.0
PROBE = {"exec": {"command": ["true"]}, "periodSeconds": 10}


def run() -> dict[str, float]:
    with private_control_plane() as kubeconfig, tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "operator.log"
        operator = start_operator(kubeconfig, "--role=agent", f"--nodes={NODES}", log=log)
        try:
            return asyncio.run(_measure(kubeconfig, operator.pid, log))
        finally:
            operator.terminate()
            operator.wait(timeout=30)


async def _all_ready(custom: Any, namespace: str) -> bool:
    listed = await custom.list_namespaced_custom_object(GROUP, VERSION, namespace, SIMPOD.plural)
    ready = [
        p
        for p in listed["items"]
        if any(
            c.get("type") == "Ready" and c.get("status") == "True"
            for c in (p.get("status") or {}).get("conditions") or []
        )
    ]
    return len(ready) == PODS


async def _measure(kubeconfig: str, pid: int, log: Path) -> dict[str, float]:
    api_client = await config.new_client_from_config(config_file=kubeconfig)
    core = client.CoreV1Api(api_client)
    custom = client.CustomObjectsApi(api_client)
    namespace = f"bench-steady-{uuid.uuid4().hex[:6]}"
    await core.create_namespace({"metadata": {"name": namespace}})
    await wait_for_log(log, "serving SimNodes")
    try:

        async def create(i: int) -> None:
            body = simpod_body(f"p-{i}", node=f"sim-node-{i % NODES + 1}")
            body["spec"]["containers"][0]["readinessProbe"] = PROBE
            await custom.create_namespaced_custom_object(
                GROUP, VERSION, namespace, SIMPOD.plural, body
            )

        await bounded(range(PODS), create, limit=CONCURRENCY)
        deadline = time.monotonic() + 300
        while not await _all_ready(custom, namespace):
            if time.monotonic() > deadline:
                raise TimeoutError("pods not Ready within 300 s")
            await asyncio.sleep(1.0)
        await asyncio.sleep(15.0)  # past the first probe period: steady state
        writes = await write_requests(api_client, SIMPOD.plural)
        cpu = cpu_seconds(pid)
        await asyncio.sleep(WINDOW)
        cpu = cpu_seconds(pid) - cpu
        writes = await write_requests(api_client, SIMPOD.plural) - writes
        return {
            "agent_cpu_percent": 100.0 * cpu / WINDOW,
            "status_writes_per_minute": writes * 60.0 / WINDOW,
        }
    finally:
        await core.delete_namespace(namespace)
        await api_client.close()
