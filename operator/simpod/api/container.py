"""A SimPod container (core/v1 Container subset): image, command, env, probes, hooks..."""

from __future__ import annotations

from simpod.api.meta import DNS_LABEL_PATTERN, DNS_SUBDOMAIN_LENGTH, dns_label, object_name
from simpod.api.schema import (
    Reason,
    Rule,
    Schema,
    array,
    boolean,
    exactly_one,
    int_or_string,
    integer,
    map_of,
    obj,
    one_of,
    quantity,
    string,
)
from simpod.api.sim_block import CONTAINER_SIM

MAX_ARGS = 256
ARG_LENGTH = 65536
PATH_LENGTH = 4096
IMAGE_LENGTH = 1024
MAX_ENV = 256
MAX_ENV_FROM = 32
MAX_PORTS = 64
MAX_MOUNTS = 64
MAX_HEADERS = 32
MAX_RESOURCES = 16
# An IANA service name: what a port may be called and referred to by.
PORT_NAME_LENGTH = 15

_PROBE_HANDLERS = ("exec", "httpGet", "tcpSocket", "grpc")
_HOOK_HANDLERS = ("exec", "httpGet", "sleep")


def _port(description: str) -> Schema:
    return int_or_string(
        description + " A number (1-65535) or the name of one of the container's ports.",
        max_length=PORT_NAME_LENGTH,
        pattern=DNS_LABEL_PATTERN,
        rules=(
            Rule(
                "type(self) != int || (self >= 1 && self <= 65535)",
                "a port number must be between 1 and 65535",
            ),
        ),
    )


def _port_number(description: str) -> Schema:
    return integer(description, minimum=1, maximum=65535)


def _host(description: str) -> Schema:
    return string(description, max_length=DNS_SUBDOMAIN_LENGTH)


def _strings(description: str) -> Schema:
    return array(description, string("One item.", max_length=ARG_LENGTH), max_items=MAX_ARGS)


_EXEC = obj(
    "Run a command inside the container; exit code 0 is success.",
    {
        "command": _strings(
            "The command and its arguments, run directly (not in a shell) in the container's "
            "working directory."
        )
    },
    required=("command",),
)

_HTTP_GET = obj(
    "Send an HTTP GET; a status code from 200 to 399 is success.",
    {
        "path": string("The path to request.", max_length=PATH_LENGTH),
        "port": _port("The port to connect to."),
        "host": _host("The host to connect to; defaults to the pod IP."),
        "scheme": one_of(
            "HTTP or HTTPS (certificates are not verified).", ("HTTP", "HTTPS"), default="HTTP"
        ),
        "httpHeaders": array(
            "Extra request headers; repeated names are all sent.",
            obj(
                "One HTTP header.",
                {
                    "name": string("The header name.", max_length=256),
                    "value": string("The header value.", max_length=PATH_LENGTH),
                },
                required=("name", "value"),
            ),
            max_items=MAX_HEADERS,
        ),
    },
    required=("port",),
)

_TCP_SOCKET = obj(
    "Open a TCP connection; success if it opens.",
    {
        "port": _port("The port to connect to."),
        "host": _host("The host to connect to; defaults to the pod IP."),
    },
    required=("port",),
)

_GRPC = obj(
    "Call the gRPC health checking protocol; SERVING is success.",
    {
        "port": _port_number("The port of the gRPC service."),
        "service": string(
            "The service name sent in the HealthCheckRequest; empty checks the server as a whole.",
            max_length=PATH_LENGTH,
        ),
    },
    required=("port",),
)

_SLEEP = obj(
    "Wait for a number of seconds.",
    {"seconds": integer("How many seconds to sleep.", minimum=0, int64=True)},
    required=("seconds",),
)


def _probe(description: str, *, restarts: bool) -> Schema:
    """A probe; `restarts` marks liveness and startup probes, whose failure kills the
    container and which therefore must succeed once to count as passing."""
    rules = [
        Rule(
            exactly_one(_PROBE_HANDLERS),
            "a probe needs exactly one handler: exec, httpGet, tcpSocket or grpc",
        )
    ]
    if restarts:
        rules.append(
            Rule(
                "!has(self.successThreshold) || self.successThreshold == 1",
                "successThreshold must be 1 for liveness and startup probes",
                field_path=".successThreshold",
            )
        )
    return obj(
        description,
        {
            "exec": _EXEC,
            "httpGet": _HTTP_GET,
            "tcpSocket": _TCP_SOCKET,
            "grpc": _GRPC,
            "initialDelaySeconds": integer(
                "Seconds after the container started before the first check.",
                minimum=0,
                default=0,
            ),
            "periodSeconds": integer("Seconds between checks.", minimum=1, default=10),
            "timeoutSeconds": integer(
                "Seconds after which a check that has not answered counts as failed.",
                minimum=1,
                default=1,
            ),
            "successThreshold": integer(
                "Consecutive successes after a failure before the probe counts as passing.",
                minimum=1,
                default=1,
            ),
            "failureThreshold": integer(
                "Consecutive failures before the probe counts as failed.", minimum=1, default=3
            ),
            "terminationGracePeriodSeconds": integer(
                "Grace period for the kill that follows this probe's failure, instead of the "
                "pod's terminationGracePeriodSeconds (liveness and startup probes).",
                minimum=1,
                int64=True,
            ),
        },
        rules=rules,
    )


def _hook(description: str) -> Schema:
    return obj(
        description,
        {"exec": _EXEC, "httpGet": _HTTP_GET, "sleep": _SLEEP},
        rules=(
            Rule(
                exactly_one(_HOOK_HANDLERS),
                "a lifecycle hook needs exactly one handler: exec, httpGet or sleep",
            ),
        ),
    )


def _key_ref(what: str) -> Schema:
    return obj(
        f"A key of a {what} in the pod's namespace.",
        {
            "name": object_name(f"The {what}'s name."),
            "key": string("The key.", max_length=DNS_SUBDOMAIN_LENGTH),
            "optional": boolean(
                f"Start the container even if the {what} or key is missing "
                "(otherwise it waits with CreateContainerConfigError)."
            ),
        },
        required=("key",),
    )


def _source_ref(what: str) -> Schema:
    return obj(
        f"A {what} in the pod's namespace whose keys all become variables.",
        {
            "name": object_name(f"The {what}'s name."),
            "optional": boolean(f"Start the container even if the {what} is missing."),
        },
    )


_ENV_VAR = obj(
    "One environment variable: a literal value or a value taken from elsewhere.",
    {
        "name": string(
            "The variable's name (printable ASCII, no '=').",
            max_length=PATH_LENGTH,
            pattern="^[ -<>-~]+$",
        ),
        "value": string(
            "The literal value; $(VAR) refers to variables defined earlier.",
            max_length=ARG_LENGTH,
        ),
        "valueFrom": obj(
            "Where the value comes from instead of `value`.",
            {
                "fieldRef": obj(
                    "A field of the pod: metadata.name, metadata.namespace, metadata.uid, "
                    "metadata.labels['key'], metadata.annotations['key'], spec.nodeName, "
                    "status.hostIP or status.podIP.",
                    {
                        "fieldPath": string("The field's path.", max_length=PATH_LENGTH),
                        "apiVersion": string(
                            "The API version the path is written for; default v1.",
                            max_length=64,
                        ),
                    },
                    required=("fieldPath",),
                ),
                "configMapKeyRef": _key_ref("ConfigMap"),
                "secretKeyRef": _key_ref("Secret"),
            },
            rules=(
                Rule(
                    exactly_one(("fieldRef", "configMapKeyRef", "secretKeyRef")),
                    "valueFrom needs exactly one of fieldRef, configMapKeyRef or secretKeyRef",
                ),
            ),
        ),
    },
    required=("name",),
    rules=(
        Rule(
            "!has(self.value) || !has(self.valueFrom)",
            "an environment variable has either value or valueFrom, not both",
        ),
    ),
)

ENV = array("Environment variables of the container, in order.", _ENV_VAR, max_items=MAX_ENV)

ENV_FROM = array(
    "ConfigMaps and Secrets whose keys all become environment variables; on a clash the later "
    "source wins, and `env` wins over all of them.",
    obj(
        "One source of environment variables.",
        {
            "prefix": string("Prepended to each key.", max_length=PATH_LENGTH),
            "configMapRef": _source_ref("ConfigMap"),
            "secretRef": _source_ref("Secret"),
        },
        rules=(
            Rule(
                exactly_one(("configMapRef", "secretRef")),
                "an envFrom item needs exactly one of configMapRef or secretRef",
            ),
        ),
    ),
    max_items=MAX_ENV_FROM,
)

VOLUME_MOUNTS = array(
    "Volumes of the pod mounted into the container's file system.",
    obj(
        "One volume mounted at one path.",
        {
            "name": dns_label("The name of a volume of the pod."),
            "mountPath": string(
                "Where the volume appears in the container; must not contain ':'.",
                max_length=PATH_LENGTH,
                pattern="^[^:]+$",
            ),
            "subPath": string(
                "A path inside the volume to mount instead of its root.", max_length=PATH_LENGTH
            ),
            "readOnly": boolean("Mount read-only. Default: false."),
        },
        required=("name", "mountPath"),
    ),
    max_items=MAX_MOUNTS,
)


def _resource_list(description: str) -> Schema:
    return map_of(
        description,
        quantity("An amount of the resource."),
        max_properties=MAX_RESOURCES,
    )


_RESOURCES = obj(
    "Compute resources the container asks for (the scheduler counts requests) and may not exceed.",
    {
        "requests": _resource_list(
            "Amounts the node must have free (cpu in cores, memory in bytes); default: the limits."
        ),
        "limits": _resource_list("Maximum amounts the container may use."),
    },
)

RUN_AS = {
    "runAsUser": integer("The user ID the processes run as.", minimum=0, int64=True),
    "runAsGroup": integer("The primary group ID of the processes.", minimum=0, int64=True),
    "runAsNonRoot": boolean("Refuse to start the container if it would run as user 0."),
}

_SECURITY_CONTEXT = obj(
    "Security settings of the container; they override the pod's securityContext.",
    {
        **RUN_AS,
        "privileged": boolean(
            "Run privileged; allowed only where the node allows privileged pods."
        ),
        "allowPrivilegeEscalation": boolean("Whether a process may gain more privileges."),
        "readOnlyRootFilesystem": boolean("Mount the root file system read-only."),
    },
)

_PORTS = array(
    "Ports the container listens on (informational, and names that probes can refer to).",
    obj(
        "One port.",
        {
            "name": string(
                "A name for the port that probes can use.",
                max_length=PORT_NAME_LENGTH,
                pattern=DNS_LABEL_PATTERN,
            ),
            "containerPort": _port_number("The port number on the pod's IP."),
            "protocol": one_of("The protocol.", ("TCP", "UDP", "SCTP"), default="TCP"),
        },
        required=("containerPort",),
    ),
    max_items=MAX_PORTS,
)

CONTAINER = obj(
    "A container of the pod.",
    {
        "name": dns_label("The container's name, unique within the pod (a DNS label)."),
        "image": string(
            "The container image; recorded, never pulled.", max_length=IMAGE_LENGTH, min_length=1
        ),
        "imagePullPolicy": one_of(
            "When the image would be pulled: Always, IfNotPresent or Never (recorded only).",
            ("Always", "IfNotPresent", "Never"),
        ),
        "command": _strings(
            "The program and its arguments, not run in a shell; required by the `process` "
            "runtime. $(VAR) expands environment variables."
        ),
        "args": _strings("Arguments appended to command; $(VAR) expands environment variables."),
        "workingDir": string("The working directory of the process.", max_length=PATH_LENGTH),
        "ports": _PORTS,
        "env": ENV,
        "envFrom": ENV_FROM,
        "resources": _RESOURCES,
        "volumeMounts": VOLUME_MOUNTS,
        "livenessProbe": _probe(
            "Checks that the container still works; after failureThreshold failures in a row "
            "it is killed and restarted per the pod's restartPolicy. Use it to recover from "
            "hangs.",
            restarts=True,
        ),
        "readinessProbe": _probe(
            "Checks that the container can serve; failures only mark it not ready (no "
            "restart). Use it to keep traffic away while it starts or is overloaded.",
            restarts=False,
        ),
        "startupProbe": _probe(
            "Checks that the container has started; until it succeeds the other probes do not "
            "run, and failureThreshold failures kill the container.",
            restarts=True,
        ),
        "lifecycle": obj(
            "Hooks run when the container starts and before it is stopped.",
            {
                "postStart": _hook(
                    "Runs right after the container starts; the container is not Running until "
                    "it returns, and its failure kills the container."
                ),
                "preStop": _hook(
                    "Runs before TERM when the container is stopped; its time counts against "
                    "the grace period."
                ),
            },
        ),
        "securityContext": _SECURITY_CONTEXT,
        "sim": CONTAINER_SIM,
    },
    required=("name", "image"),
)

INIT_CONTAINER = (
    CONTAINER.describe(
        "An init container: runs to completion before the next one starts, or, with "
        "restartPolicy Always, a sidecar that keeps running beside the app containers."
    )
    .with_properties(
        {
            "restartPolicy": one_of(
                "Always makes this init container a sidecar: started in order, restarted "
                "whenever it exits, stopped after the app containers.",
                ("Always",),
            )
        }
    )
    .with_rules(
        Rule(
            "(has(self.restartPolicy) && self.restartPolicy == 'Always') || "
            "!(has(self.livenessProbe) || has(self.readinessProbe) || "
            "has(self.startupProbe) || has(self.lifecycle))",
            "an init container may have livenessProbe, readinessProbe, startupProbe or "
            "lifecycle only if it is a sidecar (restartPolicy: Always)",
            reason=Reason.FORBIDDEN,
        )
    )
)
