"""The `process` runtime: one pod's containers as real processes (see :class:`PodRuntime`).

Each container instance has a :class:`Record` (persisted through :meth:`state`, so a
restarted agent re-attaches to processes that kept running). Work that takes time (start
with its config and volumes, postStart, stop with preStop, probes) runs in tasks of this
object; each change is written to the record and announced through ``notify``, so the
worker re-syncs at once. All times in records are kubelet seconds.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import os
import signal
import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from kubernetes_asyncio.client.exceptions import ApiException

from simpod.core.clock import to_kubelet
from simpod.core.grace import stop_timeout
from simpod.core.model import ContainerSpec, Pod
from simpod.core.probes import ProbeOutcome
from simpod.core.runtime import (
    KILL_EXIT_CODE,
    Action,
    Instance,
    InstanceState,
    KillContainer,
    Observation,
    PreStopFailed,
    ResetPod,
    RunProbe,
    StartContainer,
)
from simpod.kube import Api
from simpod.runtimes.process import container as ctr
from simpod.runtimes.process import env as envs
from simpod.runtimes.process import grpc_probe, hooks, logs, probes, sandbox, spawn, volumes

LOST_EXIT_CODE = 255
CONFIG_RETRY_KUBELET_SECONDS = 10.0
LOG_ROTATION_SECONDS = 5.0
REPORT_WAIT_SECONDS = 1.0
PROBE_LOG = logging.getLogger("simpod.probes")


@dataclass(frozen=True)
class Record:
    """One container instance as this runtime knows it."""

    attempt: int
    pid: int = 0  # the monitor (bwrap): its PID and start time
    start: int = 0
    child: int = 0  # the container's main process, leader of its process group
    started_at: float | None = None
    running: bool = False  # postStart done
    post_start_error: str | None = None
    finished_at: float | None = None
    exit_code: int = 0
    signal: int = 0
    reason: str = ""  # waiting reason while not started, else a terminated reason
    message: str = ""
    stopping: bool = False
    killed: bool = False  # KILL was sent

    @property
    def exited(self) -> bool:
        return self.finished_at is not None


@dataclass(frozen=True)
class Hold:
    """A container made but not started: its monitor, and the pipe its command waits on."""

    attempt: int
    release: int  # the write end
    pid: int


class ApiSources:
    """ConfigMaps and Secrets of one namespace, read once per container start."""

    def __init__(self, api: Api | None, namespace: str) -> None:
        self.api = api
        self.namespace = namespace
        self.cache: dict[tuple[str, str], Mapping[str, str] | None] = {}

    async def _read(self, kind: str, name: str) -> Mapping[str, str] | None:
        if (kind, name) in self.cache:
            return self.cache[kind, name]
        data: Mapping[str, str] | None = None
        if self.api is not None:
            try:
                if kind == "configmap":
                    obj = await self.api.core.read_namespaced_config_map(name, self.namespace)
                    data = dict(obj.data or {})
                else:
                    obj = await self.api.core.read_namespaced_secret(name, self.namespace)
                    data = {
                        k: base64.b64decode(v).decode(errors="replace")
                        for k, v in (obj.data or {}).items()
                    }
            except ApiException as exc:
                if exc.status != 404:
                    raise
        self.cache[kind, name] = data
        return data

    async def config_map(self, name: str) -> Mapping[str, str] | None:
        return await self._read("configmap", name)

    async def secret(self, name: str) -> Mapping[str, str] | None:
        return await self._read("secret", name)


class ProcessPodRuntime:
    def __init__(
        self,
        *,
        body: Mapping[str, Any],
        pod_ip: str,
        host_ip: str,
        pod_cidr: str,
        node_name: str,
        time_scale: float,
        api: Api | None,
        allow_privileged: bool,
        notify: Callable[[], None],
        restore: Mapping[str, Any],
    ) -> None:
        meta = body.get("metadata") or {}
        self.raw_spec: Mapping[str, Any] = body.get("spec") or {}
        self.uid = str(meta.get("uid"))
        self.facts = envs.PodFacts(
            name=str(meta.get("name")),
            namespace=str(meta.get("namespace")),
            uid=self.uid,
            node_name=node_name,
            pod_ip=pod_ip,
            host_ip=host_ip,
            service_account=str(self.raw_spec.get("serviceAccountName") or "default"),
            labels=dict(meta.get("labels") or {}),
            annotations=dict(meta.get("annotations") or {}),
        )
        self.pod_ip, self.pod_cidr = pod_ip, pod_cidr
        self.scale = time_scale
        self.api = api
        self.allow_privileged = allow_privileged
        self.notify = notify
        self.dir = sandbox.PodDir.of(self.facts.namespace, self.facts.name, self.uid)
        self.records: dict[str, Record] = {
            name: Record(**raw) for name, raw in (restore or {}).items()
        }
        self.envs: dict[str, dict[str, str]] = {}
        self.holds: dict[str, Hold] = {}  # containers made, their commands not started
        self.pending: list[Observation] = []
        self.tasks: set[asyncio.Task[None]] = set()
        self.live_logs: list[Path] = []

    # ------------------------------------------------------------------ set-up

    def check(self) -> None:
        """Refuse what this runtime cannot run (a RuntimeUnavailable message)."""
        for c in (*(self.raw_spec.get("initContainers") or ()), *self.raw_spec["containers"]):
            if not c.get("command"):
                raise ctr.ConfigRefused(
                    f'container "{c.get("name")}" has no command: the process runtime runs '
                    "command + args on the agent (images are never pulled)"
                )
            ctr.identity(self.raw_spec, c, allow_privileged=self.allow_privileged)

    async def open(self) -> None:
        """Make (or find) the sandbox and re-attach to what a previous agent started."""
        sandbox.prepare(self.dir, uid=self.uid, node=self.facts.node_name)
        await sandbox.create_network(self.uid, self.pod_ip, self.pod_cidr)
        for name, record in list(self.records.items()):
            if record.exited:
                continue
            if not record.pid:
                self.records[name] = replace(record, reason="", message="")
                self._spawn(self._start_when_possible(name, record.attempt))
            elif spawn.start_time(record.pid) == record.start:
                # postStart or a stop in flight died with the old agent: the container is
                # taken as running, and a stop is finished at once.
                self.records[name] = replace(record, running=record.post_start_error is None)
                self.live_logs.append(self.dir.log(name, record.attempt))
                self._spawn(self._watch(name, record.attempt, child=False))
                if record.stopping:
                    spawn.kill_group(record.child or record.pid, signal.SIGKILL)
            else:
                self._finish(name, record.attempt, None)
        self._spawn(logs.periodic_rotation(self.live_logs, LOG_ROTATION_SECONDS))

    # ------------------------------------------------------------------ PodRuntime

    def instances(self, pod: Pod, now: float) -> Mapping[str, Instance]:
        out = {}
        for name, r in self.records.items():
            if r.exited:
                state = InstanceState.EXITED
            elif r.running:
                state = InstanceState.RUNNING
            else:
                state = InstanceState.CREATED
            out[name] = Instance(
                name=name,
                attempt=r.attempt,
                state=state,
                started_at=r.started_at,
                finished_at=r.finished_at,
                exit_code=r.exit_code,
                signal=r.signal,
                reason=r.reason,
                message=r.message,
                post_start_error=r.post_start_error,
                stopping=r.stopping,
            )
        return out

    def take_observations(self, pod: Pod, now: float) -> Sequence[Observation]:
        due, self.pending = self.pending, []
        return due

    def next_change(self, pod: Pod, now: float) -> float | None:
        return None

    async def apply(self, pod: Pod, action: Action, now: float) -> None:
        if isinstance(action, StartContainer):
            name = action.container.name
            self.records[name] = Record(attempt=action.attempt)
            self._spawn(self._start_when_possible(name, action.attempt, starts_at=action.starts_at))
        elif isinstance(action, KillContainer):
            record = self.records.get(action.container.name)
            if record is None or record.attempt != action.attempt or record.exited:
                return
            if record.stopping:
                return
            self.records[action.container.name] = replace(record, stopping=True)
            self._spawn(self._stop(action.container, action.attempt, action.grace_seconds))
        elif isinstance(action, RunProbe):
            self._spawn(self._probe(action))
        elif isinstance(action, ResetPod):
            self.records.clear()

    def state(self) -> Mapping[str, Any]:
        return {name: asdict(r) for name, r in self.records.items()}

    async def release(self) -> None:
        """The pod is gone: its processes, network namespace and files go too."""
        await self.detach()
        await sandbox.destroy(self.dir, self.uid)

    async def detach(self) -> None:
        """Stop watching (the agent is stopping); the processes carry on, held ones started
        (their records say made: the next agent takes them as running)."""
        tasks = list(self.tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for name, hold in list(self.holds.items()):
            if self._wanted(name, hold.attempt):
                self._release(name, hold.attempt)
            else:
                self._kill_held(name, hold.attempt)

    # ------------------------------------------------------------------ helpers

    def _spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            import logging  # noqa: PLC0415

            logging.getLogger("simpod.runtime.process").error(
                "pod %s/%s: %s", self.facts.namespace, self.facts.name, task.exception()
            )

    def _now(self) -> float:
        return to_kubelet(time.time(), self.scale)

    def _current(self, name: str, attempt: int) -> Record | None:
        record = self.records.get(name)
        return record if record is not None and record.attempt == attempt else None

    def _wanted(self, name: str, attempt: int) -> bool:
        """Whether instance ``attempt`` is still to be started: current and not stopped."""
        record = self._current(name, attempt)
        return record is not None and not record.stopping

    def _update(self, name: str, attempt: int, **changes: Any) -> None:
        record = self._current(name, attempt)
        if record is not None:
            self.records[name] = replace(record, **changes)
            self._record_processes()
            self.notify()

    def _record_processes(self) -> None:
        """What `simpod cluster down` kills without the API: live process groups."""
        live = {
            name: (r.child or r.pid, spawn.start_time(r.child or r.pid))
            for name, r in self.records.items()
            if r.pid and not r.exited
        }
        record = sandbox.read_record(self.dir)
        if record.get("processes") != live:
            sandbox.write_record(self.dir, {**record, "processes": live})

    def _spec(self, name: str) -> Mapping[str, Any]:
        for c in (*(self.raw_spec.get("initContainers") or ()), *self.raw_spec["containers"]):
            if c.get("name") == name:
                return dict(c)
        return {"name": name}

    def _wall(self, kubelet_seconds: float, *, floor: float = 0.0) -> float:
        return max(kubelet_seconds / self.scale, floor)

    def _identity(self, raw: Mapping[str, Any]) -> ctr.Identity:
        return ctr.identity(self.raw_spec, raw, allow_privileged=self.allow_privileged)

    async def _exec(
        self, name: str, command: Sequence[str], timeout: float | None
    ) -> spawn.Completed:
        record = self.records.get(name)
        raw = self._spec(name)
        if record is not None and record.pid and not record.child:
            await self._child_pid(name, record.attempt)
            record = self.records.get(name)
        if record is None or not record.child:
            return spawn.Completed(LOST_EXIT_CODE, "container is not running")
        argv = ctr.exec_argv(record.child, self._identity(raw), command)
        env = self.envs.get(name) or envs.base_env(self.facts)
        return await spawn.run(argv, env=env, timeout=timeout)

    # ------------------------------------------------------------------ start

    async def _start_when_possible(
        self, name: str, attempt: int, *, starts_at: float | None = None
    ) -> None:
        """Resolve env and volumes (retrying, as the kubelet does, while a ConfigMap or
        Secret is missing), then make the container and start its command at
        ``starts_at`` (kubelet time; at once without it), and run postStart.

        Made first, started later, as runc's create and start: the spawn and the sandbox's
        set-up (tens of milliseconds, more under load) fall within the create's time
        instead of delaying the command past the moment the kubelet's sync set for it."""
        raw = self._spec(name)
        while self._wanted(name, attempt):
            sources = ApiSources(self.api, self.facts.namespace)
            try:
                paths = await volumes.prepare(self.raw_spec, self.dir, sources)
                variables = await envs.container_env(raw, self.facts, sources)
                mounts = volumes.mounts(raw, self.raw_spec, paths)
            except volumes.VolumeError as exc:
                self._update(name, attempt, reason="ContainerCreating", message=str(exc))
            except envs.ConfigError as exc:
                self._update(name, attempt, reason=envs.CONFIG_ERROR, message=str(exc))
            else:
                if not self._wanted(name, attempt):
                    return  # stopped while its config was read: _stop recorded it
                variables = {**envs.base_env(self.facts), **variables}
                self._launch(name, attempt, raw, mounts, variables, held=starts_at is not None)
                if starts_at is not None:
                    await asyncio.sleep(self._wall(starts_at - self._now()))
                    if not self._wanted(name, attempt):
                        self._kill_held(name, attempt)
                        return
                    self._release(name, attempt)
                break
            await asyncio.sleep(self._wall(CONFIG_RETRY_KUBELET_SECONDS, floor=1.0))
        record = self._current(name, attempt)
        if record is None or not record.pid:
            return
        self._spawn(self._watch(name, attempt, child=True))
        await self._post_start(name, attempt, raw)

    def _launch(
        self,
        name: str,
        attempt: int,
        raw: Mapping[str, Any],
        mounts: Sequence[ctr.Mount],
        variables: dict[str, str],
        *,
        held: bool,
    ) -> None:
        """Make the container; ``held``, its command waits for :meth:`_release`."""
        self.envs[name] = variables
        argv = ctr.sandbox_argv(
            uid=self.uid,
            hostname=self.facts.name,
            mounts=mounts,
            tmp=self.dir.tmp,
            working_dir=str(raw.get("workingDir") or "/"),
            who=self._identity(raw),
            command=envs.command_line(raw, variables),
            status_fd=ctr.STATUS_FD,
            block_fd=ctr.BLOCK_FD if held else None,
        )
        log = self.dir.log(name, attempt)
        logs.prune(self.dir.container(name), attempt)
        status = self.dir.status(name, attempt)
        if held:
            wait, release = os.pipe()
            try:
                started = ctr.start(argv, env=variables, log=log, status=status, block=wait)
            except BaseException:
                os.close(release)
                raise
            finally:
                os.close(wait)
            self.holds[name] = Hold(attempt=attempt, release=release, pid=started.pid)
        else:
            started = ctr.start(argv, env=variables, log=log, status=status)
        self.live_logs.append(log)
        self._update(
            name,
            attempt,
            pid=started.pid,
            start=started.start,
            reason="",
            message="",
        )

    def _held(self, name: str, attempt: int) -> Hold | None:
        """Instance ``attempt``'s hold, if it is made and its command not started."""
        hold = self.holds.get(name)
        return hold if hold is not None and hold.attempt == attempt else None

    def _done_logging(self, name: str, attempt: int) -> Path:
        """Instance ``attempt``'s log, no longer rotated: nothing writes to it any more."""
        log = self.dir.log(name, attempt)
        if log in self.live_logs:
            self.live_logs.remove(log)
        return log

    @staticmethod
    async def _reap(pid: int) -> None:
        """A killed monitor nothing else waits for (no ``_watch``: its command never ran)."""
        await spawn.exited(pid, child=True)

    def _release(self, name: str, attempt: int) -> None:
        """Start a held container's command (the byte its monitor's child waits for; a
        child that died setting the container up leaves no reader, and its exit is
        recorded as any other)."""
        hold = self.holds.pop(name)
        assert hold.attempt == attempt
        try:
            with contextlib.suppress(BrokenPipeError):
                os.write(hold.release, b"\0")
        finally:
            os.close(hold.release)

    def _kill_held(self, name: str, attempt: int) -> None:
        """Instance ``attempt``, stopped before its command ran (or never made): killed
        as it is (KILL reaches its monitor's whole group, the waiting child included) and
        recorded as killed, once."""
        hold = self._held(name, attempt)
        if hold is not None:
            del self.holds[name]
            spawn.kill_group(hold.pid, signal.SIGKILL)
            os.close(hold.release)
            self._spawn(self._reap(hold.pid))
            self._done_logging(name, attempt)
        record = self._current(name, attempt)
        if record is not None and not record.exited:
            self._update(
                name,
                attempt,
                finished_at=self._now(),
                exit_code=KILL_EXIT_CODE,
                signal=signal.SIGKILL.value,
                reason="",
                message="",
            )

    async def _post_start(self, name: str, attempt: int, raw: Mapping[str, Any]) -> None:
        handler = (raw.get("lifecycle") or {}).get("postStart")
        error = None
        await self._child_pid(name, attempt)
        if handler:
            error = await self._hook(name, handler, timeout=None)
        if error is None:
            self._update(name, attempt, running=True)
        else:
            self._update(name, attempt, post_start_error=error)

    async def _hook(
        self, name: str, handler: Mapping[str, Any], *, timeout: float | None
    ) -> str | None:
        return await hooks.run_hook(
            handler,
            container=self._spec(name),
            pod_ref=f"{self.facts.name}_{self.facts.namespace}({self.uid})",
            pod_ip=self.pod_ip,
            run_exec=lambda command, limit: self._exec(name, command, limit),
            time_scale=self.scale,
            timeout=timeout,
        )

    async def _child_pid(self, name: str, attempt: int) -> int:
        """The main process's PID, once it runs the container's command. The monitor
        reports it right after cloning it, while it still builds the container's mounts:
        an exec joining it then would see a half-made file system."""
        deadline = time.monotonic() + REPORT_WAIT_SECONDS
        while True:
            record = self._current(name, attempt)
            if record is None:
                return 0
            if record.child:
                return record.child
            child = ctr.read_report(self.dir.status(name, attempt)).child_pid or 0
            if (child and ctr.in_command(child)) or time.monotonic() > deadline:
                # The container counts as started from here, as runc's start returns once
                # the command runs: its lifetime is the command's own.
                self._update(name, attempt, child=child, started_at=self._now())
                return child
            await asyncio.sleep(0.005)

    # ------------------------------------------------------------------ exit

    async def _watch(self, name: str, attempt: int, *, child: bool) -> None:
        record = self._current(name, attempt)
        if record is None:
            return
        await self._child_pid(name, attempt)
        status = await spawn.exited(record.pid, child=child)
        self._finish(name, attempt, status)

    def _finish(self, name: str, attempt: int, status: int | None) -> None:
        record = self._current(name, attempt)
        if record is None or record.exited:
            return
        report = ctr.read_report(self.dir.status(name, attempt))
        if record.child:
            spawn.kill_group(record.child, signal.SIGKILL)  # what it left in its group
        log = self._done_logging(name, attempt)
        if report.exit_code is not None:
            code, reason, message = report.exit_code, "", ""
        elif status is not None and record.child:
            code, reason, message = spawn.exit_code(status), "", ""
        else:
            code, reason = LOST_EXIT_CODE, "Unknown"
            message = "the container's process was lost (its monitor is gone)"
        if status is not None and report.exit_code is None and not record.child:
            message = self._startup_failure(log) or message
        self._update(
            name,
            attempt,
            finished_at=self._now(),
            exit_code=code,
            signal=signal.SIGKILL.value if record.killed and code == KILL_EXIT_CODE else 0,
            reason=reason,
            message=message,
        )

    @staticmethod
    def _startup_failure(log: Path) -> str:
        """bwrap's own complaint (e.g. a command not found) is the last line of the log."""
        with contextlib.suppress(OSError):
            lines = log.read_text(errors="replace").strip().splitlines()
            return lines[-1] if lines else ""
        return ""

    # ------------------------------------------------------------------ stop

    async def _stop(self, c: ContainerSpec, attempt: int, grace: float) -> None:
        """preStop within the grace, TERM, then KILL when what is left of it runs out."""
        record = self._current(c.name, attempt)
        if record is None or record.exited:
            return
        if not record.pid or self._held(c.name, attempt) is not None:
            self._kill_held(c.name, attempt)
            return
        child = await self._child_pid(c.name, attempt)
        began = time.monotonic()
        if c.pre_stop and grace > 0:
            # Waited for up to the grace, never stopped: an exec hook dies with the
            # container, and its failure is reported whenever it comes.
            hook = self._spawn(self._pre_stop(c))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(hook), self._wall(grace))
        elapsed = (time.monotonic() - began) * self.scale
        if child:  # to the main process only, as the container runtime signals its init
            spawn.signal_process(child, signal.SIGTERM)
        timeout = self._wall(stop_timeout(grace, elapsed))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while (r := self._current(c.name, attempt)) is not None and not r.exited:
                    await asyncio.sleep(0.05)
            return
        self._update(c.name, attempt, killed=True)
        spawn.kill_group(child or record.pid, signal.SIGKILL)

    async def _pre_stop(self, c: ContainerSpec) -> None:
        assert c.pre_stop is not None
        if await self._hook(c.name, c.pre_stop, timeout=None) is not None:
            self.pending.append(PreStopFailed(c.name))
            self.notify()

    # ------------------------------------------------------------------ probes

    async def _probe(self, action: RunProbe) -> None:
        raw = self._spec(action.container.name)
        handler = action.probe.handler
        timeout = self._wall(action.probe.timeout_seconds, floor=1.0)
        began = time.monotonic()
        try:
            if "exec" in handler:
                command = [str(x) for x in handler["exec"].get("command") or ()]
                done = await self._exec(action.container.name, command, timeout)
                result = probes.Result(
                    done.exit_code == 0 and not done.timed_out,
                    hooks.exec_probe_message(command, done),
                )
            elif "httpGet" in handler:
                target = probes.http_target(handler["httpGet"], raw, self.pod_ip)
                result = await probes.http_get(target, timeout)
            elif "tcpSocket" in handler:
                tcp = handler["tcpSocket"]
                port = probes.resolve_port(tcp.get("port"), raw)
                result = await probes.tcp_socket(str(tcp.get("host") or self.pod_ip), port, timeout)
            else:
                grpc = handler["grpc"]
                result = await grpc_probe.check(
                    self.pod_ip,
                    int(grpc.get("port", 0)),
                    str(grpc.get("service") or ""),
                    timeout=timeout,
                    shown=max(action.probe.timeout_seconds, 1),
                )
        except probes.ProbeSpecError as exc:
            result = probes.Result(False, str(exc))
        # The kubelet's prober_probe_duration_seconds, as a debug log line that `make bench`
        # reads (SIMPOD_DEBUG_LOGGERS=simpod.probes).
        PROBE_LOG.debug(
            "probe %s %s %.3f ms",
            action.kind.value,
            next(iter(handler), "?"),
            1000 * (time.monotonic() - began),
        )
        self.pending.append(
            ProbeOutcome(
                action.container.name,
                action.kind,
                action.attempt,
                result.success,
                "" if result.success else result.message,
                issued_at=action.issued_at,
            )
        )
        self.notify()
