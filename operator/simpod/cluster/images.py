"""Container images for the real node, built on this machine because none can be pulled.

Two single-layer OCI images, written as OCI layout archives that ``ctr images import``
reads: ``busybox`` (Debian's static busybox plus its applet links, the shell and tools the
pods' commands use) and the pod sandbox image (the static ``simpod-pause`` binary built
from ``hack/images/pause``). Archives are byte-for-byte reproducible (fixed mtimes, sorted
entries), so an unchanged image re-imports as the same digest.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import struct
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BUSYBOX_IMAGE = "docker.io/library/busybox:latest"
PAUSE_IMAGE = "localhost/simpod/pause:1.0"
_PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_DIRS = (
    "bin",
    "dev",
    "etc",
    "proc",
    "root",
    "sbin",
    "sys",
    "tmp",
    "usr",
    "usr/bin",
    "usr/sbin",
    "var",
)
_ETC = {
    "etc/passwd": "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n",
    "etc/group": "root:x:0:\nnobody:x:65534:\n",
}


class ImageError(RuntimeError):
    """An image could not be built; the message says which package provides the input."""


@dataclass(frozen=True)
class Image:
    """An OCI layout archive on disk and the reference it is imported under."""

    reference: str
    archive: Path


def build_busybox(busybox: Path, out_dir: Path) -> Image:
    """busybox as its own image: the binary, one symlink per applet, passwd/group."""
    if not busybox.is_file():
        raise ImageError(f"{busybox} not found: install Debian's busybox-static")
    if _is_dynamic_elf(busybox):
        raise ImageError(f"{busybox} is dynamically linked: install busybox-static")
    applets = subprocess.run(
        [str(busybox), "--list-full"], check=True, capture_output=True, text=True
    ).stdout.split()
    layer = _Layer()
    for directory in _DIRS:
        layer.directory(directory, mode=0o1777 if directory == "tmp" else 0o755)
    layer.file("bin/busybox", busybox.read_bytes(), mode=0o755)
    for path, text in _ETC.items():
        layer.file(path, text.encode(), mode=0o644)
    for applet in sorted(set(applets) - {"bin/busybox"}):
        layer.symlink(applet, "/bin/busybox")
    return _write(BUSYBOX_IMAGE, layer, out_dir / "busybox.oci.tar", cmd=["sh"])


def build_pause(pause: Path, out_dir: Path) -> Image:
    layer = _Layer()
    layer.file("pause", pause.read_bytes(), mode=0o755)
    return _write(PAUSE_IMAGE, layer, out_dir / "pause.oci.tar", entrypoint=["/pause"])


def _is_dynamic_elf(path: Path) -> bool:
    """True if the ELF file has a PT_INTERP header (needs a loader the image lacks)."""
    with path.open("rb") as f:
        header = f.read(64)
        if header[:4] != b"\x7fELF" or header[4] != 2:  # 64-bit ELF only
            return True
        (phoff,) = struct.unpack_from("<Q", header, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", header, 0x36)
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    return any(struct.unpack_from("<I", table, i * phentsize)[0] == 3 for i in range(phnum))


class _Layer:
    """An uncompressed, reproducible layer tar (root-owned, mtime 0)."""

    def __init__(self) -> None:
        self._entries: list[tuple[tarfile.TarInfo, bytes | None]] = []

    def _add(self, name: str, kind: bytes, mode: int, data: bytes | None = None) -> tarfile.TarInfo:
        info = tarfile.TarInfo(name)
        info.type, info.mode, info.mtime = kind, mode, 0
        info.size = len(data) if data is not None else 0
        self._entries.append((info, data))
        return info

    def directory(self, name: str, *, mode: int) -> None:
        self._add(name, tarfile.DIRTYPE, mode)

    def file(self, name: str, data: bytes, *, mode: int) -> None:
        self._add(name, tarfile.REGTYPE, mode, data)

    def symlink(self, name: str, target: str) -> None:
        self._add(name, tarfile.SYMTYPE, 0o777).linkname = target

    def tar(self) -> bytes:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for info, data in self._entries:
                tar.addfile(info, io.BytesIO(data) if data is not None else None)
        return buffer.getvalue()


def _blob(blobs: dict[str, bytes], data: bytes, media_type: str) -> dict[str, Any]:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    blobs[digest] = data
    return {"mediaType": media_type, "digest": digest, "size": len(data)}


def _json(value: dict[str, Any]) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def _write(
    reference: str,
    layer: _Layer,
    archive: Path,
    *,
    cmd: list[str] | None = None,
    entrypoint: list[str] | None = None,
) -> Image:
    blobs: dict[str, bytes] = {}
    layer_desc = _blob(blobs, layer.tar(), "application/vnd.oci.image.layer.v1.tar")
    runtime: dict[str, Any] = {"Env": [_PATH_ENV]}
    if cmd:
        runtime["Cmd"] = cmd
    if entrypoint:
        runtime["Entrypoint"] = entrypoint
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": runtime,
        "rootfs": {"type": "layers", "diff_ids": [layer_desc["digest"]]},
    }
    config_desc = _blob(blobs, _json(config), "application/vnd.oci.image.config.v1+json")
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": config_desc,
        "layers": [layer_desc],
    }
    manifest_desc = _blob(blobs, _json(manifest), "application/vnd.oci.image.manifest.v1+json")
    manifest_desc["annotations"] = {
        "io.containerd.image.name": reference,
        "org.opencontainers.image.ref.name": reference.rsplit(":", 1)[1],
    }
    index = {"schemaVersion": 2, "manifests": [manifest_desc]}
    files = {
        "oci-layout": _json({"imageLayoutVersion": "1.0.0"}),
        "index.json": _json(index),
        **{f"blobs/sha256/{d.removeprefix('sha256:')}": data for d, data in blobs.items()},
    }
    archive.parent.mkdir(parents=True, exist_ok=True)
    partial = archive.with_name(archive.name + ".partial")
    with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    partial.replace(archive)
    return Image(reference, archive)


def find_busybox() -> Path:
    """Debian's busybox-static installs /bin/busybox; PATH covers other layouts."""
    found = shutil.which("busybox")
    return Path(found) if found else Path("/bin/busybox")
