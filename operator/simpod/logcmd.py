"""``simpod logs POD [-c CONTAINER] [--previous] [-f]``: a process-runtime container's output.

Logs live on the agent's machine (``$SIMPOD_HOME/pods/<namespace>_<name>_<uid>/``), so
this command runs there, like reading ``/var/log/pods`` on a node. Messages follow
``kubectl logs``.
"""

from __future__ import annotations

import sys
import time
from typing import BinaryIO

from simpod.runtimes.process import logs
from simpod.runtimes.process.container import read_report
from simpod.runtimes.process.sandbox import PodDir, pods_dir


class LogsError(Exception):
    """Why there is nothing to show (kubectl's wording where it has one)."""


def find_pod(namespace: str, name: str) -> PodDir:
    """The pod's directory; the newest if pods of that name came and went."""
    matches = sorted(
        pods_dir().glob(f"{namespace}_{name}_*"), key=lambda p: p.stat().st_mtime, reverse=True
    )
    if not matches:
        raise LogsError(
            f'pods "{name}" not found: no process-runtime logs for {namespace}/{name} '
            f"on this machine (under {pods_dir()})"
        )
    return PodDir(matches[0])


def pick_container(pod_dir: PodDir, name: str, container: str | None) -> str:
    root = pod_dir.root / "containers"
    names = sorted(p.name for p in root.iterdir()) if root.is_dir() else []
    if container is not None:
        if container not in names:
            raise LogsError(f"container {container} is not valid for pod {name}")
        return container
    if len(names) == 1:
        return names[0]
    raise LogsError(
        f"a container name must be specified for pod {name}, choose one of: [{' '.join(names)}]"
    )


def pick_attempt(pod_dir: PodDir, pod: str, container: str, *, previous: bool) -> int:
    known = logs.attempts(pod_dir.container(container))
    if previous:
        if len(known) < 2:
            raise LogsError(f'previous terminated container "{container}" in pod "{pod}" not found')
        return known[-2]
    if not known:
        raise LogsError(f'container "{container}" in pod "{pod}" has not started yet')
    return known[-1]


def _follow(pod_dir: PodDir, container: str, attempt: int, out: BinaryIO) -> None:
    """Print the attempt's live log and what it writes until it exits (the monitor wrote
    its exit code); a part rotated away while following is not shown again."""
    log = pod_dir.log(container, attempt)
    status = pod_dir.status(container, attempt)
    offset = 0
    while True:
        finished = read_report(status).exit_code is not None
        size = log.stat().st_size if log.exists() else 0
        if size < offset:  # rotated (copy-truncate): the new content starts at 0
            offset = 0
        if size > offset:
            with log.open("rb") as f:
                f.seek(offset)
                out.write(f.read(size - offset))
                out.flush()
            offset = size
        elif finished or not pod_dir.root.exists():
            return
        time.sleep(logs.FOLLOW_POLL_SECONDS)


def show_logs(
    name: str,
    *,
    namespace: str,
    container: str | None,
    previous: bool,
    follow: bool,
    out: BinaryIO | None = None,
) -> None:
    sink = out if out is not None else sys.stdout.buffer
    pod_dir = find_pod(namespace, name)
    chosen = pick_container(pod_dir, name, container)
    attempt = pick_attempt(pod_dir, name, chosen, previous=previous)
    if follow and not previous:
        _follow(pod_dir, chosen, attempt, sink)
        return
    for chunk in logs.read_all(pod_dir.container(chosen), attempt):
        sink.write(chunk)
    sink.flush()
