"""The `sim` block resolves into per-attempt scripts as docs/sim-block.md says."""

from __future__ import annotations

import pytest

from simpod.core.model import ProbeKind
from simpod.runtimes.simulated.script import AttemptScript, ProbeScript, resolve


def test_no_block_runs_forever_healthy_and_exits_at_once_on_term() -> None:
    script = resolve(None, container="app", attempt=0)
    assert script == AttemptScript()
    assert script.run_seconds is None
    assert script.probe(ProbeKind.LIVENESS).passes(0.0)
    assert script.on_term.exit_after == 0 and script.on_term.exit_code == 143


@pytest.mark.parametrize(
    ("attempt", "run_seconds", "exit_code"),
    [(0, 1.0, 1), (1, 1.0, 1), (2, None, 0), (7, None, 0)],
)
def test_attempt_overrides_fail_twice_then_run(
    attempt: int, run_seconds: float | None, exit_code: int
) -> None:
    block = {"attempts": [{"runSeconds": 1, "exitCode": 1}, {"runSeconds": 1, "exitCode": 1}]}
    script = resolve(block, container="app", attempt=attempt)
    assert (script.run_seconds, script.exit_code) == (run_seconds, exit_code)


def test_attempt_can_set_never_back_with_null() -> None:
    block = {"runSeconds": 5, "attempts": [{}, {"runSeconds": None}]}
    assert resolve(block, container="c", attempt=0).run_seconds == 5
    assert resolve(block, container="c", attempt=1).run_seconds is None


@pytest.mark.parametrize(
    ("since_start", "passes"), [(0.0, False), (4.9, False), (5.0, True), (9.9, True), (10, False)]
)
def test_probe_window(since_start: float, passes: bool) -> None:
    block = {"probes": {"readiness": {"passAfterSeconds": 5, "failAfterSeconds": 10}}}
    script = resolve(block, container="c", attempt=0)
    assert script.probe(ProbeKind.READINESS).passes(since_start) is passes
    assert script.probe(ProbeKind.LIVENESS) == ProbeScript()


def test_hang_always_fails() -> None:
    script = resolve({"probes": {"liveness": {"hang": True}}}, container="c", attempt=0)
    assert not script.probe(ProbeKind.LIVENESS).passes(100.0)


def test_jitter_is_seeded_and_bounded() -> None:
    block = {"startDelaySeconds": 1, "jitterSeconds": 2}
    first = resolve(block, container="c", attempt=0, seed=7)
    assert first == resolve(block, container="c", attempt=0, seed=7)
    assert 1.0 <= first.start_delay <= 3.0
    assert first != resolve(block, container="c", attempt=0, seed=8)


def test_hooks_and_term() -> None:
    block = {
        "postStart": {"seconds": 2, "succeed": False},
        "onTerm": {"ignore": True},
    }
    script = resolve(block, container="c", attempt=0)
    assert (script.post_start.seconds, script.post_start.succeed) == (2.0, False)
    assert script.pre_stop.succeed and script.on_term.ignore
