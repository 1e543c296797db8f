"""Foundation smoke tests: the CRDs are served, kubectl prints SimPods like pods, and bad
input is refused by the API server with a readable message and nothing created."""

from __future__ import annotations

import json

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from simpod.api.group import ALL_KINDS, API_VERSION, GROUP, SIMNODE, SIMPOD, VERSION
from tests.e2e.conftest import Cluster


def test_every_crd_is_established(cluster: Cluster) -> None:
    ext = client.ApiextensionsV1Api(cluster.api)
    for kind in ALL_KINDS:
        crd = ext.read_custom_resource_definition(kind.crd_name)
        established = {c.type: c.status for c in crd.status.conditions}["Established"]
        assert established == "True", kind.kind


def test_kubectl_get_simpods_prints_pod_columns(cluster: Cluster, namespace: str) -> None:
    body = {
        "apiVersion": API_VERSION,
        "kind": SIMPOD.kind,
        "metadata": {"name": "columns"},
        "spec": {"containers": [{"name": "app", "image": "busybox"}]},
    }
    client.CustomObjectsApi(cluster.api).create_namespaced_custom_object(
        GROUP, VERSION, namespace, SIMPOD.plural, body
    )
    plain = cluster.kubectl("get", "simpods", "-n", namespace).stdout.splitlines()[0].split()
    assert plain == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    wide = cluster.kubectl("get", "spod", "-n", namespace, "-o", "wide").stdout.splitlines()[0]
    assert wide.split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE"]


def test_explain_prints_real_help(cluster: Cluster) -> None:
    out = cluster.kubectl("explain", "simpod.spec.containers.livenessProbe").stdout
    assert "periodSeconds" in out and "DESCRIPTION" in out


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        (
            {
                "initContainers": [{"name": "app", "image": "busybox"}],
                "containers": [{"name": "app", "image": "busybox"}],
            },
            "unique",
        ),
        (
            {"containers": [{"name": "app", "image": "b"}], "restartPolicy": "Sometimes"},
            "Sometimes",
        ),
        (
            {
                "containers": [
                    {
                        "name": "app",
                        "image": "b",
                        "livenessProbe": {"exec": {"command": ["true"]}, "successThreshold": 2},
                    }
                ]
            },
            "successThreshold",
        ),
    ],
)
def test_bad_simpod_is_rejected_with_422_and_nothing_created(
    cluster: Cluster, namespace: str, spec: dict[str, object], fragment: str
) -> None:
    custom = client.CustomObjectsApi(cluster.api)
    body = {
        "apiVersion": API_VERSION,
        "kind": SIMPOD.kind,
        "metadata": {"name": "bad"},
        "spec": spec,
    }
    with pytest.raises(ApiException) as caught:
        custom.create_namespaced_custom_object(GROUP, VERSION, namespace, SIMPOD.plural, body)
    assert caught.value.status == 422
    message = json.loads(caught.value.body)["message"]
    assert fragment in message
    listed = custom.list_namespaced_custom_object(GROUP, VERSION, namespace, SIMPOD.plural)
    assert listed["items"] == []


@pytest.mark.parametrize(
    ("phases", "fragment"),
    [
        ({"relist": 1.0, "syncLoop": 0.2}, "the relist's phase is less than its period"),
        ({"relist": 0.5, "syncLoop": 1.0}, "a phase is less than one second"),
        ({"relist": 0.5, "relistPeriod": 2.5, "syncLoop": 0.2}, "under two seconds"),
        ({"relist": -0.1, "syncLoop": 0.2}, "should be greater than or equal to 0"),
        ({"relist": 0.3}, "spec.tickPhases.syncLoop: Required value"),
        ({"syncLoop": 0.3}, "either the relist's phase or its moments are set"),
        ({"relists": [{"at": 2.5}, {"at": 1.5}], "syncLoop": 0.3}, "in ascending order"),
        ({"relists": [{"at": 2.5, "syncAt": 2.4}], "syncLoop": 0.3}, "syncs after it lists"),
        (
            {"relists": [{"at": 2, "syncAt": 2.5}, {"at": 1.9, "syncAt": 2.6}], "syncLoop": 0.3},
            "order",
        ),
        ({"relists": [], "syncLoop": 0.3}, "should have at least 1 items"),
    ],
)
def test_bad_tick_phases_are_rejected(
    cluster: Cluster, phases: dict[str, float], fragment: str
) -> None:
    body = {
        "apiVersion": API_VERSION,
        "kind": SIMNODE.kind,
        "metadata": {"name": "e2e-phases"},
        "spec": {"tickPhases": phases},
    }
    custom = client.CustomObjectsApi(cluster.api)
    with pytest.raises(ApiException) as caught:
        custom.create_cluster_custom_object(GROUP, VERSION, SIMNODE.plural, body, dry_run="All")
    assert caught.value.status == 422
    assert fragment in json.loads(caught.value.body)["message"]
    phases = {"relist": 1.005, "relistPeriod": 1.01, "syncLoop": 0.999}
    good = {**body, "spec": {"tickPhases": phases}}
    custom.create_cluster_custom_object(GROUP, VERSION, SIMNODE.plural, good, dry_run="All")
    relists = [{"at": 1.5}, {"at": 2.5, "syncAt": 2.51}]
    known = {"relists": relists, "relistPeriod": 1.01, "syncLoop": 0.999}
    good = {**body, "spec": {"tickPhases": known}}
    custom.create_cluster_custom_object(GROUP, VERSION, SIMNODE.plural, good, dry_run="All")
