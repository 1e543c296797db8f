"""What several scenarios share: bounded concurrency and an operator subprocess."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


async def bounded(items: Iterable[T], op: Callable[[T], Awaitable[object]], *, limit: int) -> None:
    """Run ``op`` over ``items`` with at most ``limit`` requests in flight."""
    sem = asyncio.Semaphore(limit)

    async def one(item: T) -> None:
        async with sem:
            await op(item)

    await asyncio.gather(*(one(i) for i in items))


def start_operator(kubeconfig: str, *args: str, log: Path) -> subprocess.Popen[bytes]:
    """``simpod run ARGS`` in the background, output to ``log``."""
    env = dict(os.environ, KUBECONFIG=kubeconfig)
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "simpod", "run", *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def rss_mb(pid: int) -> float:
    """Resident memory of a process, from /proc (Linux)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0
