"""Keep Kopf from logging every watch event that a controller's change hook sees.

Kopf logs "Handler 'x' succeeded." at INFO for each call of an ``on.event`` handler; the
controllers' hooks run on every SimPod and SimNode event (heartbeats included), so those lines
would drown the operator's log. Failures are still logged.
"""

from __future__ import annotations

import logging


class _DropSuccesses(logging.Filter):
    def __init__(self, names: frozenset[str]) -> None:
        super().__init__()
        self.lines = frozenset(f"Handler '{name}' succeeded." for name in names)

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() not in self.lines


def quiet_event_handlers(*names: str) -> None:
    """Drop the success lines of these handlers (by function name)."""
    logging.getLogger("kopf.objects").addFilter(_DropSuccesses(frozenset(names)))
