"""Time as the core sees it: epoch seconds handed in by the caller.

The core never reads the system clock, so tests drive it with :class:`FakeClock` and the agent
can scale time. Kubernetes writes timestamps as RFC 3339 with whole seconds in UTC; the helpers
here do the same so a SimPod's status reads exactly like a Pod's.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """Anything that tells the current wall-clock time in epoch seconds."""

    def now(self) -> float: ...


class FakeClock:
    """A clock that only moves when told to: deterministic tests of timed rules."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> float:
        """Move forward and return the new time."""
        if seconds < 0:
            raise ValueError("a clock does not go backwards")
        self._now += seconds
        return self._now


def format_time(t: float) -> str:
    """RFC 3339 in UTC with whole seconds (truncated, as metav1.Time serialises)."""
    return datetime.fromtimestamp(int(t // 1), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> float:
    """Parse an RFC 3339 timestamp (``Z`` or an offset, optional fraction) to epoch seconds."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def to_kubelet(wall: float, scale: float) -> float:
    """Kubelet time runs ``scale`` times faster than the wall clock (``--time-scale``).

    The core reasons only in kubelet seconds, so a 10 s backoff is 10 kubelet seconds
    whatever the scale; only the agent's clock and the status timestamps convert. The
    origin is the epoch, so the conversion needs no state and survives restarts.
    """
    return wall * scale


def to_wall(kubelet: float, scale: float) -> float:
    return kubelet / scale
