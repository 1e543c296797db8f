"""A SimPod's status: core/v1 PodStatus fields, plus what kubectl prints and the agent's notes."""

from __future__ import annotations

from simpod.api.container import IMAGE_LENGTH
from simpod.api.meta import conditions, dns_label, message, reason
from simpod.api.podspec import MAX_CONTAINERS
from simpod.api.schema import (
    Schema,
    array,
    boolean,
    integer,
    obj,
    one_of,
    preserved,
    string,
    timestamp,
)

IP_LENGTH = 45  # the longest textual IPv6 address
ID_LENGTH = 1024
MAX_IPS = 2  # one IPv4 and one IPv6 address, as dual-stack pods have

_TERMINATED = {
    "exitCode": integer("The exit code: 143 after TERM, 137 after KILL."),
    "signal": integer("The signal that ended the process, if one did."),
    "reason": reason("Completed (exit code 0), Error, DeadlineExceeded or OOMKilled."),
    "message": message("Details about the termination."),
    "startedAt": timestamp("When this run of the container started."),
    "finishedAt": timestamp("When it ended."),
    "containerID": string("The ID of the container that ended.", max_length=ID_LENGTH),
}


def _state(description: str) -> Schema:
    return obj(
        description,
        {
            "waiting": obj(
                "The container is not running yet or is waiting to restart.",
                {
                    "reason": reason(
                        "ContainerCreating, PodInitializing, CrashLoopBackOff, "
                        "CreateContainerConfigError..."
                    ),
                    "message": message("Details, such as the back-off time left."),
                },
            ),
            "running": obj(
                "The container is running.",
                {"startedAt": timestamp("When it last started.")},
            ),
            "terminated": obj("The container has exited.", _TERMINATED, required=("exitCode",)),
        },
    )


def _container_statuses(description: str) -> Schema:
    return array(
        description,
        obj(
            "The state of one container.",
            {
                "name": dns_label("The container's name in the spec."),
                "state": _state("The current state: one of waiting, running or terminated."),
                "lastState": _state(
                    "The state of the previous run (terminated after a restart), or empty."
                ),
                "ready": boolean("Whether the container passes its readiness probe."),
                "started": boolean(
                    "Whether the container has started: running, postStart done and the "
                    "startup probe passed."
                ),
                "restartCount": integer("How often the container has been restarted.", minimum=0),
                "image": string("The image of the spec it runs.", max_length=IMAGE_LENGTH),
                "imageID": string("The ID of that image.", max_length=ID_LENGTH),
                "containerID": string(
                    "The ID of the current run (<runtime>://<id>).", max_length=ID_LENGTH
                ),
            },
            required=("name",),
        ),
        max_items=MAX_CONTAINERS,
    )


def _ips(description: str) -> Schema:
    return array(
        description,
        obj("One address.", {"ip": string("The IP address.", max_length=IP_LENGTH)}),
        max_items=MAX_IPS,
    )


POD_STATUS = obj(
    "The most recently observed state of the pod, written by the node agent.",
    {
        "phase": one_of(
            "Where the pod is in its life: Pending (not all containers started), Running, "
            "Succeeded (all exited 0, no restart), Failed (all exited, one failed) or Unknown.",
            ("Pending", "Running", "Succeeded", "Failed", "Unknown"),
        ),
        "conditions": conditions(
            "Conditions of the pod: PodScheduled, PodReadyToStartContainers, Initialized, "
            "ContainersReady, Ready, and those named in readinessGates.",
            types="The condition type, e.g. Ready.",
            timestamps={"lastProbeTime": "When the condition was last checked."},
        ),
        "message": message("Why the pod is in this state, in words."),
        "reason": reason(
            "A CamelCase word for why the pod is in this state, e.g. DeadlineExceeded; kubectl "
            "shows it as STATUS."
        ),
        "hostIP": string("The IP address of the node the pod runs on.", max_length=IP_LENGTH),
        "hostIPs": _ips("The IP addresses of the node; hostIPs[0] is hostIP."),
        "podIP": string("The pod's IP address.", max_length=IP_LENGTH),
        "podIPs": _ips("The pod's IP addresses; podIPs[0] is podIP."),
        "startTime": timestamp(
            "When the node agent accepted the pod, before its containers started; "
            "activeDeadlineSeconds counts from here."
        ),
        "initContainerStatuses": _container_statuses(
            "The state of each init container, in spec order."
        ),
        "containerStatuses": _container_statuses("The state of each app container, in spec order."),
        "qosClass": one_of(
            "The quality-of-service class from the containers' requests and limits.",
            ("Guaranteed", "Burstable", "BestEffort"),
        ),
        "display": obj(
            "What `kubectl get simpods` prints, computed the way kubectl computes it for pods.",
            {
                "ready": string(
                    "READY column: ready containers / all containers, e.g. 1/2 (sidecars "
                    "included).",
                    max_length=32,
                ),
                "status": reason(
                    "STATUS column: e.g. Running, Init:1/3, CrashLoopBackOff, Completed, "
                    "Terminating."
                ),
                "restarts": string(
                    "RESTARTS column: total restarts and how long ago the last one was, "
                    "e.g. 2 (5m ago).",
                    max_length=64,
                ),
                "restartsCount": integer(
                    "Total restarts of all containers, as a number.", minimum=0
                ),
            },
        ),
        "sim": preserved(
            "Internal bookkeeping of the node agent (backoff and grace deadlines, attempt "
            "numbers) that must survive an operator restart. Not an API: do not read or "
            "write it."
        ),
    },
)
