"""The scenarios: one pod spec each, written once and run on both sides.

Every container is busybox running a shell script (``sh -c``): the same command line on the
real node (busybox's ash in the ``busybox`` image) and on the process runtime (the host's
``sh``), so only portable shell is used. Scripts that must outlive a TERM handle it
(``trap``) unless TERM's handling is what the scenario is about, because a container's main
process is PID 1 on a real node, which the kernel does not kill on an unhandled TERM.

State that must survive a container restart (run once, then behave differently) lives in
an ``emptyDir`` mounted at ``/state``: it is the pod's, while a container's own files are
not kept across restarts. Probe servers use ``busybox httpd`` on port 8080. ``$`` is
written once: both sides expand ``$(VAR)`` in commands, and ``$$`` is that syntax's escape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

# Keeps a container running until TERM, which it answers at once with exit 0.
SERVE = "trap 'exit 0' TERM; while true; do sleep 0.1; done"
# The same, but TERM is ignored: only KILL ends it.
STUBBORN = "trap '' TERM; while true; do sleep 0.1; done"
# An HTTP server (and TCP listener) on 8080, in the background, serving /tmp/www.
HTTPD = "mkdir -p /tmp/www && echo ok > /tmp/www/index.html && busybox httpd -p 8080 -h /tmp/www"
# Runs its script once per pod: later runs (restarts) exit 0 at once.
ONCE = "if [ -f /state/{tag} ]; then exit 0; fi; touch /state/{tag}; "

Anchor = Literal["created", "running", "ready"]


@dataclass(frozen=True)
class Action:
    """Something done to the pod from outside, ``delay`` seconds after ``after`` was first
    seen on that side: its create call, all containers running, or the Ready condition."""

    do: Literal["delete", "gate"]
    delay: float = 0.0
    after: Anchor = "running"
    arg: str = ""  # gate: the readiness gate's condition type, set to True


@dataclass(frozen=True)
class Scenario:
    name: str
    why: str  # what it checks, one line, shown in the report
    spec: dict[str, Any]
    seconds: float  # observed for this long (or until the object is gone)
    actions: tuple[Action, ...] = ()
    backoff: bool = False  # times compared within 35 % (jittered back-off waits)
    volumes: tuple[str, ...] = ()  # emptyDir volumes, each mounted at /<name>
    # Times counted from the create call, not the first container's start: the timing under
    # test counts from the pod's startTime (activeDeadlineSeconds), before the sandbox.
    from_creation: bool = False


def ctr(name: str, script: str, **fields: Any) -> dict[str, Any]:
    """A busybox container running ``script``; ``/state`` is mounted when the pod has it."""
    return {"name": name, "image": "busybox", "command": ["sh", "-c", script], **fields}


def exec_probe(command: str, period: int = 1, **fields: Any) -> dict[str, Any]:
    return {"exec": {"command": ["sh", "-c", command]}, "periodSeconds": period, **fields}


def http_probe(path: str, period: int = 1, **fields: Any) -> dict[str, Any]:
    return {"httpGet": {"path": path, "port": 8080}, "periodSeconds": period, **fields}


def tcp_probe(period: int = 1, port: int = 8080, **fields: Any) -> dict[str, Any]:
    return {"tcpSocket": {"port": port}, "periodSeconds": period, **fields}


def pod(
    *containers: dict[str, Any],
    init: tuple[dict[str, Any], ...] = (),
    restart: str = "Never",
    grace: int = 2,
    **spec: Any,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "restartPolicy": restart,
        "terminationGracePeriodSeconds": grace,
        "containers": list(containers),
        **spec,
    }
    if init:
        out["initContainers"] = list(init)
    return out


def sidecar(name: str, script: str, **fields: Any) -> dict[str, Any]:
    """A native sidecar: an init container with ``restartPolicy: Always``."""
    return ctr(name, script, restartPolicy="Always", **fields)


def _s(
    name: str,
    why: str,
    spec: dict[str, Any],
    seconds: float,
    *actions: Action,
    backoff: bool = False,
    state: bool = False,
    from_creation: bool = False,
) -> Scenario:
    volumes = ("state",) if state else ()
    return Scenario(name, why, spec, seconds, actions, backoff, volumes, from_creation)


DELETE = Action("delete", 1.0)

SCENARIOS: tuple[Scenario, ...] = (
    # --- restart policies x exit codes
    _s("never-exit0", "Never + exit 0: Succeeded", pod(ctr("c", "sleep 1; exit 0")), 4),
    _s("never-exit3", "Never + exit 3: Failed, reason Error", pod(ctr("c", "sleep 1; exit 3")), 4),
    _s(
        "never-exit137",
        "exit 137, what a KILLed process reports: reason Error, not OOMKilled",
        pod(ctr("c", "sleep 1; exit 137")),
        4,
    ),
    _s(
        "onfailure-exit0",
        "OnFailure + exit 0: Succeeded, no restart",
        pod(ctr("c", "sleep 1; exit 0"), restart="OnFailure"),
        4,
    ),
    _s(
        "onfailure-retry",
        "OnFailure: exit 1 once, restarted at once, then exit 0: Succeeded",
        pod(ctr("c", ONCE.format(tag="c") + "sleep 1; exit 1"), restart="OnFailure"),
        5,
        state=True,
    ),
    _s(
        "always-exit0",
        "Always + exit 0: restarted anyway, back-off 10 s from the second exit",
        pod(ctr("c", "sleep 1; exit 0"), restart="Always"),
        16,
        backoff=True,
    ),
    _s(
        "mixed-exit-never",
        "Never, two containers exiting 0 and 2: Failed",
        pod(ctr("ok", "sleep 1; exit 0"), ctr("bad", "sleep 2; exit 2")),
        5,
    ),
    _s(
        "mixed-exit-onfailure",
        "OnFailure: only the failed container restarts",
        pod(
            ctr("ok", "sleep 1; exit 0"),
            ctr("bad", ONCE.format(tag="bad") + "sleep 2; exit 2"),
            restart="OnFailure",
        ),
        6,
        state=True,
    ),
    # --- crash-loop back-off
    _s(
        "crashloop",
        "Always + exit 1 every 0.5 s: restarts at once, then after 10 s and 20 s",
        pod(ctr("c", "sleep 0.5; exit 1"), restart="Always"),
        36,
        backoff=True,
    ),
    # --- init containers
    _s(
        "init-in-order",
        "two init containers one after the other, then the app",
        pod(
            ctr("app", "sleep 1"),
            init=(ctr("first", "sleep 1"), ctr("second", "sleep 1")),
        ),
        6,
    ),
    _s(
        "init-fails-never",
        "Never + a failing init container: Failed, the app never starts",
        pod(ctr("app", "sleep 1"), init=(ctr("init", "sleep 1; exit 2"),)),
        4,
    ),
    _s(
        "init-retry-onfailure",
        "OnFailure: a failing init container is retried, then the app runs",
        pod(
            ctr("app", "sleep 1"),
            init=(ctr("init", ONCE.format(tag="init") + "sleep 1; exit 1"),),
            restart="OnFailure",
        ),
        6,
        state=True,
    ),
    _s(
        "init-crashloop",
        "Always + an init container that always fails: Init:CrashLoopBackOff",
        pod(ctr("app", SERVE), init=(ctr("init", "sleep 0.5; exit 1"),), restart="Always"),
        16,
        backoff=True,
    ),
    # --- probes: readiness, every kind, passing, failing, delayed
    _s(
        "readiness-exec-pass",
        "exec readiness passes: Ready after the first probe",
        pod(ctr("c", SERVE, readinessProbe=exec_probe("true"))),
        4,
    ),
    _s(
        "readiness-exec-fail",
        "exec readiness fails: Running, never Ready, Unhealthy events",
        pod(ctr("c", SERVE, readinessProbe=exec_probe("exit 1"))),
        5,
    ),
    _s(
        "readiness-exec-delayed",
        "exec readiness with initialDelaySeconds 1, passing from 2.5 s",
        pod(
            ctr(
                "c",
                "(sleep 2.5; touch /tmp/ready) & " + SERVE,
                readinessProbe=exec_probe("cat /tmp/ready", initialDelaySeconds=1),
            )
        ),
        6,
    ),
    _s(
        "readiness-http-pass",
        "httpGet readiness against busybox httpd",
        pod(ctr("c", HTTPD + "; " + SERVE, readinessProbe=http_probe("/index.html"))),
        4,
    ),
    _s(
        "readiness-http-fail",
        "httpGet readiness on a missing path (404)",
        pod(ctr("c", HTTPD + "; " + SERVE, readinessProbe=http_probe("/missing"))),
        5,
    ),
    _s(
        "readiness-tcp-pass",
        "tcpSocket readiness on a listening port",
        pod(ctr("c", HTTPD + "; " + SERVE, readinessProbe=tcp_probe())),
        4,
    ),
    _s(
        "readiness-tcp-delayed",
        "tcpSocket readiness, the listener comes up after 2 s",
        pod(ctr("c", "sleep 2; " + HTTPD + "; " + SERVE, readinessProbe=tcp_probe())),
        5,
    ),
    _s(
        "readiness-tcp-fail",
        "tcpSocket readiness, nothing listens",
        pod(ctr("c", SERVE, readinessProbe=tcp_probe())),
        5,
    ),
    _s(
        "readiness-grpc-fail",
        "grpc readiness, nothing listens",
        pod(ctr("c", SERVE, readinessProbe={"grpc": {"port": 8080}, "periodSeconds": 1})),
        5,
    ),
    # --- liveness and startup
    _s(
        "liveness-exec-restart",
        "exec liveness fails after 2 s: killed (TERM) and restarted at once",
        pod(
            ctr(
                "c",
                "touch /tmp/alive; (sleep 2; rm /tmp/alive) & " + SERVE,
                livenessProbe=exec_probe("cat /tmp/alive", failureThreshold=2),
            ),
            restart="Always",
        ),
        8,
    ),
    _s(
        "liveness-http-restart",
        "httpGet liveness turns 404 after 2 s: restarted",
        pod(
            ctr(
                "c",
                HTTPD + "; (sleep 2; rm /tmp/www/index.html) & " + SERVE,
                livenessProbe=http_probe("/index.html", failureThreshold=2),
            ),
            restart="Always",
        ),
        8,
    ),
    _s(
        "liveness-tcp-crashloop",
        "tcpSocket liveness never passes: restarted, then backed off",
        pod(ctr("c", SERVE, livenessProbe=tcp_probe(failureThreshold=1)), restart="Always"),
        18,
        backoff=True,
    ),
    _s(
        "startup-delayed",
        "startup probe passes at 2 s: started false until then, readiness held back",
        pod(
            ctr(
                "c",
                "(sleep 2; touch /tmp/started) & " + SERVE,
                startupProbe=exec_probe("cat /tmp/started", failureThreshold=10),
                readinessProbe=exec_probe("true"),
            )
        ),
        5,
    ),
    _s(
        "startup-fail",
        "startup probe never passes (2 x 1 s): killed and restarted",
        pod(
            ctr("c", SERVE, startupProbe=exec_probe("exit 1", failureThreshold=2)),
            restart="Always",
        ),
        7,
    ),
    # --- hooks
    _s(
        "poststart",
        "postStart takes 1 s: the container is not started until it is done",
        pod(
            ctr(
                "c",
                SERVE,
                lifecycle={"postStart": {"exec": {"command": ["sh", "-c", "sleep 1"]}}},
                readinessProbe=exec_probe("true"),
            )
        ),
        4,
    ),
    _s(
        "poststart-fails",
        "postStart exits 1: FailedPostStartHook, the container is killed",
        pod(
            ctr(
                "c",
                SERVE,
                lifecycle={"postStart": {"exec": {"command": ["sh", "-c", "exit 1"]}}},
            )
        ),
        5,
    ),
    # --- graceful deletion
    _s(
        "delete-term-handled",
        "deletion: TERM handled, exits 0 at once",
        pod(ctr("c", SERVE), grace=5),
        5,
        DELETE,
    ),
    _s(
        "delete-term-ignored",
        "deletion: TERM ignored, KILL at the end of the 2 s grace (137)",
        pod(ctr("c", STUBBORN)),
        6,
        DELETE,
    ),
    _s(
        "delete-term-default",
        "deletion: no TERM handler (sleep as PID 1 on a real node)",
        pod(ctr("c", "sleep 600")),
        6,
        DELETE,
    ),
    _s(
        "delete-prestop",
        "deletion: a 1 s preStop hook, then TERM",
        pod(
            ctr("c", SERVE, lifecycle={"preStop": {"exec": {"command": ["sh", "-c", "sleep 1"]}}}),
            grace=5,
        ),
        6,
        DELETE,
    ),
    _s(
        "delete-prestop-over-grace",
        "deletion: preStop longer than the 2 s grace; TERM ignored",
        pod(
            ctr(
                "c",
                STUBBORN,
                lifecycle={"preStop": {"exec": {"command": ["sh", "-c", "sleep 10"]}}},
            )
        ),
        8,
        DELETE,
    ),
    _s(
        "delete-two-containers",
        "deletion of two containers, one quick and one stubborn",
        pod(ctr("quick", SERVE), ctr("slow", STUBBORN)),
        6,
        DELETE,
    ),
    # --- activeDeadlineSeconds
    _s(
        "deadline",
        "activeDeadlineSeconds 3: DeadlineExceeded, containers stopped",
        pod(ctr("c", SERVE), activeDeadlineSeconds=3, restart="OnFailure"),
        6,
        from_creation=True,
    ),
    _s(
        "deadline-during-init",
        "activeDeadlineSeconds 2 while an init container still runs",
        pod(ctr("app", SERVE), init=(ctr("init", SERVE),), activeDeadlineSeconds=2),
        5,
        from_creation=True,
    ),
    # --- native sidecars
    _s(
        "sidecar-job",
        "a native sidecar next to an app that exits 0: sidecar stopped, Succeeded",
        pod(ctr("app", "sleep 2; exit 0"), init=(sidecar("side", SERVE),)),
        6,
    ),
    _s(
        "sidecar-startup",
        "a sidecar's startup probe (2 s) gates the app's start",
        pod(
            ctr("app", "sleep 1; exit 0"),
            init=(
                sidecar(
                    "side",
                    "(sleep 2; touch /tmp/up) & " + SERVE,
                    startupProbe=exec_probe("cat /tmp/up", failureThreshold=10),
                ),
            ),
        ),
        7,
    ),
    _s(
        "sidecar-restarts",
        "a sidecar that exits 1 after 1 s is restarted while the app runs",
        pod(
            ctr("app", "sleep 4; exit 0"),
            init=(sidecar("side", ONCE.format(tag="side") + "sleep 1; exit 1"),),
        ),
        7,
        state=True,
    ),
    _s(
        "sidecar-delete",
        "deletion: app stops first, then the sidecar",
        pod(ctr("app", SERVE), init=(sidecar("side", SERVE),)),
        5,
        DELETE,
    ),
    # --- readiness gates
    _s(
        "readiness-gate",
        "a readiness gate set True 1 s after Running: Ready follows",
        pod(ctr("c", SERVE), readinessGates=[{"conditionType": "example.com/lb"}]),
        4,
        Action("gate", 1.0, arg="example.com/lb"),
    ),
    _s(
        "readiness-gate-missing",
        "a readiness gate nobody sets: ContainersReady but not Ready",
        pod(ctr("c", SERVE), readinessGates=[{"conditionType": "example.com/lb"}]),
        3,
    ),
)


def with_volumes(scenario: Scenario) -> dict[str, Any]:
    """The scenario's spec with its emptyDir volumes declared and mounted everywhere."""
    spec = dict(scenario.spec)
    if not scenario.volumes:
        return spec
    mounts = [{"name": v, "mountPath": f"/{v}"} for v in scenario.volumes]
    spec["volumes"] = [{"name": v, "emptyDir": {}} for v in scenario.volumes]
    for key in ("initContainers", "containers"):
        if key in spec:
            spec[key] = [{**c, "volumeMounts": mounts} for c in spec[key]]
    return spec
