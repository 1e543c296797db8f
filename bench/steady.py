"""Scenario ``steady``: 1,000 Running SimPods, each with a readiness probe every 10 s.

Nothing changes, so the agent should only run probes: its CPU share (of one core) over a
60 s window, and the status writes per minute in that window (from kube-apiserver's own
``apiserver_request_total``), which should be zero. No time scale: real 10 s periods.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import (
    Session,
    bench_session,
    bounded,
    cpu_seconds,
    is_ready,
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
    return sum(1 for p in listed["items"] if is_ready(p)) == PODS


async def _measure(kubeconfig: str, pid: int, log: Path) -> dict[str, float]:
    async with bench_session(kubeconfig, "steady") as session:
        return await _run(session, pid, log)


async def _run(session: Session, pid: int, log: Path) -> dict[str, float]:
    api_client, custom, namespace = session.api_client, session.custom, session.namespace
    await wait_for_log(log, "serving SimNodes")

    async def create(i: int) -> None:
        body = simpod_body(f"p-{i}", node=f"sim-node-{i % NODES + 1}")
        body["spec"]["containers"][0]["readinessProbe"] = PROBE
        await custom.create_namespaced_custom_object(GROUP, VERSION, namespace, SIMPOD.plural, body)

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
