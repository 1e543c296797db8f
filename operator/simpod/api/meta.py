"""Shapes shared by several kinds, after meta/v1 and core/v1: names, selectors, conditions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from simpod.api.schema import (
    Rule,
    Schema,
    array,
    obj,
    one_of,
    string,
    string_map,
    timestamp,
)

DNS_LABEL_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
DNS_LABEL_LENGTH = 63
DNS_SUBDOMAIN_LENGTH = 253
# A label key or condition type: an optional DNS-subdomain prefix, "/", and a 63-character name.
QUALIFIED_NAME_LENGTH = DNS_SUBDOMAIN_LENGTH + 1 + DNS_LABEL_LENGTH
REASON_LENGTH = 1024
MESSAGE_LENGTH = 32768
MAX_LABELS = 64
MAX_ANNOTATIONS = 256
ANNOTATION_VALUE_LENGTH = 262144  # the API server caps all annotations at 256 KiB together
MAX_CONDITIONS = 32
MAX_REQUIREMENTS = 32
MAX_VALUES = 64

_SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")
_NODE_OPERATORS = (*_SELECTOR_OPERATORS, "Gt", "Lt")


def dns_label(description: str) -> Schema:
    """A name that must be a DNS label (containers, volumes, ports)."""
    return string(description, max_length=DNS_LABEL_LENGTH, pattern=DNS_LABEL_PATTERN)


def object_name(description: str) -> Schema:
    """The name of another object (a ConfigMap, a Secret, a node)."""
    return string(description, max_length=DNS_SUBDOMAIN_LENGTH)


def reason(description: str) -> Schema:
    return string(description, max_length=REASON_LENGTH)


def message(description: str) -> Schema:
    return string(description, max_length=MESSAGE_LENGTH)


def label_map(description: str) -> Schema:
    return string_map(description, max_properties=MAX_LABELS, max_length=DNS_LABEL_LENGTH)


def annotation_map(description: str) -> Schema:
    return string_map(
        description, max_properties=MAX_ANNOTATIONS, max_length=ANNOTATION_VALUE_LENGTH
    )


def template_metadata() -> Schema:
    """The metadata a controller copies onto each pod it creates from a template."""
    return obj(
        "Labels and annotations given to every SimPod created from this template.",
        {
            "labels": label_map("Labels put on each SimPod; they must match the selector."),
            "annotations": annotation_map("Annotations put on each SimPod."),
        },
    )


def _requirement(description: str, operators: Sequence[str]) -> Schema:
    """A key/operator/values triple, with the rule on how many values each operator takes."""
    takes_one = [op for op in operators if op in ("Gt", "Lt")]
    one_clause = (
        f"self.operator in {takes_one!r} ? has(self.values) && size(self.values) == 1 : "
        if takes_one
        else ""
    )
    message = "operators In and NotIn need at least one value, Exists and DoesNotExist take none"
    if takes_one:
        message += ", Gt and Lt take exactly one integer"
    return obj(
        description,
        {
            "key": string(
                "The label key the requirement applies to.", max_length=QUALIFIED_NAME_LENGTH
            ),
            "operator": one_of("How the key's value is compared with `values`.", operators),
            "values": array(
                "The values to compare with: a set for In and NotIn, one integer for Gt and Lt, "
                "none for Exists and DoesNotExist.",
                string("A value.", max_length=DNS_LABEL_LENGTH),
                max_items=MAX_VALUES,
            ),
        },
        required=("key", "operator"),
        rules=(
            Rule(
                "self.operator in ['In', 'NotIn'] ? has(self.values) && size(self.values) > 0 : "
                + one_clause
                + "!has(self.values) || size(self.values) == 0",
                message,
            ),
        ),
    )


def node_selector_requirement(description: str) -> Schema:
    return _requirement(description, _NODE_OPERATORS)


def label_selector(description: str) -> Schema:
    """A meta/v1 LabelSelector: every matchLabels pair and every expression must hold."""
    return obj(
        description,
        {
            "matchLabels": label_map(
                "Labels an object must carry, each with exactly this value (ANDed with "
                "matchExpressions)."
            ),
            "matchExpressions": array(
                "Requirements on labels, all of which must hold.",
                _requirement("A requirement on one label key.", _SELECTOR_OPERATORS),
                max_items=MAX_REQUIREMENTS,
            ),
        },
    )


def conditions(description: str, *, types: str, timestamps: Mapping[str, str]) -> Schema:
    """A condition list keyed by `type`; `timestamps` adds the kind's own time fields
    (lastProbeTime for pods, lastHeartbeatTime for nodes...) with their descriptions."""
    return array(
        description,
        obj(
            "One aspect of the object's state and whether it holds.",
            {
                "type": string(types, max_length=QUALIFIED_NAME_LENGTH),
                "status": one_of(
                    "Whether the condition holds: True, False or Unknown.",
                    ("True", "False", "Unknown"),
                ),
                "reason": reason("A CamelCase word for why the condition last changed."),
                "message": message("A human-readable explanation of the last change."),
                "lastTransitionTime": timestamp("When the status last changed."),
                **{name: timestamp(text) for name, text in timestamps.items()},
            },
            required=("type", "status"),
        ),
        max_items=MAX_CONDITIONS,
        map_keys=("type",),
    )
