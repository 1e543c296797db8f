"""The one async API client of the hot path (kubernetes_asyncio, on Kopf's event loop).

Status is written with JSON merge patches on the status subresource, one per transition.
"""

from __future__ import annotations

import os
from typing import Any

from kubernetes_asyncio import client, config
from kubernetes_asyncio.client.exceptions import ApiException
from kubernetes_asyncio.config.config_exception import ConfigException

from simpod.api.group import GROUP, VERSION, Kind

MERGE_PATCH = "application/merge-patch+json"


PROXY_VARIABLES = (
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
)


async def new_api_client() -> client.ApiClient:
    """In-cluster credentials when running in a pod, else the current kubeconfig."""
    if os.environ.get("KUBERNETES_SERVICE_HOST"):
        try:
            config.load_incluster_config()
            return _without_env_lookups(client.ApiClient())
        except ConfigException:
            pass
    api_client = await config.new_client_from_config(config_file=os.environ.get("KUBECONFIG"))
    return _without_env_lookups(api_client)


def _without_env_lookups(api_client: client.ApiClient) -> client.ApiClient:
    """kubernetes_asyncio makes its aiohttp session with ``trust_env=True``, which reads
    ``~/.netrc`` and the proxy variables on every request: about 8 % of the scheduler's CPU
    in the ``schedule`` benchmark. Without any proxy configured there is nothing to trust
    the environment for (Kopf's own session does the same by default)."""
    if not any(os.environ.get(name) for name in PROXY_VARIABLES):
        api_client.rest_client.pool_manager._trust_env = False
    return api_client


class Api:
    """Thin typed helpers over CustomObjectsApi for our kinds."""

    def __init__(self, api_client: client.ApiClient) -> None:
        self.client = api_client
        self.custom = client.CustomObjectsApi(api_client)
        self.core = client.CoreV1Api(api_client)
        self.coordination = client.CoordinationV1Api(api_client)

    async def patch_status(
        self, kind: Kind, name: str, patch: dict[str, Any], *, namespace: str | None = None
    ) -> dict[str, Any]:
        body = {"status": patch}
        if namespace is None:
            result: dict[str, Any] = await self.custom.patch_cluster_custom_object_status(
                GROUP, VERSION, kind.plural, name, body, _content_type=MERGE_PATCH
            )
        else:
            result = await self.custom.patch_namespaced_custom_object_status(
                GROUP, VERSION, namespace, kind.plural, name, body, _content_type=MERGE_PATCH
            )
        return result

    async def patch(
        self, kind: Kind, name: str, patch: dict[str, Any], *, namespace: str | None = None
    ) -> dict[str, Any]:
        if namespace is None:
            result: dict[str, Any] = await self.custom.patch_cluster_custom_object(
                GROUP, VERSION, kind.plural, name, patch, _content_type=MERGE_PATCH
            )
        else:
            result = await self.custom.patch_namespaced_custom_object(
                GROUP, VERSION, namespace, kind.plural, name, patch, _content_type=MERGE_PATCH
            )
        return result

    async def create_event(self, namespace: str, body: dict[str, Any]) -> None:
        """Post an Event without reading the reply into a ``V1Event`` model: nothing uses
        it, and the model's deserialisation was 6 % of the agent's CPU in the ``startup``
        benchmark (two Events per pod)."""
        await _unread(self.core.create_namespaced_event(namespace, body, _preload_content=False))

    async def patch_event(self, name: str, namespace: str, patch: dict[str, Any]) -> None:
        """Bump an aggregated Event (a merge patch), the reply unread as for creation."""
        await _unread(
            self.core.patch_namespaced_event(
                name, namespace, patch, _content_type=MERGE_PATCH, _preload_content=False
            )
        )


async def _unread(call: Any) -> None:
    """Await a request made with ``_preload_content=False`` and release its reply.

    Without the preload, the client skips its own status check as well; it is done here so
    that failures still raise :class:`ApiException` as they do otherwise."""
    response = await call
    async with response:
        data = await response.read()
        if not 200 <= response.status <= 299:
            exc = ApiException(status=response.status, reason=response.reason)
            exc.body = data.decode(errors="replace")
            exc.headers = response.headers
            raise exc
