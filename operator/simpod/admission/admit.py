"""What the two webhooks decide for a new SimPod, as pure functions of the request object.

Mutation, in this order so each step sees the previous one's result: legacy init
containers into the spec (so presets and defaults reach them too), presets, defaults that
depend on other fields, and the finalizer (so graceful deletion costs no extra write after
creation). Validation sees the object after every mutating webhook ran.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from simpod.admission import legacy, privileged
from simpod.admission.defaults import with_defaults
from simpod.admission.presets import CONTAINER_LISTS, Conflict, Preset, merge_presets
from simpod.admission.validation import spec_problems

# Conflicting presets, as a JSON list of messages: the validating webhook (which knows
# the pod's final name and uid) posts them as Warning Events; kept on the pod as a record.
CONFLICTS_ANNOTATION = "simpod.dev/podpreset-conflicts"


@dataclass(frozen=True)
class Mutation:
    """The new spec, annotations to set (None: remove), finalizers, and preset conflicts."""

    spec: dict[str, Any]
    annotations: dict[str, str | None]
    finalizers: list[str]
    conflicts: tuple[Conflict, ...]


def mutate(pod: Mapping[str, Any], presets: Iterable[Preset], *, finalizer: str) -> Mutation:
    metadata = pod.get("metadata") or {}
    annotations: dict[str, str | None] = {}
    spec = dict(pod.get("spec") or {})

    legacy_value = (metadata.get("annotations") or {}).get(legacy.INIT_CONTAINERS_ANNOTATION)
    if legacy_value is not None:
        init_containers = legacy.converted(legacy_value, spec.get("initContainers"))
        if init_containers is not None:
            spec["initContainers"] = init_containers
            annotations[legacy.INIT_CONTAINERS_ANNOTATION] = None

    merge = merge_presets({**pod, "spec": spec}, presets)
    annotations.update(merge.annotations)
    if merge.conflicts:
        annotations[CONFLICTS_ANNOTATION] = json.dumps([c.message for c in merge.conflicts])

    spec = merge.spec
    for kind in CONTAINER_LISTS:
        if spec.get(kind):
            spec[kind] = [with_defaults(container) for container in spec[kind]]

    finalizers = list(metadata.get("finalizers") or ())
    if finalizer not in finalizers:
        finalizers.append(finalizer)
    return Mutation(spec, annotations, finalizers, merge.conflicts)


def conflict_messages(annotations: Mapping[str, str]) -> list[str]:
    """The messages :func:`mutate` left in the conflicts annotation (none if unreadable)."""
    try:
        messages = json.loads(annotations.get(CONFLICTS_ANNOTATION, "[]"))
    except json.JSONDecodeError:
        return []
    return [str(m) for m in messages] if isinstance(messages, list) else []


def needs_node(pod: Mapping[str, Any]) -> str | None:
    """The SimNode that validation must read: only for privileged pods bound at creation."""
    spec = pod.get("spec") or {}
    node_name = spec.get("nodeName")
    return node_name if node_name and privileged.privileged_containers(spec) else None


def problems(
    pod: Mapping[str, Any], *, node: Mapping[str, Any] | None, allow_privileged: bool
) -> list[str]:
    """Every reason to refuse the pod; `node` is the SimNode named by :func:`needs_node`."""
    spec = pod.get("spec") or {}
    found = spec_problems(spec)
    legacy_value = ((pod.get("metadata") or {}).get("annotations") or {}).get(
        legacy.INIT_CONTAINERS_ANNOTATION
    )
    if legacy_value is not None and (
        reason := legacy.problem(legacy_value, spec.get("initContainers"))
    ):
        found.append(reason)
    if reason := privileged.problem(
        privileged.privileged_containers(spec),
        node_name=spec.get("nodeName") or None,
        node=node,
        cluster_allows=allow_privileged,
    ):
        found.append(reason)
    return found
