"""Scenario ``controlplane``: start time of the embedded control plane, cold and warm.

Cold: fresh data and credentials (binaries already built; the build is a one-off, timed
separately). Warm: a restart over existing data. Runs in its own ``$SIMPOD_HOME`` whose
``bin`` links to the real cache, so it never touches the cluster the other scenarios use.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from simpod.cluster import controlplane
from simpod.cluster.build import ensure_binaries
from simpod.cluster.paths import Layout, layout


def run() -> dict[str, float]:
    real = layout()
    ensure_binaries(real)
    with tempfile.TemporaryDirectory(prefix="simpod-bench-") as tmp:
        home = Path(tmp)
        os.symlink(real.home / "bin", home / "bin")
        scratch = Layout(home)
        try:
            cold = _timed_up(scratch)
            controlplane.stop_all(scratch)
            warm = _timed_up(scratch)
        finally:
            controlplane.down(scratch)
    return {"cold_start_seconds": cold, "warm_start_seconds": warm}


def _timed_up(scratch: Layout) -> float:
    started = time.monotonic()
    controlplane.up(scratch, unsafe_no_fsync=True)
    return time.monotonic() - started
