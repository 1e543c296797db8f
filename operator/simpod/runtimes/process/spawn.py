"""Processes without threads: ``posix_spawn`` plus a pidfd watched by the event loop.

asyncio's subprocesses on Python 3.11 wait for each child in a thread of its own; with a
hundred pods probing every second that is a hundred threads a second. A pidfd becomes
readable when its process exits, whoever its parent is, so the same mechanism also watches
the containers a previous agent started (after a restart they are no longer our children).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

OUTPUT_LIMIT = 10 * 1024  # the kubelet keeps at most 10 KiB of a probe's or hook's output


def executable(name: str) -> str:
    """The absolute path of ``name`` on PATH; posix_spawn does not search."""
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} not found on PATH")
    return found


def start_time(pid: int) -> int | None:
    """The process's start time in clock ticks (/proc/PID/stat field 22): with the PID it
    identifies a process even after the PID is reused. None if there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[19])


async def exited(pid: int, *, child: bool) -> int | None:
    """Wait until ``pid`` exits; reap it (and return its wait status) if it is our child."""
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        return _reap(pid) if child else None
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()

    def readable() -> None:
        if not done.done():
            done.set_result(None)

    loop.add_reader(pidfd, readable)
    try:
        await done
    finally:
        loop.remove_reader(pidfd)
        os.close(pidfd)
    return _reap(pid) if child else None


def _reap(pid: int) -> int | None:
    with contextlib.suppress(ChildProcessError):
        _, status = os.waitpid(pid, 0)
        return status
    return None


def exit_code(status: int | None) -> int:
    """As a shell reports it: the exit code, or 128 + the signal that killed it."""
    if status is None:
        return 255
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.waitstatus_to_exitcode(status)


def kill_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def signal_process(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)


def spawn(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    stdout: int,
    extra_fds: Mapping[int, int] | None = None,
) -> int:
    """Start ``argv`` in a session of its own (its PID is its process group), stdin from
    /dev/null, stdout and stderr to ``stdout``; ``extra_fds`` maps child fds to ours."""
    actions: list[tuple[int, ...] | tuple[int, int, str, int, int]] = [
        (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
        (os.POSIX_SPAWN_DUP2, stdout, 1),
        (os.POSIX_SPAWN_DUP2, stdout, 2),
    ]
    for target, source in (extra_fds or {}).items():
        actions.append((os.POSIX_SPAWN_DUP2, source, target))
    return os.posix_spawn(argv[0], list(argv), dict(env), file_actions=actions, setsid=True)


@dataclass(frozen=True)
class Completed:
    exit_code: int
    output: str
    timed_out: bool = False


async def run(
    argv: Sequence[str], *, env: Mapping[str, str], timeout: float | None = None
) -> Completed:
    """Run to completion with stdout and stderr combined (first :data:`OUTPUT_LIMIT`
    bytes kept); past ``timeout`` seconds the whole process group is killed."""
    read_end, write_end = os.pipe()
    try:
        pid = spawn(argv, env=env, stdout=write_end)
    except OSError:
        os.close(read_end)
        raise
    finally:
        os.close(write_end)
    loop = asyncio.get_running_loop()
    chunks: list[bytes] = []
    size = 0
    eof = loop.create_future()

    def readable() -> None:
        nonlocal size
        data = os.read(read_end, 65536)
        if not data:
            loop.remove_reader(read_end)
            if not eof.done():
                eof.set_result(None)
        elif size < OUTPUT_LIMIT:
            chunks.append(data[: OUTPUT_LIMIT - size])
            size += len(chunks[-1])

    loop.add_reader(read_end, readable)
    waiting = asyncio.ensure_future(exited(pid, child=True))
    timed_out = False
    try:
        try:
            status = await asyncio.wait_for(asyncio.shield(waiting), timeout)
        except TimeoutError:
            timed_out = True
            kill_group(pid, signal.SIGKILL)
            status = await waiting
        kill_group(pid, signal.SIGKILL)  # what it left behind in its group dies with it
        # Grandchildren may keep the pipe open: read what is there, never wait for them.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(eof), 0.05)
    except asyncio.CancelledError:
        kill_group(pid, signal.SIGKILL)
        raise
    finally:
        loop.remove_reader(read_end)
        os.close(read_end)
    output = b"".join(chunks).decode(errors="replace")
    return Completed(exit_code(status), output, timed_out)
