"""The generic runner: one scenario, both sides, the same wall clock.

Each scenario gets a namespace of its own holding a ``Pod`` (pinned to the real node by
``nodeName``, so no scheduler is involved) and a ``SimPod`` of the same name (pinned to a
SimNode on the process runtime). The SimPod is created a whole number of seconds after the
Pod, on a SimNode of its own pinned to the real node's tick phases as the Pod met them
(:mod:`tests.conformance.ticks`). A watch on each records its distinct states with
the time each was first seen (relative to that object's create call), and a watch on the
namespace's Events records each occurrence (a count increment is one more occurrence).
Watch times are receipt times: the status timestamps the kubelet writes have one-second
resolution, too coarse for a 0.5 s tolerance.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import queue
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubernetes import client, config, watch
from kubernetes.client.exceptions import ApiException

from simpod.agent.nodes import node_name
from simpod.api.group import API_VERSION, GROUP, SIMNODE, SIMPOD, VERSION
from simpod.cluster import controlplane, node
from simpod.cluster.build import NODE_TARGETS, ensure_binaries
from simpod.cluster.paths import Layout, layout
from tests.conformance.scenarios import Action, Scenario, with_volumes
from tests.conformance.ticks import BEYOND_SECONDS, KubeletLog
from tests.conformance.timeline import Comparison, Event, Timeline, Tolerance, compare

# SimNodes served: each scenario takes one for itself (its tick phases are pinned to those
# of the real node as the scenario's Pod met them); a scenario waits for a free one.
SIM_NODES = 8
# The SimPod waits for the relists the Pod met over its window to show in the kubelet's
# log (within a few milliseconds of each), then for its own moment (within a second more);
# without them in time it is created at once.
PLACEMENT_TIMEOUT = 5.0
PLACEMENT_LEAD = 0.3  # seconds between the SimPod's placement and creation, for its watch
READY_LINE = "serving SimNodes"  # what ``simpod run`` logs once its agent serves nodes
DEFAULT_HOME = Path("/tmp/simpod-conformance")
SLACK = 3.0  # seconds the Events watch outlives the objects' (late Events still count)
# Back-off scenarios: a pod in back-off is requeued for the back-off's end plus up to half
# of the time left (the pod workers' wait.Jitter(remaining, 0.5)), so two runs of the real
# kubelet restart a crash-looping container up to half a back-off apart: a third of the time
# elapsed since the first start covers that, where the 10 % cannot.
BACKOFF_FRACTION = 0.35


class Skip(Exception):
    """This machine cannot run the conformance suite; the message says why."""


@dataclass
class Environment:
    """A control plane with a real node, and an operator serving one process-runtime
    SimNode; ``close`` stops what ``prepare`` started."""

    home: Layout
    kubeconfig: Path
    api: client.ApiClient
    operator: subprocess.Popen[bytes]
    operator_log: Path
    started_cluster: bool
    keep_cluster: bool
    kubelet_log: KubeletLog
    free_nodes: queue.Queue[str]

    def close(self) -> None:
        self.operator.terminate()
        try:
            self.operator.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.operator.kill()
            self.operator.wait()
        self.api.close()
        if self.started_cluster and not self.keep_cluster:
            controlplane.down(self.home, purge=True)


def prepare(home_dir: Path, *, keep_cluster: bool) -> Environment:
    """Bring up (or reuse) the control plane and real node under ``home_dir``, which shares
    the built binaries of the default ``$SIMPOD_HOME`` but nothing else: the shared cluster
    is never touched. Raises :class:`Skip` where a real node cannot run here."""
    home = Layout(home_dir)
    try:
        node.preflight(home)
    except node.NodeUnsupported as exc:
        raise Skip(str(exc)) from exc
    shared = layout()
    home_dir.mkdir(parents=True, exist_ok=True)
    if not (home_dir / "bin").exists():
        (home_dir / "bin").symlink_to(shared.bin_dir.parent)
    ensure_binaries(home)
    ensure_binaries(home, targets=NODE_TARGETS)
    result = controlplane.up(home, unsafe_no_fsync=True, with_node=True)
    api = config.new_client_from_config(config_file=str(result.kubeconfig))
    _wait_for_simpod_storage(api)
    log = home_dir / "conformance-operator.log"
    env = dict(os.environ, KUBECONFIG=str(result.kubeconfig), SIMPOD_HOME=str(home_dir))
    command = [
        sys.executable,
        "-m",
        "simpod",
        "run",
        f"--nodes={SIM_NODES}",
        "--enable-process-runtime",
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    environment = Environment(
        home,
        result.kubeconfig,
        api,
        proc,
        log,
        not result.already_running,
        keep_cluster,
        KubeletLog(home.log_file("kubelet")),
        queue.Queue(),
    )
    for name in _sim_nodes():
        environment.free_nodes.put(name)
    deadline = time.monotonic() + 60
    while READY_LINE not in log.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            environment.close()
            raise RuntimeError(f"the operator did not start; its log:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)
    return environment


def _wait_for_simpod_storage(api: client.ApiClient, timeout: float = 60) -> None:
    """On a control plane just started, SimPod requests get 429 "storage is (re)initializing"
    for a while after the CRD is established, and an agent starting then gives up."""
    custom = client.CustomObjectsApi(api)
    deadline = time.monotonic() + timeout
    while True:
        try:
            custom.list_cluster_custom_object(GROUP, VERSION, SIMPOD.plural, limit=1)
            return
        except ApiException as exc:
            if exc.status != 429 or time.monotonic() > deadline:
                raise
        time.sleep(0.5)


@dataclass
class Side:
    """One of the two objects of a scenario: how to create, watch, delete and patch it."""

    label: str  # "Pod" or "SimPod", also the Events' involvedObject.kind
    timeline: Timeline
    node: str
    create: Callable[[str], None]  # on the node given
    list_fn: Callable[..., Any]
    list_args: tuple[Any, ...]
    delete: Callable[[], None]
    patch_status: Callable[[list[dict[str, Any]]], None]
    kubectl_kind: str
    t0: float = 0.0
    until: float = 0.0
    gone: bool = False
    placement: str = ""
    since: str = ""  # the resourceVersion its watch starts from, if not its start
    anchors: dict[str, float] = field(default_factory=dict)
    actions: list[dict[str, Any]] = field(default_factory=list)

    def now(self) -> float:
        return time.monotonic() - self.t0


@dataclass
class Case:
    """One scenario's outcome. The real kubelet is not deterministic even at the same tick
    phases (its status manager writes asynchronously, so two updates are written apart or
    together; its pod workers jitter their back-off requeues at random; its first sync
    takes longer under load), so the Pod side runs ``len(pods)`` times, all meeting the
    node's ticks at the same points as the SimPod: the SimPod matches when it matches one
    of them (``pod`` and ``comparison`` are that run, else the first), and ``oracle`` says
    whether the first two real runs matched each other."""

    scenario: Scenario
    pods: list[Timeline]
    sim: Timeline
    comparisons: list[Comparison]  # each real run against the SimPod
    oracle: Comparison | None  # the first real run against the second
    actions: dict[str, list[dict[str, Any]]]
    placement: str  # how the SimPod was matched to the first real run's ticks
    attempts: int = 1  # the run reported is the scenario's n-th (see __main__'s --attempts)
    first_diff: tuple[str, ...] = ()  # the first attempt's differences, when run again

    @property
    def chosen(self) -> int:
        return next((i for i, c in enumerate(self.comparisons) if c.matching), 0)

    @property
    def pod(self) -> Timeline:
        return self.pods[self.chosen]

    @property
    def comparison(self) -> Comparison:
        return self.comparisons[self.chosen]


def _pod_spec(scenario: Scenario, on: str) -> dict[str, Any]:
    """The Pod side: the real node, local images only, no API token or service links (they
    add volumes and variables that a SimPod does not have)."""
    spec = with_volumes(scenario)
    for key in ("initContainers", "containers"):
        if key in spec:
            spec[key] = [{**c, "imagePullPolicy": "Never"} for c in spec[key]]
    return {
        **spec,
        "nodeName": on,
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
    }


def _sim_spec(scenario: Scenario, on: str) -> dict[str, Any]:
    return {**with_volumes(scenario), "nodeName": on, "runtimeClassName": "process"}


def _sim_nodes() -> list[str]:
    return [node_name(i) for i in range(1, SIM_NODES + 1)]


def _sides(env: Environment, namespace: str, scenario: Scenario) -> tuple[Side, Side]:
    core = client.CoreV1Api(env.api)
    custom = client.CustomObjectsApi(env.api)
    name = scenario.name
    meta = {"name": name, "namespace": namespace}
    json_patch = "application/json-patch+json"

    def create_pod(on: str) -> None:
        body = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": meta,
            "spec": _pod_spec(scenario, on),
        }
        core.create_namespaced_pod(namespace, body)

    def create_sim(on: str) -> None:
        body = {
            "apiVersion": API_VERSION,
            "kind": SIMPOD.kind,
            "metadata": meta,
            "spec": _sim_spec(scenario, on),
        }
        custom.create_namespaced_custom_object(GROUP, VERSION, namespace, SIMPOD.plural, body)

    pod = Side(
        "Pod",
        Timeline("Pod"),
        node.NODE_NAME,
        create_pod,
        core.list_namespaced_pod,
        (namespace,),
        lambda: core.delete_namespaced_pod(name, namespace),
        lambda patch: core.patch_namespaced_pod_status(
            name, namespace, patch, _content_type=json_patch
        ),
        "pod",
    )
    sim = Side(
        "SimPod",
        Timeline("SimPod"),
        "",  # the node taken for the scenario
        create_sim,
        custom.list_namespaced_custom_object,
        (GROUP, VERSION, namespace, SIMPOD.plural),
        lambda: custom.delete_namespaced_custom_object(
            GROUP, VERSION, namespace, SIMPOD.plural, name
        ),
        lambda patch: custom.patch_namespaced_custom_object_status(
            GROUP, VERSION, namespace, SIMPOD.plural, name, patch, _content_type=json_patch
        ),
        "simpod",
    )
    return pod, sim


def _resource_version(list_fn: Callable[..., Any], args: tuple[Any, ...]) -> str:
    listed = list_fn(*args, _preload_content=False)
    return str(json.loads(listed.data)["metadata"]["resourceVersion"])


def _stream(
    list_fn: Callable[..., Any],
    args: tuple[Any, ...],
    until: float,
    *,
    since: str = "",
    **kwargs: Any,
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(type, raw object) of a watch from now (or from the resourceVersion ``since``) until
    ``until`` (monotonic), re-watching from the last resourceVersion whenever the server
    ends a stream early."""
    rv = since or _resource_version(list_fn, args)
    while (remaining := until - time.monotonic()) > 0:
        w = watch.Watch()
        for event in w.stream(
            list_fn,
            *args,
            resource_version=rv,
            timeout_seconds=max(1, int(remaining + 0.999)),
            _request_timeout=remaining + 10,
            **kwargs,
        ):
            raw = event["raw_object"]
            if event["type"] == "ERROR":
                raise RuntimeError(f"watch error: {raw}")
            rv = raw["metadata"]["resourceVersion"]
            yield event["type"], raw
            if time.monotonic() >= until:
                w.stop()
                return


def _anchors(obj: Mapping[str, Any], t: float, side: Side) -> None:
    status = obj.get("status") or {}
    statuses = status.get("containerStatuses") or ()
    wanted = {c["name"] for c in (obj.get("spec") or {}).get("containers") or ()}
    running = {s["name"] for s in statuses if "running" in (s.get("state") or {})}
    if wanted and wanted <= running:
        side.anchors.setdefault("running", t)
    conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or ()}
    if conditions.get("Ready") == "True":
        side.anchors.setdefault("ready", t)


def _record(side: Side, name: str, scheduled: list[Action], display: Callable[[], None]) -> None:
    """Watch the side's object until its window ends or it is gone; fire its actions when
    their anchor is reached (one timer each). Then read kubectl's columns (``display``): at
    the window's end on both sides, so that they are read at the same point of the two
    lives (a crash loop's next restart soon after would change them on one side only)."""
    pending = list(scheduled)
    try:
        for kind, obj in _stream(
            side.list_fn,
            side.list_args,
            side.until,
            since=side.since,
            field_selector=f"metadata.name={name}",
        ):
            t = side.now()
            side.timeline.observe(t, obj)
            _anchors(obj, t, side)
            for action in [a for a in pending if a.after in side.anchors]:
                pending.remove(action)
                fire_at = side.anchors[action.after] + action.delay
                timer = threading.Timer(max(0.0, fire_at - side.now()), _act, (side, action))
                timer.daemon = True
                timer.start()
            if kind == "DELETED":
                side.gone = True
                return
    except Exception as exc:
        side.timeline.errors.append(f"watch: {exc!r}")
    side.timeline.errors += [f"action {a.do} never fired: no {a.after!r} state" for a in pending]
    try:
        display()
    except (OSError, subprocess.SubprocessError) as exc:
        side.timeline.errors.append(f"kubectl: {exc!r}")


def _act(side: Side, action: Action) -> None:
    side.actions.append({"do": action.do, "t": round(side.now(), 3), "arg": action.arg})
    try:
        if action.do == "delete":
            side.delete()
        else:
            cond = {"type": action.arg, "status": "True"}
            side.patch_status([{"op": "add", "path": "/status/conditions/-", "value": cond}])
    except ApiException as exc:
        side.timeline.errors.append(f"action {action.do}: {exc.status} {exc.reason}")


def _record_events(env: Environment, namespace: str, sides: dict[str, Side], until: float) -> None:
    """Every Event of the namespace, each count increment as one occurrence, on the side of
    its involvedObject.kind, timed against that side's create call."""
    core = client.CoreV1Api(env.api)
    seen: dict[str, int] = {}
    try:
        for _, ev in _stream(core.list_namespaced_event, (namespace,), until):
            side = sides.get((ev.get("involvedObject") or {}).get("kind", ""))
            if side is None:
                continue
            count = max(ev.get("count") or 1, (ev.get("series") or {}).get("count") or 0)
            uid = ev["metadata"]["uid"]
            new = count - seen.get(uid, 0)
            seen[uid] = count
            for _ in range(max(0, new)):
                side.timeline.events.append(
                    Event(
                        side.now(),
                        (ev.get("involvedObject") or {}).get("fieldPath") or "",
                        ev.get("reason") or "",
                        ev.get("type") or "",
                        ev.get("message") or "",
                    )
                )
    except Exception as exc:
        for side in sides.values():
            side.timeline.errors.append(f"events watch: {exc!r}")


def _display(env: Environment, namespace: str, side: Side, name: str) -> None:
    """kubectl's READY, STATUS and RESTARTS (the count only; "(5s ago)" varies)."""
    if side.gone:
        return
    done = subprocess.run(
        [
            str(env.home.binary("kubectl")),
            f"--kubeconfig={env.kubeconfig}",
            "-n",
            namespace,
            "get",
            side.kubectl_kind,
            name,
            "--no-headers",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    columns = done.stdout.split()
    if len(columns) >= 4:
        side.timeline.display = (columns[1], columns[2], columns[3])


def _namespace(env: Environment, scenario: Scenario) -> str:
    return create_namespace(env, f"conf-{scenario.name}-{uuid.uuid4().hex[:5]}")


def create_namespace(env: Environment, name: str) -> str:
    """A namespace for Pods: created, and its default service account there."""
    core = client.CoreV1Api(env.api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    deadline = time.monotonic() + 30
    while not core.list_namespaced_service_account(name).items:  # Pod admission needs it
        if time.monotonic() > deadline:
            raise RuntimeError(f"no default service account in {name} after 30s")
        time.sleep(0.1)
    return name


def run(env: Environment, scenario: Scenario, *, real_runs: int = 2) -> Case:
    """Both sides of one scenario, at the same time: the Pod and the SimPod in one
    namespace, each further run of the Pod in a namespace of its own (same names, so the
    same Event messages); the namespaces are deleted afterwards."""
    namespaces = [_namespace(env, scenario) for _ in range(real_runs)]
    pod, sim = _sides(env, namespaces[0], scenario)
    sim.node = env.free_nodes.get()
    try:
        return _run(env, scenario, namespaces=namespaces, pod=pod, sim=sim)
    finally:
        env.free_nodes.put(sim.node)


def _run(
    env: Environment,
    scenario: Scenario,
    *,
    namespaces: list[str],
    pod: Side,
    sim: Side,
) -> Case:
    others = []
    for n, namespace in enumerate(namespaces[1:], start=2):
        other = _sides(env, namespace, scenario)[0]
        other.timeline.side = f"Pod {n}"
        others.append(other)
    pods = [pod, *others]
    start = time.monotonic()
    # The watches start now, the objects from half a second later, a second apart: the
    # real runs meet the node's ticks at the same points of their lives (the relist drifts
    # by about ten milliseconds a second), so that they differ only where the kubelet itself
    # is not deterministic. Each is watched as long from its creation.
    for n, side in enumerate(pods):
        side.until = start + 0.5 + n + scenario.seconds
    # The SimPod is created a whole number of seconds after the first Pod's window, once
    # the relists the Pod met are all in the kubelet's log.
    latest = pod.until + scenario.seconds + BEYOND_SECONDS + PLACEMENT_TIMEOUT + PLACEMENT_LEAD + 1
    watchers = [(namespaces[0], {"Pod": pod, "SimPod": sim}, latest)]
    watchers += [(ns, {"Pod": o}, o.until) for ns, o in zip(namespaces[1:], others, strict=True)]
    events = [
        threading.Thread(target=_record_events, args=(env, ns, by_kind, end + SLACK))
        for ns, by_kind, end in watchers
    ]

    def recorder(side: Side, namespace: str) -> threading.Thread:
        display = functools.partial(_display, env, namespace, side, scenario.name)
        actions = list(scenario.actions)
        return threading.Thread(target=_record, args=(side, scenario.name, actions, display))

    recorders = [recorder(s, ns) for s, ns in zip(pods, namespaces, strict=True)]
    for thread in (*events, *recorders):
        thread.start()
    # The SimPod's watch starts once its window is known, from now: it misses nothing.
    sim.since = _resource_version(sim.list_fn, sim.list_args)
    time.sleep(max(0.0, start + 0.5 - time.monotonic()))
    created = time.time()
    _create(pod)
    placing = threading.Thread(
        target=_place,
        args=(env, sim, f"{namespaces[0]}/{scenario.name}", created, scenario.seconds),
    )
    placing.start()
    for n, other in enumerate(others, start=1):
        time.sleep(max(0.0, start + 0.5 + n - time.monotonic()))
        _create(other)
    placing.join()
    recorders.append(recorder(sim, namespaces[0]))
    recorders[-1].start()
    time.sleep(max(0.0, sim.t0 - time.monotonic()))
    _create(sim)
    for thread in recorders:
        thread.join()
    for side in (*pods, sim):
        side.timeline.window = side.until - side.t0
    for thread in events:
        thread.join()
    for namespace in namespaces:
        cleanup(env, namespace, scenario.name)
    tolerance = Tolerance(0.5, BACKOFF_FRACTION if scenario.backoff else 0.0)
    anchor = scenario.from_creation
    timelines = [p.timeline for p in pods]
    return Case(
        scenario,
        timelines,
        sim.timeline,
        [compare(t, sim.timeline, tolerance, from_creation=anchor) for t in timelines],
        compare(timelines[0], timelines[1], tolerance, from_creation=anchor)
        if len(timelines) > 1
        else None,
        {"Pod": pod.actions, "SimPod": sim.actions},
        sim.placement,
    )


def _create(side: Side) -> None:
    """Create the side's object now (``t0``: the create call), or record why not."""
    side.t0 = time.monotonic()
    try:
        side.create(side.node)
    except ApiException as exc:
        side.timeline.errors.append(f"create: {exc.status} {exc.body}")


def _place(env: Environment, sim: Side, pod: str, created: float, seconds: float) -> None:
    """Pin the SimPod's node to the real node's ticks as the Pod ``pod`` (created at the
    wall-clock ``created``) met them, and plan the SimPod's creation (``t0``, with its
    window ``until``, ``seconds`` later)."""
    placement = env.kubelet_log.place(
        pod, created=created, seconds=seconds, timeout=PLACEMENT_TIMEOUT, lead=PLACEMENT_LEAD
    )
    phases = None if placement is None else placement.tick_phases()
    client.CustomObjectsApi(env.api).patch_cluster_custom_object(
        GROUP,
        VERSION,
        SIMNODE.plural,
        sim.node,
        {"spec": {"tickPhases": phases}},
        _content_type="application/merge-patch+json",
    )
    if placement is None:
        sim.placement = "not matched: the kubelet's log showed no relist for the Pod in time"
        sim.t0 = time.monotonic() + PLACEMENT_LEAD
    else:
        sim.placement = placement.describe()
        sim.t0 = time.monotonic() + (placement.at - time.time())
    sim.until = sim.t0 + seconds


def cleanup(env: Environment, namespace: str, name: str) -> None:
    """Delete the Pod at once (grace 0) and the namespace; the operator removes the SimPod
    (and its processes) as the namespace goes."""
    core = client.CoreV1Api(env.api)
    with contextlib.suppress(ApiException):
        core.delete_namespaced_pod(name, namespace, grace_period_seconds=0)
    with contextlib.suppress(ApiException):
        core.delete_namespace(namespace, propagation_policy="Background")


def wait_namespaces_gone(env: Environment, timeout: float = 90) -> list[str]:
    """Namespaces of this suite still there after ``timeout`` (their SimPods' finalizers
    need the operator, which must not be stopped before)."""
    core = client.CoreV1Api(env.api)
    deadline = time.monotonic() + timeout
    while True:
        left = [
            n.metadata.name
            for n in core.list_namespace().items
            if n.metadata.name.startswith("conf-")
        ]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.5)
