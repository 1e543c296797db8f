"""What the mutating and validating webhooks decide for a new SimPod."""

from __future__ import annotations

import json
from typing import Any

import pytest

from simpod.admission import admit
from simpod.admission.defaults import pull_policy
from simpod.admission.legacy import INIT_CONTAINERS_ANNOTATION
from simpod.admission.presets import Preset, applied_annotation

FINALIZER = "simpod.dev/finalizer"


def pod(*, annotations: dict[str, str] | None = None, **spec: Any) -> dict[str, Any]:
    containers = spec.pop("containers", [{"name": "app", "image": "nginx:1.27"}])
    return {
        "metadata": {"name": "p", "namespace": "ns", "annotations": annotations or {}},
        "spec": {"containers": containers, **spec},
    }


def preset(name: str, **spec: Any) -> Preset:
    return Preset.from_body({"metadata": {"name": name, "resourceVersion": "7"}, "spec": spec})


def test_finalizer_added_once_and_others_kept() -> None:
    assert admit.mutate(pod(), [], finalizer=FINALIZER).finalizers == [FINALIZER]
    mine = pod()
    mine["metadata"]["finalizers"] = ["example.com/keep", FINALIZER]
    assert admit.mutate(mine, [], finalizer=FINALIZER).finalizers == [
        "example.com/keep",
        FINALIZER,
    ]


def test_legacy_init_containers_are_converted_then_get_presets_and_defaults() -> None:
    legacy = [{"name": "one", "image": "busybox"}, {"name": "two", "image": "busybox:1"}]
    mutation = admit.mutate(
        pod(annotations={INIT_CONTAINERS_ANNOTATION: json.dumps(legacy)}),
        [preset("env", env=[{"name": "A", "value": "1"}])],
        finalizer=FINALIZER,
    )
    init = mutation.spec["initContainers"]
    assert [c["name"] for c in init] == ["one", "two"]
    assert [c["imagePullPolicy"] for c in init] == ["Always", "IfNotPresent"]
    assert all(c["env"] == [{"name": "A", "value": "1"}] for c in init)
    assert mutation.annotations == {
        INIT_CONTAINERS_ANNOTATION: None,
        applied_annotation("env"): "7",
    }


def test_conflicts_are_left_in_an_annotation_for_the_event_handler() -> None:
    original = pod(volumes=[{"name": "v", "emptyDir": {}}])
    mutation = admit.mutate(
        original,
        [preset("clash", volumes=[{"name": "v", "hostPath": {"path": "/"}}])],
        finalizer=FINALIZER,
    )
    assert mutation.spec["volumes"] == original["spec"]["volumes"]
    messages = admit.conflict_messages(
        {admit.CONFLICTS_ANNOTATION: str(mutation.annotations[admit.CONFLICTS_ANNOTATION])}
    )
    assert messages == [
        'SimPodPreset "clash" was not applied: it conflicts with the pod on volume "v"'
    ]
    assert admit.conflict_messages({admit.CONFLICTS_ANNOTATION: "{broken"}) == []


@pytest.mark.parametrize(
    ("image", "policy"),
    [
        ("nginx", "Always"),
        ("nginx:latest", "Always"),
        ("nginx:1.27", "IfNotPresent"),
        ("registry:5000/team/app", "Always"),
        ("registry:5000/team/app:v2", "IfNotPresent"),
        ("nginx@sha256:abcd", "IfNotPresent"),
    ],
)
def test_pull_policy_default(image: str, policy: str) -> None:
    assert pull_policy(image) == policy


def test_explicit_pull_policy_and_requests_are_kept_missing_requests_default_to_limits() -> None:
    container = {
        "name": "app",
        "image": "nginx",
        "imagePullPolicy": "Never",
        "resources": {"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "100m"}},
    }
    (result,) = admit.mutate(pod(containers=[container]), [], finalizer=FINALIZER).spec[
        "containers"
    ]
    assert result["imagePullPolicy"] == "Never"
    assert result["resources"]["requests"] == {"cpu": "100m", "memory": "1Gi"}


PRIVILEGED = {"name": "root", "image": "x", "securityContext": {"privileged": True}}
NODE_ALLOWS = {"metadata": {"name": "n"}, "spec": {"allowPrivileged": True}}
NODE_REFUSES = {"metadata": {"name": "n"}, "spec": {}}


@pytest.mark.parametrize(
    ("node_name", "node", "cluster", "refusal"),
    [
        (None, None, True, None),
        (None, None, False, "run the simpod operator with --allow-privileged"),
        ("n", NODE_ALLOWS, False, None),
        ("n", NODE_REFUSES, True, "kubectl patch simnode n --type=merge"),
        ("gone", None, True, 'SimNode "gone" does not exist'),
    ],
)
def test_privileged(
    node_name: str | None, node: dict[str, Any] | None, cluster: bool, refusal: str | None
) -> None:
    candidate = pod(containers=[{"name": "app", "image": "x"}, PRIVILEGED])
    if node_name:
        candidate["spec"]["nodeName"] = node_name
    assert admit.needs_node(candidate) == node_name
    problems = admit.problems(candidate, node=node, allow_privileged=cluster)
    if refusal is None:
        assert problems == []
    else:
        (message,) = problems
        assert message.startswith('privileged container(s) "root" refused')
        assert refusal in message


def test_unprivileged_pods_never_read_their_node() -> None:
    assert admit.needs_node(pod(nodeName="n")) is None
    assert admit.problems(pod(nodeName="n"), node=None, allow_privileged=False) == []


def test_mounts_must_name_a_volume_and_paths_are_unique() -> None:
    container = {
        "name": "app",
        "image": "x",
        "volumeMounts": [
            {"name": "data", "mountPath": "/data"},
            {"name": "cache", "mountPath": "/data"},
        ],
    }
    problems = admit.problems(
        pod(containers=[container], volumes=[{"name": "data", "emptyDir": {}}]),
        node=None,
        allow_privileged=False,
    )
    assert problems == [
        'spec.containers[0].volumeMounts[1].name: container "app" mounts volume "cache", '
        "which is not in spec.volumes (declared: data)",
        'spec.containers[0].volumeMounts[1].mountPath: container "app" mounts both volume '
        '"data" and volume "cache" at /data; a mount path must be unique within a container',
    ]


def test_legacy_disagreement_is_a_problem() -> None:
    candidate = pod(
        annotations={INIT_CONTAINERS_ANNOTATION: json.dumps([{"name": "x", "image": "y"}])},
        initContainers=[{"name": "z", "image": "y"}],
    )
    (message,) = admit.problems(candidate, node=None, allow_privileged=False)
    assert "are both set and differ" in message
