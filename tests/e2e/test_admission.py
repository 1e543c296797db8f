"""Admission through the real API server: presets, exclusion, conflicts, the legacy
init-containers annotation and the privileged policy, served by the operator's webhooks."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from simpod.admission.admit import CONFLICTS_ANNOTATION
from simpod.admission.legacy import INIT_CONTAINERS_ANNOTATION
from simpod.admission.presets import EXCLUDE_ANNOTATION, applied_annotation
from simpod.admission.webhooks import CONFLICT_REASON
from simpod.api.group import API_VERSION, GROUP, SIMNODE, SIMPOD, SIMPODPRESET, VERSION
from tests.e2e.conftest import Cluster, Operator

pytestmark = pytest.mark.usefixtures("operator")

LABELS = {"role": "frontend"}
T = TypeVar("T")


def eventually(check: Callable[[], T | None], *, timeout: float = 30, what: str = "") -> T:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result is not None:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)


def simpod(name: str, **spec: Any) -> dict[str, Any]:
    annotations = spec.pop("annotations", {})
    containers = spec.pop("containers", [{"name": "app", "image": "nginx:1.27"}])
    return {
        "apiVersion": API_VERSION,
        "kind": SIMPOD.kind,
        "metadata": {"name": name, "labels": LABELS, "annotations": annotations},
        "spec": {"containers": containers, **spec},
    }


class Api:
    def __init__(self, cluster: Cluster, namespace: str) -> None:
        self.custom = client.CustomObjectsApi(cluster.api)
        self.core = client.CoreV1Api(cluster.api)
        self.namespace = namespace

    def create(self, body: dict[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
        kwargs = {"dry_run": "All"} if dry_run else {}
        result: dict[str, Any] = self.custom.create_namespaced_custom_object(
            GROUP, VERSION, self.namespace, SIMPOD.plural, body, **kwargs
        )
        return result

    def get(self, name: str) -> dict[str, Any]:
        result: dict[str, Any] = self.custom.get_namespaced_custom_object(
            GROUP, VERSION, self.namespace, SIMPOD.plural, name
        )
        return result

    def preset(self, name: str, **spec: Any) -> None:
        body = {
            "apiVersion": API_VERSION,
            "kind": SIMPODPRESET.kind,
            "metadata": {"name": name},
            "spec": {"selector": {"matchLabels": LABELS}, **spec},
        }
        self.custom.create_namespaced_custom_object(
            GROUP, VERSION, self.namespace, SIMPODPRESET.plural, body
        )
        # The webhook reads presets from the operator's watch cache, like the upstream
        # plug-in's informer: wait until a dry-run creation shows this one.
        eventually(
            lambda: self._sees(name),
            what=f"the operator to see SimPodPreset {name}",
        )

    def _sees(self, preset: str) -> bool | None:
        annotations = self.create(simpod("probe"), dry_run=True)["metadata"].get("annotations")
        annotations = annotations or {}
        seen = applied_annotation(preset) in annotations or f'"{preset}"' in annotations.get(
            CONFLICTS_ANNOTATION, ""
        )
        return True if seen else None


@pytest.fixture
def api(cluster: Cluster, namespace: str) -> Api:
    return Api(cluster, namespace)


CACHE = {"name": "cache", "emptyDir": {}}
CACHE_MOUNT = {"name": "cache", "mountPath": "/cache"}
DB_PORT = {"name": "DB_PORT", "value": "6379"}


def test_preset_injects_env_and_volume(api: Api) -> None:
    api.preset("allow-database", env=[DB_PORT], volumes=[CACHE], volumeMounts=[CACHE_MOUNT])
    created = api.create(simpod("website"))
    stored = api.get("website")
    (container,) = stored["spec"]["containers"]
    assert container["env"] == [DB_PORT]
    assert container["volumeMounts"] == [CACHE_MOUNT]
    assert stored["spec"]["volumes"] == [CACHE]
    preset_version = api.custom.get_namespaced_custom_object(
        GROUP, VERSION, api.namespace, SIMPODPRESET.plural, "allow-database"
    )["metadata"]["resourceVersion"]
    annotations = stored["metadata"]["annotations"]
    assert annotations[applied_annotation("allow-database")] == preset_version
    assert "simpod.dev/finalizer" in created["metadata"]["finalizers"]


def test_excluded_pod_is_left_alone(api: Api) -> None:
    api.preset("allow-database", env=[DB_PORT], volumes=[CACHE])
    api.create(simpod("opted-out", annotations={EXCLUDE_ANNOTATION: "true"}))
    stored = api.get("opted-out")
    assert "env" not in stored["spec"]["containers"][0]
    assert "volumes" not in stored["spec"]
    assert applied_annotation("allow-database") not in stored["metadata"]["annotations"]


def test_conflicting_preset_admits_the_pod_unchanged_with_a_warning_event(api: Api) -> None:
    api.preset("mode", env=[{"name": "MODE", "value": "prod"}])
    own_env = [{"name": "MODE", "value": "dev"}]
    api.create(simpod("clash", containers=[{"name": "app", "image": "nginx", "env": own_env}]))
    stored = api.get("clash")
    assert stored["spec"]["containers"][0]["env"] == own_env
    assert applied_annotation("mode") not in stored["metadata"]["annotations"]

    def warning() -> client.CoreV1Event | None:
        events = api.core.list_namespaced_event(
            api.namespace, field_selector="involvedObject.name=clash"
        ).items
        return next((e for e in events if e.reason == CONFLICT_REASON), None)

    event = eventually(warning, what="the PodPresetConflict event")
    assert event.type == "Warning"
    assert event.involved_object.kind == SIMPOD.kind
    assert 'SimPodPreset "mode"' in event.message
    assert 'env "MODE"' in event.message


def test_legacy_annotation_becomes_init_containers_that_run_in_order(
    api: Api, operator: Operator
) -> None:
    init = [
        {"name": f"init-{i}", "image": "busybox", "sim": {"runSeconds": operator.time_scale}}
        for i in (1, 2)
    ]
    api.create(
        simpod(
            "legacy",
            annotations={INIT_CONTAINERS_ANNOTATION: json.dumps(init)},
            nodeName="sim-node-1",
        )
    )
    stored = api.get("legacy")
    assert [c["name"] for c in stored["spec"]["initContainers"]] == ["init-1", "init-2"]
    assert INIT_CONTAINERS_ANNOTATION not in stored["metadata"].get("annotations", {})

    def initialized() -> list[dict[str, Any]] | None:
        statuses = api.get("legacy").get("status", {}).get("initContainerStatuses") or []
        done = [s for s in statuses if (s.get("state") or {}).get("terminated")]
        return statuses if len(done) == 2 else None

    first, second = eventually(initialized, what="both init containers to complete")
    assert [first["name"], second["name"]] == ["init-1", "init-2"]
    one, two = first["state"]["terminated"], second["state"]["terminated"]
    assert one["exitCode"] == two["exitCode"] == 0
    assert two["startedAt"] >= one["finishedAt"]
    assert two["finishedAt"] > one["startedAt"]


def test_legacy_annotation_that_disagrees_with_the_spec_is_refused(api: Api) -> None:
    annotation = json.dumps([{"name": "a", "image": "busybox"}])
    body = simpod(
        "both",
        annotations={INIT_CONTAINERS_ANNOTATION: annotation},
        initContainers=[{"name": "b", "image": "busybox"}],
    )
    with pytest.raises(ApiException) as refused:
        api.create(body)
    assert "are both set and differ" in json.loads(refused.value.body)["message"]


PRIVILEGED = [{"name": "root", "image": "busybox", "securityContext": {"privileged": True}}]


def test_privileged_pod_is_refused_with_how_to_allow_it(api: Api) -> None:
    with pytest.raises(ApiException) as unscheduled:
        api.create(simpod("priv", containers=PRIVILEGED))
    message = json.loads(unscheduled.value.body)["message"]
    assert 'privileged container(s) "root" refused' in message
    assert "--allow-privileged" in message

    with pytest.raises(ApiException) as bound:
        api.create(simpod("priv", containers=PRIVILEGED, nodeName="sim-node-1"))
    message = json.loads(bound.value.body)["message"]
    assert 'SimNode "sim-node-1" does not allow privileged pods' in message
    assert "kubectl patch simnode sim-node-1" in message


def test_privileged_pod_is_admitted_on_a_node_that_allows_it(api: Api) -> None:
    node = f"e2e-privileged-{uuid.uuid4().hex[:6]}"
    api.custom.create_cluster_custom_object(
        GROUP,
        VERSION,
        SIMNODE.plural,
        {
            "apiVersion": API_VERSION,
            "kind": SIMNODE.kind,
            "metadata": {"name": node},
            # Tainted so that no other test's pod is scheduled onto this agent-less node.
            "spec": {
                "allowPrivileged": True,
                "taints": [{"key": "e2e.simpod.dev/no-agent", "effect": "NoSchedule"}],
            },
        },
    )
    try:
        admitted = api.create(simpod("priv", containers=PRIVILEGED, nodeName=node), dry_run=True)
        assert admitted["spec"]["nodeName"] == node
    finally:
        api.custom.delete_cluster_custom_object(GROUP, VERSION, SIMNODE.plural, node)
