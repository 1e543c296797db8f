"""Timelines of one pod (a ``Pod`` or a ``SimPod``) and their comparison.

A timeline is what a user watching the object could see: the sequence of *distinct* states
(phase, conditions, each container's state), each with the time it was first seen, and the
Events. Both kinds of object are reduced to the same plain state, so that a difference in
the comparison is a difference in behaviour, never in API shape: fields that only one side
has (container IDs, image IDs, resources, the SimPod's ``sim`` bookkeeping) are left out.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

Obj = Mapping[str, Any]
TERMINAL = ("Succeeded", "Failed")

# Differences that hold for every scenario and say nothing about the lifecycle; kept out of
# the verdict so that a mismatch points at a lifecycle difference, but counted and listed
# in the report (each with its reason) so that they are not forgotten.
EXCLUDED_EVENTS: Mapping[str, str] = {
    "Pulled": "the kubelet reports the image check of every container start (imagePullPolicy "
    "Never: 'already present on machine'); SimPods have no images to check and emit none",
}

# A Pod is Pending from its creation (the API server sets the phase), a SimPod has no status
# until its agent writes one: a custom resource's create request cannot carry a status. So a
# missing status counts as ``phase: Pending``, the only thing the Pod has at that moment.
NO_STATUS = "Pending"

# The real kubelet's status manager writes a change as it comes (a startup probe's success:
# SetContainerStartup) and the consequences the sync draws from it (Initialized, ready) in
# a patch of their own a few milliseconds later, or both in one patch, at random (98 real
# runs of sidecar-startup: 52 in one patch, 39 in two 2-30 ms apart, 7 where the sync
# waited for a relist). A state that one side held for less than this and the other side
# never showed is such a split write, not a lifecycle step.
TRANSIENT_SECONDS = 0.05

# A state: one line for the pod, one per container (init containers first, in spec order).
State = tuple[str, ...]


def _flag(value: Any) -> str:
    """A boolean field; an absent one is shown as ``-``, not folded into ``False``."""
    return "-" if value is None else str(bool(value))


def container_line(kind: str, status: Obj) -> str:
    """One container: state kind and reason, exit code, restart count, ready, started."""
    state = status.get("state") or {}
    if "terminated" in state:
        term = state["terminated"] or {}
        what = f"terminated/{term.get('reason', '')} exit={term.get('exitCode')}"
    elif "waiting" in state:
        what = f"waiting/{(state['waiting'] or {}).get('reason', '')}"
    elif "running" in state:
        what = "running"
    else:
        what = "none"
    return (
        f"{kind} {status.get('name')}: {what} restarts={status.get('restartCount', 0)} "
        f"ready={_flag(status.get('ready'))} started={_flag(status.get('started'))}"
    )


def condition_text(cond: Obj) -> str:
    reason = cond.get("reason")
    return f"{cond.get('type')}={cond.get('status')}" + (f"/{reason}" if reason else "")


def state_of(obj: Obj) -> State:
    """The comparable state of a Pod or SimPod object."""
    status = obj.get("status") or {"phase": NO_STATUS}
    conditions = sorted(
        (condition_text(c) for c in status.get("conditions") or ()), key=lambda t: t.split("=")[0]
    )
    reason = status.get("reason")
    pod = f"pod: phase={status.get('phase') or '-'}" + (f" reason={reason}" if reason else "")
    pod += " | " + " ".join(conditions)
    lines = [pod]
    lines += [container_line("init", c) for c in _ordered(obj, "initContainers")]
    lines += [container_line("ctr", c) for c in _ordered(obj, "containers")]
    return tuple(lines)


def _ordered(obj: Obj, spec_key: str) -> list[Obj]:
    """Statuses in spec order (the kubelet does not promise any order in the list)."""
    status_key = "initContainerStatuses" if spec_key == "initContainers" else "containerStatuses"
    statuses = {s.get("name"): s for s in (obj.get("status") or {}).get(status_key) or ()}
    names = [c["name"] for c in (obj.get("spec") or {}).get(spec_key) or ()]
    return [statuses[n] for n in names if n in statuses]


def final_status(obj: Obj) -> dict[str, Any]:
    """The last status in more detail than a state: adds messages and the last states."""
    status = obj.get("status") or {}
    out: dict[str, Any] = {
        "phase": status.get("phase"),
        "reason": status.get("reason"),
        "message": status.get("message"),
        "conditions": sorted(
            condition_text(c) for c in status.get("conditions") or () if c.get("type")
        ),
    }
    for kind, key in (("init", "initContainers"), ("ctr", "containers")):
        for c in _ordered(obj, key):
            last = (c.get("lastState") or {}).get("terminated") or {}
            out[f"{kind} {c.get('name')}"] = container_line(kind, c).split(": ", 1)[1] + (
                f" last={last.get('reason')}/{last.get('exitCode')}" if last else ""
            )
    return out


@dataclass(frozen=True)
class Sample:
    t: float  # seconds since the side's create call
    state: State


@dataclass(frozen=True)
class Event:
    t: float
    path: str  # involvedObject.fieldPath: "" for the pod, else spec.containers{name}
    reason: str
    type: str
    message: str

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.path, self.reason, self.type)


@dataclass
class Timeline:
    """Everything one side showed; ``display`` is kubectl's READY/STATUS/RESTARTS at the end
    (absent when the object was deleted by the scenario)."""

    side: str
    samples: list[Sample] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    final: dict[str, Any] = field(default_factory=dict)
    display: tuple[str, str, str] | None = None
    errors: list[str] = field(default_factory=list)
    window: float = 0.0  # seconds watched from the create call (0: not known)
    finals: list[tuple[float, dict[str, Any]]] = field(default_factory=list)  # as observed
    started: float = 0.0  # when the first container started, in this timeline's times

    def observe(self, t: float, obj: Obj) -> bool:
        """Record ``obj`` if its state is new; True when it was."""
        state = state_of(obj)
        self.final = final_status(obj)
        self.finals.append((t, self.final))
        if self.samples and self.samples[-1].state == state:
            return False
        self.samples.append(Sample(t, state))
        return True

    def to_json(self) -> dict[str, Any]:
        return {
            "samples": [{"t": round(s.t, 3), "state": list(s.state)} for s in self.samples],
            "events": [
                {
                    "t": round(e.t, 3),
                    "path": e.path,
                    "reason": e.reason,
                    "type": e.type,
                    "message": e.message,
                }
                for e in self.events
            ],
            "final": self.final,
            "display": list(self.display) if self.display else None,
            "errors": self.errors,
        }


@dataclass(frozen=True)
class Tolerance:
    """How far apart the same transition may be: ``seconds``, or ``fraction`` of its time
    when larger (back-off scenarios, whose waits grow exponentially)."""

    seconds: float = 0.5
    fraction: float = 0.0

    def allows(self, a: float, b: float) -> bool:
        return abs(a - b) <= max(self.seconds, self.fraction * max(a, b))


@dataclass
class Comparison:
    states_match: bool
    times_match: bool
    events_match: bool
    final_match: bool
    diff: list[str]
    notes: list[str]
    excluded: dict[str, int]
    start_latency: tuple[float | None, float | None]  # Pod, SimPod: see :func:`aligned`

    @property
    def matching(self) -> bool:
        return self.states_match and self.times_match and self.events_match and self.final_match


def changes(previous: State | None, state: State) -> str:
    """What changed from ``previous`` to ``state``, one readable line."""
    if previous is None:
        return " ; ".join(state)
    old = {line.split(":", 1)[0]: line for line in previous}
    parts = []
    for line in state:
        who = line.split(":", 1)[0]
        before = old.pop(who, None)
        if before != line:
            parts.append(_delta(before, line))
    parts += [f"{who}: (gone)" for who in old]
    return " ; ".join(parts) or "(same)"


def _delta(before: str | None, after: str) -> str:
    if before is None:
        return after
    who, rest = after.split(": ", 1)
    old_words = before.split(": ", 1)[1].split()
    new_words = rest.split()
    if len(old_words) != len(new_words):
        return after
    return f"{who}: " + " ".join(
        n if o == n else f"{o}->{n}" for o, n in zip(old_words, new_words, strict=True) if o != n
    )


def render(samples: Sequence[Sample]) -> list[str]:
    out = []
    previous: State | None = None
    for s in samples:
        out.append(f"{s.t:7.2f}s  {changes(previous, s.state)}")
        previous = s.state
    return out


def first_start(timeline: Timeline) -> float | None:
    """When the first container was first seen running (or already done): the end of the
    pod's start-up (sandbox, network, image), which the two sides spend very differently."""
    for s in timeline.samples:
        if any(" running " in line or " terminated/" in line for line in s.state[1:]):
            return s.t
    return None


def aligned(timeline: Timeline, *, from_creation: bool = False) -> Timeline:
    """A copy of the timeline with times counted from :func:`first_start` (earlier ones
    negative; unchanged when nothing ever ran, or ``from_creation``: for scenarios whose
    timing counts from the pod's startTime, such as activeDeadlineSeconds).

    The real node needs about a second to create a sandbox (containerd, CNI) before the first
    container runs, the process runtime a fraction of that, and that start-up latency depends
    on the machine and its load, not on the lifecycle; it is reported on its own (see
    ``start_latency``), and the lifecycle's own times are compared from that point on."""
    first = first_start(timeline) or 0.0
    anchor = 0.0 if from_creation else first
    out = Timeline(timeline.side, final=timeline.final, display=timeline.display)
    out.started = first - anchor
    out.errors = list(timeline.errors)
    out.window = timeline.window - anchor if timeline.window else 0.0
    out.finals = [(t - anchor, f) for t, f in timeline.finals]
    out.samples = [Sample(s.t - anchor, s.state) for s in timeline.samples]
    out.events = [replace(e, t=e.t - anchor) for e in timeline.events]
    return out


def compare(
    pod: Timeline, sim: Timeline, tolerance: Tolerance, *, from_creation: bool = False
) -> Comparison:
    """The verdict: same distinct states in the same order, each reached within the
    tolerance (from the first container's start, see :func:`aligned`); the same Events (per
    container, in order) at the same times; the same final status and kubectl columns.
    ``diff`` says what differs, Pod first, SimPod second."""
    diff: list[str] = []
    notes: list[str] = []
    latency = (first_start(pod), first_start(sim))
    pod = aligned(pod, from_creation=from_creation)
    sim = aligned(sim, from_creation=from_creation)
    window = min(pod.window, sim.window) if pod.window and sim.window else None
    _drop_transients(pod, sim, notes)
    truncated = window is not None and _cut(pod, sim, window, tolerance)
    pod_states = [s.state for s in pod.samples]
    sim_states = [s.state for s in sim.samples]
    states_match = pod_states == sim_states
    times_match = True
    late: list[str] = []
    matcher = difflib.SequenceMatcher(a=pod_states, b=sim_states, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for i, j in zip(range(i1, i2), range(j1, j2), strict=True):
                a, b = pod.samples[i].t, sim.samples[j].t
                if not (a <= pod.started and b <= sim.started) and not tolerance.allows(a, b):
                    times_match = False
                    prev = pod.samples[i - 1].state if i else None
                    late.append(
                        f"time: {pod.side} {a:.2f}s vs {sim.side} {b:.2f}s ({b - a:+.2f}s) for "
                        f"{changes(prev, pod.samples[i].state)}"
                    )
    if not states_match:
        diff.append(_first_difference(pod, sim, matcher))
        diff.append(f"states (- {pod.side}, + {sim.side}):")
        diff += [
            "  " + line
            for line in difflib.unified_diff(
                render(pod.samples), render(sim.samples), pod.side, sim.side, lineterm="", n=1
            )
        ][2:]
    diff += late
    events_match, excluded = _compare_events(pod, sim, tolerance, diff, notes)
    final_match = pod.final == sim.final
    if not final_match:
        diff.append("final status:")
        for key in sorted(set(pod.final) | set(sim.final)):
            mine, theirs = pod.final.get(key), sim.final.get(key)
            if mine != theirs:
                diff.append(f"  {key}: {pod.side} {mine!r} vs {sim.side} {theirs!r}")
    if truncated:
        notes.append(f"compared up to {window:.2f}s after the first start (the shorter side)")
    elif not (_display_current(pod) and _display_current(sim)):
        notes.append("kubectl columns left out: taken after a restart that followed the window")
    elif pod.display and sim.display and pod.display != sim.display:
        final_match = False
        diff.append(
            f"kubectl READY/STATUS/RESTARTS: {pod.side} {pod.display} vs {sim.side} {sim.display}"
        )
    for side in (pod, sim):
        diff += [f"{side.side} error: {e}" for e in side.errors]
    if pod.errors or sim.errors:
        final_match = False
    return Comparison(
        states_match, times_match, events_match, final_match, diff, notes, dict(excluded), latency
    )


def _display_current(side: Timeline) -> bool:
    """Whether the kubectl columns (read once the window is over) still show the final
    status: their RESTARTS is the app containers' restarts (or all containers', while
    initialising); a restart just after the window makes them a later state."""
    if side.display is None:
        return True
    restarts = _restarts(side.final)
    apps = sum(n for key, n in restarts.items() if key.startswith("ctr "))
    return side.display[2] in (str(apps), str(sum(restarts.values())))


def _restarts(final: Mapping[str, Any]) -> dict[str, int]:
    return {
        key: int(str(value).split("restarts=", 1)[1].split()[0])
        for key, value in final.items()
        if key.startswith(("ctr ", "init ")) and "restarts=" in str(value)
    }


def _drop_transients(pod: Timeline, sim: Timeline, notes: list[str]) -> None:
    """Leave out the states a side held for less than :data:`TRANSIENT_SECONDS` that the
    other side never showed (one status written in two patches), each with a note."""
    shown = {id(side): {s.state for s in side.samples} for side in (pod, sim)}
    for side, other in ((pod, sim), (sim, pod)):
        theirs = shown[id(other)]
        kept: list[Sample] = []
        for sample, after in zip(side.samples, side.samples[1:], strict=False):
            held = after.t - sample.t
            if held < TRANSIENT_SECONDS and sample.state not in theirs:
                notes.append(
                    f"{side.side} held a state for {held * 1000:.0f} ms at {sample.t:.2f}s that "
                    "the other side never showed (a status written in two patches): left out"
                )
            elif not kept or kept[-1].state != sample.state:
                kept.append(sample)
        if side.samples and (not kept or kept[-1].state != side.samples[-1].state):
            kept.append(side.samples[-1])
        side.samples = kept


def _cut(pod: Timeline, sim: Timeline, end: float, tolerance: Tolerance) -> bool:
    """Trim both timelines to what can be compared; True when something was trimmed.

    Both sides are watched for the same time from their create calls, but their lifecycles
    start at different moments (see :func:`aligned`), so ``end``, the earlier end of the
    two windows, is where the comparison stops. A step up to the *horizon*, ``end`` less the
    tolerance, has its counterpart on the other side before ``end``: it must be there. A
    step after it may have its counterpart just past ``end``: it counts when the other side
    has it too and is dropped when not, so that a window's end never decides the verdict."""
    horizon = end - max(tolerance.seconds, tolerance.fraction * end)
    sure = [sum(s.t <= horizon for s in side.samples) for side in (pod, sim)]
    seen = [sum(s.t <= end for s in side.samples) for side in (pod, sim)]
    states = [[s.state for s in side.samples] for side in (pod, sim)]
    keep = (sure[0], sure[1])
    for a in range(seen[0], sure[0] - 1, -1):
        b = next(
            (b for b in range(seen[1], sure[1] - 1, -1) if states[0][:a] == states[1][:b]), None
        )
        if b is not None:
            keep = (a, b)
            break
    trimmed = False
    for side, n in zip((pod, sim), keep, strict=True):
        if n < len(side.samples):
            trimmed = True
            cut_at = side.samples[n].t
            side.samples = side.samples[:n]
            side.final = next((f for t, f in reversed(side.finals) if t < cut_at), {})
    _cut_events(pod, sim, horizon, end)
    return trimmed


def _cut_events(pod: Timeline, sim: Timeline, horizon: float, end: float) -> None:
    """The same rule for Events, per (object, reason, type): an occurrence after
    ``horizon`` is kept only as far as the other side has as many."""
    for side in (pod, sim):
        side.events = [e for e in side.events if e.t <= end]
    mine, theirs = _by_key(pod.events), _by_key(sim.events)
    dropped: set[int] = set()
    for key in set(mine) | set(theirs):
        a, b = mine.get(key, []), theirs.get(key, [])
        longer, shorter = (a, b) if len(a) > len(b) else (b, a)
        extra = longer[len(shorter) :]
        dropped |= {id(e) for e in extra if e.t > horizon}
    for side in (pod, sim):
        side.events = [e for e in side.events if id(e) not in dropped]


def _first_difference(pod: Timeline, sim: Timeline, matcher: difflib.SequenceMatcher[State]) -> str:
    """One line: the first step where the two sequences part, as each side's change."""
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue

        def step(tl: Timeline, i: int, end: int) -> str:
            if i >= end:
                return "(nothing)"
            prev = tl.samples[i - 1].state if i else None
            return f"{tl.samples[i].t:.2f}s {changes(prev, tl.samples[i].state)}"

        return (
            f"states part at step {i1 + 1}: {pod.side} {step(pod, i1, i2)} | "
            f"{sim.side} {step(sim, j1, j2)}"
        )
    return "states differ"


def _by_key(events: Iterable[Event]) -> dict[tuple[str, str, str], list[Event]]:
    grouped: dict[tuple[str, str, str], list[Event]] = defaultdict(list)
    for e in events:
        grouped[e.key].append(e)
    return grouped


def _compare_events(
    pod: Timeline, sim: Timeline, tolerance: Tolerance, diff: list[str], notes: list[str]
) -> tuple[bool, dict[str, int]]:
    """Events per (object path, reason, type): the same number of occurrences, the n-th at
    the same time. Their interleaving across containers is not compared: two containers'
    events in the same instant reach the API in either order on a real kubelet too."""
    excluded: dict[str, int] = defaultdict(int)
    grouped = {}
    for side in (pod, sim):
        kept = []
        for e in side.events:
            if e.reason in EXCLUDED_EVENTS:
                excluded[f"{side.side} {e.reason}"] += 1
            else:
                kept.append(e)
        grouped[side.side] = _by_key(kept)
    a, b = grouped[pod.side], grouped[sim.side]
    ok = True
    for key in sorted(set(a) | set(b)):
        pa, sb = a.get(key, []), b.get(key, [])
        label = f"{key[2]} {key[1]}" + (f" {key[0]}" if key[0] else " (pod)")
        if len(pa) != len(sb):
            ok = False
            diff.append(
                f"event {label}: {pod.side} x{len(pa)} at {_times(pa)} vs {sim.side} x{len(sb)} at "
                f"{_times(sb)}"
            )
            continue
        # Before the first container runs (sandbox, image, create) each side takes its own
        # time, reported as the start latency: there only the order counts.
        late = [
            (x.t, y.t)
            for x, y in zip(pa, sb, strict=True)
            if not (x.t <= pod.started and y.t <= sim.started) and not tolerance.allows(x.t, y.t)
        ]
        if late:
            ok = False
            diff.append(f"event time {label}: {pod.side} {_times(pa)} vs {sim.side} {_times(sb)}")
        messages = {(x.message, y.message) for x, y in zip(pa, sb, strict=True)}
        notes += [
            f"message {label}: {pod.side} {x!r} vs {sim.side} {y!r}"
            for x, y in sorted(messages)
            if x != y
        ]
    return ok, excluded


def _times(events: Sequence[Event]) -> str:
    return "[" + ", ".join(f"{e.t:.2f}" for e in events) + "]"
