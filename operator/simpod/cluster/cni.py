"""Pod networking for the real node: one Linux bridge that only this machine can reach.

The bridge is created here with the gateway address, and the CNI ``bridge`` plugin is told
``isGateway: false``, so the plugin neither enables IP forwarding nor installs a default
route in pods: a pod reaches the other pods and this host (kubelet probes reach it) and
nothing else, and no NAT rule is written. ``host-local`` keeps its leases under
``$SIMPOD_HOME``, so ``down`` removes every trace with the bridge and that directory.
"""

from __future__ import annotations

import ipaddress
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

NETWORK_NAME = "simpod"
BRIDGE = "simpod0"
SUBNET = ipaddress.ip_network("10.88.0.0/24")
# The bridge's own address: the pods' gateway, and the node's IP (the kubelet refuses a
# loopback node IP, and this one is just as private to the machine).
GATEWAY = next(SUBNET.hosts())
CNI_BIN_DIRS = (Path("/usr/lib/cni"), Path("/opt/cni/bin"))
# containerd's CRI sets up each pod's loopback itself, with the plugin of that name.
PLUGINS = ("bridge", "host-local", "loopback")


class CniError(RuntimeError):
    """The pod network could not be set up."""


def find_cni_bin_dir() -> Path | None:
    """Debian's containernetworking-plugins uses /usr/lib/cni; upstream uses /opt/cni/bin."""
    for directory in CNI_BIN_DIRS:
        if all((directory / plugin).is_file() for plugin in PLUGINS):
            return directory
    return None


@dataclass(frozen=True)
class PodNetwork:
    root_dir: Path

    @property
    def conf_dir(self) -> Path:
        return self.root_dir / "net.d"

    @property
    def ipam_dir(self) -> Path:
        return self.root_dir / "ipam"

    def setup(self) -> None:
        if not Path(f"/sys/class/net/{BRIDGE}").exists():
            _ip("link", "add", BRIDGE, "type", "bridge")
        if f" {GATEWAY}/" not in _ip("-o", "addr", "show", "dev", BRIDGE):
            _ip("addr", "add", f"{GATEWAY}/{SUBNET.prefixlen}", "dev", BRIDGE)
        _ip("link", "set", BRIDGE, "up")
        conflist = {
            "cniVersion": "1.0.0",
            "name": NETWORK_NAME,
            "plugins": [
                {
                    "type": "bridge",
                    "bridge": BRIDGE,
                    "isGateway": False,
                    "hairpinMode": True,
                    "ipam": {
                        "type": "host-local",
                        "dataDir": str(self.ipam_dir),
                        "ranges": [[{"subnet": str(SUBNET), "rangeStart": str(GATEWAY + 1)}]],
                    },
                },
            ],
        }
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        (self.conf_dir / "10-simpod.conflist").write_text(json.dumps(conflist, indent=2) + "\n")

    def teardown(self) -> None:
        """Remove the bridge and the leases; run after every sandbox is gone."""
        if Path(f"/sys/class/net/{BRIDGE}").exists():
            _ip("link", "del", BRIDGE)
        shutil.rmtree(self.ipam_dir, ignore_errors=True)


def _ip(*args: str) -> str:
    result = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise CniError(f"ip {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout
