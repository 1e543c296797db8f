"""What several scenarios share: a private control plane, bounded concurrency, an
operator subprocess, process figures from /proc and the API server's own metrics."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import math
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

import kubernetes
import kubernetes_asyncio

from simpod.agent.worker import FINALIZER
from simpod.api.group import API_VERSION, GROUP, SIMPOD, VERSION
from simpod.cluster import controlplane
from simpod.cluster.build import NODE_TARGETS, ensure_binaries
from simpod.cluster.paths import Layout, layout

T = TypeVar("T")

_SAMPLE = re.compile(r"^(?P<metric>[a-zA-Z_:]+)\{(?P<labels>[^}]*)\} (?P<value>\S+)$")
_LABEL = re.compile(r'(\w+)="([^"]*)"')


@contextlib.contextmanager
def private_control_plane(*, with_node: bool = False) -> Iterator[str]:
    """A fresh control plane of its own (etcd without fsync), so that no other operator
    or test on the shared one disturbs the figures; yields its kubeconfig path.
    ``with_node`` adds the real kubelet node (``simpod cluster up --with-node``)."""
    real = layout()
    ensure_binaries(real)
    if with_node:
        ensure_binaries(real, targets=NODE_TARGETS)
    with tempfile.TemporaryDirectory(prefix="simpod-bench-") as tmp:
        os.symlink(real.home / "bin", Path(tmp) / "bin")
        private = Layout(Path(tmp))
        try:
            up = controlplane.up(private, unsafe_no_fsync=True, with_node=with_node)
            kubeconfig = str(up.kubeconfig)
            _wait_for_simpod_storage(kubeconfig)
            yield kubeconfig
        finally:
            controlplane.down(private, purge=with_node)


def _wait_for_simpod_storage(kubeconfig: str, *, timeout: float = 60.0) -> None:
    """An established CRD may still answer 429 "storage is (re)initializing" for a moment."""
    api = kubernetes.config.new_client_from_config(config_file=kubeconfig)
    custom = kubernetes.client.CustomObjectsApi(api)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                custom.list_cluster_custom_object(GROUP, VERSION, SIMPOD.plural, limit=1)
                return
            except kubernetes.client.exceptions.ApiException as exc:
                if exc.status != 429 or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    finally:
        api.close()


async def bounded(items: Iterable[T], op: Callable[[T], Awaitable[object]], *, limit: int) -> None:
    """Run ``op`` over ``items`` with at most ``limit`` requests in flight."""
    sem = asyncio.Semaphore(limit)

    async def one(item: T) -> None:
        async with sem:
            await op(item)

    await asyncio.gather(*(one(i) for i in items))


def start_operator(
    kubeconfig: str, *args: str, log: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """``simpod run ARGS`` in the background, output to ``log``."""
    env = dict(os.environ, KUBECONFIG=kubeconfig, **(env or {}))
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "simpod", "run", *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


async def wait_for_log(log: Path, line: str, *, timeout: float = 60.0) -> None:
    for _ in range(int(timeout / 0.1)):
        if line in log.read_text(errors="replace"):
            return
        await asyncio.sleep(0.1)
    raise TimeoutError(f"{line!r} not in {log} after {timeout}s:\n{log.read_text()[-2000:]}")


def rss_mb(pid: int) -> float:
    """Resident memory of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def apiserver_metrics(api_client: Any) -> list[tuple[str, dict[str, str], float]]:
    """The API server's /metrics as (metric, labels, value) samples."""
    text = await api_client.call_api(
        "/metrics",
        "GET",
        auth_settings=["BearerToken"],
        response_types_map={200: "str"},
        _return_http_data_only=True,
    )
    samples = []
    for line in str(text).splitlines():
        match = _SAMPLE.match(line)
        if match is not None:
            labels = dict(_LABEL.findall(match["labels"]))
            samples.append((match["metric"], labels, float(match["value"])))
    return samples


async def write_requests(api_client: Any, resource: str) -> float:
    """Mutating requests served so far for one resource (apiserver_request_total)."""
    return sum(
        value
        for metric, labels, value in await apiserver_metrics(api_client)
        if metric == "apiserver_request_total"
        and labels.get("resource") == resource
        and labels.get("verb") in {"POST", "PUT", "PATCH", "DELETE", "APPLY", "CREATE", "UPDATE"}
    )


def simpod_body(name: str, *, node: str | None = None, **spec: Any) -> dict[str, Any]:
    """A one-container SimPod with no `sim` block (starts at once, runs forever)."""
    body_spec: dict[str, Any] = {"containers": [{"name": "app", "image": "busybox"}], **spec}
    if node is not None:
        body_spec["nodeName"] = node
    return {
        "apiVersion": API_VERSION,
        "kind": SIMPOD.kind,
        "metadata": {"name": name},
        "spec": body_spec,
    }


async def wait_until_admitting(custom: Any, namespace: str, *, timeout: float = 60.0) -> None:
    """Until a dry-run creation comes back through the mutating webhook (finalizer added)."""
    for _ in range(int(timeout / 0.2)):
        pod = await custom.create_namespaced_custom_object(
            GROUP, VERSION, namespace, SIMPOD.plural, simpod_body("probe"), dry_run="All"
        )
        if FINALIZER in (pod["metadata"].get("finalizers") or []):
            return
        await asyncio.sleep(0.2)
    raise TimeoutError(f"the admission webhooks did not answer within {timeout}s")


@dataclasses.dataclass(frozen=True)
class Session:
    """An async API client and a fresh namespace of one scenario run."""

    api_client: Any
    core: Any
    custom: Any
    namespace: str


@contextlib.asynccontextmanager
async def bench_session(kubeconfig: str, scenario: str) -> AsyncIterator[Session]:
    api_client = await kubernetes_asyncio.config.new_client_from_config(config_file=kubeconfig)
    core = kubernetes_asyncio.client.CoreV1Api(api_client)
    custom = kubernetes_asyncio.client.CustomObjectsApi(api_client)
    namespace = f"bench-{scenario}-{uuid.uuid4().hex[:6]}"
    await core.create_namespace({"metadata": {"name": namespace}})
    try:
        yield Session(api_client, core, custom, namespace)
    finally:
        await core.delete_namespace(namespace)
        await api_client.close()


def is_ready(pod: Mapping[str, Any]) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def quantile(q: float, values: Iterable[float]) -> float:
    """The nearest-rank quantile (p99 of 100 values is the 99th smallest)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]
