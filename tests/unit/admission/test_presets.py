"""SimPodPreset merge, table-driven after the upstream PodPreset plug-in's tests
(plugin/pkg/admission/podpreset/admission_test.go: TestMergeEnv, TestMergeEnvFrom,
TestMergeVolumeMounts, TestMergeVolumes, TestAdmit*, TestExclusionNoAdmit) plus the cases
where this merge differs on purpose (per-preset conflicts, between presets)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from simpod.admission.labels import selector_matches
from simpod.admission.presets import (
    CONTAINER_FIELDS,
    EXCLUDE_ANNOTATION,
    POD_FIELDS,
    Preset,
    applied_annotation,
    clashes,
    merge_presets,
    merged,
)

IDENTITIES = {**CONTAINER_FIELDS, **POD_FIELDS}
EMPTY_DIR: dict[str, Any] = {"emptyDir": {}}


def cm(name: str, prefix: str | None = None) -> dict[str, Any]:
    source: dict[str, Any] = {"configMapRef": {"name": name}}
    return {**source, "prefix": prefix} if prefix else source


def vol(name: str, source: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, **(source or EMPTY_DIR)}


# field, original items, preset items, merged result (None: conflict)
MERGE_CASES: dict[str, tuple[str, list[Any], list[Any], list[Any] | None]] = {
    "env: empty original": (
        "env",
        [],
        [{"name": "abc", "value": "value2"}, {"name": "ABC", "value": "value3"}],
        [{"name": "abc", "value": "value2"}, {"name": "ABC", "value": "value3"}],
    ),
    "env: good merge": (
        "env",
        [{"name": "abcd", "value": "value2"}, {"name": "hello", "value": "value3"}],
        [{"name": "abc", "value": "value2"}, {"name": "ABC", "value": "value3"}],
        [
            {"name": "abcd", "value": "value2"},
            {"name": "hello", "value": "value3"},
            {"name": "abc", "value": "value2"},
            {"name": "ABC", "value": "value3"},
        ],
    ),
    "env: conflict": (
        "env",
        [{"name": "abc", "value": "value3"}],
        [{"name": "abc", "value": "value2"}, {"name": "ABC", "value": "value3"}],
        None,
    ),
    "env: one is exact same": (
        "env",
        [{"name": "abc", "value": "value2"}, {"name": "hello", "value": "value3"}],
        [{"name": "abc", "value": "value2"}, {"name": "ABC", "value": "value3"}],
        [
            {"name": "abc", "value": "value2"},
            {"name": "hello", "value": "value3"},
            {"name": "ABC", "value": "value3"},
        ],
    ),
    "envFrom: empty original": (
        "envFrom",
        [],
        [cm("abc"), cm("abc", "pre_")],
        [cm("abc"), cm("abc", "pre_")],
    ),
    "envFrom: good merge": (
        "envFrom",
        [cm("thing")],
        [cm("abc"), cm("abc", "pre_")],
        [cm("thing"), cm("abc"), cm("abc", "pre_")],
    ),
    "envFrom: same source is not added twice": (
        "envFrom",
        [cm("abc")],
        [cm("abc"), {"secretRef": {"name": "abc"}}],
        [cm("abc"), {"secretRef": {"name": "abc"}}],
    ),
    "envFrom: conflict on optional": (
        "envFrom",
        [cm("abc")],
        [{"configMapRef": {"name": "abc", "optional": True}}],
        None,
    ),
    "volumeMounts: empty original": (
        "volumeMounts",
        [],
        [{"name": "simply-mounted-volume", "mountPath": "/opt/"}],
        [{"name": "simply-mounted-volume", "mountPath": "/opt/"}],
    ),
    "volumeMounts: good merge": (
        "volumeMounts",
        [{"name": "etc-volume", "mountPath": "/etc/"}],
        [{"name": "simply-mounted-volume", "mountPath": "/opt/"}],
        [
            {"name": "etc-volume", "mountPath": "/etc/"},
            {"name": "simply-mounted-volume", "mountPath": "/opt/"},
        ],
    ),
    "volumeMounts: conflict on name": (
        "volumeMounts",
        [{"name": "etc-volume", "mountPath": "/etc/"}],
        [
            {"name": "simply-mounted-volume", "mountPath": "/opt/"},
            {"name": "etc-volume", "mountPath": "/things/"},
        ],
        None,
    ),
    "volumeMounts: conflict on mount path": (
        "volumeMounts",
        [{"name": "etc-volume", "mountPath": "/etc/"}],
        [
            {"name": "simply-mounted-volume", "mountPath": "/opt/"},
            {"name": "things-volume", "mountPath": "/etc/"},
        ],
        None,
    ),
    "volumeMounts: one is exact same": (
        "volumeMounts",
        [{"name": "etc-volume", "mountPath": "/etc/"}],
        [
            {"name": "simply-mounted-volume", "mountPath": "/opt/"},
            {"name": "etc-volume", "mountPath": "/etc/"},
        ],
        [
            {"name": "etc-volume", "mountPath": "/etc/"},
            {"name": "simply-mounted-volume", "mountPath": "/opt/"},
        ],
    ),
    "volumes: empty original": (
        "volumes",
        [],
        [vol("vol"), vol("vol2")],
        [vol("vol"), vol("vol2")],
    ),
    "volumes: good merge": (
        "volumes",
        [vol("vol3"), vol("vol4")],
        [vol("vol"), vol("vol2")],
        [vol("vol3"), vol("vol4"), vol("vol"), vol("vol2")],
    ),
    "volumes: conflict": (
        "volumes",
        [vol("vol3"), vol("vol4")],
        [vol("vol3", {"hostPath": {"path": "/etc/apparmor.d"}}), vol("vol2")],
        None,
    ),
    "volumes: one is exact same": (
        "volumes",
        [vol("vol3"), vol("vol4")],
        [vol("vol3"), vol("vol2")],
        [vol("vol3"), vol("vol4"), vol("vol2")],
    ),
}


@pytest.mark.parametrize("case", MERGE_CASES, ids=list(MERGE_CASES))
def test_merge_field(case: str) -> None:
    field, original, incoming, expected = MERGE_CASES[case]
    identities = IDENTITIES[field]
    found = clashes(original, incoming, identities)
    if expected is None:
        assert found
    else:
        assert not found
        assert merged(original, incoming, identities) == expected


def preset(name: str, *, selector: dict[str, Any] | None = None, **items: Any) -> Preset:
    spec = {"selector": selector or {}}
    spec |= {
        {"env_from": "envFrom", "volume_mounts": "volumeMounts"}.get(k, k): v
        for k, v in items.items()
    }
    return Preset.from_body(
        {"metadata": {"name": name, "resourceVersion": f"rv-{name}"}, "spec": spec}
    )


S2 = {"matchExpressions": [{"key": "security", "operator": "In", "values": ["S2"]}]}


def pod(**spec: Any) -> dict[str, Any]:
    containers = spec.pop("containers", [{"name": "container", "image": "busybox"}])
    return {
        "metadata": {"name": "mypod", "namespace": "namespace", "labels": {"security": "S2"}},
        "spec": {"containers": containers, **spec},
    }


def full_preset(name: str = "hello", **overrides: Any) -> Preset:
    items: dict[str, Any] = {
        "selector": S2,
        "volumes": [vol("vol")],
        "env": [{"name": "abcd", "value": "value"}, {"name": "ABC", "value": "value"}],
        "env_from": [cm("abc"), cm("abc", "pre_")],
    }
    return preset(name, **(items | overrides))


def test_admit_merges_into_every_container_and_init_container() -> None:
    original = pod(
        containers=[{"name": "c", "env": [{"name": "abc", "value": "value2"}]}],
        initContainers=[{"name": "i"}],
    )
    before = copy.deepcopy(original)
    result = merge_presets(original, [full_preset(volume_mounts=[vol_mount()])])
    assert original == before, "the input pod is never modified"
    assert result.conflicts == ()
    assert result.annotations == {applied_annotation("hello"): "rv-hello"}
    assert result.spec["volumes"] == [vol("vol")]
    for container in (*result.spec["containers"], *result.spec["initContainers"]):
        names = [e["name"] for e in container["env"]]
        assert names[-2:] == ["abcd", "ABC"]
        assert container["envFrom"] == [cm("abc"), cm("abc", "pre_")]
        assert container["volumeMounts"] == [vol_mount()]
    assert result.spec["containers"][0]["env"][0] == {"name": "abc", "value": "value2"}


def vol_mount() -> dict[str, Any]:
    return {"name": "vol", "mountPath": "/vol"}


def test_conflict_with_the_pod_leaves_it_unchanged_and_says_why() -> None:
    original = pod(containers=[{"name": "container", "env": [{"name": "ABC", "value": "v3"}]}])
    result = merge_presets(original, [full_preset()])
    assert result.spec == original["spec"]
    assert result.annotations == {}
    (conflict,) = result.conflicts
    assert conflict.preset == "hello" and conflict.other is None
    assert conflict.message == (
        'SimPodPreset "hello" was not applied: it conflicts with the pod on '
        'env "ABC" in container "container"'
    )


def test_conflict_on_a_volume_names_the_field() -> None:
    original = pod(volumes=[vol("vol", {"hostPath": {"path": "/x"}})])
    (conflict,) = merge_presets(original, [full_preset()]).conflicts
    assert conflict.clashes == ('volume "vol"',)


def test_only_the_conflicting_preset_is_skipped() -> None:
    original = pod(containers=[{"name": "container", "env": [{"name": "ABC", "value": "v3"}]}])
    fine = preset("fine", env=[{"name": "OTHER", "value": "1"}])
    result = merge_presets(original, [full_preset(), fine])
    assert result.annotations == {applied_annotation("fine"): "rv-fine"}
    assert [e["name"] for e in result.spec["containers"][0]["env"]] == ["ABC", "OTHER"]
    assert [c.preset for c in result.conflicts] == ["hello"]


def test_presets_that_conflict_with_each_other_are_both_skipped() -> None:
    first = preset("a", env=[{"name": "X", "value": "1"}])
    second = preset("b", env=[{"name": "X", "value": "2"}], volumes=[vol("v")])
    third = preset("c", volume_mounts=[{"name": "v", "mountPath": "/v"}])
    result = merge_presets(pod(), [second, third, first])
    assert result.annotations == {applied_annotation("c"): "rv-c"}
    assert [(c.preset, c.other) for c in result.conflicts] == [("a", "b"), ("b", "a")]
    assert result.conflicts[0].message == (
        'SimPodPreset "a" was not applied: it conflicts with SimPodPreset "b" on env "X"'
    )


def test_multiple_presets_merge_in_name_order_and_share_identical_items() -> None:
    shared = {"name": "SHARED", "value": "same"}
    second = preset("b", env=[shared, {"name": "B", "value": "b"}])
    first = preset("a", env=[{"name": "A", "value": "a"}, shared])
    result = merge_presets(pod(), [second, first])
    env = result.spec["containers"][0]["env"]
    assert [e["name"] for e in env] == ["A", "SHARED", "B"]
    assert set(result.annotations) == {applied_annotation("a"), applied_annotation("b")}


def test_merging_twice_is_a_no_op() -> None:
    """Reinvocation (reinvocationPolicy IfNeeded) or two operators must not duplicate."""
    once = merge_presets(pod(), [full_preset(volume_mounts=[vol_mount()])])
    twice = merge_presets({**pod(), "spec": once.spec}, [full_preset(volume_mounts=[vol_mount()])])
    assert twice.spec == once.spec and twice.conflicts == ()


@pytest.mark.parametrize(
    ("name", "labels", "annotations", "selector"),
    [
        ("non-matching labels", {"security": "S2"}, {}, {**S2, "matchLabels": {"a": "b"}}),
        (
            "S3 selector",
            {"security": "S2"},
            {},
            {"matchExpressions": [{"key": "security", "operator": "In", "values": ["S3"]}]},
        ),
        ("exclusion annotation", {"security": "S2"}, {EXCLUDE_ANNOTATION: "true"}, S2),
    ],
)
def test_pod_left_alone(
    name: str, labels: dict[str, str], annotations: dict[str, str], selector: dict[str, Any]
) -> None:
    original = pod()
    original["metadata"] |= {"labels": labels, "annotations": annotations}
    result = merge_presets(original, [full_preset(selector=selector)])
    assert result.spec == original["spec"], name
    assert result.annotations == {} and result.conflicts == ()


def test_exclusion_needs_the_value_true() -> None:
    original = pod()
    original["metadata"]["annotations"] = {EXCLUDE_ANNOTATION: "false"}
    assert merge_presets(original, [full_preset()]).annotations


def test_empty_selector_matches_every_pod() -> None:
    assert merge_presets(pod(), [preset("all", env=[{"name": "A", "value": "1"}])]).annotations


@pytest.mark.parametrize(
    ("selector", "labels", "matches"),
    [
        ({}, {}, True),
        ({"matchLabels": {"a": "1"}}, {"a": "1", "b": "2"}, True),
        ({"matchLabels": {"a": "1"}}, {"a": "2"}, False),
        ({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["1"]}]}, {}, True),
        ({"matchExpressions": [{"key": "a", "operator": "Exists"}]}, {"a": ""}, True),
        ({"matchExpressions": [{"key": "a", "operator": "DoesNotExist"}]}, {"a": ""}, False),
        (
            {"matchLabels": {"a": "1"}, "matchExpressions": [{"key": "b", "operator": "Exists"}]},
            {"a": "1"},
            False,
        ),
    ],
)
def test_selector(selector: dict[str, Any], labels: dict[str, str], matches: bool) -> None:
    assert selector_matches(selector, labels) is matches
