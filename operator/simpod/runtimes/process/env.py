"""A container's environment, resolved as the kubelet's makeEnvironmentVariables does.

``envFrom`` first (ConfigMaps and Secrets, with prefixes; keys that are not valid variable
names are skipped), then ``env`` in order: literal values expand ``$(VAR)`` references to
variables defined before them, ``valueFrom`` reads the downward API (fieldRef) or one key
of a ConfigMap or Secret. A missing object or key that is not ``optional`` is a
:class:`ConfigError` whose text is the kubelet's; the container then waits with reason
``CreateContainerConfigError``. ``command`` and ``args`` expand against the result the
same way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

CONFIG_ERROR = "CreateContainerConfigError"
ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class ConfigError(Exception):
    """The container cannot be created from its configuration (the kubelet's message)."""


class Sources(Protocol):
    """Where ConfigMaps and Secrets of the pod's namespace are read from: the data as text
    (a Secret's already decoded), or None when the object does not exist."""

    async def config_map(self, name: str) -> Mapping[str, str] | None: ...

    async def secret(self, name: str) -> Mapping[str, str] | None: ...


@dataclass(frozen=True)
class PodFacts:
    """What the downward API can tell a container about its pod."""

    name: str
    namespace: str
    uid: str
    node_name: str = ""
    pod_ip: str = ""
    host_ip: str = ""
    service_account: str = "default"
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)


def expand(text: str, env: Mapping[str, str]) -> str:
    """``$(NAME)`` becomes NAME's value when defined (else stays as is); ``$$`` is ``$``."""
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char != "$" or i + 1 == len(text):
            out.append(char)
            i += 1
            continue
        following = text[i + 1]
        if following == "$":
            out.append("$")
            i += 2
        elif following == "(":
            close = text.find(")", i + 2)
            if close < 0:
                out.append("$(")
                i += 2
                continue
            name = text[i + 2 : close]
            out.append(env.get(name, f"$({name})"))
            i = close + 1
        else:
            out.append("$" + following)
            i += 2
    return "".join(out)


def _format_map(values: Mapping[str, str]) -> str:
    """All labels or annotations as the downward API writes them: key="value" lines."""
    return "\n".join(f'{k}="{v}"' for k, v in sorted(values.items()))


_SUBSCRIPT = re.compile(r"^metadata\.(labels|annotations)\['(.+)'\]$")


def field_value(path: str, pod: PodFacts) -> str:
    """A fieldRef's value; unsupported paths are refused as the API server would."""
    simple = {
        "metadata.name": pod.name,
        "metadata.namespace": pod.namespace,
        "metadata.uid": pod.uid,
        "metadata.labels": _format_map(pod.labels),
        "metadata.annotations": _format_map(pod.annotations),
        "spec.nodeName": pod.node_name,
        "spec.serviceAccountName": pod.service_account,
        "status.hostIP": pod.host_ip,
        "status.hostIPs": pod.host_ip,
        "status.podIP": pod.pod_ip,
        "status.podIPs": pod.pod_ip,
    }
    if path in simple:
        return simple[path]
    match = _SUBSCRIPT.match(path)
    if match:
        source = pod.labels if match.group(1) == "labels" else pod.annotations
        return source.get(match.group(2), "")
    raise ConfigError(f'unsupported fieldPath: "{path}"')


async def _key_ref(
    kind: str, ref: Mapping[str, Any], sources: Sources, namespace: str
) -> str | None:
    name = str(ref.get("name", ""))
    key = str(ref.get("key", ""))
    optional = bool(ref.get("optional"))
    data = await (sources.config_map(name) if kind == "ConfigMap" else sources.secret(name))
    if data is None:
        if optional:
            return None
        raise ConfigError(f'{kind.lower()} "{name}" not found')
    if key not in data:
        if optional:
            return None
        raise ConfigError(f"couldn't find key {key} in {kind} {namespace}/{name}")
    return data[key]


async def container_env(
    container: Mapping[str, Any], pod: PodFacts, sources: Sources
) -> dict[str, str]:
    """The variables the kubelet would give this container (without service links)."""
    env: dict[str, str] = {}
    for source in container.get("envFrom") or ():
        prefix = str(source.get("prefix") or "")
        for kind, key in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
            ref = source.get(key)
            if ref is None:
                continue
            name = str(ref.get("name", ""))
            data = await (sources.config_map(name) if kind == "ConfigMap" else sources.secret(name))
            if data is None:
                if ref.get("optional"):
                    continue
                raise ConfigError(f'{kind.lower()} "{name}" not found')
            for k, v in data.items():
                if ENV_NAME.match(prefix + k):
                    env[prefix + k] = v
    for var in container.get("env") or ():
        name = str(var.get("name", ""))
        value_from = var.get("valueFrom")
        value: str | None = str(var.get("value") or "")
        if value:
            value = expand(value, env)
        elif value_from:
            value = await _value_from(value_from, pod, sources)
            if value is None:
                continue
        env[name] = value or ""
    return env


async def _value_from(value_from: Mapping[str, Any], pod: PodFacts, sources: Sources) -> str | None:
    if "fieldRef" in value_from:
        return field_value(str(value_from["fieldRef"].get("fieldPath", "")), pod)
    if "configMapKeyRef" in value_from:
        return await _key_ref("ConfigMap", value_from["configMapKeyRef"], sources, pod.namespace)
    if "secretKeyRef" in value_from:
        return await _key_ref("Secret", value_from["secretKeyRef"], sources, pod.namespace)
    return ""


def command_line(container: Mapping[str, Any], env: Mapping[str, str]) -> list[str]:
    """``command`` + ``args`` with ``$(VAR)`` expanded (the image's entrypoint does not
    exist here, so ``command`` is required)."""
    parts: Sequence[Any] = [*(container.get("command") or ()), *(container.get("args") or ())]
    return [expand(str(p), env) for p in parts]


def base_env(pod: PodFacts) -> dict[str, str]:
    """What a container runtime adds before the pod's variables: PATH and HOSTNAME."""
    return {"PATH": DEFAULT_PATH, "HOSTNAME": pod.name}
