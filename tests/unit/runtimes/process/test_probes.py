"""The kubelet's probe rules and texts: URLs, redirects, status codes, dial errors, hooks."""

from __future__ import annotations

import asyncio
import errno

import pytest

from simpod.runtimes.process import hooks, probes
from simpod.runtimes.process.spawn import Completed

CONTAINER = {"name": "app", "ports": [{"name": "http", "containerPort": 8080}]}


def test_http_target_defaults_and_named_port() -> None:
    target = probes.http_target(
        {"port": "http", "path": "healthz", "httpHeaders": [{"name": "X-A", "value": "1"}]},
        CONTAINER,
        "10.244.1.2",
    )
    assert target.url == "http://10.244.1.2:8080/healthz"
    assert dict(target.headers) == {
        "User-Agent": probes.USER_AGENT,
        "Accept": "*/*",
        "X-A": "1",
    }
    assert probes.USER_AGENT.startswith("kube-probe/1.")


def test_https_and_explicit_host() -> None:
    target = probes.http_target(
        {"scheme": "HTTPS", "host": "127.0.0.1", "port": 443}, CONTAINER, "10.0.0.1"
    )
    assert target.url == "https://127.0.0.1:443"


def test_unknown_named_port() -> None:
    with pytest.raises(probes.ProbeSpecError):
        probes.resolve_port("metrics", CONTAINER)


@pytest.mark.parametrize(
    ("location", "hops", "expected"),
    [
        ("/other", 0, "http://10.0.0.1:80/other"),
        ("http://10.0.0.1:81/x", 3, "http://10.0.0.1:81/x"),  # same host, other port
        ("http://example.com/", 0, None),  # another host: stop with the redirect (success)
        ("/again", 10, None),  # too many
    ],
)
def test_redirects_are_followed_only_on_the_same_host(
    location: str, hops: int, expected: str | None
) -> None:
    first = "http://10.0.0.1:80/start"
    assert probes.next_hop(first, location, first=first, hops=hops) == expected


@pytest.mark.parametrize(
    ("code", "success"), [(199, False), (200, True), (302, True), (399, True), (400, False)]
)
def test_status_codes(code: int, success: bool) -> None:
    result = probes.http_status_message(code)
    assert result.success is success
    if not success:
        assert result.message == f"HTTP probe failed with statuscode: {code}"


def test_dial_errors_read_like_go() -> None:
    refused = ConnectionRefusedError(errno.ECONNREFUSED, "Connect call failed ('1.2.3.4', 80)")
    assert probes.dial_error("1.2.3.4:80", refused) == (
        "dial tcp 1.2.3.4:80: connect: connection refused"
    )
    assert probes.dial_error("1.2.3.4:80", TimeoutError()) == "dial tcp 1.2.3.4:80: i/o timeout"


def test_tcp_probe_against_a_closed_local_port() -> None:
    result = asyncio.run(probes.tcp_socket("127.0.0.1", 1, 1.0))
    assert result == probes.Result(False, "dial tcp 127.0.0.1:1: connect: connection refused")


def test_http_probe_against_a_closed_local_port() -> None:
    target = probes.http_target({"port": 1, "path": "/x"}, CONTAINER, "127.0.0.1")
    result = asyncio.run(probes.http_get(target, 1.0))
    assert result.message == (
        'Get "http://127.0.0.1:1/x": dial tcp 127.0.0.1:1: connect: connection refused'
    )


def test_exec_texts() -> None:
    command = ["sh", "-c", "exit 1"]
    assert (
        hooks.exec_error(command, Completed(1, "out")) == "command 'sh -c exit 1' exited with 1: "
    )
    assert hooks.exec_probe_message(command, Completed(1, "out\n")) == "out\n"
    timed_out = Completed(137, "", timed_out=True)
    assert hooks.exec_probe_message(command, timed_out) == 'command "sh -c exit 1" timed out'


def test_hook_failure_texts() -> None:
    ref = "web_ns(u1)"
    exec_msg = hooks.hook_failure(
        {"exec": {"command": ["false"]}},
        container="app",
        pod_ref=ref,
        error="command 'false' exited with 1: ",
        output="no\n",
    )
    assert exec_msg == (
        'Exec lifecycle hook ([false]) for Container "app" in Pod "web_ns(u1)" failed - '
        "error: command 'false' exited with 1: , message: \"no\\n\""
    )
    http_msg = hooks.hook_failure(
        {"httpGet": {"path": "/stop", "port": 80}}, container="app", pod_ref=ref, error="boom"
    )
    assert http_msg == (
        'HTTP lifecycle hook (/stop) for Container "app" in Pod "web_ns(u1)" failed - error: boom'
    )
