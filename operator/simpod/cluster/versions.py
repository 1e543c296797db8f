"""Pinned versions of the control-plane binaries built from Go modules.

They must match the wrapper modules under ``hack/controlplane/`` (whose go.mod/go.sum
pin every dependency); bump both together.
"""

from __future__ import annotations

KUBERNETES_VERSION = "v1.35.4"
ETCD_VERSION = "v3.6.16"
# crictl (only for cleaning up the real node's pods); v1.35 is not on the Go proxy.
CRICTL_VERSION = "v1.34.0"
