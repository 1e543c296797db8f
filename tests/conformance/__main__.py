"""``python -m tests.conformance``: run the scenarios on both sides and write the report.

Exit status: 0 when every scenario matches (or when the machine cannot run a real node:
the suite is skipped with the reason), 1 when some differ, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.conformance import report, runner
from tests.conformance.scenarios import SCENARIOS, Scenario


def _args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.conformance", description=__doc__)
    parser.add_argument("names", nargs="*", help="run only these scenarios (default: all)")
    parser.add_argument(
        "--jobs",
        type=int,
        default=3,
        help="scenarios run at the same time (the real node runs --real-runs Pods for each)",
    )
    parser.add_argument(
        "--real-runs",
        type=int,
        default=3,
        help="runs of each Pod on the real node: the SimPod matches when it matches one",
    )
    parser.add_argument(
        "--attempts",
        type=int,
        default=2,
        help="runs of a scenario (both sides, new phases) until it matches: the report says "
        "which attempt matched and keeps the first attempt's differences",
    )
    parser.add_argument(
        "--home",
        type=Path,
        default=Path(os.environ.get("SIMPOD_CONFORMANCE_HOME", runner.DEFAULT_HOME)),
        help="SIMPOD_HOME of the control plane with the real node (never the shared one)",
    )
    parser.add_argument("--keep-cluster", action="store_true", help="leave it running")
    parser.add_argument("--out", type=Path, default=Path("conformance"))
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    args = parser.parse_args(argv)
    if args.real_runs < 1 or args.attempts < 1:
        parser.error("--real-runs and --attempts must be at least 1")
    return args


def _select(names: list[str]) -> list[Scenario]:
    known = {s.name: s for s in SCENARIOS}
    unknown = [n for n in names if n not in known]
    if unknown:
        sys.exit(f"unknown scenarios: {', '.join(unknown)} (see --list)")
    chosen = [known[n] for n in names] if names else list(SCENARIOS)
    # Longest first, so that the slow back-off scenarios do not all end up at the end.
    return sorted(chosen, key=lambda s: -s.seconds)


RERUN_OFFSET_SECONDS = 0.5


def main(argv: list[str]) -> int:
    args = _args(argv)
    if args.list:
        for s in SCENARIOS:
            print(f"{s.name:28} {s.seconds:4.0f}s  {s.why}")
        return 0
    scenarios = _select(args.names)
    started = time.monotonic()
    try:
        env = runner.prepare(args.home, keep_cluster=args.keep_cluster)
    except runner.Skip as exc:
        print(f"conformance: SKIPPED: {exc}")
        return 0
    try:
        print(f"conformance: {len(scenarios)} scenarios, {args.jobs} at a time", flush=True)
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            cases = list(pool.map(lambda s: _one(env, s, args.real_runs, args.attempts), scenarios))
        left = runner.wait_namespaces_gone(env)
        if left:
            print(f"conformance: namespaces not gone yet: {', '.join(left)}")
    finally:
        env.close()
    order = {s.name: i for i, s in enumerate(SCENARIOS)}
    cases.sort(key=lambda c: order[c.scenario.name])
    summary = report.write(
        args.out, cases, seconds=time.monotonic() - started, mode="process runtime"
    )
    for case in cases:
        if not case.comparison.matching:
            print(f"  MISMATCH {case.scenario.name}: {case.comparison.diff[0]}")
    print(summary)
    print(f"conformance: report in {args.out / 'report.md'} and {args.out / 'report.json'}")
    return 0 if all(c.comparison.matching for c in cases) else 1


def _one(env: runner.Environment, scenario: Scenario, real_runs: int, attempts: int) -> runner.Case:
    """A scenario, run again (up to ``attempts`` times in all) while it mismatches: both
    sides meet new tick phases and the real kubelet's own races are drawn again."""
    first: tuple[str, ...] = ()
    for attempt in range(1, attempts + 1):
        case = runner.run(env, scenario, real_runs=real_runs)
        matching = case.comparison.matching
        verdict = "match" if matching else "MISMATCH"
        print(f"  {scenario.name}: {verdict} (attempt {attempt})", flush=True)
        if matching or attempt == attempts:
            return dataclasses.replace(case, attempts=attempt, first_diff=first)
        first = first or tuple(case.comparison.diff)
        # The relist's phase moves by ~10 ms a second, and an attempt takes about a whole
        # number of seconds plus its set-up: a rerun right away tends to meet the ticks
        # where the last one did. Half a second later it tends to meet them elsewhere (the
        # set-up's own time varies, so this is no guarantee).
        time.sleep(RERUN_OFFSET_SECONDS)
    raise AssertionError("attempts must be at least 1")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
