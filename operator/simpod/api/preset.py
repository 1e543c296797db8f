"""The SimPodPreset kind: env and volumes merged into matching SimPods at creation."""

from __future__ import annotations

from simpod.api.container import ENV, ENV_FROM, VOLUME_MOUNTS
from simpod.api.group import SIMPODPRESET
from simpod.api.meta import label_selector
from simpod.api.podspec import VOLUMES
from simpod.api.resource import Resource
from simpod.api.schema import obj

SIMPODPRESET_RESOURCE = Resource(
    SIMPODPRESET,
    "Settings merged into every new SimPod of the namespace that the selector matches "
    "(settings.k8s.io/v1alpha1 PodPreset). Later changes do not touch existing pods.",
    obj(
        "What to inject and into which pods.",
        {
            "selector": label_selector(
                "Which new SimPods get this preset, by their labels; empty matches all."
            ),
            "env": ENV.describe(
                "Environment variables added to every container and init container."
            ),
            "envFrom": ENV_FROM.describe(
                "Variable sources added to every container and init container."
            ),
            "volumes": VOLUMES.describe("Volumes added to the pod."),
            "volumeMounts": VOLUME_MOUNTS.describe(
                "Mounts added to every container and init container."
            ),
        },
    ),
    None,
)
