"""Scenario ``startup``: 1,000 SimPods with zero delays over 10 SimNodes, one agent.

On a private control plane (etcd without fsync) with one operator process running the
agent and admission webhook roles (as ``simpod run`` would, minus the controllers), the
pods are created already bound (no scheduler) with 32 requests in flight. A watch records
when each pod is first Running and Ready. Figures: pods Ready per second (first creation
to last Ready), p99 creation→Running, API writes on simpods per pod (the create included)
and Events per pod from kube-apiserver's own ``apiserver_request_total``, the agent's RSS.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from kubernetes_asyncio import watch

from bench.common import (
    Session,
    bench_session,
    bounded,
    is_ready,
    private_control_plane,
    quantile,
    rss_mb,
    simpod_body,
    start_operator,
    wait_for_log,
    wait_until_admitting,
    write_requests,
)
from simpod.api.group import GROUP, SIMPOD, VERSION

PODS = 1000
NODES = 10
CONCURRENCY = 32
TIMEOUT = 300.0


def run() -> dict[str, float]:
    with private_control_plane() as kubeconfig, tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "operator.log"
        operator = start_operator(
            kubeconfig, "--role=agent", "--role=webhook", f"--nodes={NODES}", log=log
        )
        try:
            return asyncio.run(_measure(kubeconfig, operator.pid, log))
        finally:
            operator.terminate()
            operator.wait(timeout=30)


async def _measure(kubeconfig: str, pid: int, log: Path) -> dict[str, float]:
    async with bench_session(kubeconfig, "startup") as session:
        return await _run(session, pid, log)


async def _run(session: Session, pid: int, log: Path) -> dict[str, float]:
    api_client, custom, namespace = session.api_client, session.custom, session.namespace
    await wait_for_log(log, "serving SimNodes")
    await wait_until_admitting(custom, namespace)
    created: dict[str, float] = {}
    running: dict[str, float] = {}
    ready: dict[str, float] = {}
    all_ready = asyncio.Event()

    async def observe() -> None:
        # No timeout_seconds: without one, the client resumes the watch from the last
        # resourceVersion when the server ends it. Under this load kube-apiserver closes
        # a watcher that falls behind, and a watch with a timeout would just stop there.
        stream = watch.Watch()
        async with stream.stream(
            custom.list_namespaced_custom_object,
            GROUP,
            VERSION,
            namespace,
            SIMPOD.plural,
        ) as events:
            async for event in events:
                pod = event["object"]
                name = pod["metadata"]["name"]
                now = time.monotonic()
                if (pod.get("status") or {}).get("phase") == "Running":
                    running.setdefault(name, now)
                if is_ready(pod):
                    ready.setdefault(name, now)
                    if len(ready) == PODS:
                        all_ready.set()
                        return

    async def create(i: int) -> None:
        name = f"p-{i}"
        body = simpod_body(name, node=f"sim-node-{i % NODES + 1}")
        created[name] = time.monotonic()
        await custom.create_namespaced_custom_object(GROUP, VERSION, namespace, SIMPOD.plural, body)

    watcher = asyncio.create_task(observe())
    try:
        await asyncio.sleep(0.5)  # the watch is open before the first creation
        simpod_writes = await write_requests(api_client, SIMPOD.plural)
        event_writes = await write_requests(api_client, "events")
        started = time.monotonic()
        await bounded(range(PODS), create, limit=CONCURRENCY)
        await asyncio.wait_for(all_ready.wait(), TIMEOUT)
        finished = max(ready.values())
        await asyncio.sleep(2.0)  # let trailing writes (events) land before counting
        simpod_writes = await write_requests(api_client, SIMPOD.plural) - simpod_writes
        event_writes = await write_requests(api_client, "events") - event_writes
        return {
            "pods_per_second": PODS / (finished - started),
            "p99_running_seconds": quantile(0.99, [running[n] - created[n] for n in created]),
            "writes_per_pod": simpod_writes / PODS,
            "events_per_pod": event_writes / PODS,
            "agent_rss_mb": rss_mb(pid),
        }
    finally:
        watcher.cancel()
