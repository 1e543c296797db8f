"""Operator settings: one frozen object, from ``simpod run`` flags or the environment.

``kopf run -m simpod.operator`` has no room for our flags, so every setting also reads
from a ``SIMPOD_*`` environment variable; ``simpod run`` turns its flags into those.
"""

from __future__ import annotations

import argparse
import enum
import os
from dataclasses import dataclass


class Role(enum.Enum):
    ALL = "all"
    AGENT = "agent"
    SCHEDULER = "scheduler"
    NODES = "nodes"
    PODGC = "podgc"
    ENDPOINTS = "endpoints"
    WEBHOOK = "webhook"


@dataclass(frozen=True)
class Settings:
    nodes: int = 0
    first_node: int = 1
    time_scale: float = 1.0
    enable_process_runtime: bool = False
    allow_privileged: bool = False
    # Admission webhook server: 0 picks a free port; a Service "namespace/name" in front of
    # the operator (a real cluster) instead of https://127.0.0.1:<port> (embedded one).
    webhook_port: int = 0
    webhook_service: str = ""
    # Cluster-side controllers (kube-controller-manager's flags, same defaults); scaled by
    # time_scale like every other wait.
    node_monitor_grace_period: float = 40.0
    default_toleration_seconds: int = 300
    terminated_pod_gc_threshold: int = 12500
    roles: frozenset[Role] = frozenset({Role.ALL})

    def runs(self, role: Role) -> bool:
        return Role.ALL in self.roles or role in self.roles

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        e = os.environ if env is None else env
        roles = e.get("SIMPOD_ROLES", "all")
        return cls(
            nodes=int(e.get("SIMPOD_NODES", "0")),
            first_node=int(e.get("SIMPOD_FIRST_NODE", "1")),
            time_scale=float(e.get("SIMPOD_TIME_SCALE", "1")),
            enable_process_runtime=e.get("SIMPOD_ENABLE_PROCESS_RUNTIME", "") == "1",
            allow_privileged=e.get("SIMPOD_ALLOW_PRIVILEGED", "") == "1",
            webhook_port=int(e.get("SIMPOD_WEBHOOK_PORT", "0")),
            webhook_service=e.get("SIMPOD_WEBHOOK_SERVICE", ""),
            node_monitor_grace_period=float(e.get("SIMPOD_NODE_MONITOR_GRACE_PERIOD", "40")),
            default_toleration_seconds=int(e.get("SIMPOD_DEFAULT_TOLERATION_SECONDS", "300")),
            terminated_pod_gc_threshold=int(e.get("SIMPOD_TERMINATED_POD_GC_THRESHOLD", "12500")),
            roles=frozenset(Role(r) for r in roles.split(",") if r),
        )

    def to_env(self) -> dict[str, str]:
        return {
            "SIMPOD_NODES": str(self.nodes),
            "SIMPOD_FIRST_NODE": str(self.first_node),
            "SIMPOD_TIME_SCALE": repr(self.time_scale),
            "SIMPOD_ENABLE_PROCESS_RUNTIME": "1" if self.enable_process_runtime else "",
            "SIMPOD_ALLOW_PRIVILEGED": "1" if self.allow_privileged else "",
            "SIMPOD_WEBHOOK_PORT": str(self.webhook_port),
            "SIMPOD_WEBHOOK_SERVICE": self.webhook_service,
            "SIMPOD_NODE_MONITOR_GRACE_PERIOD": repr(self.node_monitor_grace_period),
            "SIMPOD_DEFAULT_TOLERATION_SECONDS": str(self.default_toleration_seconds),
            "SIMPOD_TERMINATED_POD_GC_THRESHOLD": str(self.terminated_pod_gc_threshold),
            "SIMPOD_ROLES": ",".join(sorted(r.value for r in self.roles)),
        }


def _positive(value: str) -> float:
    number = float(value)
    if number <= 0:
        raise argparse.ArgumentTypeError("must be > 0")
    return number


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--nodes", type=int, default=0, help="simulated SimNodes to register")
    parser.add_argument(
        "--first-node",
        type=int,
        default=1,
        help="number of the first SimNode (sim-node-K...), so that several agents share a cluster",
    )
    parser.add_argument(
        "--time-scale",
        type=_positive,
        default=1.0,
        help="divide every lifecycle wait by this (probe periods, backoff, grace, deadlines, "
        "heartbeats); timeouts bounding real work never drop below 1 s",
    )
    parser.add_argument(
        "--enable-process-runtime",
        action="store_true",
        help="allow runtimeClassName: process (runs commands from the API on this machine)",
    )
    parser.add_argument(
        "--allow-privileged", action="store_true", help="admit securityContext.privileged pods"
    )
    parser.add_argument(
        "--webhook-port", type=int, default=0, help="admission webhook port (default: a free one)"
    )
    parser.add_argument(
        "--webhook-service",
        default="",
        metavar="NAMESPACE/NAME",
        help="the Service the API server calls the admission webhooks through (in a cluster; "
        "default: https://127.0.0.1:PORT, for a control plane on this machine)",
    )
    parser.add_argument(
        "--node-monitor-grace-period",
        type=_positive,
        default=40.0,
        metavar="SECONDS",
        help="a SimNode without a heartbeat for this long turns Ready Unknown",
    )
    parser.add_argument(
        "--default-toleration-seconds",
        type=int,
        default=300,
        metavar="SECONDS",
        help="how long pods without their own toleration stay on a not-ready or unreachable "
        "node before eviction",
    )
    parser.add_argument(
        "--terminated-pod-gc-threshold",
        type=int,
        default=12500,
        metavar="N",
        help="pod GC deletes the oldest terminated SimPods beyond this many",
    )
    parser.add_argument(
        "--role",
        action="append",
        choices=[r.value for r in Role],
        help="run only these roles (repeatable; default: all)",
    )


def settings_from_args(args: argparse.Namespace) -> Settings:
    return Settings(
        nodes=args.nodes,
        first_node=args.first_node,
        time_scale=args.time_scale,
        enable_process_runtime=args.enable_process_runtime,
        allow_privileged=args.allow_privileged,
        webhook_port=args.webhook_port,
        webhook_service=args.webhook_service,
        node_monitor_grace_period=args.node_monitor_grace_period,
        default_toleration_seconds=args.default_toleration_seconds,
        terminated_pod_gc_threshold=args.terminated_pod_gc_threshold,
        roles=frozenset(Role(r) for r in (args.role or ["all"])),
    )
