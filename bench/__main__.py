"""Run every scenario (or ``--scenario NAME``) and merge the figures into latest.json."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from bench import admission, api, controlplane, process, realnode, schedule, startup, steady
from bench.results import LATEST, TABLE, merge, render

SCENARIOS: dict[str, Callable[[], dict[str, float]]] = {
    "controlplane": controlplane.run,
    "api": api.run,
    "schedule": schedule.run,
    "admission": admission.run,
    "startup": startup.run,
    "steady": steady.run,
    "process": process.run,
    "realnode": realnode.run,
}


def main() -> int:
    parser = argparse.ArgumentParser(prog="make bench")
    parser.add_argument("--scenario", choices=sorted(SCENARIOS))
    args = parser.parse_args()
    names = [args.scenario] if args.scenario else list(SCENARIOS)
    figures = {}
    for name in names:
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        figures[name] = SCENARIOS[name]()
    merge(figures)
    print(render(figures), end="")
    print(f"merged into {LATEST} (table: {TABLE})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
