"""Privileged containers: admitted only where the target node (or the cluster) allows them.

Like the old kubelet and API server ``--allow-privileged`` flags: a pod bound at creation
is judged by its SimNode's ``spec.allowPrivileged``; an unscheduled one by the operator's
``--allow-privileged`` setting, since no node is known yet.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simpod.admission.presets import CONTAINER_LISTS


def privileged_containers(spec: Mapping[str, Any]) -> list[str]:
    return [
        str(container.get("name", "?"))
        for kind in CONTAINER_LISTS
        for container in spec.get(kind) or ()
        if (container.get("securityContext") or {}).get("privileged") is True
    ]


def problem(
    containers: list[str],
    *,
    node_name: str | None,
    node: Mapping[str, Any] | None,
    cluster_allows: bool,
) -> str | None:
    """Why the privileged `containers` are refused, with how to allow them (None: allowed)."""
    if not containers:
        return None
    which = "privileged container(s) " + ", ".join(f'"{name}"' for name in containers)
    if node_name:
        if node is None:
            return (
                f'{which} refused: SimNode "{node_name}" does not exist, so nothing allows '
                "privileged pods on it; create it with spec.allowPrivileged: true, or drop "
                "securityContext.privileged"
            )
        if (node.get("spec") or {}).get("allowPrivileged") is True:
            return None
        return (
            f'{which} refused: SimNode "{node_name}" does not allow privileged pods; allow '
            f"them with: kubectl patch simnode {node_name} --type=merge "
            '-p \'{"spec":{"allowPrivileged":true}}\' (or drop securityContext.privileged)'
        )
    if cluster_allows:
        return None
    return (
        f"{which} refused: this cluster does not allow privileged pods; run the simpod "
        "operator with --allow-privileged (SIMPOD_ALLOW_PRIVILEGED=1), or set spec.nodeName "
        "to a SimNode with spec.allowPrivileged: true, or drop securityContext.privileged"
    )
