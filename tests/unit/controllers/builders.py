"""Raw API bodies of SimNodes and SimPods for the controllers' unit tests."""

from __future__ import annotations

from typing import Any


def node_body(
    name: str,
    *,
    cpu: str = "4",
    memory: str = "8Gi",
    pods: str = "110",
    labels: dict[str, str] | None = None,
    taints: list[dict[str, Any]] | None = None,
    unschedulable: bool = False,
    ready: str = "True",
) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "labels": labels or {}},
        "spec": {"taints": taints or [], "unschedulable": unschedulable},
        "status": {
            "allocatable": {"cpu": cpu, "memory": memory, "pods": pods},
            "conditions": [{"type": "Ready", "status": ready}],
        },
    }


def container(
    name: str = "app",
    *,
    cpu: str | None = None,
    memory: str | None = None,
    restart_policy: str | None = None,
) -> dict[str, Any]:
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v is not None}
    out: dict[str, Any] = {"name": name, "image": "busybox", "resources": {"requests": requests}}
    if restart_policy:
        out["restartPolicy"] = restart_policy
    return out


def pod_body(
    name: str = "p",
    *,
    namespace: str = "ns",
    containers: list[dict[str, Any]] | None = None,
    init_containers: list[dict[str, Any]] | None = None,
    spec: dict[str, Any] | None = None,
    owner: str | None = None,
    created: str = "2024-01-01T00:00:00Z",
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": name,
        "namespace": namespace,
        "uid": f"uid-{name}",
        "creationTimestamp": created,
    }
    if owner:
        meta["ownerReferences"] = [{"uid": owner, "controller": True, "kind": "SimReplicaSet"}]
    return {
        "metadata": meta,
        "spec": {
            "containers": containers or [container()],
            "initContainers": init_containers or [],
            **(spec or {}),
        },
    }
