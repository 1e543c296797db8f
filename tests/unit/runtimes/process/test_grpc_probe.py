"""The grpc probe against a real gRPC server (grpcio's, with the standard health service):
each outcome with the kubelet's text."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from concurrent import futures

import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from simpod.runtimes.process import grpc_probe
from simpod.runtimes.process.probes import Result

HOST = "127.0.0.1"


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[int, health.HealthServicer]]:
    srv = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, srv)
    port = srv.add_insecure_port(f"{HOST}:0")
    srv.start()
    servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    servicer.set("db", health_pb2.HealthCheckResponse.NOT_SERVING)
    yield port, servicer
    srv.stop(None)


def probe(port: int, service: str = "", timeout: float = 2.0) -> Result:
    return asyncio.run(grpc_probe.check(HOST, port, service, timeout=timeout, shown=1))


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def test_serving(server: tuple[int, health.HealthServicer]) -> None:
    assert probe(server[0]) == Result(True, "service healthy")


def test_not_serving(server: tuple[int, health.HealthServicer]) -> None:
    assert probe(server[0], "db") == Result(
        False, 'service unhealthy (responded with "NOT_SERVING")'
    )


def test_unknown_service_is_an_rpc_error(server: tuple[int, health.HealthServicer]) -> None:
    # grpcio's health service sets NOT_FOUND without a message (grpc-go's says "unknown
    # service"): the text is the kubelet's frame around whatever the server said.
    assert probe(server[0], "nope") == Result(
        False, "error: health rpc probe failed: rpc error: code = NotFound desc = "
    )


def test_a_server_without_the_health_service() -> None:
    srv = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    port = srv.add_insecure_port(f"{HOST}:0")
    srv.start()
    try:
        result = probe(port)
    finally:
        srv.stop(None)
    assert not result.success
    assert result.message.startswith(
        "error: this server does not implement the grpc health protocol (grpc.health.v1.Health): "
    )


def test_nothing_listening_lasts_the_whole_timeout() -> None:
    port = free_port()
    began = time.monotonic()
    result = probe(port, timeout=0.3)
    assert time.monotonic() - began >= 0.3
    assert result == Result(
        False,
        f'timeout: failed to connect service "{HOST}:{port}" within 1s: context deadline exceeded',
    )


def test_a_server_that_does_not_speak_http2_is_a_connect_timeout() -> None:
    async def run() -> Result:
        async def http1(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.read(100)
            writer.write(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n")
            writer.close()

        listener = await asyncio.start_server(http1, HOST, 0)
        port = listener.sockets[0].getsockname()[1]
        async with listener:
            return await grpc_probe.check(HOST, port, "", timeout=0.3, shown=1)

    assert asyncio.run(run()).message.startswith("timeout: failed to connect service")


def test_go_duration() -> None:
    assert [grpc_probe.go_duration(s) for s in (1, 2.5, 0.5)] == ["1s", "2.5s", "500ms"]


def test_request_encoding_round_trip() -> None:
    frame = grpc_probe.encode_request("db")
    assert frame[0] == 0 and int.from_bytes(frame[1:5], "big") == len(frame) - 5
    parsed = health_pb2.HealthCheckRequest.FromString(frame[5:])
    assert parsed.service == "db"
    reply = health_pb2.HealthCheckResponse(status=health_pb2.HealthCheckResponse.NOT_SERVING)
    body = reply.SerializeToString()
    assert grpc_probe.decode_status(b"\0" + len(body).to_bytes(4, "big") + body) == 2
