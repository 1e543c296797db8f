"""``python -m tests.conformance.show [NAME...]``: both timelines of recorded scenarios, one
after the other, from ``conformance/report.json``; for reading a mismatch without rerunning
it (the report's diff shows only where the two differ)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tests.conformance.timeline import Sample, render


def show(case: dict[str, Any]) -> list[str]:
    out = [f"== {case['name']}: {case['why']} ({'match' if case['matching'] else 'MISMATCH'})"]
    for key, label in (("pod", "Pod"), ("simpod", "SimPod")):
        side = case[key]
        samples = [Sample(s["t"], tuple(s["state"])) for s in side["samples"]]
        actions = ", ".join(f"{a['do']} at {a['t']:.2f}s" for a in case["actions"][label])
        out.append(f"-- {label}" + (f" ({actions})" if actions else ""))
        out += ["  " + line for line in render(samples)]
        out += [
            f"  {e['t']:7.2f}s  event {e['type']} {e['reason']} {e['path']}: {e['message'][:90]}"
            for e in side["events"]
        ]
        if side["display"]:
            out.append("  kubectl: " + " ".join(side["display"]))
        out += [f"  error: {e}" for e in side["errors"]]
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.conformance.show")
    parser.add_argument("names", nargs="*", help="scenarios (default: the mismatching ones)")
    parser.add_argument("--report", type=Path, default=Path("conformance/report.json"))
    args = parser.parse_args(argv)
    cases = json.loads(args.report.read_text())["cases"]
    chosen = [c for c in cases if (c["name"] in args.names if args.names else not c["matching"])]
    for case in chosen:
        print("\n".join(show(case)) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
