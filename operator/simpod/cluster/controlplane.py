"""``simpod cluster up | kubeconfig | down``: the embedded control plane's lifecycle.

Started as controller-runtime's envtest does it (generated CA and serving cert, RBAC on,
admin client cert in ``system:masters``, service-account keys, webhook admission), but
as long-lived background processes tracked by PID files, so that ``up`` is idempotent
and ``down`` stops only what ``up`` started.
"""

from __future__ import annotations

import json
import shutil
import ssl
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from simpod.cluster import node, processes
from simpod.cluster.build import ensure_binaries
from simpod.cluster.install import apply_crds
from simpod.cluster.kubeconfig import write_kubeconfig
from simpod.cluster.paths import Layout
from simpod.cluster.pki import (
    ADMIN,
    APISERVER_KUBELET_CLIENT,
    CONTROLLER_MANAGER,
    Pki,
    ensure_pki,
)
from simpod.runtimes.process import sandbox

COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager")
READY_TIMEOUT = 90.0


class ControlPlaneError(RuntimeError):
    """The control plane did not come up; the message includes the failing log's tail."""


@dataclass(frozen=True)
class Ports:
    etcd_client: int
    etcd_peer: int
    apiserver: int
    controller_manager: int

    @classmethod
    def pick(cls, previous: Ports | None) -> Ports:
        """Reuse the recorded ports when free (stable kubeconfigs), else new free ones."""

        def keep_or_new(port: int | None) -> int:
            return port if port and processes.port_is_free(port) else processes.free_port()

        p = previous
        return cls(
            etcd_client=keep_or_new(p.etcd_client if p else None),
            etcd_peer=keep_or_new(p.etcd_peer if p else None),
            apiserver=keep_or_new(p.apiserver if p else None),
            controller_manager=keep_or_new(p.controller_manager if p else None),
        )


@dataclass(frozen=True)
class State:
    """What ``up`` recorded, so later commands find the same processes and ports."""

    ports: Ports
    unsafe_no_fsync: bool = False

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.ports.apiserver}"

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> State | None:
        try:
            raw = json.loads(path.read_text())
            return cls(ports=Ports(**raw["ports"]), unsafe_no_fsync=raw["unsafe_no_fsync"])
        except (OSError, ValueError, KeyError, TypeError):
            return None


@dataclass(frozen=True)
class UpResult:
    server: str
    kubeconfig: Path
    build_seconds: float
    start_seconds: float
    already_running: bool
    node: node.NodeResult | None = None


def _say(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def running(layout: Layout) -> dict[str, int | None]:
    return {
        name: processes.read_pid(layout.pid_file(name), binary=layout.binary(name))
        for name in COMPONENTS
    }


def up(layout: Layout, *, unsafe_no_fsync: bool = False, with_node: bool = False) -> UpResult:
    """Build if needed, start what is not running, wait for readiness, install CRDs;
    ``with_node`` then adds a real kubelet, kube-scheduler and containerd (``node.py``)."""
    if with_node:
        node.preflight(layout)  # say what the machine lacks before starting anything
    result = _up_control_plane(layout, unsafe_no_fsync=unsafe_no_fsync)
    if not with_node:
        return result
    joined = node.up(layout, server=result.server, pki=Pki(layout.pki_dir))
    return replace(result, node=joined)


def _up_control_plane(layout: Layout, *, unsafe_no_fsync: bool) -> UpResult:
    build_seconds = ensure_binaries(layout)
    started = time.monotonic()
    pki = Pki(layout.pki_dir)
    ensure_pki(pki)
    previous = State.load(layout.state_file)
    pids = running(layout)
    if previous and all(pids.values()) and _apiserver_ready(previous, pki):
        write_kubeconfig(layout.kubeconfig, server=previous.server, pki=pki, ident=ADMIN)
        apply_crds(layout.kubeconfig)
        return UpResult(previous.server, layout.kubeconfig, build_seconds, 0.0, True)
    if any(pids.values()):
        up_names = ", ".join(n for n, pid in pids.items() if pid)
        _say(f"control plane only partly running ({up_names}); restarting it")
        stop_all(layout)
    for name in COMPONENTS:
        if layout.pid_file(name).exists():
            _say(f"removing stale PID file {layout.pid_file(name)}")
            layout.pid_file(name).unlink()
    state = State(
        ports=Ports.pick(previous.ports if previous else None), unsafe_no_fsync=unsafe_no_fsync
    )
    if previous and previous.ports != state.ports:
        _say("a recorded port is busy; picked new free ports")
    state.save(layout.state_file)
    _start_etcd(layout, state)
    _wait(layout, "etcd", lambda: _http_ok(f"http://127.0.0.1:{state.ports.etcd_client}/health"))
    _start_apiserver(layout, state, pki)
    _wait(layout, "kube-apiserver", lambda: _apiserver_ready(state, pki))
    write_kubeconfig(layout.kubeconfig, server=state.server, pki=pki, ident=ADMIN)
    kcm_config = layout.cluster_dir / "kube-controller-manager.kubeconfig"
    write_kubeconfig(kcm_config, server=state.server, pki=pki, ident=CONTROLLER_MANAGER)
    _start_controller_manager(layout, state, pki, kcm_config)
    apply_crds(layout.kubeconfig)
    _wait(
        layout,
        "kube-controller-manager",
        lambda: _http_ok(f"https://127.0.0.1:{state.ports.controller_manager}/healthz"),
    )
    return UpResult(
        state.server, layout.kubeconfig, build_seconds, time.monotonic() - started, False
    )


def stop_all(layout: Layout) -> list[str]:
    """Stop our processes in reverse start order; returns the names that were running."""
    return [
        name
        for name in reversed(COMPONENTS)
        if processes.stop(layout.pid_file(name), binary=layout.binary(name))
    ]


def down(layout: Layout, *, purge: bool = False) -> list[str]:
    stopped = node.down(layout) + sandbox.down() + stop_all(layout)
    if purge:
        shutil.rmtree(layout.cluster_dir, ignore_errors=True)
    return stopped


def _start_etcd(layout: Layout, state: State) -> None:
    p = state.ports
    args = [
        "--name=simpod",
        f"--data-dir={layout.etcd_data_dir}",
        f"--listen-client-urls=http://127.0.0.1:{p.etcd_client}",
        f"--advertise-client-urls=http://127.0.0.1:{p.etcd_client}",
        f"--listen-peer-urls=http://127.0.0.1:{p.etcd_peer}",
        f"--initial-advertise-peer-urls=http://127.0.0.1:{p.etcd_peer}",
        f"--initial-cluster=simpod=http://127.0.0.1:{p.etcd_peer}",
        "--listen-metrics-urls=",
        "--quota-backend-bytes=8589934592",
        "--log-level=warn",
    ]
    if state.unsafe_no_fsync:
        args.append("--unsafe-no-fsync")
    processes.start(
        layout.binary("etcd"),
        args,
        pid_file=layout.pid_file("etcd"),
        log_file=layout.log_file("etcd"),
    )


def _start_apiserver(layout: Layout, state: State, pki: Pki) -> None:
    p = state.ports
    args = [
        f"--etcd-servers=http://127.0.0.1:{p.etcd_client}",
        "--bind-address=127.0.0.1",
        "--advertise-address=127.0.0.1",
        f"--secure-port={p.apiserver}",
        f"--cert-dir={layout.pki_dir}",
        f"--tls-cert-file={pki.serving_cert}",
        f"--tls-private-key-file={pki.serving_key}",
        f"--client-ca-file={pki.ca_cert}",
        f"--service-account-key-file={pki.sa_pub}",
        f"--service-account-signing-key-file={pki.sa_key}",
        f"--service-account-issuer={state.server}",
        "--service-cluster-ip-range=10.0.0.0/24",
        "--authorization-mode=Node,RBAC",
        "--enable-admission-plugins=NamespaceLifecycle,LimitRanger,ServiceAccount,"
        "DefaultStorageClass,ResourceQuota,NodeRestriction,"
        "MutatingAdmissionWebhook,ValidatingAdmissionWebhook",
        "--allow-privileged=true",
        f"--kubelet-client-certificate={pki.client_cert(APISERVER_KUBELET_CLIENT.stem)}",
        f"--kubelet-client-key={pki.client_key(APISERVER_KUBELET_CLIENT.stem)}",
        # A real node (``--with-node``) is named but not in DNS; reach it by its address.
        "--kubelet-preferred-address-types=InternalIP,Hostname",
        # No front proxy (--requestheader-*): nothing is aggregated behind this API server,
        # and with the client CA as its CA every request's certificate was verified twice
        # (4 % of the API server's CPU in the ``startup`` benchmark).
        "--max-requests-inflight=2000",
        "--max-mutating-requests-inflight=1000",
        "--v=1",
    ]
    processes.start(
        layout.binary("kube-apiserver"),
        args,
        pid_file=layout.pid_file("kube-apiserver"),
        log_file=layout.log_file("kube-apiserver"),
    )


def _start_controller_manager(layout: Layout, state: State, pki: Pki, config: Path) -> None:
    args = [
        f"--kubeconfig={config}",
        f"--authentication-kubeconfig={config}",
        f"--authorization-kubeconfig={config}",
        "--bind-address=127.0.0.1",
        f"--secure-port={state.ports.controller_manager}",
        f"--cert-dir={layout.pki_dir / 'kube-controller-manager'}",
        "--use-service-account-credentials=true",
        f"--service-account-private-key-file={pki.sa_key}",
        f"--root-ca-file={pki.ca_cert}",
        f"--cluster-signing-cert-file={pki.ca_cert}",
        f"--cluster-signing-key-file={pki.ca_key}",
        "--cluster-name=simpod",
        "--leader-elect=false",
        "--kube-api-qps=200",
        "--kube-api-burst=400",
        "--v=1",
    ]
    processes.start(
        layout.binary("kube-controller-manager"),
        args,
        pid_file=layout.pid_file("kube-controller-manager"),
        log_file=layout.log_file("kube-controller-manager"),
    )


def _wait(layout: Layout, name: str, ready: Callable[[], bool]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    binary = layout.binary(name)
    while time.monotonic() < deadline:
        if ready():
            return
        if processes.read_pid(layout.pid_file(name), binary=binary) is None:
            raise ControlPlaneError(f"{name} exited during start-up:\n{_tail(layout, name)}")
        time.sleep(0.2)
    raise ControlPlaneError(f"{name} not ready after {READY_TIMEOUT:.0f}s:\n{_tail(layout, name)}")


def _tail(layout: Layout, name: str) -> str:
    return processes.tail(layout.log_file(name))


def _http_ok(url: str, *, context: ssl.SSLContext | None = None) -> bool:
    if context is None and url.startswith("https"):
        context = ssl._create_unverified_context()  # loopback health probe
    try:
        with urllib.request.urlopen(url, timeout=2, context=context) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _apiserver_ready(state: State, pki: Pki) -> bool:
    context = ssl.create_default_context(cafile=str(pki.ca_cert))
    context.load_cert_chain(str(pki.client_cert(ADMIN.stem)), str(pki.client_key(ADMIN.stem)))
    return _http_ok(f"{state.server}/readyz", context=context)
