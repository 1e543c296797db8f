"""``conformance/report.json`` (everything, for tools) and ``report.md`` (for people): a
table with one row per scenario, then each mismatch's diff, so that a failing scenario can
be understood without rerunning it."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.conformance.runner import Case
from tests.conformance.timeline import EXCLUDED_EVENTS


def case_json(case: Case) -> dict[str, Any]:
    c = case.comparison
    return {
        "name": case.scenario.name,
        "why": case.scenario.why,
        "matching": c.matching,
        "checks": {
            "states": c.states_match,
            "times": c.times_match,
            "events": c.events_match,
            "final": c.final_match,
        },
        "start_latency": {"pod": c.start_latency[0], "simpod": c.start_latency[1]},
        "placement": case.placement,
        "attempts": case.attempts,
        "first_attempt_diff": list(case.first_diff),
        "real_runs": {
            "matching": [r.matching for r in case.comparisons],
            "chosen": case.chosen + 1,
            "agree": None if case.oracle is None else case.oracle.matching,
            "disagreement": [] if case.oracle is None else case.oracle.diff,
        },
        "diff": c.diff,
        "notes": c.notes,
        "excluded": c.excluded,
        "actions": case.actions,
        "pod": case.pod.to_json(),
        "simpod": case.sim.to_json(),
        "other_pods": [p.to_json() for i, p in enumerate(case.pods) if i != case.chosen],
    }


def write(out_dir: Path, cases: Sequence[Case], *, seconds: float, mode: str) -> str:
    """Write both files; return the summary line."""
    out_dir.mkdir(parents=True, exist_ok=True)
    matching = sum(c.comparison.matching for c in cases)
    at_once = sum(c.comparison.matching and c.attempts == 1 for c in cases)
    checked = [c.oracle for c in cases if c.oracle is not None]
    agreeing = sum(o.matching for o in checked)
    excluded: Counter[str] = Counter()
    for case in cases:
        excluded.update(case.comparison.excluded)
    data = {
        "scenarios": len(cases),
        "matching": matching,
        "mode": mode,
        "seconds": round(seconds, 1),
        "real_runs_agreeing": agreeing if checked else None,
        "matching_at_first_attempt": at_once,
        "excluded": {"counts": dict(excluded), "reasons": dict(EXCLUDED_EVENTS)},
        "cases": [case_json(c) for c in cases],
    }
    (out_dir / "report.json").write_text(json.dumps(data, indent=2) + "\n")
    summary = (
        f"conformance: {matching}/{len(cases)} scenarios matching, {at_once} at the first "
        f"attempt ({mode}, {seconds:.0f}s)"
    )
    if checked:
        summary += f"; the real kubelet matched itself in {agreeing}/{len(checked)}"
    (out_dir / "report.md").write_text(_markdown(cases, summary, excluded))
    return summary


def _latency(pair: tuple[float | None, float | None]) -> str:
    return "/".join("-" if t is None else f"{t:.1f}s" for t in pair)


def _agree(case: Case) -> str:
    if case.oracle is None:
        return "-"
    return "agree" if case.oracle.matching else "**differ**"


def _mark(ok: bool) -> str:
    return "ok" if ok else "**differs**"


def _markdown(cases: Sequence[Case], summary: str, excluded: Counter[str]) -> str:
    lines = [
        "# Pod vs SimPod conformance",
        "",
        summary + ".",
        "",
        "Each Pod runs more than once on the real node; the SimPod matches when it matches one "
        "run (*run*); *real runs* says whether the real kubelet matched itself; *attempt* is "
        "the run of the scenario reported (a mismatching scenario is run again, both sides).",
        "",
        "| scenario | result | attempt | run | real runs | states | times | events | final "
        "| start Pod/SimPod | first difference |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for case in cases:
        c = case.comparison
        first = next((d for d in c.diff if not d.endswith(":")), "").replace("|", "\\|")
        lines.append(
            f"| {case.scenario.name} | {'match' if c.matching else '**MISMATCH**'} | "
            f"{case.attempts} | {case.chosen + 1 if c.matching else '-'} | {_agree(case)} | "
            f"{_mark(c.states_match)} | {_mark(c.times_match)} | {_mark(c.events_match)} | "
            f"{_mark(c.final_match)} | {_latency(c.start_latency)} | {first[:240]} |"
        )
    if excluded:
        lines += ["", "## Left out of the verdict", ""]
        lines += [f"- `{reason}` Events: {why}" for reason, why in EXCLUDED_EVENTS.items()]
        lines += [f"  - {key}: {n}" for key, n in sorted(excluded.items())]
    for case in cases:
        c = case.comparison
        if c.matching and not c.notes and not case.first_diff:
            continue
        lines += ["", f"## {case.scenario.name}", "", case.scenario.why, ""]
        if c.diff:
            lines += ["```", *c.diff, "```"]
        if case.first_diff:
            lines += ["", "The first attempt differed:", "", "```", *case.first_diff, "```"]
        if case.oracle is not None and not case.oracle.matching:
            lines += ["", "The real runs differ from each other too:", ""]
            lines += ["```", *case.oracle.diff, "```"]
        if c.notes:
            lines += ["", "Notes (not in the verdict):", ""]
            lines += [f"- {n}" for n in sorted(set(c.notes))]
    return "\n".join(lines) + "\n"
