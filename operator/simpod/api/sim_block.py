"""The `sim` blocks of docs/sim-block.md: scripted behaviour on the `simulated` runtime.

No field here has a schema default: an absent key inside `attempts[i]` means "use the
top-level value", so defaulting would silently override every attempt. The documented
defaults are applied by the runtime instead and stated in the descriptions.
"""

from __future__ import annotations

from simpod.api.schema import Schema, array, boolean, integer, number, obj

MAX_ATTEMPTS = 64


def _seconds(description: str) -> Schema:
    return number(description, minimum=0)


def _never(description: str) -> Schema:
    """Seconds where absent or an explicit null means "never" (kept, so an attempt can
    override a top-level value back to "never")."""
    return number(description, minimum=0, nullable=True)


def _exit_code(description: str) -> Schema:
    return integer(description, minimum=0, maximum=255)


def _probe_script(kind: str) -> Schema:
    return obj(
        f"When the container's {kind} checks pass: a check t seconds after the container "
        "started passes iff t >= passAfterSeconds and (failAfterSeconds is unset or "
        "t < failAfterSeconds). Applies alike to exec, tcpSocket and httpGet handlers.",
        {
            "passAfterSeconds": _seconds("Checks fail before this many seconds. Default: 0."),
            "failAfterSeconds": _never(
                "Checks fail from this many seconds on; unset or null: never."
            ),
            "hang": boolean(
                "Every check of this kind hangs until its timeoutSeconds and counts as a "
                "failure. Default: false."
            ),
        },
    )


def _hook_script(hook: str) -> Schema:
    return obj(
        f"How long the {hook} hook takes and whether it succeeds.",
        {
            "seconds": _seconds("How long the hook runs. Default: 0."),
            "succeed": boolean("Whether the hook succeeds. Default: true."),
        },
    )


def _behaviour() -> dict[str, Schema]:
    """The fields a container's `sim` block and each of its `attempts` share."""
    return {
        "startDelaySeconds": _seconds(
            "Seconds from container creation until its process runs. Default: 0."
        ),
        "runSeconds": _never(
            "The container exits by itself this many seconds after it started; unset or null: "
            "it runs until stopped."
        ),
        "exitCode": _exit_code("The exit code when the container exits by itself. Default: 0."),
        "jitterSeconds": _seconds(
            "Up to this many seconds, drawn uniformly from the pod's seeded random source, "
            "are added to startDelaySeconds and runSeconds. Default: 0."
        ),
        "probes": obj(
            "When each kind of probe check passes. Absent: every check passes.",
            {kind: _probe_script(kind) for kind in ("readiness", "liveness", "startup")},
        ),
        "postStart": _hook_script("postStart"),
        "preStop": _hook_script("preStop"),
        "onTerm": obj(
            "How the container reacts to TERM.",
            {
                "exitAfterSeconds": _seconds("Seconds from TERM until it exits. Default: 0."),
                "exitCode": _exit_code("The exit code it exits with after TERM. Default: 143."),
                "ignore": boolean(
                    "It ignores TERM and runs until KILL (exit code 137). Default: false."
                ),
            },
        ),
    }


CONTAINER_SIM = obj(
    "Scripted behaviour of this container on the `simulated` runtime (ignored by the "
    "`process` runtime). Absent: it starts at once, runs until stopped, passes every probe "
    "and exits at once on TERM. Durations are seconds of kubelet time, divided by the agent's "
    "--time-scale.",
    {
        **_behaviour(),
        "attempts": array(
            "Per-attempt overrides: attempts[0] is the first run, attempts[1] the first "
            "restart, and so on. An item overrides the keys it sets; past the end of the list "
            "the top-level values apply.",
            obj("Overrides for one run of the container.", _behaviour()),
            max_items=MAX_ATTEMPTS,
        ),
    },
)

POD_SIM = obj(
    "Pod-wide settings of the `simulated` runtime.",
    {
        "seed": integer(
            "Seed of the random source behind every container's jitterSeconds; the same seed "
            "gives the same timings.",
            int64=True,
        )
    },
)
