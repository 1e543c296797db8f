"""A SimPod's spec (core/v1 PodSpec subset), shared by SimPods and the workloads' templates.

A SimPod's own spec also carries the update rules of a Pod (only images, the deadline,
tolerations and the first binding may change); a template does not, since changing a
template is how a rollout starts.
"""

from __future__ import annotations

from simpod.api.container import CONTAINER, INIT_CONTAINER, PATH_LENGTH, RUN_AS
from simpod.api.meta import (
    DNS_LABEL_LENGTH,
    DNS_SUBDOMAIN_LENGTH,
    MAX_LABELS,
    MAX_REQUIREMENTS,
    QUALIFIED_NAME_LENGTH,
    dns_label,
    node_selector_requirement,
    object_name,
)
from simpod.api.schema import (
    Reason,
    Rule,
    Schema,
    array,
    boolean,
    exactly_one,
    integer,
    obj,
    one_of,
    quantity,
    string,
    string_map,
    unchanged,
)
from simpod.api.sim_block import POD_SIM

MAX_CONTAINERS = 32
MAX_VOLUMES = 128
MAX_KEYS = 128
MAX_TOLERATIONS = 64
MAX_TERMS = 16
MAX_READINESS_GATES = 32
MAX_GROUPS = 32
FILE_MODE_MAX = 0o777
DEFAULT_FILE_MODE = 0o644

_VOLUME_SOURCES = ("emptyDir", "hostPath", "configMap", "secret")

# Pod fields an update may change, each under its own rule below (core/v1 allows the same).
_MUTABLE = ("containers", "initContainers", "nodeName", "activeDeadlineSeconds", "tolerations")


def _key_to_path_items(what: str) -> Schema:
    return array(
        f"Which keys of the {what} to project and where; default: every key as a file named "
        "after it.",
        obj(
            "One key projected as one file.",
            {
                "key": string("The key.", max_length=DNS_SUBDOMAIN_LENGTH),
                "path": string(
                    "The file's path, relative to the mount point.",
                    max_length=PATH_LENGTH,
                    pattern=r"^[^/]",
                ),
                "mode": integer(
                    "Permission bits of this file (0-0777).", minimum=0, maximum=FILE_MODE_MAX
                ),
            },
            required=("key", "path"),
        ),
        max_items=MAX_KEYS,
    )


def _default_mode() -> Schema:
    return integer(
        "Permission bits of the projected files (0-0777).",
        minimum=0,
        maximum=FILE_MODE_MAX,
        default=DEFAULT_FILE_MODE,
    )


VOLUMES = array(
    "Volumes the pod's containers can mount.",
    obj(
        "A named volume with exactly one source.",
        {
            "name": dns_label("The volume's name, unique within the pod; mounts refer to it."),
            "emptyDir": obj(
                "A directory that starts empty, is shared by the pod's containers and is "
                "deleted with the pod.",
                {
                    "medium": one_of(
                        'Where it is stored: "" (node disk) or Memory.', ("", "Memory")
                    ),
                    "sizeLimit": quantity("The most it may hold."),
                },
            ),
            "hostPath": obj(
                "A file or directory of the node (the agent's host) mounted into the pod.",
                {
                    "path": string("The path on the host.", max_length=PATH_LENGTH),
                    "type": one_of(
                        'What must be at the path; "" checks nothing.',
                        (
                            "",
                            "DirectoryOrCreate",
                            "Directory",
                            "FileOrCreate",
                            "File",
                            "Socket",
                            "CharDevice",
                            "BlockDevice",
                        ),
                    ),
                },
                required=("path",),
            ),
            "configMap": obj(
                "The keys of a ConfigMap as files.",
                {
                    "name": object_name("The ConfigMap's name."),
                    "items": _key_to_path_items("ConfigMap"),
                    "defaultMode": _default_mode(),
                    "optional": boolean("Mount an empty volume if the ConfigMap is missing."),
                },
            ),
            "secret": obj(
                "The keys of a Secret as files.",
                {
                    "secretName": object_name("The Secret's name."),
                    "items": _key_to_path_items("Secret"),
                    "defaultMode": _default_mode(),
                    "optional": boolean("Mount an empty volume if the Secret is missing."),
                },
            ),
        },
        required=("name",),
        rules=(
            Rule(
                exactly_one(_VOLUME_SOURCES),
                "a volume needs exactly one source: emptyDir, hostPath, configMap or secret",
            ),
        ),
    ),
    max_items=MAX_VOLUMES,
    map_keys=("name",),
)

_TOLERATIONS = array(
    "Taints of nodes this pod tolerates: it may be scheduled there (NoSchedule) and stays "
    "there (NoExecute) for tolerationSeconds.",
    obj(
        "Tolerates the taints that match key, value and effect.",
        {
            "key": string(
                "The taint key to match; empty with operator Exists matches every taint.",
                max_length=QUALIFIED_NAME_LENGTH,
            ),
            "operator": one_of(
                "Equal (the default) compares the value; Exists matches any value.",
                ("Exists", "Equal"),
            ),
            "value": string("The taint value to match with Equal.", max_length=DNS_LABEL_LENGTH),
            "effect": one_of(
                "The taint effect to match; empty matches all effects.",
                ("", "NoSchedule", "PreferNoSchedule", "NoExecute"),
            ),
            "tolerationSeconds": integer(
                "How long the pod stays on a node after a matching NoExecute taint appears; "
                "unset: forever, 0 or less: evicted at once.",
                int64=True,
            ),
        },
        rules=(
            Rule(
                "(has(self.key) && self.key != '') || "
                "(has(self.operator) && self.operator == 'Exists')",
                "a toleration without a key must use operator Exists",
            ),
            Rule(
                "!has(self.operator) || self.operator != 'Exists' || "
                "!has(self.value) || self.value == ''",
                "a toleration with operator Exists must not have a value",
            ),
            Rule(
                "!has(self.tolerationSeconds) || (has(self.effect) && self.effect == 'NoExecute')",
                "tolerationSeconds needs effect NoExecute",
            ),
        ),
    ),
    max_items=MAX_TOLERATIONS,
)

_AFFINITY = obj(
    "Scheduling constraints beyond nodeSelector.",
    {
        "nodeAffinity": obj(
            "Rules on the labels and fields of the node the pod may run on.",
            {
                "requiredDuringSchedulingIgnoredDuringExecution": obj(
                    "The pod is scheduled only onto a node that matches; a bound pod stays "
                    "even if the node's labels change later.",
                    {
                        "nodeSelectorTerms": array(
                            "Alternatives: a node matches if any term matches.",
                            obj(
                                "All requirements of a term must hold.",
                                {
                                    "matchExpressions": array(
                                        "Requirements on node labels.",
                                        node_selector_requirement(
                                            "A requirement on one node label."
                                        ),
                                        max_items=MAX_REQUIREMENTS,
                                    ),
                                    "matchFields": array(
                                        "Requirements on node fields (key metadata.name).",
                                        node_selector_requirement(
                                            "A requirement on one node field."
                                        ),
                                        max_items=MAX_REQUIREMENTS,
                                    ),
                                },
                            ),
                            max_items=MAX_TERMS,
                            min_items=1,
                        )
                    },
                    required=("nodeSelectorTerms",),
                )
            },
        )
    },
)

_FIELDS: dict[str, Schema] = {
    "restartPolicy": one_of(
        "What happens when a container exits: Always restarts it, OnFailure restarts it after "
        "a non-zero exit, Never does not. Init containers are restarted on failure unless this "
        "is Never.",
        ("Always", "OnFailure", "Never"),
        default="Always",
    ),
    "terminationGracePeriodSeconds": integer(
        "Seconds between TERM and KILL when the pod is deleted (preStop hooks count against "
        "it); 0 kills at once.",
        minimum=0,
        default=30,
        int64=True,
    ),
    "activeDeadlineSeconds": integer(
        "Seconds from status.startTime after which the pod is failed with reason "
        "DeadlineExceeded and its containers are killed.",
        minimum=1,
        int64=True,
    ),
    "nodeName": object_name(
        "The SimNode the pod is bound to; set by the scheduler (or by hand) and never changed "
        "afterwards."
    ),
    "nodeSelector": string_map(
        "Labels a node must have, each with this value, for the pod to be scheduled there.",
        max_properties=MAX_LABELS,
        max_length=DNS_LABEL_LENGTH,
    ),
    "affinity": _AFFINITY,
    "tolerations": _TOLERATIONS,
    "readinessGates": array(
        "Extra conditions that must be True in status.conditions for the pod to be Ready.",
        obj(
            "A condition the pod's readiness waits for.",
            {
                "conditionType": string(
                    "The condition type in status.conditions.", max_length=QUALIFIED_NAME_LENGTH
                )
            },
            required=("conditionType",),
        ),
        max_items=MAX_READINESS_GATES,
    ),
    "volumes": VOLUMES,
    "securityContext": obj(
        "Security settings of all containers; a container's own securityContext overrides them.",
        {
            **RUN_AS,
            "supplementalGroups": array(
                "Extra group IDs of every container's processes.",
                integer("A group ID.", minimum=0, int64=True),
                max_items=MAX_GROUPS,
            ),
        },
    ),
    "runtimeClassName": one_of(
        "The runtime that runs the containers: simulated (scripted by each container's `sim` "
        "block, no processes) or process (real processes; the agent must allow it).",
        ("simulated", "process"),
        default="simulated",
    ),
    "sim": POD_SIM,
}

_UNIQUE_NAMES = Rule(
    "!has(self.initContainers) || "
    "self.initContainers.all(i, !self.containers.exists(c, c.name == i.name))",
    "container names must be unique across containers and initContainers",
    field_path=".initContainers",
)


def _names(field: str, of: str) -> str:
    return f"(has({of}.{field}) ? {of}.{field}.map(c, c.name) : [])"


def _update_rules(fields: tuple[str, ...]) -> tuple[Rule, ...]:
    """The transition rules that make a SimPod's spec as immutable as a Pod's."""
    fixed = tuple(name for name in fields if name not in _MUTABLE)
    return (
        Rule(
            "!has(oldSelf.nodeName) || oldSelf.nodeName == '' || "
            "(has(self.nodeName) && self.nodeName == oldSelf.nodeName)",
            "nodeName cannot change once set: a bound pod never moves to another node",
            reason=Reason.FORBIDDEN,
            field_path=".nodeName",
        ),
        *(
            Rule(
                f"{_names(lst, 'self')} == {_names(lst, 'oldSelf')}",
                f"{lst} cannot be added, removed, renamed or reordered after creation; only "
                "their image may change",
                reason=Reason.FORBIDDEN,
                field_path=f".{lst}",
            )
            for lst in ("containers", "initContainers")
        ),
        Rule(
            "!has(oldSelf.activeDeadlineSeconds) || (has(self.activeDeadlineSeconds) && "
            "self.activeDeadlineSeconds <= oldSelf.activeDeadlineSeconds)",
            "activeDeadlineSeconds may be set or lowered after creation, not removed or raised",
            reason=Reason.FORBIDDEN,
            field_path=".activeDeadlineSeconds",
        ),
        Rule(
            "!has(oldSelf.tolerations) || "
            "(has(self.tolerations) && oldSelf.tolerations.all(t, t in self.tolerations))",
            "tolerations may only be added after creation",
            reason=Reason.FORBIDDEN,
            field_path=".tolerations",
        ),
        Rule(
            unchanged(fixed),
            "pod updates may not change fields other than the containers' and init "
            "containers' image, activeDeadlineSeconds (set or lower), tolerations (add) and "
            "nodeName (bind once); fixed: " + ", ".join(fixed),
            reason=Reason.FORBIDDEN,
        ),
    )


def _container_list(
    item: Schema, description: str, *, immutable: bool, min_items: int | None = None
) -> Schema:
    if immutable:
        fixed = tuple(name for name in item.property_names() if name != "image")
        item = item.with_rules(
            Rule(
                unchanged(fixed),
                "only the image of a container may change after creation",
                reason=Reason.FORBIDDEN,
            )
        )
    return array(
        description,
        item,
        max_items=MAX_CONTAINERS,
        min_items=min_items,
        map_keys=("name",),
    )


def pod_spec(description: str, *, immutable: bool) -> Schema:
    """The pod spec; `immutable` adds the update rules of a Pod (for SimPod.spec itself)."""
    fields = {
        "containers": _container_list(
            CONTAINER,
            "The app containers, started together once every init container has succeeded. "
            "At least one.",
            immutable=immutable,
            min_items=1,
        ),
        "initContainers": _container_list(
            INIT_CONTAINER,
            "Containers run one at a time, in order, before the app containers; each must "
            "exit 0 before the next starts (sidecars, with restartPolicy Always, must only "
            "have started).",
            immutable=immutable,
        ),
        **_FIELDS,
    }
    spec = obj(description, fields, required=("containers",), rules=(_UNIQUE_NAMES,))
    return spec.with_rules(*_update_rules(tuple(fields))) if immutable else spec
