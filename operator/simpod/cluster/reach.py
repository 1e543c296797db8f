"""Whether the current kubeconfig already reaches a cluster (then no embedded one is needed)."""

from __future__ import annotations

from kubernetes import client, config
from kubernetes.config.config_exception import ConfigException


def current_cluster_reachable() -> str | None:
    """The server URL of the current kubeconfig if it answers ``/version``, else None."""
    try:
        api_client = config.new_client_from_config()
    except (ConfigException, OSError, TypeError):
        return None
    try:
        client.VersionApi(api_client).get_code(_request_timeout=3)
    except Exception:
        return None
    finally:
        api_client.close()
    host: str = api_client.configuration.host
    return host
