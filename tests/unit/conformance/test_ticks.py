"""Reading the real kubelet's tick phases from its log (no cluster)."""

from __future__ import annotations

import datetime
import time
from pathlib import Path

from tests.conformance.ticks import KubeletLog, Placement, parse

POD = "conf-crashloop-d2ad4/crashloop"
PLEG = (
    'I1126 03:29:16.281573   25907 kubelet.go:2619] "SyncLoop (PLEG): event for pod" '
    f'pod="{POD}" event={{"ID":"cda8","Type":"ContainerDied","Data":"3f06"}}'
)
HOUSEKEEPING = 'I1126 03:29:56.236768   25907 kubelet.go:2685] "SyncLoop (housekeeping)"'
RELISTING = 'I1126 03:29:16.271002   25907 generic.go:240] "GenericPLEG: Relisting"'
OTHER = 'I1126 03:29:17.236993   25907 kubelet.go:1950] "SyncPod enter" pod="a/b" podUID="x"'


def local(text: str) -> float:
    return datetime.datetime.fromisoformat(text).timestamp()


def test_relist_pleg_and_housekeeping_lines_are_read_in_local_time() -> None:
    pleg = parse(PLEG, year=2026)
    assert pleg is not None
    assert (pleg.source, pleg.pod) == ("PLEG", POD)
    assert pleg.at == local("2026-11-26 03:29:16.281573")
    housekeeping = parse(HOUSEKEEPING, year=2026)
    assert housekeeping is not None
    assert (housekeeping.source, housekeeping.pod) == ("housekeeping", "")
    relisting = parse(RELISTING, year=2026)
    assert relisting is not None
    assert (relisting.source, relisting.at) == ("relist", local("2026-11-26 03:29:16.271002"))
    assert parse(OTHER, year=2026) is None


def test_the_simpod_is_placed_whole_seconds_after_the_pod_with_its_phases(tmp_path: Path) -> None:
    log = tmp_path / "kubelet.log"
    log.write_text(f"{HOUSEKEEPING}\nthe last line before the reader starts\n")
    reader = KubeletLog(log)  # the housekeeping tick before it is known
    now = datetime.datetime.now()  # klog writes local time
    created = now.timestamp() - 0.4
    relist_at = (now + datetime.timedelta(seconds=1)).replace(microsecond=250000)
    pleg_at = relist_at + datetime.timedelta(seconds=0.012)
    with log.open("a") as out:
        out.write(PLEG + "\n")  # earlier than the Pod's creation: not its relist
        for at, line in ((relist_at, RELISTING), (pleg_at, PLEG)):
            out.write(f"I{at.strftime('%m%d %H:%M:%S.%f')}{line[21:]}\n")
        out.write("I1126 03:29:57.2")  # half a line: left for the next read
    placement = reader.place(POD, created=created, timeout=1, lead=0.3)
    assert placement is not None
    assert placement.relist == pleg_at.timestamp()  # where the relist came to the Pod
    assert abs(placement.sync - 0.236768) < 1e-6
    assert placement.at == created + placement.shift
    assert placement.at >= time.time() + 0.2
    phases = placement.tick_phases()  # too few relists seen for a period: a second
    assert phases == {"relist": 0.262, "relistPeriod": 1.0, "syncLoop": 0.237}


def test_no_placement_without_the_pods_relist(tmp_path: Path) -> None:
    log = tmp_path / "kubelet.log"
    log.write_text(HOUSEKEEPING + "\n")
    reader = KubeletLog(log)
    assert reader.place(POD, created=time.time(), timeout=0.05, lead=0.3) is None


def test_the_relist_period_is_the_median_gap_between_recent_relists(tmp_path: Path) -> None:
    log = tmp_path / "kubelet.log"
    start = datetime.datetime(2026, 11, 26, 3, 29, 16, 271002)  # local, as klog writes
    lines = [PLEG]  # a PLEG event is no relist
    for n, extra in enumerate([0, 0.012, 0.025, 0.031, 0.05, 0.061, 4.07]):  # a slow one
        at = start + datetime.timedelta(seconds=n + extra)
        lines.append(f"I{at.strftime('%m%d %H:%M:%S.%f')}{RELISTING[21:]}")
    log.write_text("\n".join(lines) + "\n")
    reader = KubeletLog(log)
    reader._read()
    assert len(reader.relists) == 7
    assert abs(reader.relist_period() - 1.013) < 1e-6  # the upper median of six gaps
    placement = Placement(relist=100.25, period=1.0113, sync=0.5, at=102.0, shift=2)
    phases = placement.tick_phases()
    assert phases["relistPeriod"] == 1.0113
    assert abs((phases["relist"] - (100.25 + 2)) / 1.0113 % 1) < 1e-3  # a tick at 102.25
