"""Container logs: one file per attempt, the current and the previous one kept.

A container writes straight into ``<attempt>.log`` (opened for appending by the agent and
inherited), so its output is kept while the agent is down. Rotation is copy-and-truncate:
past :data:`MAX_BYTES` the file is copied to ``<attempt>.log.1`` and emptied, and the
writer, appending, carries on at the new end. Like the kubelet (``containerLogMaxSize``
10 MiB), at most that much plus one rotated file per attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

MAX_BYTES = 10 * 1024 * 1024
FOLLOW_POLL_SECONDS = 0.2


def rotate(log: Path, *, max_bytes: int = MAX_BYTES) -> bool:
    """Copy-truncate ``log`` if it grew past ``max_bytes``; True if it rotated."""
    try:
        if log.stat().st_size <= max_bytes:
            return False
    except FileNotFoundError:
        return False
    shutil.copyfile(log, log.with_name(log.name + ".1"))
    os.truncate(log, 0)
    return True


def attempt_of(log: Path) -> int:
    return int(log.name.split(".", 1)[0])


def attempts(container_dir: Path) -> list[int]:
    """Attempts that have a log, oldest first."""
    if not container_dir.is_dir():
        return []
    return sorted({attempt_of(p) for p in container_dir.glob("*.log")})


def prune(container_dir: Path, current: int) -> None:
    """Keep the logs (and status files) of the current and the previous attempt only."""
    for path in container_dir.iterdir() if container_dir.is_dir() else []:
        head = path.name.split(".", 1)[0]
        if head.isdigit() and int(head) < current - 1:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


def read_all(container_dir: Path, attempt: int) -> Iterator[bytes]:
    """The rotated part first, then the live file."""
    for name in (f"{attempt}.log.1", f"{attempt}.log"):
        with contextlib.suppress(FileNotFoundError), (container_dir / name).open("rb") as f:
            while chunk := f.read(65536):
                yield chunk


async def periodic_rotation(logs: list[Path], period: float) -> None:
    """Rotate the given (live) logs every ``period`` seconds; the list may change."""
    while True:
        await asyncio.sleep(period)
        for log in list(logs):
            await asyncio.to_thread(rotate, log)
