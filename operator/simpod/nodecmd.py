"""``simpod node fail NAME`` / ``simpod node recover NAME``: fail a SimNode on purpose.

Failing sets ``spec.failed``: the agent serving the node stops its heartbeats, exactly as if
the node were lost, and the node lifecycle controller reacts after the grace period (Ready
Unknown, unreachable taints, then evictions). Recovering clears the field; the next heartbeat
makes the node Ready again and the controller removes the taints. Blocking client: this runs
from the CLI.
"""

from __future__ import annotations

import argparse
import os
import sys

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from simpod.api.group import GROUP, SIMNODE, VERSION


def set_failed(name: str, *, failed: bool) -> None:
    """Patch ``spec.failed`` on the current kubeconfig's cluster."""
    api = config.new_client_from_config(config_file=os.environ.get("KUBECONFIG"))
    try:
        client.CustomObjectsApi(api).patch_cluster_custom_object(
            GROUP,
            VERSION,
            SIMNODE.plural,
            name,
            {"spec": {"failed": failed}},
            _content_type="application/merge-patch+json",
        )
    finally:
        api.close()


def _fail(args: argparse.Namespace) -> int:
    return _set(args.name, failed=True, verb="failed")


def _recover(args: argparse.Namespace) -> int:
    return _set(args.name, failed=False, verb="recovering")


def _set(name: str, *, failed: bool, verb: str) -> int:
    try:
        set_failed(name, failed=failed)
    except ApiException as exc:
        reason = "not found" if exc.status == 404 else exc.reason
        print(f"simpod: simnode {name}: {reason}", file=sys.stderr)
        return 1
    except ConfigException as exc:
        print(f"simpod: no cluster to talk to ({exc}); set KUBECONFIG", file=sys.stderr)
        return 1
    print(f"simnode/{name} {verb}")
    return 0


def add_node_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    node = sub.add_parser("node", help="fail or recover a SimNode on purpose")
    nsub = node.add_subparsers(dest="node_command", required=True)
    fail = nsub.add_parser("fail", help="stop its heartbeats, as if the node were lost")
    fail.add_argument("name")
    fail.set_defaults(func=_fail)
    recover = nsub.add_parser("recover", help="resume its heartbeats")
    recover.add_argument("name")
    recover.set_defaults(func=_recover)
