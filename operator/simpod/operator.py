"""Kopf entry point: ``kopf run -m simpod.operator`` (``simpod run`` imports it too).

Importing this module registers the handlers of every role this process runs (settings
from ``SIMPOD_*`` environment variables, see :mod:`simpod.settings`). Shared resources
(the async API client, the settings) live in Kopf's global memo, which every resource
handler receives a shallow copy of.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import Any

import kopf

from simpod.kube import Api, new_api_client
from simpod.memo import memo_api
from simpod.settings import Role, Settings

SETTINGS = Settings.from_env()

# Each module registers its Kopf handlers when imported.
ROLE_MODULES: dict[Role, tuple[str, ...]] = {
    Role.AGENT: ("simpod.agent.handlers",),
    Role.SCHEDULER: ("simpod.controllers.scheduler",),
    Role.NODES: ("simpod.controllers.nodelifecycle",),
    Role.PODGC: ("simpod.controllers.podgc",),
    Role.ENDPOINTS: ("simpod.controllers.endpoints",),
    Role.WEBHOOK: ("simpod.admission.webhooks",),
}


def _load_roles() -> None:
    for role, modules in ROLE_MODULES.items():
        if SETTINGS.runs(role):
            for module in modules:
                importlib.import_module(module)


class NoDiffBase(kopf.DiffBaseStorage):
    """No essence is kept: simpod has event, index and webhook handlers only, and none of
    them compares an object with its last handled state. Kopf builds the essence of every
    watched object anyway (a deep copy of the body), which was 7 % of the agent's CPU in
    the ``startup`` benchmark."""

    def build(
        self, *, body: kopf.Body, extra_fields: Iterable[Any] | None = None
    ) -> kopf.BodyEssence:
        return kopf.BodyEssence()

    def fetch(self, *, body: kopf.Body) -> kopf.BodyEssence | None:
        return None

    def store(self, *, body: kopf.Body, patch: kopf.Patch, essence: kopf.BodyEssence) -> None:
        return


@kopf.on.startup()
async def configure(
    settings: kopf.OperatorSettings, memo: kopf.Memo, logger: Any, **_: Any
) -> None:
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix="simpod.dev")
    settings.persistence.diffbase_storage = NoDiffBase()
    # Kopf's own handler-result events are off: the agent posts kubelet-like ones.
    settings.posting.level = 100
    settings.watching.server_timeout = 300
    settings.batching.worker_limit = None
    memo["settings"] = SETTINGS
    memo["api"] = Api(await new_api_client())
    logger.info("simpod operator starting with %s", SETTINGS)


@kopf.on.cleanup()
async def close(memo: kopf.Memo, **_: Any) -> None:
    await memo_api(memo).client.close()


_load_roles()
