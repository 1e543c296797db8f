"""The grpc probe: one ``grpc.health.v1.Health/Check`` call over HTTP/2, as the kubelet's.

The kubelet (pkg/probe/grpc) dials with ``grpc.WithBlock()`` inside the probe's timeout:
grpc-go keeps retrying a refused or failed connection (back-off from 1 s, times 1.6) until
the HTTP/2 handshake succeeds or the timeout ends, so a probe against a port where nothing
(or no HTTP/2 server) listens lasts the whole timeout and fails with "timeout: failed to
connect service ...". Then one unary call: a non-OK gRPC status or a status other than
SERVING is a failure, each with the kubelet's own text. Only the few HTTP/2 frames this
needs are exchanged (h2 keeps the protocol's state); no gRPC library is loaded into the agent.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from urllib.parse import unquote

import h2.config
import h2.connection
import h2.events
import h2.exceptions

from simpod.runtimes.process.probes import USER_AGENT, Result, host_port

METHOD = "/grpc.health.v1.Health/Check"
RETRY_BASE = 1.0  # grpc-go's connection back-off: base delay and multiplier
RETRY_FACTOR = 1.6
SERVING = 1
HEALTH_STATUS = {0: "UNKNOWN", 1: "SERVING", 2: "NOT_SERVING", 3: "SERVICE_UNKNOWN"}
CODES = (  # grpc's status codes by number, as Go's codes.Code prints them
    "OK",
    "Canceled",
    "Unknown",
    "InvalidArgument",
    "DeadlineExceeded",
    "NotFound",
    "AlreadyExists",
    "PermissionDenied",
    "ResourceExhausted",
    "FailedPrecondition",
    "Aborted",
    "OutOfRange",
    "Unimplemented",
    "Internal",
    "Unavailable",
    "DataLoss",
    "Unauthenticated",
)
UNIMPLEMENTED = CODES.index("Unimplemented")


@dataclass(frozen=True)
class Reply:
    """What the call returned: the gRPC status and, when OK, the health status."""

    code: int
    message: str = ""
    health: int | None = None


class _Broken(Exception):
    """The connection closed (before the server's HTTP/2 settings, or before the reply
    ended) or the call's stream was reset."""


def go_duration(seconds: float) -> str:
    """Go's %v of a time.Duration: 1s, 2.5s, 500ms."""
    if seconds >= 1:
        return f"{seconds:g}s"
    return f"{seconds * 1000:g}ms"


def encode_request(service: str) -> bytes:
    """HealthCheckRequest{service} in protobuf, in a gRPC message frame (uncompressed)."""
    raw = service.encode()
    body = b"\x0a" + _varint(len(raw)) + raw if raw else b""
    return b"\x00" + len(body).to_bytes(4, "big") + body


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def decode_status(frame: bytes) -> int:
    """HealthCheckResponse.status from a gRPC message frame (0, UNKNOWN, when absent)."""
    body, pos, status = frame[5:], 0, 0
    while pos < len(body):
        key = body[pos]
        pos += 1
        value, shift = 0, 0
        while pos < len(body):
            byte = body[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        if key >> 3 == 1 and key & 7 == 0:
            status = value
        elif key & 7 == 2:
            pos += value  # a length-delimited field this message does not define
    return status


async def check(host: str, port: int, service: str, *, timeout: float, shown: float) -> Result:
    """The probe's verdict within ``timeout`` (wall seconds); ``shown`` is the timeout the
    kubelet's messages name (the probe's timeoutSeconds)."""
    address = host_port(host, port)
    deadline = time.monotonic() + timeout
    try:
        async with asyncio.timeout(timeout):
            reader, writer, conn = await _connect(host, port, address)
    except TimeoutError:
        return Result(
            False,
            f'timeout: failed to connect service "{address}" within {go_duration(shown)}: '
            "context deadline exceeded",
        )
    try:
        async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
            reply = await _call(reader, writer, conn, address, service)
    except TimeoutError:
        return Result(False, f"timeout: health rpc did not complete within {go_duration(shown)}")
    except (OSError, h2.exceptions.ProtocolError, _Broken) as exc:
        return Result(False, f"error: health rpc probe failed: {exc}")
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()
    return verdict(reply)


def verdict(reply: Reply) -> Result:
    """The kubelet's reading of a completed call."""
    if reply.code == UNIMPLEMENTED:
        return Result(
            False,
            "error: this server does not implement the grpc health protocol "
            f"(grpc.health.v1.Health): {reply.message}",
        )
    if reply.code != 0:
        name = CODES[reply.code] if 0 <= reply.code < len(CODES) else f"Code({reply.code})"
        return Result(
            False,
            f"error: health rpc probe failed: rpc error: code = {name} desc = {reply.message}",
        )
    if reply.health != SERVING:
        status = HEALTH_STATUS.get(reply.health or 0, str(reply.health))
        return Result(False, f'service unhealthy (responded with "{status}")')
    return Result(True, "service healthy")


Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter, h2.connection.H2Connection]


async def _connect(host: str, port: int, address: str) -> Connection:
    """Connect and complete the HTTP/2 handshake, retrying as grpc-go does until the
    caller's timeout cancels it."""
    delay = RETRY_BASE
    while True:
        began = time.monotonic()
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            pass
        else:
            try:
                conn = await _handshake(reader, writer, address)
            except (OSError, h2.exceptions.ProtocolError, _Broken):
                writer.close()
            else:
                return reader, writer, conn
        await asyncio.sleep(max(0.0, delay - (time.monotonic() - began)))
        delay *= RETRY_FACTOR


async def _handshake(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, address: str
) -> h2.connection.H2Connection:
    conn = h2.connection.H2Connection(
        config=h2.config.H2Configuration(client_side=True, header_encoding="utf-8")
    )
    conn.initiate_connection()
    writer.write(conn.data_to_send())
    await writer.drain()
    while True:
        data = await reader.read(65536)
        if not data:
            raise _Broken(f"connection to {address} closed")
        events = conn.receive_data(data)
        writer.write(conn.data_to_send())
        if any(isinstance(e, h2.events.RemoteSettingsChanged) for e in events):
            return conn


async def _call(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    conn: h2.connection.H2Connection,
    address: str,
    service: str,
) -> Reply:
    stream = conn.get_next_available_stream_id()
    conn.send_headers(
        stream,
        [
            (":method", "POST"),
            (":scheme", "http"),
            (":path", METHOD),
            (":authority", address),
            ("content-type", "application/grpc"),
            ("te", "trailers"),
            ("user-agent", USER_AGENT),
        ],
    )
    conn.send_data(stream, encode_request(service), end_stream=True)
    writer.write(conn.data_to_send())
    await writer.drain()
    body, trailers = b"", {}
    while True:
        data = await reader.read(65536)
        if not data:
            raise _Broken("connection closed before the reply ended")
        for event in conn.receive_data(data):
            if isinstance(event, h2.events.DataReceived) and event.stream_id == stream:
                body += event.data
                conn.acknowledge_received_data(event.flow_controlled_length, stream)
            elif isinstance(event, h2.events.ResponseReceived | h2.events.TrailersReceived):
                trailers.update({str(k): str(v) for k, v in event.headers})
            elif isinstance(event, h2.events.StreamReset):
                raise _Broken(f"stream reset (error code {event.error_code})")
            elif isinstance(event, h2.events.StreamEnded) and event.stream_id == stream:
                code = int(trailers.get("grpc-status", "2"))
                message = unquote(trailers.get("grpc-message", ""))
                health = decode_status(body) if code == 0 else None
                return Reply(code, message, health)
        writer.write(conn.data_to_send())
