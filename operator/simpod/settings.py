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


@dataclass(frozen=True)
class Settings:
    nodes: int = 0
    time_scale: float = 1.0
    enable_process_runtime: bool = False
    allow_privileged: bool = False
    roles: frozenset[Role] = frozenset({Role.ALL})

    def runs(self, role: Role) -> bool:
        return Role.ALL in self.roles or role in self.roles

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        e = os.environ if env is None else env
        roles = e.get("SIMPOD_ROLES", "all")
        return cls(
            nodes=int(e.get("SIMPOD_NODES", "0")),
            time_scale=float(e.get("SIMPOD_TIME_SCALE", "1")),
            enable_process_runtime=e.get("SIMPOD_ENABLE_PROCESS_RUNTIME", "") == "1",
            allow_privileged=e.get("SIMPOD_ALLOW_PRIVILEGED", "") == "1",
            roles=frozenset(Role(r) for r in roles.split(",") if r),
        )

    def to_env(self) -> dict[str, str]:
        return {
            "SIMPOD_NODES": str(self.nodes),
            "SIMPOD_TIME_SCALE": repr(self.time_scale),
            "SIMPOD_ENABLE_PROCESS_RUNTIME": "1" if self.enable_process_runtime else "",
            "SIMPOD_ALLOW_PRIVILEGED": "1" if self.allow_privileged else "",
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
        "--role",
        action="append",
        choices=[r.value for r in Role],
        help="run only these roles (repeatable; default: all)",
    )


def settings_from_args(args: argparse.Namespace) -> Settings:
    return Settings(
        nodes=args.nodes,
        time_scale=args.time_scale,
        enable_process_runtime=args.enable_process_runtime,
        allow_privileged=args.allow_privileged,
        roles=frozenset(Role(r) for r in (args.role or ["all"])),
    )
