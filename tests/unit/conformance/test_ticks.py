"""Reading the real kubelet's tick phases from its log (no cluster)."""

from __future__ import annotations

import datetime
import time
from pathlib import Path

from tests.conformance.exits import verdicts
from tests.conformance.ticks import KubeletLog, parse

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


def _line(at: float, template: str) -> str:
    moment = datetime.datetime.fromtimestamp(at)  # klog writes local time
    return f"I{moment.strftime('%m%d %H:%M:%S.%f')}{template[21:]}"


def test_the_simpod_is_placed_after_the_pod_on_the_relists_it_met(tmp_path: Path) -> None:
    log = tmp_path / "kubelet.log"
    log.write_text(f"{HOUSEKEEPING}\nthe last line before the reader starts\n")
    reader = KubeletLog(log)  # the housekeeping tick before it is known
    created = round(time.time(), 3) - 6
    starts = [created - 1 + n * 1.01 for n in range(9)]  # up to 7.08 s after its creation
    with log.open("a") as out:
        out.write(PLEG + "\n")  # earlier than the Pod's creation: not its relist
        for n, at in enumerate(starts):
            out.write(_line(at, RELISTING) + "\n")
            if n in (2, 4):  # the Pod changed: the relist came to it a little later
                out.write(_line(at + (0.012 if n == 2 else 0.03), PLEG) + "\n")
        out.write("I1126 03:29:57.2")  # half a line: left for the next read
    placement = reader.place(POD, created=created, seconds=3, timeout=1, lead=0.3)
    assert placement is not None
    # Its window and a second and a half on either side: where each relist came to the
    # Pod, its median delay where it had no event.
    synced = [at + (0.012 if n == 2 else 0.03) for n, at in enumerate(starts[:6])]
    assert len(placement.relists) == len(synced)
    for (at, sync), start, expected in zip(placement.relists, starts, synced, strict=False):
        assert abs(at - start) < 1e-5
        assert abs(sync - expected) < 1e-5
    assert abs(placement.period - 1.01) < 1e-5
    assert abs(placement.sync - 0.236768) < 1e-6
    assert placement.at == created + placement.shift
    assert placement.at >= time.time() + 0.2
    phases = placement.tick_phases()
    assert phases["relists"][0] == {
        "at": round(starts[0] + placement.shift, 4),
        "syncAt": round(synced[0] + placement.shift, 4),
    }
    assert (phases["relistPeriod"], phases["syncLoop"]) == (1.01, 0.237)


def test_no_placement_without_the_pods_relist(tmp_path: Path) -> None:
    log = tmp_path / "kubelet.log"
    log.write_text(HOUSEKEEPING + "\n")
    reader = KubeletLog(log)
    created = time.time() - 2  # its window is over
    assert reader.place(POD, created=created, seconds=0, timeout=0.05, lead=0.3) is None


def test_the_relist_period_is_the_median_gap_between_relists(tmp_path: Path) -> None:
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
    first = start.timestamp()
    assert abs(reader.relist_period(first, first + 11) - 1.013) < 1e-6  # upper median of six
    assert reader.relist_period(first, first + 4) == 1.0  # too few gaps: a second


def test_an_exit_is_judged_by_the_first_relist_after_it() -> None:
    relists = [10.0, 11.0, 12.0, 13.0]
    exits = {"a": 10.97, "b": 10.93, "c": 11.5, "gone": 11.2}
    died = {"a": 12.004, "b": 11.004, "c": 12.01}  # "gone" never reported
    found = [(round(v.before, 3), v.seen) for v in verdicts(exits, died, relists)]
    assert found == [(0.03, False), (0.07, True), (0.5, True)]
