"""``simpod delete``: pod deletion with the options a custom resource cannot take.

The API server ignores DeleteOptions.gracePeriodSeconds for custom resources, so the grace
override travels as the annotation ``simpod.dev/grace-period-seconds`` set just before the
delete (the agent honours it, and a later, shorter one), and ``--force`` removes the
finalizer so the object goes at once while the node still kills the containers.
Blocking client: this is a CLI, not the operator's event loop.
"""

from __future__ import annotations

import time

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from simpod.agent.worker import FINALIZER
from simpod.api.group import GROUP, SIMPOD, VERSION

GRACE_ANNOTATION = "simpod.dev/grace-period-seconds"


def delete_simpod(
    name: str,
    *,
    namespace: str,
    grace_period: int | None = None,
    force: bool = False,
    wait: bool = True,
    timeout: float = 600.0,
) -> bool:
    """Delete one SimPod; returns False if it did not exist."""
    api = client.CustomObjectsApi(config.new_client_from_config())
    args = (GROUP, VERSION, namespace, SIMPOD.plural, name)
    try:
        if grace_period is not None:
            patch = {"metadata": {"annotations": {GRACE_ANNOTATION: str(grace_period)}}}
            api.patch_namespaced_custom_object(*args, patch)
        api.delete_namespaced_custom_object(*args)
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise
    if force:
        _drop_finalizer(api, args)
    if wait:
        _wait_gone(api, args, timeout=timeout)
    return True


def _drop_finalizer(api: client.CustomObjectsApi, args: tuple[str, ...]) -> None:
    try:
        current = api.get_namespaced_custom_object(*args)
        finalizers = [f for f in current["metadata"].get("finalizers") or [] if f != FINALIZER]
        api.patch_namespaced_custom_object(*args, {"metadata": {"finalizers": finalizers}})
    except ApiException as exc:
        if exc.status != 404:
            raise


def _wait_gone(api: client.CustomObjectsApi, args: tuple[str, ...], *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            api.get_namespaced_custom_object(*args)
        except ApiException as exc:
            if exc.status == 404:
                return
            raise
        time.sleep(0.2)
    raise TimeoutError(f"simpod {args[2]}/{args[4]} still exists after {timeout:.0f}s")
