"""SimPodPreset merge: what the PodPreset admission plug-in (settings.k8s.io/v1alpha1,
Kubernetes 1.6-1.19) did to a pod at creation, as a pure function.

Every matching preset of the pod's namespace adds its env, envFrom and volumeMounts to
every container and init container and its volumes to the pod; applied presets are
recorded as ``podpreset.admission.kubernetes.io/podpreset-<name>: <resourceVersion>``.
Items are identified as upstream does: env by name, envFrom by (prefix, ConfigMap or
Secret name), volumeMounts by name *and* by mountPath, volumes by name. An identical item
already present is not added twice (so a second pass is a no-op); the same identity with
different content is a conflict.

Conflicts differ from upstream on purpose: upstream skipped *every* preset as soon as
one conflicted. Here only the conflicting presets are skipped (one that conflicts with
the pod, or two that conflict with each other: both), the others still apply, and each
skipped preset is reported so that the caller can post a Warning Event naming it.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from simpod.admission.labels import selector_matches

ANNOTATION_PREFIX = "podpreset.admission.kubernetes.io"
EXCLUDE_ANNOTATION = f"{ANNOTATION_PREFIX}/exclude"

Item = Mapping[str, Any]
# An item's identity, written the way a conflict message names it (e.g. `env "FOO"`).
Identity = Callable[[Item], str]


def applied_annotation(preset_name: str) -> str:
    return f"{ANNOTATION_PREFIX}/podpreset-{preset_name}"


def _env(item: Item) -> str:
    return f'env "{item["name"]}"'


def _env_from(item: Item) -> str:
    ref = "configMapRef" if "configMapRef" in item else "secretRef"
    prefix = f' with prefix "{item["prefix"]}"' if item.get("prefix") else ""
    return f'envFrom {ref} "{(item.get(ref) or {}).get("name", "")}"{prefix}'


def _mount_name(item: Item) -> str:
    return f'volumeMount "{item["name"]}"'


def _mount_path(item: Item) -> str:
    return f'volumeMount path "{item["mountPath"]}"'


def _volume(item: Item) -> str:
    return f'volume "{item["name"]}"'


CONTAINER_FIELDS: Mapping[str, tuple[Identity, ...]] = {
    "env": (_env,),
    "envFrom": (_env_from,),
    "volumeMounts": (_mount_name, _mount_path),
}
POD_FIELDS: Mapping[str, tuple[Identity, ...]] = {"volumes": (_volume,)}
CONTAINER_LISTS = ("initContainers", "containers")


@dataclass(frozen=True)
class Preset:
    """One SimPodPreset as the merge needs it (built from the API object, deep-copied)."""

    name: str
    resource_version: str
    selector: Mapping[str, Any]
    items: Mapping[str, tuple[Item, ...]]

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> Preset:
        spec = body.get("spec") or {}
        return cls(
            name=body["metadata"]["name"],
            resource_version=body["metadata"].get("resourceVersion", ""),
            selector=copy.deepcopy(spec.get("selector") or {}),
            items={
                field: tuple(copy.deepcopy(spec.get(field) or ()))
                for field in (*CONTAINER_FIELDS, *POD_FIELDS)
            },
        )

    def field(self, name: str) -> tuple[Item, ...]:
        return self.items.get(name, ())


@dataclass(frozen=True)
class Conflict:
    """A preset left out of a pod, with what clashed and with whom (None: the pod)."""

    preset: str
    clashes: tuple[str, ...]
    other: str | None = None

    @property
    def message(self) -> str:
        party = "the pod" if self.other is None else f'SimPodPreset "{self.other}"'
        return (
            f'SimPodPreset "{self.preset}" was not applied: it conflicts with {party} on '
            + "; ".join(self.clashes)
        )


@dataclass(frozen=True)
class PresetMerge:
    """The pod spec with the applicable presets merged (a copy), and what was done."""

    spec: dict[str, Any]
    annotations: dict[str, str]
    conflicts: tuple[Conflict, ...]


def merge_presets(pod: Mapping[str, Any], presets: Iterable[Preset]) -> PresetMerge:
    """Merge the presets whose selector matches the pod's labels (in name order)."""
    metadata = pod.get("metadata") or {}
    spec: Mapping[str, Any] = pod.get("spec") or {}
    if (metadata.get("annotations") or {}).get(EXCLUDE_ANNOTATION) == "true":
        return PresetMerge(spec=dict(spec), annotations={}, conflicts=())
    labels = metadata.get("labels") or {}
    matching = sorted(
        (p for p in presets if selector_matches(p.selector, labels)), key=lambda p: p.name
    )
    conflicts: list[Conflict] = []
    candidates: list[Preset] = []
    for preset in matching:
        clashes = _pod_clashes(spec, preset)
        if clashes:
            conflicts.append(Conflict(preset.name, clashes))
        else:
            candidates.append(preset)
    left_out: set[str] = set()
    for first, second in itertools.combinations(candidates, 2):
        clashes = _preset_clashes(first, second)
        if clashes:
            conflicts += [
                Conflict(first.name, clashes, second.name),
                Conflict(second.name, clashes, first.name),
            ]
            left_out |= {first.name, second.name}
    applied = [p for p in candidates if p.name not in left_out]
    return PresetMerge(
        spec=_apply(spec, applied),
        annotations={applied_annotation(p.name): p.resource_version for p in applied},
        conflicts=tuple(sorted(conflicts, key=lambda c: (c.preset, c.other or ""))),
    )


def clashes(
    existing: Sequence[Item], incoming: Sequence[Item], identities: Sequence[Identity]
) -> list[str]:
    """Identities under which an incoming item differs from an item already there."""
    known: dict[str, Item] = {}
    for item in existing:
        for identity in identities:
            known.setdefault(identity(item), item)
    found: list[str] = []
    for item in incoming:
        for identity in identities:
            key = identity(item)
            if key in known and known[key] != item and key not in found:
                found.append(key)
            known.setdefault(key, item)
    return found


def merged(
    existing: Sequence[Item], incoming: Sequence[Item], identities: Sequence[Identity]
) -> list[Item]:
    """The existing items, then each incoming one not already there (clashes excluded)."""
    result = list(existing)
    seen = {identity(item) for item in existing for identity in identities}
    for item in incoming:
        keys = {identity(item) for identity in identities}
        if not keys & seen:
            result.append(item)
            seen |= keys
    return result


def _containers(spec: Mapping[str, Any]) -> Iterable[tuple[str, Mapping[str, Any]]]:
    for kind in CONTAINER_LISTS:
        label = "init container" if kind == "initContainers" else "container"
        for container in spec.get(kind) or ():
            yield label, container


def _pod_clashes(spec: Mapping[str, Any], preset: Preset) -> tuple[str, ...]:
    found = [
        clash
        for field, identities in POD_FIELDS.items()
        for clash in clashes(spec.get(field) or (), preset.field(field), identities)
    ]
    for label, container in _containers(spec):
        for field, identities in CONTAINER_FIELDS.items():
            found += [
                f'{clash} in {label} "{container.get("name", "")}"'
                for clash in clashes(container.get(field) or (), preset.field(field), identities)
            ]
    return tuple(found)


def _preset_clashes(first: Preset, second: Preset) -> tuple[str, ...]:
    return tuple(
        clash
        for field, identities in {**POD_FIELDS, **CONTAINER_FIELDS}.items()
        for clash in clashes(first.field(field), second.field(field), identities)
    )


def _merge_fields(
    target: Mapping[str, Any],
    fields: Mapping[str, tuple[Identity, ...]],
    presets: Sequence[Preset],
) -> dict[str, Any]:
    result = dict(target)
    for field, identities in fields.items():
        items: list[Item] = list(target.get(field) or ())
        for preset in presets:
            items = merged(items, preset.field(field), identities)
        if items:
            result[field] = items
    return result


def _apply(spec: Mapping[str, Any], presets: Sequence[Preset]) -> dict[str, Any]:
    if not presets:
        return dict(spec)
    result = _merge_fields(spec, POD_FIELDS, presets)
    for kind in CONTAINER_LISTS:
        if spec.get(kind):
            result[kind] = [
                _merge_fields(container, CONTAINER_FIELDS, presets) for container in spec[kind]
            ]
    return result
