"""A pod's sandbox: its directory on the agent's machine and its network namespace.

Layout (``$SIMPOD_HOME/pods/<namespace>_<name>_<uid>/``, like the kubelet's
``/var/log/pods``): ``tmp/`` (the pod's private /tmp, shared by its containers),
``volumes/<name>/`` (emptyDir, projected configMap and secret volumes),
``containers/<name>/<attempt>.log`` and ``<attempt>.status`` (bubblewrap's JSON status: the
container's PID and exit code, written by the process that waits for it, so they survive
the agent) and ``sandbox.json`` (what ``simpod cluster down`` needs to clean up without the
API server).

Network: one namespace per pod, ``simpod-<uid>``, whose ``eth0`` (a veth pair) is plugged
into the bridge ``simpod-proc0``. The pod's address comes from its SimNode's pod CIDR (as a
Pod's comes from its node's podCIDR); the bridge holds the CIDR's first address, the
gateway, which the agent reaches pods from. Pods get no default route and the bridge does
not forward anywhere, so nothing leaves the machine; two pods may listen on the same port.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ipaddress
import json
import shutil
import signal
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simpod.cluster.paths import simpod_home
from simpod.runtimes.process import spawn

BRIDGE = "simpod-proc0"
NETNS_PREFIX = "simpod-"
NETNS_DIR = Path("/run/netns")
IP_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"}


class SandboxError(Exception):
    """The sandbox could not be made; the message says what failed."""


def pods_dir() -> Path:
    return simpod_home() / "pods"


@dataclass(frozen=True)
class PodDir:
    root: Path

    @classmethod
    def of(cls, namespace: str, name: str, uid: str) -> PodDir:
        return cls(pods_dir() / f"{namespace}_{name}_{uid}")

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    @property
    def record(self) -> Path:
        return self.root / "sandbox.json"

    def volume(self, name: str) -> Path:
        return self.root / "volumes" / name

    def container(self, name: str) -> Path:
        return self.root / "containers" / name

    def log(self, container: str, attempt: int) -> Path:
        return self.container(container) / f"{attempt}.log"

    def status(self, container: str, attempt: int) -> Path:
        return self.container(container) / f"{attempt}.status"


def netns_name(uid: str) -> str:
    return NETNS_PREFIX + uid


def host_veth(uid: str) -> str:
    """Interface names have at most 15 characters: a digest of the UID fits."""
    return "spv" + hashlib.sha1(uid.encode()).hexdigest()[:12]


async def _ip(*args: str, ok_if: str = "") -> None:
    done = await spawn.run([spawn.executable("ip"), *args], env=IP_ENV, timeout=10)
    if done.exit_code != 0 and not (ok_if and ok_if in done.output):
        raise SandboxError(f"ip {' '.join(args)}: {done.output.strip()}")


async def _ensure_bridge(gateway: ipaddress.IPv4Interface) -> None:
    await _ip("link", "add", BRIDGE, "type", "bridge", ok_if="File exists")
    await _ip("addr", "replace", str(gateway), "dev", BRIDGE)
    await _ip("link", "set", BRIDGE, "up")


async def create_network(uid: str, pod_ip: str, pod_cidr: str) -> None:
    """The pod's namespace with ``eth0`` at ``pod_ip`` on the bridge (idempotent: a
    restarted agent finds it in place)."""
    name = netns_name(uid)
    if (NETNS_DIR / name).exists():
        return
    network = ipaddress.ip_network(pod_cidr, strict=False)
    gateway = ipaddress.ip_interface(f"{next(network.hosts())}/{network.prefixlen}")
    await _ensure_bridge(gateway)  # type: ignore[arg-type]
    veth = host_veth(uid)
    try:
        await _ip("netns", "add", name)
        await _ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", name)
        await _ip("link", "set", veth, "master", BRIDGE, "up")
        await _ip("-n", name, "addr", "add", f"{pod_ip}/{network.prefixlen}", "dev", "eth0")
        await _ip("-n", name, "link", "set", "eth0", "up")
        await _ip("-n", name, "link", "set", "lo", "up")
    except SandboxError:
        await delete_network(uid)
        raise


async def delete_network(uid: str) -> None:
    """Deleting the namespace deletes its end of the veth pair, and with it ours."""
    name = netns_name(uid)
    if (NETNS_DIR / name).exists():
        await _ip("netns", "delete", name, ok_if="No such file")
    await _ip("link", "delete", host_veth(uid), ok_if="Cannot find device")


def prepare(pod_dir: PodDir, *, uid: str, node: str) -> None:
    """The pod's directories; /tmp is world-writable and sticky, as a /tmp is."""
    pod_dir.tmp.mkdir(parents=True, exist_ok=True)
    pod_dir.tmp.chmod(0o1777)
    if not pod_dir.record.exists():
        write_record(pod_dir, {"uid": uid, "node": node, "processes": {}})


def write_record(pod_dir: PodDir, record: dict[str, Any]) -> None:
    temporary = pod_dir.record.with_suffix(".tmp")
    temporary.write_text(json.dumps(record))
    temporary.replace(pod_dir.record)


def read_record(pod_dir: PodDir) -> dict[str, Any]:
    try:
        raw: dict[str, Any] = json.loads(pod_dir.record.read_text())
    except (OSError, ValueError):
        return {}
    return raw


def kill_recorded(record: dict[str, Any]) -> None:
    """KILL every process group the record lists whose leader is still the same process."""
    for pid, started in (record.get("processes") or {}).values():
        if spawn.start_time(int(pid)) == started:
            spawn.kill_group(int(pid), signal.SIGKILL)


async def destroy(pod_dir: PodDir, uid: str) -> None:
    """Everything the pod held: processes, network and files (logs included)."""
    kill_recorded(read_record(pod_dir))
    await delete_network(uid)
    _remove_tree(pod_dir.root)


def _remove_tree(root: Path) -> None:
    """Files a container made as another user are removed too (we are root)."""
    shutil.rmtree(root, ignore_errors=True)


async def reap_orphans(nodes: Collection[str], live_uids: Collection[str]) -> list[str]:
    """Sandboxes of these nodes' pods that no longer exist (deleted while no agent ran):
    destroyed at agent start-up, before any worker runs."""
    removed = []
    root = pods_dir()
    for pod_root in sorted(root.iterdir()) if root.is_dir() else []:
        record = read_record(PodDir(pod_root))
        if record.get("node") in nodes and record.get("uid") not in live_uids:
            await destroy(PodDir(pod_root), str(record["uid"]))
            removed.append(pod_root.name)
    return removed


async def destroy_all() -> list[str]:
    """``simpod cluster down``: every process sandbox on this machine, and the bridge."""
    removed = []
    root = pods_dir()
    for pod_root in sorted(root.iterdir()) if root.is_dir() else []:
        pod_dir = PodDir(pod_root)
        uid = str(read_record(pod_dir).get("uid") or pod_root.name.rsplit("_", 1)[-1])
        await destroy(pod_dir, uid)
        removed.append(pod_root.name)
    for netns in NETNS_DIR.glob(NETNS_PREFIX + "*") if NETNS_DIR.is_dir() else []:
        await delete_network(netns.name.removeprefix(NETNS_PREFIX))
    if Path("/sys/class/net", BRIDGE).exists():
        with contextlib.suppress(SandboxError):
            await _ip("link", "delete", BRIDGE, ok_if="Cannot find device")
    return removed


def down() -> list[str]:
    """For ``simpod cluster down`` (blocking, outside any event loop)."""
    removed = asyncio.run(destroy_all())
    return [f"process-runtime sandboxes ({len(removed)})"] if removed else []
