"""Scheduler filters, scores and messages (kube-scheduler's default profile)."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import pytest

from simpod.controllers.scheduling import (
    Bind,
    NodeInfo,
    NodeState,
    PodInfo,
    PodUsage,
    Resources,
    Unschedulable,
    effective_requests,
    filter_node,
    schedule,
    unschedulable_message,
)
from tests.unit.controllers.builders import container, node_body, pod_body

GI = 2**30
MI = 2**20


def state(body: dict[str, Any], *pods: dict[str, Any]) -> NodeState:
    return NodeState.build(
        NodeInfo.from_api(body), [PodUsage.of(PodInfo.from_api(p)) for p in pods]
    )


def affinity(*terms: dict[str, Any]) -> dict[str, Any]:
    return {
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": list(terms)}
            }
        }
    }


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param(
            {"containers": [container(cpu="250m", memory="64Mi")]},
            Resources(250, 64 * MI, 1),
            id="one container",
        ),
        pytest.param(
            {"containers": [container("a", cpu="1"), container("b", cpu="500m")]},
            Resources(1500, 0, 1),
            id="app containers add up",
        ),
        pytest.param(
            {
                "initContainers": [container("i", cpu="2", memory="1Gi")],
                "containers": [container("a", cpu="1", memory="2Gi")],
            },
            Resources(2000, 2 * GI, 1),
            id="max of init and apps per resource",
        ),
        pytest.param(
            {
                "initContainers": [
                    container("s", cpu="1", restart_policy="Always"),
                    container("i", cpu="2"),
                ],
                "containers": [container("a", cpu="500m")],
            },
            Resources(3000, 0, 1),
            id="sidecar counts under later init containers",
        ),
        pytest.param(
            {
                "initContainers": [container("s", cpu="1", restart_policy="Always")],
                "containers": [container("a", cpu="500m")],
            },
            Resources(1500, 0, 1),
            id="sidecar adds to the app containers",
        ),
        pytest.param(
            {"containers": [{"name": "a", "resources": {"limits": {"cpu": "2"}}}]},
            Resources(2000, 0, 1),
            id="limits stand in for absent requests",
        ),
        pytest.param({"containers": [container()]}, Resources(0, 0, 1), id="no requests"),
    ],
)
def test_effective_requests(spec: dict[str, Any], expected: Resources) -> None:
    assert effective_requests(spec) == expected


def test_non_zero_requests_default_for_scoring() -> None:
    spec = {"containers": [container(cpu="1")]}
    assert effective_requests(spec, non_zero=True) == Resources(1000, 200 * MI, 1)


NOT_TOLERATED = "node(s) had untolerated taint {dedicated: gpu}"


@pytest.mark.parametrize(
    ("node", "pod", "reasons"),
    [
        pytest.param(node_body("n"), pod_body(), (), id="fits"),
        pytest.param(
            node_body("n", unschedulable=True),
            pod_body(),
            ("node(s) were unschedulable",),
            id="cordoned",
        ),
        pytest.param(
            node_body("n", unschedulable=True),
            pod_body(
                spec={
                    "tolerations": [
                        {
                            "key": "node.kubernetes.io/unschedulable",
                            "operator": "Exists",
                            "effect": "NoSchedule",
                        }
                    ]
                }
            ),
            (),
            id="cordoned but tolerated",
        ),
        pytest.param(
            node_body("n", taints=[{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]),
            pod_body(),
            (NOT_TOLERATED,),
            id="NoSchedule taint",
        ),
        pytest.param(
            node_body("n", taints=[{"key": "dedicated", "value": "gpu", "effect": "NoExecute"}]),
            pod_body(),
            (NOT_TOLERATED,),
            id="NoExecute taint",
        ),
        pytest.param(
            node_body(
                "n", taints=[{"key": "dedicated", "value": "gpu", "effect": "PreferNoSchedule"}]
            ),
            pod_body(),
            (),
            id="PreferNoSchedule only scores",
        ),
        pytest.param(
            node_body("n", taints=[{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]),
            pod_body(spec={"tolerations": [{"key": "dedicated", "value": "gpu"}]}),
            (),
            id="Equal toleration without effect",
        ),
        pytest.param(
            node_body("n", taints=[{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]),
            pod_body(spec={"tolerations": [{"key": "dedicated", "value": "cpu"}]}),
            (NOT_TOLERATED,),
            id="wrong value",
        ),
        pytest.param(
            node_body("n", taints=[{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]),
            pod_body(spec={"tolerations": [{"operator": "Exists"}]}),
            (),
            id="tolerate everything",
        ),
        pytest.param(
            node_body("n", taints=[{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]),
            pod_body(
                spec={
                    "tolerations": [
                        {"key": "dedicated", "operator": "Exists", "effect": "NoExecute"}
                    ]
                }
            ),
            (NOT_TOLERATED,),
            id="other effect",
        ),
        pytest.param(
            node_body("n", ready="False"),
            pod_body(),
            ("node(s) had untolerated taint {node.kubernetes.io/not-ready: }",),
            id="not ready",
        ),
        pytest.param(
            node_body("n", ready="Unknown"),
            pod_body(),
            ("node(s) had untolerated taint {node.kubernetes.io/unreachable: }",),
            id="unreachable",
        ),
        pytest.param(
            node_body("n", ready="Unknown"),
            pod_body(
                spec={
                    "tolerations": [{"key": "node.kubernetes.io/unreachable", "operator": "Exists"}]
                }
            ),
            (),
            id="unreachable tolerated",
        ),
        pytest.param(
            node_body("n", labels={"disk": "ssd"}),
            pod_body(spec={"nodeSelector": {"disk": "ssd"}}),
            (),
            id="selector",
        ),
        pytest.param(
            node_body("n", labels={"disk": "hdd"}),
            pod_body(spec={"nodeSelector": {"disk": "ssd"}}),
            ("node(s) didn't match Pod's node affinity/selector",),
            id="selector miss",
        ),
        pytest.param(
            node_body("n", labels={"zone": "b"}),
            pod_body(
                spec=affinity(
                    {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]},
                    {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["b"]}]},
                )
            ),
            (),
            id="affinity: terms are ORed",
        ),
        pytest.param(
            node_body("n", labels={"zone": "b", "gen": "3"}),
            pod_body(
                spec=affinity(
                    {
                        "matchExpressions": [
                            {"key": "zone", "operator": "In", "values": ["b"]},
                            {"key": "gen", "operator": "Gt", "values": ["4"]},
                        ]
                    }
                )
            ),
            ("node(s) didn't match Pod's node affinity/selector",),
            id="affinity: requirements are ANDed, Gt",
        ),
        pytest.param(
            node_body("n"),
            pod_body(
                spec=affinity({"matchExpressions": [{"key": "zone", "operator": "DoesNotExist"}]})
            ),
            (),
            id="affinity: DoesNotExist",
        ),
        pytest.param(
            node_body("n"),
            pod_body(
                spec=affinity(
                    {
                        "matchFields": [
                            {"key": "metadata.name", "operator": "NotIn", "values": ["n"]}
                        ]
                    }
                )
            ),
            ("node(s) didn't match Pod's node affinity/selector",),
            id="affinity: matchFields",
        ),
        pytest.param(
            node_body("n", cpu="1", memory="1Gi"),
            pod_body(containers=[container(cpu="2", memory="2Gi")]),
            ("Insufficient cpu", "Insufficient memory"),
            id="both resources short",
        ),
        pytest.param(node_body("n", pods="0"), pod_body(), ("Too many pods",), id="pod count"),
        pytest.param(
            node_body("n", unschedulable=True, labels={"disk": "hdd"}),
            pod_body(spec={"nodeSelector": {"disk": "ssd"}}),
            ("node(s) were unschedulable",),
            id="first rejecting plugin only",
        ),
    ],
)
def test_filters(node: dict[str, Any], pod: dict[str, Any], reasons: tuple[str, ...]) -> None:
    assert filter_node(PodInfo.from_api(pod), state(node)) == reasons


def test_resources_count_bound_pods() -> None:
    node = node_body("n", cpu="2", pods="3")
    bound = [pod_body(f"b{i}", containers=[container(cpu="1")]) for i in range(2)]
    small = PodInfo.from_api(pod_body(containers=[container(cpu="100m")]))
    assert filter_node(small, state(node, *bound)) == ("Insufficient cpu",)
    assert filter_node(PodInfo.from_api(pod_body()), state(node, *bound)) == ()
    three = [*bound, pod_body("b3")]
    assert filter_node(PodInfo.from_api(pod_body()), state(node, *three)) == ("Too many pods",)


@pytest.mark.parametrize(
    ("total", "reasons", "message"),
    [
        (
            3,
            Counter(
                {"node(s) didn't match Pod's node affinity/selector": 2, "Insufficient cpu": 1}
            ),
            "0/3 nodes are available: 1 Insufficient cpu, "
            "2 node(s) didn't match Pod's node affinity/selector.",
        ),
        (
            2,
            Counter({"Insufficient cpu": 2, "Insufficient memory": 1}),
            "0/2 nodes are available: 1 Insufficient memory, 2 Insufficient cpu.",
        ),
        (0, Counter(), "no nodes available to schedule pods"),
    ],
)
def test_unschedulable_message(total: int, reasons: Counter[str], message: str) -> None:
    assert unschedulable_message(total, reasons) == message


def test_schedule_reports_every_node() -> None:
    nodes = [
        state(node_body("a", cpu="1")),
        state(node_body("b", labels={"disk": "hdd"})),
        state(node_body("c", labels={"disk": "hdd"})),
    ]
    pod = PodInfo.from_api(
        pod_body(containers=[container(cpu="2")], spec={"nodeSelector": {"disk": "hdd"}})
    )
    assert schedule(
        pod,
        [*nodes[:1], state(node_body("b", cpu="1", labels={"disk": "hdd"}))],
        rng=random.Random(0),
    ) == Unschedulable(
        "0/2 nodes are available: 1 Insufficient cpu, "
        "1 node(s) didn't match Pod's node affinity/selector."
    )
    assert schedule(pod, nodes, rng=random.Random(0)) in (Bind("b"), Bind("c"))


def test_least_allocated_prefers_the_emptier_node() -> None:
    busy = state(node_body("busy"), pod_body("x", containers=[container(cpu="3", memory="6Gi")]))
    idle = state(node_body("idle"))
    pod = PodInfo.from_api(pod_body(containers=[container(cpu="500m", memory="1Gi")]))
    assert schedule(pod, [busy, idle], rng=random.Random(0)) == Bind("idle")


def test_pods_of_one_owner_spread_over_nodes() -> None:
    rng = random.Random(1)
    states = {n: state(node_body(n)) for n in ("a", "b", "c")}
    placed: Counter[str] = Counter()
    for i in range(9):
        pod = PodInfo.from_api(pod_body(f"r{i}", owner="rs-1"))
        decision = schedule(pod, list(states.values()), rng=rng)
        assert isinstance(decision, Bind)
        states[decision.node] = states[decision.node].with_pod(PodUsage.of(pod))
        placed[decision.node] += 1
    assert placed == Counter({"a": 3, "b": 3, "c": 3})


def test_prefer_no_schedule_avoids_the_node() -> None:
    tainted = state(node_body("t", taints=[{"key": "k", "effect": "PreferNoSchedule"}]))
    clean = state(node_body("c"))
    pod = PodInfo.from_api(pod_body())
    assert {schedule(pod, [tainted, clean], rng=random.Random(s)) for s in range(5)} == {Bind("c")}
