"""Init containers given the pre-1.6 way: a JSON list in a pod annotation.

The mutating webhook moves them into ``spec.initContainers`` and drops the annotation, so
the spec is the only place a reader (or the node agent) has to look. When both are set
the annotation may go only if it agrees with the spec; otherwise it stays and the
validating webhook refuses the pod, saying why. That check also catches a pod whose
annotation was never converted because the (best-effort) mutating webhook did not run.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

INIT_CONTAINERS_ANNOTATION = "pod.beta.kubernetes.io/init-containers"


def parse(annotation: str) -> list[dict[str, Any]]:
    """The containers of the annotation; ValueError says what is wrong with it."""
    try:
        value = json.loads(annotation)
    except json.JSONDecodeError as exc:
        raise ValueError(f"it is not valid JSON ({exc})") from None
    if not isinstance(value, list) or not all(isinstance(c, dict) for c in value):
        raise ValueError("it must be a JSON list of container objects")
    if not all(isinstance(c.get("name"), str) for c in value):
        raise ValueError("every container in it needs a name")
    return value


def converted(annotation: str, init_containers: Sequence[Any] | None) -> list[Any] | None:
    """The spec's init containers once the annotation is dropped, or None to keep it.

    None when the annotation cannot be parsed or disagrees with a non-empty
    ``spec.initContainers``: the validating webhook then refuses the pod with a reason.
    """
    try:
        containers = parse(annotation)
    except ValueError:
        return None
    if not init_containers:
        return containers
    return list(init_containers) if _covers(init_containers, containers) else None


def problem(annotation: str, init_containers: Sequence[Any] | None) -> str | None:
    """Why a pod still carrying the annotation at validation is refused (None: it agrees)."""
    try:
        containers = parse(annotation)
    except ValueError as exc:
        return (
            f"annotation {INIT_CONTAINERS_ANNOTATION} cannot be read: {exc}; "
            "put the init containers in spec.initContainers instead"
        )
    if not init_containers:
        return (
            f"annotation {INIT_CONTAINERS_ANNOTATION} was not converted into "
            "spec.initContainers because simpod's mutating admission webhook did not run "
            "(is the simpod operator running?); put the init containers in "
            "spec.initContainers instead"
        )
    if _covers(init_containers, containers):
        return None
    return (
        f"spec.initContainers {_names(init_containers)} and the legacy annotation "
        f"{INIT_CONTAINERS_ANNOTATION} {_names(containers)} are both set and differ; "
        "remove the annotation (deprecated since Kubernetes 1.6) and keep spec.initContainers"
    )


def _names(containers: Sequence[Any]) -> str:
    return "[" + ", ".join(str(c.get("name", "?")) for c in containers) + "]"


def _covers(actual: Any, wanted: Any) -> bool:
    """Whether `actual` has everything `wanted` says; extra fields (defaults) are fine.

    The spec went through CRD defaulting and the annotation did not, so plain equality
    would call identical init containers different.
    """
    if isinstance(wanted, Mapping):
        return isinstance(actual, Mapping) and all(
            key in actual and _covers(actual[key], value) for key, value in wanted.items()
        )
    if isinstance(wanted, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(wanted)
            and all(_covers(a, w) for a, w in zip(actual, wanted, strict=True))
        )
    return bool(actual == wanted)
