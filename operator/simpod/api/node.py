"""The SimNode kind: a node that SimPods are bound to, printed like `kubectl get nodes`."""

from __future__ import annotations

from simpod.api.group import SIMNODE
from simpod.api.meta import (
    DNS_LABEL_LENGTH,
    DNS_SUBDOMAIN_LENGTH,
    QUALIFIED_NAME_LENGTH,
    conditions,
    reason,
)
from simpod.api.resource import AGE, Column, Resource
from simpod.api.schema import (
    Reason,
    Rule,
    Schema,
    array,
    boolean,
    map_of,
    number,
    obj,
    one_of,
    quantity,
    string,
    timestamp,
)

MAX_TAINTS = 64
MAX_ADDRESSES = 16
MAX_RESOURCES = 32
CIDR_LENGTH = 49  # an IPv6 address and a /128 prefix
INFO_LENGTH = 256


def _resources(description: str) -> Schema:
    return map_of(
        description,
        quantity("An amount of the resource."),
        max_properties=MAX_RESOURCES,
    )


def _info(description: str) -> Schema:
    return string(description, max_length=INFO_LENGTH)


_SPEC = obj(
    "The desired state of the node.",
    {
        "podCIDR": string(
            "The address range the node's simulated pods get their IPs from, e.g. 10.244.1.0/24.",
            max_length=CIDR_LENGTH,
        ),
        "unschedulable": boolean(
            "Cordoned: the scheduler places no new pods here; running pods stay."
        ),
        "taints": array(
            "Taints repel pods that do not tolerate them.",
            obj(
                "One taint.",
                {
                    "key": string("The taint key.", max_length=QUALIFIED_NAME_LENGTH),
                    "value": string("The taint value.", max_length=DNS_LABEL_LENGTH),
                    "effect": one_of(
                        "NoSchedule keeps new pods off, PreferNoSchedule avoids the node, "
                        "NoExecute also evicts running pods that do not tolerate it.",
                        ("NoSchedule", "PreferNoSchedule", "NoExecute"),
                    ),
                    "timeAdded": timestamp("When a NoExecute taint was added."),
                },
                required=("key", "effect"),
            ),
            max_items=MAX_TAINTS,
        ),
        "failed": boolean(
            "Fail the node on purpose: its agent stops heartbeating it, as if the node were "
            "lost. Set back to false to recover it."
        ),
        "allowPrivileged": boolean(
            "Whether pods with a privileged container may run on this node."
        ),
        "tickPhases": obj(
            "Pin the phases of the node's two one-second kubelet ticks, as seconds past "
            "the whole second: by default each node has phases of its own, drawn from its "
            "name. Pinning them makes a run reproducible against a wall clock, or mirrors a "
            "real node's (where a step shows up depends on them). A change applies from the "
            "next tick on.",
            {
                "relist": number(
                    "When the PLEG's relist ticks (container starts and exits show then): "
                    "at relist + n * relistPeriod seconds since the Unix epoch.",
                    minimum=0,
                ),
                "relists": array(
                    "Relists known one by one, ascending, as a real node's read from its "
                    "kubelet log (its period stretches and shrinks with its load): the "
                    "relist ticks at each, and before and after them every relistPeriod "
                    "from the nearest; relist is then unused.",
                    obj(
                        "One relist.",
                        {
                            "at": number(
                                "When it lists the containers, seconds since the Unix "
                                "epoch: it shows what started or exited before then.",
                                minimum=0,
                            ),
                            "syncAt": number(
                                "When it syncs the pods it found changed (it goes through "
                                "them one by one): a few milliseconds after at, at by "
                                "default.",
                                minimum=0,
                            ),
                        },
                        required=("at",),
                        rules=(
                            Rule(
                                "!has(self.syncAt) || self.syncAt >= self.at",
                                "a relist syncs after it lists",
                                reason=Reason.INVALID,
                                field_path=".syncAt",
                            ),
                        ),
                    ),
                    max_items=600,
                    min_items=1,
                    rules=(
                        Rule(
                            "self.map(r, r.at).isSorted() && "
                            "self.map(r, has(r.syncAt) ? r.syncAt : r.at).isSorted()",
                            "relists are in ascending order",
                            reason=Reason.INVALID,
                        ),
                    ),
                ),
                "relistPeriod": number(
                    "The relist's period, 1 s by default; a real node's is a little longer "
                    "(it waits a second after each relist ends: 1.005-1.02 s on a busy one).",
                    minimum=1,
                ).with_rules(
                    Rule(
                        "self < 2.0", "a relist period is under two seconds", reason=Reason.INVALID
                    )
                ),
                "syncLoop": number(
                    "When the sync loop's ticker ticks (back-off ends and "
                    "activeDeadlineSeconds are picked up then), seconds past the second.",
                    minimum=0,
                ).with_rules(
                    Rule("self < 1.0", "a phase is less than one second", reason=Reason.INVALID)
                ),
            },
            required=("syncLoop",),
            rules=(
                Rule(
                    "has(self.relist) || has(self.relists)",
                    "either the relist's phase or its moments are set",
                    reason=Reason.INVALID,
                ),
                Rule(
                    "!has(self.relist) || "
                    "self.relist < (has(self.relistPeriod) ? self.relistPeriod : 1.0)",
                    "the relist's phase is less than its period",
                    reason=Reason.INVALID,
                    field_path=".relist",
                ),
            ),
        ),
    },
)

_STATUS = obj(
    "The most recently observed state of the node, written by its agent and the node "
    "lifecycle controller.",
    {
        "capacity": _resources("Total resources of the node (cpu, memory, pods)."),
        "allocatable": _resources(
            "Resources available to pods; the scheduler fits requests against these."
        ),
        "conditions": conditions(
            "Conditions of the node; Ready is renewed with every heartbeat.",
            types="The condition type, e.g. Ready.",
            timestamps={"lastHeartbeatTime": "When the agent last confirmed the condition."},
        ),
        "addresses": array(
            "Addresses of the node.",
            obj(
                "One address.",
                {
                    "type": one_of(
                        "The kind of address.",
                        ("InternalIP", "ExternalIP", "Hostname", "InternalDNS", "ExternalDNS"),
                    ),
                    "address": string("The address.", max_length=DNS_SUBDOMAIN_LENGTH),
                },
                required=("type", "address"),
            ),
            max_items=MAX_ADDRESSES,
        ),
        "nodeInfo": obj(
            "Versions reported by the node agent.",
            {
                "kubeletVersion": _info("The agent's version, shown as VERSION."),
                "containerRuntimeVersion": _info("The runtimes it offers."),
                "osImage": _info("The host's operating system release."),
                "kernelVersion": _info("The host's kernel version."),
                "operatingSystem": _info("The operating system, e.g. linux."),
                "architecture": _info("The CPU architecture, e.g. amd64."),
            },
        ),
        "display": obj(
            "What `kubectl get simnodes` prints, computed the way kubectl does for nodes.",
            {
                "status": reason(
                    "STATUS column: Ready, NotReady or Unknown from the Ready condition, "
                    "with ,SchedulingDisabled when unschedulable."
                ),
                "roles": _info(
                    "ROLES column: the node-role.kubernetes.io/<role> labels, or <none>."
                ),
            },
        ),
    },
)


def _address(kind: str) -> str:
    return f'.status.addresses[?(@.type=="{kind}")].address'


SIMNODE_RESOURCE = Resource(
    SIMNODE,
    "A node that SimPods are bound to; its agent heartbeats it and it can be failed on purpose.",
    _SPEC,
    _STATUS,
    columns=(
        Column("Status", ".status.display.status"),
        Column("Roles", ".status.display.roles"),
        AGE,
        Column("Version", ".status.nodeInfo.kubeletVersion"),
        Column("Internal-IP", _address("InternalIP"), priority=1),
        Column("External-IP", _address("ExternalIP"), priority=1),
        Column("OS-Image", ".status.nodeInfo.osImage", priority=1),
        Column("Kernel-Version", ".status.nodeInfo.kernelVersion", priority=1),
        Column("Container-Runtime", ".status.nodeInfo.containerRuntimeVersion", priority=1),
    ),
    selectable_fields=(".spec.unschedulable",),
)
