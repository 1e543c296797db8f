"""The ``simpod`` command: the embedded control plane and the operator's entry points.

Blocking code is fine here (it is not the operator's event loop); the operator itself
runs under Kopf's asyncio loop (``simpod run`` or ``kopf run -m simpod.operator``).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from simpod.cluster import controlplane
from simpod.cluster.build import BuildError
from simpod.cluster.containerd import ContainerdError
from simpod.cluster.node import NodeError
from simpod.cluster.paths import layout


def _cluster_up(args: argparse.Namespace) -> int:
    result = controlplane.up(
        layout(), unsafe_no_fsync=args.unsafe_no_fsync, with_node=args.with_node
    )
    if result.already_running:
        print(f"control plane already running at {result.server}", file=sys.stderr)
    else:
        built = f" (built binaries in {result.build_seconds:.0f}s)" if result.build_seconds else ""
        print(
            f"control plane ready at {result.server} in {result.start_seconds:.1f}s{built}",
            file=sys.stderr,
        )
    if result.node is not None:
        joined = result.node
        state = (
            "already Ready" if joined.already_running else f"Ready in {joined.start_seconds:.1f}s"
        )
        built = (
            f" (built node binaries in {joined.build_seconds:.0f}s)" if joined.build_seconds else ""
        )
        print(f"real node {joined.name} {state}{built}", file=sys.stderr)
    print(f"export KUBECONFIG={result.kubeconfig}", file=sys.stderr)
    return 0


def _cluster_kubeconfig(_: argparse.Namespace) -> int:
    print(layout().kubeconfig)
    return 0


def _cluster_down(args: argparse.Namespace) -> int:
    stopped = controlplane.down(layout(), purge=args.purge)
    print(f"stopped: {', '.join(stopped) or 'nothing was running'}", file=sys.stderr)
    return 0


def _run(args: argparse.Namespace) -> int:
    from simpod.run import run_operator  # noqa: PLC0415 - keeps the CLI start fast

    if args.ensure_cluster:
        from simpod.cluster.reach import current_cluster_reachable  # noqa: PLC0415

        reached = current_cluster_reachable()
        if reached:
            print(f"using the current kubeconfig's cluster at {reached}", file=sys.stderr)
        else:
            result = controlplane.up(layout())
            os.environ["KUBECONFIG"] = str(result.kubeconfig)
            print(f"using the embedded control plane at {result.server}", file=sys.stderr)
    return run_operator(args)


def _delete(args: argparse.Namespace) -> int:
    from simpod.podcmd import delete_simpod  # noqa: PLC0415 - keeps the CLI start fast

    grace = 0 if args.force and args.grace_period is None else args.grace_period
    if not delete_simpod(
        args.name, namespace=args.namespace, grace_period=grace, force=args.force, wait=args.wait
    ):
        print(f"simpod: simpod {args.namespace}/{args.name} not found", file=sys.stderr)
        return 1
    print(f'simpod.simpod.dev "{args.name}" deleted')
    return 0


def _logs(args: argparse.Namespace) -> int:
    from simpod.logcmd import LogsError, show_logs  # noqa: PLC0415 - keeps the CLI start fast

    try:
        show_logs(
            args.name,
            namespace=args.namespace,
            container=args.container,
            previous=args.previous,
            follow=args.follow,
        )
    except LogsError as exc:
        print(f"simpod: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="simpod", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    cluster = sub.add_parser("cluster", help="the embedded local control plane")
    csub = cluster.add_subparsers(dest="cluster_command", required=True)
    up = csub.add_parser("up", help="start it (building the binaries on first use)")
    up.add_argument(
        "--unsafe-no-fsync",
        action="store_true",
        help="run etcd without fsync: faster, loses data on power loss; tests and benchmarks only",
    )
    up.add_argument(
        "--with-node",
        action="store_true",
        help="also run a real node (kubelet, kube-scheduler, containerd; root only) for real Pods",
    )
    up.set_defaults(func=_cluster_up)
    csub.add_parser("kubeconfig", help="print its kubeconfig path").set_defaults(
        func=_cluster_kubeconfig
    )
    down = csub.add_parser("down", help="stop it (and clean up the real node's pods, if any)")
    down.add_argument("--purge", action="store_true", help="also delete its data")
    down.set_defaults(func=_cluster_down)

    run = sub.add_parser("run", help="run the operator in the foreground")
    from simpod.settings import add_run_arguments  # noqa: PLC0415

    add_run_arguments(run)
    run.add_argument(
        "--ensure-cluster",
        action="store_true",
        help="use the current kubeconfig's cluster if reachable, else start the embedded one",
    )
    run.set_defaults(func=_run)

    delete = sub.add_parser("delete", help="delete a SimPod (grace override, force)")
    delete.add_argument("name")
    delete.add_argument("-n", "--namespace", default="default")
    delete.add_argument(
        "--grace-period", type=int, help="seconds of grace for this deletion (may only shorten)"
    )
    delete.add_argument(
        "--force", action="store_true", help="remove the object at once; the node still kills"
    )
    delete.add_argument("--wait", action=argparse.BooleanOptionalAction, default=True)
    delete.set_defaults(func=_delete)

    logs = sub.add_parser(
        "logs", help="a process-runtime container's output (on the agent's machine)"
    )
    logs.add_argument("name")
    logs.add_argument("-n", "--namespace", default="default")
    logs.add_argument("-c", "--container", help="default: the pod's only container")
    logs.add_argument("-p", "--previous", action="store_true", help="the previous instance")
    logs.add_argument("-f", "--follow", action="store_true", help="until the container exits")
    logs.set_defaults(func=_logs)

    from simpod.nodecmd import add_node_parser  # noqa: PLC0415

    add_node_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except (BuildError, controlplane.ControlPlaneError, NodeError, ContainerdError) as exc:
        print(f"simpod: {exc}", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
