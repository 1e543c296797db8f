"""Parsing SimPod dicts with core/v1 defaults, refusing bad input, and status round trips."""

from __future__ import annotations

from typing import Any

import pytest

from simpod.core.model import ProbeSpec, RestartPolicy
from simpod.core.serialize import SpecError, parse_pod, parse_status, status_to_dict
from tests.unit.core.builders import pod_obj
from tests.unit.core.harness import Node


def test_defaults() -> None:
    p = parse_pod(pod_obj([{"name": "app", "readinessProbe": {"tcpSocket": {"port": 80}}}]))
    assert p.spec.restart_policy is RestartPolicy.ALWAYS
    assert p.spec.containers[0].readiness_probe == ProbeSpec(handler={"tcpSocket": {"port": 80}})
    assert p.ref == "p_ns(u1)"


@pytest.mark.parametrize(
    ("containers", "extra", "fragment"),
    [
        ([], {}, "at least one container"),
        ([{"name": "a"}, {"name": "a"}], {}, "duplicate"),
        ([{"name": "a", "livenessProbe": {"exec": {}, "successThreshold": 2}}], {}, "must be 1"),
        ([{"name": "a", "readinessProbe": {"exec": {}, "periodSeconds": 0}}], {}, "periodSeconds"),
        ([{"name": "a", "readinessProbe": {}}], {}, "exactly one of"),
        ([{"name": "a"}], {"restartPolicy": "Sometimes"}, "restartPolicy"),
        ([{"name": "a", "restartPolicy": "Always"}], {}, "restartPolicy"),
        (
            [{"name": "a"}],
            {"initContainers": [{"name": "i", "livenessProbe": {"exec": {}}}]},
            "sidecar",
        ),
        ([{"image": "x"}], {}, "name: required"),
    ],
)
def test_bad_specs_are_refused_with_a_reason(
    containers: list[dict[str, Any]], extra: dict[str, Any], fragment: str
) -> None:
    obj = pod_obj(containers)
    obj["spec"].update(extra)
    with pytest.raises(SpecError, match=fragment):
        parse_pod(obj)


def test_status_round_trip() -> None:
    node = Node(parse_pod(pod_obj([{"name": "app"}], init=[{"name": "i"}])))
    node.settle()
    node.exit("i")
    node.settle()
    node.advance(2)
    node.exit("app", 3)
    node.settle()
    written = status_to_dict(node.status)  # timestamps in whole seconds, as the API has them
    assert status_to_dict(parse_status(written)) == written
    assert status_to_dict(node.status)["containerStatuses"][0]["lastState"]["terminated"] == {
        "exitCode": 3,
        "reason": "Error",
        "startedAt": "2027-01-15T08:00:00Z",
        "finishedAt": "2027-01-15T08:00:02Z",
    }
