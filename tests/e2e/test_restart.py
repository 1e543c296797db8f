"""Operator restarts lose nothing: everything the kubelet would remember is in the status.

kill -9 of the agent while one pod is mid-init, one is in CrashLoopBackOff and one is
mid-grace; after the restart each continues from its status: no extra restart, counts
kept, backoff and grace deadlines honoured. (The kubelet's own restart tests in
test/e2e_node/restart_test.go check the same promise for a real node.)
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import Cluster, start_operator
from tests.e2e.simpods import SimPods, container, phase

NODE = "sim-node-9"  # served by this test's own agent only
SCALE = 10.0


AGENT_ARGS = ("--role=agent", "--first-node=9")


@pytest.fixture
def own(cluster: Cluster, namespace: str, tmp_path: Path) -> Iterator[tuple[SimPods, Path]]:
    log = tmp_path / "agent.log"
    agent = start_operator(cluster, log, *AGENT_ARGS, nodes=1)
    try:
        yield SimPods(cluster=cluster, operator=agent, namespace=namespace), log
    finally:
        for line in log.read_text().splitlines():
            if line.startswith("PID "):
                _stop_pid(int(line.split()[1]))
        agent.stop()


def _stop_pid(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)


def _restart(pods: SimPods, log: Path) -> SimPods:
    """kill -9 the agent and start another; its PID is noted in the log for the cleanup."""
    pods.operator.stop(kill=True)
    agent = start_operator(pods.cluster, log, *AGENT_ARGS, nodes=1)
    with log.open("a") as out:
        out.write(f"PID {agent.process.pid}\n")
    return SimPods(cluster=pods.cluster, operator=agent, namespace=pods.namespace)


def _restarts(obj: dict, name: str, *, init: bool = False) -> int:
    return int(container(obj, name, init=init).get("restartCount", 0))


def test_kill_9_mid_init_crashloop_and_grace(own: tuple[SimPods, Path]) -> None:
    pods, log = own
    app = {"name": "app", "image": "busybox"}
    pods.create(
        "mid-init",
        {
            "nodeName": NODE,
            "initContainers": [{"name": "init", "image": "busybox", "sim": {"runSeconds": 60}}],
            "containers": [app],
        },
    )
    pods.create(
        "crashloop",
        {"nodeName": NODE, "containers": [{**app, "sim": {"runSeconds": 0, "exitCode": 1}}]},
    )
    pods.create(
        "mid-grace",
        {
            "nodeName": NODE,
            "terminationGracePeriodSeconds": 60,
            "containers": [{**app, "sim": {"onTerm": {"ignore": True}}}],
        },
    )
    pods.wait("mid-grace", lambda p: phase(p) == "Running", kubelet_seconds=10)
    crashing = pods.wait(
        "crashloop", lambda p: _restarts(p, "app") >= 3, kubelet_seconds=120, what="3 restarts"
    )
    count = _restarts(crashing, "app")
    pods.delete("mid-grace")
    deleted_at = time.monotonic()
    init_before = pods.get("mid-init")
    assert init_before is not None and phase(init_before) == "Pending"

    pods = _restart(pods, log)

    # crash loop: the count is kept and the backoff (>= 40 s kubelet) is not cut short
    after = pods.get("crashloop")
    assert after is not None and _restarts(after, "app") in (count, count + 1)
    assert container(after, "app")["state"].get("waiting", {}).get("reason") in (
        "CrashLoopBackOff",
        None,
    )
    # grace: the deadline set before the crash holds: gone ~60 s kubelet after the delete
    pods.gone("mid-grace", kubelet_seconds=90)
    grace_wall = time.monotonic() - deleted_at
    assert 60 / SCALE - 1 <= grace_wall <= 60 / SCALE + 4, grace_wall
    # init: not restarted, finishes on its original schedule, then the app runs
    done = pods.wait("mid-init", lambda p: phase(p) == "Running", kubelet_seconds=90)
    assert _restarts(done, "init", init=True) == 0
    assert container(done, "init", init=True)["state"]["terminated"]["exitCode"] == 0
    final = pods.get("crashloop")
    assert final is not None and _restarts(final, "app") >= count


def test_operator_alone_is_idle_for_terminal_pods(own: tuple[SimPods, Path]) -> None:
    """A finished pod keeps its status across a restart (no rewrite, no restart)."""
    pods, log = own
    pods.create(
        "done",
        {
            "nodeName": NODE,
            "restartPolicy": "Never",
            "containers": [{"name": "app", "image": "busybox", "sim": {"runSeconds": 1}}],
        },
    )
    before = pods.wait("done", lambda p: phase(p) == "Succeeded", kubelet_seconds=20)
    pods = _restart(pods, log)
    time.sleep(1.0)
    after = pods.get("done")
    assert after is not None
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
