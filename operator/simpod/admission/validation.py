"""Cross-field rules of Pod validation that the CRD's CEL rules leave to the webhook.

Mounts refer to the pod's volumes across two nested lists (32 containers x 64 mounts x
128 volumes would blow the CEL cost budget), and a message naming the container, the
mount and the volumes that do exist is what a person needs to fix the pod.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simpod.admission.presets import CONTAINER_LISTS


def spec_problems(spec: Mapping[str, Any]) -> list[str]:
    volumes = [str(v.get("name")) for v in spec.get("volumes") or ()]
    declared = ", ".join(volumes) if volumes else "none"
    problems: list[str] = []
    for kind in CONTAINER_LISTS:
        for index, container in enumerate(spec.get(kind) or ()):
            name = container.get("name", "?")
            paths: dict[str, str] = {}
            for m, mount in enumerate(container.get("volumeMounts") or ()):
                where = f"spec.{kind}[{index}].volumeMounts[{m}]"
                if mount.get("name") not in volumes:
                    problems.append(
                        f'{where}.name: container "{name}" mounts volume "{mount.get("name")}", '
                        f"which is not in spec.volumes (declared: {declared})"
                    )
                path = str(mount.get("mountPath"))
                if path in paths:
                    problems.append(
                        f'{where}.mountPath: container "{name}" mounts both volume '
                        f'"{paths[path]}" and volume "{mount.get("name")}" at {path}; '
                        "a mount path must be unique within a container"
                    )
                paths.setdefault(path, str(mount.get("name")))
    return problems
