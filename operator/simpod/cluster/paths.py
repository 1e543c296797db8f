"""Where the embedded control plane keeps binaries, data, logs and credentials.

Everything lives under ``$SIMPOD_HOME`` (default ``~/.local/share/simpod``) so that a
checkout stays clean and a second checkout reuses the multi-minute binary build.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from simpod.cluster.versions import ETCD_VERSION, KUBERNETES_VERSION


def simpod_home() -> Path:
    env = os.environ.get("SIMPOD_HOME")
    return Path(env) if env else Path.home() / ".local" / "share" / "simpod"


def repo_root() -> Path:
    """The source checkout (the package is installed editable from it)."""
    return Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class Layout:
    home: Path

    @property
    def bin_dir(self) -> Path:
        return self.home / "bin" / f"kubernetes-{KUBERNETES_VERSION}-etcd-{ETCD_VERSION}"

    @property
    def cluster_dir(self) -> Path:
        return self.home / "cluster"

    @property
    def pki_dir(self) -> Path:
        return self.cluster_dir / "pki"

    @property
    def etcd_data_dir(self) -> Path:
        return self.cluster_dir / "etcd-data"

    @property
    def log_dir(self) -> Path:
        return self.cluster_dir / "logs"

    @property
    def run_dir(self) -> Path:
        return self.cluster_dir / "run"

    @property
    def state_file(self) -> Path:
        return self.cluster_dir / "state.json"

    @property
    def kubeconfig(self) -> Path:
        return self.cluster_dir / "kubeconfig"

    def binary(self, name: str) -> Path:
        return self.bin_dir / name

    def pid_file(self, name: str) -> Path:
        return self.run_dir / f"{name}.pid"

    def log_file(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"


def layout() -> Layout:
    return Layout(simpod_home())
