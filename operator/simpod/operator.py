"""Kopf entry point: ``kopf run -m simpod.operator`` (``simpod run`` imports it too).

Importing this module registers every handler of the roles this process runs.
"""

from __future__ import annotations

from typing import Any

import kopf

from simpod.settings import Settings

SETTINGS = Settings.from_env()


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, logger: Any, **_: Any) -> None:
    """Status-subresource progress storage keeps SimPod metadata free of Kopf annotations."""
    settings.persistence.finalizer = "simpod.dev/kopf-finalizer"
    settings.posting.level = 20
    logger.info("simpod operator starting with %s", SETTINGS)
