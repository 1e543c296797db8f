"""A real node for the embedded control plane: kubelet, kube-scheduler and containerd.

``simpod cluster up --with-node`` joins one real kubelet to the control plane, so real Pods
run on this machine beside the simulated SimPods and the two can be compared. It is set up
like a kubeadm node, but on addresses private to this machine and entirely under
``$SIMPOD_HOME/cluster/node``: a client certificate from the local CA
(``system:node:<name>`` in ``system:nodes``, which the Node authorizer and NodeRestriction
expect), the cgroupfs driver, a private containerd, locally built images and a bridge
network that leads nowhere off the machine. ``down``
removes the pods' sandboxes through the CRI (which tears down their network namespaces),
then the processes, mounts, cgroups, bridge and leases.

Only one real node can run per machine (kubelets share the ``kubepods`` cgroups and the
bridge), and only as root with runc and cgroups; ``preflight`` says what is missing.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import yaml
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from simpod.cluster import processes
from simpod.cluster.build import NODE_TARGETS, ensure_binaries
from simpod.cluster.cni import GATEWAY, PodNetwork, find_cni_bin_dir
from simpod.cluster.containerd import Containerd
from simpod.cluster.images import PAUSE_IMAGE, build_busybox, build_pause, find_busybox
from simpod.cluster.kubeconfig import write_kubeconfig
from simpod.cluster.paths import Layout
from simpod.cluster.pki import ClientIdentity, Pki, issue_client_cert

NODE_NAME = "simpod-node"
# Lets tests and SimPod comparisons pin real Pods to the real node, away from simulated ones.
NODE_LABEL = "simpod.dev/real-node"
KUBELET = ClientIdentity("kubelet", f"system:node:{NODE_NAME}", ("system:nodes",))
SCHEDULER = ClientIdentity("kube-scheduler", "system:kube-scheduler")
NODE_COMPONENTS = ("kube-scheduler", "kubelet")
READY_TIMEOUT = 90.0
CLUSTER_DNS = "10.0.0.10"  # in the API server's service range, like kubeadm's default
# Fixed paths the CRI's runc shims use whatever containerd's state directory is, deepest first.
RUNC_STATE_DIRS = tuple(
    Path("/run/containerd", d) for d in ("runc/k8s.io", "runc", "fifo", "s", "")
)
_CGROUP_V1_CONTROLLERS = ("cpu", "cpuacct", "cpuset", "memory", "pids")


class NodeError(RuntimeError):
    """The node could not be started; the message says why and where the logs are."""


class NodeUnsupported(NodeError):
    """This machine cannot run a real node (not root, no runc, no cgroups, ...)."""


@dataclass(frozen=True)
class NodePorts:
    kubelet: int
    kubelet_healthz: int
    scheduler: int

    @classmethod
    def pick(cls) -> NodePorts:
        return cls(processes.free_port(), processes.free_port(), processes.free_port())


@dataclass(frozen=True)
class NodeResult:
    name: str
    build_seconds: float
    start_seconds: float
    already_running: bool


@dataclass(frozen=True)
class NodeLayout:
    """Where the node keeps its files, inside the control plane's cluster directory."""

    cluster: Layout

    @property
    def root(self) -> Path:
        return self.cluster.cluster_dir / "node"

    @property
    def kubelet_dir(self) -> Path:
        return self.root / "kubelet"

    @property
    def kubelet_config(self) -> Path:
        return self.root / "kubelet-config.yaml"

    def kubeconfig(self, ident: ClientIdentity) -> Path:
        return self.root / f"{ident.stem}.kubeconfig"

    def containerd(self, cni_bin_dir: Path) -> Containerd:
        return Containerd(
            root_dir=self.root / "containerd",
            binary=_which("containerd") or Path("/usr/bin/containerd"),
            cni_bin_dir=cni_bin_dir,
            cni_conf_dir=self.network.conf_dir,
            sandbox_image=PAUSE_IMAGE,
        )

    @property
    def network(self) -> PodNetwork:
        return PodNetwork(self.root / "cni")


def _which(name: str) -> Path | None:
    found = shutil.which(name, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
    return Path(found) if found else None


def preflight(layout: Layout) -> None:
    """Raise NodeUnsupported listing everything this machine lacks, before starting anything."""
    problems: list[str] = []
    if os.geteuid() != 0:
        problems.append("not running as root (the kubelet and containerd need it)")
    missing = [
        b
        for b in ("containerd", "containerd-shim-runc-v2", "ctr", "runc", "ip")
        if _which(b) is None
    ]
    if missing:
        problems.append(
            f"missing {', '.join(missing)} (Debian: apt-get install containerd runc iproute2)"
        )
    if find_cni_bin_dir() is None:
        problems.append(
            "no CNI bridge/host-local/loopback plugins (Debian: apt-get install "
            "containernetworking-plugins)"
        )
    if not find_busybox().is_file():
        problems.append("no busybox for the pods' image (Debian: apt-get install busybox-static)")
    cgroup = Path("/sys/fs/cgroup")
    v2 = (cgroup / "cgroup.controllers").is_file()
    if not v2 and not all((cgroup / c).is_dir() for c in _CGROUP_V1_CONTROLLERS):
        problems.append(
            f"no usable cgroups under {cgroup} (need cgroup v2, or v1 with "
            f"{', '.join(_CGROUP_V1_CONTROLLERS)})"
        )
    foreign = _foreign_kubelets(layout)
    if foreign:
        problems.append(
            f"another kubelet runs on this machine (pid {', '.join(map(str, foreign))})"
            "; only one real node fits on a machine"
        )
    if problems:
        raise NodeUnsupported("cannot run a real node here:\n  - " + "\n  - ".join(problems))


def _foreign_kubelets(layout: Layout) -> list[int]:
    ours = processes.read_pid(layout.pid_file("kubelet"), binary=layout.binary("kubelet"))
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == ours:
            continue
        with contextlib.suppress(OSError):
            if Path(os.readlink(proc / "exe")).name == "kubelet":
                found.append(int(proc.name))
    return found


def running(layout: Layout) -> dict[str, int | None]:
    return {
        name: processes.read_pid(layout.pid_file(name), binary=layout.binary(name))
        for name in NODE_COMPONENTS
    }


def up(layout: Layout, *, server: str, pki: Pki) -> NodeResult:
    """Start whatever part of the node is not running and wait until the Node is Ready."""
    preflight(layout)
    build_seconds = ensure_binaries(layout, targets=NODE_TARGETS)
    started = time.monotonic()
    node = NodeLayout(layout)
    cni_bin_dir = find_cni_bin_dir()
    assert cni_bin_dir is not None  # preflight checked
    runtime = node.containerd(cni_bin_dir)
    if all(running(layout).values()) and runtime.running_pid() and _node_ready(layout):
        return NodeResult(NODE_NAME, build_seconds, 0.0, True)
    node.root.mkdir(parents=True, exist_ok=True)
    for ident in (KUBELET, SCHEDULER):
        if not pki.client_cert(ident.stem).is_file():
            issue_client_cert(pki, ident)
        write_kubeconfig(node.kubeconfig(ident), server=server, pki=pki, ident=ident)
    node.network.setup()
    runtime.start()
    images_dir = node.root / "images"
    runtime.import_image(build_busybox(find_busybox(), images_dir))
    runtime.import_image(build_pause(layout.binary("simpod-pause"), images_dir))
    ports = NodePorts.pick()
    for name in NODE_COMPONENTS:
        processes.stop(layout.pid_file(name), binary=layout.binary(name))
    kubelet_started = datetime.datetime.now(datetime.UTC)
    _start_scheduler(layout, node, ports)
    _start_kubelet(layout, node, ports, runtime=runtime, pki=pki)
    _wait_ready(layout, since=kubelet_started)
    return NodeResult(NODE_NAME, build_seconds, time.monotonic() - started, False)


def _start_scheduler(layout: Layout, node: NodeLayout, ports: NodePorts) -> None:
    kubeconfig = node.kubeconfig(SCHEDULER)
    processes.start(
        layout.binary("kube-scheduler"),
        [
            f"--kubeconfig={kubeconfig}",
            f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}",
            "--bind-address=127.0.0.1",
            f"--secure-port={ports.scheduler}",
            "--leader-elect=false",
            "--v=1",
        ],
        pid_file=layout.pid_file("kube-scheduler"),
        log_file=layout.log_file("kube-scheduler"),
    )


def _kubelet_configuration(
    node: NodeLayout, ports: NodePorts, *, runtime: Containerd, pki: Pki
) -> dict[str, object]:
    """kubeadm's kubelet settings, narrowed to private addresses and this machine's quirks."""
    return {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "address": str(GATEWAY),
        "port": ports.kubelet,
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": ports.kubelet_healthz,
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": True},
            "x509": {"clientCAFile": str(pki.ca_cert)},
        },
        "authorization": {"mode": "Webhook"},
        "containerRuntimeEndpoint": runtime.endpoint,
        "cgroupDriver": "cgroupfs",
        # Kubernetes 1.35 refuses cgroup v1 unless told otherwise; many CI machines have it.
        "failCgroupV1": False,
        "failSwapOn": False,
        "podLogsDir": str(node.root / "pod-logs"),
        "clusterDomain": "cluster.local",
        # No DNS runs, but kubeadm nodes name one; without it every pod gets a
        # MissingClusterDNS warning Event that a real cluster would not show.
        "clusterDNS": [CLUSTER_DNS],
        "resolvConf": "/etc/resolv.conf",
        # A busy development disk must not taint the node with DiskPressure mid-test.
        "evictionHard": {
            "memory.available": "100Mi",
            "nodefs.available": "1%",
            "imagefs.available": "1%",
            "nodefs.inodesFree": "1%",
        },
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        "registerNode": True,
        "serializeImagePulls": False,
        "shutdownGracePeriod": "0s",
    }


def _start_kubelet(
    layout: Layout, node: NodeLayout, ports: NodePorts, *, runtime: Containerd, pki: Pki
) -> None:
    node.kubelet_config.write_text(
        yaml.safe_dump(_kubelet_configuration(node, ports, runtime=runtime, pki=pki))
    )
    processes.start(
        layout.binary("kubelet"),
        [
            f"--config={node.kubelet_config}",
            f"--kubeconfig={node.kubeconfig(KUBELET)}",
            f"--root-dir={node.kubelet_dir}",
            f"--cert-dir={node.kubelet_dir / 'pki'}",
            f"--hostname-override={NODE_NAME}",
            f"--node-ip={GATEWAY}",
            f"--node-labels={NODE_LABEL}=true",
            "--v=1",
            # kubelet.go's sync loop logs each tick it handles (PLEG events, housekeeping,
            # pod syncs) at 2-4, the PLEG each relist's start at 5: the conformance
            # harness reads the node's tick phases there.
            "--vmodule=kubelet=4,generic=5",
        ],
        pid_file=layout.pid_file("kubelet"),
        log_file=layout.log_file("kubelet"),
    )


def _node_ready(layout: Layout, *, since: datetime.datetime | None = None) -> bool:
    """Ready, and (with ``since``) reported by a kubelet that started at or after it: the Node
    object outlives ``down``, still Ready from the previous run."""
    api = config.new_client_from_config(config_file=str(layout.kubeconfig))
    try:
        node = client.CoreV1Api(api).read_node(NODE_NAME, _request_timeout=5)
    except ApiException:
        return False
    finally:
        api.close()
    conditions = (node.status and node.status.conditions) or []
    fresh = since.replace(microsecond=0) if since else None
    return any(
        c.type == "Ready"
        and c.status == "True"
        and (fresh is None or c.last_heartbeat_time >= fresh)
        for c in conditions
    )


def _wait_ready(layout: Layout, *, since: datetime.datetime) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        for name, pid in running(layout).items():
            if pid is None:
                log = processes.tail(layout.log_file(name))
                raise NodeError(f"{name} exited during start-up:\n{log}")
        if _node_ready(layout, since=since):
            return
        time.sleep(0.25)
    log = processes.tail(layout.log_file("kubelet"))
    raise NodeError(f"node {NODE_NAME} not Ready after {READY_TIMEOUT:.0f}s:\n{log}")


def down(layout: Layout) -> list[str]:
    """Stop and clean up everything ``up`` started; returns the names that were running."""
    node = NodeLayout(layout)
    if not node.root.exists():
        return []
    stopped = [
        name
        for name in NODE_COMPONENTS
        if processes.stop(layout.pid_file(name), binary=layout.binary(name))
    ]
    runtime = node.containerd(find_cni_bin_dir() or Path("/usr/lib/cni"))
    if runtime.running_pid():
        _remove_sandboxes(layout, runtime)
        runtime.stop()
        stopped.append("containerd")
    _kill_shims(runtime)
    _unmount_under(node.root)
    _remove_kubepods_cgroups()
    node.network.teardown()
    for directory in RUNC_STATE_DIRS:  # left empty by our shims; shared with any other containerd
        with contextlib.suppress(OSError):
            directory.rmdir()
    return stopped


def _remove_sandboxes(layout: Layout, runtime: Containerd) -> None:
    """Stop and remove every pod sandbox through the CRI, which also deletes its netns."""
    crictl = layout.binary("crictl")
    if not crictl.is_file():
        return
    subprocess.run(
        [
            str(crictl),
            "--runtime-endpoint",
            runtime.endpoint,
            "--timeout",
            "30s",
            "rmp",
            "--all",
            "--force",
        ],
        capture_output=True,
        check=False,
        timeout=120,
    )


def _kill_shims(runtime: Containerd) -> None:
    """Shims outlive containerd; ours are the ones started with our socket address."""
    needle = str(runtime.socket).encode()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if Path(os.readlink(proc / "exe")).name.startswith("containerd-shim") and (
                needle in (proc / "cmdline").read_bytes()
            ):
                os.kill(int(proc.name), signal.SIGKILL)


def _unmount_under(root: Path) -> None:
    """Unmount everything below ``root``, deepest first (kubelet's rshared bind mount,
    pod volumes, container root filesystems left by a crash)."""
    prefix = str(root.resolve()) + "/"
    mounts = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            point = line.split()[4].encode().decode("unicode_escape")
            if point.startswith(prefix) or point + "/" == prefix:
                mounts.append(point)
    for point in sorted(set(mounts), key=len, reverse=True):
        subprocess.run(["umount", "--lazy", point], capture_output=True, check=False)


def _remove_kubepods_cgroups() -> None:
    """The kubelet's ``kubepods`` cgroup trees (cgroupfs driver: one per v1 hierarchy, or
    one under cgroup v2), deepest first; a cgroup still holding a process stays."""
    cgroup = Path("/sys/fs/cgroup")
    tops = [cgroup / "kubepods", *(h / "kubepods" for h in cgroup.iterdir() if h.is_dir())]
    for top in filter(Path.is_dir, tops):
        tree = [p for p in top.rglob("*") if p.is_dir()]
        for directory in [*sorted(tree, key=lambda p: len(p.parts), reverse=True), top]:
            with contextlib.suppress(OSError):
                directory.rmdir()
