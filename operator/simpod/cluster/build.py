"""Build the control-plane binaries from Go modules with the machine's Go toolchain.

No registry here ships kube-apiserver or etcd binaries, so they are compiled from the
wrapper modules in ``hack/controlplane/`` (which pin ``k8s.io/kubernetes`` and every
staging module) once into ``$SIMPOD_HOME/bin/<versions>/`` and reused afterwards.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from simpod.cluster.paths import Layout, repo_root
from simpod.cluster.versions import CRICTL_VERSION, KUBERNETES_VERSION


class BuildError(RuntimeError):
    """The binaries could not be built; the message says what to do instead."""


@dataclass(frozen=True)
class GoTarget:
    """One binary built by ``go build`` in one Go module under ``hack/``."""

    module_dir: str
    package: str
    binary: str
    ldflags: str = ""


def _kubernetes_ldflags() -> str:
    """Stamp the release version, as the Kubernetes release build does (kubectl and
    kubelets compare it; an unstamped build reports v0.0.0-master)."""
    major, minor, _ = KUBERNETES_VERSION.lstrip("v").split(".")
    stamps = {
        "gitVersion": KUBERNETES_VERSION,
        "gitMajor": major,
        "gitMinor": minor,
        "gitTreeState": "clean",
    }
    return " ".join(
        f"-X {pkg}.{key}={value}"
        for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version")
        for key, value in stamps.items()
    )


def _kubernetes(name: str) -> GoTarget:
    return GoTarget(
        "controlplane/kubernetes", f"k8s.io/kubernetes/cmd/{name}", name, _kubernetes_ldflags()
    )


TARGETS: tuple[GoTarget, ...] = (
    GoTarget("controlplane/etcd", "go.etcd.io/etcd/server/v3", "etcd"),
    *map(_kubernetes, ("kube-apiserver", "kube-controller-manager", "kubectl")),
)

# Only ``cluster up --with-node`` needs these, so a plain ``up`` never waits for them.
NODE_TARGETS: tuple[GoTarget, ...] = (
    *map(_kubernetes, ("kubelet", "kube-scheduler")),
    GoTarget(
        "controlplane/cri-tools",
        "sigs.k8s.io/cri-tools/cmd/crictl",
        "crictl",
        f"-X sigs.k8s.io/cri-tools/pkg/version.Version={CRICTL_VERSION}",
    ),
    GoTarget("images/pause", "simpod.dev/hack/images/pause", "simpod-pause", "-s -w"),
)

NO_GO_HELP = """\
Go is not installed, so the embedded control plane cannot be built.
Either install Go 1.25 or newer (Debian: `apt-get install golang-go` if recent enough,
or a release from go.dev placed on PATH), then run `simpod cluster up` again;
or point simpod at an existing cluster instead:
    export KUBECONFIG=/path/to/kubeconfig
    kubectl apply -f crds/
    simpod run --nodes 3
"""


def missing_binaries(layout: Layout, targets: tuple[GoTarget, ...] = TARGETS) -> list[str]:
    return [t.binary for t in targets if not layout.binary(t.binary).is_file()]


def ensure_binaries(
    layout: Layout,
    *,
    targets: tuple[GoTarget, ...] = TARGETS,
    out: _Progress | None = None,
) -> float:
    """Build whatever binary is missing; returns the seconds spent building (0 if cached)."""
    if not missing_binaries(layout, targets):
        return 0.0
    go = shutil.which("go")
    if go is None:
        raise BuildError(NO_GO_HELP)
    progress = out or _Progress()
    started = time.monotonic()
    layout.bin_dir.mkdir(parents=True, exist_ok=True)
    for target in targets:
        if not layout.binary(target.binary).is_file():
            _go_build(go, target, layout.binary(target.binary), progress)
    return time.monotonic() - started


class _Progress:
    """Prints one line per compiled package count, so a multi-minute build visibly moves."""

    def __init__(self) -> None:
        self.count = 0
        self.tty = sys.stderr.isatty()

    def package(self, name: str) -> None:
        self.count += 1
        if self.tty:
            sys.stderr.write(f"\r  compiled {self.count} packages ({name[:60]:60})")
        elif self.count % 100 == 0:
            sys.stderr.write(f"  compiled {self.count} packages\n")
        sys.stderr.flush()

    def done(self) -> None:
        if self.tty:
            sys.stderr.write("\n")


def _go_build(go: str, target: GoTarget, output: Path, progress: _Progress) -> None:
    module_dir = repo_root() / "hack" / target.module_dir
    if not (module_dir / "go.mod").is_file():
        raise BuildError(f"wrapper module not found at {module_dir}; run from a simpod checkout")
    env = dict(os.environ, CGO_ENABLED="0", GOFLAGS="-mod=mod")
    env.setdefault("GOTOOLCHAIN", "local")
    sys.stderr.write(f"building {target.binary} from Go modules (first use only; takes minutes)\n")
    partial = output.with_name(output.name + ".partial")
    cmd = [
        go,
        "build",
        "-v",
        "-trimpath",
        "-ldflags",
        target.ldflags,
        "-o",
        str(partial),
        target.package,
    ]
    proc = subprocess.Popen(
        cmd, cwd=module_dir, env=env, stderr=subprocess.PIPE, text=True, bufsize=1
    )
    assert proc.stderr is not None
    tail: list[str] = []
    for raw in proc.stderr:
        line = raw.rstrip()
        if line and " " not in line:
            progress.package(line)
        else:
            tail = [*tail[-30:], line]
    progress.done()
    if proc.wait() != 0:
        raise BuildError(f"go build of {target.binary} failed:\n" + "\n".join(tail))
    partial.replace(output)
