"""The real node's pure parts: what preflight reports, and the locally built images."""

from __future__ import annotations

import json
import os
import tarfile
from pathlib import Path

import pytest

from simpod.cluster import node
from simpod.cluster.images import BUSYBOX_IMAGE, build_busybox, find_busybox
from simpod.cluster.paths import Layout


def test_preflight_lists_every_missing_piece(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setattr(node, "_which", lambda _: None)
    monkeypatch.setattr(node, "find_cni_bin_dir", lambda: None)
    with pytest.raises(node.NodeUnsupported) as raised:
        node.preflight(Layout(tmp_path))
    message = str(raised.value)
    assert "not running as root" in message
    assert "missing containerd, containerd-shim-runc-v2, ctr, runc, ip" in message
    assert "containernetworking-plugins" in message


@pytest.mark.skipif(not find_busybox().is_file(), reason="no busybox (busybox-static) here")
def test_busybox_image_is_a_reproducible_oci_layout(tmp_path: Path) -> None:
    first = build_busybox(find_busybox(), tmp_path / "a")
    second = build_busybox(find_busybox(), tmp_path / "b")
    assert first.archive.read_bytes() == second.archive.read_bytes()
    with tarfile.open(first.archive) as archive:
        index = json.load(archive.extractfile("index.json"))  # type: ignore[arg-type]
        (manifest,) = index["manifests"]
        assert manifest["annotations"]["io.containerd.image.name"] == BUSYBOX_IMAGE
        digest = manifest["digest"].removeprefix("sha256:")
        assert f"blobs/sha256/{digest}" in archive.getnames()
