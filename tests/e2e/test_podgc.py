"""Pod garbage collection through a real API server, with a small threshold.

The threshold is cluster-wide in Kubernetes, and this cluster is shared with other tests, so
the collector runs here in-process on this namespace's pods only (the same class ``simpod
run`` runs, fed from a listing instead of a watch) rather than as a second operator that
would collect everybody's terminated pods.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from kubernetes import client
from kubernetes_asyncio import config

from simpod.agent.worker import FINALIZER
from simpod.api.group import GROUP, SIMPOD, VERSION
from simpod.controllers.podgc import QUARANTINE, PodGC
from simpod.kube import Api
from simpod.settings import Settings
from tests.e2e import fakenodes
from tests.e2e.conftest import Cluster
from tests.e2e.fakenodes import FakeNodes, create_pod, patch_pod_status

fake_nodes = fakenodes.fake_nodes  # the fixture, used by name

SCALE = 10.0
Obj = dict[str, Any]


def _names(cluster: Cluster, namespace: str) -> set[str]:
    listed = client.CustomObjectsApi(cluster.api).list_namespaced_custom_object(
        GROUP, VERSION, namespace, SIMPOD.plural
    )
    return {p["metadata"]["name"] for p in listed["items"]}


async def _sweeps(
    cluster: Cluster, namespace: str, node: str, *, rounds: int, pause: float
) -> None:
    api = Api(await config.new_client_from_config(config_file=str(cluster.kubeconfig)))
    try:
        gc = PodGC(
            api,
            Settings(time_scale=SCALE, terminated_pod_gc_threshold=2),
            nodes={node: [node]},  # type: ignore[arg-type]
        )
        for round_ in range(rounds):
            listed = await api.custom.list_namespaced_custom_object(
                GROUP, VERSION, namespace, SIMPOD.plural
            )
            for pod in listed["items"]:
                gc.observe_pod(None, pod)
            await gc.sweep()
            if round_ < rounds - 1:
                await asyncio.sleep(pause)
    finally:
        await api.client.close()


def test_terminated_over_threshold_orphans_and_unscheduled_terminating(
    cluster: Cluster, namespace: str, fake_nodes: FakeNodes
) -> None:
    node = fake_nodes.add("gc")  # no agent runs its pods: their status is the test's
    for index, phase in enumerate(["Succeeded", "Failed", "Succeeded", "Failed"]):
        create_pod(cluster, namespace, f"done-{index}", {"nodeName": node})
        patch_pod_status(cluster, namespace, f"done-{index}", {"phase": phase})
        time.sleep(1.1)  # creation timestamps have whole seconds: keep the order known
    create_pod(cluster, namespace, "running", {"nodeName": node})
    patch_pod_status(cluster, namespace, "running", {"phase": "Running"})
    create_pod(cluster, namespace, "orphan", {"nodeName": "no-such-node"})
    patch_pod_status(cluster, namespace, "orphan", {"phase": "Running"})
    # a selector no node matches: a scheduler running on the shared cluster must not bind it
    unschedulable = {"nodeSelector": {"simpod.dev/no-such-node": "x"}}
    create_pod(cluster, namespace, "never-scheduled", unschedulable, finalizers=[FINALIZER])
    client.CustomObjectsApi(cluster.api).delete_namespaced_custom_object(
        GROUP, VERSION, namespace, SIMPOD.plural, "never-scheduled"
    )

    asyncio.run(_sweeps(cluster, namespace, node, rounds=1, pause=0))
    remaining = _names(cluster, namespace)
    assert {"done-0", "done-1", "never-scheduled"}.isdisjoint(remaining)
    assert {"done-2", "done-3", "running", "orphan"} <= remaining  # orphan: in quarantine

    asyncio.run(_sweeps(cluster, namespace, node, rounds=2, pause=QUARANTINE / SCALE + 0.5))
    assert _names(cluster, namespace) >= {"done-2", "done-3", "running"}
    assert "orphan" not in _names(cluster, namespace)
