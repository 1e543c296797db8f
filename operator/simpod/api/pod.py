"""The SimPod kind: a pod whose lifecycle simpod runs, printed like `kubectl get pods`."""

from __future__ import annotations

from simpod.api.group import SIMPOD
from simpod.api.podspec import pod_spec
from simpod.api.podstatus import POD_STATUS
from simpod.api.resource import AGE, Column, Resource

SIMPOD_RESOURCE = Resource(
    SIMPOD,
    "A pod whose lifecycle simpod's node agents run: core/v1 Pod field names and meanings, "
    "on a simulated or process runtime.",
    pod_spec(
        "The desired pod (core/v1 PodSpec field names). After creation only the containers' "
        "images, activeDeadlineSeconds, tolerations and the first nodeName may change.",
        immutable=True,
    ),
    POD_STATUS,
    columns=(
        Column("Ready", ".status.display.ready"),
        Column("Status", ".status.display.status"),
        Column("Restarts", ".status.display.restarts"),
        AGE,
        Column("IP", ".status.podIP", priority=1),
        Column("Node", ".spec.nodeName", priority=1),
    ),
    # Node agents watch only the pods of their nodes; pod GC lists terminal pods.
    selectable_fields=(".spec.nodeName", ".status.phase"),
    categories=("all",),
)
