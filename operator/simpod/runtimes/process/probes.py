"""Network handlers of probes and hooks (httpGet, tcpSocket) and the kubelet's messages.

A deliberately small HTTP/1.1 client: a probe needs the status line, the headers (for a
redirect's Location) and nothing else, and the kubelet's messages quote Go's net/http
errors, which are easiest to reproduce when we build the requests ourselves. Redirects are
handled as the kubelet's probes do: followed (at most 10) while they stay on the same host;
one to another host ends the probe with that redirect response, which counts as success
("Probe terminated redirects").
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from simpod.cluster.versions import KUBERNETES_VERSION

MAX_REDIRECTS = 10
USER_AGENT = "kube-probe/" + ".".join(KUBERNETES_VERSION.lstrip("v").split(".")[:2])


@dataclass(frozen=True)
class Result:
    success: bool
    message: str = ""


@dataclass(frozen=True)
class HttpTarget:
    """An httpGet handler resolved against its pod and container."""

    url: str
    headers: tuple[tuple[str, str], ...]


class ProbeSpecError(Exception):
    """The handler cannot be run (a named port the container does not declare)."""


def resolve_port(port: Any, container: Mapping[str, Any]) -> int:
    """A number, or the name of one of the container's ports."""
    if isinstance(port, int) or (isinstance(port, str) and port.isdigit()):
        return int(port)
    for declared in container.get("ports") or ():
        if declared.get("name") == port:
            return int(declared["containerPort"])
    raise ProbeSpecError(f"couldn't find port: {port} in {container.get('name', '')}")


def host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def http_target(get: Mapping[str, Any], container: Mapping[str, Any], pod_ip: str) -> HttpTarget:
    """The URL and headers the kubelet would request (host defaults to the pod IP)."""
    scheme = str(get.get("scheme") or "HTTP").lower()
    host = str(get.get("host") or pod_ip)
    port = resolve_port(get.get("port"), container)
    path = str(get.get("path") or "")
    if path and not path.startswith("/"):
        path = "/" + path
    headers = {"User-Agent": USER_AGENT, "Accept": "*/*"}
    for header in get.get("httpHeaders") or ():
        headers[str(header.get("name"))] = str(header.get("value", ""))
    return HttpTarget(f"{scheme}://{host_port(host, port)}{path}", tuple(headers.items()))


def next_hop(current: str, location: str, *, first: str, hops: int) -> str | None:
    """Where the kubelet's probe client goes after a redirect: the next URL, or None to
    stop with the redirect response (another host, or too many hops)."""
    target = urljoin(current, location)
    if urlsplit(target).hostname != urlsplit(first).hostname or hops >= MAX_REDIRECTS:
        return None
    return target


def http_status_message(code: int) -> Result:
    """The kubelet's verdict on a final status code."""
    if 200 <= code < 400:
        return Result(True)
    return Result(False, f"HTTP probe failed with statuscode: {code}")


def dial_error(address: str, exc: BaseException) -> str:
    """Go's text for a failed dial: "dial tcp 10.244.1.2:80: connect: connection refused"."""
    if isinstance(exc, TimeoutError):
        return f"dial tcp {address}: i/o timeout"
    # asyncio's own text names the address again: the errno's is Go's.
    reason = os.strerror(exc.errno) if isinstance(exc, OSError) and exc.errno else str(exc)
    return f"dial tcp {address}: connect: {reason.lower()}"


def _insecure_tls() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


async def _request(url: str, headers: Sequence[tuple[str, str]]) -> tuple[int, str]:
    """One GET; returns the status code and the Location header (if any)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    tls = _insecure_tls() if parts.scheme == "https" else None
    try:
        reader, writer = await asyncio.open_connection(host, port, ssl=tls)
    except OSError as exc:
        raise _DialError(dial_error(host_port(host, port), exc)) from exc
    try:
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        host_header = next((v for k, v in headers if k.lower() == "host"), parts.netloc)
        lines = [f"GET {target} HTTP/1.1", f"Host: {host_header}"]
        lines += [f"{k}: {v}" for k, v in headers if k.lower() != "host"]
        request = "\r\n".join([*lines, "Connection: close", "", ""])
        writer.write(request.encode())
        await writer.drain()
        status_line = (await reader.readline()).decode(errors="replace").split()
        if len(status_line) < 2 or not status_line[1].isdigit():
            raise _DialError("malformed HTTP response")
        location = ""
        while True:
            line = (await reader.readline()).decode(errors="replace").strip()
            if not line:
                break
            name, _, value = line.partition(":")
            if name.strip().lower() == "location":
                location = value.strip()
        return int(status_line[1]), location
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


class _DialError(Exception):
    pass


async def http_get(target: HttpTarget, timeout: float) -> Result:
    """A probe's httpGet, following redirects as the kubelet does, within ``timeout``."""
    quoted = f'Get "{target.url}"'
    try:
        async with asyncio.timeout(timeout):
            url, hops = target.url, 0
            while True:
                code, location = await _request(url, target.headers)
                if 300 <= code < 400 and location:
                    following = next_hop(url, location, first=target.url, hops=hops)
                    if following is not None:
                        url, hops = following, hops + 1
                        continue
                return http_status_message(code)
    except TimeoutError:
        return Result(
            False,
            f"{quoted}: context deadline exceeded (Client.Timeout exceeded while awaiting headers)",
        )
    except _DialError as exc:
        return Result(False, f"{quoted}: {exc}")
    except OSError as exc:
        return Result(False, f"{quoted}: {exc.strerror or exc}")


async def http_reachable(target: HttpTarget, timeout: float) -> str | None:
    """A hook's httpGet: any response will do; returns the error, if any."""
    try:
        async with asyncio.timeout(timeout):
            await _request(target.url, target.headers)
    except TimeoutError:
        return f'Get "{target.url}": context deadline exceeded'
    except (_DialError, OSError) as exc:
        return f'Get "{target.url}": {exc}'
    return None


async def tcp_socket(host: str, port: int, timeout: float) -> Result:
    """A tcpSocket probe: the connection opens, or Go's dial error."""
    address = host_port(host, port)
    try:
        async with asyncio.timeout(timeout):
            _, writer = await asyncio.open_connection(host, port)
    except (OSError, TimeoutError) as exc:
        return Result(False, dial_error(address, exc))
    writer.close()
    with contextlib.suppress(Exception):
        await writer.wait_closed()
    return Result(True)
