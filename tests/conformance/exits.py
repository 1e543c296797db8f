"""``python -m tests.conformance.exits``: how long the real node's runtime takes to report an exit.

A relist shows a container exited only if the runtime reported the exit when the relist
listed the containers (runc's shim, containerd's task exit event, the CRI's container
status), so an exit just before a relist waits for the one after. simpod's
``EXIT_REPORT_SECONDS`` comes from this measurement: busybox Pods on the real node each
sleep until a moment aimed just before one of the node's coming relists, append the wall
clock (``busybox adjtimex``) to a hostPath file and exit. The kubelet's log tells which
relist reported each death (its first ``ContainerDied`` PLEG event); the exits that came
shortly before a relist's start and were not seen by it bound the delay.
"""

from __future__ import annotations

import argparse
import bisect
import random
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubernetes import client

from simpod.cluster import node
from tests.conformance import runner
from tests.conformance.ticks import parse

NAMESPACE = "conf-exits"
LEAD_SECONDS = 4.0  # a Pod runs within this of its creation, on a loaded node too
AIM = (-0.02, 0.09)  # seconds before the aimed relist's start
SPACING_SECONDS = 0.35
PERIOD_WINDOW_SECONDS = 20.0  # the relist period from the relists this far back
SETTLE_SECONDS = 7.0
NEAR_SECONDS = 0.1  # exits listed one by one, this close before a relist
_CLOCK = re.compile(r"tv_sec:\s+(\d+)\s+time\.tv_usec:\s+(\d+)")


@dataclass(frozen=True)
class Verdict:
    """One exit: how long before the first relist that began after it, and whether that
    relist reported it."""

    before: float
    seen: bool


def verdicts(
    exits: dict[str, float], died: dict[str, float], relists: list[float]
) -> list[Verdict]:
    """Each exit (by Pod) against the relist that reported its death (``died``: the PLEG
    event's time) and the relist before that."""
    out = []
    for pod, exited in exits.items():
        reported = died.get(pod)
        if reported is None:
            continue
        first = bisect.bisect_right(relists, exited)  # the first relist after the exit
        by = bisect.bisect_right(relists, reported) - 1  # the relist that reported it
        if first >= len(relists) or by < first:
            continue
        out.append(Verdict(relists[first] - exited, seen=by == first))
    return sorted(out, key=lambda v: v.before)


def _script(target: float, pod: str) -> str:
    usec = int(target * 1e6)
    clock = (
        "busybox adjtimex | awk '/tv_sec/{s=$2}/tv_usec/{u=$2}END{printf \"%.0f\", s*1000000+u}'"
    )
    return f"usleep $(({usec} - $({clock}))); busybox adjtimex | grep tv_ > /exits/{pod}; exit 0"


def _pod(name: str, script: str, directory: Path) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "nodeName": node.NODE_NAME,
            "restartPolicy": "Never",
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            "containers": [
                {
                    "name": "c",
                    "image": "busybox",
                    "imagePullPolicy": "Never",
                    "command": ["sh", "-c", script],
                    "volumeMounts": [{"name": "exits", "mountPath": "/exits"}],
                }
            ],
            "volumes": [{"name": "exits", "hostPath": {"path": str(directory)}}],
        },
    }


def _died(log: Path) -> dict[str, float]:
    """Each Pod's first ContainerDied PLEG event (its container's; the sandbox's comes
    later, when the kubelet stops it)."""
    died: dict[str, float] = {}
    year = time.localtime().tm_year
    for line in log.read_text(errors="replace").splitlines():
        tick = parse(line, year=year)
        if tick and tick.pod.startswith(f"{NAMESPACE}/") and "ContainerDied" in line:
            died.setdefault(tick.pod.split("/")[1], tick.at)
    return died


def measure(env: runner.Environment, pods: int, directory: Path) -> list[Verdict]:
    core = client.CoreV1Api(env.api)
    runner.create_namespace(env, NAMESPACE)
    log = env.kubelet_log
    try:
        for n in range(pods):
            last = log.relists_so_far()[-1]
            period = log.relist_period(last - PERIOD_WINDOW_SECONDS, last)
            ahead = last + period * (1 + int((time.time() + LEAD_SECONDS - last) / period))
            name = f"x{n}"
            script = _script(ahead - random.uniform(*AIM), name)
            core.create_namespaced_pod(NAMESPACE, _pod(name, script, directory))
            time.sleep(SPACING_SECONDS)
        time.sleep(LEAD_SECONDS + SETTLE_SECONDS)
        relists = log.relists_so_far()
        exits = {}
        for path in directory.iterdir():
            found = _CLOCK.search(path.read_text())
            if found:
                exits[path.name] = int(found[1]) + int(found[2]) / 1e6
        return verdicts(exits, _died(log.path), relists)
    finally:
        core.delete_namespace(NAMESPACE)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.conformance.exits", description=__doc__)
    parser.add_argument("--pods", type=int, default=60)
    parser.add_argument("--home", type=Path, default=runner.DEFAULT_HOME)
    parser.add_argument("--keep-cluster", action="store_true")
    args = parser.parse_args(argv)
    try:
        env = runner.prepare(args.home, keep_cluster=args.keep_cluster)
    except runner.Skip as exc:
        print(f"exits: skipped: {exc}")
        return 0
    directory = args.home / "exits"
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.iterdir():
        old.unlink()
    try:
        found = measure(env, args.pods, directory)
    finally:
        env.close()
    for v in found:
        if v.before < NEAR_SECONDS:
            verdict = "seen" if v.seen else "missed"
            print(f"  exit {v.before * 1000:5.1f} ms before a relist: {verdict}")
    seen = min((v.before for v in found if v.seen), default=0.0)
    missed = max((v.before for v in found if not v.seen), default=0.0)
    print(
        f"exits: {len(found)} timed; the next relist saw one from {seen * 1000:.0f} ms before "
        f"it, missed one up to {missed * 1000:.0f} ms before it"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
