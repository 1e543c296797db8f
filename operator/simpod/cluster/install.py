"""Install the project's CRDs into a cluster and wait until they are served.

Server-side apply, so a re-run after a CRD change updates it in place and ``up`` stays
idempotent. Blocking client: this runs from the CLI, never on the operator's event loop.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client, config

from simpod.cluster.paths import repo_root

FIELD_MANAGER = "simpod"


def crd_documents(crd_dir: Path | None = None) -> list[dict[str, Any]]:
    directory = crd_dir or repo_root() / "crds"
    docs: list[dict[str, Any]] = []
    for path in sorted(directory.glob("*.yaml")):
        docs.extend(d for d in yaml.safe_load_all(path.read_text()) if d)
    return docs


def apply_crds(kubeconfig: Path, *, timeout: float = 60.0) -> list[str]:
    api_client = config.new_client_from_config(config_file=str(kubeconfig))
    try:
        ext = client.ApiextensionsV1Api(api_client)
        names: list[str] = []
        for doc in crd_documents():
            name = doc["metadata"]["name"]
            ext.patch_custom_resource_definition(
                name,
                doc,
                field_manager=FIELD_MANAGER,
                force=True,
                _content_type="application/apply-patch+yaml",
            )
            names.append(name)
        _wait_established(ext, names, timeout=timeout)
        return names
    finally:
        api_client.close()


def _wait_established(ext: Any, names: list[str], *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    pending = set(names)
    while pending:
        for name in sorted(pending):
            crd = ext.read_custom_resource_definition(name)
            conditions = (crd.status and crd.status.conditions) or []
            if any(c.type == "Established" and c.status == "True" for c in conditions):
                pending.discard(name)
        if pending:
            if time.monotonic() > deadline:
                raise TimeoutError(f"CRDs not established after {timeout}s: {sorted(pending)}")
            time.sleep(0.1)
