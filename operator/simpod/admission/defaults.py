"""Creation defaults that a CRD schema cannot express because they depend on other fields.

Both are the API server's own Pod defaults (``SetDefaults_Container``,
``SetDefaults_Pod``); static defaults (restartPolicy, probe periods, ...) are in the CRD.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def pull_policy(image: str) -> str:
    """Always for an untagged or ``:latest`` image, IfNotPresent for a tag or a digest."""
    if "@" in image:
        return "IfNotPresent"
    last = image.rsplit("/", 1)[-1]
    tag = last.rsplit(":", 1)[1] if ":" in last else "latest"
    return "Always" if tag == "latest" else "IfNotPresent"


def with_defaults(container: Mapping[str, Any]) -> dict[str, Any]:
    """The container with imagePullPolicy set and requests defaulted to its limits."""
    result = dict(container)
    if "imagePullPolicy" not in result and result.get("image"):
        result["imagePullPolicy"] = pull_policy(result["image"])
    resources = result.get("resources") or {}
    limits = resources.get("limits") or {}
    requests = resources.get("requests") or {}
    if any(name not in requests for name in limits):
        result["resources"] = {**resources, "requests": {**limits, **requests}}
    return result
