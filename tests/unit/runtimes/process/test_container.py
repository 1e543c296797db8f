"""Who containers run as, their file system view, processes, logs and the runtime's gate."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from simpod.runtimes.process import logs, spawn
from simpod.runtimes.process.container import (
    BLOCK_FD,
    NOBODY,
    ConfigRefused,
    Identity,
    Mount,
    identity,
    read_report,
    root_args,
    start,
)
from simpod.runtimes.select import (
    RuntimeContext,
    RuntimeOptions,
    RuntimeUnavailable,
    create_runtime,
)


def test_nobody_by_default_and_run_as_honoured() -> None:
    assert identity({}, {"name": "a"}, allow_privileged=False) == Identity(NOBODY, NOBODY)
    pod = {"securityContext": {"runAsUser": 1000, "runAsGroup": 1000}}
    assert identity(pod, {"securityContext": {"runAsUser": 1001}}, allow_privileged=False) == (
        Identity(1001, 1000)
    )


@pytest.mark.parametrize(
    "container",
    [
        {"name": "a", "securityContext": {"privileged": True}},
        {"name": "a", "securityContext": {"runAsUser": 0}},
    ],
)
def test_root_needs_allow_privileged(container: dict[str, object]) -> None:
    with pytest.raises(ConfigRefused, match="--allow-privileged"):
        identity({}, container, allow_privileged=False)
    assert identity({}, container, allow_privileged=True).uid == 0


def test_missing_mount_points_get_a_tmpfs_parent(tmp_path: Path) -> None:
    args = root_args([Mount(tmp_path, "/usr/share/simpod-test/html")], tmp_path)
    joined = " ".join(args)
    assert "--dir /usr " in joined
    assert "--dir /usr/share " in joined
    assert "--ro-bind /usr/bin /usr/bin" in joined
    assert "--ro-bind /usr /usr" not in joined
    assert f"--bind {tmp_path} /usr/share/simpod-test/html" in joined
    assert "--dir /usr/share/simpod-test --bind" in joined  # 0755, not bwrap's 0700


def test_existing_mount_points_keep_the_host_tree(tmp_path: Path) -> None:
    args = " ".join(root_args([Mount(tmp_path, "/data", read_only=True)], tmp_path))
    assert "--ro-bind /usr /usr" in args
    assert f"--ro-bind {tmp_path} /data" in args
    assert f"--bind {tmp_path} /tmp" in args


def test_run_collects_output_and_exit_code() -> None:
    done = asyncio.run(spawn.run(["/bin/sh", "-c", "echo out; echo err >&2; exit 3"], env={}))
    assert (done.exit_code, done.output, done.timed_out) == (3, "out\nerr\n", False)


def test_run_kills_the_group_on_timeout() -> None:
    began = time.monotonic()
    done = asyncio.run(spawn.run(["/bin/sh", "-c", "sleep 30 & sleep 30"], env={}, timeout=0.2))
    assert done.timed_out and done.exit_code == 137
    assert time.monotonic() - began < 5


def test_a_held_container_runs_its_command_once_released(tmp_path: Path) -> None:
    """Made, then started (runc's create and start): bwrap sets the container up and waits
    on the hold before it runs the command."""
    bwrap = spawn.executable("bwrap")
    argv = [bwrap, "--ro-bind", "/", "/", "--block-fd", str(BLOCK_FD), "--"]
    wait, release = os.pipe()
    log, status = tmp_path / "0.log", tmp_path / "0.status"
    try:
        made = start(
            [*argv, "/bin/sh", "-c", "echo ran"], env={}, log=log, status=status, block=wait
        )
    finally:
        os.close(wait)
    time.sleep(0.3)
    assert log.read_text() == ""  # made, not started
    os.write(release, b"\0")
    os.close(release)
    assert asyncio.run(spawn.exited(made.pid, child=True)) == 0
    assert log.read_text() == "ran\n"


def test_report_parsing(tmp_path: Path) -> None:
    status = tmp_path / "0.status"
    status.write_text('{ "child-pid": 42, "mnt-namespace": 1 }\n{ "exit-code": 143 }')
    report = read_report(status)
    assert (report.child_pid, report.exit_code) == (42, 143)
    assert read_report(tmp_path / "none").exit_code is None


def test_log_rotation_and_pruning(tmp_path: Path) -> None:
    for attempt in range(4):
        (tmp_path / f"{attempt}.log").write_text("x" * 10)
        (tmp_path / f"{attempt}.status").write_text("{}")
    assert logs.rotate(tmp_path / "3.log", max_bytes=5)
    assert (tmp_path / "3.log").read_text() == ""
    assert b"".join(logs.read_all(tmp_path, 3)) == b"x" * 10
    logs.prune(tmp_path, 3)
    assert logs.attempts(tmp_path) == [2, 3]
    assert not (tmp_path / "1.status").exists()


def test_process_runtime_is_off_unless_enabled() -> None:
    body = {
        "metadata": {"name": "p", "namespace": "n", "uid": "u"},
        "spec": {"runtimeClassName": "process", "containers": [{"name": "a", "command": ["x"]}]},
    }
    context = RuntimeContext(pod_ip="10.0.0.2", restore={}, notify=lambda: None)
    with pytest.raises(RuntimeUnavailable, match="--enable-process-runtime"):
        asyncio.run(create_runtime(body, context))


def test_process_runtime_needs_a_command() -> None:
    body = {
        "metadata": {"name": "p", "namespace": "n", "uid": "u"},
        "spec": {"runtimeClassName": "process", "containers": [{"name": "a", "image": "nginx"}]},
    }
    context = RuntimeContext(
        pod_ip="10.0.0.2",
        restore={},
        notify=lambda: None,
        options=RuntimeOptions(enable_process=True),
    )
    with pytest.raises(RuntimeUnavailable, match='container "a" has no command'):
        asyncio.run(create_runtime(body, context))
