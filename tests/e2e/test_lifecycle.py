"""The kubelet's behaviour on the simulated runtime, each case after an upstream e2e test
(test/e2e/common/node/{init_container,container_probe,runtime,pods,lifecycle_hook}.go and
test/e2e_node/container_lifecycle_test.go): same scenario, same expected values."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from tests.e2e.simpods import SimPods, condition, container, display, phase

APP = {"name": "app", "image": "busybox"}


def _exited(obj: dict, name: str, *, init: bool = False) -> dict:
    return container(obj, name, init=init).get("state", {}).get("terminated") or {}


# init_container.go: "should invoke init containers on a RestartNever pod"
def test_init_containers_run_in_order_on_restart_never_pod(simpods: SimPods) -> None:
    simpods.create(
        "init-never",
        {
            "restartPolicy": "Never",
            "initContainers": [
                {"name": "init1", "image": "busybox", "sim": {"runSeconds": 1}},
                {"name": "init2", "image": "busybox", "sim": {"runSeconds": 1}},
            ],
            "containers": [{**APP, "sim": {"runSeconds": 1}}],
        },
    )
    pod = simpods.wait("init-never", lambda p: phase(p) == "Succeeded", kubelet_seconds=30)
    init1, init2 = _exited(pod, "init1", init=True), _exited(pod, "init2", init=True)
    assert init1["reason"] == init2["reason"] == "Completed"
    assert init1["finishedAt"] <= init2["startedAt"]
    assert init2["finishedAt"] <= _exited(pod, "app")["startedAt"]
    assert condition(pod, "Initialized")["status"] == "True"
    assert display(pod) == "Completed"


# init_container.go: "should not start app containers if init containers fail on a
# RestartAlways pod"
def test_failing_init_container_restarts_and_blocks_app_on_restart_always_pod(
    simpods: SimPods,
) -> None:
    simpods.create(
        "init-fail-always",
        {
            "initContainers": [
                {"name": "init1", "image": "busybox", "sim": {"runSeconds": 0, "exitCode": 1}},
                {"name": "init2", "image": "busybox"},
            ],
            "containers": [APP],
        },
    )
    pod = simpods.wait(
        "init-fail-always",
        lambda p: container(p, "init1", init=True).get("restartCount", 0) >= 3,
        kubelet_seconds=60,
        what="three init restarts",
    )
    assert phase(pod) == "Pending"
    assert container(pod, "init2", init=True)["state"] == {"waiting": {"reason": "PodInitializing"}}
    assert container(pod, "app")["state"]["waiting"]["reason"] == "PodInitializing"
    initialized = condition(pod, "Initialized")
    assert initialized["status"] == "False"
    assert initialized["reason"] == "ContainersNotInitialized"
    assert initialized["message"] == "containers with incomplete status: [init1 init2]"
    # running again (kubectl: Init:0/2), or its exit seen at the next relist tick
    assert display(pod) in {"Init:0/2", "Init:Error", "Init:CrashLoopBackOff"}


# init_container.go: "should not start app containers and fail the pod if init containers
# fail on a RestartNever pod"
def test_failing_init_container_fails_restart_never_pod(simpods: SimPods) -> None:
    simpods.create(
        "init-fail-never",
        {
            "restartPolicy": "Never",
            "initContainers": [
                {"name": "init1", "image": "busybox", "sim": {"runSeconds": 0, "exitCode": 1}},
            ],
            "containers": [APP],
        },
    )
    pod = simpods.wait("init-fail-never", lambda p: phase(p) == "Failed", kubelet_seconds=30)
    assert _exited(pod, "init1", init=True)["exitCode"] == 1
    assert container(pod, "app")["state"]["waiting"]["reason"] == "PodInitializing"
    assert condition(pod, "Initialized")["reason"] == "ContainersNotInitialized"
    assert display(pod) == "Init:Error"


# runtime.go: "should run with the expected status": the container exits 1, then 0, then
# runs forever (upstream counts its runs in a file on a volume; here: per-attempt scripts)
@pytest.mark.parametrize(
    ("policy", "expected_phase", "state", "restart_count", "ready"),
    [
        ("Always", "Running", "running", 2, True),
        ("OnFailure", "Succeeded", "terminated", 1, False),
        ("Never", "Failed", "terminated", 0, False),
    ],
)
def test_restart_policy_expected_status(
    simpods: SimPods,
    *,
    policy: str,
    expected_phase: str,
    state: str,
    restart_count: int,
    ready: bool,
) -> None:
    name = f"terminate-cmd-{policy.lower()}"
    script = {"attempts": [{"runSeconds": 1, "exitCode": 1}, {"runSeconds": 1, "exitCode": 0}]}
    simpods.create(name, {"restartPolicy": policy, "containers": [{**APP, "sim": script}]})
    pod = simpods.wait(
        name,
        lambda p: (
            phase(p) == expected_phase
            and container(p, "app").get("restartCount") == restart_count
            and state in container(p, "app").get("state", {})
        ),
        kubelet_seconds=60,
        what=f"{expected_phase} with {restart_count} restarts",
    )
    assert container(pod, "app")["ready"] is ready
    if state == "terminated":
        assert condition(pod, "Ready")["reason"] == (
            "PodCompleted" if expected_phase == "Succeeded" else "PodFailed"
        )


# pods.go: "should get a host IP" and pod IP from the node's podCIDR
def test_pod_gets_host_ip_pod_ip_and_start_time(simpods: SimPods) -> None:
    simpods.create("ips", {"containers": [APP]})
    pod = simpods.wait("ips", lambda p: phase(p) == "Running", kubelet_seconds=10)
    status = pod["status"]
    assert status["hostIP"] == "172.30.0.1"
    assert status["podIP"].startswith("10.244.1.")
    assert status["startTime"]
    assert container(pod, "app")["ready"] is True
    assert container(pod, "app")["started"] is True
    assert condition(pod, "Ready")["status"] == "True"
    assert pod["status"]["display"]["ready"] == "1/1"


# container_probe.go: "with readiness probe should not be ready before initial delay and
# never restart"
def test_readiness_probe_initial_delay(simpods: SimPods) -> None:
    probe = {
        "exec": {"command": ["cat", "/tmp/ready"]},
        "initialDelaySeconds": 20,
        "periodSeconds": 1,
    }
    simpods.create("ready-delay", {"containers": [{**APP, "readinessProbe": probe}]})
    running = simpods.wait("ready-delay", lambda p: phase(p) == "Running", kubelet_seconds=10)
    assert container(running, "app")["ready"] is False
    ready = simpods.wait(
        "ready-delay", lambda p: container(p, "app").get("ready") is True, kubelet_seconds=40
    )
    started = container(ready, "app")["state"]["running"]["startedAt"]
    became_ready = condition(ready, "Ready")["lastTransitionTime"]
    assert became_ready >= started
    assert container(ready, "app")["restartCount"] == 0


# container_probe.go: "should be restarted with a exec "cat /tmp/health" liveness probe"
def test_liveness_probe_failure_restarts_container(simpods: SimPods) -> None:
    probe = {
        "exec": {"command": ["cat", "/tmp/health"]},
        "initialDelaySeconds": 15,
        "failureThreshold": 1,
    }
    simpods.create(
        "liveness",
        {
            "containers": [
                {
                    **APP,
                    "livenessProbe": probe,
                    "sim": {
                        "probes": {"liveness": {"failAfterSeconds": 10}},
                        "attempts": [{}, {"probes": {}}],
                    },
                }
            ]
        },
    )
    pod = simpods.wait(
        "liveness",
        lambda p: container(p, "app").get("restartCount") == 1,
        kubelet_seconds=60,
        what="one restart",
    )
    last = container(pod, "app")["lastState"]["terminated"]
    assert last["exitCode"] == 143
    events = simpods.wait_events("liveness", "Unhealthy", "Killing")
    kill = next(m for r, m in events if r == "Killing")
    assert kill == "Container app failed liveness probe, will be restarted"


# pods.go: "should cap back-off at MaxContainerBackOff" (shortened): the wait message
def test_crash_loop_backoff_state_and_event(simpods: SimPods) -> None:
    """As kubelet 1.35: the restart refused by the back-off leaves the container terminated
    (STATUS Error) with a BackOff Event; CrashLoopBackOff shows only from the pod's next
    sync, at the back-off's end, for one relist before the restart shows."""
    simpods.create("crashloop", {"containers": [{**APP, "sim": {"runSeconds": 0, "exitCode": 2}}]})
    simpods.wait_events("crashloop", "BackOff")
    pod = simpods.wait(
        "crashloop",
        lambda p: (
            container(p, "app").get("restartCount", 0) >= 1
            and container(p, "app").get("state", {}).get("terminated", {}).get("exitCode") == 2
        ),
        kubelet_seconds=30,
    )
    assert phase(pod) == "Running"
    assert display(pod) == "Error"


# pods.go: "should be submitted and removed" + graceful deletion with a slow TERM handler
def test_graceful_deletion_waits_for_the_container(simpods: SimPods) -> None:
    simpods.create(
        "graceful",
        {
            "terminationGracePeriodSeconds": 30,
            "containers": [{**APP, "sim": {"onTerm": {"exitAfterSeconds": 10, "exitCode": 0}}}],
        },
    )
    simpods.wait("graceful", lambda p: phase(p) == "Running", kubelet_seconds=10)
    simpods.delete("graceful")
    terminating = simpods.wait(
        "graceful", lambda p: display(p) == "Terminating", kubelet_seconds=5, what="Terminating"
    )
    assert terminating["metadata"]["deletionTimestamp"]
    simpods.gone("graceful", kubelet_seconds=30)
    reasons = [r for r, _ in simpods.events("graceful")]
    assert "Killing" in reasons


# lifecycle_hook.go: "should execute prestop exec hook properly" + a TERM-ignoring process
# is KILLed when the grace runs out (exit code 137)
def test_term_ignored_until_kill(simpods: SimPods) -> None:
    simpods.create(
        "ignores-term",
        {
            "restartPolicy": "Never",
            "terminationGracePeriodSeconds": 20,
            "activeDeadlineSeconds": 10,
            "containers": [{**APP, "sim": {"onTerm": {"ignore": True}}}],
        },
    )
    pod = simpods.wait(
        "ignores-term", lambda p: phase(p) == "Failed", kubelet_seconds=60, what="Failed"
    )
    assert _exited(pod, "app")["exitCode"] == 137
    assert phase(pod) == "Failed"
    assert pod["status"]["reason"] == "DeadlineExceeded"
    assert (
        pod["status"]["message"] == "Pod was active on the node longer than the specified deadline"
    )


# lifecycle_hook.go: "should execute poststart exec hook properly" (failing variant)
def test_failed_post_start_hook_kills_container(simpods: SimPods) -> None:
    simpods.create(
        "poststart",
        {
            "restartPolicy": "Never",
            "containers": [
                {
                    **APP,
                    "lifecycle": {"postStart": {"exec": {"command": ["false"]}}},
                    "sim": {"postStart": {"seconds": 1, "succeed": False}},
                }
            ],
        },
    )
    pod = simpods.wait("poststart", lambda p: phase(p) == "Failed", kubelet_seconds=40)
    assert _exited(pod, "app")
    simpods.wait_events("poststart", "FailedPostStartHook")


# container_lifecycle_test.go (native sidecars): a sidecar starts before the app, keeps
# running, and does not block completion
def test_native_sidecar_does_not_block_completion(simpods: SimPods) -> None:
    simpods.create(
        "sidecar",
        {
            "restartPolicy": "Never",
            "initContainers": [{"name": "sidecar", "image": "busybox", "restartPolicy": "Always"}],
            "containers": [{**APP, "sim": {"runSeconds": 2}}],
        },
    )
    pod = simpods.wait("sidecar", lambda p: phase(p) == "Succeeded", kubelet_seconds=40)
    side = container(pod, "sidecar", init=True)
    assert side["state"]["terminated"]["startedAt"] <= _exited(pod, "app")["startedAt"]


def _simpod_cli(simpods: SimPods, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, KUBECONFIG=str(simpods.cluster.kubeconfig))
    return subprocess.run(
        [sys.executable, "-m", "simpod", *args, "-n", simpods.namespace],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


# pods.go "should be submitted and removed" with a grace override: `kubectl delete
# --grace-period=5` on a process that ignores TERM ends in KILL (137) after those 5 s,
# not after the spec's 300 s
def test_grace_period_override_shortens_termination(simpods: SimPods) -> None:
    simpods.create(
        "override",
        {
            "terminationGracePeriodSeconds": 300,
            "containers": [{**APP, "sim": {"onTerm": {"ignore": True}}}],
        },
    )
    simpods.wait("override", lambda p: phase(p) == "Running", kubelet_seconds=10)
    started = time.monotonic()
    _simpod_cli(simpods, "delete", "override", "--grace-period=5")
    elapsed_kubelet = (time.monotonic() - started) * simpods.operator.time_scale
    assert elapsed_kubelet < 100, "the 300 s spec grace was used instead of the override"


# Force deletion: the object goes at once (no finalizer wait), whatever the grace
def test_force_delete_removes_the_object_at_once(simpods: SimPods) -> None:
    simpods.create(
        "forced",
        {
            "terminationGracePeriodSeconds": 3000,
            "containers": [{**APP, "sim": {"onTerm": {"ignore": True}}}],
        },
    )
    simpods.wait("forced", lambda p: phase(p) == "Running", kubelet_seconds=10)
    result = _simpod_cli(simpods, "delete", "forced", "--force")
    assert '"forced" deleted' in result.stdout
    assert simpods.get("forced") is None


# container_probe.go: "should be restarted by liveness probe after startup probe enables it"
# / "should be restarted startup probe fails": a startup probe that never passes kills the
# container after failureThreshold checks; liveness never ran meanwhile
def test_failing_startup_probe_restarts_container(simpods: SimPods) -> None:
    startup = {"exec": {"command": ["cat", "/tmp/startup"]}, "periodSeconds": 2}
    liveness = {"exec": {"command": ["cat", "/tmp/health"]}, "periodSeconds": 1}
    simpods.create(
        "startup-fails",
        {
            "containers": [
                {
                    **APP,
                    "startupProbe": {**startup, "failureThreshold": 3},
                    "livenessProbe": liveness,
                    "sim": {"probes": {"startup": {"passAfterSeconds": 1000}}},
                }
            ]
        },
    )
    pod = simpods.wait(
        "startup-fails",
        lambda p: container(p, "app").get("restartCount", 0) >= 1,
        kubelet_seconds=60,
        what="a restart",
    )
    assert container(pod, "app")["started"] is False
    events = simpods.wait_events("startup-fails", "Killing")
    assert ("Killing", "Container app failed startup probe, will be restarted") in events
    assert not any(m.startswith("Liveness probe failed") for _, m in events)


# Deletion: the kubelet keeps running readiness probes and does not force Ready False
# while a pod terminates (pods.go "should mark readiness on pods to false while pod is in
# progress of terminating" checks the probe's own answer, not a forced flip)
def test_ready_stays_true_while_terminating_with_a_passing_probe(simpods: SimPods) -> None:
    probe = {"exec": {"command": ["true"]}, "periodSeconds": 1}
    simpods.create(
        "ready-terminating",
        {
            "terminationGracePeriodSeconds": 60,
            "containers": [{**APP, "readinessProbe": probe, "sim": {"onTerm": {"ignore": True}}}],
        },
    )
    simpods.wait(
        "ready-terminating",
        lambda p: condition(p, "Ready").get("status") == "True",
        kubelet_seconds=20,
    )
    simpods.delete("ready-terminating")
    terminating = simpods.wait(
        "ready-terminating", lambda p: display(p) == "Terminating", kubelet_seconds=10
    )
    time.sleep(20 / simpods.operator.time_scale)  # several probe periods into the grace
    now = simpods.get("ready-terminating")
    assert now is not None and terminating["metadata"]["deletionTimestamp"]
    assert condition(now, "Ready")["status"] == "True"
    assert display(now) == "Terminating"


# Init container image change restarts the pod: every container is stopped and the init
# containers run again in order before the app containers (pod-lifecycle.md §5)
def test_init_container_image_change_restarts_the_pod(simpods: SimPods) -> None:
    simpods.create(
        "init-image",
        {
            "initContainers": [{"name": "init", "image": "busybox:1", "sim": {"runSeconds": 1}}],
            "containers": [APP],
        },
    )
    first = simpods.wait("init-image", lambda p: phase(p) == "Running", kubelet_seconds=20)
    first_init = _exited(first, "init", init=True)["startedAt"]
    time.sleep(1.1)  # timestamps are whole seconds
    change = '[{"op": "replace", "path": "/spec/initContainers/0/image", "value": "busybox:2"}]'
    simpods.cluster.kubectl(
        "patch", "simpod", "init-image", "-n", simpods.namespace, "--type=json", "-p", change
    )
    again = simpods.wait(
        "init-image",
        lambda p: (
            phase(p) == "Running"
            and _exited(p, "init", init=True).get("startedAt", "") > first_init
            and "running" in container(p, "app").get("state", {})
        ),
        kubelet_seconds=60,
        what="init ran again, then the app",
    )
    assert container(again, "init", init=True)["image"] == "busybox:2"
    assert _exited(again, "init", init=True)["exitCode"] == 0


# Pods not yet scheduled are deleted at once (nothing runs anywhere)
def test_unscheduled_pod_is_deleted_at_once(simpods: SimPods) -> None:
    simpods.create(
        "unschedulable",
        {"nodeName": None, "nodeSelector": {"no-such-label": "x"}, "containers": [APP]},
    )
    simpods.delete("unschedulable")
    simpods.gone("unschedulable", kubelet_seconds=0)


# lifecycle_hook.go: a failing preStop hook is reported (FailedPreStopHook) and the
# termination goes on
def test_failed_pre_stop_hook_is_reported_and_termination_goes_on(simpods: SimPods) -> None:
    simpods.create(
        "prestop-fails",
        {
            "containers": [
                {
                    **APP,
                    "lifecycle": {"preStop": {"exec": {"command": ["false"]}}},
                    "sim": {"preStop": {"seconds": 1, "succeed": False}},
                }
            ]
        },
    )
    simpods.wait("prestop-fails", lambda p: phase(p) == "Running", kubelet_seconds=10)
    simpods.delete("prestop-fails")
    simpods.gone("prestop-fails", kubelet_seconds=40)
    reasons = [r for r, _ in simpods.events("prestop-fails")]
    assert "FailedPreStopHook" in reasons
    assert "Killing" in reasons


# `kubectl wait --for=condition=Ready simpod/x` works as for pods
def test_kubectl_wait_for_ready(simpods: SimPods) -> None:
    simpods.create("waited", {"containers": [{**APP, "sim": {"startDelaySeconds": 5}}]})
    result = simpods.cluster.kubectl(
        "wait", "--for=condition=Ready", "simpod/waited", "-n", simpods.namespace, "--timeout=30s"
    )
    assert "condition met" in result.stdout
