"""Environment resolution as the kubelet's makeEnvironmentVariables does it."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import pytest

from simpod.runtimes.process.env import (
    ConfigError,
    PodFacts,
    command_line,
    container_env,
    expand,
)

POD = PodFacts(
    name="web",
    namespace="ns",
    uid="u1",
    node_name="sim-node-1",
    pod_ip="10.244.1.2",
    host_ip="172.30.0.1",
    labels={"app": "web", "tier": "front"},
)


class Fake:
    def __init__(
        self, maps: Mapping[str, Mapping[str, str]], secrets: Mapping[str, Mapping[str, str]]
    ) -> None:
        self.maps, self.secrets = maps, secrets

    async def config_map(self, name: str) -> Mapping[str, str] | None:
        return self.maps.get(name)

    async def secret(self, name: str) -> Mapping[str, str] | None:
        return self.secrets.get(name)


def resolve(container: dict[str, Any], maps: Any = None, secrets: Any = None) -> dict[str, str]:
    return asyncio.run(container_env(container, POD, Fake(maps or {}, secrets or {})))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$(A)-$(B)", "1-$(B)"),
        ("$$(A)", "$(A)"),
        ("$$", "$"),
        ("a$", "a$"),
        ("$(A", "$(A"),
        ("$x$(A)", "$x1"),
        ("", ""),
    ],
)
def test_expansion_follows_the_kubelet(text: str, expected: str) -> None:
    assert expand(text, {"A": "1"}) == expected


def test_env_from_then_env_with_expansion_and_downward_api() -> None:
    env = resolve(
        {
            "envFrom": [{"configMapRef": {"name": "cfg"}, "prefix": "CFG_"}],
            "env": [
                {"name": "NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                {"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                {"name": "APP", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}},
                {"name": "URL", "value": "http://$(IP):$(CFG_port)/$(NAME)"},
                {"name": "PW", "valueFrom": {"secretKeyRef": {"name": "s", "key": "pw"}}},
                {"name": "EMPTY", "value": ""},
            ],
        },
        maps={"cfg": {"port": "80", "bad-key": "x", "1st": "y"}},
        secrets={"s": {"pw": "hunter2"}},
    )
    assert env == {
        "CFG_port": "80",
        "CFG_bad-key": "x",
        "CFG_1st": "y",
        "NAME": "web",
        "IP": "10.244.1.2",
        "APP": "web",
        "URL": "http://10.244.1.2:80/web",
        "PW": "hunter2",
        "EMPTY": "",
    }


def test_invalid_env_from_keys_are_skipped() -> None:
    env = resolve({"envFrom": [{"configMapRef": {"name": "cfg"}}]}, maps={"cfg": {"1st": "y"}})
    assert env == {}


@pytest.mark.parametrize(
    ("container", "message"),
    [
        (
            {"env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "k"}}}]},
            'configmap "cfg" not found',
        ),
        (
            {"env": [{"name": "X", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]},
            'secret "s" not found',
        ),
        (
            {"env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "e", "key": "k"}}}]},
            "couldn't find key k in ConfigMap ns/e",
        ),
        ({"envFrom": [{"secretRef": {"name": "s"}}]}, 'secret "s" not found'),
    ],
)
def test_missing_sources_are_config_errors(container: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve(container, maps={"e": {}})
    assert str(caught.value) == message


def test_optional_sources_may_be_missing() -> None:
    env = resolve(
        {
            "envFrom": [{"configMapRef": {"name": "none", "optional": True}}],
            "env": [
                {
                    "name": "X",
                    "valueFrom": {"secretKeyRef": {"name": "s", "key": "k", "optional": True}},
                }
            ],
        }
    )
    assert env == {}


def test_command_and_args_expand() -> None:
    raw = {"command": ["echo", "$(A)"], "args": ["$$(A)", "$(B)"]}
    assert command_line(raw, {"A": "1"}) == ["echo", "1", "$(A)", "$(B)"]
