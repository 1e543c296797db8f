"""Merge one run's figures into ``latest.json`` and render the human-readable table."""

from __future__ import annotations

import json
from pathlib import Path

RESULTS_DIR = Path(__file__).parent / "results"
LATEST = RESULTS_DIR / "latest.json"
TABLE = RESULTS_DIR / "latest.md"

Figures = dict[str, dict[str, float]]


def merge(new: Figures, *, path: Path = LATEST) -> Figures:
    merged: Figures = json.loads(path.read_text()) if path.is_file() else {}
    for scenario, fields in new.items():
        merged[scenario] = {**merged.get(scenario, {}), **fields}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(merged, indent=2, sort_keys=True) + "\n")
    TABLE.write_text(render(merged))
    return merged


def render(figures: Figures) -> str:
    lines = ["| figure | value |", "|---|---|"]
    for scenario in sorted(figures):
        for field, value in sorted(figures[scenario].items()):
            lines.append(f"| {scenario}.{field} | {value:,.3f} |")
    return "\n".join(lines) + "\n"
