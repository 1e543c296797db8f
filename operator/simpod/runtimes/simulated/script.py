"""A container's `sim` block (docs/sim-block.md) resolved into one attempt's script.

Pure and deterministic: the same block, attempt number and seed always give the same
script, so a restarted agent replays exactly what the previous one would have done.
Defaults are applied here (the schema has none, see :mod:`simpod.api.sim_block`).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from simpod.core.model import ProbeKind

TERM_EXIT_CODE = 143


@dataclass(frozen=True)
class ProbeScript:
    pass_after: float = 0.0
    fail_after: float | None = None
    hang: bool = False

    def passes(self, since_start: float) -> bool:
        """A check ``since_start`` seconds after the container started."""
        if self.hang:
            return False
        return since_start >= self.pass_after and (
            self.fail_after is None or since_start < self.fail_after
        )


@dataclass(frozen=True)
class HookScript:
    seconds: float = 0.0
    succeed: bool = True


@dataclass(frozen=True)
class TermScript:
    exit_after: float = 0.0
    exit_code: int = TERM_EXIT_CODE
    ignore: bool = False


@dataclass(frozen=True)
class AttemptScript:
    """What one run (attempt) of a container does, in kubelet seconds."""

    start_delay: float = 0.0
    run_seconds: float | None = None
    exit_code: int = 0
    probes: Mapping[ProbeKind, ProbeScript] = field(default_factory=dict)
    post_start: HookScript = HookScript()
    pre_stop: HookScript = HookScript()
    on_term: TermScript = TermScript()

    def probe(self, kind: ProbeKind) -> ProbeScript:
        return self.probes.get(kind, ProbeScript())


def _float(raw: Mapping[str, Any], key: str, default: float) -> float:
    value = raw.get(key)
    return default if value is None else float(value)


def _optional(raw: Mapping[str, Any], key: str, default: float | None) -> float | None:
    """Absent: the default; explicit null: None ("never")."""
    if key not in raw:
        return default
    value = raw[key]
    return None if value is None else float(value)


def _jitter(seed: int, container: str, attempt: int, limit: float) -> float:
    if limit <= 0:
        return 0.0
    digest = hashlib.sha256(f"{seed}/{container}/{attempt}".encode()).digest()
    return random.Random(digest).uniform(0.0, limit)


def resolve(
    block: Mapping[str, Any] | None, *, container: str, attempt: int, seed: int = 0
) -> AttemptScript:
    """The script of ``attempt`` (0 = first run): ``attempts[attempt]`` over the top level."""
    top = dict(block or {})
    attempts = top.pop("attempts", None) or []
    raw: dict[str, Any] = {**top, **(attempts[attempt] if attempt < len(attempts) else {})}
    jitter = _jitter(seed, container, attempt, _float(raw, "jitterSeconds", 0.0))
    run_seconds = _optional(raw, "runSeconds", None)
    probes_raw: Mapping[str, Any] = raw.get("probes") or {}
    hooks = {
        key: HookScript(
            seconds=_float(raw.get(key) or {}, "seconds", 0.0),
            succeed=bool((raw.get(key) or {}).get("succeed", True)),
        )
        for key in ("postStart", "preStop")
    }
    term = raw.get("onTerm") or {}
    return AttemptScript(
        start_delay=_float(raw, "startDelaySeconds", 0.0) + jitter,
        run_seconds=None if run_seconds is None else run_seconds + jitter,
        exit_code=int(raw.get("exitCode", 0)),
        probes={
            kind: ProbeScript(
                pass_after=_float(probes_raw[kind.value], "passAfterSeconds", 0.0),
                fail_after=_optional(probes_raw[kind.value], "failAfterSeconds", None),
                hang=bool(probes_raw[kind.value].get("hang", False)),
            )
            for kind in ProbeKind
            if probes_raw.get(kind.value)
        },
        post_start=hooks["postStart"],
        pre_stop=hooks["preStop"],
        on_term=TermScript(
            exit_after=_float(term, "exitAfterSeconds", 0.0),
            exit_code=int(term.get("exitCode", TERM_EXIT_CODE)),
            ignore=bool(term.get("ignore", False)),
        ),
    )
