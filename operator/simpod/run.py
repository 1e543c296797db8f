"""``simpod run``: the operator in the foreground, started the same way as ``kopf run``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os

import kopf

from simpod.settings import settings_from_args


def run_operator(args: argparse.Namespace) -> int:
    os.environ.update(settings_from_args(args).to_env())
    import simpod.operator  # noqa: F401, PLC0415 - registers the handlers with Kopf

    kopf.configure(verbose=False)
    # Kopf logs every watch-event handler call at INFO: thousands a second at scale.
    logging.getLogger("kopf.objects").setLevel(logging.WARNING)
    for name in filter(None, os.environ.get("SIMPOD_DEBUG_LOGGERS", "").split(",")):
        logging.getLogger(name).setLevel(logging.DEBUG)
    asyncio.run(kopf.operator(clusterwide=True, standalone=True))
    return 0
