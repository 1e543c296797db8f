"""SimJob, SimReplicaSet, SimDeployment and SimDaemonSet: batch/v1 and apps/v1 field names,
a SimPod template each, printed like their kubectl counterparts."""

from __future__ import annotations

from collections.abc import Mapping

from simpod.api import meta
from simpod.api.group import SIMDAEMONSET, SIMDEPLOYMENT, SIMJOB, SIMREPLICASET
from simpod.api.meta import (
    QUALIFIED_NAME_LENGTH,
    dns_label,
    label_selector,
    reason,
    template_metadata,
)
from simpod.api.podspec import pod_spec
from simpod.api.resource import AGE, Column, ColumnType, Resource, Scale
from simpod.api.schema import (
    ListType,
    Rule,
    Schema,
    array,
    boolean,
    int_or_string,
    integer,
    obj,
    one_of,
    string,
    timestamp,
)

MAX_FAILURE_RULES = 20
MAX_EXIT_CODES = 255
SELECTOR_LENGTH = 4096
PERCENT_PATTERN = "^[0-9]+%$"

_TEMPLATE = obj(
    "The SimPod every replica is created from; changing it replaces the pods (where the "
    "kind rolls out updates).",
    {
        "metadata": template_metadata(),
        "spec": pod_spec("The spec of each SimPod.", immutable=False),
    },
    required=("spec",),
)

_SELECTS_TEMPLATE = Rule(
    "!has(self.selector.matchLabels) || self.selector.matchLabels.all(k, "
    "has(self.template.metadata) && has(self.template.metadata.labels) && "
    "k in self.template.metadata.labels && "
    "self.template.metadata.labels[k] == self.selector.matchLabels[k])",
    "selector does not match template labels: every matchLabels pair must be among "
    "template.metadata.labels",
    field_path=".selector",
)


def _restart_policy(*allowed: str) -> Rule:
    return Rule(
        f"self.template.spec.restartPolicy in {list(allowed)!r}",
        "template.spec.restartPolicy must be " + " or ".join(allowed),
        field_path=".template.spec.restartPolicy",
    )


def _count(description: str, *, default: int | None = None) -> Schema:
    return integer(description, minimum=0, default=default)


def _percent_or_count(description: str, default: int | str) -> Schema:
    return int_or_string(
        description + " A number of pods or a percentage of the desired count (e.g. 25%).",
        max_length=8,
        pattern=PERCENT_PATTERN,
        default=default,
    )


def _conditions(types: str, **timestamps: str) -> Schema:
    return meta.conditions("Conditions of the object.", types=types, timestamps=timestamps)


def _status(
    description: str,
    fields: Mapping[str, Schema],
    *,
    conditions: Schema,
    display: Mapping[str, str] | None = None,
) -> Schema:
    """A workload status: the kind's counters plus what all four share."""
    shared: dict[str, Schema] = {
        "observedGeneration": integer(
            "The metadata.generation this status describes.", minimum=0, int64=True
        ),
        "selector": string(
            "The label selector in string form (what `kubectl scale` and -o wide use).",
            max_length=SELECTOR_LENGTH,
        ),
        "conditions": conditions,
    }
    if display:
        shared["display"] = obj(
            "Values of the kubectl columns that no single status field holds.",
            {name: reason(text) for name, text in display.items()},
        )
    return obj(description, {**fields, **shared})


_WIDE = (
    Column("Containers", ".spec.template.spec.containers[*].name", priority=1),
    Column("Images", ".spec.template.spec.containers[*].image", priority=1),
    Column("Selector", ".status.selector", priority=1),
)


def _int_column(name: str, path: str) -> Column:
    return Column(name, path, type=ColumnType.INTEGER)


_REPLICAS = _count("How many pods should exist.", default=1)
_MIN_READY = _count(
    "Seconds a new pod must be ready, without a container crashing, to count as available."
)
_HISTORY = _count("How many old revisions to keep for rollback.", default=10)

_JOB_SPEC = obj(
    "How many pods must succeed, how many may run at once, and when the job gives up.",
    {
        "parallelism": _count("How many pods may run at the same time.", default=1),
        "completions": _count(
            "How many pods must succeed; unset: any one success completes the job once all "
            "pods have ended."
        ),
        "completionMode": one_of(
            "NonIndexed: completions are interchangeable. Indexed: each pod gets an index "
            "(annotation batch.kubernetes.io/job-completion-index, env JOB_COMPLETION_INDEX) "
            "and every index must succeed once.",
            ("NonIndexed", "Indexed"),
            default="NonIndexed",
        ),
        "backoffLimit": _count(
            "Failed pods after which the job fails (BackoffLimitExceeded).", default=6
        ),
        "activeDeadlineSeconds": integer(
            "Seconds from the job's start after which its pods are killed and it fails "
            "(DeadlineExceeded).",
            minimum=1,
            int64=True,
        ),
        "ttlSecondsAfterFinished": integer(
            "Seconds after the job finished when it is deleted with its pods.",
            minimum=0,
        ),
        "suspend": boolean(
            "A suspended job creates no pods and deletes its running ones.", default=False
        ),
        "podFailurePolicy": obj(
            "How pod failures count, before backoffLimit applies (needs restartPolicy Never).",
            {
                "rules": array(
                    "Checked in order; the first rule matching a failed pod applies.",
                    obj(
                        "What to do when a pod failed with these exit codes or conditions.",
                        {
                            "action": one_of(
                                "FailJob fails the job, FailIndex fails the pod's index, "
                                "Ignore does not count the failure, Count counts it.",
                                ("FailJob", "FailIndex", "Ignore", "Count"),
                            ),
                            "onExitCodes": obj(
                                "Matches a pod by its containers' exit codes.",
                                {
                                    "containerName": dns_label(
                                        "Only this container's exit code; default: any."
                                    ),
                                    "operator": one_of(
                                        "In: the exit code is one of values; NotIn: it is not.",
                                        ("In", "NotIn"),
                                    ),
                                    "values": array(
                                        "Exit codes.",
                                        integer("An exit code."),
                                        max_items=MAX_EXIT_CODES,
                                        list_type=ListType.SET,
                                    ),
                                },
                                required=("operator", "values"),
                            ),
                            "onPodConditions": array(
                                "Matches a pod that has any of these conditions.",
                                obj(
                                    "A pod condition.",
                                    {
                                        "type": string(
                                            "The condition type, e.g. DisruptionTarget.",
                                            max_length=QUALIFIED_NAME_LENGTH,
                                        ),
                                        "status": one_of(
                                            "The condition's status.",
                                            ("True", "False", "Unknown"),
                                            default="True",
                                        ),
                                    },
                                    required=("type",),
                                ),
                                max_items=MAX_FAILURE_RULES,
                            ),
                        },
                        required=("action",),
                        rules=(
                            Rule(
                                "has(self.onExitCodes) != has(self.onPodConditions)",
                                "a podFailurePolicy rule needs exactly one of onExitCodes or "
                                "onPodConditions",
                            ),
                        ),
                    ),
                    max_items=MAX_FAILURE_RULES,
                )
            },
            required=("rules",),
        ),
        "selector": label_selector(
            "Which pods belong to the job; generated by the controller unless manualSelector."
        ),
        "manualSelector": boolean("Use spec.selector as given instead of a generated one."),
        "template": _TEMPLATE,
    },
    required=("template",),
    rules=(
        _restart_policy("OnFailure", "Never"),
        Rule(
            "!has(self.podFailurePolicy) || self.template.spec.restartPolicy == 'Never'",
            "podFailurePolicy needs template.spec.restartPolicy Never",
            field_path=".podFailurePolicy",
        ),
        Rule(
            "self.completionMode != 'Indexed' || has(self.completions)",
            "completionMode Indexed needs completions",
            field_path=".completions",
        ),
    ),
)

SIMJOB_RESOURCE = Resource(
    SIMJOB,
    "Runs SimPods until a number of them succeed (batch/v1 Job).",
    _JOB_SPEC,
    _status(
        "The most recently observed state of the job.",
        {
            "startTime": timestamp("When the job controller started the job."),
            "completionTime": timestamp("When the job completed (only if it succeeded)."),
            "active": _count("Pods that are pending or running."),
            "ready": _count("Active pods that are Ready."),
            "succeeded": _count("Pods that succeeded."),
            "failed": _count("Pods that failed."),
            "terminating": _count("Pods being deleted."),
            "completedIndexes": string(
                "Completed indexes of an Indexed job, e.g. 1,3-5.", max_length=SELECTOR_LENGTH
            ),
        },
        conditions=_conditions(
            "Complete, Failed, Suspended, FailureTarget or SuccessCriteriaMet.",
            lastProbeTime="When the condition was last checked.",
        ),
        display={
            "status": "STATUS column: Running, Complete, Failed, Suspended...",
            "completions": "COMPLETIONS column: succeeded/completions, e.g. 1/3.",
            "duration": "DURATION column: how long the job ran, e.g. 12s (written as it runs "
            "and when it finishes).",
        },
    ),
    columns=(
        Column("Status", ".status.display.status"),
        Column("Completions", ".status.display.completions"),
        Column("Duration", ".status.display.duration"),
        AGE,
        *_WIDE,
    ),
    categories=("all",),
)

SIMREPLICASET_RESOURCE = Resource(
    SIMREPLICASET,
    "Keeps a number of identical SimPods running (apps/v1 ReplicaSet).",
    obj(
        "How many pods, which ones, and from what template.",
        {
            "replicas": _REPLICAS,
            "minReadySeconds": _MIN_READY,
            "selector": label_selector("Which pods the replica set owns; must match the template."),
            "template": _TEMPLATE,
        },
        required=("selector", "template"),
        rules=(_SELECTS_TEMPLATE, _restart_policy("Always")),
    ),
    _status(
        "The most recently observed state of the replica set.",
        {
            "replicas": _count("Pods that exist (not terminating)."),
            "fullyLabeledReplicas": _count("Pods whose labels match the template's."),
            "readyReplicas": _count("Pods that are Ready."),
            "availableReplicas": _count("Pods Ready for at least minReadySeconds."),
        },
        conditions=_conditions("ReplicaFailure."),
    ),
    columns=(
        _int_column("Desired", ".spec.replicas"),
        _int_column("Current", ".status.replicas"),
        _int_column("Ready", ".status.readyReplicas"),
        AGE,
        *_WIDE,
    ),
    scale=Scale(),
    categories=("all",),
)

_NOT_BOTH_ZERO = Rule(
    "!(string(self.maxSurge) in ['0', '0%'] && string(self.maxUnavailable) in ['0', '0%'])",
    "maxSurge and maxUnavailable may not both be 0",
)

_ROLLING_ONLY = Rule(
    "self.type == 'RollingUpdate' || !has(self.rollingUpdate)",
    "rollingUpdate may only be set with type RollingUpdate",
    field_path=".rollingUpdate",
)

SIMDEPLOYMENT_RESOURCE = Resource(
    SIMDEPLOYMENT,
    "Rolls out a SimPod template through SimReplicaSets (apps/v1 Deployment).",
    obj(
        "The desired pods and how to move to a new template.",
        {
            "replicas": _REPLICAS,
            "selector": label_selector("Which pods the deployment owns; must match the template."),
            "template": _TEMPLATE,
            "strategy": obj(
                "How old pods are replaced by new ones; default RollingUpdate with 25% / 25%.",
                {
                    "type": one_of(
                        "RollingUpdate replaces pods gradually; Recreate deletes all old pods "
                        "before creating new ones.",
                        ("RollingUpdate", "Recreate"),
                        default="RollingUpdate",
                    ),
                    "rollingUpdate": obj(
                        "Limits of a rolling update.",
                        {
                            "maxSurge": _percent_or_count(
                                "How many pods may exist above replicas (rounded up).", "25%"
                            ),
                            "maxUnavailable": _percent_or_count(
                                "How many pods may be unavailable (rounded down).", "25%"
                            ),
                        },
                        rules=(_NOT_BOTH_ZERO,),
                    ),
                },
                rules=(_ROLLING_ONLY,),
                default={
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
                },
            ),
            "minReadySeconds": _MIN_READY,
            "revisionHistoryLimit": _HISTORY,
            "progressDeadlineSeconds": integer(
                "Seconds without progress after which condition Progressing turns False "
                "(ProgressDeadlineExceeded).",
                minimum=1,
                default=600,
            ),
            "paused": boolean("A paused deployment does not roll out template changes."),
        },
        required=("selector", "template"),
        rules=(
            _SELECTS_TEMPLATE,
            _restart_policy("Always"),
            Rule(
                "!has(self.minReadySeconds) || self.progressDeadlineSeconds > self.minReadySeconds",
                "progressDeadlineSeconds must be greater than minReadySeconds",
                field_path=".progressDeadlineSeconds",
            ),
        ),
    ),
    _status(
        "The most recently observed state of the deployment.",
        {
            "replicas": _count("Pods of all its replica sets (not terminating)."),
            "updatedReplicas": _count("Pods from the current template."),
            "readyReplicas": _count("Pods that are Ready."),
            "availableReplicas": _count("Pods Ready for at least minReadySeconds."),
            "unavailableReplicas": _count("Pods still needed for all replicas to be available."),
            "collisionCount": _count("Hash collisions of the template; part of new names."),
        },
        conditions=_conditions(
            "Available, Progressing or ReplicaFailure.",
            lastUpdateTime="When the condition was last written.",
        ),
        display={"ready": "READY column: ready/desired pods, e.g. 2/3."},
    ),
    columns=(
        Column("Ready", ".status.display.ready"),
        _int_column("Up-To-Date", ".status.updatedReplicas"),
        _int_column("Available", ".status.availableReplicas"),
        AGE,
        *_WIDE,
    ),
    scale=Scale(),
    categories=("all",),
)

SIMDAEMONSET_RESOURCE = Resource(
    SIMDAEMONSET,
    "Runs one SimPod on every eligible SimNode (apps/v1 DaemonSet).",
    obj(
        "Which pods to run on every eligible node, and how to update them.",
        {
            "selector": label_selector("Which pods the daemon set owns; must match the template."),
            "template": _TEMPLATE,
            "updateStrategy": obj(
                "How pods are replaced when the template changes; default RollingUpdate with "
                "maxUnavailable 1 and maxSurge 0.",
                {
                    "type": one_of(
                        "RollingUpdate replaces pods node by node; OnDelete only when a pod is "
                        "deleted.",
                        ("RollingUpdate", "OnDelete"),
                        default="RollingUpdate",
                    ),
                    "rollingUpdate": obj(
                        "Limits of a rolling update.",
                        {
                            "maxUnavailable": _percent_or_count(
                                "How many nodes' pods may be unavailable at once.", 1
                            ),
                            "maxSurge": _percent_or_count(
                                "How many nodes may run an old and a new pod at once.", 0
                            ),
                        },
                        rules=(_NOT_BOTH_ZERO,),
                    ),
                },
                rules=(_ROLLING_ONLY,),
                default={
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0},
                },
            ),
            "minReadySeconds": _MIN_READY,
            "revisionHistoryLimit": _HISTORY,
        },
        required=("selector", "template"),
        rules=(_SELECTS_TEMPLATE, _restart_policy("Always")),
    ),
    _status(
        "The most recently observed state of the daemon set.",
        {
            "desiredNumberScheduled": _count("Nodes that should run the pod."),
            "currentNumberScheduled": _count("Nodes that run the pod and should."),
            "numberMisscheduled": _count("Nodes that run the pod but should not."),
            "numberReady": _count("Nodes whose pod is Ready."),
            "updatedNumberScheduled": _count("Nodes whose pod is from the current template."),
            "numberAvailable": _count("Nodes whose pod is available."),
            "numberUnavailable": _count("Nodes whose pod should run but is not available."),
            "collisionCount": _count("Hash collisions of the template; part of new names."),
        },
        conditions=_conditions("The condition type."),
        display={
            "nodeSelector": "NODE SELECTOR column: the template's nodeSelector as key=value "
            "pairs, or <none>."
        },
    ),
    columns=(
        _int_column("Desired", ".status.desiredNumberScheduled"),
        _int_column("Current", ".status.currentNumberScheduled"),
        _int_column("Ready", ".status.numberReady"),
        _int_column("Up-To-Date", ".status.updatedNumberScheduled"),
        _int_column("Available", ".status.numberAvailable"),
        Column("Node Selector", ".status.display.nodeSelector"),
        AGE,
        *_WIDE,
    ),
    categories=("all",),
)
