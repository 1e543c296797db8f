"""Kubeconfig files for the admin user and the control-plane components."""

from __future__ import annotations

import base64
from pathlib import Path

import yaml

from simpod.cluster.pki import ClientIdentity, Pki


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def write_kubeconfig(path: Path, *, server: str, pki: Pki, ident: ClientIdentity) -> None:
    """Self-contained (certificates embedded), so it can be copied off this machine."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "simpod",
                "cluster": {
                    "server": server,
                    "certificate-authority-data": _b64(pki.ca_cert),
                },
            }
        ],
        "users": [
            {
                "name": ident.user,
                "user": {
                    "client-certificate-data": _b64(pki.client_cert(ident.stem)),
                    "client-key-data": _b64(pki.client_key(ident.stem)),
                },
            }
        ],
        "contexts": [{"name": "simpod", "context": {"cluster": "simpod", "user": ident.user}}],
        "current-context": "simpod",
        "preferences": {},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(yaml.safe_dump(config, sort_keys=False))
    tmp.chmod(0o600)
    tmp.replace(path)
