"""E2E fixtures: one real control plane per test session, one namespace per test.

By default the embedded control plane is started (or reused if already up) and stopped at
the end if this session started it. ``SIMPOD_E2E_CLUSTER=current`` uses the current
kubeconfig's cluster instead (CRDs must be installed there).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config

from simpod.cluster import controlplane
from simpod.cluster.install import apply_crds
from simpod.cluster.paths import layout

# Kubelet time runs this many times faster in e2e tests (lifecycle waits are divided by it).
TIME_SCALE = 10.0
NODES = 3


@dataclass(frozen=True)
class Cluster:
    kubeconfig: Path
    api: client.ApiClient

    def kubectl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        binary = layout().binary("kubectl")
        kubectl = str(binary) if binary.is_file() else "kubectl"
        return subprocess.run(
            [kubectl, f"--kubeconfig={self.kubeconfig}", *args],
            capture_output=True,
            text=True,
            check=check,
            timeout=60,
        )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e" in str(item.path):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    started_here = False
    if os.environ.get("SIMPOD_E2E_CLUSTER") == "current":
        kubeconfig = Path(os.environ.get("KUBECONFIG", Path.home() / ".kube" / "config"))
        apply_crds(kubeconfig)
    else:
        result = controlplane.up(layout(), unsafe_no_fsync=True)
        kubeconfig = result.kubeconfig
        started_here = not result.already_running
    api = config.new_client_from_config(config_file=str(kubeconfig))
    try:
        yield Cluster(kubeconfig=kubeconfig, api=api)
    finally:
        api.close()
        if started_here and not os.environ.get("SIMPOD_E2E_KEEP_CLUSTER"):
            controlplane.down(layout())


@pytest.fixture
def namespace(cluster: Cluster) -> Iterator[str]:
    name = f"e2e-{uuid.uuid4().hex[:8]}"
    core = client.CoreV1Api(cluster.api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    try:
        yield name
    finally:
        core.delete_namespace(name, propagation_policy="Background")


@dataclass(frozen=True)
class Operator:
    """An operator under test, a ``simpod run`` subprocess; ``log`` holds its output."""

    time_scale: float
    log: Path
    process: subprocess.Popen[bytes]

    def stop(self, *, kill: bool = False) -> None:
        """Stop it cleanly (TERM, as at a rollout) or crash it (``kill``: SIGKILL)."""
        if kill:
            self.process.kill()
        else:
            self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


READY_LINE = "serving SimNodes"


def start_operator(
    cluster: Cluster,
    log: Path,
    *args: str,
    nodes: int = NODES,
    time_scale: float = TIME_SCALE,
) -> Operator:
    """``simpod run --nodes N --time-scale X ARGS``, returned once its agent serves nodes."""
    env = dict(os.environ, KUBECONFIG=str(cluster.kubeconfig))
    command = [sys.executable, "-m", "simpod", "run", f"--nodes={nodes}"]
    command += [f"--time-scale={time_scale}", *args]
    offset = log.stat().st_size if log.exists() else 0
    with log.open("ab") as out:
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    operator = Operator(time_scale=time_scale, log=log, process=proc)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"operator exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
        if READY_LINE in log.read_text(errors="replace")[offset:]:
            return operator
        time.sleep(0.2)
    operator.stop()
    pytest.fail(f"operator did not start within 60s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def operator(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Operator]:
    """One operator for the session with every role, ``NODES`` SimNodes and ``TIME_SCALE``."""
    log = tmp_path_factory.mktemp("operator") / "operator.log"
    running = start_operator(cluster, log)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def simpods(cluster: Cluster, operator: Operator, namespace: str) -> Any:
    from tests.e2e.simpods import SimPods  # noqa: PLC0415 - it imports this module

    return SimPods(cluster=cluster, operator=operator, namespace=namespace)
