"""Every example in ``examples/`` does what its comment promises.

Each SimPod in an example carries its expectation in the annotation
``simpod.dev/example-expect``, one step per line, run in order:

- a check line, ``key=value`` or ``key>=number`` terms separated by spaces, waits (up to
  ``WITHIN`` kubelet seconds) until every term holds at once;
- a ``kubectl ...`` line runs that command in the example's namespace, as a reader of
  ``docs/lifecycle.md`` would. If the SimPod is gone afterwards (``kubectl delete``), the
  following check lines are evaluated on the last state the object had before it went.

Keys: ``phase``, ``reason`` (status.reason), ``status``/``ready``/``restarts`` (the kubectl
STATUS/READY/RESTARTS columns), ``condition.<type>`` and ``conditionReason.<type>``,
``restarts.<c>`` / ``exit.<c>`` / ``lastExit.<c>`` / ``started.<c>`` for a container or
init container ``<c>``, and ``event`` (an Event with that reason exists).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import watch

from simpod.api.group import GROUP, SIMPOD, VERSION
from tests.e2e.simpods import Obj, SimPods, condition, container, display, phase

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
GUIDE = Path(__file__).resolve().parents[2] / "docs" / "lifecycle.md"
EXPECT = "simpod.dev/example-expect"
WITHIN = 150.0  # kubelet seconds one check line may take
TERM = re.compile(r"^(?P<key>[A-Za-z]+(?:\.[^=<>]+)?)(?P<op>>=|=)(?P<want>\S+)$")


@dataclass(frozen=True)
class Term:
    key: str
    op: str  # "=" or ">="
    want: str

    def __str__(self) -> str:
        return f"{self.key}{self.op}{self.want}"


@dataclass(frozen=True)
class Step:
    line: str
    terms: tuple[Term, ...] = ()
    kubectl: tuple[str, ...] = ()  # the arguments after "kubectl"


@dataclass(frozen=True)
class Example:
    file: Path
    name: str
    steps: tuple[Step, ...]


def _parse_step(line: str) -> Step:
    if line.startswith("kubectl "):
        return Step(line=line, kubectl=tuple(shlex.split(line)[1:]))
    terms = []
    for word in line.split():
        match = TERM.match(word)
        if match is None:
            raise ValueError(f"bad term {word!r} in {line!r}")
        terms.append(Term(match["key"], match["op"], match["want"]))
    return Step(line=line, terms=tuple(terms))


def load(file: Path) -> list[Example]:
    examples = []
    for doc in yaml.safe_load_all(file.read_text()):
        if not doc:
            continue
        meta = doc["metadata"]
        text = (meta.get("annotations") or {}).get(EXPECT, "")
        steps = tuple(_parse_step(s.strip()) for s in text.splitlines() if s.strip())
        examples.append(Example(file=file, name=meta["name"], steps=steps))
    return examples


FILES = sorted(EXAMPLES.glob("*.yaml"))


def _any_container(pod: Obj, name: str) -> Obj:
    return container(pod, name) or container(pod, name, init=True)


def _exit_code(state: Obj | None) -> str:
    terminated = (state or {}).get("terminated")
    return str(terminated["exitCode"]) if terminated else "(not terminated)"


def observe(pod: Obj, key: str) -> str:
    """The value ``key`` names in ``pod``, as a string (events are handled by the caller)."""
    field, _, arg = key.partition(".")
    status = pod.get("status") or {}
    observers: dict[str, Callable[[], Any]] = {
        "phase": lambda: phase(pod),
        "reason": lambda: status.get("reason", ""),
        "status": lambda: display(pod),
        "ready": lambda: (status.get("display") or {}).get("ready", ""),
        "restarts": lambda: str((status.get("display") or {}).get("restarts", "")).split(" ")[0],
        "condition": lambda: condition(pod, arg).get("status", "(absent)"),
        "conditionReason": lambda: condition(pod, arg).get("reason", ""),
        "restarts.": lambda: _any_container(pod, arg).get("restartCount", 0),
        "exit.": lambda: _exit_code(_any_container(pod, arg).get("state")),
        "lastExit.": lambda: _exit_code(_any_container(pod, arg).get("lastState")),
        "started.": lambda: str(_any_container(pod, arg).get("started")).lower(),
    }
    name = field if field in {"condition", "conditionReason"} or not arg else f"{field}."
    if name not in observers:
        raise ValueError(f"unknown key {key!r}")
    return str(observers[name]())


def failures(pod: Obj, terms: tuple[Term, ...], events: Callable[[], list[str]]) -> list[str]:
    """The terms that do not hold, each with what was seen instead."""
    out = []
    reasons: list[str] | None = None
    for term in terms:
        if term.key == "event":
            reasons = events() if reasons is None else reasons
            if term.want not in reasons:
                out.append(f"{term} (events: {reasons})")
            continue
        seen = observe(pod, term.key)
        if term.op == ">=":
            ok = seen.lstrip("-").isdigit() and int(seen) >= int(term.want)
        else:
            ok = seen == term.want
        if not ok:
            out.append(f"{term} (saw {seen!r})")
    return out


def _holds(terms: tuple[Term, ...], events: Callable[[], list[str]]) -> Callable[[Obj], bool]:
    return lambda pod: not failures(pod, terms, events)


def _last_state(simpods: SimPods, name: str, resource_version: str) -> Obj:
    """The object as it was just before it was deleted: the DELETED event's copy."""
    last: Obj = {}
    stream = watch.Watch().stream(
        simpods.custom.list_namespaced_custom_object,
        GROUP,
        VERSION,
        simpods.namespace,
        SIMPOD.plural,
        field_selector=f"metadata.name={name}",
        resource_version=resource_version,
        timeout_seconds=30,
    )
    for event in stream:
        last = event["object"]
        if event["type"] == "DELETED":
            return last
    pytest.fail(f"{name}: no DELETED event after resourceVersion {resource_version}")


def run(simpods: SimPods, example: Example) -> None:
    name = example.name

    def reasons() -> list[str]:
        return [reason for reason, _ in simpods.events(name)]

    gone: Obj | None = None  # the last state, once the object is deleted
    for step in example.steps:
        if step.kubectl:
            before = simpods.get(name)
            assert before is not None, f"{name} is gone before `{step.line}`"
            result = simpods.cluster.kubectl(*step.kubectl, "-n", simpods.namespace)
            assert result.returncode == 0, result.stderr
            if simpods.get(name) is None:
                gone = _last_state(simpods, name, before["metadata"]["resourceVersion"])
        elif gone is not None:
            missing = failures(gone, step.terms, reasons)
            assert not missing, f"{name} at deletion: {missing}"
        else:
            simpods.wait(
                name,
                _holds(step.terms, reasons),
                kubelet_seconds=WITHIN,
                what=step.line,
            )


def test_every_example_states_its_expectation() -> None:
    assert FILES, f"no examples in {EXAMPLES}"
    guide = GUIDE.read_text()
    for file in FILES:
        assert f"examples/{file.name}" in guide, f"{file.name} is not in {GUIDE.name}"
        for doc in yaml.safe_load_all(file.read_text()):
            assert doc["spec"]["nodeName"] == "sim-node-1", file.name
        for example in load(file):
            assert any(s.terms for s in example.steps), f"{file.name}/{example.name}: no {EXPECT}"
            for step in example.steps:
                for term in step.terms:
                    if term.key != "event":
                        observe({}, term.key)  # raises on an unknown key


@pytest.mark.parametrize("file", FILES, ids=[f.stem for f in FILES])
def test_example(simpods: SimPods, file: Path) -> None:
    applied = simpods.cluster.kubectl("apply", "-n", simpods.namespace, "-f", str(file))
    assert applied.returncode == 0, applied.stderr
    for example in load(file):
        run(simpods, example)
