"""Kopf wiring of SimPod admission: the webhook server, the two webhooks, preset events.

The rules are in :mod:`simpod.admission.admit`; this layer only reads what they need
(presets from an in-memory index, like the upstream plug-in's informer, so a creation
costs no API call; the SimNode only for a privileged pod bound at creation) and writes
the result into Kopf's patch or refusal.

Preset conflicts are announced twice: as admission warnings (``kubectl`` prints them at
once) and as Warning Events on the SimPod, posted once the pod exists. The mutating
webhook cannot post them: with ``generateName`` the pod has neither name nor uid yet. It
leaves the messages in an annotation; the validating webhook, which runs after the API
server assigned both, starts a task that waits for the pod and posts the Events. (A Kopf
on-create handler would do it too, but it makes Kopf diff every SimPod event of the
process, thousands of status writes, for a rare case; the cost is that Events of a pod
admitted in the instant before an operator crash are lost, as events may be.)
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import kopf
from kubernetes_asyncio.client.exceptions import ApiException

from simpod.admission import admit
from simpod.admission.presets import Preset
from simpod.admission.server import MUTATE_ID, VALIDATE_ID, RegisteringWebhookServer
from simpod.agent.events import PodEvents
from simpod.agent.worker import FINALIZER
from simpod.api.group import GROUP, SIMNODE, SIMPOD, SIMPODPRESET, VERSION
from simpod.core.kubelet import Event, EventType
from simpod.kube import Api
from simpod.memo import memo_api, memo_settings

# Kopf passes an index to every handler as a keyword argument named after its function.
PRESET_INDEX = "simpod_presets"
_TASKS = "admission_tasks"
CONFLICT_REASON = "PodPresetConflict"
EVENT_COMPONENT = "simpod-admission"


@kopf.on.startup()
async def serve_admission(*, settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    """Runs after :func:`simpod.operator.configure`, which puts the settings in the memo."""
    config = memo_settings(memo)
    service: tuple[str, str] | None = None
    if config.webhook_service:
        namespace, _slash, name = config.webhook_service.partition("/")
        if not namespace or not name:
            raise ValueError(f"--webhook-service must be NAMESPACE/NAME: {config.webhook_service}")
        service = (namespace, name)
    settings.admission.server = RegisteringWebhookServer(
        addr="0.0.0.0" if service else "127.0.0.1",
        host=f"{service[1]}.{service[0]}.svc" if service else "127.0.0.1",
        port=config.webhook_port or None,
        service=service,
    )
    memo[_TASKS] = set()
    # One access-log line per webhook call (two per SimPod creation) is noise and latency.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


@kopf.on.cleanup()
async def stop_announcing(*, memo: kopf.Memo, **_: Any) -> None:
    for task in _tasks(memo):
        task.cancel()


@kopf.index(GROUP, VERSION, SIMPODPRESET.plural)
def simpod_presets(*, namespace: str | None, body: kopf.Body, **_: Any) -> dict[str, Preset]:
    """The upstream plug-in's informer: presets by namespace, read at every creation."""
    return {namespace or "": Preset.from_body(body)}


@kopf.on.mutate(GROUP, VERSION, SIMPOD.plural, id=MUTATE_ID, operations=["CREATE"])
async def mutate_simpod(
    *,
    body: kopf.Body,
    patch: kopf.Patch,
    namespace: str | None,
    warnings: list[str],
    logger: Any,
    **kwargs: Any,
) -> None:
    """Registered for CREATE only (see the server), which is when presets apply."""
    index: kopf.Index[str, Preset] = kwargs[PRESET_INDEX]
    presets = index.get(namespace or "", ())
    try:
        mutation = admit.mutate(body, presets, finalizer=FINALIZER)
    except Exception as exc:
        # Best effort, like this webhook's failurePolicy Ignore: a bug here must never
        # refuse a pod (Kopf turns a handler error into a refusal), only skip the extras.
        logger.exception("SimPod admission mutation failed; admitting the pod unchanged")
        warnings.append(f"simpod admission skipped presets and defaults: {exc}")
        return
    patch["spec"] = mutation.spec
    patch.meta["finalizers"] = mutation.finalizers
    patch.meta.annotations.update(mutation.annotations)
    warnings.extend(conflict.message for conflict in mutation.conflicts)


@kopf.on.validate(GROUP, VERSION, SIMPOD.plural, id=VALIDATE_ID, operations=["CREATE"])
async def validate_simpod(
    *, body: kopf.Body, dryrun: bool, memo: kopf.Memo, logger: Any, **_: Any
) -> None:
    """Registered for CREATE only: the spec is immutable afterwards but for images."""
    api = memo_api(memo)
    node_name = admit.needs_node(body)
    node = await _read_node(api, node_name) if node_name else None
    problems = admit.problems(
        body, node=node, allow_privileged=memo_settings(memo).allow_privileged
    )
    if problems:
        raise kopf.AdmissionError("; ".join(problems), code=422)
    messages = admit.conflict_messages(body.metadata.annotations)
    if messages and not dryrun:
        task = asyncio.create_task(_announce(api, dict(body.metadata), messages, logger))
        _tasks(memo).add(task)
        task.add_done_callback(_tasks(memo).discard)


def _tasks(memo: kopf.Memo) -> set[asyncio.Task[None]]:
    tasks = memo[_TASKS]
    assert isinstance(tasks, set)
    return tasks


async def _announce(
    api: Api, metadata: dict[str, Any], messages: list[str], logger: Any, *, timeout: float = 30
) -> None:
    """Post the Warning Events once the pod exists (gone by the deadline: never created)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        try:
            pod = await api.custom.get_namespaced_custom_object(
                GROUP, VERSION, metadata["namespace"], SIMPOD.plural, metadata["name"]
            )
        except ApiException as exc:
            if exc.status != 404:
                raise
        else:
            if pod["metadata"]["uid"] == metadata["uid"]:
                events = PodEvents(api, node="", component=EVENT_COMPONENT)
                for message in messages:
                    await events.post(pod, Event(CONFLICT_REASON, message, EventType.WARNING))
            return
        await asyncio.sleep(0.1)
    logger.info("SimPod %s was not created; preset conflict events dropped", metadata["name"])


async def _read_node(api: Api, name: str) -> dict[str, Any] | None:
    try:
        node: dict[str, Any] = await api.custom.get_cluster_custom_object(
            GROUP, VERSION, SIMNODE.plural, name
        )
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise
    return node
