"""The CRDs in crds/ are what simpod.api generates, and keep the promises of interface.md."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from simpod.api import crds
from simpod.api.group import (
    ALL_KINDS,
    SIMDAEMONSET,
    SIMDEPLOYMENT,
    SIMJOB,
    SIMPOD,
    SIMREPLICASET,
    Kind,
)

CRD_DIR = Path(__file__).resolve().parents[2] / "crds"
JSON = dict[str, Any]


@functools.cache
def _loaded() -> dict[str, JSON]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return {name: yaml.load(text, Loader=loader) for name, text in crds.rendered().items()}


def _crd(kind: Kind) -> JSON:
    return _loaded()[crds.file_name(kind)]


def _version(kind: Kind) -> JSON:
    version: JSON = _crd(kind)["spec"]["versions"][0]
    return version


def _root(kind: Kind) -> JSON:
    schema: JSON = _version(kind)["schema"]["openAPIV3Schema"]
    return schema


def _nodes(schema: JSON, path: str = "") -> Iterator[tuple[str, JSON]]:
    """Every field of a schema with its path (`[]` for list items, `{}` for map values)."""
    yield path, schema
    for name, child in schema.get("properties", {}).items():
        yield from _nodes(child, f"{path}.{name}")
    if "items" in schema:
        yield from _nodes(schema["items"], f"{path}[]")
    if "additionalProperties" in schema:
        yield from _nodes(schema["additionalProperties"], f"{path}{{}}")


def _at(schema: JSON, path: str) -> JSON:
    """The schema node at a dotted path such as `.spec.containers[].livenessProbe`."""
    node = schema
    for part in path.strip(".").split("."):
        name, _, rest = part.partition("[")
        node = node["properties"][name]
        if rest:
            node = node["items"]
    return node


def _all_nodes() -> Iterator[tuple[str, str, JSON]]:
    for kind in ALL_KINDS:
        for path, node in _nodes(_root(kind)):
            yield kind.kind, path, node


def test_files_on_disk_are_what_the_generator_writes() -> None:
    expected = crds.rendered()
    on_disk = {path.name: path.read_text() for path in CRD_DIR.glob("*.yaml")}
    assert sorted(on_disk) == sorted(expected), "run: python -m simpod.api.crds"
    for name, text in expected.items():
        assert on_disk[name] == text, f"crds/{name} is stale; run: python -m simpod.api.crds"


def test_main_writes_one_file_per_kind(tmp_path: Path) -> None:
    assert crds.main([str(tmp_path)]) == 0
    written = {path.name: path.read_text() for path in tmp_path.iterdir()}
    assert written == crds.rendered()
    assert sorted(written) == sorted(f"{kind.plural}.simpod.dev.yaml" for kind in ALL_KINDS)


@pytest.mark.parametrize("kind", ALL_KINDS, ids=lambda kind: kind.kind)
def test_names_and_scope_follow_the_group(kind: Kind) -> None:
    crd = _crd(kind)
    assert crd["metadata"]["name"] == kind.crd_name
    assert crd["spec"]["scope"] == kind.scope.value
    names = crd["spec"]["names"]
    assert (names["kind"], names["plural"], names["singular"]) == (
        kind.kind,
        kind.plural,
        kind.singular,
    )
    assert tuple(names.get("shortNames", ())) == kind.short_names


def test_every_field_has_a_description() -> None:
    missing = [f"{kind}{path}" for kind, path, node in _all_nodes() if not node.get("description")]
    assert missing == []


def test_lists_maps_and_strings_are_bounded_for_cel_costs() -> None:
    unbounded = []
    for kind, path, node in _all_nodes():
        kind_path = f"{kind}{path}"
        if node.get("type") == "array" and "maxItems" not in node:
            unbounded.append(kind_path)
        if "additionalProperties" in node and "maxProperties" not in node:
            unbounded.append(kind_path)
        is_string = node.get("type") == "string" or node.get("x-kubernetes-int-or-string")
        if is_string and not ({"maxLength", "enum", "format"} & node.keys()):
            unbounded.append(kind_path)
    assert unbounded == []


def test_only_the_agents_bookkeeping_keeps_unknown_fields() -> None:
    preserved = [
        f"{kind}{path}"
        for kind, path, node in _all_nodes()
        if node.get("x-kubernetes-preserve-unknown-fields")
    ]
    assert preserved == ["SimPod.status.sim"]


def test_every_rule_has_a_message() -> None:
    rules = [
        (f"{kind}{path}", rule)
        for kind, path, node in _all_nodes()
        for rule in node.get("x-kubernetes-validations", ())
    ]
    assert rules
    assert [where for where, rule in rules if not rule.get("message")] == []


def test_update_rules_are_on_simpod_only() -> None:
    """Templates must stay editable: a changed template is how a rollout starts."""
    with_old_self = {
        kind
        for kind, _, node in _all_nodes()
        for rule in node.get("x-kubernetes-validations", ())
        if "oldSelf" in rule["rule"]
    }
    assert with_old_self == {"SimPod"}


def test_simpod_prints_like_kubectl_get_pods() -> None:
    columns = [
        (column["name"], column["jsonPath"], column.get("priority", 0))
        for column in _version(SIMPOD)["additionalPrinterColumns"]
    ]
    assert columns == [
        ("Ready", ".status.display.ready", 0),
        ("Status", ".status.display.status", 0),
        ("Restarts", ".status.display.restarts", 0),
        ("Age", ".metadata.creationTimestamp", 0),
        ("IP", ".status.podIP", 1),
        ("Node", ".spec.nodeName", 1),
    ]


@pytest.mark.parametrize("kind", ALL_KINDS, ids=lambda kind: kind.kind)
def test_printer_columns_point_at_schema_fields(kind: Kind) -> None:
    for column in _version(kind).get("additionalPrinterColumns", ()):
        path = column["jsonPath"]
        if not path.startswith(".metadata."):
            # `[*]` and filters such as `[?(@.type=="InternalIP")]` select list items.
            assert _at(_root(kind), re.sub(r"\[[^\]]*\]", "[]", path)), path


def test_simpod_selectable_by_node_name() -> None:
    assert {"jsonPath": ".spec.nodeName"} in _version(SIMPOD)["selectableFields"]


def test_status_subresource_everywhere_there_is_status() -> None:
    for kind in ALL_KINDS:
        has_status = "status" in _root(kind)["properties"]
        assert ("status" in _version(kind).get("subresources", {})) == has_status, kind.kind


@pytest.mark.parametrize("kind", [SIMREPLICASET, SIMDEPLOYMENT], ids=lambda kind: kind.kind)
def test_kubectl_scale_works(kind: Kind) -> None:
    assert _version(kind)["subresources"]["scale"] == {
        "specReplicasPath": ".spec.replicas",
        "statusReplicasPath": ".status.replicas",
        "labelSelectorPath": ".status.selector",
    }
    assert _at(_root(kind), ".status.selector")["type"] == "string"


@pytest.mark.parametrize(
    ("path", "default"),
    [
        (".spec.restartPolicy", "Always"),
        (".spec.terminationGracePeriodSeconds", 30),
        (".spec.runtimeClassName", "simulated"),
        (".spec.containers[].ports[].protocol", "TCP"),
        (".spec.containers[].livenessProbe.initialDelaySeconds", 0),
        (".spec.containers[].livenessProbe.periodSeconds", 10),
        (".spec.containers[].readinessProbe.timeoutSeconds", 1),
        (".spec.containers[].startupProbe.successThreshold", 1),
        (".spec.containers[].startupProbe.failureThreshold", 3),
        (".spec.initContainers[].readinessProbe.periodSeconds", 10),
        (".spec.containers[].livenessProbe.httpGet.scheme", "HTTP"),
    ],
)
def test_simpod_defaults_like_kubernetes(path: str, default: object) -> None:
    assert _at(_root(SIMPOD), path)["default"] == default


def test_runtime_class_is_simulated_or_process() -> None:
    assert _at(_root(SIMPOD), ".spec.runtimeClassName")["enum"] == ["simulated", "process"]


def test_image_pull_policy_has_no_default() -> None:
    assert "default" not in _at(_root(SIMPOD), ".spec.containers[].imagePullPolicy")


def _shape(schema: JSON) -> JSON:
    """A schema without descriptions and rules: what must agree where a shape is reused."""
    out = {
        key: value
        for key, value in schema.items()
        if key not in ("description", "x-kubernetes-validations")
    }
    if "properties" in out:
        out["properties"] = {name: _shape(child) for name, child in out["properties"].items()}
    for key in ("items", "additionalProperties"):
        if key in out:
            out[key] = _shape(out[key])
    return out


@pytest.mark.parametrize(
    "kind", [SIMJOB, SIMREPLICASET, SIMDEPLOYMENT, SIMDAEMONSET], ids=lambda kind: kind.kind
)
def test_workload_templates_reuse_the_simpod_spec(kind: Kind) -> None:
    template = _at(_root(kind), ".spec.template.spec")
    assert _shape(template) == _shape(_at(_root(SIMPOD), ".spec"))


def test_containers_and_init_containers_share_one_shape() -> None:
    spec = _root(SIMPOD)["properties"]["spec"]["properties"]
    app = spec["containers"]["items"]["properties"]
    init = dict(spec["initContainers"]["items"]["properties"])
    assert init.pop("restartPolicy")["enum"] == ["Always"]
    assert init == app
