"""The `process` runtime on a real control plane: real processes, probes, hooks, signals,
pod IPs and volumes, mirroring upstream's e2e tests (test/e2e/common/node: container_probe,
lifecycle_hook, expansion, downwardapi, pods) with shell and Python commands instead of
busybox and agnhost.

Runs its own agent (``--role agent --enable-process-runtime``) on SimNodes of its own, so
that the shared cluster's other operators never see these pods. Root only (network
namespaces, bubblewrap).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, watch

from simpod.api.group import GROUP, SIMPOD, VERSION
from simpod.core.runtime import InstanceState, KillContainer, KillReason, StartContainer
from simpod.core.serialize import parse_pod
from simpod.runtimes.process import spawn
from simpod.runtimes.select import RuntimeContext, RuntimeOptions, create_runtime
from tests.e2e.conftest import Cluster, Operator, start_operator
from tests.e2e.simpods import SimPods, condition, container, phase

FIRST_NODE = 41
NODE = f"sim-node-{FIRST_NODE}"
HTTP_SERVER = ["python3", "-m", "http.server", "8080"]
# A main process that exits on TERM: without a handler, PID 1 would ignore it.
TERM_EXITS = ["sh", "-c", "trap 'exit 143' TERM; sleep 600 & wait"]

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("bwrap") or not shutil.which("ip"),
    reason="the process runtime needs root, bubblewrap and iproute2 (apt-get install "
    "bubblewrap iproute2)",
)


@dataclass
class Agent:
    """The test's agent; ``restart`` replaces it (the fixture stops the latest)."""

    cluster: Cluster
    log: Path
    current: Operator

    def start(self) -> Operator:
        return start_operator(
            self.cluster,
            self.log,
            "--role=agent",
            f"--first-node={FIRST_NODE}",
            "--enable-process-runtime",
            nodes=1,
        )

    def restart(self, *, kill: bool) -> None:
        self.current.stop(kill=kill)
        self.current = self.start()


@pytest.fixture(scope="module")
def agent(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agent]:
    log = tmp_path_factory.mktemp("process-agent") / "operator.log"
    holder = Agent(cluster, log, current=None)  # type: ignore[arg-type]
    holder.current = holder.start()
    try:
        yield holder
    finally:
        holder.current.stop()


@pytest.fixture
def pods(cluster: Cluster, agent: Agent, namespace: str) -> Iterator[SimPods]:
    """The test's pods are deleted while its agent still runs, so that their processes,
    namespaces and files go with them."""
    simpods = SimPods(cluster=cluster, operator=agent.current, namespace=namespace)
    yield simpods
    listed = simpods.custom.list_namespaced_custom_object(GROUP, VERSION, namespace, SIMPOD.plural)
    names = [item["metadata"]["name"] for item in listed["items"]]
    for name in names:
        simpods.delete(name)
    for name in names:
        simpods.gone(name, kubelet_seconds=60)


def proc(*containers: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {"runtimeClassName": "process", "nodeName": NODE, "containers": list(containers), **spec}


def ctr(name: str, *command: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "image": "busybox", "command": list(command), **fields}


def ready(obj: dict[str, Any]) -> bool:
    return condition(obj, "Ready").get("status") == "True"


def get(url: str) -> str:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never a proxy
    with opener.open(url, timeout=5) as response:
        return str(response.read().decode())


def terminated(obj: dict[str, Any], name: str) -> dict[str, Any]:
    return dict((container(obj, name).get("state") or {}).get("terminated") or {})


def delete_and_watch(pods: SimPods, name: str, *, wall_seconds: float = 30) -> dict[str, Any]:
    """Delete the pod and return its last version (the final status), watched so that the
    write just before the finalizer goes is not missed."""
    current = pods.get(name)
    assert current is not None
    pods.delete(name)
    stream = watch.Watch().stream(
        pods.custom.list_namespaced_custom_object,
        GROUP,
        VERSION,
        pods.namespace,
        SIMPOD.plural,
        field_selector=f"metadata.name={name}",
        resource_version=current["metadata"]["resourceVersion"],
        timeout_seconds=int(wall_seconds),
    )
    for event in stream:
        current = event["object"]
        if event["type"] == "DELETED":
            break
    else:
        pytest.fail(f"{name} was not deleted within {wall_seconds}s")
    return current


def logs(pods: SimPods, name: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "simpod", "logs", name, "-n", pods.namespace, *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return done.stdout + done.stderr


def test_web_server_and_sidecar_share_a_volume_and_stop_gracefully(pods: SimPods) -> None:
    """The README's "done when": a sidecar fills an emptyDir that a web server serves; Ready
    through httpGet, reachable at the pod IP from the host; deletion runs preStop, then
    TERM (handled by the filler, dropped by the kernel for the server: PID 1 without a
    handler), then KILL at the end of the grace; the exit codes are recorded."""
    volume = [{"name": "html", "mountPath": "/usr/share/nginx/html"}]
    pods.create(
        "web",
        proc(
            ctr(
                "app",
                *HTTP_SERVER,
                "--directory",
                "/usr/share/nginx/html",
                volumeMounts=volume,
                readinessProbe={"httpGet": {"path": "/index.html", "port": 8080}},
                lifecycle={"preStop": {"exec": {"command": ["sh", "-c", "echo bye > /tmp/bye"]}}},
            ),
            ctr(
                "filler",
                "sh",
                "-c",
                'echo "hello from $(hostname)" > /pod-data/index.html; ' + TERM_EXITS[-1],
                volumeMounts=[{"name": "html", "mountPath": "/pod-data"}],
            ),
            volumes=[{"name": "html", "emptyDir": {}}],
            terminationGracePeriodSeconds=30,
        ),
    )
    obj = pods.wait("web", ready, kubelet_seconds=60, what="Ready")
    ip = obj["status"]["podIP"]
    assert ip.startswith(f"10.244.{FIRST_NODE}.")
    assert get(f"http://{ip}:8080/index.html") == "hello from web\n"
    final = delete_and_watch(pods, "web")
    events = [reason for reason, _ in pods.events("web")]
    assert events.count("Killing") == 2
    # The server is PID 1 of its container without a TERM handler: only KILL ends it.
    assert terminated(final, "app").get("exitCode") == 137
    assert terminated(final, "filler").get("exitCode") == 143
    assert phase(final) == "Failed"


def test_init_container_prepares_a_volume_for_the_app(pods: SimPods) -> None:
    """init_container.go: init containers run in order before the app; they share the
    pod's volumes."""
    shared = [{"name": "work", "mountPath": "/work-dir"}]
    pods.create(
        "init",
        proc(
            ctr("app", "cat", "/work-dir/out", volumeMounts=shared),
            initContainers=[
                ctr("first", "sh", "-c", "echo one > /work-dir/out", volumeMounts=shared),
                ctr("second", "sh", "-c", "echo two >> /work-dir/out", volumeMounts=shared),
            ],
            volumes=[{"name": "work", "emptyDir": {}}],
            restartPolicy="Never",
        ),
    )
    pods.wait("init", lambda o: phase(o) == "Succeeded", kubelet_seconds=30, what="Succeeded")
    assert logs(pods, "init", "-c", "app") == "one\ntwo\n"


def test_exec_liveness_probe_restarts_the_container(pods: SimPods) -> None:
    """container_probe.go: "should be restarted with a exec "cat /tmp/health" liveness probe"."""
    pods.create(
        "liveness-exec",
        proc(
            ctr(
                "app",
                "sh",
                "-c",
                "echo ok > /tmp/health; sleep 1; rm -f /tmp/health; sleep 600",
                livenessProbe={
                    "exec": {"command": ["cat", "/tmp/health"]},
                    "periodSeconds": 1,
                    "failureThreshold": 1,
                },
            ),
            terminationGracePeriodSeconds=2,
        ),
    )
    pods.wait(
        "liveness-exec",
        lambda o: container(o, "app").get("restartCount", 0) >= 1,
        kubelet_seconds=60,
        what="a restart",
    )
    unhealthy = [m for r, m in pods.events("liveness-exec") if r == "Unhealthy"]
    assert "Liveness probe failed: cat: /tmp/health: No such file or directory\n" in unhealthy


def test_tcp_and_http_probes(pods: SimPods) -> None:
    """container_probe.go: tcpSocket readiness passes on a listening port; an httpGet
    liveness probe on a path that answers 404 restarts the container."""
    pods.create(
        "probes",
        proc(
            ctr(
                "app",
                *HTTP_SERVER,
                readinessProbe={"tcpSocket": {"port": 8080}, "periodSeconds": 1},
                livenessProbe={
                    "httpGet": {"path": "/missing", "port": 8080},
                    "initialDelaySeconds": 5,
                    "periodSeconds": 1,
                    "failureThreshold": 2,
                },
            ),
            terminationGracePeriodSeconds=2,
        ),
    )
    pods.wait("probes", ready, kubelet_seconds=30, what="Ready")
    pods.wait(
        "probes",
        lambda o: container(o, "app").get("restartCount", 0) >= 1,
        kubelet_seconds=60,
        what="a restart",
    )
    unhealthy = [m for r, m in pods.events("probes") if r == "Unhealthy"]
    assert "Liveness probe failed: HTTP probe failed with statuscode: 404" in unhealthy


def test_tcp_probe_message_on_a_closed_port(pods: SimPods) -> None:
    pods.create(
        "closed",
        proc(ctr("app", "sleep", "600", readinessProbe={"tcpSocket": {"port": 9999}})),
    )
    obj = pods.wait(
        "closed",
        lambda o: any(r == "Unhealthy" for r, _ in pods.events("closed")),
        kubelet_seconds=30,
        what="an Unhealthy event",
    )
    ip = obj["status"]["podIP"]
    messages = [m for r, m in pods.events("closed") if r == "Unhealthy"]
    assert f"Readiness probe failed: dial tcp {ip}:9999: connect: connection refused" in messages


def test_handled_term_exits_143_and_unhandled_term_is_killed_137(pods: SimPods) -> None:
    """pods.go / runtime: a main process that exits on TERM reports 128 + 15; one that
    ignores TERM, or has no handler (PID 1 of its container: the kernel drops the signal),
    is KILLed when the grace ends (128 + 9)."""
    pods.create(
        "signals",
        proc(
            ctr("handled", *TERM_EXITS),
            ctr("stubborn", "sh", "-c", "trap '' TERM; sleep 600"),
            ctr("plain", "sleep", "600"),
            terminationGracePeriodSeconds=20,
        ),
    )
    pods.wait("signals", lambda o: phase(o) == "Running", kubelet_seconds=30, what="Running")
    started = time.monotonic()
    last = delete_and_watch(pods, "signals")
    assert terminated(last, "handled").get("exitCode") == 143
    assert terminated(last, "stubborn").get("exitCode") == 137
    assert terminated(last, "plain").get("exitCode") == 137
    assert time.monotonic() - started >= 20 / 10 - 0.5  # the grace, scaled


def test_env_downward_api_config_maps_secrets_and_expansion(pods: SimPods) -> None:
    """expansion.go and downwardapi.go: fieldRef, configMapKeyRef, secretKeyRef, envFrom
    with a prefix, $(VAR) in env and args; a missing ConfigMap holds the container in
    CreateContainerConfigError until it exists."""
    core = client.CoreV1Api(pods.cluster.api)
    core.create_namespaced_secret(
        pods.namespace,
        client.V1Secret(metadata=client.V1ObjectMeta(name="creds"), string_data={"pw": "s3cr3t"}),
    )
    script = 'echo "name=$POD_NAME ns=$POD_NS ip=$POD_IP node=$NODE pw=$PW color=$CFG_color"'
    pods.create(
        "env",
        proc(
            ctr(
                "app",
                "sh",
                "-c",
                script + '; echo "composed=$COMPOSED"',
                env=[
                    {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                    {
                        "name": "POD_NS",
                        "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}},
                    },
                    {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                    {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
                    {
                        "name": "PW",
                        "valueFrom": {"secretKeyRef": {"name": "creds", "key": "pw"}},
                    },
                    {"name": "COMPOSED", "value": "$(POD_NAME)-$(NODE)-$$(POD_NAME)"},
                ],
                envFrom=[{"configMapRef": {"name": "settings"}, "prefix": "CFG_"}],
            ),
            restartPolicy="Never",
        ),
    )
    obj = pods.wait(
        "env",
        lambda o: (
            (container(o, "app").get("state") or {}).get("waiting", {}).get("reason")
            == "CreateContainerConfigError"
        ),
        kubelet_seconds=30,
        what="CreateContainerConfigError",
    )
    assert container(obj, "app")["state"]["waiting"]["message"] == 'configmap "settings" not found'
    assert phase(obj) == "Pending"
    core.create_namespaced_config_map(
        pods.namespace,
        client.V1ConfigMap(metadata=client.V1ObjectMeta(name="settings"), data={"color": "blue"}),
    )
    obj = pods.wait("env", lambda o: phase(o) == "Succeeded", kubelet_seconds=60, what="done")
    ip = obj["status"]["podIP"]
    expected = (
        f"name=env ns={pods.namespace} ip={ip} node={NODE} pw=s3cr3t color=blue\n"
        f"composed=env-{NODE}-$(POD_NAME)\n"
    )
    assert logs(pods, "env") == expected


def test_two_pods_listen_on_the_same_port(pods: SimPods) -> None:
    for name in ("one", "two"):
        pods.create(
            name,
            proc(
                ctr(
                    "app",
                    "sh",
                    "-c",
                    f"cd /tmp && echo {name} > who && exec " + " ".join(HTTP_SERVER),
                    readinessProbe={"httpGet": {"path": "/who", "port": 8080}, "periodSeconds": 1},
                )
            ),
        )
    for name in ("one", "two"):
        obj = pods.wait(name, ready, kubelet_seconds=30, what="Ready")
        assert get(f"http://{obj['status']['podIP']}:8080/who") == f"{name}\n"


def test_post_start_and_pre_stop_http_hooks_reach_a_handler_pod(pods: SimPods) -> None:
    """lifecycle_hook.go: a handler pod records the hooks' requests."""
    pods.create(
        "handler", proc(ctr("server", *HTTP_SERVER, readinessProbe={"tcpSocket": {"port": 8080}}))
    )
    handler_ip = pods.wait("handler", ready, kubelet_seconds=30, what="Ready")["status"]["podIP"]

    def hook(msg: str) -> dict[str, Any]:
        return {"httpGet": {"host": handler_ip, "port": 8080, "path": f"/echo?msg={msg}"}}

    pods.create(
        "hooked",
        proc(
            ctr(
                "app",
                "sleep",
                "600",
                lifecycle={"postStart": hook("poststart"), "preStop": hook("prestop")},
            ),
            terminationGracePeriodSeconds=5,
        ),
    )
    pods.wait("hooked", ready, kubelet_seconds=30, what="Ready")
    assert "GET /echo?msg=poststart" in logs(pods, "handler")
    pods.delete("hooked")
    pods.gone("hooked", kubelet_seconds=30)
    assert "GET /echo?msg=prestop" in logs(pods, "handler")


def test_failing_exec_post_start_hook_kills_the_container(pods: SimPods) -> None:
    pods.create(
        "badhook",
        proc(
            ctr(
                "app",
                "sleep",
                "600",
                lifecycle={"postStart": {"exec": {"command": ["sh", "-c", "echo nope; exit 3"]}}},
            ),
            restartPolicy="Never",
            terminationGracePeriodSeconds=2,
        ),
    )
    pods.wait("badhook", lambda o: phase(o) == "Failed", kubelet_seconds=30, what="Failed")
    failed = [m for r, m in pods.events("badhook") if r == "FailedPostStartHook"]
    assert len(failed) == 1
    # kubelet 1.35 keeps the hook's output out of the Event (it may hold secrets)
    assert failed[0] == "PostStartHook failed"


def test_containers_survive_an_agent_restart(pods: SimPods, agent: Agent) -> None:
    """The agent is killed (SIGKILL) and started again: the container is the same process,
    and stopping it afterwards still records its exit code."""
    pods.create("survivor", proc(ctr("app", *TERM_EXITS), terminationGracePeriodSeconds=5))
    obj = pods.wait("survivor", lambda o: phase(o) == "Running", kubelet_seconds=30, what="Running")
    started = container(obj, "app")["state"]["running"]["startedAt"]
    pid = obj["status"]["sim"]["runtime"]["app"]["child"]
    agent.restart(kill=True)
    assert os.path.exists(f"/proc/{pid}")
    last = delete_and_watch(pods, "survivor")
    assert terminated(last, "app").get("exitCode") == 143
    assert terminated(last, "app").get("startedAt") == started
    assert container(last, "app").get("restartCount") == 0
    assert not os.path.exists(f"/proc/{pid}")


def test_a_container_stopped_before_its_command_runs_is_killed_unrun(tmp_path: Path) -> None:
    """A container is made at once and its command held until the start the kubelet's
    sync set (runc's create, then start). Stopped while held (a deletion right after the
    start), it is killed as it is: exit 137, its command never ran, no process left."""
    marker = tmp_path / "ran"
    tmp_path.chmod(0o777)
    body = {
        "metadata": {"name": "held", "namespace": "default", "uid": "held-1234"},
        "spec": {
            "runtimeClassName": "process",
            "containers": [{"name": "c", "command": ["sh", "-c", f"touch {marker}; sleep 60"]}],
        },
    }
    pod = parse_pod(body)
    c = pod.spec.containers[0]

    async def scenario() -> None:
        context = RuntimeContext(
            pod_ip="10.244.250.2",
            pod_cidr="10.244.250.0/24",
            restore={},
            notify=lambda: None,
            options=RuntimeOptions(enable_process=True, allow_privileged=True),
        )
        runtime = await create_runtime(body, context)
        try:
            now = time.time()
            await runtime.apply(pod, StartContainer(c, 0, False, starts_at=now + 30), now)
            await asyncio.sleep(0.5)  # made: its monitor runs, its command waits
            inst = runtime.instances(pod, time.time())["c"]
            assert inst.state is InstanceState.CREATED and inst.started_at is None
            kill = KillContainer(c, 0, 30, KillReason.POD_TERMINATION)
            await runtime.apply(pod, kill, time.time())
            for _ in range(100):
                inst = runtime.instances(pod, time.time())["c"]
                if inst.state is InstanceState.EXITED:
                    break
                await asyncio.sleep(0.05)
            assert (inst.state, inst.exit_code, inst.started_at) == (
                InstanceState.EXITED,
                137,
                None,
            )
            pid = runtime.state()["c"]["pid"]
            await asyncio.sleep(0.3)
            assert spawn.start_time(pid) is None  # killed and reaped
            assert not marker.exists()
        finally:
            await runtime.release()

    asyncio.run(scenario())
