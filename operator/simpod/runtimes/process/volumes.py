"""A pod's volumes on the agent's machine and each container's mounts of them.

``emptyDir``: a directory of the pod (mode 0777, as the kubelet makes it), shared by its
containers and deleted with the pod. ``hostPath``: the host's path itself (created for
``DirectoryOrCreate``, ``FileOrCreate`` and an empty type). ``configMap`` and ``secret``:
their keys written as files (``items``, ``defaultMode``), mounted read-only. A missing
object that is not ``optional`` fails the mount with the kubelet's message; the container
keeps waiting in ContainerCreating and the runtime tries again.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from simpod.runtimes.process.container import Mount
from simpod.runtimes.process.env import Sources
from simpod.runtimes.process.sandbox import PodDir


class VolumeError(Exception):
    """A volume could not be set up (the kubelet's FailedMount text)."""


def _failed(name: str, why: str) -> VolumeError:
    return VolumeError(f'MountVolume.SetUp failed for volume "{name}" : {why}')


def _project(target: Path, data: Mapping[str, str], source: Mapping[str, Any]) -> None:
    target.mkdir(parents=True, exist_ok=True)
    default_mode = int(source.get("defaultMode", 0o644))
    items = source.get("items") or [{"key": k, "path": k} for k in data]
    for item in items:
        key = str(item.get("key"))
        if key not in data:
            continue
        path = target / str(item.get("path", key))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(data[key])
        path.chmod(int(item.get("mode", default_mode)))


async def prepare(
    pod_spec: Mapping[str, Any], pod_dir: PodDir, sources: Sources
) -> dict[str, Path]:
    """Every volume's path on the host, by name (configMap/secret files rewritten)."""
    paths: dict[str, Path] = {}
    for volume in pod_spec.get("volumes") or ():
        name = str(volume.get("name"))
        if "emptyDir" in volume:
            path = pod_dir.volume(name)
            if not path.is_dir():
                path.mkdir(parents=True)
                path.chmod(0o777)
        elif "hostPath" in volume:
            path = Path(str(volume["hostPath"].get("path")))
            kind = str(volume["hostPath"].get("type") or "")
            if kind == "FileOrCreate" and not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                path.touch()
            elif kind in ("", "DirectoryOrCreate") and not path.exists():
                path.mkdir(parents=True)
            elif not path.exists():
                raise _failed(name, f"hostPath type check failed: {path} is not a {kind}")
        elif "configMap" in volume or "secret" in volume:
            is_map = "configMap" in volume
            source = volume["configMap" if is_map else "secret"]
            object_name = str(source.get("name" if is_map else "secretName"))
            data = await (
                sources.config_map(object_name) if is_map else sources.secret(object_name)
            )
            if data is None and not source.get("optional"):
                noun = "configmap" if is_map else "secret"
                raise _failed(name, f'{noun} "{object_name}" not found')
            path = pod_dir.volume(name)
            _project(path, data or {}, source)
        else:
            kinds = sorted(k for k in volume if k != "name")
            raise _failed(name, f"volume type {kinds} is not supported by the process runtime")
        paths[name] = path
    return paths


def mounts(
    container: Mapping[str, Any], pod_spec: Mapping[str, Any], paths: Mapping[str, Path]
) -> list[Mount]:
    """The container's volumeMounts as bind mounts (subPath inside the volume)."""
    read_only_kinds = {
        str(v.get("name"))
        for v in pod_spec.get("volumes") or ()
        if "configMap" in v or "secret" in v
    }
    out = []
    for mount in container.get("volumeMounts") or ():
        name = str(mount.get("name"))
        if name not in paths:
            raise _failed(name, "no such volume in the pod spec")
        source = paths[name]
        sub = str(mount.get("subPath") or "")
        if sub:
            source = source / sub
            if not source.exists():
                source.mkdir(parents=True)
                os.chmod(source, 0o777)
        read_only = bool(mount.get("readOnly")) or name in read_only_kinds
        out.append(Mount(source, str(mount.get("mountPath")), read_only))
    return out
