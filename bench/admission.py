"""Scenario ``admission``: webhook latency p99 over 1,000 SimPod creations.

On a private control plane (its own ``$SIMPOD_HOME``, as the ``controlplane`` scenario):
the shared one's webhook configurations belong to whichever operator runs there, and its
other traffic would go through the webhooks being measured. The operator runs with only
its webhook role (a ``simpod run --role webhook`` subprocess), and every creation goes
through both webhooks with one matching SimPodPreset to merge, the common path.

Latency is what the API server measures for each webhook call (TLS, network, Kopf and
our handler): the delta of its ``apiserver_admission_webhook_admission_duration_seconds``
histogram over the run, p99 interpolated within a bucket as Prometheus'
``histogram_quantile`` does (the buckets are 5, 25, 100 ms, ...).

Two passes of ``COUNT`` creations: one at a time (``webhook_p99_ms``: a call's latency),
then ``LOADED`` at a time (``loaded_webhook_p99_ms``: with the API server, etcd and the
webhook server sharing the machine's cores); not the ``api`` scenario's saturating 32,
whose figure would be queueing in a one-threaded webhook server. Latency also depends on
what else the machine runs, so the operator's own CPU time per creation (both webhooks)
is reported too: the part this code controls.
"""

from __future__ import annotations

import asyncio
import math
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from typing import Any

from kubernetes_asyncio import client, config

from bench.common import apiserver_metrics, bounded, cpu_seconds, private_control_plane
from simpod.admission.presets import applied_annotation
from simpod.admission.server import MUTATE_ID, VALIDATE_ID
from simpod.api.group import API_VERSION, GROUP, SIMPOD, SIMPODPRESET, VERSION

COUNT = 1000
LOADED = 4
READY_TIMEOUT = 60.0
METRIC = "apiserver_admission_webhook_admission_duration_seconds_bucket"

Histogram = Counter[float]  # upper bound (seconds) -> cumulative count


def run() -> dict[str, float]:
    with private_control_plane() as kubeconfig:
        return asyncio.run(_measure(kubeconfig))


async def _measure(kubeconfig: str) -> dict[str, float]:
    api_client = await config.new_client_from_config(config_file=kubeconfig)
    api_client.rest_client.pool_manager.connector._limit = LOADED
    core = client.CoreV1Api(api_client)
    custom = client.CustomObjectsApi(api_client)
    namespace = f"bench-admission-{uuid.uuid4().hex[:6]}"
    await core.create_namespace({"metadata": {"name": namespace}})
    operator = subprocess.Popen(
        [sys.executable, "-m", "simpod", "run", "--role", "webhook"],
        env=dict(os.environ, KUBECONFIG=kubeconfig),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        await custom.create_namespaced_custom_object(
            GROUP, VERSION, namespace, SIMPODPRESET.plural, _preset()
        )
        await _wait_until_admitting(custom, namespace, operator)
        single = await _pass(api_client, custom, namespace, operator.pid, concurrency=1)
        loaded = await _pass(api_client, custom, namespace, operator.pid, concurrency=LOADED)
    finally:
        operator.terminate()
        operator.wait(timeout=30)
        await core.delete_namespace(namespace)
        await api_client.close()
    return single | {f"loaded_{name}": value for name, value in loaded.items()}


async def _pass(
    api_client: client.ApiClient, custom: Any, namespace: str, pid: int, *, concurrency: int
) -> dict[str, float]:
    prefix = f"c{concurrency}-"
    before = await _histograms(api_client)
    cpu_before = cpu_seconds(pid)
    started = time.monotonic()
    await bounded(
        range(COUNT), lambda i: _create(custom, namespace, f"{prefix}{i}"), limit=concurrency
    )
    creates_per_second = COUNT / (time.monotonic() - started)
    cpu_ms = 1000 * (cpu_seconds(pid) - cpu_before) / COUNT
    after = await _histograms(api_client)
    mutating = _delta(after, before, MUTATE_ID)
    validating = _delta(after, before, VALIDATE_ID)
    assert _count(mutating) >= COUNT and _count(validating) >= COUNT, "webhooks were skipped"
    return {
        "webhook_p99_ms": 1000 * _quantile(0.99, mutating + validating),
        "mutating_p99_ms": 1000 * _quantile(0.99, mutating),
        "validating_p99_ms": 1000 * _quantile(0.99, validating),
        "creates_per_second": creates_per_second,
        "operator_cpu_ms_per_creation": cpu_ms,
    }


def _preset() -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": SIMPODPRESET.kind,
        "metadata": {"name": "bench"},
        "spec": {
            "env": [{"name": "BENCH", "value": "1"}],
            "volumes": [{"name": "cache", "emptyDir": {}}],
            "volumeMounts": [{"name": "cache", "mountPath": "/cache"}],
        },
    }


async def _create(custom: Any, namespace: str, name: str, *, dry_run: bool = False) -> Any:
    body = {
        "apiVersion": API_VERSION,
        "kind": SIMPOD.kind,
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "app", "image": "busybox"}]},
    }
    kwargs = {"dry_run": "All"} if dry_run else {}
    return await custom.create_namespaced_custom_object(
        GROUP, VERSION, namespace, SIMPOD.plural, body, **kwargs
    )


async def _wait_until_admitting(
    custom: Any, namespace: str, operator: subprocess.Popen[bytes]
) -> None:
    """Until a dry-run creation comes back with the preset merged by the webhook."""
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if operator.poll() is not None:
            raise RuntimeError(f"the operator exited with {operator.returncode}")
        pod = await _create(custom, namespace, "probe", dry_run=True)
        if applied_annotation("bench") in (pod["metadata"].get("annotations") or {}):
            return
        await asyncio.sleep(0.2)
    raise TimeoutError(f"the admission webhooks did not answer within {READY_TIMEOUT}s")


async def _histograms(api_client: client.ApiClient) -> dict[str, Histogram]:
    """Cumulative bucket counts of our webhooks, by webhook name (all label sets summed)."""
    histograms: dict[str, Histogram] = {}
    for metric, labels, value in await apiserver_metrics(api_client):
        if metric == METRIC:
            bound = math.inf if labels["le"] == "+Inf" else float(labels["le"])
            histograms.setdefault(labels["name"], Counter())[bound] += int(value)
    return histograms


def _delta(after: dict[str, Histogram], before: dict[str, Histogram], handler: str) -> Histogram:
    name = next((n for n in after if n.startswith(f"{handler}.")), "")
    delta = Counter(after.get(name, Counter()))
    delta.subtract(before.get(name, Counter()))
    return delta


def _count(histogram: Histogram) -> int:
    return histogram[math.inf]


def _quantile(q: float, histogram: Histogram) -> float:
    """Prometheus' histogram_quantile: linear within the bucket holding the rank."""
    total = _count(histogram)
    rank = q * total
    lower_bound, lower_count = 0.0, 0
    for bound in sorted(histogram):
        count = histogram[bound]
        if count >= rank:
            if math.isinf(bound):
                return lower_bound
            return lower_bound + (bound - lower_bound) * (rank - lower_count) / (
                count - lower_count
            )
        lower_bound, lower_count = bound, count
    return lower_bound
