"""Crash-loop backoff per container, as the kubelet's flowcontrol.Backoff applies it.

Keyed by container name and spec hash, so a changed definition starts afresh. The first restart
is immediate; it opens a window of ``initial`` seconds; each later restart doubles it up to
``cap``, measured from the exit (finishedAt). A container that exits more than ``reset_after``
seconds after its last restart counts as having run fine and starts a new window. The state is
a plain dict away from ``status.sim`` so backoff survives an operator restart.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any


@dataclass(frozen=True)
class BackoffSettings:
    """The kubelet's crash-loop settings (tunable since 1.32), in kubelet seconds."""

    initial: float = 10.0
    cap: float = 300.0
    reset_after: float = 600.0


@dataclass(frozen=True)
class BackoffEntry:
    delay: float
    last_restart: float


def backoff_key(name: str, spec_hash: str) -> str:
    return f"{name}_{spec_hash}"


@dataclass(frozen=True)
class Backoff:
    """All windows of one pod. Immutable: :meth:`record_restart` returns a new value."""

    settings: BackoffSettings = field(default_factory=BackoffSettings)
    entries: Mapping[str, BackoffEntry] = field(default_factory=dict)

    def _live(self, key: str, finished_at: float) -> BackoffEntry | None:
        entry = self.entries.get(key)
        if entry is None or finished_at - entry.last_restart > self.settings.reset_after:
            return None
        return entry

    def wait_until(self, key: str, finished_at: float) -> float | None:
        """When a container that exited at ``finished_at`` may restart; None = no window."""
        entry = self._live(key, finished_at)
        return None if entry is None else finished_at + entry.delay

    def current_delay(self, key: str) -> float:
        """The window now in force, for "back-off 20s restarting failed container=..."."""
        entry = self.entries.get(key)
        return entry.delay if entry else 0.0

    def record_restart(self, key: str, finished_at: float, now: float) -> Backoff:
        """A restart happens now: open or widen the window."""
        entry = self._live(key, finished_at)
        delay = self.settings.initial if entry is None else min(entry.delay * 2, self.settings.cap)
        return replace(self, entries={**self.entries, key: BackoffEntry(delay, now)})

    def retain(self, keys: set[str]) -> Backoff:
        """Forget windows of definitions that no longer exist (keeps ``status.sim`` small)."""
        return replace(self, entries={k: v for k, v in self.entries.items() if k in keys})

    def to_dict(self) -> dict[str, Any]:
        return {
            k: {"delay": e.delay, "lastRestart": e.last_restart} for k, e in self.entries.items()
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any], settings: BackoffSettings) -> Backoff:
        entries = {
            str(k): BackoffEntry(float(v["delay"]), float(v["lastRestart"])) for k, v in raw.items()
        }
        return cls(settings, entries)


def go_duration(seconds: float) -> str:
    """Go's time.Duration.String() for whole seconds: 10s, 1m20s, 5m0s, 1h0m0s."""
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"


REQUEUE_JITTER = 0.5  # the pod workers' workerBackOffPeriodJitterFactor


def requeue_jitter(seconds: float, *, seed: str) -> float:
    """``seconds`` plus up to half again, as wait.Jitter(seconds, 0.5): drawn from ``seed``
    so that a sync repeated at the same instant (or after a restart) draws the same."""
    fraction = zlib.crc32(seed.encode()) / 2**32
    return seconds * (1 + REQUEUE_JITTER * fraction)
