"""How one container runs: a bubblewrap sandbox in the pod's network namespace.

The process tree of a container is ``bwrap`` (the *monitor*, started by the agent in a
session of its own) and its child, the container's main process, which calls setsid: the
container is its own process group, so a KILL reaches its processes and nothing else. The
main process is PID 1 of a PID namespace of its own, as in a real container: the kernel
drops a signal sent to it from outside unless it handles that signal (KILL excepted), so a
process without a TERM handler outlives TERM until the grace ends, and the rest of the
container dies with it. The monitor waits for the child and writes its PID and exit code
(128 + signal when killed: 143 for TERM, 137 for KILL) to the attempt's status file; it
does not depend on the agent, so containers survive an agent restart and their exit is
still recorded.

The container sees the host's file system read-only, its own /dev and /proc, the pod's
/tmp, and its volume mounts. A mount point that does not exist on the host is created on
a tmpfs that stands in for its parent directories, every other entry of which is bound
read-only from the host, so ``/usr/share/nginx/html`` works without touching the host.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from simpod.runtimes.process import spawn
from simpod.runtimes.process.sandbox import NETNS_DIR, netns_name

NOBODY = 65534
ROOT_SPECIAL = frozenset({"dev", "proc", "tmp"})  # replaced, never bound from the host


class ConfigRefused(Exception):
    """The container's security settings are not allowed on this agent."""


@dataclass(frozen=True)
class Identity:
    """Who the container's processes run as."""

    uid: int = NOBODY
    gid: int = NOBODY
    privileged: bool = False


def identity(
    pod_spec: Mapping[str, Any], container: Mapping[str, Any], *, allow_privileged: bool
) -> Identity:
    """runAsUser/runAsGroup (the container's over the pod's), nobody by default. Root and
    privileged containers need the agent's --allow-privileged: they are root on the host."""
    pod_ctx = pod_spec.get("securityContext") or {}
    ctx = container.get("securityContext") or {}
    privileged = bool(ctx.get("privileged"))
    default_uid = 0 if privileged else NOBODY
    uid = int(ctx.get("runAsUser", pod_ctx.get("runAsUser", default_uid)))
    gid = int(ctx.get("runAsGroup", pod_ctx.get("runAsGroup", uid if uid != NOBODY else NOBODY)))
    if (privileged or uid == 0) and not allow_privileged:
        what = "securityContext.privileged" if privileged else "runAsUser: 0"
        raise ConfigRefused(
            f'container "{container.get("name", "")}" asks for {what}, which runs it as root '
            "on the agent's host; start the agent with --allow-privileged to allow it"
        )
    return Identity(uid=uid, gid=gid, privileged=privileged)


@dataclass(frozen=True)
class Mount:
    source: Path
    destination: str
    read_only: bool = False


def _synthesized(destinations: Sequence[str]) -> set[PurePosixPath]:
    """Host directories to rebuild on a tmpfs because a mount point must be created in
    them: each deepest existing ancestor of a missing mount point, and its ancestors."""
    out = {PurePosixPath("/")}
    for destination in destinations:
        path = PurePosixPath(destination)
        if len(path.parts) < 2 or path.parts[1] in ROOT_SPECIAL:
            continue  # under the pod's /tmp (writable) or a virtual file system
        for parent in reversed(path.parents):
            child = next(p for p in [path, *path.parents] if p.parent == parent)
            if not os.path.isdir(parent):
                break
            if not os.path.lexists(child):
                out.update({parent, *parent.parents})
                break
    return out


def root_args(mounts: Sequence[Mount], tmp: Path) -> list[str]:
    """bwrap arguments for the container's file system view."""
    synth = _synthesized([m.destination for m in mounts])
    args: list[str] = []
    for directory in sorted(synth, key=lambda p: len(p.parts)):
        if directory != PurePosixPath("/"):
            args += ["--dir", str(directory)]
        for name in sorted(os.listdir(directory)):
            entry = directory / name
            if entry in synth or (directory == PurePosixPath("/") and name in ROOT_SPECIAL):
                continue
            if os.path.islink(entry):
                args += ["--symlink", os.readlink(entry), str(entry)]
            else:
                args += ["--ro-bind", str(entry), str(entry)]
    args += ["--dev", "/dev", "--proc", "/proc", "--bind", str(tmp), "/tmp"]
    for mount in mounts:
        # bwrap would make missing parents 0700 (root's only): make them 0755 first.
        for parent in reversed(PurePosixPath(mount.destination).parents[:-1]):
            args += ["--dir", str(parent)]
        flag = "--ro-bind" if mount.read_only else "--bind"
        args += [flag, str(mount.source), mount.destination]
    return args


def setpriv_args(who: Identity) -> list[str]:
    """Drop to the container's user and drop every capability (privileged: stay root)."""
    if who.privileged:
        return []
    return [
        spawn.executable("setpriv"),
        f"--reuid={who.uid}",
        f"--regid={who.gid}",
        "--clear-groups",
        "--inh-caps=-all",
        "--bounding-set=-all",
        "--",
    ]


def bwrap_caps(who: Identity) -> list[str]:
    """bwrap keeps only what setpriv needs to change user (all, if privileged)."""
    if who.privileged:
        return ["--cap-add", "ALL"]
    return ["--cap-drop", "ALL"] + [
        arg for cap in ("CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP") for arg in ("--cap-add", cap)
    ]


def exec_argv(child_pid: int, who: Identity, command: Sequence[str]) -> list[str]:
    """A command in a running container's view (its mounts, hostname, network, processes,
    working directory), as its user: how exec probes and exec hooks run."""
    argv = [spawn.executable("nsenter"), "-t", str(child_pid), "-m", "-u", "-n", "-p", "-r", "-w"]
    argv.append("--")
    return [*argv, *setpriv_args(who), *command]


def sandbox_argv(
    *,
    uid: str,
    hostname: str,
    mounts: Sequence[Mount],
    tmp: Path,
    working_dir: str,
    who: Identity,
    command: Sequence[str],
    status_fd: int | None = None,
    block_fd: int | None = None,
) -> list[str]:
    """The full command line of one container (or of an exec in its view); with
    ``block_fd``, the container is made but its command waits for a byte (or EOF) there."""
    argv = [
        spawn.executable("nsenter"),
        f"--net={NETNS_DIR / netns_name(uid)}",
        "--",
        spawn.executable("bwrap"),
        *root_args(mounts, tmp),
        "--unshare-uts",
        "--unshare-pid",
        "--as-pid-1",
        "--hostname",
        hostname,
        "--new-session",
        "--chdir",
        working_dir or "/",
    ]
    if status_fd is not None:
        argv += ["--json-status-fd", str(status_fd)]
    if block_fd is not None:
        argv += ["--block-fd", str(block_fd)]
    return [*argv, *bwrap_caps(who), "--", *setpriv_args(who), *command]


@dataclass(frozen=True)
class Started:
    """A container's monitor: its PID and start time identify it across agent restarts."""

    pid: int
    start: int


STATUS_FD = 3
BLOCK_FD = 4


def start(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    log: Path,
    status: Path,
    block: int | None = None,
) -> Started:
    """Start the monitor with output appended to ``log`` and bwrap's status to ``status``
    (and ``block``, the read end of the container's hold, as :data:`BLOCK_FD`)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
    status_fd = os.open(status, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
    fds = {STATUS_FD: status_fd} if block is None else {STATUS_FD: status_fd, BLOCK_FD: block}
    try:
        pid = spawn.spawn(argv, env=env, stdout=out, extra_fds=fds)
    finally:
        os.close(out)
        os.close(status_fd)
    return Started(pid=pid, start=spawn.start_time(pid) or 0)


@dataclass(frozen=True)
class Report:
    """What the monitor wrote: the main process's PID, then its exit code."""

    child_pid: int | None = None
    exit_code: int | None = None


def in_command(pid: int) -> bool:
    """The container's main process has left bwrap and setpriv for its command (or is
    gone, which is as final)."""
    try:
        exe = os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return True
    return os.path.basename(exe) not in ("bwrap", "setpriv")


def read_report(status: Path) -> Report:
    child = code = None
    try:
        text = status.read_text()
    except OSError:
        return Report()
    for line in text.replace("}{", "}\n{").splitlines():
        try:
            item = json.loads(line)
        except ValueError:
            continue
        child = item.get("child-pid", child)
        code = item.get("exit-code", code)
    return Report(child_pid=child, exit_code=code)
