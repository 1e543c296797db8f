"""Lifecycle hooks (postStart, preStop) and exec probes: what runs and the kubelet's texts.

The messages quote the kubelet (``pkg/kubelet/lifecycle/handlers.go`` and the CRI's
ExecSync errors) so that Events read the same as a Pod's.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from simpod.runtimes.process import probes
from simpod.runtimes.process.spawn import Completed

Exec = Callable[[Sequence[str], float | None], Awaitable[Completed]]


def go_quote(text: str) -> str:
    """Go's %q for the texts we quote (JSON escapes agree with it for printable text)."""
    return json.dumps(text, ensure_ascii=False)


def exec_error(command: Sequence[str], done: Completed) -> str:
    """The CRI's ExecSync error for a non-zero exit or a timeout."""
    joined = " ".join(command)
    if done.timed_out:
        return f"command {go_quote(joined)} timed out"
    return f"command '{joined}' exited with {done.exit_code}: "


def exec_probe_message(command: Sequence[str], done: Completed) -> str:
    """An exec probe's failure output: the command's output, or the timeout error."""
    return exec_error(command, done) if done.timed_out else done.output


def hook_failure(
    handler: Mapping[str, Any], *, container: str, pod_ref: str, error: str, output: str = ""
) -> str:
    """The FailedPostStartHook / FailedPreStopHook message."""
    where = f"for Container {go_quote(container)} in Pod {go_quote(pod_ref)} failed - error: "
    if "exec" in handler:
        command = " ".join(str(c) for c in handler["exec"].get("command") or ())
        return f"Exec lifecycle hook ([{command}]) {where}{error}, message: {go_quote(output)}"
    if "httpGet" in handler:
        return f"HTTP lifecycle hook ({handler['httpGet'].get('path', '')}) {where}{error}"
    return f"Sleep lifecycle hook ({handler.get('sleep', {}).get('seconds', 0)}) {where}{error}"


async def run_hook(
    handler: Mapping[str, Any],
    *,
    container: Mapping[str, Any],
    pod_ref: str,
    pod_ip: str,
    run_exec: Exec,
    time_scale: float,
    timeout: float | None,
) -> str | None:
    """Run one hook handler; the failure message, or None when it succeeded. ``timeout`` is
    wall seconds (None: none)."""
    name = str(container.get("name", ""))
    if "exec" in handler:
        command = [str(c) for c in handler["exec"].get("command") or ()]
        done = await run_exec(command, timeout)
        if done.exit_code == 0 and not done.timed_out:
            return None
        error = exec_error(command, done)
        return hook_failure(
            handler, container=name, pod_ref=pod_ref, error=error, output=done.output
        )
    if "httpGet" in handler:
        try:
            target = probes.http_target(handler["httpGet"], container, pod_ip)
        except probes.ProbeSpecError as exc:
            return hook_failure(handler, container=name, pod_ref=pod_ref, error=str(exc))
        failed = await probes.http_reachable(target, timeout or 3600.0)
        if failed is None:
            return None
        return hook_failure(handler, container=name, pod_ref=pod_ref, error=failed)
    if "sleep" in handler:
        seconds = float(handler["sleep"].get("seconds", 0))
        await asyncio.sleep(seconds / time_scale)
    return None
