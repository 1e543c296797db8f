"""Scenario ``process``: 100 real process pods, each probed every second.

On a private control plane, one agent with the process runtime runs 100 SimPods, each a
``python3 -m http.server`` with an exec readiness probe and an httpGet liveness probe at
periodSeconds 1 (no time scale). Figures: pods Ready per second (first creation to last
Ready), then over a 30 s steady window the agent's own CPU share of one core (probe
commands run in their sandboxes, outside it) and probe latency p50/p99 as the agent
measured each probe (its ``simpod.probes`` debug log, the counterpart of the kubelet's
``prober_probe_duration_seconds``).
"""

from __future__ import annotations

import asyncio
import re
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
    quantile,
    simpod_body,
    start_operator,
    wait_for_log,
)
from simpod.api.group import GROUP, SIMPOD, VERSION

PODS = 100
NODE_INDEX = 77  # its own pod CIDR: process pods of other agents on this host never clash
CONCURRENCY = 16
WINDOW = 30.0
TIMEOUT = 300.0
_PROBE_LINE = re.compile(r"probe (\w+) (\w+) ([0-9.]+) ms")


def run() -> dict[str, float]:
    with private_control_plane() as kubeconfig, tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "operator.log"
        operator = start_operator(
            kubeconfig,
            "--role=agent",
            "--nodes=1",
            f"--first-node={NODE_INDEX}",
            "--enable-process-runtime",
            log=log,
            env={"SIMPOD_DEBUG_LOGGERS": "simpod.probes"},
        )
        try:
            return asyncio.run(_measure(kubeconfig, operator.pid, log))
        finally:
            operator.terminate()
            operator.wait(timeout=60)


def _ready_count(listed: dict[str, Any]) -> int:
    return sum(1 for p in listed["items"] if is_ready(p))


def _pod(i: int) -> dict[str, Any]:
    body = simpod_body(f"p-{i}", node=f"sim-node-{NODE_INDEX}", runtimeClassName="process")
    body["spec"]["containers"][0].update(
        command=["python3", "-m", "http.server", "8080"],
        readinessProbe={"exec": {"command": ["true"]}, "periodSeconds": 1},
        livenessProbe={
            "httpGet": {"path": "/", "port": 8080},
            "periodSeconds": 1,
            "initialDelaySeconds": 2,
        },
    )
    return body


async def _measure(kubeconfig: str, pid: int, log: Path) -> dict[str, float]:
    async with bench_session(kubeconfig, "process") as session:
        return await _run(session, pid, log)


async def _run(session: Session, pid: int, log: Path) -> dict[str, float]:
    custom, namespace = session.custom, session.namespace
    await wait_for_log(log, "serving SimNodes")
    try:
        started = time.monotonic()
        await bounded(
            range(PODS),
            lambda i: custom.create_namespaced_custom_object(
                GROUP, VERSION, namespace, SIMPOD.plural, _pod(i)
            ),
            limit=CONCURRENCY,
        )
        while True:
            listed = await custom.list_namespaced_custom_object(
                GROUP, VERSION, namespace, SIMPOD.plural
            )
            if _ready_count(listed) == PODS:
                break
            if time.monotonic() - started > TIMEOUT:
                raise TimeoutError(f"only {_ready_count(listed)} of {PODS} pods Ready")
            await asyncio.sleep(0.2)
        pods_per_second = PODS / (time.monotonic() - started)
        offset = len(log.read_text(errors="replace"))
        cpu = cpu_seconds(pid)
        await asyncio.sleep(WINDOW)
        cpu = cpu_seconds(pid) - cpu
        window = log.read_text(errors="replace")[offset:]
        samples = [(m.group(2), float(m.group(3))) for m in _PROBE_LINE.finditer(window)]
        if not samples:
            raise RuntimeError("no probe timings in the agent's log")
        latencies = [ms for _, ms in samples]
        by_handler = {
            f"{handler}_probe_p99_ms": quantile(0.99, [ms for h, ms in samples if h == handler])
            for handler in {h for h, _ in samples}
        }
        return {
            "pods_per_second": pods_per_second,
            "agent_cpu_percent": 100.0 * cpu / WINDOW,
            "probe_p50_ms": quantile(0.5, latencies),
            "probe_p99_ms": quantile(0.99, latencies),
            "probes_per_second": len(latencies) / WINDOW,
            **by_handler,
        }
    finally:
        await bounded(
            range(PODS),
            lambda i: custom.delete_namespaced_custom_object(
                GROUP, VERSION, namespace, SIMPOD.plural, f"p-{i}"
            ),
            limit=CONCURRENCY,
        )
        await _until_empty(custom, namespace)


async def _until_empty(custom: Any, namespace: str) -> None:
    """The agent stops every process before the control plane goes away."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        listed = await custom.list_namespaced_custom_object(
            GROUP, VERSION, namespace, SIMPOD.plural
        )
        if not listed["items"]:
            return
        await asyncio.sleep(0.5)
