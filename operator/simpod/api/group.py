"""API group, version and kinds: the names users and scripts rely on (see interface.md)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

GROUP = "simpod.dev"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"


class Scope(enum.Enum):
    NAMESPACED = "Namespaced"
    CLUSTER = "Cluster"


@dataclass(frozen=True)
class Kind:
    """One custom resource kind with the names the CRD declares for it."""

    kind: str
    plural: str
    scope: Scope
    short_names: tuple[str, ...] = ()

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def crd_name(self) -> str:
        return f"{self.plural}.{GROUP}"


SIMPOD = Kind("SimPod", "simpods", Scope.NAMESPACED, ("spod",))
SIMNODE = Kind("SimNode", "simnodes", Scope.CLUSTER, ("snode",))
SIMJOB = Kind("SimJob", "simjobs", Scope.NAMESPACED)
SIMREPLICASET = Kind("SimReplicaSet", "simreplicasets", Scope.NAMESPACED, ("srs",))
SIMDEPLOYMENT = Kind("SimDeployment", "simdeployments", Scope.NAMESPACED, ("sdeploy",))
SIMDAEMONSET = Kind("SimDaemonSet", "simdaemonsets", Scope.NAMESPACED, ("sds",))
SIMPODPRESET = Kind("SimPodPreset", "simpodpresets", Scope.NAMESPACED)

ALL_KINDS: tuple[Kind, ...] = (
    SIMPOD,
    SIMNODE,
    SIMJOB,
    SIMREPLICASET,
    SIMDEPLOYMENT,
    SIMDAEMONSET,
    SIMPODPRESET,
)
