"""The real node's container runtime: a private containerd (Debian's) with its CRI plugin.

Private means its own config, root, state and socket under ``$SIMPOD_HOME``, so it neither
sees nor disturbs a containerd the machine may already run, and ``down`` can remove
everything it made. Pulls are routed to a dead loopback proxy: images come only from
``images.py``, and a pod naming an image that is not there fails here instead of reaching
a registry.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from simpod.cluster import processes
from simpod.cluster.images import Image

_CAP_SYS_RESOURCE = 24
DEAD_PROXY = "http://127.0.0.1:9"  # the discard port: nothing listens, connections are refused


class ContainerdError(RuntimeError):
    """containerd did not start or answer; the message includes its log's tail."""


@dataclass(frozen=True)
class Containerd:
    """Paths of one private containerd."""

    root_dir: Path
    binary: Path
    cni_bin_dir: Path
    cni_conf_dir: Path
    sandbox_image: str

    @property
    def config(self) -> Path:
        return self.root_dir / "config.toml"

    @property
    def data_dir(self) -> Path:
        return self.root_dir / "root"

    @property
    def state_dir(self) -> Path:
        return self.root_dir / "state"

    @property
    def socket(self) -> Path:
        return self.root_dir / "containerd.sock"

    @property
    def endpoint(self) -> str:
        return f"unix://{self.socket}"

    @property
    def pid_file(self) -> Path:
        return self.root_dir / "containerd.pid"

    @property
    def log_file(self) -> Path:
        return self.root_dir / "containerd.log"

    def render_config(self) -> str:
        cri = 'plugins."io.containerd.grpc.v1.cri"'
        return f"""\
version = 2
root = "{self.data_dir}"
state = "{self.state_dir}"
# /opt/containerd and the snapshotters below are not used; skipping them keeps the log clean.
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp"]

[grpc]
  address = "{self.socket}"

[ttrpc]
  address = "{self.socket}.ttrpc"

[{cri}]
  sandbox_image = "{self.sandbox_image}"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_cdi = false
  restrict_oom_score_adj = {"false" if _can_lower_oom_score() else "true"}

[{cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[{cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[{cri}.containerd.runtimes.runc.options]
  SystemdCgroup = false

[{cri}.cni]
  bin_dir = "{self.cni_bin_dir}"
  conf_dir = "{self.cni_conf_dir}"
"""

    def running_pid(self) -> int | None:
        return processes.read_pid(self.pid_file, binary=self.binary)

    def start(self, *, timeout: float = 30.0) -> None:
        """Start it unless running, then wait until its CRI answers."""
        if self.running_pid() is None:
            self.root_dir.mkdir(parents=True, exist_ok=True)
            self.config.write_text(self.render_config())
            self.socket.unlink(missing_ok=True)
            env = {
                **os.environ,
                "HTTP_PROXY": DEAD_PROXY,
                "HTTPS_PROXY": DEAD_PROXY,
                "NO_PROXY": "",
            }
            processes.start(
                self.binary,
                ["--config", str(self.config)],
                pid_file=self.pid_file,
                log_file=self.log_file,
                env=env,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.socket.exists() and self._ctr("version").returncode == 0:
                return
            if self.running_pid() is None:
                raise ContainerdError(
                    f"containerd exited during start-up:\n{processes.tail(self.log_file)}"
                )
            time.sleep(0.1)
        raise ContainerdError(
            f"containerd not answering after {timeout:.0f}s:\n{processes.tail(self.log_file)}"
        )

    def import_image(self, image: Image) -> None:
        """Import into the CRI's ``k8s.io`` namespace (a no-op when already present)."""
        result = self._ctr("images", "import", str(image.archive))
        if result.returncode != 0:
            raise ContainerdError(f"importing {image.reference} failed:\n{result.stderr}")

    def _ctr(self, *args: str) -> subprocess.CompletedProcess[str]:
        ctr = shutil.which("ctr") or "ctr"
        return subprocess.run(
            [ctr, "--address", str(self.socket), "--namespace", "k8s.io", *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def stop(self) -> bool:
        return processes.stop(self.pid_file, binary=self.binary)


def _can_lower_oom_score() -> bool:
    """Lowering an oom_score_adj (the CRI gives sandboxes -998) needs CAP_SYS_RESOURCE, which
    sandboxed machines often withhold; without it runc fails every pod with "can't get final
    child's PID from pipe", so containerd must then clamp scores at its own."""
    with contextlib.suppress(OSError, ValueError, StopIteration):
        status = Path("/proc/self/status").read_text().splitlines()
        effective = next(line for line in status if line.startswith("CapEff:"))
        return bool(int(effective.split()[1], 16) >> _CAP_SYS_RESOURCE & 1)
    return False
